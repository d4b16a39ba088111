//! Filling a response on a device: a form session whose every change is
//! committed to the device store as it is made, so that killing the app at
//! any moment loses at most the answer being typed, and a draft can be
//! resumed exactly where it was left.
//!
//! This is the one place sessions and the store meet; the CLI, the demo and
//! the mobile bindings all fill through it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::expr::{Env, SystemEnv};
use crate::session::{Blocker, Form, Session, SessionError, SessionOptions};
use crate::store::{Answer, NewResponse, OutboxEntry, Response, Store, StoreError};

/// What can go wrong while filling on a device.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("the form {form_id} cannot be filled: {reason}")]
    Form { form_id: String, reason: String },
    #[error("{instance_id} cannot be finalized yet: {}", list(.blockers))]
    Blocked { instance_id: String, blockers: Vec<Blocker> },
    #[error("sealing {instance_id} failed: {reason}")]
    Seal { instance_id: String, reason: String },
    #[error(
        "{reference} is not a file question (image, audio, video, file): it takes no attachment"
    )]
    NotAFileQuestion { reference: String },
    #[error(
        "{instance_id} edits a finalized or returned response: give the reason for the change before finalizing (the form asks for one)"
    )]
    ChangeReasonRequired { instance_id: String },
}

fn list(blockers: &[Blocker]) -> String {
    blockers
        .iter()
        .map(|b| match b {
            Blocker::Required { reference, message }
            | Blocker::Constraint { reference, message } => {
                format!("{reference}: {message}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A response being filled on a device.
#[derive(Debug)]
pub struct Fill {
    session: Session,
    saver: Saver,
}

/// Keeps a draft in the store in step with its session. Separate from the
/// session so that a front end can drive the session itself (an interactive
/// interview holds it) and report each change here.
#[derive(Debug)]
pub struct Saver {
    /// What the store holds now, to write only what changed.
    saved: BTreeMap<String, String>,
    response: Response,
}

/// How to start a new response.
#[derive(Debug, Clone, Default)]
pub struct Start {
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    /// Prefill from the participant's latest earlier response (fields the
    /// instrument marks `preload`).
    pub preload: bool,
}

/// Photos larger than this are kept as they are rather than read whole to
/// be scaled (a camera's photo is a few MiB).
const MAX_PHOTO_TO_SCALE: u64 = 64 << 20;

impl Fill {
    /// Starts a new draft of the latest installed version of `form_id`.
    pub fn start(
        store: &mut Store,
        form_id: &str,
        start: &Start,
        env: Box<dyn Env + Send>,
    ) -> Result<Fill, FillError> {
        Fill::start_with(store, form_id, start, env, None)
    }

    /// Like [`Fill::start`], with `deviceid` metadata set to `device_id`
    /// instead of this device's id (for comparing runs with another engine:
    /// `enumera device fill --device-id`).
    pub fn start_as_device(
        store: &mut Store,
        form_id: &str,
        start: &Start,
        env: Box<dyn Env + Send>,
        device_id: &str,
    ) -> Result<Fill, FillError> {
        Fill::start_with(store, form_id, start, env, Some(device_id.to_string()))
    }

    fn start_with(
        store: &mut Store,
        form_id: &str,
        start: &Start,
        env: Box<dyn Env + Send>,
        device_id: Option<String>,
    ) -> Result<Fill, FillError> {
        let key = store.latest_instrument(form_id)?;
        let instrument = store.instrument(&key)?;
        let form = compile(instrument.clone(), form_id)?;
        let mut new = NewResponse::new(key);
        new.participant_id = start.participant_id.clone();
        new.round = start.round;
        let response = store.create_draft(&new)?;
        let device = store.device().ok();
        let options = SessionOptions {
            instance_id: Some(response.instance_id.clone()),
            deprecated_id: None,
            device_id: device_id.or_else(|| device.as_ref().map(|d| d.device_id.clone())),
            username: response.enumerator.clone(),
            ..SessionOptions::default()
        };
        let session = Session::with_env(form, options, env);
        let mut fill = Fill { session, saver: Saver { saved: BTreeMap::new(), response } };
        // Link the response to its participant and round where the form has
        // fields for them (the study's convention: participant_id, round).
        if let Some(p) = &start.participant_id {
            fill.prefill_named("participant_id", p);
        }
        if let Some(r) = start.round {
            fill.prefill_named("round", &round_value(&fill.session, r));
        }
        if let (true, Some(p)) = (start.preload, &start.participant_id) {
            for a in store.preload(p, &instrument, start.round)? {
                // A preloaded answer that no longer fits is left for the
                // enumerator to give again, not an error.
                let _ = fill.session.set(&a.reference, &a.value);
            }
        }
        fill.session.audit_begin(None);
        fill.saver.save(store, &mut fill.session)?;
        Ok(fill)
    }

    /// Resumes a draft exactly as it was saved.
    pub fn resume(
        store: &Store,
        instance_id: &str,
        env: Box<dyn Env + Send>,
    ) -> Result<Fill, FillError> {
        let response = store.response(instance_id)?;
        let instrument = store.instrument(&response.instrument)?;
        let form = compile(instrument, &response.instrument.form_id)?;
        let device = store.device().ok();
        let options = SessionOptions {
            instance_id: Some(response.instance_id.clone()),
            deprecated_id: response.deprecated_id.clone(),
            device_id: device.as_ref().map(|d| d.device_id.clone()),
            username: response.enumerator.clone(),
            ..SessionOptions::default()
        };
        let mut counts = store.repeat_counts(instance_id)?;
        // Outer repeats before the repeats inside them.
        counts.sort_by_key(|(r, _)| r.matches('/').count());
        let answers: Vec<(String, String)> =
            store.answers(instance_id)?.into_iter().map(|a| (a.reference, a.value)).collect();
        let mut session = Session::restore(form, options, env, &counts, &answers);
        if session.audit_config().is_some() && response.state == crate::store::ResponseState::Draft
        {
            // Logged now, saved with the next change (a look at a draft
            // that changes nothing writes nothing).
            session.audit_begin(Some(&store.audit_events(instance_id)?));
        }
        let saved = answers.into_iter().collect();
        Ok(Fill { session, saver: Saver { saved, response } })
    }

    /// A fresh environment on the real clock.
    pub fn system_env() -> Box<dyn Env + Send> {
        Box::new(SystemEnv::default())
    }

    /// The whole-interview recording the form asks for (`background-audio`),
    /// if any: the app records and attaches the file at its reference.
    pub fn background_audio(&self) -> Option<crate::recording::RecordingRequest> {
        crate::recording::background_audio(self.session.form())
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn instance_id(&self) -> &str {
        &self.saver.response.instance_id
    }

    pub fn response(&self) -> &Response {
        &self.saver.response
    }

    /// The session and its saver, for a front end that drives the session
    /// and reports each change to the saver.
    pub fn parts(&mut self) -> (&mut Session, &mut Saver) {
        (&mut self.session, &mut self.saver)
    }

    /// Answers a question and commits it.
    pub fn set(
        &mut self,
        store: &mut Store,
        reference: &str,
        value: &str,
    ) -> Result<(), FillError> {
        self.session.set(reference, value)?;
        self.saver.save(store, &mut self.session)
    }

    /// Answers a file question (image, audio, video, file; signatures and
    /// drawings are images) with the file at `src`, which is copied, not
    /// moved. The answer is the file's name as ODK Collect writes it (the
    /// time in milliseconds and the source's extension, `1764887400123.jpg`),
    /// committed with the file in one transaction; the file the question
    /// held before is removed once no answer names it. On error the session
    /// and the store keep the earlier answer.
    pub fn attach(
        &mut self,
        store: &mut Store,
        reference: &str,
        src: &std::path::Path,
    ) -> Result<crate::store::AttachmentInfo, FillError> {
        self.saver.attach(store, &mut self.session, reference, src)
    }

    /// Like [`Fill::attach`], from bytes in memory (a signature drawn on
    /// screen); `file_name` gives the extension (`signature.png`).
    pub fn attach_bytes(
        &mut self,
        store: &mut Store,
        reference: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<crate::store::AttachmentInfo, FillError> {
        self.saver.attach_bytes(store, &mut self.session, reference, file_name, bytes)
    }

    /// Answers a question as ODK's engine would take the value, coerced to
    /// its type rather than refused ([`Session::set_coerced`]), and commits
    /// it.
    pub fn set_coerced(
        &mut self,
        store: &mut Store,
        reference: &str,
        value: &str,
    ) -> Result<(), FillError> {
        self.session.set_coerced(reference, value)?;
        self.saver.save(store, &mut self.session)
    }

    /// Adds a repeat instance and commits the new count.
    pub fn add_repeat(&mut self, store: &mut Store, reference: &str) -> Result<(), FillError> {
        let node = self.session.add_repeat(reference)?;
        let instance = self.session.reference(node);
        self.saver.repeat_added(store, &mut self.session, &instance)
    }

    /// Removes a repeat instance (`/data/members[2]`) and commits it.
    pub fn remove_repeat(&mut self, store: &mut Store, reference: &str) -> Result<(), FillError> {
        self.session.remove_repeat(reference)?;
        self.saver.repeat_removed(store, &mut self.session, reference)
    }

    pub fn set_language(&mut self, language: &str) -> Result<(), FillError> {
        Ok(self.session.set_language(language)?)
    }

    /// Commits whatever changed since the last save (the enumerator's save:
    /// `form save` in the audit log).
    pub fn save(&mut self, store: &mut Store) -> Result<(), FillError> {
        self.session.audit_save();
        self.saver.save(store, &mut self.session)
    }

    /// Finalizes: refused while anything blocks it; otherwise stamps `end`,
    /// builds the submission and hands it to the store's outbox in one
    /// transaction (sealed to the researcher's keys where the form names any).
    pub fn finalize(mut self, store: &mut Store) -> Result<OutboxEntry, FillError> {
        self.saver.check_blockers(store, &mut self.session)?;
        self.session.mark_end();
        self.saver.finalize(store, &mut self.session)
    }

    /// The enumerator leaves the form: the screen shown ends, `form exit`
    /// is logged and everything is saved.
    pub fn exit(&mut self, store: &mut Store) -> Result<(), FillError> {
        self.session.exit();
        self.saver.save(store, &mut self.session)
    }

    /// A screen is shown (a question, or a field-list group): the audit's
    /// `question` / `group questions` events.
    pub fn show(&mut self, store: &mut Store, reference: &str) -> Result<(), FillError> {
        self.session.show(reference)?;
        self.saver.save(store, &mut self.session)
    }

    /// Gives the reason for editing a finalized or returned response
    /// (`track-changes-reasons=on-form-edit`), saved with the log.
    pub fn set_change_reason(&mut self, store: &mut Store, reason: &str) -> Result<(), FillError> {
        self.session.set_change_reason(reason)?;
        self.saver.save(store, &mut self.session)
    }

    /// Sets a field by name if the form has one at the top level, silently
    /// skipping forms without it.
    fn prefill_named(&mut self, name: &str, value: &str) {
        let root = self.session.form().root().name.clone();
        let _ = self.session.set(&format!("/{root}/{name}"), value);
    }
}

impl Saver {
    /// [`Fill::attach`] for a front end that holds the session itself (the
    /// terminal interview): the file at `src` copied in as the answer of a
    /// file question, under the name ODK Collect gives it, with `max-pixels`
    /// applied. On error the session and the store keep the earlier answer.
    pub fn attach(
        &mut self,
        store: &mut Store,
        session: &mut Session,
        reference: &str,
        src: &std::path::Path,
    ) -> Result<crate::store::AttachmentInfo, FillError> {
        if let Some(small) = scaled_photo(session, reference, || {
            // Photos only are read whole, and only up to a size a photo has.
            match std::fs::metadata(src) {
                Ok(m) if m.len() <= MAX_PHOTO_TO_SCALE => std::fs::read(src).ok(),
                _ => None,
            }
        })? {
            return self.attach_with(store, session, reference, src, |store, id, r, name| {
                store.attach_answer(id, r, name, &small)
            });
        }
        self.attach_with(store, session, reference, src, |store, id, r, name| {
            store.attach_answer_file(id, r, name, src)
        })
    }

    /// Like [`Saver::attach`], from bytes in memory (a signature drawn on
    /// screen); `file_name` gives the extension (`signature.png`).
    pub fn attach_bytes(
        &mut self,
        store: &mut Store,
        session: &mut Session,
        reference: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<crate::store::AttachmentInfo, FillError> {
        let small = scaled_photo(session, reference, || Some(bytes.to_vec()))?;
        let bytes = small.as_deref().unwrap_or(bytes);
        let src = std::path::Path::new(file_name);
        self.attach_with(store, session, reference, src, |store, id, r, name| {
            store.attach_answer(id, r, name, bytes)
        })
    }

    fn attach_with(
        &mut self,
        store: &mut Store,
        session: &mut Session,
        reference: &str,
        src: &std::path::Path,
        put: impl FnOnce(
            &mut Store,
            &str,
            &str,
            &str,
        ) -> Result<crate::store::AttachmentInfo, StoreError>,
    ) -> Result<crate::store::AttachmentInfo, FillError> {
        let node = session.resolve(reference)?;
        let canonical = session.reference(node);
        if !session.question_type(&canonical)?.is_some_and(|q| q.is_attachment()) {
            return Err(FillError::NotAFileQuestion { reference: canonical });
        }
        let taken: Vec<String> =
            store.attachments(&self.response.instance_id)?.into_iter().map(|a| a.name).collect();
        let name = odk_file_name(session.now().timestamp_millis(), src, &taken);
        let old = session.value_of(node).to_string();
        session.set_file_name(&canonical, &name)?;
        let id = self.response.instance_id.clone();
        match put(store, &id, &canonical, &name) {
            Ok(info) => {
                self.saved.insert(canonical, name);
                self.save(store, session)?;
                Ok(info)
            }
            Err(e) => {
                // Put the session back as the store still has it.
                let _ = session.set_file_name(&canonical, &old);
                Err(e.into())
            }
        }
    }

    pub fn instance_id(&self) -> &str {
        &self.response.instance_id
    }

    /// Commits every answer that differs from what the store holds, in one
    /// transaction, and removes the ones that were cleared.
    /// The audit events the session logged meanwhile go in the same
    /// transaction; on error they stay with the session for the next save.
    pub fn save(&mut self, store: &mut Store, session: &mut Session) -> Result<(), FillError> {
        let id = &self.response.instance_id;
        let now: BTreeMap<String, String> = session.answers().into_iter().collect();
        let changed: Vec<Answer> = now
            .iter()
            .filter(|(r, v)| self.saved.get(*r) != Some(*v))
            .map(|(r, v)| Answer { reference: r.clone(), value: v.clone() })
            .collect();
        let gone: Vec<String> =
            self.saved.keys().filter(|r| !now.contains_key(*r)).cloned().collect();
        let events = session.audit_events().to_vec();
        if !changed.is_empty() || !gone.is_empty() || !events.is_empty() {
            store.save_draft(id, &changed, &gone, &events)?;
            session.take_audit_events();
        }
        self.saved = now;
        Ok(())
    }

    /// After the session added repeat instance `instance` (`/data/m[3]`).
    pub fn repeat_added(
        &mut self,
        store: &mut Store,
        session: &mut Session,
        instance: &str,
    ) -> Result<(), FillError> {
        let node = session.resolve(instance)?;
        let repeat = instance.rfind('[').map_or(instance, |i| &instance[..i]);
        let count = session.repeat_count(node) as u32;
        store.set_repeat_count(&self.response.instance_id, repeat, count)?;
        self.save(store, session)
    }

    /// After the session removed repeat instance `instance`: the store
    /// renumbers the later instances as the session did.
    pub fn repeat_removed(
        &mut self,
        store: &mut Store,
        session: &mut Session,
        instance: &str,
    ) -> Result<(), FillError> {
        let id = &self.response.instance_id;
        store.remove_repeat_instance(id, instance)?;
        self.saved = store.answers(id)?.into_iter().map(|a| (a.reference, a.value)).collect();
        self.save(store, session)
    }

    /// Refuses to finalize while answers block it (logging the errors) or
    /// while the edit still needs its change reason.
    fn check_blockers(
        &mut self,
        store: &mut Store,
        session: &mut Session,
    ) -> Result<(), FillError> {
        let blockers = session.blockers();
        if !blockers.is_empty() {
            session.audit_blocked(&blockers);
            self.save(store, session)?;
            return Err(FillError::Blocked {
                instance_id: self.response.instance_id.clone(),
                blockers,
            });
        }
        if session.change_reason_needed() {
            self.save(store, session)?;
            return Err(FillError::ChangeReasonRequired {
                instance_id: self.response.instance_id.clone(),
            });
        }
        Ok(())
    }

    /// Hands a complete session (with `end` stamped) to the outbox. With an
    /// audit, the log is closed (end screen, save, finalize) and written as
    /// the response's `audit.csv`, answering the audit question, in one
    /// transaction; then it travels (and is sealed) like any attachment.
    pub fn finalize(
        &mut self,
        store: &mut Store,
        session: &mut Session,
    ) -> Result<OutboxEntry, FillError> {
        self.check_blockers(store, session)?;
        if let (Some(config), Some(reference)) =
            (session.audit_config().cloned(), session.audit_reference())
        {
            session.audit_finalize();
            self.save(store, session)?;
            let id = self.response.instance_id.clone();
            let events = store.audit_events(&id)?;
            let csv = crate::session::audit::to_csv(&config, &events);
            let name = crate::session::audit::FILE_NAME;
            store.attach_answer(&id, &reference, name, &csv)?;
            session.set_audit_file(name);
            self.saved.insert(reference, name.to_string());
        }
        self.save(store, session)?;
        let xml = session.submission_xml();
        let json = session.submission_json().to_string();
        let id = &self.response.instance_id;
        crate::bundle::seal::finalize_response(store, id, xml, json).map_err(|e| match e {
            crate::bundle::SealError::Store(e) => FillError::Store(e),
            other => FillError::Seal { instance_id: id.clone(), reason: other.to_string() },
        })
    }
}

/// An image question's `max-pixels` applied to a photo ([`crate::photo`]):
/// the scaled bytes, or None to keep the file as it is.
fn scaled_photo(
    session: &Session,
    reference: &str,
    bytes: impl FnOnce() -> Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, FillError> {
    let node = session.resolve(reference)?;
    let canonical = session.reference(node);
    if session.question_type(&canonical)? != Some(crate::instrument::QuestionType::Image) {
        return Ok(None);
    }
    let Some(max) = crate::photo::max_pixels(&session.parameters(&canonical)?) else {
        return Ok(None);
    };
    Ok(bytes().and_then(|b| crate::photo::downscale(&b, max)))
}

/// A captured file's name as ODK Collect gives it: the capture time in
/// milliseconds and the source's extension (lowercased). A name the
/// response already uses moves on a millisecond, as two captures in one
/// millisecond would.
pub fn odk_file_name(millis: i64, src: &std::path::Path, taken: &[String]) -> String {
    let ext = src
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    let mut t = millis;
    loop {
        let name = format!("{t}{ext}");
        if !taken.contains(&name) {
            return name;
        }
        t += 1;
    }
}

/// The form's own value for round `n`: a choice named after it where the
/// field is a select (`baseline`, `round2`, `round3`), the number otherwise.
fn round_value(session: &Session, n: i64) -> String {
    let root = session.form().root().name.clone();
    if let Ok(node) = session.resolve(&format!("/{root}/round")) {
        let options = session.options_of(node);
        if !options.is_empty() {
            let wanted = if n <= 1 { "baseline".to_string() } else { format!("round{n}") };
            if let Some(o) = options.iter().find(|o| o.value == wanted || o.value == n.to_string())
            {
                return o.value.clone();
            }
        }
    }
    n.to_string()
}

fn compile(
    instrument: crate::instrument::Instrument,
    form_id: &str,
) -> Result<Arc<Form>, FillError> {
    Form::compile(instrument)
        .map(Arc::new)
        .map_err(|e| FillError::Form { form_id: form_id.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::FixedEnv;
    use crate::store::test_support::{instrument, temp_store};

    fn env() -> Box<dyn Env + Send> {
        Box::new(FixedEnv::default())
    }

    fn ready() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = temp_store();
        store.init_device("tablet-1", Some("enum-7")).unwrap();
        let form = instrument("hh", "1", &["head", "members/mname", "note"]);
        store.install_instrument(&form).unwrap();
        (dir, store)
    }

    #[test]
    fn every_change_is_saved_and_a_draft_resumes_exactly() {
        let (_dir, mut store) = ready();
        let mut fill = Fill::start(&mut store, "hh", &Start::default(), env()).unwrap();
        let id = fill.instance_id().to_string();
        fill.set(&mut store, "/data/head", "Ana").unwrap();
        fill.set(&mut store, "/data/members[1]/mname", "Ana").unwrap();
        fill.add_repeat(&mut store, "/data/members").unwrap();
        fill.set(&mut store, "/data/members[2]/mname", "Bo").unwrap();
        fill.add_repeat(&mut store, "/data/members").unwrap();
        fill.set(&mut store, "/data/members[3]/mname", "Cy").unwrap();
        fill.remove_repeat(&mut store, "/data/members[2]").unwrap();
        let before = fill.session().submission_xml();
        drop(fill); // the app is killed: nothing but the store survives

        let resumed = Fill::resume(&store, &id, env()).unwrap();
        assert_eq!(resumed.session().submission_xml(), before);
        assert!(before.contains("<mname>Cy</mname>") && !before.contains("Bo"));
    }

    /// A form with a text question and an image question (`/data/photo`).
    fn photo_store() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = temp_store();
        store.init_device("tablet-1", None).unwrap();
        let mut form = instrument("ph", "1", &["name", "photo"]);
        if let crate::instrument::NodeKind::Question(q) = &mut form.children[1].kind {
            q.qtype = crate::instrument::QuestionType::Image;
        }
        store.install_instrument(&form).unwrap();
        (dir, store)
    }

    fn files_kept(store: &Store) -> usize {
        let dir = store.attachments_dir();
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name() != "tmp")
                    .map(|e| std::fs::read_dir(e.path()).map_or(0, |f| f.count()))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// `max-pixels` is applied in core, from a file and from bytes; a
    /// photo within the limit, and other files, are kept byte for byte.
    #[test]
    fn max_pixels_scales_a_large_photo_down_on_attach() {
        let (dir, mut store) = temp_store();
        store.init_device("tablet-1", None).unwrap();
        let mut form = instrument("ph", "1", &["name", "photo"]);
        form.children[1].parameters.insert("max-pixels".into(), "400".into());
        if let crate::instrument::NodeKind::Question(q) = &mut form.children[1].kind {
            q.qtype = crate::instrument::QuestionType::Image;
        }
        store.install_instrument(&form).unwrap();
        let photo = crate::photo::tests::jpeg;
        let (big, small) = (photo(1200, 900), photo(300, 200));
        let path = dir.path().join("site.jpg");
        std::fs::write(&path, &big).unwrap();
        let mut fill = Fill::start(&mut store, "ph", &Start::default(), env()).unwrap();
        let id = fill.instance_id().to_string();
        let a = fill.attach(&mut store, "/data/photo", &path).unwrap();
        let kept = store.read_attachment(&id, &a.name).unwrap();
        let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(&kept));
        decoder.decode_headers().unwrap();
        assert_eq!(decoder.dimensions(), Some((400, 300)));
        assert_eq!(kept, crate::photo::downscale(&big, 400).unwrap(), "the same bytes everywhere");
        let b = fill.attach_bytes(&mut store, "/data/photo", "s.jpg", &big).unwrap();
        assert_eq!(b.sha256, a.sha256, "bytes and file give the same photo");
        let c = fill.attach_bytes(&mut store, "/data/photo", "s.jpg", &small).unwrap();
        assert_eq!(store.read_attachment(&id, &c.name).unwrap(), small, "within the limit: kept");
    }

    #[test]
    fn attaching_answers_with_the_file_and_replacing_or_clearing_drops_it() {
        let (dir, mut store) = photo_store();
        let first = dir.path().join("Site A.JPG");
        let second = dir.path().join("site-b.jpg");
        std::fs::write(&first, b"\xff\xd8 first photo").unwrap();
        std::fs::write(&second, b"\xff\xd8 second photo").unwrap();
        let mut fill = Fill::start(&mut store, "ph", &Start::default(), env()).unwrap();
        let id = fill.instance_id().to_string();

        let a = fill.attach(&mut store, "/data/photo", &first).unwrap();
        let millis = FixedEnv::default().now().timestamp_millis();
        assert_eq!(a.name, format!("{millis}.jpg"), "named as ODK Collect names a capture");
        assert_eq!(store.answer(&id, "/data/photo").unwrap().as_deref(), Some(a.name.as_str()));
        assert_eq!(store.read_attachment(&id, &a.name).unwrap(), b"\xff\xd8 first photo");
        assert!(fill.session().submission_xml().contains(&format!("<photo>{}</photo>", a.name)));

        // Replacing: a new name (the same millisecond moves on one), the old
        // file gone from the response and from the disk.
        let b = fill.attach(&mut store, "/data/photo", &second).unwrap();
        assert_eq!(b.name, format!("{}.jpg", millis + 1));
        assert_eq!(store.attachments(&id).unwrap(), vec![b.clone()]);
        assert_eq!(files_kept(&store), 1);

        // A missing file is an error naming the path; nothing changes.
        let gone = dir.path().join("gone.jpg");
        let err = fill.attach(&mut store, "/data/photo", &gone).unwrap_err();
        assert!(err.to_string().contains("gone.jpg"), "{err}");
        assert_eq!(store.answer(&id, "/data/photo").unwrap().as_deref(), Some(b.name.as_str()));
        assert!(fill.session().submission_xml().contains(&b.name));

        // Only file questions take a file.
        let err = fill.attach(&mut store, "/data/name", &second).unwrap_err();
        assert!(matches!(err, FillError::NotAFileQuestion { .. }), "{err}");

        // Resuming keeps the answer; clearing it drops the file.
        let mut fill = Fill::resume(&store, &id, env()).unwrap();
        assert!(fill.session().submission_xml().contains(&b.name));
        fill.set(&mut store, "/data/photo", "").unwrap();
        assert!(store.attachments(&id).unwrap().is_empty());
        assert_eq!(files_kept(&store), 0);

        // A signature drawn on screen: bytes, named like a capture.
        let sig = fill.attach_bytes(&mut store, "/data/photo", "signature.png", b"png").unwrap();
        assert!(sig.name.ends_with(".png"), "{}", sig.name);
        assert_eq!(store.read_attachment(&id, &sig.name).unwrap(), b"png");

        // Attached again and finalized: the entry carries the file.
        let c = fill.attach(&mut store, "/data/photo", &first).unwrap();
        let entry = fill.finalize(&mut store).unwrap();
        assert!(entry.content.contains(&c.sha256));
    }

    #[test]
    fn odk_file_names_keep_a_plain_extension() {
        use std::path::Path;
        assert_eq!(odk_file_name(5, Path::new("a/b.M4A"), &[]), "5.m4a");
        assert_eq!(odk_file_name(5, Path::new("noext"), &[]), "5");
        assert_eq!(odk_file_name(5, Path::new("x.tar.g z"), &[]), "5");
        assert_eq!(
            odk_file_name(5, Path::new("p.png"), &["5.png".into(), "6.png".into()]),
            "7.png"
        );
    }

    #[test]
    fn finalize_is_refused_while_blocked_then_goes_to_the_outbox() {
        let (_dir, mut store) = temp_store();
        store.init_device("tablet-1", None).unwrap();
        let mut form = instrument("req", "1", &["name"]);
        form.children[0].bind.required = Some("true()".into());
        store.install_instrument(&form).unwrap();
        let mut fill = Fill::start(&mut store, "req", &Start::default(), env()).unwrap();
        let id = fill.instance_id().to_string();
        let err = Fill::resume(&store, &id, env()).unwrap().finalize(&mut store).unwrap_err();
        assert!(matches!(err, FillError::Blocked { .. }), "{err}");
        fill.set(&mut store, "/data/name", "Ana").unwrap();
        let entry = fill.finalize(&mut store).unwrap();
        assert_eq!(entry.seq, 1);
        let sub = store.submission(&id).unwrap();
        assert!(format!("{sub:?}").contains("<name>Ana</name>"));
        let again = Fill::resume(&store, &id, env()).unwrap();
        let mut again_store = store;
        assert!(again.finalize(&mut again_store).is_err(), "a finalized response is frozen");
    }

    /// A form with two text questions and an audit with track-changes and
    /// reasons on edits.
    fn audit_store() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = temp_store();
        store.init_device("tablet-1", Some("enum-7")).unwrap();
        let mut form = instrument("au", "1", &["name", "age", "audit"]);
        form.children[2].parameters =
            [("track-changes", "true"), ("track-changes-reasons", "on-form-edit")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        if let crate::instrument::NodeKind::Question(q) = &mut form.children[2].kind {
            q.qtype = crate::instrument::QuestionType::Audit;
        }
        store.install_instrument(&form).unwrap();
        (dir, store)
    }

    #[test]
    fn the_audit_log_is_saved_with_the_answers_and_finalized_as_audit_csv() {
        let (_dir, mut store) = audit_store();
        let fixed = FixedEnv::default();
        let t0 = fixed.now().timestamp_millis();
        let mut fill = Fill::start(&mut store, "au", &Start::default(), env()).unwrap();
        let id = fill.instance_id().to_string();
        assert_eq!(store.audit_events(&id).unwrap().len(), 1, "form start, saved at once");
        fill.set(&mut store, "/data/name", "Ana").unwrap();
        fill.parts().0.advance_clock(4000);
        fill.set(&mut store, "/data/age", "13").unwrap();
        fill.parts().0.advance_clock(1000);
        fill.exit(&mut store).unwrap();
        // The app is killed: the log so far is in the store.
        let logged: Vec<String> =
            store.audit_events(&id).unwrap().into_iter().map(|e| e.event).collect();
        assert_eq!(logged, ["form start", "question", "question", "form exit"]);
        let fill = Fill::resume(&store, &id, env()).unwrap();
        let entry = fill.finalize(&mut store).unwrap();
        let audit = store.attachments(&id).unwrap();
        assert_eq!(audit.len(), 1);
        assert!(entry.content.contains(&audit[0].sha256));
        let csv = String::from_utf8(store.read_attachment(&id, "audit.csv").unwrap()).unwrap();
        // The resumed clock starts again at t0: the injected clock is per sitting.
        assert_eq!(
            csv,
            format!(
                "event,node,start,end,old-value,new-value,change-reason\n\
                 form start,,{t0},,,,\n\
                 question,/data/name,{t0},{},,Ana,\n\
                 question,/data/age,{},{},,13,\n\
                 form exit,,{},,,,\n\
                 form resume,,{t0},,,,\n\
                 end screen,,{t0},{t0},,,\n\
                 form save,,{t0},,,,\n\
                 form finalize,,{t0},,,,\n",
                t0 + 4000,
                t0 + 4000,
                t0 + 5000,
                t0 + 5000
            )
        );
        let sub = format!("{:?}", store.submission(&id).unwrap());
        assert!(sub.contains("<audit>audit.csv</audit>"), "{sub}");

        // An edit of the finalized response needs its reason.
        let edit = store.edit(&id).unwrap();
        let mut fill = Fill::resume(&store, &edit.instance_id, env()).unwrap();
        fill.set(&mut store, "/data/age", "31").unwrap();
        fill.exit(&mut store).unwrap();
        let err = Fill::resume(&store, &edit.instance_id, env()).unwrap().finalize(&mut store);
        assert!(matches!(err, Err(FillError::ChangeReasonRequired { .. })), "{err:?}");
        fill.set_change_reason(&mut store, "age misheard").unwrap();
        // Given in an earlier sitting, the reason still counts.
        let entry = Fill::resume(&store, &edit.instance_id, env()).unwrap().finalize(&mut store);
        assert!(entry.is_ok(), "{entry:?}");
        let csv = String::from_utf8(store.read_attachment(&edit.instance_id, "audit.csv").unwrap())
            .unwrap();
        assert!(csv.contains("question,/data/age,") && csv.contains(",13,31,"), "{csv}");
        assert!(csv.contains("change reason,,") && csv.contains(",age misheard\n"), "{csv}");
    }
}
