//! One response as the export's JSON Lines file writes it (the data API's
//! `GET /v1/data/submissions/{id}`, issue 19): the same document, built by
//! the same code, so a researcher reads the same answers either way.

use std::collections::HashMap;

use super::ExportSource;
use super::payload::{exported_participant, submission_xml};
use super::pipeline::json_document;
use super::record::{ParticipantSwap, ValueStyle, document, numbers_in};
use super::{ExportError, Filter, Layout, Order, StoredResponse, resolve_lang, schemas};

/// A response's export document, or why it has no answers to show.
#[derive(Debug, Clone)]
pub enum Document {
    /// The JSON Lines document (`KEY`, metadata, `data`).
    Answers(serde_json::Value),
    /// Not readable here: sealed without the researcher's identity, its
    /// payload not matching its signed entry, or no published instrument.
    /// The reason is what the export's `report.csv` says.
    NotExported { reason: String },
}

/// Finds a current response by instance id (None: no such current response).
pub fn find<S: ExportSource>(
    source: &S,
    instance_id: &str,
) -> Result<Option<StoredResponse>, ExportError> {
    let mut found = None;
    source.responses(&Filter::default(), Order::Form, &mut |r: StoredResponse| {
        if found.is_none() && r.instance_id == instance_id {
            found = Some(r);
        }
        Ok(())
    })?;
    Ok(found)
}

/// The export document of `r`: personal data left out and the participant
/// pseudonymized, as `central export` does by default; choice names, the
/// form's default language.
pub fn of<S: ExportSource>(source: &S, r: StoredResponse) -> Result<Document, ExportError> {
    let filter = Filter { form: Some(r.form_id.clone()), ..Filter::default() };
    let forms = schemas(source.instruments(&filter)?, false, Layout::Enumera);
    let Some(schema) = forms.into_iter().find(|s| s.versions.contains(&r.form_version)) else {
        let reason = format!(
            "no published instrument for form {:?} version {:?}",
            r.form_id, r.form_version
        );
        return Ok(Document::NotExported { reason });
    };
    let mut reason = String::new();
    let xml = submission_xml(source, &r, None, &mut |_, _, detail| {
        reason = detail.to_string();
        Ok(())
    })?
    .map(|x| x.into_owned());
    let Some(xml) = xml else {
        return Ok(Document::NotExported { reason });
    };
    let secret = source.pseudonym_secret()?;
    let participant = exported_participant(&r, Some(&secret));
    let lang = resolve_lang(None, &schema);
    let style = ValueStyle::new(false, lang.as_deref());
    let swap =
        r.participant_id.as_deref().map(|raw| ParticipantSwap { raw, exported: &participant });
    let mut infer = HashMap::new();
    match document(&schema, &xml, style, swap, &mut infer) {
        Ok(mut data) => {
            // A calculate typed by its values: this response's own values
            // decide, as the whole file's do in the export.
            numbers_in(&schema.root, 0, &mut data, &|t, c| infer.get(&(t, c)) == Some(&true));
            Ok(Document::Answers(json_document(&r, &participant, &schema, data)))
        }
        Err(e) => Ok(Document::NotExported { reason: e.to_string() }),
    }
}
