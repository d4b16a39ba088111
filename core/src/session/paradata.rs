//! The session's side of the audit log ([`super::audit`]): what a front end
//! reports (a screen shown, a jump, leaving the form), what the session
//! notices itself (answers changed, repeats, languages, errors), the change
//! reason and the user.

use super::audit::{self, AuditConfig, AuditEvent, kind};
use super::{Blocker, NodeId, Session, SessionError, TplKind};

impl Session {
    /// The form's audit configuration, when it has an `audit` question.
    pub fn audit_config(&self) -> Option<&AuditConfig> {
        self.audit.as_ref().map(|a| &a.config)
    }

    /// (wall ms since the epoch, monotonic ms) now.
    pub(crate) fn clock(&self) -> (i64, i64) {
        (self.env.now().timestamp_millis(), self.env.monotonic_ms())
    }

    /// Moves an injected test clock on by `ms` (a step script's `wait`);
    /// false (and nothing moves) on a real clock.
    pub fn advance_clock(&mut self, ms: i64) -> bool {
        self.env.advance(ms)
    }

    pub(crate) fn audit_point(&mut self, event: &str, node: &str) {
        let (wall, mono) = self.clock();
        if let Some(log) = &mut self.audit {
            log.point(event, node, wall, mono);
        }
    }

    /// `form start` for a new response, `form resume` for a draft opened
    /// again (with what it had logged before: a change reason given then
    /// still counts).
    pub fn audit_begin(&mut self, earlier: Option<&[AuditEvent]>) {
        let Some(log) = &mut self.audit else { return };
        log.begun = true;
        let location = log.config.location.is_some();
        if let Some(earlier) = earlier {
            log.restore(earlier);
            self.audit_point(kind::FORM_RESUME, "");
        } else {
            self.audit_point(kind::FORM_START, "");
        }
        if location {
            self.audit_point(kind::LOCATION_TRACKING_ENABLED, "");
        }
    }

    /// A screen is shown: one question, or a group shown as one screen
    /// (field-list). The screen shown before is left (its event ends now).
    pub fn show(&mut self, reference: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        if self.audit.is_none() {
            return Ok(());
        }
        let canonical = self.reference(node);
        let (event, shown) = match self.form.template(self.tree.node(node).tpl).kind {
            TplKind::Leaf(_) => {
                (kind::QUESTION, vec![(canonical.clone(), self.value_of(node).to_string())])
            }
            _ => {
                let prefix = format!("{canonical}/");
                let shown = self
                    .leaves()
                    .into_iter()
                    .filter(|l| l.reference.starts_with(&prefix) && l.qtype != "meta")
                    .map(|l| (l.reference, l.value))
                    .collect();
                (kind::GROUP, shown)
            }
        };
        self.close_screen();
        let (wall, mono) = self.clock();
        if let Some(log) = &mut self.audit {
            log.open(event, canonical, shown, wall, mono);
        }
        Ok(())
    }

    /// A jump (from the hierarchy view) to `reference`, which is shown.
    pub fn jump(&mut self, reference: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        self.close_screen();
        let canonical = self.reference(node);
        self.audit_point(kind::JUMP, &canonical);
        self.show(&canonical)
    }

    /// The enumerator leaves the form (the app goes back or is closed): the
    /// screen shown ends and `form exit` is logged.
    pub fn exit(&mut self) {
        self.close_screen();
        self.audit_point(kind::FORM_EXIT, "");
    }

    /// The draft was saved on the enumerator's request.
    pub fn audit_save(&mut self) {
        self.audit_point(kind::FORM_SAVE, "");
    }

    /// Finalize was asked for and refused: one `constraint error` or
    /// `required error` per blocker.
    pub fn audit_blocked(&mut self, blockers: &[Blocker]) {
        self.close_screen();
        for b in blockers {
            let (event, reference) = match b {
                Blocker::Required { reference, .. } => (kind::REQUIRED_ERROR, reference),
                Blocker::Constraint { reference, .. } => (kind::CONSTRAINT_ERROR, reference),
            };
            self.audit_point(event, reference);
        }
    }

    /// Finalizing: the end screen, the save and the finalize.
    pub fn audit_finalize(&mut self) {
        self.close_screen();
        let (wall, mono) = self.clock();
        if let Some(log) = &mut self.audit {
            log.open(kind::END_SCREEN, String::new(), Vec::new(), wall, mono);
        }
        self.close_screen();
        self.audit_point(kind::FORM_SAVE, "");
        self.audit_point(kind::FORM_FINALIZE, "");
    }

    /// Whether this response needs a change reason before it is finalized:
    /// the form asks for reasons on edits (`track-changes-reasons=
    /// on-form-edit`), this is an edit of a finalized or returned response
    /// (it names the version it replaces), and no reason was given yet.
    pub fn change_reason_needed(&self) -> bool {
        self.audit.as_ref().is_some_and(|a| {
            a.config.reasons_on_edit && self.deprecated_id.is_some() && !a.reason_given()
        })
    }

    /// Gives the reason for this edit (logged as `change reason`). An empty
    /// reason is refused.
    pub fn set_change_reason(&mut self, reason: &str) -> Result<(), SessionError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(SessionError::BadValue {
                reference: "change reason".into(),
                value: String::new(),
                expected: "reason (say why the response is changed)".into(),
            });
        }
        let (wall, mono) = self.clock();
        if let Some(log) = &mut self.audit {
            log.point_with(kind::CHANGE_REASON, wall, mono, None, Some(reason.to_string()));
            log.note_reason();
        }
        Ok(())
    }

    /// Whether the form asks who fills it (`identify-user`) and no one was
    /// named yet in this sitting.
    pub fn audit_user_needed(&self) -> bool {
        self.audit.as_ref().is_some_and(|a| a.user_needed())
    }

    /// Names the person filling the form, for the audit's `user` column.
    pub fn set_audit_user(&mut self, user: &str) -> Result<(), SessionError> {
        let user = user.trim();
        if user.is_empty() {
            return Err(SessionError::BadValue {
                reference: "user".into(),
                value: String::new(),
                expected: "user name".into(),
            });
        }
        if let Some(log) = &mut self.audit {
            log.set_user(user);
        }
        Ok(())
    }

    /// Events logged and not yet taken by the store.
    pub fn audit_events(&self) -> &[AuditEvent] {
        self.audit.as_ref().map_or(&[], |a| a.pending())
    }

    /// Hands the events logged since the last call to the store.
    pub fn take_audit_events(&mut self) -> Vec<AuditEvent> {
        self.audit.as_mut().map(|a| a.take()).unwrap_or_default()
    }

    /// The reference of the audit question (`/data/meta/audit`).
    pub fn audit_reference(&self) -> Option<String> {
        self.audit.as_ref()?;
        self.tree
            .walk()
            .into_iter()
            .find(|&n| audit::is_audit(self.form.template(self.tree.node(n).tpl).qtype()))
            .map(|n| self.reference(n))
    }

    /// Names the audit file in the submission (`<audit>audit.csv</audit>`).
    pub fn set_audit_file(&mut self, name: &str) {
        if let Some(r) = self.audit_reference()
            && let Ok(n) = self.resolve(&r)
        {
            self.tree.node_mut(n).value = name.to_string();
        }
    }

    /// A question is answered: with no screen showing it (a script or a
    /// front end that reports no screens), it counts as shown from now.
    pub(crate) fn audit_autoshow(&mut self, node: NodeId) {
        let Some(log) = self.audit.as_ref().filter(|l| l.begun) else { return };
        let reference = self.reference(node);
        if log.showing(&reference) {
            return;
        }
        let _ = self.show(&reference);
    }

    fn close_screen(&mut self) {
        let Some(mut log) = self.audit.take() else { return };
        if log.is_open() {
            let mono = self.env.monotonic_ms();
            log.close(mono, |r| {
                self.resolve(r).map(|n| self.value_of(n).to_string()).unwrap_or_default()
            });
        }
        self.audit = Some(log);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{bind, q, session_with, with};
    use super::*;

    /// 2024-01-15T10:30:00Z, FixedEnv's start, in ms.
    const T0: i64 = 1_705_314_600_000;

    fn audited(parameters: serde_json::Value) -> Session {
        session_with(
            json!([
                q("name", "text"),
                bind(q("age", "integer"), json!({"constraint": ". < 120"})),
                with(
                    json!({"name": "g", "kind": {"kind": "group"}, "row": 4}),
                    "children",
                    json!([q("a", "text"), q("b", "text")])
                ),
                with(q("audit", "audit"), "parameters", parameters),
            ]),
            json!({}),
            json!({}),
        )
    }

    /// event, node, start and end after T0, old and new value.
    type Row = (String, String, i64, Option<i64>, Option<String>, Option<String>);

    fn rows(s: &Session) -> Vec<Row> {
        s.audit_events()
            .iter()
            .map(|e| {
                (
                    e.event.clone(),
                    e.node.clone(),
                    e.start - T0,
                    e.end.map(|v| v - T0),
                    e.old_value.clone(),
                    e.new_value.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn screens_answers_and_durations_follow_the_injected_clock() {
        let mut s = audited(json!({"track-changes": "true"}));
        s.audit_begin(None);
        s.show("/data/name").unwrap();
        assert!(s.advance_clock(3000));
        s.set("/data/name", "Ana").unwrap();
        s.advance_clock(2000);
        // Answering a question no screen shows counts as showing it.
        s.set("/data/age", "30").unwrap();
        s.advance_clock(1000);
        s.set("/data/age", "31").unwrap();
        s.advance_clock(1000);
        s.show("/data/g").unwrap();
        s.set("/data/g/b", "x").unwrap();
        s.advance_clock(4000);
        s.add_repeat("/data/g").unwrap_err();
        s.exit();
        let some = |v: &str| Some(v.to_string());
        assert_eq!(
            rows(&s),
            vec![
                ("form start".into(), "".into(), 0, None, None, None),
                ("question".into(), "/data/name".into(), 0, Some(5000), some(""), some("Ana")),
                ("question".into(), "/data/age".into(), 5000, Some(7000), some(""), some("31")),
                ("group questions".into(), "/data/g".into(), 7000, Some(11000), None, None),
                ("question".into(), "/data/g/b".into(), 7000, Some(11000), some(""), some("x")),
                ("form exit".into(), "".into(), 11000, None, None, None),
            ]
        );
        let sum = audit::summarize(s.audit_events());
        assert_eq!(
            (sum.duration_ms, sum.active_ms, sum.pauses, sum.answers_changed),
            (11000, 11000, 0, 0)
        );
    }

    #[test]
    fn without_track_changes_no_values_are_logged_and_without_audit_nothing() {
        let mut s = audited(json!({}));
        // Before the sitting begins (the engine's prefill), nothing is logged.
        s.set("/data/age", "7").unwrap();
        s.set_language("en").unwrap_err();
        assert!(s.audit_events().is_empty());
        s.audit_begin(None);
        s.set("/data/name", "Ana").unwrap();
        s.exit();
        assert!(s.audit_events().iter().all(|e| e.old_value.is_none() && e.new_value.is_none()));
        assert_eq!(s.audit_events().len(), 3);
        let mut plain = session_with(json!([q("name", "text")]), json!({}), json!({}));
        plain.audit_begin(None);
        plain.set("/data/name", "Ana").unwrap();
        plain.exit();
        assert!(plain.audit_events().is_empty() && plain.audit_config().is_none());
    }

    #[test]
    fn location_user_and_reason_go_on_the_events() {
        let mut s = audited(json!({
            "location-priority": "balanced", "location-min-interval": "10",
            "location-max-age": "20", "identify-user": "true",
            "track-changes-reasons": "on-form-edit",
        }));
        assert!(s.audit_user_needed());
        s.set_audit_user("enum-7").unwrap();
        assert!(!s.audit_user_needed());
        s.audit_begin(None);
        s.record_location("1.5 2.5 100 4").unwrap();
        s.advance_clock(5000);
        // Within the minimum interval: ignored.
        s.record_location("9 9 0 1").unwrap();
        s.audit_point(kind::FORM_SAVE, "");
        s.advance_clock(30_000);
        // Older than the maximum age: no location.
        s.audit_point(kind::FORM_SAVE, "");
        let ev = s.audit_events().to_vec();
        assert_eq!(ev[1].event, "location tracking enabled");
        assert_eq!(ev[0].latitude, None, "no fix yet at start");
        assert_eq!(
            (ev[2].latitude.as_deref(), ev[2].longitude.as_deref(), ev[2].accuracy.as_deref()),
            (Some("1.5"), Some("2.5"), Some("4.0"))
        );
        assert_eq!(ev[3].latitude, None);
        assert!(ev.iter().all(|e| e.user.as_deref() == Some("enum-7")));
        // Not an edit: no reason needed.
        assert!(!s.change_reason_needed());
        assert!(s.set_change_reason("  ").is_err());
        let csv = String::from_utf8(audit::to_csv(s.audit_config().unwrap(), &ev)).unwrap();
        assert!(
            csv.starts_with(
                "event,node,start,end,latitude,longitude,accuracy,user,change-reason\n"
            )
        );
        assert!(csv.contains(&format!("form save,,{},,1.5,2.5,4.0,enum-7,\n", T0 + 5000)), "{csv}");
    }

    #[test]
    fn an_edit_needs_its_reason_once() {
        let form = audited(json!({"track-changes-reasons": "on-form-edit"})).form().clone();
        let options = crate::session::SessionOptions {
            deprecated_id: Some("uuid:old".into()),
            ..Default::default()
        };
        let mut s = Session::with_env(form, options, Box::new(crate::expr::FixedEnv::default()));
        s.audit_begin(None);
        assert!(s.change_reason_needed());
        s.set_change_reason("age was misheard, 31 not 13").unwrap();
        assert!(!s.change_reason_needed());
        let last = s.audit_events().last().unwrap();
        assert_eq!(
            (last.event.as_str(), last.change_reason.as_deref()),
            ("change reason", Some("age was misheard, 31 not 13"))
        );
        let csv =
            String::from_utf8(audit::to_csv(s.audit_config().unwrap(), s.audit_events())).unwrap();
        assert!(csv.ends_with("\"age was misheard, 31 not 13\"\n"), "{csv}");
    }
}
