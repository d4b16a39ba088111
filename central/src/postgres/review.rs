//! Review events in PostgreSQL (central/sql/postgres/0002_roles_review.sql):
//! appended, the state of a version read from its latest event, as in
//! SQLite (central/src/sqlite/review.rs says what each query means).

use std::collections::HashMap;

use postgres::Row;
use postgres::types::ToSql;

use enumera_core::review::{Comment, ReturnedResponse, ReviewKind, ReviewState, SignedAction};

use super::{CURRENT, Inner, PgCentral, u};
use crate::error::CentralError;
use crate::now;
use crate::review::{ReviewEvent, ReviewItem, ReviewOutcome, returned};
use crate::roles::{Principal, Role};

/// The state of response `r`: after its latest event, else received.
pub(super) const STATE: &str = "coalesce((SELECT e.state_after FROM review_events e
    WHERE e.instance_id = r.instance_id ORDER BY e.id DESC LIMIT 1), 'received')";

/// Whether response `r` corrects a version a reviewer returned.
const EDITED_AFTER_RETURN: &str = "EXISTS (SELECT 1 FROM review_events e
    WHERE e.instance_id = r.deprecated_id AND e.kind = 'reject')";

/// Current responses matching `where_`; the district is filled from the
/// rosters afterwards ([`Inner::districts`]).
fn item_sql(where_: &str) -> String {
    format!(
        "SELECT r.instance_id, r.form_id, r.form_version, r.device_id, r.enumerator,
                r.participant_id, r.round, {STATE}, r.sealed IS NOT NULL,
                r.deprecated_id, {EDITED_AFTER_RETURN}, r.received_at,
                (SELECT coalesce(sum(jsonb_array_length(e.comments::jsonb)), 0)::BIGINT
                 FROM review_events e WHERE e.instance_id = r.instance_id),
                r.seq, r.entry_hash
         FROM responses r WHERE {CURRENT} AND {where_}
         ORDER BY r.received_at, r.instance_id"
    )
}

fn item(r: &Row) -> (ReviewItem, u64, String) {
    let state: String = r.get(7);
    (
        ReviewItem {
            instance_id: r.get(0),
            form_id: r.get(1),
            form_version: r.get(2),
            device_id: r.get(3),
            enumerator: r.get(4),
            participant_id: r.get(5),
            round: r.get(6),
            district: None,
            state: ReviewState::parse(&state).unwrap_or(ReviewState::Received),
            sealed: r.get(8),
            deprecated_id: r.get(9),
            edited_after_return: r.get(10),
            received_at: r.get(11),
            comments: u(r.get(12)) as usize,
        },
        u(r.get(13)),
        r.get(14),
    )
}

const EVENT_COLUMNS: &str = "action_id, instance_id, kind, state_after, comments, reviewer, role, \
     token_id, reviewer_key, at, recorded_at, body, signature";

fn event(r: &Row) -> ReviewEvent {
    let kind: String = r.get(2);
    let state: String = r.get(3);
    let comments: String = r.get(4);
    let role: String = r.get(6);
    let key: Vec<u8> = r.get(8);
    let signature: Vec<u8> = r.get(12);
    ReviewEvent {
        action_id: r.get(0),
        instance_id: r.get(1),
        kind: ReviewKind::parse(&kind).unwrap_or(ReviewKind::Comment),
        state_after: ReviewState::parse(&state).unwrap_or(ReviewState::Received),
        comments: serde_json::from_str(&comments).unwrap_or_default(),
        reviewer: r.get(5),
        role: Role::parse(&role).unwrap_or(Role::Researcher),
        token_id: r.get(7),
        reviewer_key: enumera_core::bundle::hex(&key),
        at: r.get(9),
        recorded_at: r.get(10),
        body: r.get(11),
        signature: signature.try_into().unwrap_or([0; 64]),
    }
}

/// `display.district` by participant id from rosters' JSON, oldest
/// published first so that the latest wins (a roster is
/// `{"participants": [...]}` or a bare list), as SQLite reads it.
fn districts(rosters: &[Vec<u8>]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for json in rosters {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(json) else { continue };
        let list = match &v {
            serde_json::Value::Array(a) => a,
            other => match other.get("participants").and_then(|p| p.as_array()) {
                Some(a) => a,
                None => continue,
            },
        };
        for p in list {
            let id = p.get("id").and_then(|i| i.as_str());
            let district = p.pointer("/display/district").and_then(|d| d.as_str());
            if let (Some(id), Some(district)) = (id, district) {
                out.insert(id.to_string(), district.to_string());
            }
        }
    }
    out
}

impl Inner {
    fn districts(&mut self) -> Result<HashMap<String, String>, CentralError> {
        let map = self.err("reading the rosters' districts");
        let rows = self
            .client()
            .query("SELECT json FROM rosters ORDER BY published_at, name", &[])
            .map_err(map)?;
        Ok(districts(&rows.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect::<Vec<_>>()))
    }

    fn items(
        &mut self,
        where_: &str,
        args: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> Result<Vec<(ReviewItem, u64, String)>, CentralError> {
        let map = self.err(what.to_string());
        let rows = self.client().query(&item_sql(where_), args).map_err(map)?;
        let mut items: Vec<_> = rows.iter().map(item).collect();
        if !items.is_empty() {
            let districts = self.districts()?;
            for (i, _, _) in &mut items {
                i.district = i.participant_id.as_ref().and_then(|p| districts.get(p).cloned());
            }
        }
        Ok(items)
    }

    fn review_events_impl(&mut self, instance_id: &str) -> Result<Vec<ReviewEvent>, CentralError> {
        let map = self.err(format!("reading the review history of {instance_id}"));
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM review_events WHERE instance_id = $1 ORDER BY id");
        Ok(self.client().query(&sql, &[&instance_id]).map_err(map)?.iter().map(event).collect())
    }

    /// Appends `signed` by `who` in one transaction with the check of the
    /// move from the version's state. The response's row is locked first,
    /// so that actions on one version from several servers apply one after
    /// the other (SQLite's IMMEDIATE transaction).
    fn record_review_impl(
        &mut self,
        who: &Principal,
        signed: &SignedAction,
    ) -> Result<ReviewOutcome, CentralError> {
        let a = &signed.action;
        let map = self.err(format!("recording review action {}", a.action_id));
        let target = self.target.clone();
        let sql = |e| {
            CentralError::postgres(&target, format!("recording review action {}", a.action_id), e)
        };
        let mut tx = self.client().transaction().map_err(map)?;
        let held = tx
            .query_opt(
                "SELECT 1 FROM responses WHERE instance_id = $1 FOR UPDATE",
                &[&a.instance_id],
            )
            .map_err(sql)?;
        let not_held = || CentralError::NotReviewable {
            instance_id: a.instance_id.clone(),
            reason: "central holds no response with that id".into(),
        };
        if held.is_none() {
            return Err(not_held());
        }
        let state: String = tx
            .query_one(
                &format!("SELECT {STATE} FROM responses r WHERE r.instance_id = $1"),
                &[&a.instance_id],
            )
            .map_err(sql)?
            .get(0);
        let state = ReviewState::parse(&state).ok_or_else(not_held)?;
        let known: Option<String> = tx
            .query_opt(
                "SELECT instance_id FROM review_events WHERE action_id = $1",
                &[&a.action_id],
            )
            .map_err(sql)?
            .map(|r| r.get(0));
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
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            &[
                &a.action_id,
                &a.instance_id,
                &a.kind.as_str(),
                &after.as_str(),
                &comments,
                &who.subject,
                &who.role.as_str(),
                &who.token_id,
                &&signed.reviewer_key()[..],
                &a.at,
                &now(),
                &signed.body,
                &&signed.signature[..],
            ],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(ReviewOutcome {
            action_id: a.action_id.clone(),
            instance_id: a.instance_id.clone(),
            state: after,
            new: true,
        })
    }
}

impl PgCentral {
    pub(super) fn review_items_impl(&self) -> Result<Vec<ReviewItem>, CentralError> {
        self.read(|s| {
            Ok(s.items("true", &[], "listing responses for review")?
                .into_iter()
                .map(|(i, _, _)| i)
                .collect())
        })
    }

    pub(super) fn review_item_impl(
        &self,
        instance_id: &str,
    ) -> Result<Option<ReviewItem>, CentralError> {
        self.read(|s| {
            let what = format!("reading {instance_id} for review");
            Ok(s.items("r.instance_id = $1", &[&instance_id], &what)?
                .into_iter()
                .next()
                .map(|(i, _, _)| i))
        })
    }

    pub(super) fn review_events(
        &self,
        instance_id: &str,
    ) -> Result<Vec<ReviewEvent>, CentralError> {
        self.read(|s| s.review_events_impl(instance_id))
    }

    pub(super) fn record_review_outer(
        &mut self,
        who: &Principal,
        signed: &SignedAction,
    ) -> Result<ReviewOutcome, CentralError> {
        self.inner.get_mut().record_review_impl(who, signed)
    }

    pub(super) fn returned_to_impl(
        &self,
        device_id: &str,
    ) -> Result<Vec<ReturnedResponse>, CentralError> {
        self.read(|s| {
            let what = format!("listing the returns of device {device_id}");
            let items = s.items(
                &format!("r.device_id = $1 AND {STATE} = 'rejected'"),
                &[&device_id],
                &what,
            )?;
            let mut out = Vec::with_capacity(items.len());
            for (item, seq, entry_hash) in items {
                let events = s.review_events_impl(&item.instance_id)?;
                let Some(reject) = events.iter().rev().find(|e| e.kind == ReviewKind::Reject)
                else {
                    continue;
                };
                let comments: Vec<Comment> =
                    events.iter().flat_map(|e| e.comments.iter().cloned()).collect();
                out.push(returned(&item, seq, entry_hash, reject, comments));
            }
            Ok(out)
        })
    }

    /// Review events and states of current responses, for export (the
    /// export's filter: `$1` form, `$2` version, `$3` since).
    pub(super) fn review_export_impl(
        &self,
        filter: &crate::export::Filter,
    ) -> Result<crate::export::ReviewExport, CentralError> {
        use crate::export::{ReviewExport, ReviewRow, ReviewStatusRow};
        const FILTER: &str = "($1::TEXT IS NULL OR r.form_id = $1)
            AND ($2::TEXT IS NULL OR r.form_version = $2)
            AND ($3::TEXT IS NULL OR r.received_at >= $3)";
        let args: [&(dyn ToSql + Sync); 3] = [&filter.form, &filter.version, &filter.since];
        self.read(|s| {
            let map = s.err("reading review events for export");
            let events = s
                .client()
                .query(
                    &format!(
                        "SELECT e.instance_id, r.form_id, e.action_id, e.kind, e.state_after,
                                e.reviewer, e.role, e.token_id, e.at, e.recorded_at, e.comments
                         FROM review_events e JOIN responses r ON r.instance_id = e.instance_id
                         WHERE {FILTER} ORDER BY e.id"
                    ),
                    &args,
                )
                .map_err(map)?
                .iter()
                .map(|r| ReviewRow {
                    instance_id: r.get(0),
                    form_id: r.get(1),
                    action_id: r.get(2),
                    kind: r.get(3),
                    state_after: r.get(4),
                    reviewer: r.get(5),
                    role: r.get(6),
                    token_id: r.get(7),
                    at: r.get(8),
                    recorded_at: r.get(9),
                    comments: r.get(10),
                })
                .collect();
            let map = s.err("reading review states for export");
            let status = s
                .client()
                .query(
                    &format!(
                        "SELECT r.instance_id, r.form_id, {STATE}, r.deprecated_id,
                                {EDITED_AFTER_RETURN}
                         FROM responses r WHERE {CURRENT} AND {FILTER}
                         ORDER BY r.form_id, r.received_at, r.instance_id"
                    ),
                    &args,
                )
                .map_err(map)?
                .iter()
                .map(|r| ReviewStatusRow {
                    instance_id: r.get(0),
                    form_id: r.get(1),
                    state: r.get(2),
                    deprecated_id: r.get(3),
                    edited_after_return: r.get(4),
                })
                .collect();
            Ok(ReviewExport { events, status })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::districts;

    #[test]
    fn districts_read_both_roster_shapes_and_the_latest_wins() {
        let old = br#"{"participants": [{"id": "p1", "display": {"district": "Old"}}]}"#.to_vec();
        let new = br#"[{"id": "p1", "display": {"district": "Maputo"}},
                       {"id": "p2", "display": {"district": 3}}, {"display": {"district": "X"}}]"#
            .to_vec();
        let d = districts(&[old, b"not json".to_vec(), new]);
        assert_eq!(d.get("p1").map(String::as_str), Some("Maputo"));
        assert_eq!(d.len(), 1, "a district that is not text, or no id, is left out");
    }
}
