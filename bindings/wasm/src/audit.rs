//! The audit log in the web app (issue 17, item 4): what the interview
//! screen reports for it (screens shown, leaving, locations) and the
//! prompts it must show (who fills the form, why a finalized response is
//! changed). Core logs and stores the events; at finalize they become the
//! response's `audit.csv`. Same surface as enumera-ffi's
//! (`bindings/src/interview.rs`, "The audit log").

use wasm_bindgen::prelude::*;

use crate::errors::Result;
use crate::interview::{Interview, lock};

/// What the app must do for the form's audit, read once per interview.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface AuditNeeds {
  audited: boolean; locations: boolean; userNeeded: boolean; changeReasonNeeded: boolean;
  locationMinIntervalSeconds: number | null;
}
"#;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditNeeds {
    audited: bool,
    locations: bool,
    user_needed: bool,
    change_reason_needed: bool,
    location_min_interval_seconds: Option<f64>,
}

#[wasm_bindgen]
impl Interview {
    /// Whether the form keeps an audit log, asks for locations, wants the
    /// user named, or needs a change reason before finalize.
    #[wasm_bindgen(js_name = auditNeeds, unchecked_return_type = "AuditNeeds")]
    pub fn audit_needs(&self) -> Result<JsValue> {
        let session = self.read()?.session();
        let config = session.audit_config();
        crate::types::to_js(&AuditNeeds {
            audited: config.is_some(),
            locations: config.is_some_and(|c| c.location.is_some()),
            user_needed: session.audit_user_needed(),
            change_reason_needed: session.change_reason_needed(),
            location_min_interval_seconds: config
                .and_then(|c| c.location.as_ref())
                .map(|l| l.min_interval_s as f64),
        })
    }

    /// The app shows a screen: a question, or a field-list group.
    pub fn show(&mut self, reference: String) -> Result<()> {
        let store = self.store.clone();
        Ok(self.live()?.show(&mut *lock(&store)?, &reference)?)
    }

    /// The enumerator leaves the form: logged as `form exit`, all saved.
    pub fn exit(&mut self) -> Result<()> {
        let store = self.store.clone();
        Ok(self.live()?.exit(&mut *lock(&store)?)?)
    }

    /// The enumerator's reason for editing a finalized or returned
    /// response, logged and saved.
    #[wasm_bindgen(js_name = setChangeReason)]
    pub fn set_change_reason(&mut self, reason: String) -> Result<()> {
        let store = self.store.clone();
        Ok(self.live()?.set_change_reason(&mut *lock(&store)?, &reason)?)
    }

    /// The person filling the form, for the audit's `user` column.
    #[wasm_bindgen(js_name = setUser)]
    pub fn set_user(&mut self, user: String) -> Result<()> {
        let store = self.store.clone();
        let fill = self.live()?;
        let (session, saver) = fill.parts();
        session.set_audit_user(&user)?;
        Ok(saver.save(&mut *lock(&store)?, session)?)
    }

    /// A location fix (`lat lon alt accuracy`), for the audit's locations.
    #[wasm_bindgen(js_name = recordLocation)]
    pub fn record_location(&mut self, location: String) -> Result<()> {
        let store = self.store.clone();
        let fill = self.live()?;
        let (session, saver) = fill.parts();
        session.record_location(&location)?;
        Ok(saver.save(&mut *lock(&store)?, session)?)
    }
}
