//! Writing a bundle from the device store.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::BundleError;
use super::manifest::{ItemKind, Manifest, ManifestEntry, ManifestItem, expected_items};
use super::{ENGINE_VERSION, FORMAT_NAME, FORMAT_VERSION, MAGIC, hex, sha256_hex, signed_message};
use crate::store::{EntryContent, OutboxEntry, Payload, Store, StoreError};

/// Which responses go into a bundle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BundleOptions {
    /// Only entries no receipt has acknowledged yet. Without it, every
    /// finalized response whose submission is still on the device goes in
    /// (safe: ingest is idempotent), which helps when a receipt was lost.
    pub since_receipt: bool,
    /// Stop adding responses, in outbox order, once the bundle would pass
    /// about this many bytes (the first response always goes in), so a long
    /// backlog travels as several uploads a server accepts. `None`: all.
    pub max_bytes: Option<u64>,
    /// Stop after this many responses (central's per-bundle quota).
    /// `None`: all.
    pub max_responses: Option<usize>,
}

/// What [`write_bundle`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundleSummary {
    pub device_id: String,
    pub responses: usize,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub items: usize,
    pub bytes: u64,
    /// SHA-256 of the whole file.
    pub sha256: String,
}

/// A writer that counts and hashes what passes through.
struct Counting<'w> {
    out: &'w mut dyn Write,
    bytes: u64,
    hash: Sha256,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// One entry with what it needs, read before the manifest is written.
struct Planned {
    entry: OutboxEntry,
    content: EntryContent,
    payload: Stored,
}

/// A submission as the writer plans it: plain text (small, held), or the
/// size of a sealed payload, streamed from the store when written.
enum Stored {
    Plain { xml: String, json: String },
    Sealed { size: u64 },
}

/// Writes a bundle of the device's finalized responses to `out`: the
/// manifest is built from the outbox entries, signed with the device key,
/// and followed by every item, each checked against its recorded hash as it
/// is written. A response purged after its receipt is left out (central has
/// it). On error `out` holds a partial file: write to a temporary file and
/// rename, as [`write_bundle_file`] does.
pub fn write_bundle(
    store: &Store,
    options: &BundleOptions,
    out: &mut dyn Write,
) -> Result<BundleSummary, BundleError> {
    let device = store.device()?;
    let mut planned = Vec::new();
    // Estimates, to stop before a budget or the manifest cap is passed.
    let (mut total, mut manifest_size) = (0u64, 0u64);
    let manifest_budget = super::read::Limits::default().max_manifest / 2;
    for entry in store.outbox(0, options.since_receipt)? {
        let payload = match store.sealed_size(&entry.instance_id)? {
            Some(size) => Ok(Stored::Sealed { size }),
            None => store.submission(&entry.instance_id).map(|s| match s.payload {
                Payload::Plain { xml, json } => Stored::Plain { xml, json },
                // Not reached: a sealed row has a size above.
                Payload::Sealed { ciphertext } => Stored::Sealed { size: ciphertext.len() },
            }),
        };
        let payload = match payload {
            Ok(p) => p,
            // Purged after a receipt: central holds it already.
            Err(StoreError::UnknownResponse { .. } | StoreError::InvalidState { .. })
                if entry.sent_at.is_some() =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let content: EntryContent =
            serde_json::from_str(&entry.content).map_err(|e| BundleError::StoredMismatch {
                instance_id: entry.instance_id.clone(),
                what: format!("its outbox entry is not readable: {e}"),
            })?;
        let manifest_part = entry.content.len() as u64 + ENTRY_OVERHEAD;
        let size = manifest_part + payload_size(&payload, &content);
        // Only a bounded bundle stops early (the rest goes in the next
        // one); an unbounded one holds everything, or fails as too large.
        let over_budget = options.max_bytes.is_some_and(|max| {
            total + size > max || manifest_size + manifest_part > manifest_budget
        });
        let over_count = options.max_responses.is_some_and(|max| planned.len() >= max.max(1));
        if (over_budget || over_count) && !planned.is_empty() {
            break;
        }
        total += size;
        manifest_size += manifest_part;
        planned.push(Planned { entry, content, payload });
    }

    let mut entries = Vec::with_capacity(planned.len());
    let mut items = Vec::new();
    for p in &planned {
        let expected = expected_items(&p.content).ok_or_else(|| BundleError::StoredMismatch {
            instance_id: p.entry.instance_id.clone(),
            what: "its outbox entry names neither a plain nor a sealed submission".into(),
        })?;
        for super::manifest::ExpectedItem { kind, name, sha256, size } in expected {
            let size = match (kind, &p.payload, size) {
                (_, _, Some(size)) => size,
                (ItemKind::Xml, Stored::Plain { xml, .. }, None) => xml.len() as u64,
                (ItemKind::Json, Stored::Plain { json, .. }, None) => json.len() as u64,
                (ItemKind::Sealed, Stored::Sealed { size }, None) => *size,
                _ => {
                    return Err(BundleError::StoredMismatch {
                        instance_id: p.entry.instance_id.clone(),
                        what: "plain and sealed parts are mixed up".into(),
                    });
                }
            };
            items.push(ManifestItem {
                instance_id: p.entry.instance_id.clone(),
                kind,
                name,
                size,
                sha256,
            });
        }
        entries.push(ManifestEntry {
            seq: p.entry.seq,
            instance_id: p.entry.instance_id.clone(),
            content: p.entry.content.clone(),
            content_hash: p.entry.content_hash.clone(),
            prev_hash: p.entry.prev_hash.clone(),
            entry_hash: p.entry.entry_hash.clone(),
        });
    }
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        device_id: device.device_id.clone(),
        device_public_key: hex(&device.public_key),
        device_name: device.name.clone(),
        created_at: crate::store::now(),
        engine_version: ENGINE_VERSION.into(),
        first_seq: entries.first().map(|e| e.seq),
        last_seq: entries.last().map(|e| e.seq),
        prev_hash: entries.first().map(|e| e.prev_hash.clone()),
        entries,
        items,
    };
    // Plain data with string keys: serializing cannot fail.
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let limit = super::read::Limits::default().max_manifest;
    if manifest_bytes.len() as u64 > limit {
        return Err(BundleError::TooLarge {
            what: "the manifest (write several smaller bundles)".into(),
            size: manifest_bytes.len() as u64,
            limit,
        });
    }
    let signature = store.sign(&signed_message(&manifest_bytes))?;

    let mut w = Counting { out, bytes: 0, hash: Sha256::new() };
    let io = |e| BundleError::Io {
        path: Default::default(),
        context: "writing the bundle".into(),
        source: e,
    };
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&FORMAT_VERSION.to_be_bytes()).map_err(io)?;
    w.write_all(&(manifest_bytes.len() as u32).to_be_bytes()).map_err(io)?;
    w.write_all(&manifest_bytes).map_err(io)?;
    w.write_all(&signature).map_err(io)?;

    let mut next_item = manifest.items.iter();
    for p in &planned {
        let id = &p.entry.instance_id;
        let mut put = |bytes: &[u8]| -> Result<(), BundleError> {
            let item = next_item.next().ok_or_else(|| BundleError::StoredMismatch {
                instance_id: id.clone(),
                what: "more items than planned".into(),
            })?;
            let found = sha256_hex(bytes);
            if found != item.sha256 || bytes.len() as u64 != item.size {
                return Err(BundleError::StoredMismatch {
                    instance_id: id.clone(),
                    what: format!(
                        "{} hashes to {found}, entry says {}",
                        item.kind.as_str(),
                        item.sha256
                    ),
                });
            }
            w.write_all(&item.size.to_be_bytes()).map_err(io)?;
            w.write_all(bytes).map_err(io)?;
            Ok(())
        };
        match &p.payload {
            Stored::Plain { xml, json } => {
                put(xml.as_bytes())?;
                put(json.as_bytes())?;
                let mut names: Vec<&str> =
                    p.content.attachments.iter().map(|a| a.name.as_str()).collect();
                names.sort_unstable();
                for name in names {
                    // Streamed from the file through a small buffer and
                    // checked as it goes (a video is never held whole).
                    let item = next_item.next().ok_or_else(|| BundleError::StoredMismatch {
                        instance_id: id.clone(),
                        what: "more items than planned".into(),
                    })?;
                    w.write_all(&item.size.to_be_bytes()).map_err(io)?;
                    let info = store.copy_attachment(id, name, &mut w)?;
                    if info.sha256 != item.sha256 || info.size != item.size {
                        return Err(BundleError::StoredMismatch {
                            instance_id: id.clone(),
                            what: format!(
                                "attachment {name:?} hashes to {}, entry says {}",
                                info.sha256, item.sha256
                            ),
                        });
                    }
                }
            }
            Stored::Sealed { .. } => {
                // Streamed from the store with blob I/O through a small
                // buffer, hashed as it goes.
                let item = next_item.next().ok_or_else(|| BundleError::StoredMismatch {
                    instance_id: id.clone(),
                    what: "more items than planned".into(),
                })?;
                w.write_all(&item.size.to_be_bytes()).map_err(io)?;
                let mut sealed = Sha256::new();
                let n = {
                    let mut tee = TeeHash { out: &mut w, sha: &mut sealed };
                    store.copy_sealed(id, &mut tee)?
                };
                let found = hex(&sealed.finalize());
                if found != item.sha256 || n != item.size {
                    return Err(BundleError::StoredMismatch {
                        instance_id: id.clone(),
                        what: format!("sealed hashes to {found}, entry says {}", item.sha256),
                    });
                }
            }
        }
    }
    w.flush().map_err(io)?;
    Ok(BundleSummary {
        device_id: device.device_id,
        responses: manifest.entries.len(),
        first_seq: manifest.first_seq,
        last_seq: manifest.last_seq,
        items: manifest.items.len(),
        bytes: w.bytes,
        sha256: hex(&w.hash.finalize()),
    })
}

/// Manifest bytes an entry and its items take beyond the entry content:
/// hashes, names and JSON punctuation (a generous estimate).
const ENTRY_OVERHEAD: u64 = 1024;

/// The bytes of an entry's items in a bundle.
fn payload_size(payload: &Stored, content: &EntryContent) -> u64 {
    let attachments: u64 = content.attachments.iter().map(|a| a.size + 8).sum();
    match payload {
        Stored::Plain { xml, json } => xml.len() as u64 + json.len() as u64 + 16 + attachments,
        Stored::Sealed { size } => size + 8,
    }
}

/// A writer that also hashes what passes into `sha`.
struct TeeHash<'a, W: Write> {
    out: &'a mut W,
    sha: &'a mut Sha256,
}

impl<W: Write> Write for TeeHash<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes a bundle to `path` durably: a temporary file beside it, fsync,
/// then rename, so a half-written bundle never carries the final name.
pub fn write_bundle_file(
    store: &Store,
    options: &BundleOptions,
    path: &Path,
) -> Result<BundleSummary, BundleError> {
    let io = |context: &str| {
        let context = context.to_string();
        move |source| BundleError::Io { path: path.to_path_buf(), context, source }
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".partial");
    let tmp = std::path::PathBuf::from(tmp_name);
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(io("creating"))?;
        let mut buffered = std::io::BufWriter::new(file);
        let summary = write_bundle(store, options, &mut buffered)?;
        let file = buffered.into_inner().map_err(|e| e.into_error()).map_err(io("writing"))?;
        file.sync_all().map_err(io("syncing"))?;
        std::fs::rename(&tmp, path).map_err(io("renaming the finished bundle to"))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
