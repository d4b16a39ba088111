//! One response being filled: the app's interview screen. Every change is
//! committed to the device store before the call returns, so the app can be
//! killed at any moment and `DeviceStore.resumeInterview` picks up the draft.

use std::sync::{Arc, Mutex, MutexGuard};

use enumera_core::expr::SystemEnv;
use enumera_core::fill::{Fill, FillError, Plain, Start};
use enumera_core::store::Store;
use enumera_core::session::navigation::Screen as CoreScreen;
use enumera_core::session::{NodeId, Session, TplId};

use crate::store::DeviceStore;
use crate::types::{ChoiceItem, HierarchyEntry, OutboxItem, Question, Screen, ValidationIssue};
use crate::{EnumeraError, Result};

/// A [`Fill`] on the real clock, movable to another thread.
///
/// A session holds its environment as `Box<dyn Env>`, which is not `Send`,
/// so `Fill` is not either, while uniffi objects are called from any thread.
/// The only way to make a `Live` is below, with a [`SystemEnv`]: plain data,
/// `Send` (asserted at compile time); every other part of a session is `Send`
/// (the compiler names only the environment). When core makes `Env: Send`
/// this wrapper goes.
#[derive(Debug)]
pub(crate) struct Live(Fill);

// SAFETY: see above; the environment inside is always a `SystemEnv`.
#[allow(unsafe_code)]
unsafe impl Send for Live {}

const _: fn() = || {
    fn send<T: Send + Sync>() {}
    send::<SystemEnv>();
};

impl Live {
    fn env() -> Box<SystemEnv> {
        Box::new(SystemEnv::default())
    }

    pub(crate) fn start(store: &mut Store, form_id: &str, start: &Start) -> Result<Live, FillError> {
        Fill::start(store, form_id, start, Live::env()).map(Live)
    }

    pub(crate) fn resume(store: &Store, instance_id: &str) -> Result<Live, FillError> {
        Fill::resume(store, instance_id, Live::env()).map(Live)
    }
}

/// A form session on this device. Calls from several threads are serialised.
#[derive(Debug, uniffi::Object)]
pub struct Interview {
    store: Arc<DeviceStore>,
    instance_id: String,
    form_id: String,
    /// `None` once finalized: the response is frozen.
    fill: Mutex<Option<Live>>,
}

impl Interview {
    pub(crate) fn new(store: Arc<DeviceStore>, live: Live) -> Arc<Self> {
        Arc::new(Interview {
            store,
            instance_id: live.0.instance_id().to_string(),
            form_id: live.0.response().instrument.form_id.clone(),
            fill: Mutex::new(Some(live)),
        })
    }

    /// Runs `f` on the live session; lock order is always interview, then store.
    fn with<T>(&self, f: impl FnOnce(&mut Fill) -> Result<T>) -> Result<T> {
        let mut guard = self.guard();
        let live = guard.as_mut().ok_or_else(|| self.frozen())?;
        f(&mut live.0)
    }

    fn guard(&self) -> MutexGuard<'_, Option<Live>> {
        self.fill.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn frozen(&self) -> EnumeraError {
        EnumeraError::NotEditable { instance_id: self.instance_id.clone(), state: "finalized".into() }
    }
}

#[uniffi::export]
impl Interview {
    /// `uuid:...`, the response's ODK instance id.
    pub fn instance_id(&self) -> String {
        self.instance_id.clone()
    }

    pub fn form_id(&self) -> String {
        self.form_id.clone()
    }

    /// Answers a question (ODK's string form: `"a b"` for a select_multiple)
    /// and saves it. Returns the question as it now stands: a broken
    /// constraint shows as `issue`, with the form's message. A value of the
    /// wrong type or not among the choices is refused with `InvalidAnswer`.
    pub fn answer(&self, reference: String, value: String) -> Result<Question> {
        self.with(|fill| {
            fill.set(&mut self.store.lock(), &reference, &value)?;
            question_at(fill.session(), &reference)
        })
    }

    /// Clears an answer and saves it.
    pub fn clear(&self, reference: String) -> Result<Question> {
        self.answer(reference, String::new())
    }

    /// Adds an instance at the end of a repeat (`/data/members`) and returns
    /// its reference (`/data/members[3]`).
    pub fn add_repeat(&self, reference: String) -> Result<String> {
        self.with(|fill| {
            let (session, saver) = fill.parts();
            let node = session.add_repeat(&reference)?;
            let instance = session.reference(node);
            saver.repeat_added(&mut self.store.lock(), session, &instance)?;
            Ok(instance)
        })
    }

    /// Removes one repeat instance (`/data/members[2]`); later ones move up.
    pub fn remove_repeat(&self, reference: String) -> Result<()> {
        self.with(|fill| Ok(fill.remove_repeat(&mut self.store.lock(), &reference)?))
    }

    /// The form's languages, as written in the form (`Portuguese (pt)`).
    pub fn languages(&self) -> Result<Vec<String>> {
        self.with(|fill| Ok(fill.session().form().instrument.languages.clone()))
    }

    pub fn language(&self) -> Result<Option<String>> {
        self.with(|fill| Ok(fill.session().language().map(str::to_string)))
    }

    /// Switches labels, hints and messages to `language` (`Portuguese (pt)`,
    /// `Portuguese` or `pt`).
    pub fn set_language(&self, language: String) -> Result<()> {
        self.with(|fill| Ok(fill.set_language(&language)?))
    }

    /// One question by reference.
    pub fn question(&self, reference: String) -> Result<Question> {
        self.with(|fill| question_at(fill.session(), &reference))
    }

    /// Every question, calculation and metadata field in document order,
    /// relevant or not (the app shows the relevant ones).
    pub fn questions(&self) -> Result<Vec<Question>> {
        self.with(|fill| {
            let s = fill.session();
            s.leaves().iter().map(|l| question_at(s, &l.reference)).collect()
        })
    }

    /// The screens of the interview in order, given the answers so far.
    pub fn screens(&self) -> Result<Vec<Screen>> {
        self.with(|fill| {
            let s = fill.session();
            s.screens().into_iter().map(|screen| screen_of(s, screen)).collect()
        })
    }

    /// What stands between the response and finalizing.
    pub fn blockers(&self) -> Result<Vec<ValidationIssue>> {
        self.with(|fill| Ok(fill.session().blockers().into_iter().map(Into::into).collect()))
    }

    /// The response as a tree, for jumping to a question.
    pub fn hierarchy(&self) -> Result<Vec<HierarchyEntry>> {
        self.with(|fill| Ok(fill.session().hierarchy().into_iter().map(Into::into).collect()))
    }

    /// The submission as ODK would send it (for a review screen).
    pub fn submission_xml(&self) -> Result<String> {
        self.with(|fill| Ok(fill.session().submission_xml()))
    }

    /// Finalizes: refused with `Blocked` (listing every issue) while a
    /// required question is empty or a constraint broken; otherwise the
    /// response is frozen and queued in the outbox in one transaction.
    pub fn finalize(&self) -> Result<OutboxItem> {
        let mut guard = self.guard();
        let live = guard.as_mut().ok_or_else(|| self.frozen())?;
        let (session, saver) = live.0.parts();
        let blockers = session.blockers();
        if !blockers.is_empty() {
            return Err(EnumeraError::Blocked {
                instance_id: self.instance_id.clone(),
                issues: blockers.into_iter().map(Into::into).collect(),
            });
        }
        session.mark_end();
        let entry = saver.finalize(&mut self.store.lock(), session, &Plain)?;
        *guard = None;
        Ok(entry.into())
    }

    /// Whether `finalize` succeeded (the interview is then read-only).
    pub fn is_finalized(&self) -> bool {
        self.guard().is_none()
    }
}

/// `/data/members[2]/name` -> `/data/members/name`: the template's path.
fn template_path(reference: &str) -> String {
    let mut out = String::with_capacity(reference.len());
    let mut skipping = false;
    for c in reference.chars() {
        match c {
            '[' => skipping = true,
            ']' => skipping = false,
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

fn tpl_of(session: &Session, reference: &str) -> Option<TplId> {
    session.form().by_path.get(&template_path(reference)).copied()
}

fn question_at(session: &Session, reference: &str) -> Result<Question> {
    let node = session.resolve(reference)?;
    Ok(question_of(session, node))
}

fn question_of(session: &Session, node: NodeId) -> Question {
    let leaf = session.leaf_state(node);
    let template = tpl_of(session, &leaf.reference).map(|t| session.form().template(t));
    let hint = template
        .and_then(|t| t.node.as_ref())
        .filter(|n| !n.hint.is_empty())
        .map(|n| session.render(&n.hint, node));
    let is_select = leaf.options.is_some();
    let issue = leaf.violation_message.map(|text| ValidationIssue {
        kind: if leaf.constraint_valid {
            crate::types::IssueKind::Required
        } else {
            crate::types::IssueKind::Constraint
        },
        reference: leaf.reference.clone(),
        text,
    });
    let choices = if is_select {
        session
            .options_of(node)
            .into_iter()
            .map(|o| ChoiceItem { value: o.value, label: o.label })
            .collect()
    } else {
        vec![]
    };
    Question {
        reference: leaf.reference,
        question_type: leaf.qtype,
        label: leaf.label,
        hint,
        value: leaf.value,
        relevant: leaf.relevant,
        required: leaf.required,
        readonly: leaf.readonly,
        issue,
        choices,
    }
}

fn label_of(session: &Session, node: NodeId, tpl: Option<TplId>) -> Option<String> {
    tpl.and_then(|t| session.form().template(t).label()).map(|l| session.render(l, node))
}

fn screen_of(session: &Session, screen: CoreScreen) -> Result<Screen> {
    Ok(match screen {
        CoreScreen::Question { node } => Screen::Question { question: question_of(session, node) },
        CoreScreen::FieldList { group, questions } => {
            let reference = session.reference(group);
            Screen::FieldList {
                label: label_of(session, group, tpl_of(session, &reference)),
                reference,
                questions: questions.into_iter().map(|q| question_of(session, q)).collect(),
            }
        }
        CoreScreen::AddRepeat { parent, repeat } => {
            let t = session.form().template(repeat);
            let reference = format!("{}/{}", session.reference(parent), t.name);
            let label = t.label().map(|l| session.render(l, parent));
            // Instances are numbered from 1 without gaps.
            let count = (1..)
                .take_while(|i| session.resolve(&format!("{reference}[{i}]")).is_ok())
                .count();
            Screen::AddRepeat { reference, label, count: u32::try_from(count).unwrap_or(u32::MAX) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_paths_drop_instance_indices() {
        assert_eq!(template_path("/data/hh[2]/members[10]/name"), "/data/hh/members/name");
        assert_eq!(template_path("/data/age"), "/data/age");
    }
}
