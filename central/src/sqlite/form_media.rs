//! Form media in the SQLite store (central/sql/0011_form_media.sql): blobs
//! written and read with incremental blob I/O, a chunk at a time.

use std::io::{Read, Write};

use enumera_core::store::FormMediaEntry;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sha2::Digest;

use super::SqliteCentral;
use crate::error::CentralError;
use crate::form_media::{MEDIA_CHUNK, MediaSource, media_change, same_media};

impl SqliteCentral {
    pub(super) fn publish_media_impl(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[MediaSource],
    ) -> Result<bool, CentralError> {
        let new: Vec<FormMediaEntry> = media.iter().map(MediaSource::entry).collect();
        let old = self.published_media_impl(form_id, version)?;
        if !old.is_empty() || new.is_empty() {
            if same_media(&old, &new) {
                return Ok(false);
            }
            return Err(CentralError::MediaConflict {
                form_id: form_id.into(),
                version: version.into(),
                change: media_change(&old, &new),
            });
        }
        let path = self.path.clone();
        let map = |context: &'static str| {
            let path = path.clone();
            move |e| CentralError::sql(&path, context, e)
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map("publishing form media"))?;
        for m in media {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO form_media_blobs (sha256, size, bytes)
                     VALUES (?1, ?2, zeroblob(?2))",
                    params![m.sha256, m.size],
                )
                .map_err(map("publishing form media"))?;
            if inserted == 1 {
                let row = tx.last_insert_rowid();
                let mut blob = tx
                    .blob_open(rusqlite::MAIN_DB, "form_media_blobs", "bytes", row, false)
                    .map_err(map("writing a form media file"))?;
                copy_checked(m, &mut blob)?;
            }
            tx.execute(
                "INSERT INTO published_media (form_id, version, name, sha256, size)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![form_id, version, m.name, m.sha256, m.size],
            )
            .map_err(map("publishing form media"))?;
        }
        tx.commit().map_err(map("publishing form media"))?;
        Ok(true)
    }

    pub(super) fn published_media_impl(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<FormMediaEntry>, CentralError> {
        self.conn
            .prepare_cached(
                "SELECT name, sha256, size FROM published_media
                 WHERE form_id = ?1 AND version = ?2 ORDER BY name",
            )
            .and_then(|mut s| {
                s.query_map(params![form_id, version], |r| {
                    Ok(FormMediaEntry { name: r.get(0)?, sha256: r.get(1)?, size: r.get(2)? })
                })?
                .collect()
            })
            .map_err(self.err("listing form media"))
    }

    pub(super) fn media_range_impl(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        let found: Option<(i64, u64)> = self
            .conn
            .query_row(
                "SELECT b.rowid, b.size FROM form_media_blobs b WHERE b.sha256 = ?1
                 AND EXISTS (SELECT 1 FROM published_media m JOIN published p
                     ON p.form_id = m.form_id AND p.version = m.version
                     WHERE m.sha256 = b.sha256 AND p.unpublished_at IS NULL)",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("finding a form media file"))?;
        let Some((row, size)) = found else { return Ok(None) };
        let start = offset.min(size);
        let end = start.saturating_add(len).min(size);
        let blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, "form_media_blobs", "bytes", row, true)
            .map_err(self.err("reading a form media file"))?;
        let mut out = vec![0u8; (end - start) as usize];
        blob.read_at_exact(&mut out, start as usize)
            .map_err(self.err("reading a form media file"))?;
        Ok(Some((size, out)))
    }
}

/// Streams a media file from its path into `out`, a chunk at a time,
/// checking that it still has the SHA-256 and size it was gathered with.
pub(crate) fn copy_checked(m: &MediaSource, out: &mut dyn Write) -> Result<(), CentralError> {
    let fail = |reason: String| CentralError::MediaFile { path: m.path.clone(), reason };
    let mut file = std::fs::File::open(&m.path).map_err(|e| fail(e.to_string()))?;
    let mut sha = sha2::Sha256::new();
    let mut buf = vec![0u8; MEDIA_CHUNK];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(e.to_string())),
        };
        total += n as u64;
        if total > m.size {
            return Err(fail("it grew while it was being published".into()));
        }
        sha.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| fail(format!("storing it: {e}")))?;
    }
    let found = enumera_core::bundle::hex(&sha.finalize());
    if total != m.size || found != m.sha256 {
        return Err(fail("it changed while it was being published".into()));
    }
    Ok(())
}
