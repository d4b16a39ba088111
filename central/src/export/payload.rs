//! A response's submission as export reads it: checked against the signed
//! outbox entry it came in (a changed database row is tampering), opened
//! when sealed; and the participant as exported (a pseudonym unless
//! personal data is asked for).

use enumera_core::bundle::{ResearcherIdentity, SealError, open_sealed};
use enumera_core::store::EntryContent;
use sha2::{Digest, Sha256};

use super::report::ReportKind;
use super::{ExportError, StoredResponse, pseudonym};

pub(crate) fn exported_participant(r: &StoredResponse, secret: Option<&[u8; 32]>) -> String {
    match (r.participant_id.as_deref(), secret) {
        (None, _) => String::new(),
        (Some(p), Some(s)) => pseudonym(s, p),
        (Some(p), None) => p.to_string(),
    }
}

/// Whether `bytes` hash to the SHA-256 written in hex as `expected`
/// (compared as bytes: formatting hex for every response costs more than
/// the hash).
fn sha256_is(bytes: &[u8], expected: Option<&str>) -> bool {
    let Some(want) = expected.and_then(enumera_core::bundle::unhex::<32>) else {
        return false;
    };
    Sha256::digest(bytes).as_slice() == want
}

/// The submission XML of a response: checked against the hashes of the
/// outbox entry it came in (a changed database row is tampering), opened
/// when sealed. None when it cannot be exported (then it is in the report).
pub(crate) fn submission_xml<'r>(
    r: &'r StoredResponse,
    identity: Option<&ResearcherIdentity>,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<std::borrow::Cow<'r, str>>, ExportError> {
    Ok(submission(r, identity, note)?.map(|(xml, _)| xml))
}

/// A sealed response's attachments, opened with it.
pub(crate) type Opened = Vec<(enumera_core::store::AttachmentInfo, Vec<u8>)>;

/// Like [`submission_xml`], with a sealed response's attachments (the
/// audit log among them) as opened; a plain response's are at central,
/// named by its entry.
pub(crate) fn submission<'r>(
    r: &'r StoredResponse,
    identity: Option<&ResearcherIdentity>,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<(std::borrow::Cow<'r, str>, Opened)>, ExportError> {
    let entry: Option<EntryContent> =
        r.entry_content.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let Some(entry) = entry else {
        note(ReportKind::Tampered, r, "no readable outbox entry for this response")?;
        return Ok(None);
    };
    let same_header = entry.instance_id == r.instance_id
        && entry.form_id == r.form_id
        && entry.form_version == r.form_version
        && entry.participant_id == r.participant_id
        && entry.round == r.round;
    if !same_header {
        note(
            ReportKind::Tampered,
            r,
            "the response's header differs from its signed outbox entry",
        )?;
        return Ok(None);
    }
    match (&r.xml, &r.sealed) {
        (Some(xml), None) => {
            if !sha256_is(xml.as_bytes(), entry.xml_sha256.as_deref()) {
                note(
                    ReportKind::Tampered,
                    r,
                    "the submission XML does not match the hash in its signed outbox entry",
                )?;
                return Ok(None);
            }
            Ok(Some((std::borrow::Cow::Borrowed(xml.as_str()), Vec::new())))
        }
        (_, Some(sealed)) => {
            if !sha256_is(sealed, entry.sealed_sha256.as_deref()) {
                note(
                    ReportKind::Tampered,
                    r,
                    "the sealed submission does not match the hash in its signed outbox entry",
                )?;
                return Ok(None);
            }
            let Some(identity) = identity else {
                note(
                    ReportKind::Sealed,
                    r,
                    "sealed; export with --identity FILE (the researcher's age identity) to open it",
                )?;
                return Ok(None);
            };
            match open_sealed(sealed, identity) {
                Ok(opened) if opened.instance_id == r.instance_id => {
                    Ok(Some((std::borrow::Cow::Owned(opened.xml), opened.attachments)))
                }
                Ok(opened) => {
                    note(
                        ReportKind::Tampered,
                        r,
                        &format!("the sealed content is response {}", opened.instance_id),
                    )?;
                    Ok(None)
                }
                Err(e @ SealError::WrongIdentity) => {
                    note(ReportKind::WrongIdentity, r, &e.to_string())?;
                    Ok(None)
                }
                Err(e) => {
                    note(ReportKind::Tampered, r, &e.to_string())?;
                    Ok(None)
                }
            }
        }
        (None, None) => {
            note(ReportKind::Tampered, r, "no payload held for this response")?;
            Ok(None)
        }
    }
}
