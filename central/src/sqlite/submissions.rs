//! The data API's submission reads in SQLite (`crate::submissions`): one
//! indexed query each, over `responses_current_by_form`
//! (central/sql/0009_data_api.sql) in rowid order, which is commit order
//! with SQLite's one writer.

use rusqlite::{OptionalExtension, Row, params};

use super::export::{RESPONSE_COLUMNS, response};
use super::review::STATE;
use super::{CURRENT, SqliteCentral};
use crate::error::CentralError;
use crate::export::StoredResponse;
use crate::submissions::{
    Cursor, SubmissionMeta, SubmissionPage, SubmissionQuery, SubmissionSource,
};

/// `?1` form, `?2` version, `?3` round, `?4` since, `?5` review state
/// (NULL matches everything but the form).
fn matching() -> String {
    format!(
        "r.form_id = ?1 AND {CURRENT} AND (?2 IS NULL OR r.form_version = ?2)
         AND (?3 IS NULL OR r.round = ?3) AND (?4 IS NULL OR r.received_at >= ?4)
         AND (?5 IS NULL OR {STATE} = ?5)"
    )
}

fn meta(r: &Row<'_>) -> rusqlite::Result<(i64, SubmissionMeta)> {
    Ok((
        r.get(0)?,
        SubmissionMeta {
            instance_id: r.get(1)?,
            form_id: r.get(2)?,
            form_version: r.get(3)?,
            participant_id: r.get(4)?,
            round: r.get(5)?,
            device_id: r.get(6)?,
            enumerator: r.get(7)?,
            finalized_at: r.get(8)?,
            received_at: r.get(9)?,
            sealed: r.get(10)?,
            review_state: r.get(11)?,
        },
    ))
}

impl SubmissionSource for SqliteCentral {
    fn submission_page(
        &self,
        q: &SubmissionQuery,
        after: Option<&Cursor>,
        offset: u64,
        limit: usize,
    ) -> Result<SubmissionPage, CentralError> {
        let after = match after.map(|c| c.0.as_slice()) {
            None => 0,
            Some(&[rowid]) => rowid,
            Some(_) => return Err(CentralError::BadCursor),
        };
        let sql = format!(
            "SELECT r.rowid, r.instance_id, r.form_id, r.form_version, r.participant_id, r.round,
                    r.device_id, r.enumerator, r.finalized_at, r.received_at,
                    r.sealed IS NOT NULL, {STATE}
             FROM responses r INDEXED BY responses_current_by_form
             WHERE {} AND r.rowid > ?6
             ORDER BY r.rowid LIMIT ?7 OFFSET ?8",
            matching()
        );
        let err = |e| CentralError::sql(&self.path, "listing submissions", e);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(
                params![
                    q.form_id,
                    q.version,
                    q.round,
                    q.since,
                    q.review_state,
                    after,
                    limit as i64 + 1,
                    i64::try_from(offset).unwrap_or(i64::MAX)
                ],
                meta,
            )
            .map_err(err)?;
        let mut page = SubmissionPage::default();
        let mut last = None;
        for row in rows {
            let (rowid, m) = row.map_err(err)?;
            if page.items.len() == limit {
                page.next = last.map(|r| Cursor(vec![r]));
                break;
            }
            last = Some(rowid);
            page.items.push(m);
        }
        Ok(page)
    }

    fn submission_count(&self, q: &SubmissionQuery) -> Result<u64, CentralError> {
        let sql = format!(
            "SELECT count(*) FROM responses r INDEXED BY responses_current_by_form WHERE {}",
            matching()
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(params![q.form_id, q.version, q.round, q.since, q.review_state], |r| {
                    r.get(0)
                })
            })
            .map_err(|e| CentralError::sql(&self.path, "counting submissions", e))
    }

    fn submission(
        &self,
        instance_id: &str,
    ) -> Result<Option<(StoredResponse, String)>, CentralError> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS}, {STATE} FROM responses r
             WHERE r.instance_id = ?1 AND {CURRENT}"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(params![instance_id], |r| Ok((response(r)?, r.get(12)?))).optional()
            })
            .map_err(|e| CentralError::sql(&self.path, "reading a submission", e))
    }
}
