//! Responses and their answers: drafts are written one answer per committed
//! transaction, so killing the app loses at most the answer being typed.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::instruments::InstrumentKey;
use super::{Store, now, refs};

/// Where a response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseState {
    /// Being filled; every answer is saved as it is given.
    Draft,
    /// Frozen and waiting in the outbox.
    Finalized,
    /// Central acknowledged it with a receipt.
    Sent,
    /// Given up by the enumerator; kept until purged.
    Discarded,
}

impl ResponseState {
    pub const ALL: [ResponseState; 4] = [
        ResponseState::Draft,
        ResponseState::Finalized,
        ResponseState::Sent,
        ResponseState::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseState::Draft => "draft",
            ResponseState::Finalized => "finalized",
            ResponseState::Sent => "sent",
            ResponseState::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ResponseState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for ResponseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromSql for ResponseState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        ResponseState::parse(s)
            .ok_or_else(|| FromSqlError::Other(format!("unknown state {s:?}").into()))
    }
}

/// What a new draft is started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResponse {
    pub instrument: InstrumentKey,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    /// Defaults to the device's enumerator id (or name).
    pub enumerator: Option<String>,
}

impl NewResponse {
    pub fn new(instrument: InstrumentKey) -> Self {
        NewResponse { instrument, participant_id: None, round: None, enumerator: None }
    }
}

/// One response's header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    /// `uuid:` followed by a v4 UUID, as ODK writes `instanceID`.
    pub instance_id: String,
    pub instrument: InstrumentKey,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub enumerator: Option<String>,
    pub state: ResponseState,
    /// The instance this one replaces (ODK `deprecatedID`), for an edit.
    pub deprecated_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub sent_at: Option<String>,
    pub discarded_at: Option<String>,
}

/// One answered leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// ODK-style path, `/data/members[2]/name`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub value: String,
}

/// How many responses are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub draft: u64,
    pub finalized: u64,
    pub sent: u64,
    pub discarded: u64,
}

const RESPONSE_COLUMNS: &str = "instance_id, form_id, form_version, form_hash, participant_id, \
     round, enumerator, state, deprecated_id, created_at, updated_at, finalized_at, sent_at, discarded_at";

fn response_from_row(r: &Row<'_>) -> rusqlite::Result<Response> {
    Ok(Response {
        instance_id: r.get(0)?,
        instrument: InstrumentKey { form_id: r.get(1)?, version: r.get(2)?, hash: r.get(3)? },
        participant_id: r.get(4)?,
        round: r.get(5)?,
        enumerator: r.get(6)?,
        state: r.get(7)?,
        deprecated_id: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        finalized_at: r.get(11)?,
        sent_at: r.get(12)?,
        discarded_at: r.get(13)?,
    })
}

pub(crate) fn load_response(
    conn: &Connection,
    instance_id: &str,
) -> rusqlite::Result<Option<Response>> {
    conn.prepare_cached(&format!(
        "SELECT {RESPONSE_COLUMNS} FROM responses WHERE instance_id = ?1"
    ))?
    .query_row([instance_id], response_from_row)
    .optional()
}

pub(crate) fn state_of(
    conn: &Connection,
    instance_id: &str,
) -> rusqlite::Result<Option<ResponseState>> {
    conn.prepare_cached("SELECT state FROM responses WHERE instance_id = ?1")?
        .query_row([instance_id], |r| r.get(0))
        .optional()
}

/// The error for a write refused because the response is not a draft (or
/// does not exist).
pub(crate) fn not_draft(
    store_path: &std::path::Path,
    conn: &Connection,
    instance_id: &str,
    action: &'static str,
) -> StoreError {
    match state_of(conn, instance_id) {
        Ok(Some(state)) => {
            StoreError::NotDraft { instance_id: instance_id.to_string(), state, action }
        }
        Ok(None) => StoreError::UnknownResponse { instance_id: instance_id.to_string() },
        Err(e) => StoreError::sql(store_path, format!("reading response {instance_id}"), e),
    }
}

/// Marks the draft as just changed; false when it is not a draft. Every
/// draft write starts with this, inside its transaction.
pub(crate) fn touch_draft(
    conn: &Connection,
    instance_id: &str,
    at: &str,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE responses SET updated_at = ?2 WHERE instance_id = ?1 AND state = 'draft'",
        )?
        .execute(params![instance_id, at])?;
    Ok(n == 1)
}

impl Store {
    /// Starts a draft of the instrument `new.instrument` names.
    pub fn create_draft(&mut self, new: &NewResponse) -> Result<Response> {
        let key = &new.instrument;
        // Typed errors before the foreign key would say it less clearly.
        self.instrument_exists(key)?;
        if let Some(p) = &new.participant_id {
            self.participant(p)?;
        }
        let enumerator = match &new.enumerator {
            Some(e) => Some(e.clone()),
            None => match self.device() {
                Ok(d) => Some(d.enumerator_id.unwrap_or(d.name)),
                Err(StoreError::NotInitialized) => None,
                Err(e) => return Err(e),
            },
        };
        let at = now();
        let response = Response {
            instance_id: format!("uuid:{}", uuid::Uuid::new_v4()),
            instrument: key.clone(),
            participant_id: new.participant_id.clone(),
            round: new.round,
            enumerator,
            state: ResponseState::Draft,
            deprecated_id: None,
            created_at: at.clone(),
            updated_at: at,
            finalized_at: None,
            sent_at: None,
            discarded_at: None,
        };
        let Store { conn, path, .. } = self;
        let ctx = format!("starting a response to {:?}", key.form_id);
        let tx = super::write_tx(conn, path, &ctx)?;
        insert_response(&tx, &response).map_err(|e| StoreError::sql(path, ctx.clone(), e))?;
        tx.commit().map_err(|e| StoreError::sql(path, ctx, e))?;
        Ok(response)
    }

    fn instrument_exists(&self, key: &InstrumentKey) -> Result<()> {
        let found: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM instruments WHERE form_id = ?1 AND version = ?2 AND hash = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![key.form_id, key.version, key.hash], |r| r.get(0)).optional()
            })
            .map_err(self.err(format!("looking up instrument {:?}", key.form_id)))?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::UnknownInstrument {
                form_id: key.form_id.clone(),
                version: key.version.clone(),
                hash: key.hash.clone(),
            }),
        }
    }

    /// Saves one answer in its own committed transaction (the durable
    /// acknowledgement the enumerator relies on). Refused with
    /// [`StoreError::NotDraft`] once the response is finalized.
    pub fn set_answer(&mut self, instance_id: &str, reference: &str, value: &str) -> Result<()> {
        self.write_answers(instance_id, &[(reference, Some(value))], "answered")
    }

    /// Removes an answer (the question was cleared).
    pub fn clear_answer(&mut self, instance_id: &str, reference: &str) -> Result<()> {
        self.write_answers(instance_id, &[(reference, None)], "answered")
    }

    /// Saves several answers in one transaction (all or none), e.g. the
    /// preloaded answers the enumerator confirmed.
    pub fn set_answers(&mut self, instance_id: &str, answers: &[Answer]) -> Result<()> {
        let items: Vec<(&str, Option<&str>)> =
            answers.iter().map(|a| (a.reference.as_str(), Some(a.value.as_str()))).collect();
        self.write_answers(instance_id, &items, "answered")
    }

    /// Saves what a sitting changed since the last save — answers given,
    /// answers cleared and the audit events logged meanwhile — in one
    /// transaction: the log never describes answers the store lost, nor the
    /// other way round.
    pub fn save_draft(
        &mut self,
        instance_id: &str,
        answers: &[Answer],
        cleared: &[String],
        events: &[crate::session::AuditEvent],
    ) -> Result<()> {
        let mut items: Vec<(&str, Option<&str>)> =
            answers.iter().map(|a| (a.reference.as_str(), Some(a.value.as_str()))).collect();
        items.extend(cleared.iter().map(|r| (r.as_str(), None)));
        self.write_draft(instance_id, &items, events, "answered")
    }

    /// The audit events a response logged, in order.
    pub fn audit_events(&self, instance_id: &str) -> Result<Vec<crate::session::AuditEvent>> {
        let sql = "SELECT event, node, start_ms, end_ms, latitude, longitude, accuracy, old_value,
                          new_value, user, change_reason
                   FROM audit_events WHERE instance_id = ?1 ORDER BY seq";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map([instance_id], |r| {
                    Ok(crate::session::AuditEvent {
                        event: r.get(0)?,
                        node: r.get(1)?,
                        start: r.get(2)?,
                        end: r.get(3)?,
                        latitude: r.get(4)?,
                        longitude: r.get(5)?,
                        accuracy: r.get(6)?,
                        old_value: r.get(7)?,
                        new_value: r.get(8)?,
                        user: r.get(9)?,
                        change_reason: r.get(10)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err(format!("reading the audit log of {instance_id}")))
    }

    fn write_answers(
        &mut self,
        instance_id: &str,
        items: &[(&str, Option<&str>)],
        action: &'static str,
    ) -> Result<()> {
        self.write_draft(instance_id, items, &[], action)
    }

    fn write_draft(
        &mut self,
        instance_id: &str,
        items: &[(&str, Option<&str>)],
        events: &[crate::session::AuditEvent],
        action: &'static str,
    ) -> Result<()> {
        for (reference, _) in items {
            if let Some(reason) = refs::invalid_reason(reference) {
                return Err(StoreError::BadRef {
                    instance_id: instance_id.to_string(),
                    reference: reference.to_string(),
                    reason,
                });
            }
        }
        let Store { conn, path, files, .. } = self;
        let map = |e| StoreError::sql(path, format!("saving an answer of {instance_id}"), e);
        let tx = super::write_tx(conn, path, "saving an answer")?;
        if !touch_draft(&tx, instance_id, &now()).map_err(map)? {
            return Err(not_draft(path, &tx, instance_id, action));
        }
        // Values the changed answers held, when the response has files: an
        // answer that named one may have been its last reference.
        let has_files: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE instance_id = ?1)")
            .and_then(|mut s| s.query_row([instance_id], |r| r.get(0)))
            .map_err(map)?;
        let mut before = Vec::new();
        if has_files {
            for (reference, value) in items {
                let old: Option<String> = tx
                    .prepare_cached("SELECT value FROM answers WHERE instance_id = ?1 AND ref = ?2")
                    .and_then(|mut s| {
                        s.query_row(params![instance_id, reference], |r| r.get(0)).optional()
                    })
                    .map_err(map)?;
                before.extend(old.filter(|o| Some(o.as_str()) != *value));
            }
        }
        for (reference, value) in items {
            match value {
                Some(value) => tx
                    .prepare_cached(
                        "INSERT INTO answers (instance_id, ref, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (instance_id, ref) DO UPDATE SET value = excluded.value",
                    )
                    .and_then(|mut s| s.execute(params![instance_id, reference, value]))
                    .map_err(map)?,
                None => tx
                    .prepare_cached("DELETE FROM answers WHERE instance_id = ?1 AND ref = ?2")
                    .and_then(|mut s| s.execute(params![instance_id, reference]))
                    .map_err(map)?,
            };
        }
        if !events.is_empty() {
            let next: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events WHERE instance_id = ?1",
                )
                .and_then(|mut s| s.query_row([instance_id], |r| r.get(0)))
                .map_err(map)?;
            for (i, e) in events.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO audit_events (instance_id, seq, event, node, start_ms, end_ms,
                         latitude, longitude, accuracy, old_value, new_value, user, change_reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        instance_id,
                        next + i as i64,
                        e.event,
                        e.node,
                        e.start,
                        e.end,
                        e.latitude,
                        e.longitude,
                        e.accuracy,
                        e.old_value,
                        e.new_value,
                        e.user,
                        e.change_reason
                    ])
                })
                .map_err(map)?;
            }
        }
        let hashes =
            super::attachments::release_unreferenced(&tx, instance_id, &before).map_err(map)?;
        tx.commit().map_err(map)?;
        super::attachments::remove_unreferenced_files(conn, files, &hashes);
        Ok(())
    }

    /// One answer, if given.
    pub fn answer(&self, instance_id: &str, reference: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM answers WHERE instance_id = ?1 AND ref = ?2")
            .and_then(|mut s| s.query_row(params![instance_id, reference], |r| r.get(0)).optional())
            .map_err(self.err(format!("reading an answer of {instance_id}")))
    }

    /// Every answer of a response, ordered by reference.
    pub fn answers(&self, instance_id: &str) -> Result<Vec<Answer>> {
        self.response(instance_id)?;
        self.conn
            .prepare_cached("SELECT ref, value FROM answers WHERE instance_id = ?1 ORDER BY ref")
            .and_then(|mut s| {
                s.query_map([instance_id], |r| {
                    Ok(Answer { reference: r.get(0)?, value: r.get(1)? })
                })?
                .collect()
            })
            .map_err(self.err(format!("reading the answers of {instance_id}")))
    }

    /// Records how many instances a repeat has (`/data/members`, or with
    /// enclosing indices `/data/households[2]/members`).
    pub fn set_repeat_count(&mut self, instance_id: &str, repeat: &str, count: u32) -> Result<()> {
        if let Some(reason) = refs::invalid_reason(repeat) {
            return Err(StoreError::BadRef {
                instance_id: instance_id.to_string(),
                reference: repeat.to_string(),
                reason,
            });
        }
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("saving a repeat count of {instance_id}"), e);
        let tx = super::write_tx(conn, path, "saving a repeat count")?;
        if !touch_draft(&tx, instance_id, &now()).map_err(map)? {
            return Err(not_draft(path, &tx, instance_id, "changed"));
        }
        tx.execute(
            "INSERT INTO repeats (instance_id, ref, count) VALUES (?1, ?2, ?3)
             ON CONFLICT (instance_id, ref) DO UPDATE SET count = excluded.count",
            params![instance_id, repeat, count],
        )
        .map_err(map)?;
        tx.commit().map_err(map)
    }

    /// Repeat counts of a response, by repeat reference.
    pub fn repeat_counts(&self, instance_id: &str) -> Result<Vec<(String, u32)>> {
        self.conn
            .prepare_cached("SELECT ref, count FROM repeats WHERE instance_id = ?1 ORDER BY ref")
            .and_then(|mut s| s.query_map([instance_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(self.err(format!("reading repeat counts of {instance_id}")))
    }

    /// Removes one repeat instance (`/data/members[2]`) with everything under
    /// it, renumbers the later instances down by one and lowers the count,
    /// all in one transaction, as ODK does.
    pub fn remove_repeat_instance(&mut self, instance_id: &str, instance_ref: &str) -> Result<()> {
        let bad = |reason| StoreError::BadRef {
            instance_id: instance_id.to_string(),
            reference: instance_ref.to_string(),
            reason,
        };
        if let Some(reason) = refs::invalid_reason(instance_ref) {
            return Err(bad(reason));
        }
        let (base, removed) = refs::split_instance(instance_ref)
            .ok_or_else(|| bad("must end with an index such as [2]"))?;
        let Store { conn, path, files, .. } = self;
        let map =
            |e| StoreError::sql(path, format!("removing {instance_ref} from {instance_id}"), e);
        // Answers of the removed instance: a file one named may go with it.
        let mut gone = Vec::new();
        let tx = super::write_tx(conn, path, "removing a repeat instance")?;
        if !touch_draft(&tx, instance_id, &now()).map_err(map)? {
            return Err(not_draft(path, &tx, instance_id, "changed"));
        }
        // `[` sorts just before `\`, so this range is every ref under `base[`.
        let lo = format!("{base}[");
        let hi = format!("{base}\\");
        for table in ["answers", "repeats"] {
            let column = if table == "answers" { "value" } else { "count" };
            let mut rows: Vec<(u32, String, String, rusqlite::types::Value)> = tx
                .prepare(&format!(
                    "SELECT ref, {column} FROM {table} WHERE instance_id = ?1 AND ref >= ?2 AND ref < ?3"
                ))
                .and_then(|mut s| {
                    s.query_map(params![instance_id, lo, hi], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(map)?
                .into_iter()
                .filter_map(|(reference, v)| {
                    let (k, rest) = refs::instance_of(&reference, base)?;
                    let rest = rest.to_string();
                    Some((k, reference, rest, v))
                })
                .filter(|(k, ..)| *k >= removed)
                .collect();
            rows.sort_by_key(|(k, ..)| *k);
            for (k, reference, rest, value) in rows {
                if let (true, rusqlite::types::Value::Text(v)) = (k == removed, &value) {
                    gone.push(v.clone());
                }
                tx.execute(
                    &format!("DELETE FROM {table} WHERE instance_id = ?1 AND ref = ?2"),
                    params![instance_id, reference],
                )
                .map_err(map)?;
                if k > removed {
                    tx.execute(
                        &format!(
                            "INSERT INTO {table} (instance_id, ref, {column}) VALUES (?1, ?2, ?3)"
                        ),
                        params![instance_id, format!("{base}[{}]{rest}", k - 1), value],
                    )
                    .map_err(map)?;
                }
            }
        }
        tx.execute(
            "UPDATE repeats SET count = max(count - 1, 0) WHERE instance_id = ?1 AND ref = ?2",
            params![instance_id, base],
        )
        .map_err(map)?;
        let hashes =
            super::attachments::release_unreferenced(&tx, instance_id, &gone).map_err(map)?;
        tx.commit().map_err(map)?;
        super::attachments::remove_unreferenced_files(conn, files, &hashes);
        Ok(())
    }

    /// The response's header row.
    pub fn response(&self, instance_id: &str) -> Result<Response> {
        load_response(&self.conn, instance_id)
            .map_err(self.err(format!("reading response {instance_id}")))?
            .ok_or_else(|| StoreError::UnknownResponse { instance_id: instance_id.to_string() })
    }

    /// Every response on the device, oldest first.
    pub fn list_responses(&self) -> Result<Vec<Response>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses ORDER BY created_at, instance_id"
            ))
            .and_then(|mut s| s.query_map([], response_from_row)?.collect())
            .map_err(self.err("listing responses"))
    }

    /// How many responses are in each state.
    pub fn state_counts(&self) -> Result<StateCounts> {
        let rows: Vec<(ResponseState, u64)> = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM responses GROUP BY state")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(self.err("counting responses"))?;
        let mut counts = StateCounts::default();
        for (state, n) in rows {
            match state {
                ResponseState::Draft => counts.draft = n,
                ResponseState::Finalized => counts.finalized = n,
                ResponseState::Sent => counts.sent = n,
                ResponseState::Discarded => counts.discarded = n,
            }
        }
        Ok(counts)
    }

    /// Gives up a draft. It is kept (state `discarded`) until purged.
    pub fn discard(&mut self, instance_id: &str) -> Result<()> {
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("discarding {instance_id}"), e);
        let tx = super::write_tx(conn, path, "discarding a response")?;
        let at = now();
        let n = tx
            .execute(
                "UPDATE responses SET state = 'discarded', discarded_at = ?2, updated_at = ?2
                 WHERE instance_id = ?1 AND state = 'draft'",
                params![instance_id, at],
            )
            .map_err(map)?;
        if n == 0 {
            return Err(not_draft(path, &tx, instance_id, "discarded"));
        }
        tx.commit().map_err(map)
    }

    /// Starts an edit of a finalized (or sent) response: a new draft with
    /// the same answers whose `deprecated_id` names the one it replaces.
    pub fn edit(&mut self, instance_id: &str) -> Result<Response> {
        let enumerator = match self.device() {
            Ok(d) => Some(d.enumerator_id.unwrap_or(d.name)),
            Err(StoreError::NotInitialized) => None,
            Err(e) => return Err(e),
        };
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("starting an edit of {instance_id}"), e);
        let tx = super::write_tx(conn, path, "starting an edit")?;
        let old = load_response(&tx, instance_id)
            .map_err(map)?
            .ok_or_else(|| StoreError::UnknownResponse { instance_id: instance_id.to_string() })?;
        if !matches!(old.state, ResponseState::Finalized | ResponseState::Sent) {
            return Err(StoreError::InvalidState {
                instance_id: instance_id.to_string(),
                state: old.state,
                action: "edited (only a finalized response can be)",
            });
        }
        let sealed: bool = tx
            .query_row(
                "SELECT sealed IS NOT NULL FROM submissions WHERE instance_id = ?1",
                [instance_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(map)?
            .unwrap_or(false);
        if sealed {
            return Err(StoreError::InvalidState {
                instance_id: instance_id.to_string(),
                state: old.state,
                action: "edited on this device: it was sealed, its answers are not kept here",
            });
        }
        let open_edit: Option<String> = tx
            .query_row(
                "SELECT instance_id FROM responses WHERE deprecated_id = ?1 AND state = 'draft'",
                [instance_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(map)?;
        if let Some(draft_id) = open_edit {
            return Err(StoreError::EditInProgress {
                instance_id: instance_id.to_string(),
                draft_id,
            });
        }
        let at = now();
        let new = Response {
            instance_id: format!("uuid:{}", uuid::Uuid::new_v4()),
            instrument: old.instrument.clone(),
            participant_id: old.participant_id.clone(),
            round: old.round,
            enumerator: enumerator.or(old.enumerator.clone()),
            state: ResponseState::Draft,
            deprecated_id: Some(old.instance_id.clone()),
            created_at: at.clone(),
            updated_at: at,
            finalized_at: None,
            sent_at: None,
            discarded_at: None,
        };
        insert_response(&tx, &new).map_err(map)?;
        for (table, columns) in [
            ("answers", "ref, value"),
            ("repeats", "ref, count"),
            ("attachments", "name, sha256, size"),
        ] {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (instance_id, {columns})
                     SELECT ?1, {columns} FROM {table} WHERE instance_id = ?2"
                ),
                params![new.instance_id, instance_id],
            )
            .map_err(map)?;
        }
        tx.commit().map_err(map)?;
        Ok(new)
    }
}

fn insert_response(conn: &Connection, r: &Response) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO responses (instance_id, form_id, form_version, form_hash, participant_id,
             round, enumerator, state, deprecated_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?9, ?10)",
    )?
    .execute(params![
        r.instance_id,
        r.instrument.form_id,
        r.instrument.version,
        r.instrument.hash,
        r.participant_id,
        r.round,
        r.enumerator,
        r.deprecated_id,
        r.created_at,
        r.updated_at
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Payload;
    use crate::store::test_support::ready_store;

    fn plain() -> Payload {
        Payload::Plain { xml: "<data/>".into(), json: "{}".into() }
    }

    #[test]
    fn answers_are_saved_and_overwritten() {
        let (_d, mut store, key) = ready_store(&["a", "b"]);
        let r = store.create_draft(&NewResponse::new(key.clone())).unwrap();
        assert!(r.instance_id.starts_with("uuid:"));
        assert_eq!(r.enumerator.as_deref(), Some("enum-1"));
        store.set_answer(&r.instance_id, "/data/a", "1").unwrap();
        store.set_answer(&r.instance_id, "/data/b", "x").unwrap();
        store.set_answer(&r.instance_id, "/data/a", "2").unwrap();
        assert_eq!(store.answer(&r.instance_id, "/data/a").unwrap().as_deref(), Some("2"));
        store.clear_answer(&r.instance_id, "/data/b").unwrap();
        let all = store.answers(&r.instance_id).unwrap();
        assert_eq!(all, vec![Answer { reference: "/data/a".into(), value: "2".into() }]);
        assert!(store.response(&r.instance_id).unwrap().updated_at >= r.updated_at);
    }

    #[test]
    fn finalized_response_refuses_answers_with_a_typed_error() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let r = store.create_draft(&NewResponse::new(key)).unwrap();
        store.set_answer(&r.instance_id, "/data/a", "1").unwrap();
        store.finalize(&r.instance_id, plain()).unwrap();
        let err = store.set_answer(&r.instance_id, "/data/a", "2").unwrap_err();
        match &err {
            StoreError::NotDraft { instance_id, state, .. } => {
                assert_eq!(instance_id, &r.instance_id);
                assert_eq!(*state, ResponseState::Finalized);
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains(&r.instance_id));
        assert_eq!(store.answer(&r.instance_id, "/data/a").unwrap().as_deref(), Some("1"));
        assert!(matches!(store.discard(&r.instance_id), Err(StoreError::NotDraft { .. })));
        assert!(matches!(
            store.finalize(&r.instance_id, plain()),
            Err(StoreError::NotDraft { .. })
        ));
    }

    #[test]
    fn triggers_guard_finalized_rows_even_against_raw_sql() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let r = store.create_draft(&NewResponse::new(key)).unwrap();
        store.set_answer(&r.instance_id, "/data/a", "1").unwrap();
        store.finalize(&r.instance_id, plain()).unwrap();
        let id = &r.instance_id;
        for sql in [
            "UPDATE answers SET value = 'x' WHERE instance_id = ?1",
            "INSERT INTO answers (instance_id, ref, value) VALUES (?1, '/data/z', 'x')",
            "DELETE FROM answers WHERE instance_id = ?1",
            "UPDATE responses SET state = 'draft' WHERE instance_id = ?1",
            "UPDATE responses SET participant_id = 'p' WHERE instance_id = ?1",
            "DELETE FROM responses WHERE instance_id = ?1",
            "UPDATE submissions SET xml = '<x/>' WHERE instance_id = ?1",
            "DELETE FROM outbox WHERE instance_id = ?1",
            "UPDATE outbox SET content_hash = 'x' WHERE instance_id = ?1",
        ] {
            let err = store.conn.execute(sql, [id]).unwrap_err();
            assert!(err.to_string().contains("enumera:"), "{sql}: {err}");
        }
        assert!(store.verify_outbox().unwrap().is_empty());
    }

    #[test]
    fn unknown_response_and_bad_refs_are_typed_errors() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let err = store.set_answer("uuid:nope", "/data/a", "1").unwrap_err();
        assert!(
            matches!(&err, StoreError::UnknownResponse { instance_id } if instance_id == "uuid:nope")
        );
        let r = store.create_draft(&NewResponse::new(key)).unwrap();
        let err = store.set_answer(&r.instance_id, "data/a", "1").unwrap_err();
        assert!(matches!(err, StoreError::BadRef { .. }), "{err}");
        let missing = InstrumentKey { form_id: "g".into(), version: "1".into(), hash: "0".into() };
        let err = store.create_draft(&NewResponse::new(missing)).unwrap_err();
        assert!(matches!(err, StoreError::UnknownInstrument { .. }), "{err}");
        let mut with_p = NewResponse::new(r.instrument.clone());
        with_p.participant_id = Some("ghost".into());
        assert!(matches!(store.create_draft(&with_p), Err(StoreError::UnknownParticipant { .. })));
    }

    #[test]
    fn discard_keeps_the_response_until_purged() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let r = store.create_draft(&NewResponse::new(key)).unwrap();
        store.set_answer(&r.instance_id, "/data/a", "1").unwrap();
        store.discard(&r.instance_id).unwrap();
        let back = store.response(&r.instance_id).unwrap();
        assert_eq!(back.state, ResponseState::Discarded);
        assert!(back.discarded_at.is_some());
        assert_eq!(store.answers(&r.instance_id).unwrap().len(), 1);
        assert!(matches!(
            store.set_answer(&r.instance_id, "/data/a", "2"),
            Err(StoreError::NotDraft { .. })
        ));
        assert_eq!(store.state_counts().unwrap().discarded, 1);
        store.purge(&r.instance_id).unwrap();
        assert!(matches!(store.response(&r.instance_id), Err(StoreError::UnknownResponse { .. })));
    }

    #[test]
    fn edit_makes_a_new_draft_naming_the_old_one() {
        let (_d, mut store, key) = ready_store(&["a", "m/x"]);
        let r = store.create_draft(&NewResponse::new(key)).unwrap();
        store.set_answer(&r.instance_id, "/data/a", "1").unwrap();
        store.set_repeat_count(&r.instance_id, "/data/m", 1).unwrap();
        store.set_answer(&r.instance_id, "/data/m[1]/x", "y").unwrap();
        // Only finalized responses can be edited.
        assert!(matches!(store.edit(&r.instance_id), Err(StoreError::InvalidState { .. })));
        store.finalize(&r.instance_id, plain()).unwrap();
        let e = store.edit(&r.instance_id).unwrap();
        assert_eq!(e.deprecated_id.as_deref(), Some(r.instance_id.as_str()));
        assert_eq!(e.state, ResponseState::Draft);
        assert_eq!(e.instrument, r.instrument);
        assert_eq!(store.answers(&e.instance_id).unwrap(), store.answers(&r.instance_id).unwrap());
        assert_eq!(store.repeat_counts(&e.instance_id).unwrap(), vec![("/data/m".to_string(), 1)]);
        let err = store.edit(&r.instance_id).unwrap_err();
        assert!(
            matches!(&err, StoreError::EditInProgress { draft_id, .. } if *draft_id == e.instance_id)
        );
        store.set_answer(&e.instance_id, "/data/a", "2").unwrap();
        assert_eq!(store.answer(&r.instance_id, "/data/a").unwrap().as_deref(), Some("1"));
        let entry = store.finalize(&e.instance_id, plain()).unwrap();
        assert!(entry.content.contains(&format!("\"deprecated_id\":\"{}\"", r.instance_id)));
    }

    #[test]
    fn removing_a_repeat_instance_renumbers_the_rest() {
        let (_d, mut store, key) = ready_store(&["m/x"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.set_repeat_count(&id, "/data/m", 3).unwrap();
        for i in 1..=3 {
            store.set_answer(&id, &format!("/data/m[{i}]/x"), &format!("v{i}")).unwrap();
            store.set_repeat_count(&id, &format!("/data/m[{i}]/kids"), i).unwrap();
        }
        store.set_answer(&id, "/data/m[3]/kids[2]/name", "k").unwrap();
        store.set_answer(&id, "/data/mm[1]/x", "other repeat").unwrap();
        store.remove_repeat_instance(&id, "/data/m[2]").unwrap();
        let answers: Vec<(String, String)> =
            store.answers(&id).unwrap().into_iter().map(|a| (a.reference, a.value)).collect();
        assert_eq!(
            answers,
            vec![
                ("/data/m[1]/x".into(), "v1".into()),
                ("/data/m[2]/kids[2]/name".into(), "k".into()),
                ("/data/m[2]/x".into(), "v3".into()),
                ("/data/mm[1]/x".into(), "other repeat".into()),
            ]
        );
        assert_eq!(
            store.repeat_counts(&id).unwrap(),
            vec![
                ("/data/m".into(), 2),
                ("/data/m[1]/kids".into(), 1),
                ("/data/m[2]/kids".into(), 3)
            ]
        );
        assert!(matches!(
            store.remove_repeat_instance(&id, "/data/m"),
            Err(StoreError::BadRef { .. })
        ));
    }

    #[test]
    fn list_and_counts_cover_every_state() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id);
        }
        store.discard(&ids[0]).unwrap();
        store.finalize(&ids[1], plain()).unwrap();
        let e = store.finalize(&ids[2], plain()).unwrap();
        store.mark_sent(&[(e.seq, ids[2].clone())]).unwrap();
        let list = store.list_responses().unwrap();
        assert_eq!(list.iter().map(|r| r.instance_id.clone()).collect::<Vec<_>>(), ids);
        assert_eq!(
            list.iter().map(|r| r.state).collect::<Vec<_>>(),
            [
                ResponseState::Discarded,
                ResponseState::Finalized,
                ResponseState::Sent,
                ResponseState::Draft
            ]
        );
        assert_eq!(
            store.state_counts().unwrap(),
            StateCounts { draft: 1, finalized: 1, sent: 1, discarded: 1 }
        );
    }
}
