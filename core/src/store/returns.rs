//! Returns on the device: the responses of this device a reviewer sent
//! back (recorded from central's signed returns file,
//! [`crate::review::apply_returns`]), and reopening one as a draft that
//! corrects it.
//!
//! A returned version stays as it was (finalized or sent, in the outbox
//! chain). Its correction is a new draft naming it (`deprecated_id`), made
//! from its finalized answers when the device still holds them; a sealed
//! response (whose answers the device never kept) or one purged since is
//! reopened as a fresh draft for the same participant and round, with the
//! comments shown at their questions (docs/FORMAT.md, "Returns").

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::{Result, StoreError};
use super::instruments::InstrumentKey;
use super::responses::{Response, ResponseState};
use super::{NewResponse, Store, now};
use crate::review::{ApplyReturnsReport, Comment, ReturnedResponse};

/// Where a returned response stands on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Waiting for the enumerator.
    Returned,
    /// A correction is being filled (a draft).
    Reopened,
    /// The correction is finalized (in the outbox, or sent).
    Corrected,
}

/// A returned response as the device shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnInfo {
    #[serde(flatten)]
    pub returned: ReturnedResponse,
    pub status: ReturnStatus,
    /// The draft or version that corrects it.
    pub correction_id: Option<String>,
    pub received_at: String,
}

impl ReturnInfo {
    /// The comments made on one question (`/data/age`), in order.
    pub fn comments_at(&self, reference: &str) -> Vec<&Comment> {
        self.returned
            .comments
            .iter()
            .filter(|c| c.reference.as_deref() == Some(reference))
            .collect()
    }

    /// The comments on the whole response.
    pub fn general_comments(&self) -> Vec<&Comment> {
        self.returned.comments.iter().filter(|c| c.reference.is_none()).collect()
    }
}

const COLUMNS: &str = "instance_id, seq, entry_hash, form_id, participant_id, round, sealed, \
     action_id, reviewer, returned_at, comments, received_at";

impl Store {
    /// Records returns central sent (the caller checked the signature and
    /// the device), one transaction. A return must name this device's own
    /// outbox entry (sequence number, instance id and entry hash), else it
    /// is left out and reported in `not_ours`. A return already known only
    /// takes the comments of a newer statement.
    pub fn record_returns(
        &mut self,
        issued_at: &str,
        returns: &[ReturnedResponse],
    ) -> Result<ApplyReturnsReport> {
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, "recording returned responses", e);
        let tx = super::write_tx(conn, path, "recording returned responses")?;
        let mut report = ApplyReturnsReport::default();
        let at = now();
        for r in returns {
            let ours: Option<(String, String)> = tx
                .query_row(
                    "SELECT instance_id, entry_hash FROM outbox WHERE seq = ?1",
                    [r.seq],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(map)?;
            if ours.as_ref() != Some(&(r.instance_id.clone(), r.entry_hash.clone())) {
                report.not_ours.push(r.instance_id.clone());
                continue;
            }
            let comments = serde_json::to_string(&r.comments).unwrap_or_else(|_| "[]".into());
            let known: Option<(String, String)> = tx
                .query_row(
                    "SELECT issued_at, comments FROM returns WHERE instance_id = ?1",
                    [&r.instance_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(map)?;
            match known {
                None => {
                    tx.execute(
                        "INSERT INTO returns (instance_id, seq, entry_hash, form_id, participant_id,
                             round, sealed, action_id, reviewer, returned_at, comments, issued_at,
                             received_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                        params![
                            r.instance_id,
                            r.seq,
                            r.entry_hash,
                            r.form_id,
                            r.participant_id,
                            r.round,
                            r.sealed,
                            r.action_id,
                            r.reviewer,
                            r.returned_at,
                            comments,
                            issued_at,
                            at
                        ],
                    )
                    .map_err(map)?;
                    report.new.push(r.instance_id.clone());
                }
                // Comments only grow; an older statement brings nothing.
                Some((was_issued, was)) if issued_at > was_issued.as_str() && was != comments => {
                    tx.execute(
                        "UPDATE returns SET comments = ?2, issued_at = ?3 WHERE instance_id = ?1",
                        params![r.instance_id, comments, issued_at],
                    )
                    .map_err(map)?;
                    report.updated.push(r.instance_id.clone());
                }
                Some(_) => {}
            }
        }
        tx.commit().map_err(map)?;
        Ok(report)
    }

    /// Every response of this device a reviewer returned, oldest return first.
    pub fn returned_responses(&self) -> Result<Vec<ReturnInfo>> {
        let ids: Vec<String> = self
            .conn
            .prepare_cached("SELECT instance_id FROM returns ORDER BY returned_at, instance_id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("listing returned responses"))?;
        ids.iter().map(|id| self.returned(id)?.ok_or_else(|| self.gone(id))).collect()
    }

    fn gone(&self, instance_id: &str) -> StoreError {
        StoreError::UnknownResponse { instance_id: instance_id.to_string() }
    }

    /// The return of one version, if it was returned.
    pub fn returned(&self, instance_id: &str) -> Result<Option<ReturnInfo>> {
        let row = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM returns WHERE instance_id = ?1"))
            .and_then(|mut s| {
                s.query_row([instance_id], |r| {
                    let comments: String = r.get(10)?;
                    Ok((
                        ReturnedResponse {
                            instance_id: r.get(0)?,
                            seq: r.get(1)?,
                            entry_hash: r.get(2)?,
                            form_id: r.get(3)?,
                            participant_id: r.get(4)?,
                            round: r.get(5)?,
                            sealed: r.get(6)?,
                            action_id: r.get(7)?,
                            reviewer: r.get(8)?,
                            returned_at: r.get(9)?,
                            comments: serde_json::from_str(&comments).unwrap_or_default(),
                        },
                        r.get::<_, String>(11)?,
                    ))
                })
                .optional()
            })
            .map_err(self.err(format!("reading the return of {instance_id}")))?;
        let Some((returned, received_at)) = row else { return Ok(None) };
        // The latest response naming it: a draft is a correction under
        // way; a finalized or sent one, the correction; a discarded draft
        // leaves it returned.
        let correction: Option<(String, ResponseState)> = self
            .conn
            .prepare_cached(
                "SELECT instance_id, state FROM responses
                 WHERE deprecated_id = ?1 AND state <> 'discarded'
                 ORDER BY created_at DESC, instance_id LIMIT 1",
            )
            .and_then(|mut s| s.query_row([instance_id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(self.err(format!("reading the correction of {instance_id}")))?;
        let status = match correction.as_ref().map(|c| c.1) {
            None => ReturnStatus::Returned,
            Some(ResponseState::Draft) => ReturnStatus::Reopened,
            Some(_) => ReturnStatus::Corrected,
        };
        Ok(Some(ReturnInfo {
            returned,
            status,
            correction_id: correction.map(|c| c.0),
            received_at,
        }))
    }

    /// The return a draft corrects (its `deprecated_id`'s), for showing the
    /// comments at their questions while it is filled.
    pub fn return_corrected_by(&self, draft_id: &str) -> Result<Option<ReturnInfo>> {
        match self.response(draft_id)?.deprecated_id {
            Some(old) => self.returned(&old),
            None => Ok(None),
        }
    }

    /// Reopens a returned response as a draft that corrects it: its
    /// finalized answers when this device still holds them in plaintext,
    /// otherwise (sealed, or purged) a fresh draft for the same participant
    /// and round. A draft already under way is refused with
    /// [`StoreError::EditInProgress`] naming it.
    pub fn reopen(&mut self, instance_id: &str) -> Result<Response> {
        let info = self.returned(instance_id)?.ok_or_else(|| StoreError::InvalidState {
            instance_id: instance_id.to_string(),
            state: self.response(instance_id).map(|r| r.state).unwrap_or(ResponseState::Sent),
            action: "reopened: central did not return it",
        })?;
        match (info.status, info.correction_id.clone()) {
            (ReturnStatus::Reopened, Some(draft_id)) => {
                return Err(StoreError::EditInProgress {
                    instance_id: instance_id.to_string(),
                    draft_id,
                });
            }
            (ReturnStatus::Corrected, Some(_)) => {
                return Err(StoreError::InvalidState {
                    instance_id: instance_id.to_string(),
                    state: ResponseState::Sent,
                    action: "reopened: its correction is finalized already",
                });
            }
            _ => {}
        }
        let held_plain = match self.response(instance_id) {
            Ok(_) => !self.is_sealed(instance_id)?,
            Err(StoreError::UnknownResponse { .. }) => false,
            Err(e) => return Err(e),
        };
        if held_plain {
            return self.edit(instance_id);
        }
        self.fresh_correction(instance_id, &info)
    }

    fn is_sealed(&self, instance_id: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT sealed IS NOT NULL FROM submissions WHERE instance_id = ?1",
                [instance_id],
                |r| r.get(0),
            )
            .optional()
            .map(|s| s.unwrap_or(true))
            .map_err(self.err(format!("reading the submission of {instance_id}")))
    }

    /// A new draft naming `instance_id` as the version it corrects, with
    /// none of its answers (the device does not hold them).
    fn fresh_correction(&mut self, instance_id: &str, info: &ReturnInfo) -> Result<Response> {
        let content: Option<String> = self
            .conn
            .query_row("SELECT content FROM outbox WHERE instance_id = ?1", [instance_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err(format!("reading the outbox entry of {instance_id}")))?;
        let entry: super::EntryContent = content
            .and_then(|c| serde_json::from_str(&c).ok())
            .ok_or_else(|| self.gone(instance_id))?;
        let key = InstrumentKey {
            form_id: entry.form_id,
            version: entry.form_version,
            hash: entry.form_hash,
        };
        let mut new = NewResponse::new(key);
        new.participant_id = info.returned.participant_id.clone();
        new.round = info.returned.round;
        if let Some(p) = new.participant_id.clone()
            && self.participant(&p).is_err()
        {
            // The roster row may be gone from this device: keep the link.
            self.add_participant(Some(&p), Default::default(), Default::default())?;
        }
        let draft = self.create_draft(&new)?;
        let Store { conn, path, .. } = self;
        conn.execute(
            "UPDATE responses SET deprecated_id = ?2 WHERE instance_id = ?1 AND state = 'draft'",
            params![draft.instance_id, instance_id],
        )
        .map_err(|e| {
            StoreError::sql(path, format!("linking the correction of {instance_id}"), e)
        })?;
        self.response(&draft.instance_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Payload;
    use crate::store::test_support::ready_store;

    fn returned(store: &Store, id: &str, comments: Vec<Comment>) -> ReturnedResponse {
        let e = store.outbox_entry(id).unwrap().unwrap();
        ReturnedResponse {
            instance_id: id.into(),
            seq: e.seq,
            entry_hash: e.entry_hash,
            form_id: "f".into(),
            participant_id: None,
            round: Some(1),
            sealed: false,
            action_id: "a1".into(),
            reviewer: "Ana".into(),
            returned_at: "2026-12-01T10:00:00Z".into(),
            comments,
        }
    }

    #[test]
    fn a_return_is_recorded_once_reopened_from_its_answers_and_corrected() {
        let (_d, mut store, key) = ready_store(&["a", "b"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.set_answer(&id, "/data/a", "1").unwrap();
        store.set_answer(&id, "/data/b", "2").unwrap();
        store.finalize(&id, Payload::Plain { xml: "<data/>".into(), json: "{}".into() }).unwrap();
        let r = returned(&store, &id, vec![Comment::at("/data/a", "check a")]);
        let report = store.record_returns("t1", std::slice::from_ref(&r)).unwrap();
        assert_eq!(report.new, vec![id.clone()]);
        // The same statement again: nothing; a newer one with more comments: updated.
        assert_eq!(
            store.record_returns("t1", std::slice::from_ref(&r)).unwrap(),
            Default::default()
        );
        let mut more = r.clone();
        more.comments.push(Comment::general("and call me"));
        assert_eq!(store.record_returns("t2", &[more]).unwrap().updated, vec![id.clone()]);
        assert_eq!(
            store.record_returns("t0", std::slice::from_ref(&r)).unwrap(),
            Default::default()
        );
        let info = store.returned(&id).unwrap().unwrap();
        assert_eq!(info.status, ReturnStatus::Returned);
        assert_eq!(info.comments_at("/data/a")[0].text, "check a");
        assert_eq!(info.general_comments()[0].text, "and call me");

        let draft = store.reopen(&id).unwrap();
        assert_eq!(draft.deprecated_id.as_deref(), Some(id.as_str()));
        assert_eq!(store.answers(&draft.instance_id).unwrap(), store.answers(&id).unwrap());
        assert_eq!(store.returned(&id).unwrap().unwrap().status, ReturnStatus::Reopened);
        assert!(matches!(store.reopen(&id), Err(StoreError::EditInProgress { .. })));
        assert_eq!(
            store.return_corrected_by(&draft.instance_id).unwrap().unwrap().returned.instance_id,
            id
        );
        store.set_answer(&draft.instance_id, "/data/a", "3").unwrap();
        store
            .finalize(&draft.instance_id, Payload::Plain { xml: "<d/>".into(), json: "{}".into() })
            .unwrap();
        let info = store.returned(&id).unwrap().unwrap();
        assert_eq!(info.status, ReturnStatus::Corrected);
        assert_eq!(info.correction_id.as_deref(), Some(draft.instance_id.as_str()));
        assert!(store.reopen(&id).is_err());
        // What a return names never changes.
        let err = store.conn.execute("UPDATE returns SET reviewer = 'x'", []).unwrap_err();
        assert!(err.to_string().contains("cannot change"), "{err}");
    }

    #[test]
    fn a_return_of_an_entry_not_ours_is_refused() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.finalize(&id, Payload::Plain { xml: "<data/>".into(), json: "{}".into() }).unwrap();
        let good = returned(&store, &id, vec![Comment::general("x")]);
        let mut wrong_hash = good.clone();
        wrong_hash.entry_hash = "0".repeat(64);
        let mut other_id = good.clone();
        other_id.instance_id = "uuid:someone-else".into();
        let mut no_entry = good.clone();
        no_entry.seq = 9;
        let report = store.record_returns("t", &[wrong_hash, other_id, no_entry]).unwrap();
        assert_eq!(report.not_ours.len(), 3);
        assert!(store.returned_responses().unwrap().is_empty());
        assert!(matches!(store.reopen(&id), Err(StoreError::InvalidState { .. })));
    }
}
