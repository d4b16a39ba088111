//! Uploads in parts in SQLite (central/sql/0010_uploads.sql; the rules in
//! central/src/uploads.rs).

use std::io::Write;

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteCentral;
use crate::error::CentralError;
use crate::uploads::{
    Begun, PartOutcome, Placed, ROW, StagedUpload, UploadLimits, place, spool_error,
};

const COLUMNS: &str = "upload_id, device_id, size, sha256, received, created_at, touched_at";

fn staged(r: &Row) -> rusqlite::Result<StagedUpload> {
    Ok(StagedUpload {
        upload_id: r.get(0)?,
        device_id: r.get(1)?,
        size: r.get(2)?,
        sha256: r.get(3)?,
        received: r.get(4)?,
        created_at: r.get(5)?,
        touched_at: r.get(6)?,
    })
}

fn get(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<StagedUpload>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM uploads WHERE upload_id = ?1"))?
        .query_row([id], staged)
        .optional()
}

impl SqliteCentral {
    pub(crate) fn begin_upload_impl(
        &mut self,
        upload: &StagedUpload,
        limits: &UploadLimits,
    ) -> Result<Begun, CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "creating an upload", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let (open, staged): (u64, u64) = tx
            .query_row(
                "SELECT count(*), coalesce(sum(size), 0) FROM uploads WHERE device_id = ?1",
                [&upload.device_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql)?;
        if open >= limits.max_open {
            return Ok(Begun::TooMany { open });
        }
        if staged + upload.size > limits.max_staged_bytes {
            return Ok(Begun::OverStaged { staged: staged + upload.size });
        }
        tx.execute(
            &format!("INSERT INTO uploads ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)"),
            params![
                upload.upload_id,
                upload.device_id,
                upload.size,
                upload.sha256,
                upload.created_at,
                upload.touched_at
            ],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Begun::Created)
    }

    pub(crate) fn staged_upload_impl(
        &self,
        id: &str,
    ) -> Result<Option<StagedUpload>, CentralError> {
        get(&self.conn, id).map_err(|e| CentralError::sql(&self.path, "reading an upload", e))
    }

    pub(crate) fn put_part_impl(
        &mut self,
        id: &str,
        offset: u64,
        data: &[u8],
        now: i64,
    ) -> Result<PartOutcome, CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "storing a part of an upload", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let Some(mut upload) = get(&tx, id).map_err(sql)? else {
            return Ok(PartOutcome::Missing);
        };
        match place(&upload, offset, data.len() as u64) {
            Placed::NotAt => return Ok(PartOutcome::NotAt(upload)),
            Placed::Held => return Ok(PartOutcome::Held(upload)),
            Placed::Next => {}
        }
        for (i, row) in data.chunks(ROW).enumerate() {
            tx.execute(
                "INSERT INTO upload_parts (upload_id, part_offset, data) VALUES (?1, ?2, ?3)",
                params![id, offset + (i * ROW) as u64, row],
            )
            .map_err(sql)?;
        }
        upload.received = offset + data.len() as u64;
        upload.touched_at = now;
        tx.execute(
            "UPDATE uploads SET received = ?2, touched_at = ?3 WHERE upload_id = ?1",
            params![id, upload.received, now],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(PartOutcome::Stored(upload))
    }

    pub(crate) fn copy_upload_impl(
        &self,
        id: &str,
        out: &mut dyn Write,
    ) -> Result<u64, CentralError> {
        let sql = |e| CentralError::sql(&self.path, "reading the parts of an upload", e);
        // Offsets first, then one row at a time: one row (1 MiB) in memory.
        let offsets: Vec<u64> = self
            .conn
            .prepare_cached(
                "SELECT part_offset FROM upload_parts WHERE upload_id = ?1 ORDER BY part_offset",
            )
            .map_err(sql)?
            .query_map([id], |r| r.get(0))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let mut written = 0u64;
        let mut part = self
            .conn
            .prepare_cached(
                "SELECT data FROM upload_parts WHERE upload_id = ?1 AND part_offset = ?2",
            )
            .map_err(sql)?;
        for offset in offsets {
            let data: Vec<u8> = part.query_row(params![id, offset], |r| r.get(0)).map_err(sql)?;
            out.write_all(&data).map_err(spool_error(id))?;
            written += data.len() as u64;
        }
        Ok(written)
    }

    pub(crate) fn drop_upload_impl(&mut self, id: &str) -> Result<bool, CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "removing an upload", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        tx.execute("DELETE FROM upload_parts WHERE upload_id = ?1", [id]).map_err(sql)?;
        let n = tx.execute("DELETE FROM uploads WHERE upload_id = ?1", [id]).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(n > 0)
    }

    pub(crate) fn expire_uploads_impl(&mut self, before: i64) -> Result<usize, CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "removing expired uploads", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        tx.execute(
            "DELETE FROM upload_parts WHERE upload_id IN
                 (SELECT upload_id FROM uploads WHERE touched_at < ?1)",
            [before],
        )
        .map_err(sql)?;
        let n = tx.execute("DELETE FROM uploads WHERE touched_at < ?1", [before]).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(n)
    }
}
