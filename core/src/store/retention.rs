//! Purging: responses leave the device only when the user asks, or by a
//! retention setting, and only once sent (acknowledged by a receipt) or
//! discarded. The outbox entry of a purged response stays, so the chain has
//! no gap.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::{ResponseState, Store};

/// How long sent and discarded responses are kept (`None`: until purged by hand).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub sent_days: Option<u32>,
    pub discarded_days: Option<u32>,
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub purged: Vec<String>,
    pub files_removed: usize,
}

const RETENTION_KEY: &str = "retention";

impl Store {
    /// Removes a sent or discarded response with its answers, submission and
    /// attachment links; a draft or unsent finalized response is refused.
    pub fn purge(&mut self, instance_id: &str) -> Result<PurgeReport> {
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("purging {instance_id}"), e);
        let tx = super::write_tx(conn, path, "purging a response")?;
        let state = super::responses::state_of(&tx, instance_id)
            .map_err(map)?
            .ok_or_else(|| StoreError::UnknownResponse { instance_id: instance_id.to_string() })?;
        if !matches!(state, ResponseState::Sent | ResponseState::Discarded) {
            return Err(StoreError::InvalidState {
                instance_id: instance_id.to_string(),
                state,
                action: "purged before a receipt acknowledges it (or it is discarded)",
            });
        }
        // Only a receipt from the central key an operator pinned lets a sent
        // response go (issue 15, finding 9); the database's trigger
        // `responses_purged_on_pinned_receipt` says the same.
        if state == ResponseState::Sent {
            let by_pinned: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM outbox o
                     WHERE o.instance_id = ?1
                       AND o.sent_by = (SELECT value FROM settings WHERE key = ?2)
                       AND (SELECT value FROM settings WHERE key = ?3) = '1')",
                    params![
                        instance_id,
                        super::sync_state::CENTRAL_KEY,
                        super::sync_state::CENTRAL_KEY_PINNED
                    ],
                    |r| r.get(0),
                )
                .map_err(map)?;
            if !by_pinned {
                return Err(StoreError::InvalidState {
                    instance_id: instance_id.to_string(),
                    state,
                    action: "purged: the receipt that acknowledged it is not from a central key \
                             pinned on this device (pin central's key with `enumera device --db \
                             DB trust --central-key HEX`, or `DeviceStore.trustCentral`)",
                });
            }
        }
        tx.execute("DELETE FROM responses WHERE instance_id = ?1", [instance_id]).map_err(map)?;
        tx.commit().map_err(map)?;
        let files_removed = self.collect_garbage()?;
        Ok(PurgeReport { purged: vec![instance_id.to_string()], files_removed })
    }

    pub fn set_retention(&mut self, retention: &Retention) -> Result<()> {
        let value = serde_json::to_string(retention).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![RETENTION_KEY, value],
            )
            .map_err(self.err("saving the retention setting"))?;
        Ok(())
    }

    pub fn retention(&self) -> Result<Retention> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [RETENTION_KEY], |r| r.get(0))
            .optional()
            .map_err(self.err("reading the retention setting"))?;
        Ok(value.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
    }

    /// Purges what the retention setting says has been kept long enough.
    pub fn apply_retention(&mut self, now: DateTime<Utc>) -> Result<PurgeReport> {
        let r = self.retention()?;
        let cutoff = |days: Option<u32>| {
            days.map(|d| {
                (now - chrono::Duration::days(i64::from(d)))
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            })
        };
        let (sent, discarded) = (cutoff(r.sent_days), cutoff(r.discarded_days));
        let expired: Vec<String> = self
            .conn
            .prepare(
                "SELECT instance_id FROM responses
                 WHERE (state = 'sent' AND ?1 IS NOT NULL AND sent_at < ?1)
                    OR (state = 'discarded' AND ?2 IS NOT NULL AND discarded_at < ?2)
                 ORDER BY instance_id",
            )
            .and_then(|mut s| s.query_map(params![sent, discarded], |r| r.get(0))?.collect())
            .map_err(self.err("finding responses past retention"))?;
        let mut report = PurgeReport::default();
        for id in expired {
            let one = self.purge(&id)?;
            report.purged.extend(one.purged);
            report.files_removed += one.files_removed;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Payload};

    #[test]
    fn retention_purges_only_old_sent_and_discarded() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id);
        }
        let plain = || Payload::Plain { xml: "<data/>".into(), json: "{}".into() };
        let sent = store.finalize(&ids[0], plain()).unwrap();
        store.pin_central_key(&[7; 32]).unwrap();
        store.mark_sent(&[(sent.seq, ids[0].clone())]).unwrap();
        store.finalize(&ids[1], plain()).unwrap();
        store.discard(&ids[2]).unwrap();
        assert_eq!(store.retention().unwrap(), Retention::default());
        // Without a setting nothing goes.
        let later = Utc::now() + chrono::Duration::days(100);
        assert!(store.apply_retention(later).unwrap().purged.is_empty());
        store.set_retention(&Retention { sent_days: Some(30), discarded_days: None }).unwrap();
        assert!(store.apply_retention(Utc::now()).unwrap().purged.is_empty());
        let report = store.apply_retention(later).unwrap();
        assert_eq!(report.purged, vec![ids[0].clone()]);
        store.set_retention(&Retention { sent_days: Some(30), discarded_days: Some(1) }).unwrap();
        assert_eq!(store.apply_retention(later).unwrap().purged, vec![ids[2].clone()]);
        let left: Vec<String> =
            store.list_responses().unwrap().into_iter().map(|r| r.instance_id).collect();
        assert_eq!(left, vec![ids[1].clone(), ids[3].clone()]);
        assert!(store.verify_outbox().unwrap().is_empty());
    }
}
