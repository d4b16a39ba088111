//! One response being filled: the web app's interview screen. Every change
//! is committed to the device store (SQLite in the Origin Private File
//! System, `synchronous=FULL`) before the call returns, so the app shows an
//! answer as saved only once it is on disk, and a reload, a closed tab or a
//! crash resumes the draft exactly (`DeviceStore.resumeInterview`).

use enumera_core::expr::SystemEnv;
use enumera_core::fill::{Fill, Start};
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::store::Shared;
use crate::types::{HierarchyEntry, OutboxItem, Progress, Screen, ValidationIssue, to_js};
use crate::view::{self, Place};

/// A form session on this device.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Interview {
    pub(crate) store: Shared,
    instance_id: String,
    form_id: String,
    /// The form version's hash: what its form media are read by.
    form_hash: String,
    /// `None` once finalized: the response is frozen.
    fill: Option<Fill>,
}

/// The real clock, in the browser's time zone (ODK's `now()` and `today()`
/// are local).
pub(crate) fn browser_env() -> Box<SystemEnv> {
    let offset_minutes = -js_offset_minutes();
    Box::new(SystemEnv { offset_seconds: offset_minutes * 60, language: None })
}

#[cfg(target_family = "wasm")]
fn js_offset_minutes() -> i32 {
    js_sys::Date::new_0().get_timezone_offset() as i32
}

#[cfg(not(target_family = "wasm"))]
fn js_offset_minutes() -> i32 {
    0
}

impl Interview {
    pub(crate) fn start(store: Shared, form_id: &str, start: &Start) -> Result<Interview> {
        let fill = {
            let mut s = lock(&store)?;
            Fill::start(&mut s, form_id, start, browser_env())?
        };
        Ok(Interview::new(store, fill))
    }

    /// Only a draft resumes; a finalized, sent or discarded response is
    /// refused with `NotEditable` (its state), never opened for answers.
    pub(crate) fn resume(store: Shared, instance_id: &str) -> Result<Interview> {
        let fill = {
            let s = lock(&store)?;
            let state = s.response(instance_id)?.state;
            if state != enumera_core::store::ResponseState::Draft {
                return Err(EnumeraError::NotEditable {
                    instance_id: instance_id.to_string(),
                    state: state.as_str().to_string(),
                });
            }
            Fill::resume(&s, instance_id, browser_env())?
        };
        Ok(Interview::new(store, fill))
    }

    fn new(store: Shared, fill: Fill) -> Interview {
        Interview {
            store,
            instance_id: fill.instance_id().to_string(),
            form_id: fill.response().instrument.form_id.clone(),
            form_hash: fill.response().instrument.hash.clone(),
            fill: Some(fill),
        }
    }

    pub(crate) fn live(&mut self) -> Result<&mut Fill> {
        let id = self.instance_id.clone();
        self.fill
            .as_mut()
            .ok_or(EnumeraError::NotEditable { instance_id: id, state: "finalized".into() })
    }

    pub(crate) fn read(&self) -> Result<&Fill> {
        self.fill.as_ref().ok_or_else(|| EnumeraError::NotEditable {
            instance_id: self.instance_id.clone(),
            state: "finalized".into(),
        })
    }
}

pub(crate) fn lock(store: &Shared) -> Result<std::cell::RefMut<'_, enumera_core::store::Store>> {
    store.try_borrow_mut().map_err(|_| EnumeraError::Internal {
        reason: "the device store is busy with another call".into(),
    })
}

#[wasm_bindgen]
impl Interview {
    /// `uuid:...`, the response's ODK instance id.
    #[wasm_bindgen(getter, js_name = instanceId)]
    pub fn instance_id(&self) -> String {
        self.instance_id.clone()
    }

    #[wasm_bindgen(getter, js_name = formId)]
    pub fn form_id(&self) -> String {
        self.form_id.clone()
    }

    /// The hash of the form version this response fills: its label media
    /// are read with `DeviceStore.formMedia(formHash, name)`.
    #[wasm_bindgen(getter, js_name = formHash)]
    pub fn form_hash(&self) -> String {
        self.form_hash.clone()
    }

    /// Answers a question (ODK's string form: `"a b"` for a select_multiple)
    /// and commits it. Returns the question as it now stands.
    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn answer(&mut self, reference: String, value: String) -> Result<JsValue> {
        let store = self.store.clone();
        let fill = self.live()?;
        fill.set(&mut *lock(&store)?, &reference, &value)?;
        to_js(&view::question_at(fill.session(), &reference)?)
    }

    /// Gives an answer to the session without committing it yet: the
    /// screen can show what follows from it (relevance, calculations) at
    /// once, while [`Interview::save`] writes it. Until `save` returns, the
    /// answer is not saved and the app must not say it is. A value of the
    /// wrong type or not among the choices is refused here, unchanged.
    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn set(&mut self, reference: String, value: String) -> Result<JsValue> {
        let fill = self.live()?;
        let (session, _) = fill.parts();
        session.set(&reference, &value)?;
        to_js(&view::question_at(session, &reference)?)
    }

    /// Commits every change given with [`Interview::set`] since the last
    /// save, in one transaction.
    pub fn save(&mut self) -> Result<()> {
        let store = self.store.clone();
        Ok(self.live()?.save(&mut *lock(&store)?)?)
    }

    /// Clears an answer and commits it.
    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn clear(&mut self, reference: String) -> Result<JsValue> {
        self.answer(reference, String::new())
    }

    /// Adds an instance at the end of a repeat (`/data/members`) and returns
    /// its reference (`/data/members[3]`).
    #[wasm_bindgen(js_name = addRepeat)]
    pub fn add_repeat(&mut self, reference: String) -> Result<String> {
        let store = self.store.clone();
        let fill = self.live()?;
        let (session, saver) = fill.parts();
        let node = session.add_repeat(&reference)?;
        let instance = session.reference(node);
        saver.repeat_added(&mut *lock(&store)?, session, &instance)?;
        Ok(instance)
    }

    /// Removes one repeat instance (`/data/members[2]`); later ones move up.
    #[wasm_bindgen(js_name = removeRepeat)]
    pub fn remove_repeat(&mut self, reference: String) -> Result<()> {
        let store = self.store.clone();
        let fill = self.live()?;
        Ok(fill.remove_repeat(&mut *lock(&store)?, &reference)?)
    }

    /// The form's languages, as written in the form (`Portuguese (pt)`).
    pub fn languages(&self) -> Result<Vec<String>> {
        Ok(self.read()?.session().form().instrument.languages.clone())
    }

    pub fn language(&self) -> Result<Option<String>> {
        Ok(self.read()?.session().language().map(str::to_string))
    }

    /// Switches labels, hints and messages to `language` (`Portuguese (pt)`,
    /// `Portuguese` or `pt`).
    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(&mut self, language: String) -> Result<()> {
        Ok(self.live()?.set_language(&language)?)
    }

    /// One question by reference.
    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn question(&self, reference: String) -> Result<JsValue> {
        to_js(&view::question_at(self.read()?.session(), &reference)?)
    }

    /// The screens of the interview in order, given the answers so far.
    #[wasm_bindgen(unchecked_return_type = "Screen[]")]
    pub fn screens(&self) -> Result<JsValue> {
        let s = self.read()?.session();
        let screens: Vec<Screen> = s.screens().iter().map(|x| view::screen_of(s, x)).collect();
        to_js(&screens)
    }

    /// One screen and its surroundings: the screen named `anchor` (from an
    /// earlier view) moved by `offset`, or the first one showing `target`
    /// (a question or group, for jumping). `fallback` is the index to show
    /// when the anchor is no longer shown.
    #[wasm_bindgen(unchecked_return_type = "ScreenView")]
    pub fn view(
        &self,
        anchor: Option<String>,
        offset: i32,
        target: Option<String>,
        fallback: u32,
    ) -> Result<JsValue> {
        let place = Place { anchor, offset, target };
        to_js(&view::view(self.read()?.session(), &place, fallback)?)
    }

    /// Questions shown now that can be answered, and how many are.
    #[wasm_bindgen(unchecked_return_type = "Progress")]
    pub fn progress(&self) -> Result<JsValue> {
        let s = self.read()?.session();
        let p = s.progress(&s.screens());
        to_js(&Progress { answered: p.answered as u64, asked: p.asked as u64 })
    }

    /// What stands between the response and finalizing.
    #[wasm_bindgen(unchecked_return_type = "ValidationIssue[]")]
    pub fn blockers(&self) -> Result<JsValue> {
        let list: Vec<ValidationIssue> =
            self.read()?.session().blockers().into_iter().map(Into::into).collect();
        to_js(&list)
    }

    /// The response as a tree, for jumping to a question.
    #[wasm_bindgen(unchecked_return_type = "HierarchyEntry[]")]
    pub fn hierarchy(&self) -> Result<JsValue> {
        let list: Vec<HierarchyEntry> =
            self.read()?.session().hierarchy().into_iter().map(Into::into).collect();
        to_js(&list)
    }

    /// The submission as ODK would send it (for a review screen).
    #[wasm_bindgen(js_name = submissionXml)]
    pub fn submission_xml(&self) -> Result<String> {
        Ok(self.read()?.session().submission_xml())
    }

    /// Finalizes: refused with `Blocked` (listing every issue) while a
    /// required question is empty or a constraint broken; otherwise the
    /// response is frozen, sealed where the form names a researcher key,
    /// signed into the outbox, in one transaction.
    #[wasm_bindgen(unchecked_return_type = "OutboxItem")]
    pub fn finalize(&mut self) -> Result<JsValue> {
        let store = self.store.clone();
        let instance_id = self.instance_id.clone();
        let fill = self.live()?;
        let (session, saver) = fill.parts();
        let blockers = session.blockers();
        if !blockers.is_empty() {
            return Err(EnumeraError::Blocked {
                instance_id,
                issues: blockers.into_iter().map(Into::into).collect(),
            });
        }
        session.mark_end();
        let entry = saver.finalize(&mut *lock(&store)?, session)?;
        self.fill = None;
        to_js(&OutboxItem::from(entry))
    }

    /// Whether `finalize` succeeded (the interview is then read-only).
    #[wasm_bindgen(js_name = isFinalized)]
    pub fn is_finalized(&self) -> bool {
        self.fill.is_none()
    }
}
