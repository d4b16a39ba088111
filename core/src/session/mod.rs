//! Filling one response of one instrument, with ODK's behaviour: relevance,
//! required, constraints, calculations, repeats, defaults and languages.
//!
//! ```ignore
//! let form = Arc::new(Form::compile(instrument)?);
//! let mut s = Session::new(form, SessionOptions::default());
//! s.set("/data/age", "34")?;
//! s.add_repeat("/data/members")?;
//! let xml = s.submission_xml();
//! ```
//!
//! A session is plain data and synchronous: the device store persists each
//! answer as it is given (see `store`), the CLI and the bindings drive it.

pub mod audit;
pub mod doc;
pub mod error;
pub mod form;
pub mod graph;
pub mod navigation;
mod paradata;
pub mod prompt;
pub mod recompute;
mod recording;
pub mod refs;
pub mod secondary;
pub mod state;
pub mod submission;
pub mod tree;
pub mod values;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::expr::{Env, SystemEnv};
use crate::instrument::QuestionType;

pub use audit::{AuditConfig, AuditEvent, AuditSummary, LocationRequest};
pub use error::{CompileError, SessionError};
pub use form::{Form, TplId, TplKind};
pub use prompt::{Progress, Prompt, RepeatInstance, RepeatPrompt};
pub use state::{Blocker, ContainerState, LeafState};
pub use tree::NodeId;

/// How a session starts: who fills it, on which device, and the clock.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// `meta/instanceID`; a fresh `uuid:` v4 when absent.
    pub instance_id: Option<String>,
    /// `meta/deprecatedID` when this response edits an earlier one.
    pub deprecated_id: Option<String>,
    pub device_id: Option<String>,
    pub username: Option<String>,
    /// Start in this language (else the form's default).
    pub language: Option<String>,
    /// The device's location when the form is opened (`lat lon [alt
    /// [accuracy]]`), for `start-geopoint`; see [`Session::record_location`]
    /// for a fix that comes later.
    pub location: Option<String>,
}

/// One response being filled.
pub struct Session {
    form: Arc<Form>,
    tree: tree::Tree,
    /// `Send` so an app can keep a session behind a lock and call it from
    /// any thread (the bindings do).
    env: Box<dyn Env + Send>,
    language: Option<String>,
    instance_id: String,
    deprecated_id: Option<String>,
    options: SessionOptions,
    work: recompute::Worklist,
    /// The node a client is setting in the current step: its own
    /// calculation does not overwrite what was just given.
    user_set: Option<NodeId>,
    /// The latest location the front end gave (for `start-geopoint` and
    /// `background-geopoint`), as ODK writes a geopoint.
    location: Option<String>,
    /// Set when a repeat count met [`recompute::MAX_REPEAT_INSTANCES`]
    /// during the current step (the repeat's reference).
    overflow: Option<String>,
    /// The audit log, when the form has an `audit` question.
    audit: Option<audit::AuditLog>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("form", &self.form.instrument.form_id)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A new response on the real clock.
    pub fn new(form: Arc<Form>, options: SessionOptions) -> Session {
        Session::with_env(form, options, Box::new(SystemEnv::default()))
    }

    /// A new response with an injected clock/random/uuid source (tests,
    /// `form run --now --seed`).
    pub fn with_env(form: Arc<Form>, options: SessionOptions, env: Box<dyn Env + Send>) -> Session {
        let tree = tree::Tree::new(&form);
        let instance_id =
            options.instance_id.clone().unwrap_or_else(|| format!("uuid:{}", env.uuid()));
        let language = options
            .language
            .clone()
            .or_else(|| form.instrument.default_language.clone())
            .or_else(|| form.instrument.languages.first().cloned());
        let mut s = Session {
            form,
            tree,
            env,
            language,
            deprecated_id: options.deprecated_id.clone(),
            instance_id,
            options,
            work: recompute::Worklist::default(),
            overflow: None,
            user_set: None,
            location: None,
            audit: None,
        };
        s.audit = s.form.templates.iter().find(|t| audit::is_audit(t.qtype())).map(|t| {
            let config = t
                .node
                .as_ref()
                .map(|n| AuditConfig::from_parameters(&n.parameters))
                .unwrap_or_default();
            audit::AuditLog::new(config, s.options.username.clone())
        });
        if let Some(l) = &s.options.location {
            s.location =
                values::normalise(QuestionType::Geopoint, l).ok().filter(|v| !v.is_empty());
        }
        s.fill_metadata_at_start();
        let all = s.tree.walk();
        s.apply_dynamic_defaults(&all);
        s.recompute_all();
        // At start the cap simply holds: there is no step to refuse.
        s.overflow = None;
        s
    }

    /// Rebuilds a saved draft: the repeat instances it had (outer repeats
    /// first), then every stored answer as it was, without re-checking types
    /// (they were checked when given), then one full recomputation.
    pub fn restore(
        form: Arc<Form>,
        options: SessionOptions,
        env: Box<dyn Env + Send>,
        repeat_counts: &[(String, u32)],
        answers: &[(String, String)],
    ) -> Session {
        let mut s = Session::with_env(form, options, env);
        for (repeat, count) in repeat_counts {
            while let Ok((parent, tpl)) = s.resolve_repeat(repeat) {
                if s.tree.instances(parent, tpl).len() >= *count as usize {
                    break;
                }
                if s.add_repeat(repeat).is_err() {
                    break;
                }
            }
        }
        for (reference, value) in answers {
            if let Ok(node) = s.resolve(reference) {
                s.tree.node_mut(node).value = value.clone();
            }
        }
        s.recompute_all();
        s
    }

    /// ODK's reference for a node (`/data/members[2]/name`).
    pub fn reference(&self, node: NodeId) -> String {
        self.tree.reference(&self.form, node)
    }

    /// How many instances the repeat of `instance` has under its parent.
    pub fn repeat_count(&self, instance: NodeId) -> usize {
        let n = self.tree.node(instance);
        n.parent.map_or(0, |p| self.tree.instances(p, n.tpl).len())
    }

    pub fn form(&self) -> &Arc<Form> {
        &self.form
    }

    /// The question type of the node a reference names (None for groups,
    /// repeats and the engine's own `meta` fields): how a front end knows
    /// that an answer is a file ([`QuestionType::is_attachment`]).
    pub fn question_type(&self, reference: &str) -> Result<Option<QuestionType>, SessionError> {
        let node = self.resolve(reference)?;
        Ok(match self.form.template(self.tree.node(node).tpl).kind {
            TplKind::Leaf(q) => Some(q),
            _ => None,
        })
    }

    /// The `parameters` of the question a reference names (`max-pixels`,
    /// `quality`), empty for anything else.
    pub fn parameters(
        &self,
        reference: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, SessionError> {
        let node = self.resolve(reference)?;
        Ok(self
            .form
            .template(self.tree.node(node).tpl)
            .node
            .as_ref()
            .map(|n| n.parameters.clone())
            .unwrap_or_default())
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.env.now()
    }

    /// Answers a question: `value` is ODK's string form (`"apple mango"` for
    /// a select_multiple). Checked against the type and the choices; the
    /// session is unchanged on error.
    pub fn set(&mut self, reference: &str, value: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        self.set_node(node, value)
    }

    /// Clears an answer.
    pub fn clear(&mut self, reference: &str) -> Result<(), SessionError> {
        self.set(reference, "")
    }

    pub fn set_node(&mut self, node: NodeId, value: &str) -> Result<(), SessionError> {
        self.set_node_as(node, value, false)
    }

    /// Answers a question as ODK's engine does when a client sets a value:
    /// a value that does not fit is coerced (`12.7` into an integer is
    /// `12`, `abc` is empty, a pick that is not a choice is dropped), never
    /// refused. For headless runs that must behave exactly as ODK (`enumera
    /// form run --coerce`); a person at a screen is better served by
    /// [`Session::set`], which refuses and says why. Questions that cannot
    /// be answered are still refused.
    pub fn set_coerced(&mut self, reference: &str, value: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        self.set_node_as(node, value, true)
    }

    fn set_node_as(&mut self, node: NodeId, value: &str, coerce: bool) -> Result<(), SessionError> {
        let reference = self.tree.reference(&self.form, node);
        let tpl = self.form.template(self.tree.node(node).tpl);
        let q = match tpl.kind {
            TplKind::Leaf(q) => q,
            TplKind::Meta(_) => {
                return Err(SessionError::NotAnswerable { reference, what: "metadata" });
            }
            _ => {
                return Err(SessionError::NotAnswerable { reference, what: "a group or repeat" });
            }
        };
        if q == QuestionType::Note {
            return Err(SessionError::NotAnswerable { reference, what: "a note" });
        }
        // A calculated question with a control (a label or hint: pyxform
        // writes one) is an input the enumerator may overwrite, as in ODK;
        // the calculation runs again when what it reads changes.
        // Without one (pyxform writes none for a question with a
        // calculation or a trigger and no label or hint), it is a value of
        // the model only: ODK refuses a client's value for it too.
        if !has_control(tpl) && !q.is_metadata() {
            let what = if tpl.logic.calculate.is_some() { "calculated" } else { "not shown" };
            return Err(SessionError::NotAnswerable { reference, what });
        }
        if q.is_metadata() {
            return Err(SessionError::NotAnswerable { reference, what: "metadata" });
        }
        if self.tree.node(node).readonly {
            return Err(SessionError::ReadOnly { reference });
        }
        // Decided at entry: what XML cannot carry would make the submission
        // unreadable, so it is refused with the reason (issue 15, finding 4);
        // coerced, it is dropped.
        if let (false, Some((at, c))) = (coerce, submission::first_non_xml_char(value)) {
            return Err(SessionError::BadValue {
                reference,
                value: value.to_string(),
                expected: format!(
                    "answer: character {at} is {}, which cannot be stored; remove it",
                    submission::describe_char(c)
                ),
            });
        }
        // A range holds whole numbers unless a bound or the step is
        // fractional: the XForm's bind type, which ODK formats by.
        let as_type = match (q, tpl.node.as_ref()) {
            (QuestionType::Range, Some(n)) => match crate::instrument::xform::bind_type(n, q) {
                "decimal" => QuestionType::Decimal,
                _ => QuestionType::Integer,
            },
            _ => q,
        };
        let normalised = if q == QuestionType::Rank {
            self.check_ranking(node, value)?
        } else if coerce {
            if q.is_select() {
                self.coerce_choices(node, q, value)
            } else {
                let v = values::coerce(as_type, value);
                if q == QuestionType::Range && !v.is_empty() && !in_range(tpl, &v) {
                    String::new()
                } else {
                    v
                }
            }
        } else if q.is_select() {
            self.check_choices(node, q, value)?
        } else {
            values::normalise(as_type, value).map_err(|expected| SessionError::BadValue {
                reference: reference.clone(),
                value: value.to_string(),
                expected: expected.to_string(),
            })?
        };
        self.audit_autoshow(node);
        let before = self.tree.node(node).value.clone();
        self.overflow = None;
        self.user_set = Some(node);
        self.store_value(node, normalised);
        self.user_set = None;
        if let Some(repeat) = self.overflow.take() {
            // The answer asked for more repeat instances than a response
            // may hold: undo it (the counts shrink back) and say why.
            self.store_value(node, before);
            self.overflow = None;
            return Err(SessionError::TooManyRepeatInstances {
                reference: repeat,
                limit: recompute::MAX_REPEAT_INSTANCES,
            });
        }
        Ok(())
    }

    /// Stores a value and recomputes what depends on it.
    fn store_value(&mut self, node: NodeId, value: String) {
        if self.tree.node(node).value == value {
            return;
        }
        self.tree.node_mut(node).value = value;
        self.begin_round();
        self.enqueue(self.tree.node(node).tpl, node);
        self.enqueue_dependents(node);
        self.fire_triggers(node);
        self.run();
    }

    /// `trigger` columns: re-run the calculation of every question that
    /// names this one as its trigger.
    fn fire_triggers(&mut self, node: NodeId) {
        let form = self.form.clone();
        let source = self.tree.node(node).tpl;
        for &tpl in &form.triggered_by[source] {
            // A trigger without a calculation clears its question, as the
            // `setvalue` without a value pyxform writes does.
            let calc = form.template(tpl).logic.calculate.as_ref();
            // Inside a repeat the trigger fires in its own instance only (ODK
            // writes the setvalue into each instance's control).
            let scope = recompute::shared_repeat(&form.templates, source, tpl)
                .and_then(|r| self.tree.ancestor_of_tpl(node, r))
                .unwrap_or(self.tree.root());
            let geopoint = form.template(tpl).qtype() == Some(QuestionType::BackgroundGeopoint);
            for inst in self.tree.instances_under(&form, scope, tpl) {
                let v = match calc {
                    _ if geopoint => self.location.clone().unwrap_or_default(),
                    Some(calc) => {
                        let v = self.eval_string(calc, inst);
                        self.fit_to_type(inst, v)
                    }
                    None => String::new(),
                };
                self.tree.node_mut(inst).value = v;
                self.enqueue(tpl, inst);
                self.enqueue_dependents(inst);
            }
        }
    }

    /// A select answer as ODK's engine takes it from a client: one pick
    /// (the first word) for a single select, the picks that are choices for
    /// a multiple one, in the list's order; what is not a choice is dropped.
    pub(crate) fn coerce_choices(&self, node: NodeId, q: QuestionType, value: &str) -> String {
        let options = self.options_of(node);
        let offered = |p: &&str| options.iter().any(|o| o.value == *p);
        if !q.is_multi() {
            return value.split_whitespace().next().filter(offered).unwrap_or_default().to_string();
        }
        let picked: Vec<&str> = value.split_whitespace().filter(offered).collect();
        if q == QuestionType::Rank {
            return picked.join(" ");
        }
        let ordered: Vec<&str> =
            options.iter().map(|o| o.value.as_str()).filter(|v| picked.contains(v)).collect();
        let mut seen = Vec::new();
        for v in ordered {
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen.join(" ")
    }

    /// A rank answer: every current choice once, in the order ranked (ODK
    /// keeps the order; a partial ranking is an error there too).
    fn check_ranking(&self, node: NodeId, value: &str) -> Result<String, SessionError> {
        let picked: Vec<&str> = value.split_whitespace().collect();
        if picked.is_empty() {
            return Ok(String::new());
        }
        let options = self.options_of(node);
        let reference = || self.tree.reference(&self.form, node);
        for p in &picked {
            if !options.iter().any(|o| o.value == *p) {
                let names: Vec<&str> = options.iter().map(|o| o.value.as_str()).take(12).collect();
                return Err(SessionError::NotAChoice {
                    reference: reference(),
                    value: (*p).to_string(),
                    choices: names.join(", "),
                });
            }
        }
        let missing: Vec<&str> =
            options.iter().map(|o| o.value.as_str()).filter(|v| !picked.contains(v)).collect();
        let mut seen = Vec::new();
        for p in &picked {
            if seen.contains(p) {
                return Err(SessionError::BadValue {
                    reference: reference(),
                    value: value.to_string(),
                    expected: format!("ranking: '{p}' is ranked twice"),
                });
            }
            seen.push(*p);
        }
        if !missing.is_empty() {
            return Err(SessionError::BadValue {
                reference: reference(),
                value: value.to_string(),
                expected: format!("ranking of every choice (missing: {})", missing.join(", ")),
            });
        }
        Ok(picked.join(" "))
    }

    /// Validates a select answer against the node's current choices.
    fn check_choices(
        &self,
        node: NodeId,
        q: QuestionType,
        value: &str,
    ) -> Result<String, SessionError> {
        let options = self.options_of(node);
        let picked: Vec<&str> = if q.is_multi() {
            value.split_whitespace().collect()
        } else {
            let v = value.trim();
            if v.is_empty() { vec![] } else { vec![v] }
        };
        for p in &picked {
            if !options.iter().any(|o| o.value == *p) {
                let mut names: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                names.truncate(12);
                return Err(SessionError::NotAChoice {
                    reference: self.tree.reference(&self.form, node),
                    value: (*p).to_string(),
                    choices: names.join(", "),
                });
            }
        }
        // ODK keeps the choices in the list's order, not the order picked
        // (Web Forms' filterValues, JavaRosa's tests); repeats fall away.
        let ordered: Vec<&str> = options
            .iter()
            .map(|o| o.value.as_str())
            .filter(|v| picked.contains(v))
            .fold(Vec::new(), |mut acc, v| {
                if !acc.contains(&v) {
                    acc.push(v);
                }
                acc
            });
        Ok(ordered.join(" "))
    }

    /// Adds an instance at the end of a user-controlled repeat. `reference`
    /// names the repeat (`/data/members`, or inside another repeat
    /// `/data/hh[2]/members`).
    pub fn add_repeat(&mut self, reference: &str) -> Result<NodeId, SessionError> {
        let (parent, tpl) = self.resolve_repeat(reference)?;
        if self.tree.repeat_instances >= recompute::MAX_REPEAT_INSTANCES {
            return Err(SessionError::TooManyRepeatInstances {
                reference: reference.to_string(),
                limit: recompute::MAX_REPEAT_INSTANCES,
            });
        }
        let form = self.form.clone();
        let after = self.tree.instances(parent, tpl).last().copied();
        self.begin_round();
        let id = self.tree.instantiate(&form, tpl, parent, after);
        self.created(id);
        self.run();
        let instance = self.reference(id);
        self.audit_point(audit::kind::ADD_REPEAT, &instance);
        Ok(id)
    }

    /// Removes one instance of a user-controlled repeat
    /// (`/data/members[2]`).
    pub fn remove_repeat(&mut self, reference: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        let tpl = self.form.template(self.tree.node(node).tpl);
        if tpl.kind != TplKind::Repeat {
            return Err(SessionError::NotARepeat { reference: reference.to_string() });
        }
        if tpl.logic.repeat_count.is_some() {
            return Err(SessionError::CountControlled { reference: reference.to_string() });
        }
        let instance = self.reference(node);
        self.begin_round();
        self.removed(node);
        self.run();
        self.audit_point(audit::kind::DELETE_REPEAT, &instance);
        Ok(())
    }

    /// Switches the language of labels, hints and messages.
    pub fn set_language(&mut self, language: &str) -> Result<(), SessionError> {
        let langs = &self.form.instrument.languages;
        let found = langs.iter().find(|l| {
            *l == language
                || l.ends_with(&format!("({language})"))
                || l.split(" (").next() == Some(language)
        });
        match found {
            Some(l) => {
                let l = l.clone();
                self.language = Some(l.clone());
                // jr:itext() and jr:choice-name() read the language.
                self.recompute_all();
                let (wall, mono) = self.clock();
                if let Some(log) = &mut self.audit {
                    log.point_with(audit::kind::LANGUAGE_CHANGE, wall, mono, Some(l), None);
                }
                Ok(())
            }
            None => Err(SessionError::UnknownLanguage {
                language: language.to_string(),
                available: if langs.is_empty() { "none".into() } else { langs.join(", ") },
            }),
        }
    }

    /// The instance XML as ODK Collect would submit it.
    pub fn submission_xml(&self) -> String {
        submission::to_xml(&self.form, &self.tree)
    }

    /// The same data as JSON.
    pub fn submission_json(&self) -> serde_json::Value {
        submission::to_json(&self.form, &self.tree)
    }

    /// A location fix from the device (`lat lon [alt [accuracy]]`): fills
    /// every `start-geopoint` still empty (a fix often comes after the form
    /// opened) and is what `background-geopoint` questions take when their
    /// trigger changes.
    pub fn record_location(&mut self, value: &str) -> Result<(), SessionError> {
        let point = values::normalise(QuestionType::Geopoint, value).map_err(|expected| {
            SessionError::BadValue {
                reference: "location".into(),
                value: value.to_string(),
                expected: expected.to_string(),
            }
        })?;
        self.location = Some(point.clone()).filter(|p| !p.is_empty());
        let mono = self.env.monotonic_ms();
        if let (Some(log), false) = (&mut self.audit, point.is_empty()) {
            log.location(&point, mono);
        }
        let form = self.form.clone();
        let empty: Vec<NodeId> = self
            .tree
            .walk()
            .into_iter()
            .filter(|&n| {
                form.template(self.tree.node(n).tpl).qtype() == Some(QuestionType::StartGeopoint)
                    && self.tree.node(n).value.is_empty()
            })
            .collect();
        for n in empty {
            self.store_value(n, point.clone());
        }
        Ok(())
    }

    /// Sets the `end` timestamps; called when the response is finalized.
    pub fn mark_end(&mut self) {
        let now = self.env_now_string();
        let form = self.form.clone();
        let ends: Vec<NodeId> = self
            .tree
            .walk()
            .into_iter()
            .filter(|&n| {
                form.template(self.tree.node(n).tpl)
                    .preload
                    .as_ref()
                    .is_some_and(|(k, p)| k == "timestamp" && p == "end")
            })
            .collect();
        for n in ends {
            self.tree.node_mut(n).value = now.clone();
            self.begin_round();
            self.enqueue_dependents(n);
            self.run();
        }
    }

    fn env_now_string(&self) -> String {
        let now = self.env.now();
        let offset = self.env.utc_offset(now);
        now.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }

    /// start, today, deviceid, username and the meta block, once, at creation.
    fn fill_metadata_at_start(&mut self) {
        let now = self.env.now();
        let offset = self.env.utc_offset(now);
        let stamp = self.env_now_string();
        let today = now.with_timezone(&offset).format("%Y-%m-%d").to_string();
        let form = self.form.clone();
        for n in self.tree.walk() {
            let t = form.template(self.tree.node(n).tpl);
            // Preloads as ODK Web Forms carries them out: by what the XForm
            // says (a type's preload, or a bind column's override), an
            // unknown property staying empty.
            let preloaded = match t.preload.as_ref().map(|(k, p)| (k.as_str(), p.as_str())) {
                Some(("timestamp", "end")) => None,
                Some(("timestamp", _)) => Some(stamp.clone()),
                Some(("date", _)) => Some(today.clone()),
                Some(("property", "deviceid")) => self.options.device_id.clone(),
                Some(("property", "username")) => self.options.username.clone(),
                Some(("uid", _)) => Some(format!("uuid:{}", self.env.uuid())),
                Some(_) => None,
                None => match t.kind {
                    TplKind::Leaf(QuestionType::StartGeopoint) => self.location.clone(),
                    TplKind::Meta(form::MetaField::InstanceId) => Some(self.instance_id.clone()),
                    TplKind::Meta(form::MetaField::DeprecatedId) => self.deprecated_id.clone(),
                    _ => None,
                },
            };
            let value = preloaded;
            if let Some(v) = value {
                self.tree.node_mut(n).value = v;
            }
        }
    }
}

#[cfg(test)]
mod hardening_tests;
/// Whether pyxform writes a body control for this element (a question the
/// enumerator sees, `Question.xml_control`): not a calculate or hidden
/// type, and not a calculated or triggered question with no label, hint
/// or media to show.
fn has_control(tpl: &form::Template) -> bool {
    let Some(node) = tpl.node.as_ref() else { return false };
    let computed = tpl.logic.calculate.is_some() || !tpl.logic.trigger.is_empty();
    let shown_text = !node.label.is_empty() || !node.hint.is_empty() || !node.media.is_empty();
    !matches!(tpl.qtype(), Some(QuestionType::Calculate | QuestionType::Hidden) | None)
        && (shown_text || !computed)
}

/// Whether a range answer lies between the range's start and end.
fn in_range(tpl: &form::Template, v: &str) -> bool {
    let Some(node) = tpl.node.as_ref() else { return true };
    let bound = |k: &str, d: f64| {
        node.parameters.get(k).and_then(|x| x.trim().parse::<f64>().ok()).unwrap_or(d)
    };
    let (a, b) = (bound("start", 1.0), bound("end", 10.0));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    v.parse::<f64>().is_ok_and(|x| x >= lo && x <= hi)
}

#[cfg(test)]
mod tests;
