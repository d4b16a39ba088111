//! The data API's submission reads in PostgreSQL (`crate::submissions`):
//! one indexed query each, over `responses_current_by_form`
//! (central/sql/postgres/0004_data_api.sql), in (inserting transaction,
//! arrival) order and only up to the oldest transaction still running, so
//! that a transaction committing late never lands behind a cursor.

use postgres::Row;
use postgres::types::ToSql;

use super::export::{RESPONSE_COLUMNS, response};
use super::review::STATE;
use super::{CURRENT, Inner, PgCentral, u};
use crate::error::CentralError;
use crate::export::StoredResponse;
use crate::submissions::{
    Cursor, SubmissionMeta, SubmissionPage, SubmissionQuery, SubmissionSource,
};

/// `$1` form, `$2` version, `$3` round, `$4` since, `$5` review state
/// (NULL matches everything but the form); only what every transaction
/// that could still add to the list is past.
fn matching() -> String {
    format!(
        "r.form_id = $1 AND {CURRENT} AND ($2::TEXT IS NULL OR r.form_version = $2)
         AND ($3::BIGINT IS NULL OR r.round = $3) AND ($4::TEXT IS NULL OR r.received_at >= $4)
         AND ($5::TEXT IS NULL OR {STATE} = $5)
         AND r.ingest_xid < pg_snapshot_xmin(pg_current_snapshot())"
    )
}

fn meta(r: &Row) -> (i64, i64, SubmissionMeta) {
    (
        r.get(0),
        r.get(1),
        SubmissionMeta {
            instance_id: r.get(2),
            form_id: r.get(3),
            form_version: r.get(4),
            participant_id: r.get(5),
            round: r.get(6),
            device_id: r.get(7),
            enumerator: r.get(8),
            finalized_at: r.get(9),
            received_at: r.get(10),
            sealed: r.get(11),
            review_state: r.get(12),
        },
    )
}

impl Inner {
    fn query_rows(
        &mut self,
        context: &'static str,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, CentralError> {
        let map = self.err(context);
        let stmt = self.stmt(sql).map_err(map)?;
        let map = self.err(context);
        self.client().query(&stmt, args).map_err(map)
    }
}

impl SubmissionSource for PgCentral {
    fn submission_page(
        &self,
        q: &SubmissionQuery,
        after: Option<&Cursor>,
        offset: u64,
        limit: usize,
    ) -> Result<SubmissionPage, CentralError> {
        let (xid, arrival) = match after.map(|c| c.0.as_slice()) {
            None => (0, 0),
            Some(&[xid, arrival]) => (xid, arrival),
            Some(_) => return Err(CentralError::BadCursor),
        };
        let sql = format!(
            "SELECT r.ingest_xid::TEXT::BIGINT, r.arrival, r.instance_id, r.form_id,
                    r.form_version, r.participant_id, r.round, r.device_id, r.enumerator,
                    r.finalized_at, r.received_at, r.sealed IS NOT NULL, {STATE}
             FROM responses r
             WHERE {} AND (r.ingest_xid, r.arrival) > ($6::TEXT::xid8, $7)
             ORDER BY r.ingest_xid, r.arrival LIMIT $8 OFFSET $9",
            matching()
        );
        let xid = xid.to_string();
        let fetch = limit as i64 + 1;
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = self.read(|s| {
            s.query_rows(
                "listing submissions",
                &sql,
                &[
                    &q.form_id,
                    &q.version,
                    &q.round,
                    &q.since,
                    &q.review_state,
                    &xid,
                    &arrival,
                    &fetch,
                    &offset,
                ],
            )
        })?;
        let mut page = SubmissionPage::default();
        let mut last = None;
        for row in &rows {
            let (xid, arrival, m) = meta(row);
            if page.items.len() == limit {
                page.next = last.map(|(x, a)| Cursor(vec![x, a]));
                break;
            }
            last = Some((xid, arrival));
            page.items.push(m);
        }
        Ok(page)
    }

    fn submission_count(&self, q: &SubmissionQuery) -> Result<u64, CentralError> {
        let sql = format!("SELECT count(*) FROM responses r WHERE {}", matching());
        let rows = self.read(|s| {
            s.query_rows(
                "counting submissions",
                &sql,
                &[&q.form_id, &q.version, &q.round, &q.since, &q.review_state],
            )
        })?;
        Ok(rows.first().map_or(0, |r| u(r.get(0))))
    }

    fn submission(
        &self,
        instance_id: &str,
    ) -> Result<Option<(StoredResponse, String)>, CentralError> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS}, {STATE} FROM responses r
             WHERE r.instance_id = $1 AND {CURRENT}"
        );
        let rows = self.read(|s| s.query_rows("reading a submission", &sql, &[&instance_id]))?;
        Ok(rows.first().map(|r| (response(r), r.get(12))))
    }
}

impl PgCentral {
    /// After a restore: transaction ids of another cluster mean nothing
    /// here (and may be ahead of this one's, which would hide those
    /// responses from the data API's pages until this cluster caught up),
    /// so restored responses all count as inserted by transaction 0, in
    /// their arrival order.
    pub(crate) fn forget_ingest_xids(&self) -> Result<(), CentralError> {
        let mut inner = self.inner();
        let map = inner.err("resetting restored transaction ids");
        inner
            .client()
            .batch_execute("UPDATE responses SET ingest_xid = '0' WHERE ingest_xid <> '0'")
            .map_err(map)
    }
}
