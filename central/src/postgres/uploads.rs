//! Uploads in parts in PostgreSQL (central/sql/postgres/0006_uploads.sql),
//! as in SQLite (central/src/sqlite/uploads.rs). Two servers may take parts
//! of one upload: the upload's row is locked while a part is placed, and a
//! device's creations are serialized by an advisory lock on its id, so
//! its limits hold across servers.

use std::io::Write;

use postgres::Row;

use super::{Inner, PgCentral};
use crate::error::CentralError;
use crate::uploads::{
    Begun, PartOutcome, Placed, ROW, StagedUpload, UploadLimits, place, spool_error,
};

const COLUMNS: &str = "upload_id, device_id, size, sha256, received, created_at, touched_at";

fn staged(r: &Row) -> StagedUpload {
    StagedUpload {
        upload_id: r.get(0),
        device_id: r.get(1),
        size: r.get::<_, i64>(2).max(0) as u64,
        sha256: r.get(3),
        received: r.get::<_, i64>(4).max(0) as u64,
        created_at: r.get(5),
        touched_at: r.get(6),
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Inner {
    fn begin_upload_tx(
        &mut self,
        upload: &StagedUpload,
        limits: &UploadLimits,
    ) -> Result<Begun, CentralError> {
        let sql = self.err("creating an upload");
        let target = self.target.clone();
        let sql2 = |e| CentralError::postgres(&target, "creating an upload", e);
        let mut tx = self.client().transaction().map_err(sql)?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('upload:' || $1))", &[&upload.device_id])
            .map_err(sql2)?;
        let row = tx
            .query_one(
                "SELECT count(*), coalesce(sum(size), 0)::BIGINT FROM uploads WHERE device_id = $1",
                &[&upload.device_id],
            )
            .map_err(sql2)?;
        let (open, staged) =
            (row.get::<_, i64>(0).max(0) as u64, row.get::<_, i64>(1).max(0) as u64);
        if open >= limits.max_open {
            return Ok(Begun::TooMany { open });
        }
        if staged + upload.size > limits.max_staged_bytes {
            return Ok(Begun::OverStaged { staged: staged + upload.size });
        }
        tx.execute(
            &format!("INSERT INTO uploads ({COLUMNS}) VALUES ($1, $2, $3, $4, 0, $5, $6)"),
            &[
                &upload.upload_id,
                &upload.device_id,
                &i(upload.size),
                &upload.sha256,
                &upload.created_at,
                &upload.touched_at,
            ],
        )
        .map_err(sql2)?;
        tx.commit().map_err(sql2)?;
        Ok(Begun::Created)
    }

    fn put_part_tx(
        &mut self,
        id: &str,
        offset: u64,
        data: &[u8],
        now: i64,
    ) -> Result<PartOutcome, CentralError> {
        let sql = self.err("storing a part of an upload");
        let target = self.target.clone();
        let sql2 = |e| CentralError::postgres(&target, "storing a part of an upload", e);
        let mut tx = self.client().transaction().map_err(sql)?;
        let row = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM uploads WHERE upload_id = $1 FOR UPDATE"),
                &[&id],
            )
            .map_err(sql2)?;
        let Some(mut upload) = row.as_ref().map(staged) else {
            return Ok(PartOutcome::Missing);
        };
        match place(&upload, offset, data.len() as u64) {
            Placed::NotAt => return Ok(PartOutcome::NotAt(upload)),
            Placed::Held => return Ok(PartOutcome::Held(upload)),
            Placed::Next => {}
        }
        for (n, row) in data.chunks(ROW).enumerate() {
            tx.execute(
                "INSERT INTO upload_parts (upload_id, part_offset, data) VALUES ($1, $2, $3)",
                &[&id, &i(offset + (n * ROW) as u64), &row],
            )
            .map_err(sql2)?;
        }
        upload.received = offset + data.len() as u64;
        upload.touched_at = now;
        tx.execute(
            "UPDATE uploads SET received = $2, touched_at = $3 WHERE upload_id = $1",
            &[&id, &i(upload.received), &now],
        )
        .map_err(sql2)?;
        tx.commit().map_err(sql2)?;
        Ok(PartOutcome::Stored(upload))
    }

    fn drop_upload_tx(&mut self, id: &str) -> Result<bool, CentralError> {
        let sql = self.err("removing an upload");
        let target = self.target.clone();
        let sql2 = |e| CentralError::postgres(&target, "removing an upload", e);
        let mut tx = self.client().transaction().map_err(sql)?;
        tx.execute("DELETE FROM upload_parts WHERE upload_id = $1", &[&id]).map_err(sql2)?;
        let n = tx.execute("DELETE FROM uploads WHERE upload_id = $1", &[&id]).map_err(sql2)?;
        tx.commit().map_err(sql2)?;
        Ok(n > 0)
    }

    fn expire_uploads_tx(&mut self, before: i64) -> Result<usize, CentralError> {
        let sql = self.err("removing expired uploads");
        let target = self.target.clone();
        let sql2 = |e| CentralError::postgres(&target, "removing expired uploads", e);
        let mut tx = self.client().transaction().map_err(sql)?;
        tx.execute(
            "DELETE FROM upload_parts WHERE upload_id IN
                 (SELECT upload_id FROM uploads WHERE touched_at < $1)",
            &[&before],
        )
        .map_err(sql2)?;
        let n =
            tx.execute("DELETE FROM uploads WHERE touched_at < $1", &[&before]).map_err(sql2)?;
        tx.commit().map_err(sql2)?;
        Ok(n as usize)
    }
}

impl PgCentral {
    pub(crate) fn begin_upload_impl(
        &mut self,
        upload: &StagedUpload,
        limits: &UploadLimits,
    ) -> Result<Begun, CentralError> {
        self.inner().begin_upload_tx(upload, limits)
    }

    pub(crate) fn staged_upload_impl(
        &self,
        id: &str,
    ) -> Result<Option<StagedUpload>, CentralError> {
        let mut inner = self.inner();
        let sql = inner.err("reading an upload");
        let row = inner
            .client()
            .query_opt(&format!("SELECT {COLUMNS} FROM uploads WHERE upload_id = $1"), &[&id])
            .map_err(sql)?;
        Ok(row.as_ref().map(staged))
    }

    pub(crate) fn put_part_impl(
        &mut self,
        id: &str,
        offset: u64,
        data: &[u8],
        now: i64,
    ) -> Result<PartOutcome, CentralError> {
        self.inner().put_part_tx(id, offset, data, now)
    }

    pub(crate) fn copy_upload_impl(
        &self,
        id: &str,
        out: &mut dyn Write,
    ) -> Result<u64, CentralError> {
        let mut inner = self.inner();
        let target = inner.target.clone();
        let sql = |e| CentralError::postgres(&target, "reading the parts of an upload", e);
        // Offsets first, then one row at a time: one row (1 MiB) in memory.
        let offsets: Vec<i64> = inner
            .client()
            .query(
                "SELECT part_offset FROM upload_parts WHERE upload_id = $1 ORDER BY part_offset",
                &[&id],
            )
            .map_err(sql)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut written = 0u64;
        for offset in offsets {
            let row = inner
                .client()
                .query_one(
                    "SELECT data FROM upload_parts WHERE upload_id = $1 AND part_offset = $2",
                    &[&id, &offset],
                )
                .map_err(sql)?;
            let data: &[u8] = row.get(0);
            out.write_all(data).map_err(spool_error(id))?;
            written += data.len() as u64;
        }
        Ok(written)
    }

    pub(crate) fn drop_upload_impl(&mut self, id: &str) -> Result<bool, CentralError> {
        self.inner().drop_upload_tx(id)
    }

    pub(crate) fn expire_uploads_impl(&mut self, before: i64) -> Result<usize, CentralError> {
        self.inner().expire_uploads_tx(before)
    }
}
