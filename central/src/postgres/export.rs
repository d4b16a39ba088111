//! Reading for export from PostgreSQL: the same rows as the SQLite store
//! (`sqlite/export.rs`), in the same order, under one snapshot. Responses
//! stream through a server-side cursor fetched a batch at a time, so
//! memory stays flat and the visitor may query the store between batches
//! (export asks each response's number of edits).

use postgres::Row;
use postgres::types::ToSql;

use super::{CURRENT, PgCentral};
use crate::error::CentralError;
use crate::export::{
    ExportError, ExportSource, Filter, HeldAside, Order, RosterEntry, StoredResponse, Visit,
};

pub(super) const RESPONSE_COLUMNS: &str = "r.instance_id, r.device_id, r.form_id, r.form_version,
    r.participant_id, r.round, r.enumerator, r.finalized_at, r.received_at, r.xml,
    coalesce((SELECT sum(octet_length(sc.bytes)) FROM sealed_chunks sc
              WHERE sc.instance_id = r.instance_id AND sc.content_hash = r.content_hash),
             octet_length(r.sealed))::BIGINT,
    (SELECT e.content FROM entries e WHERE e.device_id = r.device_id AND e.seq = r.seq
       AND e.entry_hash = r.entry_hash)";

/// `$1` form, `$2` version, `$3` since; NULL matches everything.
const FILTER: &str =
    "($1::TEXT IS NULL OR r.form_id = $1) AND ($2::TEXT IS NULL OR r.form_version = $2)
    AND ($3::TEXT IS NULL OR r.received_at >= $3)";

/// Rows fetched from a cursor at a time.
const BATCH: i64 = 256;

pub(super) fn response(r: &Row) -> StoredResponse {
    StoredResponse {
        instance_id: r.get(0),
        device_id: r.get(1),
        form_id: r.get(2),
        form_version: r.get(3),
        participant_id: r.get(4),
        round: r.get(5),
        enumerator: r.get(6),
        finalized_at: r.get(7),
        received_at: r.get(8),
        xml: r.get(9),
        sealed: r.get::<_, Option<i64>>(10).map(|n| n.max(0) as u64),
        entry_content: r.get(11),
    }
}

fn params(filter: &Filter) -> [&(dyn ToSql + Sync); 3] {
    [&filter.form, &filter.version, &filter.since]
}

impl PgCentral {
    fn sql_err(&self, context: &str) -> impl FnOnce(postgres::Error) -> ExportError + use<> {
        let map = self.inner().err(context.to_string());
        move |e| ExportError::Central(map(e))
    }

    /// Runs `sql` through a cursor inside one snapshot, visiting each row
    /// with no borrow of the connection held.
    fn each_row<T>(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
        row: impl Fn(&Row) -> T,
        visit: &mut dyn FnMut(T) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let opened = self.begin_snapshot()?;
        let result = (|| {
            // A cursor name of its own: a visitor may run another export
            // query on this connection meanwhile.
            let name = format!("export_{}", uuid::Uuid::new_v4().simple());
            let map = self.sql_err("reading for export");
            self.inner()
                .client()
                .execute(&format!("DECLARE {name} NO SCROLL CURSOR FOR {sql}"), args)
                .map_err(map)?;
            loop {
                let map = self.sql_err("reading for export");
                let rows = self
                    .inner()
                    .client()
                    .query(&format!("FETCH {BATCH} FROM {name}"), &[])
                    .map_err(map)?;
                let done = (rows.len() as i64) < BATCH;
                for r in &rows {
                    visit(row(r))?;
                }
                if done {
                    break;
                }
            }
            let map = self.sql_err("reading for export");
            self.inner().client().batch_execute(&format!("CLOSE {name}")).map_err(map)
        })();
        self.close_snapshot(opened)?;
        result
    }

    /// Published instruments that do not read back: (form, version, why).
    fn unreadable_instruments(
        &self,
        filter: &Filter,
    ) -> Result<Vec<(String, String, String)>, ExportError> {
        let mut out = Vec::new();
        self.each_row(
            "SELECT form_id, version, json FROM published
             WHERE ($1::TEXT IS NULL OR form_id = $1) AND ($2::TEXT IS NULL OR version = $2)
             ORDER BY form_id, version",
            &[&filter.form, &filter.version],
            |r| (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, Vec<u8>>(2)),
            &mut |(form, version, json): (String, String, Vec<u8>)| {
                if let Err(e) = enumera_core::instrument::Instrument::from_json(&json) {
                    out.push((form, version, e.to_string()));
                }
                Ok(())
            },
        )?;
        Ok(out)
    }
}

/// An attachment's bytes whole, whether stored in one `bytea` (before
/// 0005_blob_chunks.sql) or in chunks; `b` is the `blobs` row.
pub(super) const BLOB_BYTES: &str = "coalesce(b.bytes, (SELECT string_agg(c.bytes, ''::BYTEA \
     ORDER BY c.seq) FROM blob_chunks c WHERE c.sha256 = b.sha256), ''::BYTEA)";

/// Bytes read from a large value at a time.
const SLICE: i64 = 1 << 20;

impl PgCentral {
    /// Streams a bytea value into `out` a [`SLICE`] at a time (`substring`
    /// of a value stored out of line reads only the TOAST chunks it
    /// needs), so neither side holds a video whole. `size_sql` gives the
    /// length (NULL or no row: None), `slice_sql` one slice (`$2` the
    /// 1-based start, `$3` the length), both keyed by `$1 = key`.
    fn copy_slices(
        &self,
        size_sql: &str,
        slice_sql: &str,
        key: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let map = self.sql_err("reading a stored file");
        let size: Option<i64> =
            self.inner().client().query_opt(size_sql, &[&key]).map_err(map)?.and_then(|r| r.get(0));
        let Some(size) = size else { return Ok(None) };
        let mut at = 0i64;
        while at < size {
            let map = self.sql_err("reading a stored file");
            let start = i32::try_from(at + 1).unwrap_or(i32::MAX);
            let len = i32::try_from(SLICE.min(size - at)).unwrap_or(i32::MAX);
            let row =
                self.inner().client().query_opt(slice_sql, &[&key, &start, &len]).map_err(map)?;
            let Some(bytes) = row.map(|r| r.get::<_, Vec<u8>>(0)) else { return Ok(None) };
            if bytes.is_empty() {
                break;
            }
            out.write_all(&bytes)
                .map_err(|e| ExportError::io(std::path::Path::new("(export output)"), e))?;
            at += bytes.len() as i64;
        }
        Ok(Some(at as u64))
    }
}

impl ExportSource for PgCentral {
    fn instruments(
        &self,
        filter: &Filter,
    ) -> Result<Vec<enumera_core::instrument::Instrument>, ExportError> {
        let mut out = Vec::new();
        self.each_row(
            "SELECT json FROM published
             WHERE ($1::TEXT IS NULL OR form_id = $1) AND ($2::TEXT IS NULL OR version = $2)
             ORDER BY form_id, version",
            &[&filter.form, &filter.version],
            |r| r.get::<_, Vec<u8>>(0),
            &mut |json: Vec<u8>| {
                // One unreadable form never stops the others (named in the
                // report by `held_aside`).
                if let Ok(inst) = enumera_core::instrument::Instrument::from_json(&json) {
                    out.push(inst);
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn count(&self, filter: &Filter) -> Result<u64, ExportError> {
        let map = self.sql_err("counting responses");
        let n: i64 = self
            .inner()
            .client()
            .query_one(
                &format!("SELECT count(*) FROM responses r WHERE {FILTER} AND {CURRENT}"),
                &params(filter),
            )
            .map_err(map)?
            .get(0);
        Ok(n.max(0) as u64)
    }

    fn responses(
        &self,
        filter: &Filter,
        order: Order,
        visit: Visit<'_, StoredResponse>,
    ) -> Result<(), ExportError> {
        // Both orders follow an index (arrival last), as in SQLite.
        let sql = match order {
            Order::Form => format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE {FILTER} AND {CURRENT}
                 ORDER BY r.form_id, r.form_version, r.arrival"
            ),
            Order::Participant => format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses r
                 WHERE r.participant_id IS NOT NULL AND {FILTER} AND {CURRENT}
                 ORDER BY r.participant_id, r.round, r.arrival"
            ),
        };
        self.each_row(&sql, &params(filter), response, visit)
    }

    fn held_aside(&self, filter: &Filter, visit: Visit<'_, HeldAside>) -> Result<(), ExportError> {
        let sql = format!(
            "SELECT CASE WHEN r.edit_conflict THEN 'edit_conflict'
                         WHEN r.superseded_by IS NOT NULL THEN 'replaced'
                         WHEN r.hold IS NOT NULL THEN r.hold
                         WHEN p.hash <> r.form_hash THEN 'form_hash_mismatch'
                         ELSE 'plaintext_for_sealed_form' END,
                    r.instance_id, r.form_id, r.device_id,
                    CASE WHEN r.edit_conflict OR r.hold = 'edit_of_superseded'
                         THEN 'an edit of ' || coalesce(r.deprecated_id, '?') || ', which another edit had already replaced'
                         WHEN r.superseded_by IS NOT NULL THEN 'replaced by the edit ' || r.superseded_by
                         WHEN r.hold = 'pending_edit'
                         THEN 'an edit of ' || r.deprecated_id || ', which central has not received: it takes effect when that version arrives'
                         WHEN r.hold = 'not_author'
                         THEN 'an edit of ' || r.deprecated_id || ', which device ' || coalesce(t.device_id, '?')
                              || ' made: only the device that made a response (or one central authorised) may replace it'
                         WHEN r.hold = 'contested'
                         THEN 'another device sent other content under this instance id (listed as a conflict): neither version is exported until someone decides'
                         WHEN p.hash <> r.form_hash
                         THEN 'filled with form hash ' || r.form_hash || ', but central published version '
                              || r.form_version || ' with hash ' || p.hash
                         ELSE 'arrived in plaintext, but its form requires sealing to the researcher''s key' END
             FROM responses r
             LEFT JOIN published p ON p.form_id = r.form_id AND p.version = r.form_version
             LEFT JOIN responses t ON t.instance_id = r.deprecated_id
             WHERE {FILTER} AND NOT ({CURRENT})
             UNION ALL
             SELECT 'conflict:' || c.kind, c.instance_id, coalesce(r.form_id, ''), c.device_id, c.detail
             FROM conflicts c LEFT JOIN responses r ON r.instance_id = c.instance_id
             WHERE c.kind = 'different_content' AND ($1::TEXT IS NULL OR r.form_id = $1 OR r.form_id IS NULL)"
        );
        for (form_id, version, reason) in self.unreadable_instruments(filter)? {
            visit(HeldAside {
                kind: "unreadable_form".into(),
                instance_id: String::new(),
                form_id: form_id.clone(),
                device_id: String::new(),
                detail: format!(
                    "version {version:?} is published but central cannot read it ({reason}): its \
                     responses are listed as not published; `enumera central unpublish {form_id} \
                     --version {version}` stops serving it"
                ),
            })?;
        }
        self.each_row(
            &sql,
            &params(filter),
            |r| HeldAside {
                kind: r.get(0),
                instance_id: r.get(1),
                form_id: r.get(2),
                device_id: r.get(3),
                detail: r.get(4),
            },
            visit,
        )
    }

    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, ExportError> {
        let map = self.sql_err("reading an attachment");
        let row = self
            .inner()
            .client()
            .query_opt(&format!("SELECT {BLOB_BYTES} FROM blobs b WHERE sha256 = $1"), &[&sha256])
            .map_err(map)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn copy_attachment(
        &self,
        sha256: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let map = self.sql_err("reading an attachment");
        let chunked: Option<bool> = self
            .inner()
            .client()
            .query_opt("SELECT bytes IS NULL FROM blobs WHERE sha256 = $1", &[&sha256])
            .map_err(map)?
            .map(|r| r.get(0));
        match chunked {
            None => return Ok(None),
            // In blob_chunks (0005_blob_chunks.sql): a chunk at a time.
            Some(true) => {
                let mut n = 0u64;
                for seq in 0i32.. {
                    let map = self.sql_err("reading an attachment");
                    let row = self
                        .inner()
                        .client()
                        .query_opt(
                            "SELECT bytes FROM blob_chunks WHERE sha256 = $1 AND seq = $2",
                            &[&sha256, &seq],
                        )
                        .map_err(map)?;
                    let Some(bytes) = row.map(|r| r.get::<_, Vec<u8>>(0)) else { break };
                    out.write_all(&bytes)
                        .map_err(|e| ExportError::io(std::path::Path::new("media"), e))?;
                    n += bytes.len() as u64;
                }
                return Ok(Some(n));
            }
            // Stored whole before 0005: read in slices.
            Some(false) => {}
        }
        self.copy_slices(
            "SELECT octet_length(bytes)::BIGINT FROM blobs WHERE sha256 = $1",
            "SELECT substring(bytes FROM $2::INT FOR $3::INT) FROM blobs WHERE sha256 = $1",
            sha256,
            out,
        )
    }

    fn copy_sealed(
        &self,
        instance_id: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let map = self.sql_err("finding a sealed response");
        let key: Option<(String, bool)> = self
            .inner()
            .client()
            .query_opt(
                "SELECT content_hash, EXISTS (SELECT 1 FROM sealed_chunks sc
                     WHERE sc.instance_id = r.instance_id AND sc.content_hash = r.content_hash)
                 FROM responses r WHERE instance_id = $1 AND sealed IS NOT NULL",
                &[&instance_id],
            )
            .map_err(map)?
            .map(|r| (r.get(0), r.get(1)));
        let Some((content_hash, chunked)) = key else { return Ok(None) };
        if chunked {
            // In sealed_chunks (0008_sealed_chunks.sql): a chunk at a time.
            let mut n = 0u64;
            for seq in 0i32.. {
                let map = self.sql_err("reading a sealed response");
                let row = self
                    .inner()
                    .client()
                    .query_opt(
                        "SELECT bytes FROM sealed_chunks
                         WHERE instance_id = $1 AND content_hash = $2 AND seq = $3",
                        &[&instance_id, &content_hash, &seq],
                    )
                    .map_err(map)?;
                let Some(bytes) = row.map(|r| r.get::<_, Vec<u8>>(0)) else { break };
                out.write_all(&bytes)
                    .map_err(|e| ExportError::io(std::path::Path::new("(temporary file)"), e))?;
                n += bytes.len() as u64;
            }
            return Ok(Some(n));
        }
        // Held whole (small, or stored before 0008): read in slices.
        self.copy_slices(
            "SELECT octet_length(sealed)::BIGINT FROM responses WHERE instance_id = $1",
            "SELECT substring(sealed FROM $2::INT FOR $3::INT) FROM responses \
             WHERE instance_id = $1",
            instance_id,
            out,
        )
    }

    fn pseudonym_secret(&self) -> Result<[u8; 32], ExportError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| ExportError::Central(CentralError::Random(e.to_string())))?;
        // The first export makes it; every later one (from any server)
        // reads the same, so pseudonyms stay the same.
        let map = self.sql_err("saving the pseudonym secret");
        self.inner()
            .client()
            .execute(
                "INSERT INTO export_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                &[&&secret[..]],
            )
            .map_err(map)?;
        let map = self.sql_err("reading the pseudonym secret");
        let held: Vec<u8> = self
            .inner()
            .client()
            .query_one("SELECT secret FROM export_secret WHERE id = 1", &[])
            .map_err(map)?
            .get(0);
        held.try_into().map_err(|_| {
            ExportError::Central(CentralError::NotInitialized { path: self.target().into() })
        })
    }

    fn edits(&self, instance_id: &str) -> Result<u64, ExportError> {
        let map = self.sql_err("counting a response's edits");
        let n: i64 = self
            .inner()
            .client()
            .query_one(
                "WITH RECURSIVE earlier(id) AS (
                     SELECT instance_id FROM responses WHERE superseded_by = $1
                     UNION SELECT r.instance_id FROM responses r JOIN earlier e ON r.superseded_by = e.id)
                 SELECT count(*) FROM earlier",
                &[&instance_id],
            )
            .map_err(map)?
            .get(0);
        Ok(n.max(0) as u64)
    }

    fn roster(&self) -> Result<Vec<RosterEntry>, ExportError> {
        let map = self.sql_err("reading rosters");
        let jsons = self
            .inner()
            .client()
            .query("SELECT json FROM rosters ORDER BY name", &[])
            .map_err(map)?
            .iter()
            .map(|r| r.get::<_, Vec<u8>>(0))
            .collect();
        Ok(crate::sqlite::export::roster_entries(jsons))
    }

    fn review(&self, filter: &Filter) -> Result<crate::export::ReviewExport, ExportError> {
        Ok(self.review_export_impl(filter)?)
    }
}
