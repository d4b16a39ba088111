//! One response being filled: the app's interview screen. Every change is
//! committed to the device store before the call returns, so the app can be
//! killed at any moment and `DeviceStore.resumeInterview` picks up the draft.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use enumera_core::expr::SystemEnv;
use enumera_core::fill::{Fill, FillError, Start};
use enumera_core::session::navigation::Screen as CoreScreen;
use enumera_core::session::{NodeId, Session};
use enumera_core::store::Store;

use crate::store::DeviceStore;
use crate::types::{
    ChoiceItem, HierarchyEntry, IssueKind, OutboxItem, Progress, Question, Screen, ValidationIssue,
};
use crate::{EnumeraError, Result};

/// A file an answer names, as the device store holds it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachedFile {
    /// The answer: the file name as ODK writes it (`1796378400000.jpg`).
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

impl From<enumera_core::store::AttachmentInfo> for AttachedFile {
    fn from(a: enumera_core::store::AttachmentInfo) -> Self {
        AttachedFile { name: a.name, sha256: a.sha256, size: a.size }
    }
}

/// The whole-interview recording a form asks for (ODK's `background-audio`):
/// the app records at `quality` from the start of the interview and hands
/// the file to `attach_file` / `attach_bytes` at `reference`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordingRequest {
    /// The question the recording answers (`/data/background_audio`).
    pub reference: String,
    /// `voice-only` (ODK's default), `low`, `normal` or `high`.
    pub quality: String,
}

impl From<enumera_core::recording::RecordingRequest> for RecordingRequest {
    fn from(r: enumera_core::recording::RecordingRequest) -> Self {
        RecordingRequest { reference: r.reference, quality: r.quality }
    }
}

/// A [`Fill`] on the real clock. Uniffi objects are called from any
/// thread; core keeps sessions `Send` for that (asserted below).
#[derive(Debug)]
pub(crate) struct Live(Fill);

const _: fn() = || {
    fn send<T: Send>() {}
    send::<Live>();
};

impl Live {
    fn env() -> Box<SystemEnv> {
        Box::new(SystemEnv::default())
    }

    pub(crate) fn start(
        store: &mut Store,
        form_id: &str,
        start: &Start,
    ) -> Result<Live, FillError> {
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
    /// The form version's hash: what `DeviceStore::form_media` takes.
    form_hash: String,
    /// `None` once finalized: the response is frozen.
    fill: Mutex<Option<Live>>,
}

impl Interview {
    pub(crate) fn new(store: Arc<DeviceStore>, live: Live) -> Arc<Self> {
        Arc::new(Interview {
            store,
            instance_id: live.0.instance_id().to_string(),
            form_id: live.0.response().instrument.form_id.clone(),
            form_hash: live.0.response().instrument.hash.clone(),
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
        EnumeraError::NotEditable {
            instance_id: self.instance_id.clone(),
            state: "finalized".into(),
        }
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

    /// The hash of the form version being filled (its label media are read
    /// with `DeviceStore::form_media(form_hash, name)`).
    pub fn form_hash(&self) -> String {
        self.form_hash.clone()
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

    /// Answers an image, audio, video or file question (signatures and
    /// drawings are images) with the file at `path`, which is copied, not
    /// moved: the file and the answer are saved in one transaction, the
    /// answer being the file's name as ODK writes it. Replacing or clearing
    /// the answer removes the earlier file.
    pub fn attach_file(&self, reference: String, path: String) -> Result<AttachedFile> {
        self.with(|fill| {
            Ok(fill.attach(&mut self.store.lock(), &reference, std::path::Path::new(&path))?.into())
        })
    }

    /// Like `attach_file`, from bytes (a signature drawn on screen);
    /// `file_name` gives the extension (`signature.png`).
    pub fn attach_bytes(
        &self,
        reference: String,
        bytes: Vec<u8>,
        file_name: String,
    ) -> Result<AttachedFile> {
        self.with(|fill| {
            Ok(fill.attach_bytes(&mut self.store.lock(), &reference, &file_name, &bytes)?.into())
        })
    }

    /// The recording of the whole interview the form asks for, if any
    /// (`background-audio`); none for a form without one.
    pub fn background_audio(&self) -> Result<Option<RecordingRequest>> {
        self.with(|fill| Ok(fill.background_audio().map(Into::into)))
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
            Ok(s.screens().into_iter().map(|screen| screen_of(s, screen)).collect())
        })
    }

    /// Questions shown now that can be answered, and how many are.
    pub fn progress(&self) -> Result<Progress> {
        self.with(|fill| {
            let s = fill.session();
            let p = s.progress(&s.screens());
            Ok(Progress { answered: p.answered as u64, asked: p.asked as u64 })
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
        // Sealed to the researcher keys where the form names any (core).
        let entry = saver.finalize(&mut self.store.lock(), session)?;
        *guard = None;
        Ok(entry.into())
    }

    /// Whether `finalize` succeeded (the interview is then read-only).
    pub fn is_finalized(&self) -> bool {
        self.guard().is_none()
    }
}

/// The audit log (ODK's `audit` meta question, issue 17): what the app
/// reports for it, and the prompts it must show.
#[uniffi::export]
impl Interview {
    /// Whether the form keeps an audit log.
    pub fn audited(&self) -> Result<bool> {
        self.with(|fill| Ok(fill.session().audit_config().is_some()))
    }

    /// The app shows a screen: a question, or a field-list group. The
    /// audit's durations run from one screen to the next.
    pub fn show(&self, reference: String) -> Result<()> {
        self.with(|fill| Ok(fill.show(&mut self.store.lock(), &reference)?))
    }

    /// The enumerator leaves the form (back, or the app goes away): logged
    /// as `form exit`, everything saved.
    pub fn exit(&self) -> Result<()> {
        self.with(|fill| Ok(fill.exit(&mut self.store.lock())?))
    }

    /// Whether `finalize` needs a change reason first: the form asks for
    /// reasons on edits (`track-changes-reasons=on-form-edit`) and this
    /// response edits a finalized or returned one. Ask the enumerator, then
    /// `setChangeReason`; `finalize` refuses with `ChangeReasonRequired`.
    pub fn change_reason_needed(&self) -> Result<bool> {
        self.with(|fill| Ok(fill.session().change_reason_needed()))
    }

    /// The enumerator's reason for this edit, logged and saved.
    pub fn set_change_reason(&self, reason: String) -> Result<()> {
        self.with(|fill| Ok(fill.set_change_reason(&mut self.store.lock(), &reason)?))
    }

    /// Whether the form asks who fills it (`identify-user`) and no one was
    /// named in this sitting: ask, then `setUser`.
    pub fn user_needed(&self) -> Result<bool> {
        self.with(|fill| Ok(fill.session().audit_user_needed()))
    }

    /// The person filling the form, for the audit's `user` column.
    pub fn set_user(&self, user: String) -> Result<()> {
        self.with(|fill| {
            let (session, saver) = fill.parts();
            session.set_audit_user(&user)?;
            Ok(saver.save(&mut self.store.lock(), session)?)
        })
    }

    /// A location fix (`lat lon alt accuracy`), for `start-geopoint` and,
    /// when the form asks for it, the audit's locations.
    pub fn record_location(&self, location: String) -> Result<()> {
        self.with(|fill| {
            let (session, saver) = fill.parts();
            session.record_location(&location)?;
            Ok(saver.save(&mut self.store.lock(), session)?)
        })
    }
}

fn question_at(session: &Session, reference: &str) -> Result<Question> {
    let node = session.resolve(reference)?;
    Ok(question_of(session, node))
}

/// A question from core's prompt (label, hint, choices in the current
/// language) and leaf state (relevance; the value as ODK reads it, empty
/// while non-relevant). Metadata fields have no prompt: label and choices
/// stay empty.
fn question_of(session: &Session, node: NodeId) -> Question {
    let leaf = session.leaf_state(node);
    let prompt = session.prompt(node);
    let issue = leaf.violation_message.map(|text| ValidationIssue {
        kind: if leaf.constraint_valid { IssueKind::Required } else { IssueKind::Constraint },
        reference: leaf.reference.clone(),
        text,
    });
    let media = prompt.as_ref().map(|p| p.media.clone()).unwrap_or_default();
    let (label, hint, appearance, parameters, choices) = match prompt {
        Some(p) => (
            Some(p.label),
            p.hint,
            p.appearance,
            p.parameters.into_iter().collect(),
            p.choices.into_iter().map(|o| ChoiceItem { value: o.value, label: o.label }).collect(),
        ),
        None => (leaf.label, None, None, HashMap::new(), Vec::new()),
    };
    Question {
        reference: leaf.reference,
        question_type: leaf.qtype,
        label,
        hint,
        appearance,
        parameters,
        value: leaf.value,
        relevant: leaf.relevant,
        required: leaf.required,
        readonly: leaf.readonly,
        issue,
        choices,
        image: media.get("image").cloned(),
        big_image: media.get("big-image").cloned(),
        audio: media.get("audio").cloned(),
        video: media.get("video").cloned(),
    }
}

fn screen_of(session: &Session, screen: CoreScreen) -> Screen {
    match screen {
        CoreScreen::Question { node } => Screen::Question { question: question_of(session, node) },
        CoreScreen::FieldList { group, questions } => {
            let reference = session.reference(group);
            let label = session
                .form()
                .by_path
                .get(&template_path(&reference))
                .and_then(|&t| session.form().template(t).label())
                .map(|l| session.render(l, group));
            Screen::FieldList {
                reference,
                label,
                questions: questions.into_iter().map(|q| question_of(session, q)).collect(),
            }
        }
        CoreScreen::AddRepeat { parent, repeat } => {
            let p = session.repeat_prompt(parent, repeat);
            Screen::AddRepeat {
                reference: p.reference,
                label: p.label,
                count: u32::try_from(p.count).unwrap_or(u32::MAX),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_paths_drop_instance_indices() {
        assert_eq!(template_path("/data/hh[2]/members[10]/name"), "/data/hh/members/name");
        assert_eq!(template_path("/data/age"), "/data/age");
    }
}
