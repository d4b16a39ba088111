//! Form media in the web app (issue 18, item 2): the files a form's labels
//! name (`image`, `bigImage`, `audio`, `video` of a `Question`), fetched
//! with the form at sync by core's `fetch_instruments` and kept in the
//! browser's device store. Same surface as enumera-ffi's `formMediaList` /
//! `formMedia` (`bindings/src/form_media.rs`), except that a file the
//! device lacks is an error: the app only asks for names a question gave.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::store::DeviceStore;
use crate::types::to_js;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface FormMediaInfo { name: string; sha256: string; size: number; present: boolean }
export interface FormMediaMissing { formId: string; version: string; name: string; sha256: string; reason: string }
"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormMediaInfo {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub present: bool,
}

/// A form media file a form needs that did not arrive at sync, and why
/// (fetched again at the next sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormMediaMissing {
    pub form_id: String,
    pub version: String,
    pub name: String,
    pub sha256: String,
    pub reason: String,
}

impl From<enumera_core::remote::MediaMissing> for FormMediaMissing {
    fn from(m: enumera_core::remote::MediaMissing) -> Self {
        FormMediaMissing {
            form_id: m.form_id,
            version: m.version,
            name: m.name,
            sha256: m.sha256,
            reason: m.reason,
        }
    }
}

#[wasm_bindgen]
impl DeviceStore {
    /// The files a form version needs, each with whether it is here.
    #[wasm_bindgen(js_name = formMediaList, unchecked_return_type = "FormMediaInfo[]")]
    pub fn form_media_list(&self, form_hash: String) -> Result<JsValue> {
        let list: Vec<FormMediaInfo> = self
            .lock()?
            .instrument_media(&form_hash)?
            .into_iter()
            .map(|m| FormMediaInfo {
                name: m.name,
                sha256: m.sha256,
                size: m.size,
                present: m.present,
            })
            .collect();
        to_js(&list)
    }

    /// A form media file's bytes, by the form's hash and the name a
    /// question gave. `NotFound` (naming form and file) when the form
    /// names no such file or it has not arrived yet.
    #[wasm_bindgen(js_name = formMedia)]
    pub fn form_media(&self, form_hash: String, name: String) -> Result<Vec<u8>> {
        self.lock()?.read_form_media(&form_hash, &name)?.ok_or_else(|| EnumeraError::NotFound {
            what: format!("media file of form {form_hash}"),
            id: name,
        })
    }
}
