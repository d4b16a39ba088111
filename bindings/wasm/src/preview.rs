//! The researcher's preview: a form dropped on the page, filled at once with
//! the engine the tablets run, nothing kept. Besides what an interview
//! shows, it gives every leaf's state (relevant, required, value,
//! constraint) and the submission XML, for the side panel.

use std::sync::Arc;

use enumera_core::session::{Form, Session, SessionOptions};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::types::{Diagnostic, HierarchyEntry, ValidationIssue, to_js};
use crate::view::{self, Place};

/// What a form file holds and every problem in it, each with its sheet and
/// cell: what the preview shows before (or instead of) filling it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormCheck {
    pub file_name: String,
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub languages: Vec<String>,
    /// Errors and warnings, sorted by sheet, row and column.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the form can be filled (no errors).
    pub ok: bool,
}

/// Reads a form file (`.xlsx` or instrument `.json`) and lists every
/// problem. A file that is no form at all is refused with `InvalidForm`.
#[wasm_bindgen(js_name = checkForm, unchecked_return_type = "FormCheck")]
pub fn check_form(bytes: Vec<u8>, file_name: String) -> Result<JsValue> {
    to_js(&check(&bytes, &file_name)?)
}

pub(crate) fn check(bytes: &[u8], file_name: &str) -> Result<FormCheck> {
    let imported = crate::forms::read(bytes, file_name)?;
    let i = &imported.instrument;
    Ok(FormCheck {
        file_name: file_name.to_string(),
        form_id: i.form_id.clone(),
        version: i.version.clone(),
        title: i.title.clone(),
        languages: i.languages.clone(),
        diagnostics: imported.diagnostics.iter().map(Diagnostic::from).collect(),
        ok: !imported.has_errors(),
    })
}

#[wasm_bindgen(typescript_custom_section)]
const TS_FORM_CHECK: &str = r#"
export interface FormCheck {
  fileName: string; formId: string; version: string; title: string; languages: string[];
  diagnostics: Diagnostic[]; ok: boolean;
}
"#;

/// Compiles a form file for filling, refusing one with errors.
pub(crate) fn compile(bytes: &[u8], file_name: &str) -> Result<Arc<Form>> {
    let imported = crate::forms::read(bytes, file_name)?;
    if let Some(problems) = crate::forms::errors(&imported, file_name) {
        return Err(EnumeraError::InvalidForm { problems });
    }
    Form::compile(imported.instrument)
        .map(Arc::new)
        .map_err(|e| EnumeraError::InvalidForm { problems: vec![format!("{file_name}: {e}")] })
}

/// A form being tried, nothing saved.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Preview {
    session: Session,
}

#[wasm_bindgen]
impl Preview {
    /// Opens a form file for filling, on the real clock in the browser's
    /// time zone. Refused with `InvalidForm` (every error, with its cell)
    /// when the form has errors.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>, file_name: String) -> Result<Preview> {
        let form = compile(&bytes, &file_name)?;
        let session =
            Session::with_env(form, SessionOptions::default(), crate::interview::browser_env());
        Ok(Preview { session })
    }

    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn answer(&mut self, reference: String, value: String) -> Result<JsValue> {
        self.session.set(&reference, &value)?;
        to_js(&view::question_at(&self.session, &reference)?)
    }

    /// As `answer`: the preview keeps nothing, so there is nothing to save.
    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn set(&mut self, reference: String, value: String) -> Result<JsValue> {
        self.answer(reference, value)
    }

    #[wasm_bindgen(unchecked_return_type = "Question")]
    pub fn clear(&mut self, reference: String) -> Result<JsValue> {
        self.answer(reference, String::new())
    }

    #[wasm_bindgen(js_name = addRepeat)]
    pub fn add_repeat(&mut self, reference: String) -> Result<String> {
        let node = self.session.add_repeat(&reference)?;
        Ok(self.session.reference(node))
    }

    #[wasm_bindgen(js_name = removeRepeat)]
    pub fn remove_repeat(&mut self, reference: String) -> Result<()> {
        Ok(self.session.remove_repeat(&reference)?)
    }

    pub fn languages(&self) -> Vec<String> {
        self.session.form().instrument.languages.clone()
    }

    pub fn language(&self) -> Option<String> {
        self.session.language().map(str::to_string)
    }

    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(&mut self, language: String) -> Result<()> {
        Ok(self.session.set_language(&language)?)
    }

    /// As `Interview.view`.
    #[wasm_bindgen(unchecked_return_type = "ScreenView")]
    pub fn view(
        &self,
        anchor: Option<String>,
        offset: i32,
        target: Option<String>,
        fallback: u32,
    ) -> Result<JsValue> {
        let place = Place { anchor, offset, target };
        to_js(&view::view(&self.session, &place, fallback)?)
    }

    /// Every leaf (questions, calculations, metadata) as ODK's engine
    /// reports it: relevant, required, readonly, value, validity.
    #[wasm_bindgen(unchecked_return_type = "LeafState[]")]
    pub fn leaves(&self) -> Result<JsValue> {
        to_js(&self.session.leaves())
    }

    #[wasm_bindgen(unchecked_return_type = "ValidationIssue[]")]
    pub fn blockers(&self) -> Result<JsValue> {
        let list: Vec<ValidationIssue> =
            self.session.blockers().into_iter().map(Into::into).collect();
        to_js(&list)
    }

    #[wasm_bindgen(unchecked_return_type = "HierarchyEntry[]")]
    pub fn hierarchy(&self) -> Result<JsValue> {
        let list: Vec<HierarchyEntry> =
            self.session.hierarchy().into_iter().map(Into::into).collect();
        to_js(&list)
    }

    #[wasm_bindgen(js_name = submissionXml)]
    pub fn submission_xml(&self) -> String {
        self.session.submission_xml()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_with_errors_lists_each_with_its_cell() {
        let json = serde_json::json!({
            "model_version": enumera_core::instrument::model::MODEL_VERSION,
            "form_id": "f", "version": "1", "title": "F", "root_name": "data",
            "settings": {}, "children": [
                {"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 2,
                 "bind": {"relevant": "${nope} = 1"}}
            ],
        });
        let bytes = json.to_string().into_bytes();
        let c = check(&bytes, "f.json").expect("readable");
        assert!(!c.ok);
        assert!(c.diagnostics.iter().any(|d| d.message.contains("nope")), "{:?}", c.diagnostics);
        match compile(&bytes, "f.json") {
            Err(EnumeraError::InvalidForm { problems }) => {
                assert!(problems[0].starts_with("f.json: survey"), "{problems:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
