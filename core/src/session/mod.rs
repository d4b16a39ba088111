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

pub mod doc;
pub mod error;
pub mod form;
pub mod graph;
pub mod navigation;
pub mod prompt;
pub mod recompute;
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
    /// Set when a repeat count met [`recompute::MAX_REPEAT_INSTANCES`]
    /// during the current step (the repeat's reference).
    overflow: Option<String>,
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
        };
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
        if tpl.logic.calculate.is_some() && tpl.logic.trigger.is_empty() {
            return Err(SessionError::NotAnswerable { reference, what: "calculated" });
        }
        if q.is_metadata() {
            return Err(SessionError::NotAnswerable { reference, what: "metadata" });
        }
        if self.tree.node(node).readonly {
            return Err(SessionError::ReadOnly { reference });
        }
        // Decided at entry: what XML cannot carry would make the submission
        // unreadable, so it is refused with the reason (issue 15, finding 4).
        if let Some((at, c)) = submission::first_non_xml_char(value) {
            return Err(SessionError::BadValue {
                reference,
                value: value.to_string(),
                expected: format!(
                    "answer: character {at} is {}, which cannot be stored; remove it",
                    submission::describe_char(c)
                ),
            });
        }
        let normalised = if q.is_select() {
            self.check_choices(node, q, value)?
        } else {
            // A range holds whole numbers unless a bound or the step is
            // fractional: the XForm's bind type, which ODK formats by.
            let q = match (q, tpl.node.as_ref()) {
                (QuestionType::Range, Some(n)) => match crate::instrument::xform::bind_type(n, q) {
                    "decimal" => QuestionType::Decimal,
                    _ => QuestionType::Integer,
                },
                _ => q,
            };
            values::normalise(q, value).map_err(|expected| SessionError::BadValue {
                reference: reference.clone(),
                value: value.to_string(),
                expected: expected.to_string(),
            })?
        };
        let before = self.tree.node(node).value.clone();
        self.overflow = None;
        self.store_value(node, normalised);
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
            let Some(calc) = &form.template(tpl).logic.calculate else { continue };
            // Inside a repeat the trigger fires in its own instance only (ODK
            // writes the setvalue into each instance's control).
            let scope = recompute::shared_repeat(&form.templates, source, tpl)
                .and_then(|r| self.tree.ancestor_of_tpl(node, r))
                .unwrap_or(self.tree.root());
            for inst in self.tree.instances_under(&form, scope, tpl) {
                let v = self.eval_string(calc, inst);
                self.tree.node_mut(inst).value = v;
                self.enqueue(tpl, inst);
                self.enqueue_dependents(inst);
            }
        }
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
        self.begin_round();
        self.removed(node);
        self.run();
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
                self.language = Some(l.clone());
                // jr:itext() and jr:choice-name() read the language.
                self.recompute_all();
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

    /// Sets the `end` timestamps; called when the response is finalized.
    pub fn mark_end(&mut self) {
        let now = self.env_now_string();
        let form = self.form.clone();
        let ends: Vec<NodeId> = self
            .tree
            .walk()
            .into_iter()
            .filter(|&n| form.template(self.tree.node(n).tpl).qtype() == Some(QuestionType::End))
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
            let value = match t.kind {
                TplKind::Leaf(QuestionType::Start) => Some(stamp.clone()),
                TplKind::Leaf(QuestionType::Today) => Some(today.clone()),
                TplKind::Leaf(QuestionType::DeviceId) => self.options.device_id.clone(),
                TplKind::Leaf(QuestionType::Username) => self.options.username.clone(),
                TplKind::Meta(form::MetaField::InstanceId) => Some(self.instance_id.clone()),
                TplKind::Meta(form::MetaField::DeprecatedId) => self.deprecated_id.clone(),
                _ => None,
            };
            if let Some(v) = value {
                self.tree.node_mut(n).value = v;
            }
        }
    }
}

#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod tests;
