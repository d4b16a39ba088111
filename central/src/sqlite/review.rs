//! Review events in SQLite (central/sql/0007_review.sql): appended, the
//! state of a version read from its latest event.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use enumera_core::review::{Comment, ReturnedResponse, ReviewKind, ReviewState, SignedAction};

use super::{CURRENT, SqliteCentral};
use crate::error::CentralError;
use crate::now;
use crate::review::{ReviewEvent, ReviewItem, ReviewOutcome, returned};
use crate::roles::{Principal, Role};

/// The state of response `r`: after its latest event, else received.
pub(super) const STATE: &str = "coalesce((SELECT e.state_after FROM review_events e
    WHERE e.instance_id = r.instance_id ORDER BY e.id DESC LIMIT 1), 'received')";

/// The `district` of response `r`'s participant on the latest roster
/// naming them (a roster is `{"participants": [...]}` or a bare list).
const DISTRICT: &str = "(SELECT json_extract(p.value, '$.display.district')
    FROM rosters ro, json_each(CAST(ro.json AS TEXT),
        CASE json_type(CAST(ro.json AS TEXT)) WHEN 'array' THEN '$' ELSE '$.participants' END) p
    WHERE r.participant_id IS NOT NULL AND json_extract(p.value, '$.id') = r.participant_id
      AND json_type(p.value, '$.display.district') = 'text'
    ORDER BY ro.published_at DESC, ro.name DESC LIMIT 1)";

/// Whether response `r` corrects a version a reviewer returned.
const EDITED_AFTER_RETURN: &str = "EXISTS (SELECT 1 FROM review_events e
    WHERE e.instance_id = r.deprecated_id AND e.kind = 'reject')";

/// `district`: the [`DISTRICT`] subquery for one row, or NULL where the
/// caller fills it from [`SqliteCentral::districts`] (a list of many rows,
/// which would otherwise read the rosters once per response).
fn item_sql(where_: &str, district: &str) -> String {
    format!(
        "SELECT r.instance_id, r.form_id, r.form_version, r.device_id, r.enumerator,
                r.participant_id, r.round, {district}, {STATE}, r.sealed IS NOT NULL,
                r.deprecated_id, {EDITED_AFTER_RETURN}, r.received_at,
                (SELECT coalesce(sum(json_array_length(e.comments)), 0) FROM review_events e
                 WHERE e.instance_id = r.instance_id),
                r.seq, r.entry_hash
         FROM responses r WHERE {CURRENT} AND {where_}
         ORDER BY r.received_at, r.instance_id"
    )
}

fn item(r: &Row) -> rusqlite::Result<(ReviewItem, u64, String)> {
    let state: String = r.get(8)?;
    Ok((
        ReviewItem {
            instance_id: r.get(0)?,
            form_id: r.get(1)?,
            form_version: r.get(2)?,
            device_id: r.get(3)?,
            enumerator: r.get(4)?,
            participant_id: r.get(5)?,
            round: r.get(6)?,
            district: r.get(7)?,
            state: ReviewState::parse(&state).unwrap_or(ReviewState::Received),
            sealed: r.get(9)?,
            deprecated_id: r.get(10)?,
            edited_after_return: r.get(11)?,
            received_at: r.get(12)?,
            comments: r.get::<_, i64>(13)? as usize,
        },
        r.get(14)?,
        r.get(15)?,
    ))
}

fn event(r: &Row) -> rusqlite::Result<ReviewEvent> {
    let kind: String = r.get(2)?;
    let state: String = r.get(3)?;
    let comments: String = r.get(4)?;
    let role: String = r.get(6)?;
    let key: Vec<u8> = r.get(8)?;
    let signature: Vec<u8> = r.get(12)?;
    Ok(ReviewEvent {
        action_id: r.get(0)?,
        instance_id: r.get(1)?,
        kind: ReviewKind::parse(&kind).unwrap_or(ReviewKind::Comment),
        state_after: ReviewState::parse(&state).unwrap_or(ReviewState::Received),
        comments: serde_json::from_str(&comments).unwrap_or_default(),
        reviewer: r.get(5)?,
        role: Role::parse(&role).unwrap_or(Role::Researcher),
        token_id: r.get(7)?,
        reviewer_key: enumera_core::bundle::hex(&key),
        at: r.get(9)?,
        recorded_at: r.get(10)?,
        body: r.get(11)?,
        signature: signature.try_into().unwrap_or([0; 64]),
    })
}

const EVENT_COLUMNS: &str = "action_id, instance_id, kind, state_after, comments, reviewer, role, \
     token_id, reviewer_key, at, recorded_at, body, signature";

impl SqliteCentral {
    /// Participant id -> `display.district`, from every published roster
    /// (the latest published wins), read once.
    fn districts(&self) -> Result<std::collections::HashMap<String, String>, CentralError> {
        let rows: Vec<(String, String)> = self
            .conn
            .prepare(
                "SELECT json_extract(p.value, '$.id'), json_extract(p.value, '$.display.district')
                 FROM rosters ro, json_each(CAST(ro.json AS TEXT),
                     CASE json_type(CAST(ro.json AS TEXT)) WHEN 'array' THEN '$'
                     ELSE '$.participants' END) p
                 WHERE json_type(p.value, '$.id') = 'text'
                   AND json_type(p.value, '$.display.district') = 'text'
                 ORDER BY ro.published_at, ro.name",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(self.err("reading the rosters' districts"))?;
        Ok(rows.into_iter().collect())
    }

    pub(super) fn review_items_impl(&self) -> Result<Vec<ReviewItem>, CentralError> {
        let districts = self.districts()?;
        let mut items: Vec<ReviewItem> = self
            .conn
            .prepare(&item_sql("1", "NULL"))
            .and_then(|mut s| s.query_map([], |r| Ok(item(r)?.0))?.collect())
            .map_err(self.err("listing responses for review"))?;
        for i in &mut items {
            i.district = i.participant_id.as_ref().and_then(|p| districts.get(p).cloned());
        }
        Ok(items)
    }

    pub(super) fn review_item_impl(
        &self,
        instance_id: &str,
    ) -> Result<Option<ReviewItem>, CentralError> {
        self.conn
            .prepare_cached(&item_sql("r.instance_id = ?1", DISTRICT))
            .and_then(|mut s| s.query_row([instance_id], |r| Ok(item(r)?.0)).optional())
            .map_err(self.err(format!("reading {instance_id} for review")))
    }

    pub(super) fn review_events_impl(
        &self,
        instance_id: &str,
    ) -> Result<Vec<ReviewEvent>, CentralError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM review_events WHERE instance_id = ?1 ORDER BY id"
            ))
            .and_then(|mut s| s.query_map([instance_id], event)?.collect())
            .map_err(self.err(format!("reading the review history of {instance_id}")))
    }

    /// Review events and the review state of current responses, for
    /// export (`?1` form, `?2` version, `?3` since, as export's filter).
    pub(super) fn review_export_impl(
        &self,
        filter: &crate::export::Filter,
    ) -> Result<crate::export::ReviewExport, CentralError> {
        use crate::export::{ReviewExport, ReviewRow, ReviewStatusRow};
        const FILTER: &str =
            "(?1 IS NULL OR r.form_id = ?1) AND (?2 IS NULL OR r.form_version = ?2)
            AND (?3 IS NULL OR r.received_at >= ?3)";
        let args = params![filter.form, filter.version, filter.since];
        let events = self
            .conn
            .prepare(&format!(
                "SELECT e.instance_id, r.form_id, e.action_id, e.kind, e.state_after, e.reviewer,
                        e.role, e.token_id, e.at, e.recorded_at, e.comments
                 FROM review_events e JOIN responses r ON r.instance_id = e.instance_id
                 WHERE {FILTER} ORDER BY e.id"
            ))
            .and_then(|mut s| {
                s.query_map(args, |r| {
                    Ok(ReviewRow {
                        instance_id: r.get(0)?,
                        form_id: r.get(1)?,
                        action_id: r.get(2)?,
                        kind: r.get(3)?,
                        state_after: r.get(4)?,
                        reviewer: r.get(5)?,
                        role: r.get(6)?,
                        token_id: r.get(7)?,
                        at: r.get(8)?,
                        recorded_at: r.get(9)?,
                        comments: r.get(10)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(self.err("reading review events for export"))?;
        let status = self
            .conn
            .prepare(&format!(
                "SELECT r.instance_id, r.form_id, {STATE}, r.deprecated_id, {EDITED_AFTER_RETURN}
                 FROM responses r WHERE {CURRENT} AND {FILTER}
                 ORDER BY r.form_id, r.received_at, r.instance_id"
            ))
            .and_then(|mut s| {
                s.query_map(args, |r| {
                    Ok(ReviewStatusRow {
                        instance_id: r.get(0)?,
                        form_id: r.get(1)?,
                        state: r.get(2)?,
                        deprecated_id: r.get(3)?,
                        edited_after_return: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(self.err("reading review states for export"))?;
        Ok(ReviewExport { events, status })
    }

    pub(super) fn record_review_impl(
        &mut self,
        who: &Principal,
        signed: &SignedAction,
    ) -> Result<ReviewOutcome, CentralError> {
        let path = self.path.clone();
        let a = &signed.action;
        let map =
            |e| CentralError::sql(&path, format!("recording review action {}", a.action_id), e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(map)?;
        let r_state = |tx: &rusqlite::Transaction| -> rusqlite::Result<Option<String>> {
            tx.query_row(
                &format!("SELECT {STATE} FROM responses r WHERE r.instance_id = ?1"),
                [&a.instance_id],
                |r| r.get(0),
            )
            .optional()
        };
        let known: Option<String> = tx
            .query_row(
                "SELECT instance_id FROM review_events WHERE action_id = ?1",
                [&a.action_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(map)?;
        let state =
            r_state(&tx).map_err(map)?.and_then(|s| ReviewState::parse(&s)).ok_or_else(|| {
                CentralError::NotReviewable {
                    instance_id: a.instance_id.clone(),
                    reason: "central holds no response with that id".into(),
                }
            })?;
        if let Some(instance_id) = known {
            if instance_id != a.instance_id {
                return Err(CentralError::BadReview {
                    reason: format!(
                        "action id {} was already used for another response",
                        a.action_id
                    ),
                });
            }
            return Ok(ReviewOutcome {
                action_id: a.action_id.clone(),
                instance_id: a.instance_id.clone(),
                state,
                new: false,
            });
        }
        let after = state.after(a.kind).map_err(|reason| CentralError::BadReview {
            reason: format!("{} {}: {reason}", a.instance_id, state),
        })?;
        let comments = serde_json::to_string(&a.comments).unwrap_or_else(|_| "[]".into());
        tx.execute(
            &format!(
                "INSERT INTO review_events ({EVENT_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                a.action_id,
                a.instance_id,
                a.kind.as_str(),
                after.as_str(),
                comments,
                who.subject,
                who.role.as_str(),
                who.token_id,
                &signed.reviewer_key()[..],
                a.at,
                now(),
                signed.body,
                &signed.signature[..],
            ],
        )
        .map_err(map)?;
        tx.commit().map_err(map)?;
        Ok(ReviewOutcome {
            action_id: a.action_id.clone(),
            instance_id: a.instance_id.clone(),
            state: after,
            new: true,
        })
    }

    pub(super) fn returned_to_impl(
        &self,
        device_id: &str,
    ) -> Result<Vec<ReturnedResponse>, CentralError> {
        let items: Vec<(ReviewItem, u64, String)> = self
            .conn
            .prepare(&item_sql(&format!("r.device_id = ?1 AND {STATE} = 'rejected'"), DISTRICT))
            .and_then(|mut s| s.query_map([device_id], item)?.collect())
            .map_err(self.err(format!("listing the returns of device {device_id}")))?;
        let mut out = Vec::with_capacity(items.len());
        for (item, seq, entry_hash) in items {
            let events = self.review_events_impl(&item.instance_id)?;
            let Some(reject) = events.iter().rev().find(|e| e.kind == ReviewKind::Reject) else {
                continue;
            };
            let comments: Vec<Comment> =
                events.iter().flat_map(|e| e.comments.iter().cloned()).collect();
            out.push(returned(&item, seq, entry_hash, reject, comments));
        }
        Ok(out)
    }
}
