//! Reading and verifying a bundle, one response at a time. Nothing is
//! returned until the signature and the manifest have been checked, and no
//! response until every item of it has matched its hash; every length is
//! checked against [`Limits`] before anything is read, and what is read
//! grows only with the bytes that actually arrive, so a hostile length
//! prefix costs nothing.
//!
//! [`BundleReader`] streams from any [`Read`] (a file, a spooled upload):
//! memory is the manifest plus one response, whatever the bundle's size
//! (issue 15, finding 3). [`read_bundle`] reads a whole bundle held in
//! memory through the same reader.

use std::collections::HashSet;
use std::io::Read;

use sha2::{Digest, Sha256};

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
    pub attachments: Vec<(AttachmentInfo, AttachmentData)>,
}

/// An attachment's bytes as the reader hands them over: in memory, or,
/// for a large file when the reader has a spool folder
/// ([`BundleReader::spool_to`]), in a temporary file there, removed when
/// the last clone is dropped. Either way they matched their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentData {
    Held(Vec<u8>),
    Spooled(std::sync::Arc<SpooledFile>),
}

/// A temporary file holding one attachment; removed on drop.
#[derive(Debug, PartialEq, Eq)]
pub struct SpooledFile {
    pub path: std::path::PathBuf,
    pub size: u64,
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl AttachmentData {
    pub fn len(&self) -> u64 {
        match self {
            AttachmentData::Held(b) => b.len() as u64,
            AttachmentData::Spooled(f) => f.size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, streamed.
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            AttachmentData::Held(b) => Box::new(b.as_slice()),
            AttachmentData::Spooled(f) => {
                Box::new(std::io::BufReader::new(std::fs::File::open(&f.path)?))
            }
        })
    }

    /// The bytes in memory, when held there.
    pub fn held(&self) -> Option<&[u8]> {
        match self {
            AttachmentData::Held(b) => Some(b),
            AttachmentData::Spooled(_) => None,
        }
    }

    /// The bytes, whole (for stores that take a value at once).
    pub fn to_vec(&self) -> std::io::Result<Vec<u8>> {
        match self {
            AttachmentData::Held(b) => Ok(b.clone()),
            AttachmentData::Spooled(f) => std::fs::read(&f.path),
        }
    }
}

impl Default for AttachmentData {
    fn default() -> Self {
        AttachmentData::Held(Vec::new())
    }
}

impl From<Vec<u8>> for AttachmentData {
    fn from(b: Vec<u8>) -> Self {
        AttachmentData::Held(b)
    }
}

/// A verified bundle's responses, one at a time: what central ingests, from
/// a [`BundleReader`] over a file or from a [`VerifiedBundle`] in memory.
pub trait BundleSource {
    /// The signed manifest (checked: signature, chain, items).
    fn manifest(&self) -> &Manifest;
    /// The device key that signed it.
    fn device_public_key(&self) -> [u8; 32];
    /// The next response, every item of it checked against its hash;
    /// `None` after the last.
    fn next_response(&mut self) -> Result<Option<BundleResponse>, BundleError>;
    /// After the last response: checks that nothing follows and returns
    /// the SHA-256 of the whole file and its size in bytes.
    fn finish(&mut self) -> Result<(String, u64), BundleError>;
}

/// Reads and verifies a bundle with the default [`Limits`].
pub fn read_bundle(bytes: &[u8]) -> Result<VerifiedBundle, BundleError> {
    read_bundle_with(bytes, &Limits::default())
}

/// Reads and verifies a whole bundle: magic and version, then the manifest
/// and the device's signature over it, then the manifest's consistency
/// (the entries' hash chain, each entry's items), then every item's length
/// and SHA-256, and finally that nothing follows the last item.
pub fn read_bundle_with(bytes: &[u8], limits: &Limits) -> Result<VerifiedBundle, BundleError> {
    let mut reader = BundleReader::open(bytes, limits)?;
    let mut responses = Vec::with_capacity(reader.manifest().entries.len());
    while let Some(r) = reader.next_response()? {
        responses.push(r);
    }
    let (sha256, _) = reader.finish()?;
    let BundleReader { manifest, device_public_key, .. } = reader;
    Ok(VerifiedBundle { manifest, responses, sha256, device_public_key })
}

/// Counts and hashes every byte read, so that errors name offsets and the
/// whole file's SHA-256 comes out of the one pass.
struct Counted<R> {
    inner: R,
    at: u64,
    /// `None` when the caller already knows the file's hash.
    sha: Option<Sha256>,
}

impl<R: Read> Counted<R> {
    /// Reads exactly `n` bytes, or says how many there were. The buffer
    /// grows with what arrives, never to a length the input only claims.
    fn exactly(&mut self, n: u64, what: impl FnOnce() -> String) -> Result<Vec<u8>, BundleError> {
        let offset = self.at;
        let mut out = Vec::with_capacity(n.min(64 << 10) as usize);
        let got = Read::take(&mut *self, n).read_to_end(&mut out).map_err(|e| io(offset, e))?;
        if (got as u64) < n {
            return Err(BundleError::Truncated {
                what: what(),
                offset,
                needed: n,
                available: got as u64,
            });
        }
        Ok(out)
    }

    /// Streams `n` bytes through a small buffer; returns their SHA-256.
    fn hash(&mut self, n: u64, what: impl FnOnce() -> String) -> Result<String, BundleError> {
        let offset = self.at;
        let mut sha = Sha256::new();
        let mut buf = [0u8; 64 << 10];
        let mut left = n;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let got = self.read(&mut buf[..want]).map_err(|e| io(offset, e))?;
            if got == 0 {
                return Err(BundleError::Truncated {
                    what: what(),
                    offset,
                    needed: n,
                    available: n - left,
                });
            }
            sha.update(&buf[..got]);
            left -= got as u64;
        }
        Ok(super::hex(&sha.finalize()))
    }

    /// Streams `n` bytes into `out` through a small buffer; returns their
    /// SHA-256.
    fn copy(
        &mut self,
        n: u64,
        out: &mut dyn std::io::Write,
        what: impl FnOnce() -> String,
    ) -> Result<String, BundleError> {
        let offset = self.at;
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 64 << 10];
        let mut left = n;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let got = self.read(&mut buf[..want]).map_err(|e| io(offset, e))?;
            if got == 0 {
                return Err(BundleError::Truncated {
                    what: what(),
                    offset,
                    needed: n,
                    available: n - left,
                });
            }
            sha.update(&buf[..got]);
            out.write_all(&buf[..got]).map_err(|e| io(offset, e))?;
            left -= got as u64;
        }
        Ok(super::hex(&sha.finalize()))
    }

    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        let b = self.exactly(4, || what.to_string())?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: impl FnOnce() -> String) -> Result<u64, BundleError> {
        let b = self.exactly(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_be_bytes(a))
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.at += n as u64;
        Ok(n)
    }
}

fn io(offset: u64, source: std::io::Error) -> BundleError {
    BundleError::Io {
        path: std::path::PathBuf::new(),
        context: format!("reading the bundle at offset {offset}"),
        source,
    }
}

fn bad(reason: impl Into<String>) -> BundleError {
    BundleError::BadManifest { reason: reason.into() }
}

/// A bundle read from a stream: [`BundleReader::open`] checks the header,
/// the signature and the manifest; [`BundleSource::next_response`] then
/// yields each response once its items match their hashes.
pub struct BundleReader<R> {
    input: Counted<R>,
    /// The file's SHA-256 when the caller gave it (it is then not hashed).
    known_sha256: Option<String>,
    limits: Limits,
    manifest: Manifest,
    contents: std::vec::IntoIter<EntryContent>,
    device_public_key: [u8; 32],
    next_entry: usize,
    next_item: usize,
    /// Where attachments above the size go instead of memory.
    spool: Option<(std::path::PathBuf, u64)>,
}

impl<R> std::fmt::Debug for BundleReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleReader")
            .field("device_id", &self.manifest.device_id)
            .field("entries", &self.manifest.entries.len())
            .field("next_entry", &self.next_entry)
            .field("offset", &self.input.at)
            .finish()
    }
}

impl<R: Read> BundleReader<R> {
    /// Reads magic and version, the manifest and the signature over it,
    /// and checks the manifest's consistency (the entries' hash chain, each
    /// entry's items). No item is read yet.
    pub fn open(input: R, limits: &Limits) -> Result<Self, BundleError> {
        Self::open_inner(input, limits, None)
    }

    /// [`BundleReader::open`] for a file whose SHA-256 the caller computed
    /// as it arrived (a server hashes an upload while spooling it): the
    /// file is not hashed again, and [`BundleSource::finish`] returns
    /// `sha256`.
    pub fn open_hashed(input: R, limits: &Limits, sha256: String) -> Result<Self, BundleError> {
        Self::open_inner(input, limits, Some(sha256))
    }

    fn open_inner(
        input: R,
        limits: &Limits,
        known_sha256: Option<String>,
    ) -> Result<Self, BundleError> {
        let sha = known_sha256.is_none().then(Sha256::new);
        let mut c = Counted { inner: input, at: 0, sha };
        let magic = c.exactly(MAGIC.len() as u64, || "the file header".into())?;
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
        let manifest_bytes = c.exactly(manifest_len, || "the manifest".into())?;
        let signature: [u8; 64] = c
            .exactly(64, || "the signature".into())?
            .try_into()
            .map_err(|_| bad("signature length"))?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| bad(format!("not readable: {e}")))?;
        if manifest.format != FORMAT_NAME {
            return Err(bad(format!("format {:?}, expected {FORMAT_NAME:?}", manifest.format)));
        }
        let device_public_key: [u8; 32] = unhex(&manifest.device_public_key)
            .ok_or_else(|| bad("device_public_key is not 64 hex digits"))?;
        if !crate::store::verify_signature(
            &device_public_key,
            &signed_message(&manifest_bytes),
            &signature,
        ) {
            return Err(BundleError::BadSignature { device_id: manifest.device_id.clone() });
        }
        drop(manifest_bytes);
        // Signed by the key it names: from here on a problem is a device bug
        // or a forgery by the key's holder, reported all the same.
        if manifest.entries.len() > limits.max_entries {
            return Err(BundleError::TooLarge {
                what: "the number of entries".into(),
                size: manifest.entries.len() as u64,
                limit: limits.max_entries as u64,
            });
        }
        let contents = check_entries(&manifest)?.into_iter();
        Ok(BundleReader {
            input: c,
            known_sha256,
            limits: *limits,
            manifest,
            contents,
            device_public_key,
            next_entry: 0,
            next_item: 0,
            spool: None,
        })
    }

    /// Attachments larger than `above` bytes are streamed into temporary
    /// files in `dir` rather than held in memory ([`AttachmentData`]), so
    /// a bundle with a large video is read in the memory of a buffer.
    pub fn spool_to(mut self, dir: std::path::PathBuf, above: u64) -> Self {
        self.spool = Some((dir, above));
        self
    }

    /// Reads an attachment item of `len` bytes into a spool file; its hash.
    fn spool_item(
        &mut self,
        dir: &std::path::Path,
        len: u64,
        what: impl FnOnce() -> String,
    ) -> Result<(String, AttachmentData), BundleError> {
        let path = dir.join(format!(".enumera-attachment-{}", uuid::Uuid::new_v4().simple()));
        let io_err = |source| BundleError::Io {
            path: path.clone(),
            context: "spooling an attachment".into(),
            source,
        };
        let file = std::fs::File::create(&path).map_err(io_err)?;
        // Removed on drop from here on, whatever happens.
        let spooled = std::sync::Arc::new(SpooledFile { path: path.clone(), size: len });
        let mut out = std::io::BufWriter::new(file);
        let found = self.input.copy(len, &mut out, what)?;
        std::io::Write::flush(&mut out).map_err(io_err)?;
        Ok((found, AttachmentData::Spooled(spooled)))
    }

    /// Reads the next response's items, checking each against its hash;
    /// with `keep`, returns them (else they are streamed through and
    /// dropped: a check that costs no memory).
    fn read_response(&mut self, keep: bool) -> Result<Option<BundleResponse>, BundleError> {
        let Some(content) = self.contents.next() else {
            return Ok(None);
        };
        let entry = self.manifest.entries[self.next_entry].clone();
        self.next_entry += 1;
        let mut payload_parts: Vec<Vec<u8>> = Vec::new();
        let mut sealed: Option<AttachmentData> = None;
        let mut attachments = Vec::new();
        let count = expected_items(&content).map_or(0, |v| v.len());
        let first = self.next_item;
        for _ in 0..count {
            let index = self.next_item;
            let item = self.manifest.items[index].clone();
            let kind = item.kind.as_str();
            let what = || format!("item {index} ({kind} of {})", item.instance_id);
            let len = self.input.u64(|| format!("the length of {}", what()))?;
            if len != item.size {
                return Err(BundleError::ItemLength {
                    index,
                    kind: kind.into(),
                    instance_id: item.instance_id.clone(),
                    expected: item.size,
                    found: len,
                });
            }
            if len > self.limits.max_item {
                return Err(BundleError::TooLarge {
                    what: what(),
                    size: len,
                    limit: self.limits.max_item,
                });
            }
            // Submission text is kept even when only checking: it must be
            // UTF-8, and it is what ingest holds anyway.
            let text = matches!(item.kind, ItemKind::Xml | ItemKind::Json);
            // Attachments and sealed payloads (which carry a sealed
            // response's attachments) are spooled when large.
            let large = matches!(item.kind, ItemKind::Attachment | ItemKind::Sealed);
            let spool = match &self.spool {
                Some((dir, above)) if keep && large && len > *above => Some(dir.clone()),
                _ => None,
            };
            let (found, data) = if let Some(dir) = spool {
                self.spool_item(&dir, len, what)?
            } else if keep || text {
                let data = self.input.exactly(len, what)?;
                (sha256_hex(&data), AttachmentData::Held(data))
            } else {
                (self.input.hash(len, what)?, AttachmentData::Held(Vec::new()))
            };
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
                    data,
                )),
                ItemKind::Sealed => sealed = Some(data),
                _ => match data {
                    AttachmentData::Held(bytes) => payload_parts.push(bytes),
                    AttachmentData::Spooled(_) => return Err(bad("a submission was spooled")),
                },
            }
            self.next_item += 1;
        }
        let payload = if content.sealed_sha256.is_some() {
            Payload::Sealed { ciphertext: sealed.unwrap_or_default() }
        } else {
            let mut text = payload_parts.into_iter().map(String::from_utf8);
            let not_text = |i: usize| BundleError::NotText {
                index: first + i,
                kind: if i == 0 { "xml" } else { "json" }.into(),
                instance_id: entry.instance_id.clone(),
            };
            let xml = text.next().and_then(Result::ok).ok_or_else(|| not_text(0))?;
            let json = text.next().and_then(Result::ok).ok_or_else(|| not_text(1))?;
            Payload::Plain { xml, json }
        };
        Ok(Some(BundleResponse { entry, content, payload, attachments }))
    }

    /// Checks every remaining item against its hash without keeping
    /// attachments or sealed payloads (only each submission's text, one at
    /// a time), then that nothing follows: the whole bundle verified in the
    /// memory of one response (a server does this before it takes the
    /// database's lock).
    /// Returns the file's SHA-256 and size.
    pub fn verify_rest(mut self) -> Result<(String, u64), BundleError> {
        while self.read_response(false)?.is_some() {}
        self.finish()
    }
}

impl<R: Read> BundleSource for BundleReader<R> {
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn device_public_key(&self) -> [u8; 32] {
        self.device_public_key
    }

    fn next_response(&mut self) -> Result<Option<BundleResponse>, BundleError> {
        self.read_response(true)
    }

    fn finish(&mut self) -> Result<(String, u64), BundleError> {
        if self.contents.len() > 0 {
            return Err(bad("finished before the last response was read"));
        }
        let offset = self.input.at;
        let mut rest = [0u8; 1];
        if self.input.read(&mut rest).map_err(|e| io(offset, e))? > 0 {
            // Count what follows, without keeping it.
            let extra = 1 + std::io::copy(&mut self.input, &mut std::io::sink())
                .map_err(|e| io(offset, e))?;
            return Err(BundleError::TrailingBytes { offset, extra });
        }
        let sha = match (self.known_sha256.take(), self.input.sha.take()) {
            (Some(known), _) => known,
            (None, Some(sha)) => super::hex(&sha.finalize()),
            (None, None) => return Err(bad("finished twice")),
        };
        Ok((sha, self.input.at))
    }
}

/// A bundle read whole, as a [`BundleSource`].
#[derive(Debug)]
pub struct HeldBundle<'a> {
    bundle: &'a VerifiedBundle,
    next: usize,
    bytes: u64,
}

impl VerifiedBundle {
    /// Its responses one at a time; `bytes` is the file's size.
    pub fn source(&self, bytes: u64) -> HeldBundle<'_> {
        HeldBundle { bundle: self, next: 0, bytes }
    }
}

impl BundleSource for HeldBundle<'_> {
    fn manifest(&self) -> &Manifest {
        &self.bundle.manifest
    }

    fn device_public_key(&self) -> [u8; 32] {
        self.bundle.device_public_key
    }

    fn next_response(&mut self) -> Result<Option<BundleResponse>, BundleError> {
        let r = self.bundle.responses.get(self.next).cloned();
        self.next += 1;
        Ok(r)
    }

    fn finish(&mut self) -> Result<(String, u64), BundleError> {
        Ok((self.bundle.sha256.clone(), self.bytes))
    }
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
