//! Reading for export: rows streamed from SQLite in index order (no sort of
//! whole rows), and the pseudonym secret, made on first use.

use rusqlite::{OptionalExtension, Row, params};

use super::{CURRENT, SqliteCentral};
use crate::error::CentralError;
use crate::export::{
    ExportError, ExportSource, Filter, HeldAside, Order, RosterEntry, StoredResponse, Visit,
};

pub(super) const RESPONSE_COLUMNS: &str = "r.instance_id, r.device_id, r.form_id, r.form_version,
    r.participant_id, r.round, r.enumerator, r.finalized_at, r.received_at, r.xml,
    coalesce((SELECT length(sp.bytes) FROM sealed_payloads sp
              WHERE sp.instance_id = r.instance_id AND sp.content_hash = r.content_hash),
             length(r.sealed)),
    (SELECT e.content FROM entries e WHERE e.device_id = r.device_id AND e.seq = r.seq
       AND e.entry_hash = r.entry_hash)";

/// `?1` form, `?2` version, `?3` since; NULL matches everything.
const FILTER: &str = "(?1 IS NULL OR r.form_id = ?1) AND (?2 IS NULL OR r.form_version = ?2)
    AND (?3 IS NULL OR r.received_at >= ?3)";

pub(super) fn response(r: &Row<'_>) -> rusqlite::Result<StoredResponse> {
    Ok(StoredResponse {
        instance_id: r.get(0)?,
        device_id: r.get(1)?,
        form_id: r.get(2)?,
        form_version: r.get(3)?,
        participant_id: r.get(4)?,
        round: r.get(5)?,
        enumerator: r.get(6)?,
        finalized_at: r.get(7)?,
        received_at: r.get(8)?,
        xml: r.get(9)?,
        sealed: r.get(10)?,
        entry_content: r.get(11)?,
    })
}

impl SqliteCentral {
    fn sql_err(&self, context: &str) -> impl FnOnce(rusqlite::Error) -> ExportError + '_ {
        let context = context.to_string();
        move |e| ExportError::Central(CentralError::sql(&self.path, context, e))
    }
}

impl SqliteCentral {
    /// Published instruments that do not read back: (form, version, why).
    fn unreadable_instruments(
        &self,
        filter: &Filter,
    ) -> Result<Vec<(String, String, String)>, ExportError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT form_id, version, json FROM published
                 WHERE (?1 IS NULL OR form_id = ?1) AND (?2 IS NULL OR version = ?2)
                 ORDER BY form_id, version",
            )
            .map_err(self.sql_err("listing published instruments"))?;
        let mut rows = stmt
            .query(params![filter.form, filter.version])
            .map_err(self.sql_err("listing published instruments"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.sql_err("reading a published instrument"))? {
            let json: Vec<u8> = r.get(2).map_err(self.sql_err("reading a published instrument"))?;
            if let Err(e) = enumera_core::instrument::Instrument::from_json(&json) {
                let id = |i| r.get::<_, String>(i);
                let (form, version) = (id(0), id(1));
                let (form, version) = form
                    .and_then(|f| version.map(|v| (f, v)))
                    .map_err(self.sql_err("reading a published instrument"))?;
                out.push((form, version, e.to_string()));
            }
        }
        Ok(out)
    }
}

impl ExportSource for SqliteCentral {
    fn instruments(
        &self,
        filter: &Filter,
    ) -> Result<Vec<enumera_core::instrument::Instrument>, ExportError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT form_id, version, json FROM published
                 WHERE (?1 IS NULL OR form_id = ?1) AND (?2 IS NULL OR version = ?2)
                 ORDER BY form_id, version",
            )
            .map_err(self.sql_err("listing published instruments"))?;
        let rows = stmt
            .query_map(params![filter.form, filter.version], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
            })
            .map_err(self.sql_err("listing published instruments"))?;
        let mut out = Vec::new();
        for row in rows {
            let (_, _, json) = row.map_err(self.sql_err("reading a published instrument"))?;
            // One form central cannot read (published before central
            // checked what it serves) never stops the others: it is left
            // out here and named in the report by `held_aside`.
            if let Ok(inst) = enumera_core::instrument::Instrument::from_json(&json) {
                out.push(inst);
            }
        }
        Ok(out)
    }

    fn count(&self, filter: &Filter) -> Result<u64, ExportError> {
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM responses r WHERE {FILTER} AND {CURRENT}"),
                params![filter.form, filter.version, filter.since],
                |r| r.get(0),
            )
            .map_err(self.sql_err("counting responses"))
    }

    fn responses(
        &self,
        filter: &Filter,
        order: Order,
        visit: Visit<'_, StoredResponse>,
    ) -> Result<(), ExportError> {
        // Both orders follow an index (rowid last), so SQLite never sorts rows.
        let sql = match order {
            Order::Form => format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses r INDEXED BY responses_by_form
                 WHERE {FILTER} AND {CURRENT}
                 ORDER BY r.form_id, r.form_version, r.rowid"
            ),
            Order::Participant => format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses r INDEXED BY responses_by_participant
                 WHERE r.participant_id IS NOT NULL AND {FILTER} AND {CURRENT}
                 ORDER BY r.participant_id, r.round, r.rowid"
            ),
        };
        let mut stmt = self.conn.prepare(&sql).map_err(self.sql_err("reading responses"))?;
        let mut rows = stmt
            .query(params![filter.form, filter.version, filter.since])
            .map_err(self.sql_err("reading responses"))?;
        while let Some(row) = rows.next().map_err(self.sql_err("reading responses"))? {
            visit(response(row).map_err(self.sql_err("reading a response"))?)?;
        }
        Ok(())
    }

    fn held_aside(&self, filter: &Filter, visit: Visit<'_, HeldAside>) -> Result<(), ExportError> {
        // Everything held that is not current (see `CURRENT`), with why.
        let sql = format!(
            "SELECT CASE WHEN r.edit_conflict = 1 THEN 'edit_conflict'
                         WHEN r.superseded_by IS NOT NULL THEN 'replaced'
                         WHEN r.hold IS NOT NULL THEN r.hold
                         WHEN p.hash <> r.form_hash THEN 'form_hash_mismatch'
                         ELSE 'plaintext_for_sealed_form' END,
                    r.instance_id, r.form_id, r.device_id,
                    CASE WHEN r.edit_conflict = 1 OR r.hold = 'edit_of_superseded'
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
             WHERE c.kind = 'different_content' AND {FILTER_C}",
            FILTER_C = "(?1 IS NULL OR r.form_id = ?1 OR r.form_id IS NULL)"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.sql_err("reading conflicts"))?;
        let mut rows = stmt
            .query(params![filter.form, filter.version, filter.since])
            .map_err(self.sql_err("reading conflicts"))?;
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
        while let Some(r) = rows.next().map_err(self.sql_err("reading conflicts"))? {
            let item = (|| {
                Ok::<_, rusqlite::Error>(HeldAside {
                    kind: r.get(0)?,
                    instance_id: r.get(1)?,
                    form_id: r.get(2)?,
                    device_id: r.get(3)?,
                    detail: r.get(4)?,
                })
            })()
            .map_err(self.sql_err("reading a conflict"))?;
            visit(item)?;
        }
        Ok(())
    }

    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, ExportError> {
        self.conn
            .query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0))
            .optional()
            .map_err(self.sql_err("reading an attachment"))
    }

    /// Read through SQLite's incremental blob I/O, 64 KiB at a time.
    fn copy_attachment(
        &self,
        sha256: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let rowid: Option<i64> = self
            .conn
            .query_row("SELECT rowid FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0))
            .optional()
            .map_err(self.sql_err("finding an attachment"))?;
        let Some(rowid) = rowid else { return Ok(None) };
        let blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, "blobs", "bytes", rowid, true)
            .map_err(self.sql_err("reading an attachment"))?;
        let n = std::io::copy(&mut std::io::BufReader::with_capacity(64 << 10, blob), out)
            .map_err(|e| ExportError::io(std::path::Path::new("media"), e))?;
        Ok(Some(n))
    }

    /// Read through SQLite's incremental blob I/O, 64 KiB at a time: from
    /// `sealed_payloads` for a payload ingest spooled, else from the
    /// `sealed` column (held payloads, and rows stored before 0012).
    fn copy_sealed(
        &self,
        instance_id: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let found: Option<(Option<i64>, i64)> = self
            .conn
            .query_row(
                "SELECT (SELECT sp.rowid FROM sealed_payloads sp
                         WHERE sp.instance_id = r.instance_id AND sp.content_hash = r.content_hash),
                        r.rowid
                 FROM responses r WHERE r.instance_id = ?1 AND r.sealed IS NOT NULL",
                [instance_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sql_err("finding a sealed response"))?;
        let Some((spooled, inline)) = found else { return Ok(None) };
        let blob = match spooled {
            Some(rowid) => {
                self.conn.blob_open(rusqlite::MAIN_DB, "sealed_payloads", "bytes", rowid, true)
            }
            None => self.conn.blob_open(rusqlite::MAIN_DB, "responses", "sealed", inline, true),
        }
        .map_err(self.sql_err("reading a sealed response"))?;
        let n = std::io::copy(&mut std::io::BufReader::with_capacity(64 << 10, blob), out)
            .map_err(|e| ExportError::io(std::path::Path::new("(temporary file)"), e))?;
        Ok(Some(n))
    }

    fn pseudonym_secret(&self) -> Result<[u8; 32], ExportError> {
        // Kept beside the data so pseudonyms stay the same from one export
        // to the next; created here on first use (older databases lack it).
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS export_secret (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     secret BLOB NOT NULL CHECK (length(secret) = 32))",
            )
            .map_err(self.sql_err("creating the pseudonym secret table"))?;
        let read = || -> Result<Option<Vec<u8>>, ExportError> {
            self.conn
                .query_row("SELECT secret FROM export_secret WHERE id = 1", [], |r| r.get(0))
                .optional()
                .map_err(self.sql_err("reading the pseudonym secret"))
        };
        if read()?.is_none() {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret)
                .map_err(|e| ExportError::Central(CentralError::Random(e.to_string())))?;
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO export_secret (id, secret) VALUES (1, ?1)",
                    [&secret[..]],
                )
                .map_err(self.sql_err("saving the pseudonym secret"))?;
        }
        let secret = read()?.unwrap_or_default();
        secret.try_into().map_err(|_| {
            ExportError::Central(CentralError::NotInitialized { path: self.path.clone() })
        })
    }

    fn edits(&self, instance_id: &str) -> Result<u64, ExportError> {
        self.conn
            .query_row(
                "WITH RECURSIVE earlier(id) AS (
                     SELECT instance_id FROM responses WHERE superseded_by = ?1
                     UNION SELECT r.instance_id FROM responses r JOIN earlier e ON r.superseded_by = e.id)
                 SELECT count(*) FROM earlier",
                [instance_id],
                |r| r.get(0),
            )
            .map_err(self.sql_err("counting a response's edits"))
    }

    fn review(&self, filter: &Filter) -> Result<crate::export::ReviewExport, ExportError> {
        Ok(self.review_export_impl(filter)?)
    }

    fn roster(&self) -> Result<Vec<RosterEntry>, ExportError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM rosters ORDER BY name")
            .map_err(self.sql_err("reading rosters"))?;
        let jsons = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.sql_err("reading rosters"))?;
        Ok(roster_entries(jsons))
    }
}

/// Every participant of the published rosters (their JSON, in name
/// order), each once: shared by both stores.
pub(crate) fn roster_entries(jsons: Vec<Vec<u8>>) -> Vec<RosterEntry> {
    let mut out: Vec<RosterEntry> = Vec::new();
    for json in jsons {
        // Published rosters were checked at publish; anything odd here
        // is left out of the progress count rather than failing an export.
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&json) else { continue };
        let list = v.get("participants").unwrap_or(&v).as_array().cloned().unwrap_or_default();
        for p in list {
            let Some(id) = p.get("id").and_then(|i| i.as_str()) else { continue };
            if out.iter().any(|e| e.id == id) {
                continue;
            }
            let display = p
                .get("display")
                .and_then(|d| d.as_object())
                .map(|d| {
                    d.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            out.push(RosterEntry { id: id.to_string(), display });
        }
    }
    out
}
