//! Reading and verifying a bundle. Nothing is returned until the signature
//! and every hash have been checked; every length is checked against the
//! bytes that remain and against [`Limits`] before anything is allocated.

use std::collections::HashSet;

use super::error::BundleError;
use super::manifest::{ItemKind, Manifest, ManifestEntry, expected_items};
use super::{FORMAT_NAME, FORMAT_VERSION, MAGIC, sha256_hex, signed_message, unhex};
use crate::store::{AttachmentInfo, EntryContent, GENESIS_HASH, Payload, entry_hash};

/// Caps on what a bundle may claim, so a hostile file cannot make the
/// reader allocate or loop without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_manifest: u64,
    pub max_entries: usize,
    pub max_item: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_manifest: 256 << 20, max_entries: 1_000_000, max_item: 2 << 30 }
    }
}

/// A bundle whose signature and hashes all checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    pub manifest: Manifest,
    /// One per manifest entry, in sequence order.
    pub responses: Vec<BundleResponse>,
    /// SHA-256 of the whole file.
    pub sha256: String,
    /// The device's Ed25519 public key (from the manifest, verified).
    pub device_public_key: [u8; 32],
}

/// One finalized response as the bundle carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleResponse {
    pub entry: ManifestEntry,
    /// The parsed entry content: form, participant, round, `deprecated_id`.
    pub content: EntryContent,
    pub payload: Payload,
    /// Attachments of a plain submission, by name, with their bytes.
    pub attachments: Vec<(AttachmentInfo, Vec<u8>)>,
}

/// Reads and verifies a bundle with the default [`Limits`].
pub fn read_bundle(bytes: &[u8]) -> Result<VerifiedBundle, BundleError> {
    read_bundle_with(bytes, &Limits::default())
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: impl FnOnce() -> String) -> Result<&'a [u8], BundleError> {
        let available = (self.bytes.len() - self.at) as u64;
        if n > available {
            return Err(BundleError::Truncated {
                what: what(),
                offset: self.at as u64,
                needed: n,
                available,
            });
        }
        // n <= available, which fits in usize.
        let n = n as usize;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        let b = self.take(4, || what.to_string())?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: impl FnOnce() -> String) -> Result<u64, BundleError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
}

fn bad(reason: impl Into<String>) -> BundleError {
    BundleError::BadManifest { reason: reason.into() }
}

/// Reads and verifies a bundle: magic and version, then the manifest and
/// the device's signature over it, then the manifest's consistency (the
/// entries' hash chain, each entry's items), then every item's length and
/// SHA-256, and finally that nothing follows the last item.
pub fn read_bundle_with(bytes: &[u8], limits: &Limits) -> Result<VerifiedBundle, BundleError> {
    read_bundle_inner(bytes, limits, None)
}

/// Like [`read_bundle`], for a caller that has already computed the SHA-256
/// of `bytes` (central, which looks the file up by it first).
pub fn read_bundle_prehashed(bytes: &[u8], sha256: String) -> Result<VerifiedBundle, BundleError> {
    read_bundle_inner(bytes, &Limits::default(), Some(sha256))
}

fn read_bundle_inner(
    bytes: &[u8],
    limits: &Limits,
    sha256: Option<String>,
) -> Result<VerifiedBundle, BundleError> {
    let mut c = Cursor { bytes, at: 0 };
    let magic = c.take(MAGIC.len() as u64, || "the file header".into())?;
    if magic != MAGIC {
        return Err(BundleError::NotABundle);
    }
    let version = c.u32("the format version")?;
    if version != FORMAT_VERSION {
        return Err(BundleError::UnknownVersion { found: version, supported: FORMAT_VERSION });
    }
    let manifest_len = u64::from(c.u32("the manifest length")?);
    if manifest_len > limits.max_manifest {
        return Err(BundleError::TooLarge {
            what: "the manifest".into(),
            size: manifest_len,
            limit: limits.max_manifest,
        });
    }
    let manifest_bytes = c.take(manifest_len, || "the manifest".into())?;
    let signature: [u8; 64] =
        c.take(64, || "the signature".into())?.try_into().map_err(|_| bad("signature length"))?;
    let manifest: Manifest =
        serde_json::from_slice(manifest_bytes).map_err(|e| bad(format!("not readable: {e}")))?;
    if manifest.format != FORMAT_NAME {
        return Err(bad(format!("format {:?}, expected {FORMAT_NAME:?}", manifest.format)));
    }
    let device_public_key: [u8; 32] = unhex(&manifest.device_public_key)
        .ok_or_else(|| bad("device_public_key is not 64 hex digits"))?;
    if !crate::store::verify_signature(
        &device_public_key,
        &signed_message(manifest_bytes),
        &signature,
    ) {
        return Err(BundleError::BadSignature { device_id: manifest.device_id.clone() });
    }
    // Signed by the key it names: from here on a problem is a device bug or a
    // forgery by the key's holder, reported all the same.
    if manifest.entries.len() > limits.max_entries {
        return Err(BundleError::TooLarge {
            what: "the number of entries".into(),
            size: manifest.entries.len() as u64,
            limit: limits.max_entries as u64,
        });
    }
    let plans = check_entries(&manifest)?;

    let mut responses = Vec::with_capacity(manifest.entries.len());
    let mut index = 0usize;
    for (entry, content) in manifest.entries.iter().zip(plans) {
        let mut payload_parts: Vec<Vec<u8>> = Vec::new();
        let mut attachments = Vec::new();
        let count = expected_items(&content).map_or(0, |v| v.len());
        for _ in 0..count {
            let item = &manifest.items[index];
            let kind = item.kind.as_str();
            let len =
                c.u64(|| format!("the length of item {index} ({kind} of {})", item.instance_id))?;
            if len != item.size {
                return Err(BundleError::ItemLength {
                    index,
                    kind: kind.into(),
                    instance_id: item.instance_id.clone(),
                    expected: item.size,
                    found: len,
                });
            }
            if len > limits.max_item {
                return Err(BundleError::TooLarge {
                    what: format!("item {index} ({kind} of {})", item.instance_id),
                    size: len,
                    limit: limits.max_item,
                });
            }
            let data = c.take(len, || format!("item {index} ({kind} of {})", item.instance_id))?;
            let found = sha256_hex(data);
            if found != item.sha256 {
                return Err(BundleError::HashMismatch {
                    index,
                    kind: kind.into(),
                    instance_id: item.instance_id.clone(),
                    expected: item.sha256.clone(),
                    found,
                });
            }
            match item.kind {
                ItemKind::Attachment => attachments.push((
                    AttachmentInfo {
                        name: item.name.clone().unwrap_or_default(),
                        sha256: item.sha256.clone(),
                        size: item.size,
                    },
                    data.to_vec(),
                )),
                _ => payload_parts.push(data.to_vec()),
            }
            index += 1;
        }
        let payload = if content.sealed_sha256.is_some() {
            Payload::Sealed { ciphertext: payload_parts.pop().unwrap_or_default() }
        } else {
            let mut text = payload_parts.into_iter().map(String::from_utf8);
            let not_text = |i: usize| BundleError::NotText {
                index: index - count + i,
                kind: if i == 0 { "xml" } else { "json" }.into(),
                instance_id: entry.instance_id.clone(),
            };
            let xml = text.next().and_then(Result::ok).ok_or_else(|| not_text(0))?;
            let json = text.next().and_then(Result::ok).ok_or_else(|| not_text(1))?;
            Payload::Plain { xml, json }
        };
        responses.push(BundleResponse { entry: entry.clone(), content, payload, attachments });
    }
    if c.at != bytes.len() {
        return Err(BundleError::TrailingBytes {
            offset: c.at as u64,
            extra: (bytes.len() - c.at) as u64,
        });
    }
    let sha256 = sha256.unwrap_or_else(|| sha256_hex(bytes));
    Ok(VerifiedBundle { manifest, responses, sha256, device_public_key })
}

/// Checks the manifest's entries against themselves and its item list:
/// sequence order, the hash chain, each entry's content, and that the items
/// are exactly those the entries name, in order. Returns the parsed contents.
fn check_entries(m: &Manifest) -> Result<Vec<EntryContent>, BundleError> {
    if m.first_seq != m.entries.first().map(|e| e.seq)
        || m.last_seq != m.entries.last().map(|e| e.seq)
        || m.prev_hash.as_deref() != m.entries.first().map(|e| e.prev_hash.as_str())
    {
        return Err(bad("first_seq, last_seq or prev_hash do not match the entries"));
    }
    let mut contents = Vec::with_capacity(m.entries.len());
    let mut items = m.items.iter();
    let mut ids = HashSet::with_capacity(m.entries.len());
    let mut previous: Option<&ManifestEntry> = None;
    for e in &m.entries {
        let wrong = |reason: &str| BundleError::BadEntry {
            seq: e.seq,
            instance_id: e.instance_id.clone(),
            reason: reason.to_string(),
        };
        if e.seq == 0 {
            return Err(wrong("sequence numbers start at 1"));
        }
        if let Some(p) = previous {
            if e.seq <= p.seq {
                return Err(wrong("entries are not in increasing sequence order"));
            }
            if e.seq == p.seq + 1 && e.prev_hash != p.entry_hash {
                return Err(wrong("prev_hash does not name the entry before it"));
            }
        }
        if e.seq == 1 && e.prev_hash != GENESIS_HASH {
            return Err(wrong("the first entry must follow the genesis hash"));
        }
        if !ids.insert(e.instance_id.as_str()) {
            return Err(wrong("the instance id appears twice in the bundle"));
        }
        if sha256_hex(e.content.as_bytes()) != e.content_hash {
            return Err(wrong("content_hash does not match the content"));
        }
        if entry_hash(e.seq, &e.prev_hash, &e.content_hash) != e.entry_hash {
            return Err(wrong("entry_hash does not match seq, prev_hash and content_hash"));
        }
        let content: EntryContent = serde_json::from_str(&e.content)
            .map_err(|err| wrong(&format!("content is not readable: {err}")))?;
        if content.instance_id != e.instance_id {
            return Err(wrong("content names another instance id"));
        }
        if content.device_id != m.device_id {
            return Err(wrong("content names another device"));
        }
        if let Some(a) = content.attachments.iter().find(|a| !is_file_name(&a.name)) {
            // Export writes attachments to disk under these names.
            return Err(wrong(&format!("attachment name {:?} is not a plain file name", a.name)));
        }
        let expected = expected_items(&content)
            .ok_or_else(|| wrong("content names neither a plain nor a sealed submission"))?;
        for super::manifest::ExpectedItem { kind, name, sha256, size } in expected {
            let item = items
                .next()
                .ok_or_else(|| wrong("the manifest lists fewer items than its entries name"))?;
            if item.instance_id != e.instance_id
                || item.kind != kind
                || item.name != name
                || item.sha256 != sha256
                || size.is_some_and(|s| s != item.size)
            {
                return Err(wrong(&format!(
                    "item {} {:?} does not match what the entry names",
                    kind.as_str(),
                    name.unwrap_or_default()
                )));
            }
        }
        contents.push(content);
        previous = Some(e);
    }
    if items.next().is_some() {
        return Err(bad("the manifest lists items no entry names"));
    }
    Ok(contents)
}

/// A name safe to use as a file name: not empty, not `.` or `..`, at most
/// 255 bytes, without `/`, `\\` or NUL (the device store's own rule).
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.contains(['/', '\\', '\0'])
}
