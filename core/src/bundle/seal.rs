//! Sealing: a response encrypted on the device, at finalize, to the
//! researcher's `age` X25519 recipients named by the instrument (XLSForm
//! setting `public_key`; several allowed). Central stores it unread; only
//! the researcher's identity file opens it.
//!
//! The sealed plaintext (inside the age file) is, byte for byte:
//! `enumera-sealed/1\n`, a u32 big-endian header length, the header (compact
//! JSON of [`SealedHeader`]), then the XML, the JSON and each attachment in
//! header order, their sizes given by the header. See docs/FORMAT.md.

use super::HashingWriter;
use std::io::{Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use crate::store::{AttachmentInfo, OutboxEntry, Payload, Store, StoreError};

/// First bytes of a sealed plaintext.
pub const SEALED_MAGIC: &[u8] = b"enumera-sealed/1\n";
/// Most recipient stanzas an age header may have before we refuse it.
pub const MAX_STANZAS: usize = 64;
/// Most bytes an age header may take before we refuse it.
pub const MAX_HEADER: usize = 64 * 1024;
/// Most bytes the sealed header JSON may take.
const MAX_SEALED_HEADER: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("researcher public key {key:?} is not an age X25519 recipient (age1...): {reason}")]
    BadRecipient { key: String, reason: String },

    #[error("no age secret key (AGE-SECRET-KEY-1...) found in the identity file{}", line.map(|l| format!(" (line {l} is not one)")).unwrap_or_default())]
    BadIdentity { line: Option<usize> },

    #[error(
        "this response was sealed to other researcher keys: the identity file does not open it \
         (check that you use the key pair whose public key is in the form's public_key setting)"
    )]
    WrongIdentity,

    #[error("the sealed response is not a valid age file: {reason}")]
    NotAgeFile { reason: String },

    #[error("the sealed response's age header is too large ({reason}); refused without decrypting")]
    HeaderTooLarge { reason: String },

    #[error("the sealed response was altered or is damaged: {reason}")]
    Damaged { reason: String },

    #[error("the sealed response is cut short: {what} is incomplete")]
    Truncated { what: String },

    #[error("cannot write attachment {name:?} of the sealed response: {source}")]
    Sink {
        name: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Encrypt(String),

    #[error("cannot read the identity file {}: {source}", path.display())]
    IdentityFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The header of a sealed plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedHeader {
    pub instance_id: String,
    pub xml_size: u64,
    pub json_size: u64,
    pub attachments: Vec<AttachmentInfo>,
}

/// A sealed response, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSubmission {
    pub instance_id: String,
    pub xml: String,
    pub json: String,
    pub attachments: Vec<(AttachmentInfo, Vec<u8>)>,
}

fn recipients(keys: &[String]) -> Result<Vec<age::x25519::Recipient>, SealError> {
    keys.iter()
        .map(|k| {
            age::x25519::Recipient::from_str(k.trim()).map_err(|reason| SealError::BadRecipient {
                key: k.clone(),
                reason: reason.to_string(),
            })
        })
        .collect()
}

/// Checks that every key is an age X25519 recipient (for form checks).
pub fn check_recipients(keys: &[String]) -> Result<(), SealError> {
    recipients(keys).map(|_| ())
}

/// Encrypts a submission and its attachments to `keys` (age X25519
/// recipients), in memory. Attachments are sealed in name order. For large
/// attachments use [`seal_to`], which streams.
pub fn seal_submission(
    keys: &[String],
    instance_id: &str,
    xml: &str,
    json: &str,
    attachments: &[(AttachmentInfo, Vec<u8>)],
) -> Result<Vec<u8>, SealError> {
    let infos: Vec<AttachmentInfo> = attachments.iter().map(|(a, _)| a.clone()).collect();
    let mut out = Vec::with_capacity(xml.len() + json.len() + 1024);
    seal_to(
        keys,
        instance_id,
        xml,
        json,
        &infos,
        &mut |a, w| {
            let bytes = attachments.iter().find(|(b, _)| b == a).map(|(_, b)| b.as_slice());
            w.write_all(bytes.unwrap_or_default())
                .map_err(|e| SealError::Encrypt(format!("cannot seal {instance_id}: {e}")))
        },
        &mut out,
    )?;
    Ok(out)
}

/// What the sealed plaintext's attachments are read from: writes the
/// content of one attachment to the writer (the device store streams its
/// file through a small buffer).
pub type AttachmentSource<'a> =
    dyn FnMut(&AttachmentInfo, &mut dyn Write) -> Result<(), SealError> + 'a;

/// Encrypts a submission and its attachments to `keys`, streaming: the
/// plaintext goes through age's streaming writer (64 KiB chunks) into
/// `out`, each attachment copied in by `source` and checked against its
/// size and SHA-256 as it passes, so memory does not grow with the files.
/// Attachments are sealed in name order. On error `out` holds a partial
/// file: write to a temporary file and discard it.
pub fn seal_to(
    keys: &[String],
    instance_id: &str,
    xml: &str,
    json: &str,
    attachments: &[AttachmentInfo],
    source: &mut AttachmentSource<'_>,
    out: &mut dyn Write,
) -> Result<(), SealError> {
    let recipients = recipients(keys)?;
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| SealError::Encrypt(format!("cannot seal {instance_id}: {e}")))?;
    let enc = |e: std::io::Error| SealError::Encrypt(format!("cannot seal {instance_id}: {e}"));
    let mut w = encryptor.wrap_output(out).map_err(enc)?;
    write_plaintext(&mut w, instance_id, xml, json, attachments, source)?;
    w.finish().map_err(enc)?;
    Ok(())
}

/// Writes the sealed plaintext (docs/FORMAT.md) to `w`.
fn write_plaintext(
    w: &mut dyn Write,
    instance_id: &str,
    xml: &str,
    json: &str,
    attachments: &[AttachmentInfo],
    source: &mut AttachmentSource<'_>,
) -> Result<(), SealError> {
    let mut attachments: Vec<&AttachmentInfo> = attachments.iter().collect();
    attachments.sort_by(|a, b| a.name.cmp(&b.name));
    let header = SealedHeader {
        instance_id: instance_id.to_string(),
        xml_size: xml.len() as u64,
        json_size: json.len() as u64,
        attachments: attachments.iter().map(|a| (*a).clone()).collect(),
    };
    // Plain data with string keys: serializing cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let enc = |e: std::io::Error| SealError::Encrypt(format!("cannot seal {instance_id}: {e}"));
    w.write_all(SEALED_MAGIC).map_err(enc)?;
    w.write_all(&(header.len() as u32).to_be_bytes()).map_err(enc)?;
    w.write_all(&header).map_err(enc)?;
    w.write_all(xml.as_bytes()).map_err(enc)?;
    w.write_all(json.as_bytes()).map_err(enc)?;
    for a in attachments {
        let mut counted = HashingWriter::new(&mut *w);
        source(a, &mut counted)?;
        let found = super::hex(&counted.sha.finalize());
        if found != a.sha256 || counted.n != a.size {
            return Err(SealError::Encrypt(format!(
                "cannot seal {instance_id}: attachment {:?} is {} bytes with SHA-256 {found}, \
                 its record says {} bytes with {}",
                a.name, counted.n, a.size, a.sha256
            )));
        }
    }
    Ok(())
}

/// The researcher's age identities (secret keys), read from an identity
/// file: `AGE-SECRET-KEY-1...` lines, `#` comments and blank lines.
pub struct ResearcherIdentity {
    identities: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for ResearcherIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret keys.
        f.debug_struct("ResearcherIdentity").field("recipients", &self.recipients()).finish()
    }
}

impl ResearcherIdentity {
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let mut identities = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id = age::x25519::Identity::from_str(line)
                .map_err(|_| SealError::BadIdentity { line: Some(i + 1) })?;
            identities.push(id);
        }
        if identities.is_empty() {
            return Err(SealError::BadIdentity { line: None });
        }
        Ok(ResearcherIdentity { identities })
    }

    /// Reads an identity file (as `age-keygen` writes it).
    pub fn read(path: &std::path::Path) -> Result<Self, SealError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SealError::IdentityFile { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// The public keys (age1...) of these identities.
    pub fn recipients(&self) -> Vec<String> {
        self.identities.iter().map(|i| i.to_public().to_string()).collect()
    }
}

/// Checks the age header's size and stanza count before age parses it.
fn check_header(ciphertext: &[u8]) -> Result<(), SealError> {
    const INTRO: &[u8] = b"age-encryption.org/v1\n";
    if !ciphertext.starts_with(INTRO) {
        return Err(SealError::NotAgeFile {
            reason: "it does not start with age-encryption.org/v1".into(),
        });
    }
    let window = &ciphertext[..ciphertext.len().min(MAX_HEADER)];
    let mut stanzas = 0usize;
    for line in window.split(|&b| b == b'\n') {
        if line.starts_with(b"---") {
            return Ok(());
        }
        if line.starts_with(b"-> ") {
            stanzas += 1;
            if stanzas > MAX_STANZAS {
                return Err(SealError::HeaderTooLarge {
                    reason: format!("more than {MAX_STANZAS} recipient stanzas"),
                });
            }
        }
    }
    Err(SealError::HeaderTooLarge {
        reason: format!("no end of header in the first {MAX_HEADER} bytes"),
    })
}

/// Opens a sealed response held in memory with the researcher's identity.
/// A wrong identity is [`SealError::WrongIdentity`]; an altered file never
/// yields content. For large responses use [`open_sealed_from`].
pub fn open_sealed(
    ciphertext: &[u8],
    identity: &ResearcherIdentity,
) -> Result<OpenedSubmission, SealError> {
    let opened = open_sealed_from(ciphertext, identity, |_| Ok(Vec::new()))?;
    Ok(OpenedSubmission {
        instance_id: opened.instance_id,
        xml: opened.xml,
        json: opened.json,
        attachments: opened.attachments,
    })
}

/// A sealed response opened as a stream: the XML and JSON in memory (they
/// are small, and bounded by [`MAX_SEALED_TEXT`]), each attachment in the
/// sink the caller made for it.
#[derive(Debug)]
pub struct OpenedStream<T> {
    pub instance_id: String,
    pub xml: String,
    pub json: String,
    /// Each attachment with its sink, which received exactly its bytes,
    /// checked against the SHA-256 and size the sealed header gives.
    pub attachments: Vec<(AttachmentInfo, T)>,
}

/// Opens a sealed response read from `ciphertext` with the researcher's
/// identity, streaming: age decrypts 64 KiB chunks (each authenticated
/// before it is returned), the framing is parsed as it arrives, and each
/// attachment is written to the sink `sink` makes for it (a temporary
/// file) while its SHA-256 is checked. Memory does not grow with the
/// attachments.
///
/// The sinks are handed back only when the whole stream was read and
/// checked, to its authenticated end: on any error they are dropped, so
/// give sinks that discard their content on drop (a temporary file), and
/// name a file only after this returns `Ok`. A wrong identity is
/// [`SealError::WrongIdentity`]; a stream cut short is
/// [`SealError::Truncated`]; an altered one [`SealError::Damaged`].
pub fn open_sealed_from<R: Read, T: Write>(
    mut ciphertext: R,
    identity: &ResearcherIdentity,
    sink: impl FnMut(&AttachmentInfo) -> std::io::Result<T>,
) -> Result<OpenedStream<T>, SealError> {
    // The age header is checked for size and stanza count before age
    // parses it; the bytes read for that are then read again by age.
    let mut prefix = Vec::new();
    (&mut ciphertext)
        .take(MAX_HEADER as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| SealError::Damaged { reason: format!("reading the sealed file: {e}") })?;
    check_header(&prefix)?;
    let input = std::io::BufReader::new(std::io::Cursor::new(prefix).chain(ciphertext));
    let decryptor = age::Decryptor::new_buffered(input)
        .map_err(|e| SealError::NotAgeFile { reason: e.to_string() })?;
    if decryptor.is_scrypt() {
        return Err(SealError::NotAgeFile {
            reason: "sealed with a passphrase, not to researcher keys".into(),
        });
    }
    let reader = decryptor
        .decrypt(identity.identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => SealError::WrongIdentity,
            other => SealError::Damaged { reason: other.to_string() },
        })?;
    read_plaintext(reader, sink)
}

/// Most bytes the XML or the JSON inside a sealed response may take (they
/// are held in memory when opened; a response's text is far smaller).
pub const MAX_SEALED_TEXT: u64 = 64 << 20;

/// Reads exactly `n` bytes (growing the buffer as bytes arrive, not by the
/// size the input claims).
fn read_exact_vec(r: &mut dyn Read, n: u64, what: &str) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::new();
    r.take(n).read_to_end(&mut out).map_err(|e| read_error(e, what))?;
    if (out.len() as u64) < n {
        return Err(SealError::Truncated { what: what.to_string() });
    }
    Ok(out)
}

/// An error reading the decrypted stream: age reports a stream cut short
/// as an unexpected end, anything altered as invalid data.
fn read_error(e: std::io::Error, what: &str) -> SealError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        SealError::Truncated { what: what.to_string() }
    } else {
        SealError::Damaged { reason: format!("{what}: {e}") }
    }
}

/// Parses the sealed plaintext (docs/FORMAT.md) from `r` as it arrives.
fn read_plaintext<R: Read, T: Write>(
    mut r: R,
    mut sink: impl FnMut(&AttachmentInfo) -> std::io::Result<T>,
) -> Result<OpenedStream<T>, SealError> {
    let damaged = |reason: &str| SealError::Damaged { reason: reason.to_string() };
    let magic = read_exact_vec(&mut r, SEALED_MAGIC.len() as u64, "the format line")?;
    if magic != SEALED_MAGIC {
        return Err(damaged("not an Enumera sealed response"));
    }
    let len = read_exact_vec(&mut r, 4, "the header length")?;
    let len = u64::from(u32::from_be_bytes([len[0], len[1], len[2], len[3]]));
    if len > MAX_SEALED_HEADER {
        return Err(damaged("header length out of range"));
    }
    let header = read_exact_vec(&mut r, len, "the header")?;
    let header: SealedHeader =
        serde_json::from_slice(&header).map_err(|e| damaged(&format!("header: {e}")))?;
    let mut text = |n: u64, what: &str| -> Result<String, SealError> {
        if n > MAX_SEALED_TEXT {
            return Err(damaged(&format!("{what} is {n} bytes, over {MAX_SEALED_TEXT}")));
        }
        String::from_utf8(read_exact_vec(&mut r, n, what)?)
            .map_err(|_| damaged(&format!("{what} is not UTF-8")))
    };
    let xml = text(header.xml_size, "the XML")?;
    let json = text(header.json_size, "the JSON")?;
    let mut attachments = Vec::with_capacity(header.attachments.len().min(1024));
    let mut buf = vec![0u8; 64 * 1024];
    for a in &header.attachments {
        let what = format!("attachment {:?}", a.name);
        let mut out = sink(a).map_err(|source| SealError::Sink { name: a.name.clone(), source })?;
        let mut sha = Sha256::new();
        let mut left = a.size;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let n = match r.read(&mut buf[..want]) {
                Ok(0) => return Err(SealError::Truncated { what }),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e, &what)),
            };
            sha.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|source| SealError::Sink { name: a.name.clone(), source })?;
            left -= n as u64;
        }
        out.flush().map_err(|source| SealError::Sink { name: a.name.clone(), source })?;
        if super::hex(&sha.finalize()) != a.sha256 {
            return Err(damaged(&format!("{what} does not match its hash")));
        }
        attachments.push((a.clone(), out));
    }
    // Reading to the end is what checks age's last chunk: a stream cut at
    // a chunk boundary fails here.
    let mut one = [0u8; 1];
    loop {
        match r.read(&mut one) {
            Ok(0) => break,
            Ok(_) => return Err(damaged("bytes after the last attachment")),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e, "the end of the sealed response")),
        }
    }
    Ok(OpenedStream { instance_id: header.instance_id, xml, json, attachments })
}

#[cfg(test)]
fn parse_plaintext(plain: &[u8]) -> Result<OpenedSubmission, SealError> {
    let o = read_plaintext(plain, |_| Ok(Vec::new()))?;
    Ok(OpenedSubmission {
        instance_id: o.instance_id,
        xml: o.xml,
        json: o.json,
        attachments: o.attachments,
    })
}

/// Finalizes a draft with its submission, sealing it first when its
/// instrument names researcher keys: then the ciphertext (with the
/// attachments inside) is all the device keeps, and the store deletes the
/// plaintext answers and attachments in the finalize transaction. Apps and
/// the CLI finalize through this rather than [`Store::finalize`].
pub fn finalize_response(
    store: &mut Store,
    instance_id: &str,
    xml: String,
    json: String,
) -> Result<OutboxEntry, SealError> {
    let response = store.response(instance_id)?;
    let instrument = store.instrument(&response.instrument)?;
    let keys = &instrument.settings.public_keys;
    if keys.is_empty() {
        return Ok(store.finalize(instance_id, Payload::Plain { xml, json })?);
    }
    let attachments = store.attachments(instance_id)?;
    if store.attachment_place() == crate::store::AttachmentPlace::Database {
        // The browser has no file system for a temporary file: its content
        // already lives in the database, and its files are small enough to
        // seal in memory (the web app's limits).
        let mut held = Vec::with_capacity(attachments.len());
        for a in attachments {
            let bytes = store.read_attachment(instance_id, &a.name)?;
            held.push((a, bytes));
        }
        let ciphertext = seal_submission(keys, instance_id, &xml, &json, &held)?;
        let ciphertext = crate::bundle::AttachmentData::Held(ciphertext);
        return Ok(store.finalize(instance_id, Payload::Sealed { ciphertext })?);
    }
    // Sealed into a temporary file beside the store's attachments (so a
    // video is never held whole), then copied into the database in the
    // finalize transaction. A crash before the commit leaves the draft as
    // it was and the temporary file, which the orphan cleanup at the next
    // open removes; after it, the response is finalized.
    let tmp = store.sealing_temp_file()?;
    let sealed = (|| -> Result<(u64, String), SealError> {
        let file = std::fs::File::create(&tmp)
            .map_err(|source| SealError::Store(store.temp_io_error(&tmp, instance_id, source)))?;
        let mut out = HashingWriter::new(std::io::BufWriter::new(file));
        seal_to(
            keys,
            instance_id,
            &xml,
            &json,
            &attachments,
            &mut |a, w| {
                store.copy_attachment(instance_id, &a.name, w)?;
                Ok(())
            },
            &mut out,
        )?;
        out.out
            .flush()
            .map_err(|source| SealError::Store(store.temp_io_error(&tmp, instance_id, source)))?;
        Ok((out.n, super::hex(&out.sha.finalize())))
    })();
    let result = match sealed {
        Ok((size, sha256)) => {
            store.finalize_sealed_file(instance_id, &tmp, size, &sha256).map_err(SealError::from)
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::sha256_hex;
    use crate::bundle::test_support::{TEST_IDENTITY, TEST_RECIPIENT};
    use age::secrecy::ExposeSecret;
    use proptest::prelude::*;

    fn photo() -> Vec<(AttachmentInfo, Vec<u8>)> {
        let bytes = b"jpeg bytes".to_vec();
        let info = AttachmentInfo {
            name: "p.jpg".into(),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
        };
        vec![(info, bytes)]
    }

    #[test]
    fn every_recipient_opens_and_others_get_a_clear_error() {
        let second = age::x25519::Identity::generate();
        let keys = vec![TEST_RECIPIENT.to_string(), second.to_public().to_string()];
        let sealed = seal_submission(&keys, "uuid:1", "<data/>", "{}", &photo()).unwrap();
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        assert_eq!(test.recipients(), vec![TEST_RECIPIENT.to_string()]);
        let other = ResearcherIdentity::parse(second.to_string().expose_secret()).unwrap();
        for id in [&test, &other] {
            let opened = open_sealed(&sealed, id).unwrap();
            assert_eq!((opened.instance_id.as_str(), opened.xml.as_str()), ("uuid:1", "<data/>"));
            assert_eq!(opened.attachments, photo());
        }
        let stranger = age::x25519::Identity::generate();
        let stranger = ResearcherIdentity::parse(stranger.to_string().expose_secret()).unwrap();
        assert!(matches!(open_sealed(&sealed, &stranger), Err(SealError::WrongIdentity)));
        // The debug form never shows secret keys.
        assert!(!format!("{test:?}").contains("AGE-SECRET-KEY"));
    }

    /// The committed test key pair belongs together with the sealed P2P form.
    #[cfg(feature = "xlsx")]
    #[test]
    fn the_sealed_study_form_names_the_test_identitys_key() {
        use calamine::{Reader, open_workbook_auto};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../instruments/p2p-sanitation/capacity_sealed.xlsx"
        );
        let mut book = open_workbook_auto(path).unwrap();
        let settings = book.worksheet_range("settings").unwrap();
        let mut rows = settings.rows();
        let header = rows.next().unwrap();
        let col = header.iter().position(|c| *c == "public_key").unwrap();
        let keys: Vec<String> = rows
            .map(|r| r[col].to_string())
            .filter(|k| !k.is_empty())
            .flat_map(|k| k.split([' ', ',']).map(str::to_string).collect::<Vec<_>>())
            .filter(|k| !k.is_empty())
            .collect();
        let identity = ResearcherIdentity::read(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../instruments/p2p-sanitation/test-keys/researcher.agekey"
        )))
        .unwrap();
        assert_eq!(keys, identity.recipients());
        assert!(matches!(
            ResearcherIdentity::read(std::path::Path::new("/nonexistent/key")),
            Err(SealError::IdentityFile { .. })
        ));
        check_recipients(&keys).unwrap();
        let sealed = seal_submission(&keys, "uuid:x", "<a/>", "{}", &[]).unwrap();
        assert_eq!(open_sealed(&sealed, &identity).unwrap().xml, "<a/>");
    }

    #[test]
    fn bad_keys_and_identity_files_are_named() {
        let err = seal_submission(&["ssh-ed25519 AAAA".into()], "uuid:1", "", "", &[]).unwrap_err();
        assert!(matches!(err, SealError::BadRecipient { .. }), "{err}");
        let err = ResearcherIdentity::parse("# comment only\n").unwrap_err();
        assert!(matches!(err, SealError::BadIdentity { line: None }));
        let err = ResearcherIdentity::parse("# c\nAGE-SECRET-KEY-1NOTAKEY\n").unwrap_err();
        assert!(matches!(err, SealError::BadIdentity { line: Some(2) }), "{err}");
    }

    #[test]
    fn oversized_or_foreign_headers_are_refused_before_decrypting() {
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        let mut many = b"age-encryption.org/v1\n".to_vec();
        for _ in 0..=MAX_STANZAS {
            many.extend_from_slice(b"-> X25519 AAAA\nAAAA\n");
        }
        many.extend_from_slice(b"--- AAAA\n");
        assert!(matches!(open_sealed(&many, &test), Err(SealError::HeaderTooLarge { .. })));
        let mut endless = b"age-encryption.org/v1\n-> X25519 AAAA\n".to_vec();
        endless.resize(MAX_HEADER + 10, b'A');
        assert!(matches!(open_sealed(&endless, &test), Err(SealError::HeaderTooLarge { .. })));
        assert!(matches!(open_sealed(b"PK\x03\x04", &test), Err(SealError::NotAgeFile { .. })));
    }

    #[test]
    fn an_altered_ciphertext_never_opens() {
        let sealed =
            seal_submission(&[TEST_RECIPIENT.into()], "uuid:1", "<a/>", "{}", &photo()).unwrap();
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        for i in crate::bundle::tests::sample(0..sealed.len()) {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(open_sealed(&bad, &test).is_err(), "flip at {i} opened");
        }
    }

    #[test]
    fn plaintext_framing_is_checked() {
        assert!(parse_plaintext(b"nope").is_err());
        let mut p = SEALED_MAGIC.to_vec();
        p.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_plaintext(&p).is_err());
        let header = br#"{"instance_id":"u","xml_size":5,"json_size":0,"attachments":[]}"#;
        let mut p = SEALED_MAGIC.to_vec();
        p.extend_from_slice(&(header.len() as u32).to_be_bytes());
        p.extend_from_slice(header);
        p.extend_from_slice(b"<a/>");
        assert!(parse_plaintext(&p).is_err(), "short XML accepted");
        p.extend_from_slice(b">");
        assert_eq!(parse_plaintext(&p).unwrap().xml, "<a/>>");
        p.push(0);
        assert!(parse_plaintext(&p).is_err(), "trailing byte accepted");
    }

    fn info(name: &str, bytes: &[u8]) -> AttachmentInfo {
        AttachmentInfo { name: name.into(), sha256: sha256_hex(bytes), size: bytes.len() as u64 }
    }

    /// The plaintext framing as `write_plaintext` writes it.
    fn framed(xml: &str, json: &str, files: &[(AttachmentInfo, Vec<u8>)]) -> Vec<u8> {
        let infos: Vec<AttachmentInfo> = files.iter().map(|(a, _)| a.clone()).collect();
        let mut out = Vec::new();
        write_plaintext(&mut out, "uuid:p", xml, json, &infos, &mut |a, w| {
            let (_, b) = files.iter().find(|(i, _)| i == a).unwrap();
            w.write_all(b).map_err(|e| SealError::Encrypt(e.to_string()))
        })
        .unwrap();
        out
    }

    /// A reader that hands out at most `step` bytes a call, as a slow
    /// stream does.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn files_strategy() -> impl Strategy<Value = Vec<(AttachmentInfo, Vec<u8>)>> {
        proptest::collection::btree_map(
            "[a-z]{1,8}\\.(jpg|m4a)",
            proptest::collection::vec(any::<u8>(), 0..300_000),
            0..4,
        )
        .prop_map(|m| m.into_iter().map(|(n, b)| (info(&n, &b), b)).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the content and however the stream is cut into reads,
        /// the streaming reader gives back exactly what was framed, each
        /// attachment in its own sink; every proper prefix is a typed
        /// truncation, never content.
        #[test]
        fn streaming_framing_round_trips(
            xml in "\\PC{0,200}",
            json in "\\PC{0,50}",
            files in files_strategy(),
            step in 1usize..100_000,
            cut in any::<prop::sample::Index>(),
        ) {
            let plain = framed(&xml, &json, &files);
            let opened = read_plaintext(Trickle(&plain, step), |_| Ok(Vec::new())).unwrap();
            prop_assert_eq!(&opened.xml, &xml);
            prop_assert_eq!(&opened.json, &json);
            prop_assert_eq!(&opened.attachments, &files);
            let cut = cut.index(plain.len());
            let err = read_plaintext(Trickle(&plain[..cut], step), |_| Ok(Vec::new()))
                .unwrap_err();
            prop_assert!(matches!(err, SealError::Truncated { .. }), "cut at {}: {}", cut, err);
        }
    }

    #[test]
    fn sealed_streams_open_into_sinks_and_match_the_in_memory_form() {
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let files = vec![(info("a.mp4", &big), big.clone()), photo().remove(0)];
        let keys = [TEST_RECIPIENT.to_string()];
        let in_memory = seal_submission(&keys, "uuid:1", "<a/>", "{}", &files).unwrap();
        let infos: Vec<AttachmentInfo> = files.iter().map(|(a, _)| a.clone()).collect();
        let mut streamed = Vec::new();
        seal_to(
            &keys,
            "uuid:1",
            "<a/>",
            "{}",
            &infos,
            &mut |a, w| {
                let (_, b) = files.iter().find(|(i, _)| i == a).unwrap();
                w.write_all(b).map_err(|e| SealError::Encrypt(e.to_string()))
            },
            &mut streamed,
        )
        .unwrap();
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        for sealed in [&in_memory, &streamed] {
            let opened =
                open_sealed_from(Trickle(sealed, 4096), &test, |_| Ok(Vec::new())).unwrap();
            assert_eq!(opened.xml, "<a/>");
            let names: Vec<&str> =
                opened.attachments.iter().map(|(a, _)| a.name.as_str()).collect();
            assert_eq!(names, ["a.mp4", "p.jpg"], "sealed in name order");
            assert_eq!(opened.attachments[0].1, big);
        }
        // A source that gives other bytes than its record is refused.
        let err = seal_to(
            &keys,
            "uuid:1",
            "",
            "",
            &infos[..1],
            &mut |_, w| w.write_all(b"other").map_err(|e| SealError::Encrypt(e.to_string())),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("a.mp4"), "{err}");
    }

    /// Sinks as the export makes them: a temporary file, named only once
    /// the whole response opened.
    #[test]
    fn altered_or_cut_ciphertext_never_yields_content_or_a_named_file() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let files = vec![(info("v.mp4", &big), big)];
        let sealed =
            seal_submission(&[TEST_RECIPIENT.into()], "uuid:1", "<a/>", "{}", &files).unwrap();
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let open = |bytes: &[u8]| {
            open_sealed_from(bytes, &test, |_| tempfile::NamedTempFile::new_in(dir.path()))
        };
        let ok = open(&sealed).unwrap();
        assert_eq!(std::fs::read(ok.attachments[0].1.path()).unwrap(), files[0].1);
        drop(ok);
        let positions = crate::bundle::tests::sample(0..sealed.len());
        for &i in &positions {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(open(&bad).is_err(), "flip at {i} opened");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "file left at {i}");
        }
        for &cut in &positions {
            let err = open(&sealed[..cut]).unwrap_err();
            assert!(
                matches!(
                    err,
                    SealError::Truncated { .. }
                        | SealError::Damaged { .. }
                        | SealError::NotAgeFile { .. }
                        | SealError::HeaderTooLarge { .. }
                ),
                "cut at {cut}: {err:?}"
            );
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "file left at {cut}");
        }
        // Cut at a chunk boundary inside the payload: age's last-chunk
        // flag is what tells, and it is a typed error.
        let err = open(&sealed[..sealed.len() - 17]).unwrap_err();
        assert!(matches!(err, SealError::Truncated { .. } | SealError::Damaged { .. }), "{err:?}");
    }

    /// Sealing streams through a temporary file that is gone afterwards;
    /// the store keeps exactly the ciphertext the sealing hashed, and the
    /// bundle writer streams it back out byte for byte.
    #[test]
    fn sealing_at_finalize_goes_through_a_temporary_file_and_leaves_none() {
        let (_d, store, id) = crate::bundle::test_support::sealed_device();
        let tmp = store.attachments_dir().join("tmp");
        let left = std::fs::read_dir(&tmp).map_or(0, Iterator::count);
        assert_eq!(left, 0, "temporary file left in {}", tmp.display());
        let size = store.sealed_size(&id).unwrap().unwrap();
        let mut copied = Vec::new();
        assert_eq!(store.copy_sealed(&id, &mut copied).unwrap(), size);
        let crate::store::Payload::Sealed { ciphertext } = store.submission(&id).unwrap().payload
        else {
            panic!("not sealed")
        };
        assert_eq!(ciphertext.held(), Some(copied.as_slice()));
        let entry = store.outbox_entry(&id).unwrap().unwrap();
        let content: crate::store::EntryContent = serde_json::from_str(&entry.content).unwrap();
        assert_eq!(content.sealed_sha256, Some(sha256_hex(&copied)));
        assert!(store.verify_outbox().unwrap().is_empty());
        let test = ResearcherIdentity::parse(TEST_IDENTITY).unwrap();
        let opened = open_sealed(&copied, &test).unwrap();
        assert_eq!(opened.attachments[0].1, b"photo of the plan");
    }

    /// What a crash during sealing leaves (a temporary file, the draft as
    /// it was) is cleaned at the next open, and the draft still finalizes;
    /// a sealed file that changed before it is stored is refused, leaving
    /// the draft.
    #[test]
    fn a_crash_while_sealing_leaves_the_draft_and_no_file_kept() {
        let (d, mut store, key) = crate::store::test_support::ready_store(&["a"]);
        let id = store.create_draft(&crate::store::NewResponse::new(key)).unwrap().instance_id;
        store.put_attachment(&id, "v.mp4", &[9u8; 100_000]).unwrap();
        // A sealing cut short by SIGKILL: a partial temporary file.
        let partial = store.sealing_temp_file().unwrap();
        std::fs::write(&partial, b"age-encryption.org/v1 partial").unwrap();
        // A file that does not match what the sealing hashed.
        let err = store.finalize_sealed_file(&id, &partial, 3, &sha256_hex(b"abc")).unwrap_err();
        assert!(err.to_string().contains("sealed"), "{err}");
        assert_eq!(store.response(&id).unwrap().state, crate::store::ResponseState::Draft);
        assert_eq!(store.attachments(&id).unwrap().len(), 1);
        assert!(store.outbox(0, false).unwrap().is_empty());
        let path = store.path().to_path_buf();
        drop(store);
        // Old enough to be no other process's sealing in progress.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600 * 24);
        std::fs::File::options().write(true).open(&partial).unwrap().set_modified(old).unwrap();
        let store = Store::open(&path).unwrap();
        assert!(!partial.exists(), "the orphan cleanup at open removes it");
        assert_eq!(store.read_attachment(&id, "v.mp4").unwrap(), vec![9u8; 100_000]);
        drop(d);
    }
}
