//! A response's submission as export reads it: checked against the signed
//! outbox entry it came in (a changed database row is tampering), opened
//! when sealed; and the participant as exported (a pseudonym unless
//! personal data is asked for).

use enumera_core::bundle::HashingWriter;
use std::io::{Seek, SeekFrom, Write};

use enumera_core::bundle::{ResearcherIdentity, SealError, open_sealed_from};
use enumera_core::session::audit::FILE_NAME as AUDIT_FILE;
use enumera_core::store::{AttachmentInfo, EntryContent};
use sha2::{Digest, Sha256};

use super::report::ReportKind;
use super::{ExportError, ExportSource, StoredResponse, pseudonym};

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
pub(crate) fn submission_xml<'r, S: ExportSource + ?Sized>(
    source: &S,
    r: &'r StoredResponse,
    identity: Option<&ResearcherIdentity>,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<std::borrow::Cow<'r, str>>, ExportError> {
    Ok(open_submission(source, r, identity, false, note)?.map(|s| s.xml))
}

/// A sealed response's attachment as opened for the export: in a
/// temporary file (in memory while small), or discarded when the export
/// writes no media. Only handed over once the whole sealed response opened
/// and every file matched its hash.
pub(crate) enum OpenedFile {
    Spooled(tempfile::SpooledTempFile),
    Discarded,
}

/// Attachments of at most this size stay in memory while opened.
const SPOOL_IN_MEMORY: usize = 1 << 20;

impl OpenedFile {
    fn new(keep: bool) -> OpenedFile {
        if keep {
            OpenedFile::Spooled(tempfile::spooled_tempfile(SPOOL_IN_MEMORY))
        } else {
            OpenedFile::Discarded
        }
    }

    /// Copies the content to `out` from its start; false when discarded.
    pub(crate) fn copy_to(&mut self, out: &mut dyn Write) -> std::io::Result<bool> {
        match self {
            OpenedFile::Spooled(f) => {
                f.seek(SeekFrom::Start(0))?;
                std::io::copy(f, out)?;
                Ok(true)
            }
            OpenedFile::Discarded => Ok(false),
        }
    }
}

impl Write for OpenedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            OpenedFile::Spooled(f) => f.write(buf),
            OpenedFile::Discarded => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            OpenedFile::Spooled(f) => f.flush(),
            OpenedFile::Discarded => Ok(()),
        }
    }
}

/// A response's submission as the export reads it.
pub(crate) struct Submission<'r> {
    pub xml: std::borrow::Cow<'r, str>,
    /// A sealed response's attachments, opened with the identity (each
    /// already checked against the hash its sealed header gives). A plain
    /// response's attachments are held apart, by hash: none here.
    pub sealed_attachments: Vec<(AttachmentInfo, OpenedFile)>,
}

/// [`submission_xml`] with a sealed response's opened attachments: kept
/// (`keep_media`, for `media/`) or discarded, except the audit log, which
/// is always kept. A sealed payload is streamed from the store into a
/// temporary file while hashed, checked against its signed entry, then
/// opened from that file: a sealed video is never held whole.
pub(crate) fn open_submission<'r, S: ExportSource + ?Sized>(
    source: &S,
    r: &'r StoredResponse,
    identity: Option<&ResearcherIdentity>,
    keep_media: bool,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<Submission<'r>>, ExportError> {
    let plain = |xml| Some(Submission { xml, sealed_attachments: Vec::new() });
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
            Ok(plain(std::borrow::Cow::Borrowed(xml.as_str())))
        }
        (_, Some(_)) => {
            let spool_err = |e| ExportError::io(std::path::Path::new("(temporary file)"), e);
            let mut spool = HashingWriter::new(tempfile::spooled_tempfile(SPOOL_IN_MEMORY));
            let held = source.copy_sealed(&r.instance_id, &mut spool)?;
            let found = spool.sha.finalize();
            let want = entry.sealed_sha256.as_deref().and_then(enumera_core::bundle::unhex::<32>);
            if held.is_none() || want.is_none_or(|w| found.as_slice() != w) {
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
                    "sealed, with any attachments inside it (none written to media/); export \
                     with --identity FILE (the researcher's age identity) to open it",
                )?;
                return Ok(None);
            };
            let mut sealed = spool.out;
            sealed.seek(SeekFrom::Start(0)).map_err(spool_err)?;
            let opened = open_sealed_from(std::io::BufReader::new(sealed), identity, |a| {
                Ok(OpenedFile::new(keep_media || a.name == AUDIT_FILE))
            });
            match opened {
                Ok(opened) if opened.instance_id == r.instance_id => Ok(Some(Submission {
                    xml: std::borrow::Cow::Owned(opened.xml),
                    sealed_attachments: opened.attachments,
                })),
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
                Err(SealError::Sink { source, .. }) => Err(spool_err(source)),
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
