//! Sealing: a response encrypted on the device, at finalize, to the
//! researcher's `age` X25519 recipients named by the instrument (XLSForm
//! setting `public_key`; several allowed). Central stores it unread; only
//! the researcher's identity file opens it.
//!
//! The sealed plaintext (inside the age file) is, byte for byte:
//! `enumera-sealed/1\n`, a u32 big-endian header length, the header (compact
//! JSON of [`SealedHeader`]), then the XML, the JSON and each attachment in
//! header order, their sizes given by the header. See docs/FORMAT.md.

use std::io::{Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::sha256_hex;
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
/// recipients). Attachments are sealed in name order.
pub fn seal_submission(
    keys: &[String],
    instance_id: &str,
    xml: &str,
    json: &str,
    attachments: &[(AttachmentInfo, Vec<u8>)],
) -> Result<Vec<u8>, SealError> {
    let recipients = recipients(keys)?;
    let mut attachments: Vec<&(AttachmentInfo, Vec<u8>)> = attachments.iter().collect();
    attachments.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let header = SealedHeader {
        instance_id: instance_id.to_string(),
        xml_size: xml.len() as u64,
        json_size: json.len() as u64,
        attachments: attachments.iter().map(|(a, _)| a.clone()).collect(),
    };
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| SealError::Encrypt(format!("cannot seal {instance_id}: {e}")))?;
    let mut out = Vec::with_capacity(xml.len() + json.len() + header.len() + 1024);
    let enc = |e: std::io::Error| SealError::Encrypt(format!("cannot seal {instance_id}: {e}"));
    let mut w = encryptor.wrap_output(&mut out).map_err(enc)?;
    w.write_all(SEALED_MAGIC).map_err(enc)?;
    w.write_all(&(header.len() as u32).to_be_bytes()).map_err(enc)?;
    w.write_all(&header).map_err(enc)?;
    w.write_all(xml.as_bytes()).map_err(enc)?;
    w.write_all(json.as_bytes()).map_err(enc)?;
    for (_, bytes) in attachments {
        w.write_all(bytes).map_err(enc)?;
    }
    w.finish().map_err(enc)?;
    Ok(out)
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

/// Opens a sealed response with the researcher's identity. A wrong identity
/// is [`SealError::WrongIdentity`]; an altered file never yields content.
pub fn open_sealed(
    ciphertext: &[u8],
    identity: &ResearcherIdentity,
) -> Result<OpenedSubmission, SealError> {
    check_header(ciphertext)?;
    let decryptor = age::Decryptor::new_buffered(ciphertext)
        .map_err(|e| SealError::NotAgeFile { reason: e.to_string() })?;
    if decryptor.is_scrypt() {
        return Err(SealError::NotAgeFile {
            reason: "sealed with a passphrase, not to researcher keys".into(),
        });
    }
    let mut reader = decryptor
        .decrypt(identity.identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => SealError::WrongIdentity,
            other => SealError::Damaged { reason: other.to_string() },
        })?;
    let mut plain = Vec::with_capacity(ciphertext.len());
    reader.read_to_end(&mut plain).map_err(|e| SealError::Damaged { reason: e.to_string() })?;
    parse_plaintext(&plain)
}

fn parse_plaintext(plain: &[u8]) -> Result<OpenedSubmission, SealError> {
    let damaged = |reason: &str| SealError::Damaged { reason: reason.to_string() };
    let rest = plain
        .strip_prefix(SEALED_MAGIC)
        .ok_or_else(|| damaged("not an Enumera sealed response"))?;
    if rest.len() < 4 {
        return Err(damaged("truncated header"));
    }
    let (len, rest) = rest.split_at(4);
    let len = u64::from(u32::from_be_bytes([len[0], len[1], len[2], len[3]]));
    if len > MAX_SEALED_HEADER || len > rest.len() as u64 {
        return Err(damaged("header length out of range"));
    }
    let (header, mut rest) = rest.split_at(len as usize);
    let header: SealedHeader =
        serde_json::from_slice(header).map_err(|e| damaged(&format!("header: {e}")))?;
    let mut take = |n: u64, what: &str| -> Result<&[u8], SealError> {
        if n > rest.len() as u64 {
            return Err(damaged(&format!("{what} is truncated")));
        }
        let (a, b) = rest.split_at(n as usize);
        rest = b;
        Ok(a)
    };
    let xml = String::from_utf8(take(header.xml_size, "the XML")?.to_vec())
        .map_err(|_| damaged("the XML is not UTF-8"))?;
    let json = String::from_utf8(take(header.json_size, "the JSON")?.to_vec())
        .map_err(|_| damaged("the JSON is not UTF-8"))?;
    let mut attachments = Vec::with_capacity(header.attachments.len().min(1024));
    for a in &header.attachments {
        let bytes = take(a.size, &format!("attachment {:?}", a.name))?;
        if sha256_hex(bytes) != a.sha256 {
            return Err(damaged(&format!("attachment {:?} does not match its hash", a.name)));
        }
        attachments.push((a.clone(), bytes.to_vec()));
    }
    if !rest.is_empty() {
        return Err(damaged("bytes after the last attachment"));
    }
    Ok(OpenedSubmission { instance_id: header.instance_id, xml, json, attachments })
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
    let payload = if keys.is_empty() {
        Payload::Plain { xml, json }
    } else {
        let mut attachments = Vec::new();
        for a in store.attachments(instance_id)? {
            let bytes = store.read_attachment(instance_id, &a.name)?;
            attachments.push((a, bytes));
        }
        Payload::Sealed {
            ciphertext: seal_submission(keys, instance_id, &xml, &json, &attachments)?,
        }
    };
    Ok(store.finalize(instance_id, payload)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::test_support::{TEST_IDENTITY, TEST_RECIPIENT};
    use age::secrecy::ExposeSecret;

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
}
