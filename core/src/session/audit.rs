//! The audit log (paradata) of ODK's `audit` meta question: what the
//! enumerator did, when, and for how long — questions shown and left,
//! answers changed (old → new), errors, language changes, jumps, repeats,
//! saves, resumes, finalize, change reasons — with the device's location
//! when the form asks for it.
//!
//! The form turns it on with a question of type `audit` and configures it
//! with its parameters (XLSForm `parameters` column; in the XForm, the
//! bind's `odk:` attributes): `location-priority`, `location-min-interval`,
//! `location-max-age`, `track-changes`, `track-changes-reasons`
//! (`on-form-edit`) and `identify-user`.
//!
//! Times: `start` is the device's wall clock in milliseconds since the
//! epoch when the event began; `end` is `start` plus the event's duration
//! measured on the monotonic clock ([`crate::expr::Env::monotonic_ms`]), so
//! a wall clock corrected mid-interview does not distort durations. The
//! session keeps the events until the device store takes them
//! ([`super::Session::take_audit_events`]), in the transaction that saves
//! the answers they describe. On finalize they are written as ODK's
//! `audit.csv` ([`to_csv`]) and travel as the response's attachment.

use serde::{Deserialize, Serialize};

use crate::instrument::QuestionType;

/// ODK's event names (Collect's `AuditEventType`); `required error` and
/// `language change` are Enumera's (Collect folds a required failure into
/// `constraint error` and does not log language changes).
pub mod kind {
    pub const FORM_START: &str = "form start";
    pub const FORM_RESUME: &str = "form resume";
    pub const FORM_EXIT: &str = "form exit";
    pub const FORM_SAVE: &str = "form save";
    pub const FORM_FINALIZE: &str = "form finalize";
    pub const QUESTION: &str = "question";
    pub const GROUP: &str = "group questions";
    pub const JUMP: &str = "jump";
    pub const ADD_REPEAT: &str = "add repeat";
    pub const DELETE_REPEAT: &str = "delete repeat";
    pub const END_SCREEN: &str = "end screen";
    pub const CONSTRAINT_ERROR: &str = "constraint error";
    pub const REQUIRED_ERROR: &str = "required error";
    pub const LANGUAGE_CHANGE: &str = "language change";
    pub const CHANGE_REASON: &str = "change reason";
    pub const LOCATION_TRACKING_ENABLED: &str = "location tracking enabled";
}

/// ODK's audit.csv columns, in ODK's order.
pub const CSV_COLUMNS: [&str; 11] = [
    "event",
    "node",
    "start",
    "end",
    "latitude",
    "longitude",
    "accuracy",
    "old-value",
    "new-value",
    "user",
    "change-reason",
];

/// The name the audit file has in the submission (`<audit>audit.csv</audit>`).
pub const FILE_NAME: &str = "audit.csv";

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditEvent {
    pub event: String,
    /// The question or group (ODK reference), empty for form events.
    pub node: String,
    /// Wall clock, ms since the epoch.
    pub start: i64,
    /// For events with a duration (question, group questions, jump, end
    /// screen): `start` plus the monotonic duration.
    pub end: Option<i64>,
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub accuracy: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub user: Option<String>,
    pub change_reason: Option<String>,
}

/// Where the audit wants the device's location (all three parameters are
/// needed, as in ODK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRequest {
    /// `high-accuracy`, `balanced`, `low-power` or `no-power`.
    pub priority: String,
    /// Seconds between fixes the app should ask for; fixes closer than
    /// this to the last one kept are ignored.
    pub min_interval_s: i64,
    /// A fix older than this many seconds is not put on an event.
    pub max_age_s: i64,
}

/// What the form's `audit` question asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditConfig {
    pub track_changes: bool,
    /// `track-changes-reasons=on-form-edit`: an edit of a finalized or
    /// returned response needs a reason before it is finalized.
    pub reasons_on_edit: bool,
    pub identify_user: bool,
    pub location: Option<LocationRequest>,
}

impl AuditConfig {
    /// The configuration of a form's audit question, from its parameters
    /// (`track-changes=true`, `location-max-age=20`, ...).
    pub fn from_parameters(p: &std::collections::BTreeMap<String, String>) -> AuditConfig {
        let yes = |k: &str| p.get(k).is_some_and(|v| matches!(v.trim(), "true" | "yes" | "true()"));
        let secs = |k: &str| p.get(k).and_then(|v| v.trim().parse::<f64>().ok());
        let location = match (
            p.get("location-priority"),
            secs("location-min-interval"),
            secs("location-max-age"),
        ) {
            (Some(priority), Some(min), Some(max)) => Some(LocationRequest {
                priority: priority.trim().to_string(),
                min_interval_s: min.max(0.0) as i64,
                max_age_s: max.max(0.0) as i64,
            }),
            _ => None,
        };
        AuditConfig {
            track_changes: yes("track-changes"),
            reasons_on_edit: p
                .get("track-changes-reasons")
                .is_some_and(|v| v.trim() == "on-form-edit"),
            identify_user: yes("identify-user"),
            location,
        }
    }

    /// The columns ODK Collect writes for this configuration.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut cols = vec!["event", "node", "start", "end"];
        if self.location.is_some() {
            cols.extend(["latitude", "longitude", "accuracy"]);
        }
        if self.track_changes {
            cols.extend(["old-value", "new-value"]);
        }
        if self.identify_user {
            cols.push("user");
        }
        if self.reasons_on_edit {
            cols.push("change-reason");
        }
        cols
    }
}

/// A screen being shown: its event, since when, and (for track-changes)
/// the answers it had when shown.
#[derive(Debug, Clone)]
struct Open {
    event: &'static str,
    node: String,
    start: i64,
    mono: i64,
    /// (reference, value when shown) of each question on the screen.
    shown: Vec<(String, String)>,
    location: Option<(String, String, String)>,
}

/// A location fix kept for the log.
#[derive(Debug, Clone)]
struct Fix {
    lat: String,
    lon: String,
    accuracy: String,
    mono: i64,
}

/// The log of one session.
#[derive(Debug, Clone)]
pub(crate) struct AuditLog {
    pub(crate) config: AuditConfig,
    pending: Vec<AuditEvent>,
    open: Option<Open>,
    fix: Option<Fix>,
    user: Option<String>,
    /// Set by [`super::Session::set_audit_user`]: the person the app asked.
    user_given: bool,
    reason_given: bool,
    /// Set when the sitting begins ([`super::Session::audit_begin`]):
    /// values the engine fills before (prefill, preload) are not the
    /// enumerator's answers.
    pub(crate) begun: bool,
}

impl AuditLog {
    pub(crate) fn new(config: AuditConfig, user: Option<String>) -> AuditLog {
        AuditLog {
            config,
            pending: Vec::new(),
            open: None,
            fix: None,
            user,
            user_given: false,
            reason_given: false,
            begun: false,
        }
    }

    fn location_at(&self, mono: i64) -> Option<(String, String, String)> {
        let req = self.config.location.as_ref()?;
        let fix = self.fix.as_ref()?;
        (mono - fix.mono <= req.max_age_s.saturating_mul(1000))
            .then(|| (fix.lat.clone(), fix.lon.clone(), fix.accuracy.clone()))
    }

    fn user(&self) -> Option<String> {
        if self.config.identify_user { self.user.clone() } else { None }
    }

    /// A point event (no duration).
    pub(crate) fn point(&mut self, event: &str, node: &str, wall: i64, mono: i64) {
        if !self.begun {
            return;
        }
        let location = self.location_at(mono);
        let (latitude, longitude, accuracy) = split(location);
        self.pending.push(AuditEvent {
            event: event.to_string(),
            node: node.to_string(),
            start: wall,
            end: None,
            latitude,
            longitude,
            accuracy,
            user: self.user(),
            ..AuditEvent::default()
        });
    }

    /// A point event with a value (a language change, a change reason).
    pub(crate) fn point_with(
        &mut self,
        event: &str,
        wall: i64,
        mono: i64,
        new_value: Option<String>,
        reason: Option<String>,
    ) {
        if !self.begun {
            return;
        }
        self.point(event, "", wall, mono);
        if let Some(e) = self.pending.last_mut() {
            e.new_value = new_value;
            e.change_reason = reason;
        }
    }

    /// Opens a screen (closing the one shown before).
    pub(crate) fn open(
        &mut self,
        event: &'static str,
        node: String,
        shown: Vec<(String, String)>,
        wall: i64,
        mono: i64,
    ) {
        if !self.begun {
            return;
        }
        let location = self.location_at(mono);
        self.open = Some(Open { event, node, start: wall, mono, shown, location });
    }

    /// Whether the screen shown now has this question on it.
    pub(crate) fn showing(&self, reference: &str) -> bool {
        self.open.as_ref().is_some_and(|o| o.shown.iter().any(|(r, _)| r == reference))
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Closes the screen shown: its event, and with track-changes one
    /// `question` row per question whose answer changed while it was shown
    /// (for a single question, the question's own row carries the change).
    /// `current` gives a question's answer now.
    pub(crate) fn close(&mut self, mono: i64, current: impl Fn(&str) -> String) {
        let Some(open) = self.open.take() else { return };
        let end = open.start + (mono - open.mono).max(0);
        let (latitude, longitude, accuracy) = split(open.location.clone());
        let user = self.user();
        let row = |event: &str, node: &str| AuditEvent {
            event: event.to_string(),
            node: node.to_string(),
            start: open.start,
            end: Some(end),
            latitude: latitude.clone(),
            longitude: longitude.clone(),
            accuracy: accuracy.clone(),
            user: user.clone(),
            ..AuditEvent::default()
        };
        let changed = |reference: &str, before: &str| {
            let now = current(reference);
            (self.config.track_changes && now != before).then_some((before.to_string(), now))
        };
        if open.event == kind::QUESTION {
            let mut e = row(kind::QUESTION, &open.node);
            if let Some((old, new)) = open.shown.first().and_then(|(r, before)| changed(r, before))
            {
                e.old_value = Some(old);
                e.new_value = Some(new);
            }
            self.pending.push(e);
            return;
        }
        let mut rows = vec![row(open.event, &open.node)];
        for (reference, before) in &open.shown {
            if let Some((old, new)) = changed(reference, before) {
                let mut e = row(kind::QUESTION, reference);
                e.old_value = Some(old);
                e.new_value = Some(new);
                rows.push(e);
            }
        }
        self.pending.extend(rows);
    }

    /// A location fix: kept unless it comes sooner than the minimum
    /// interval after the last one kept.
    pub(crate) fn location(&mut self, point: &str, mono: i64) {
        let Some(req) = &self.config.location else { return };
        if self.fix.as_ref().is_some_and(|f| mono - f.mono < req.min_interval_s * 1000) {
            return;
        }
        let mut parts = point.split_whitespace();
        let lat = parts.next().unwrap_or_default().to_string();
        let lon = parts.next().unwrap_or_default().to_string();
        let accuracy = parts.nth(1).unwrap_or_default().to_string();
        self.fix = Some(Fix { lat, lon, accuracy, mono });
    }

    pub(crate) fn set_user(&mut self, user: &str) {
        self.user = Some(user.to_string());
        self.user_given = true;
    }

    pub(crate) fn user_needed(&self) -> bool {
        self.config.identify_user && !self.user_given
    }

    pub(crate) fn reason_given(&self) -> bool {
        self.reason_given
    }

    pub(crate) fn note_reason(&mut self) {
        self.reason_given = true;
    }

    /// What a resumed draft had already logged: a change reason given in
    /// an earlier sitting still counts, and the user stays who it was.
    pub(crate) fn restore(&mut self, earlier: &[AuditEvent]) {
        if earlier.iter().any(|e| e.event == kind::CHANGE_REASON) {
            self.reason_given = true;
        }
        if let Some(u) = earlier.iter().rev().find_map(|e| e.user.clone()) {
            self.user = Some(u);
            self.user_given = true;
        }
    }

    pub(crate) fn take(&mut self) -> Vec<AuditEvent> {
        std::mem::take(&mut self.pending)
    }

    pub(crate) fn pending(&self) -> &[AuditEvent] {
        &self.pending
    }
}

fn split(
    location: Option<(String, String, String)>,
) -> (Option<String>, Option<String>, Option<String>) {
    match location {
        Some((a, b, c)) => (Some(a), Some(b), Some(c).filter(|c| !c.is_empty())),
        None => (None, None, None),
    }
}

/// Whether a question type is the audit's.
pub(crate) fn is_audit(q: Option<QuestionType>) -> bool {
    q == Some(QuestionType::Audit)
}

/// The events as ODK's audit.csv: a header of the columns `config` turns on,
/// then one row per event.
pub fn to_csv(config: &AuditConfig, events: &[AuditEvent]) -> Vec<u8> {
    let columns = config.columns();
    let mut out = String::new();
    let line = |out: &mut String, fields: &mut dyn Iterator<Item = String>| {
        let quoted: Vec<String> = fields.map(|f| quote(&f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    };
    line(&mut out, &mut columns.iter().map(|c| c.to_string()));
    for e in events {
        line(&mut out, &mut columns.iter().map(|c| field(e, c)));
    }
    out.into_bytes()
}

/// RFC 4180 quoting: a field with a comma, quote or line break is quoted,
/// its quotes doubled. (A hand-written writer: the mobile library carries
/// no CSV crate for one file; central reads it with the `csv` crate.)
fn quote(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

/// One column of an event as ODK writes it.
pub fn field(e: &AuditEvent, column: &str) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    match column {
        "event" => e.event.clone(),
        "node" => e.node.clone(),
        "start" => e.start.to_string(),
        "end" => e.end.map(|v| v.to_string()).unwrap_or_default(),
        "latitude" => o(&e.latitude),
        "longitude" => o(&e.longitude),
        "accuracy" => o(&e.accuracy),
        "old-value" => o(&e.old_value),
        "new-value" => o(&e.new_value),
        "user" => o(&e.user),
        "change-reason" => o(&e.change_reason),
        _ => String::new(),
    }
}

/// A response's paradata in a few numbers (the export's summary columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditSummary {
    /// From the first event's start to the last event's end, in ms.
    pub duration_ms: i64,
    /// Time on screens (questions, groups, jumps, the end screen), in ms.
    pub active_ms: i64,
    /// Times the form was left and resumed.
    pub pauses: i64,
    /// Answers changed from an earlier non-empty value (track-changes).
    pub answers_changed: i64,
}

/// Sums up a log.
pub fn summarize(events: &[AuditEvent]) -> AuditSummary {
    let first = events.iter().map(|e| e.start).min().unwrap_or_default();
    let last = events.iter().map(|e| e.end.unwrap_or(e.start)).max().unwrap_or_default();
    let screens = [kind::QUESTION, kind::GROUP, kind::JUMP, kind::END_SCREEN];
    // A group's question rows repeat the group's interval: count it once.
    let active = events
        .iter()
        .filter(|e| screens.contains(&e.event.as_str()))
        .map(|e| (e.start, e.end.unwrap_or(e.start)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|(s, e)| (e - s).max(0))
        .sum();
    AuditSummary {
        duration_ms: (last - first).max(0),
        active_ms: active,
        pauses: events.iter().filter(|e| e.event == kind::FORM_RESUME).count() as i64,
        answers_changed: events
            .iter()
            .filter(|e| e.old_value.as_deref().is_some_and(|o| !o.is_empty()))
            .count() as i64,
    }
}
