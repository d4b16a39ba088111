//! Form media in the PostgreSQL store (central/sql/postgres/0007_form_media.sql):
//! each file kept in 1 MiB chunks, written one chunk at a time and read
//! back only as far as a range needs.

use std::io::Read;

use enumera_core::store::FormMediaEntry;
use sha2::Digest;

use super::{Inner, i, u};
use crate::error::CentralError;
use crate::form_media::{MEDIA_CHUNK, MediaSource, media_change, same_media};

impl Inner {
    pub(super) fn publish_media_impl(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[MediaSource],
    ) -> Result<bool, CentralError> {
        let new: Vec<FormMediaEntry> = media.iter().map(MediaSource::entry).collect();
        let target = self.target.clone();
        let err = |context: &'static str| {
            let target = target.clone();
            move |e| CentralError::postgres(&target, context, e)
        };
        let mut tx = self.client().transaction().map_err(err("publishing form media"))?;
        // One publisher at a time per version: the first row's lock.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || length($1)::text || '/' || $2, 7))",
            &[&form_id, &version],
        )
        .map_err(err("publishing form media"))?;
        let old: Vec<FormMediaEntry> = tx
            .query(
                "SELECT name, sha256, size FROM published_media
                 WHERE form_id = $1 AND version = $2 ORDER BY name",
                &[&form_id, &version],
            )
            .map_err(err("listing form media"))?
            .iter()
            .map(|r| FormMediaEntry { name: r.get(0), sha256: r.get(1), size: u(r.get(2)) })
            .collect();
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
        for m in media {
            let inserted = tx
                .execute(
                    "INSERT INTO form_media_files (sha256, size) VALUES ($1, $2)
                     ON CONFLICT (sha256) DO NOTHING",
                    &[&m.sha256, &i(m.size)],
                )
                .map_err(err("publishing form media"))?;
            if inserted == 1 {
                let stmt = tx
                    .prepare(
                        "INSERT INTO form_media_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)",
                    )
                    .map_err(err("publishing form media"))?;
                let fail =
                    |reason: String| CentralError::MediaFile { path: m.path.clone(), reason };
                let mut file = std::fs::File::open(&m.path).map_err(|e| fail(e.to_string()))?;
                let mut sha = sha2::Sha256::new();
                let (mut total, mut seq) = (0u64, 0i32);
                loop {
                    let chunk = read_chunk(&mut file).map_err(|e| fail(e.to_string()))?;
                    if chunk.is_empty() {
                        break;
                    }
                    total += chunk.len() as u64;
                    if total > m.size {
                        return Err(fail("it grew while it was being published".into()));
                    }
                    sha.update(&chunk);
                    tx.execute(&stmt, &[&m.sha256, &seq, &chunk])
                        .map_err(err("writing a form media file"))?;
                    seq += 1;
                }
                let found = enumera_core::bundle::hex(&sha.finalize());
                if total != m.size || found != m.sha256 {
                    return Err(fail("it changed while it was being published".into()));
                }
            }
            tx.execute(
                "INSERT INTO published_media (form_id, version, name, sha256, size)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&form_id, &version, &m.name, &m.sha256, &i(m.size)],
            )
            .map_err(err("publishing form media"))?;
        }
        tx.commit().map_err(err("publishing form media"))?;
        Ok(true)
    }

    pub(super) fn published_media_impl(
        &mut self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<FormMediaEntry>, CentralError> {
        let map = self.err("listing form media");
        Ok(self
            .client()
            .query(
                "SELECT name, sha256, size FROM published_media
                 WHERE form_id = $1 AND version = $2 ORDER BY name",
                &[&form_id, &version],
            )
            .map_err(map)?
            .iter()
            .map(|r| FormMediaEntry { name: r.get(0), sha256: r.get(1), size: u(r.get(2)) })
            .collect())
    }

    pub(super) fn media_range_impl(
        &mut self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        let map = self.err("reading a form media file");
        let size = self
            .client()
            .query_opt(
                "SELECT f.size FROM form_media_files f WHERE f.sha256 = $1
                 AND EXISTS (SELECT 1 FROM published_media m JOIN published p
                     ON p.form_id = m.form_id AND p.version = m.version
                     WHERE m.sha256 = f.sha256 AND p.unpublished_at IS NULL)",
                &[&sha256],
            )
            .map_err(map)?
            .map(|r| u(r.get(0)));
        let Some(size) = size else { return Ok(None) };
        let start = offset.min(size);
        let end = start.saturating_add(len).min(size);
        let mut out = Vec::with_capacity((end - start) as usize);
        if end > start {
            let chunk = MEDIA_CHUNK as u64;
            let (first, last) = ((start / chunk) as i32, ((end - 1) / chunk) as i32);
            let map = self.err("reading a form media file");
            let rows = self
                .client()
                .query(
                    "SELECT seq, bytes FROM form_media_chunks
                     WHERE sha256 = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                    &[&sha256, &first, &last],
                )
                .map_err(map)?;
            for r in rows {
                let seq: i32 = r.get(0);
                let bytes: &[u8] = r.get(1);
                let at = seq as u64 * chunk;
                let from = start.saturating_sub(at).min(bytes.len() as u64) as usize;
                let to = (end - at).min(bytes.len() as u64) as usize;
                if from < to {
                    out.extend_from_slice(&bytes[from..to]);
                }
            }
            if out.len() as u64 != end - start {
                return Err(CentralError::MediaFile {
                    path: sha256.into(),
                    reason: format!("its chunks hold {} of bytes {start}..{end}", out.len()),
                });
            }
        }
        Ok(Some((size, out)))
    }
}

/// Up to one chunk from `input`, short only at its end.
fn read_chunk(input: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; MEDIA_CHUNK];
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(n);
    Ok(buf)
}
