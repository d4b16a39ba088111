//! ODK's `background-audio`: a form may ask the app to record the whole
//! interview. Core says whether it asks, at which quality and into which
//! question; the app records (microphones are the platform's business) and
//! hands the file to the ordinary attach path ([`crate::fill::Fill::attach`])
//! at that question, so the recording is kept, sealed, sent and exported
//! like any other attachment.

use crate::instrument::QuestionType;
use crate::session::form::{Form, TplKind};

/// ODK Collect's default when the form names no `quality`.
pub const DEFAULT_QUALITY: &str = "voice-only";

/// The qualities ODK defines for `background-audio` (XLSForm's
/// `parameters` column, `quality=…`).
pub const QUALITIES: [&str; 4] = ["voice-only", "low", "normal", "high"];

/// What the form asks the app to record for the whole interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRequest {
    /// The `background-audio` question the recording answers (`/data/background_audio`).
    pub reference: String,
    /// `voice-only`, `low`, `normal` or `high`: as the form says, else
    /// [`DEFAULT_QUALITY`]. A value outside [`QUALITIES`] is passed on as
    /// written for the app to map; ODK Collect treats it as its default.
    pub quality: String,
}

/// The form's background recording, if it has a `background-audio`
/// question (ODK allows one; the first in document order is taken).
pub fn background_audio(form: &Form) -> Option<RecordingRequest> {
    form.templates
        .iter()
        .find(|t| matches!(t.kind, TplKind::Leaf(QuestionType::BackgroundAudio)))
        .map(|t| RecordingRequest {
            reference: t.path.clone(),
            quality: t
                .node
                .as_ref()
                .and_then(|n| n.parameters.get("quality"))
                .map(|q| q.trim().to_string())
                .filter(|q| !q.is_empty())
                .unwrap_or_else(|| DEFAULT_QUALITY.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::FixedEnv;
    use crate::fill::{Fill, Start};
    use crate::instrument::{NodeKind, QuestionType};
    use crate::store::test_support::{instrument, temp_store};

    fn form_with(quality: Option<&str>) -> crate::instrument::Instrument {
        let mut form = instrument("kii", "1", &["name", "recording"]);
        if let NodeKind::Question(q) = &mut form.children[1].kind {
            q.qtype = QuestionType::BackgroundAudio;
        }
        if let Some(q) = quality {
            form.children[1].parameters.insert("quality".into(), q.into());
        }
        form
    }

    #[test]
    fn a_form_with_background_audio_asks_for_a_recording_stored_as_its_answer() {
        let (_dir, mut store) = temp_store();
        store.init_device("tablet-1", None).unwrap();
        store.install_instrument(&form_with(Some("low"))).unwrap();
        let mut fill =
            Fill::start(&mut store, "kii", &Start::default(), Box::new(FixedEnv::default()))
                .unwrap();
        let asked = fill.background_audio().expect("the form asks for a recording");
        assert_eq!(
            asked,
            RecordingRequest { reference: "/data/recording".into(), quality: "low".into() }
        );
        // The app's recording goes through the attach path like any file.
        let wav = b"RIFF\x24\x00\x00\x00WAVEfmt the whole interview".to_vec();
        let id = fill.instance_id().to_string();
        let info = fill.attach_bytes(&mut store, &asked.reference, "interview.m4a", &wav).unwrap();
        assert!(info.name.ends_with(".m4a"), "{}", info.name);
        assert_eq!(store.answer(&id, &asked.reference).unwrap().as_deref(), Some(&*info.name));
        assert_eq!(store.read_attachment(&id, &info.name).unwrap(), wav);
        assert!(
            fill.session()
                .submission_xml()
                .contains(&format!("<recording>{}</recording>", info.name))
        );
        // Kept across the app being killed, like any answer.
        drop(fill);
        let mut resumed = Fill::resume(&store, &id, Box::new(FixedEnv::default())).unwrap();
        let xml = resumed.session().submission_xml();
        assert!(xml.contains(&format!("<recording>{}</recording>", info.name)), "{xml}");
        // A person cannot type into it: only the attach path names a file.
        assert!(resumed.set(&mut store, "/data/recording", "typed.m4a").is_err());
    }

    #[test]
    fn no_quality_means_odks_default_and_no_question_means_no_request() {
        let (_dir, mut store) = temp_store();
        store.init_device("tablet-1", None).unwrap();
        store.install_instrument(&form_with(None)).unwrap();
        store.install_instrument(&instrument("plain", "1", &["name"])).unwrap();
        let env = || Box::new(FixedEnv::default());
        let fill = Fill::start(&mut store, "kii", &Start::default(), env()).unwrap();
        assert_eq!(fill.background_audio().unwrap().quality, DEFAULT_QUALITY);
        let plain = Fill::start(&mut store, "plain", &Start::default(), env()).unwrap();
        assert_eq!(plain.background_audio(), None);
    }

    #[test]
    fn the_quality_is_written_into_the_xform_as_odk_reads_it() {
        let xml = form_with(Some("high")).to_xform().unwrap();
        assert!(xml.contains("odk:quality=\"high\""), "{xml}");
    }
}
