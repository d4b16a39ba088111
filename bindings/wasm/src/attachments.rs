//! Files in the web app (issue 18): photos, recordings and files answer
//! their questions through core's attach path, as on a tablet: the answer
//! is the file name ODK gives, `max-pixels` scales photos down in core (so
//! the browser keeps the bytes a tablet would), the per-file and
//! per-response limits refuse oversized files with a typed error, and
//! replacing or clearing an answer drops the file no answer names. Also
//! the form's `background-audio` request. Same surface as enumera-ffi's
//! `attachBytes` / `backgroundAudio` (`bindings/src/interview.rs`).

use enumera_core::store::AttachmentLimits;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::interview::{Interview, lock};
use crate::store::DeviceStore;
use crate::types::to_js;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface AttachedFile { name: string; sha256: string; size: number }
export interface RecordingRequest { reference: string; quality: string }
export interface AttachmentLimits { maxFile: number; maxResponse: number }
"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRequest {
    pub reference: String,
    pub quality: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub max_file: u64,
    pub max_response: u64,
}

#[wasm_bindgen]
impl Interview {
    /// Answers an image, audio, video or file question (signatures and
    /// drawings are images) with `bytes`; `fileName` gives the extension.
    /// The file and the answer are committed together; the file the
    /// question held before goes once no answer names it. Too large a
    /// file is refused with `InvalidAnswer` at the question, naming size
    /// and limit, and nothing is kept.
    #[wasm_bindgen(unchecked_return_type = "AttachedFile")]
    pub fn attach(
        &mut self,
        reference: String,
        file_name: String,
        bytes: Vec<u8>,
    ) -> Result<JsValue> {
        let store = self.store.clone();
        let fill = self.live()?;
        let a = fill.attach_bytes(&mut *lock(&store)?, &reference, &file_name, &bytes)?;
        to_js(&AttachedFile { name: a.name, sha256: a.sha256, size: a.size })
    }

    /// The whole-interview recording the form asks for (`background-audio`),
    /// or `null`. The app records at `quality` and hands the recording to
    /// `attach` at `reference`.
    #[wasm_bindgen(js_name = backgroundAudio, unchecked_return_type = "RecordingRequest | null")]
    pub fn background_audio(&self) -> Result<JsValue> {
        let request = self
            .read()?
            .background_audio()
            .map(|r| RecordingRequest { reference: r.reference, quality: r.quality });
        to_js(&request)
    }
}

#[wasm_bindgen]
impl DeviceStore {
    /// How large attachments may be (core's defaults until set: 512 MiB a
    /// file, 1 GiB a response).
    #[wasm_bindgen(js_name = attachmentLimits, unchecked_return_type = "AttachmentLimits")]
    pub fn attachment_limits(&self) -> Result<JsValue> {
        let l = self.lock()?.attachment_limits();
        to_js(&Limits { max_file: l.max_file, max_response: l.max_response })
    }

    /// Sets how large attachments may be on this device, in bytes (whole,
    /// positive numbers; anything else is refused with `InvalidAnswer`).
    #[wasm_bindgen(js_name = setAttachmentLimits)]
    pub fn set_attachment_limits(&self, max_file: f64, max_response: f64) -> Result<()> {
        let bytes = |v: f64, what: &str| {
            if v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= u64::MAX as f64 {
                Ok(v as u64)
            } else {
                Err(EnumeraError::InvalidAnswer {
                    reference: what.into(),
                    reason: format!("{v} is not a size in bytes"),
                })
            }
        };
        let limits = AttachmentLimits {
            max_file: bytes(max_file, "maxFile")?,
            max_response: bytes(max_response, "maxResponse")?,
        };
        self.lock()?.set_attachment_limits(limits);
        Ok(())
    }
}
