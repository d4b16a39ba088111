//! Reading central's state in PostgreSQL, and the operator's writes that
//! are not ingests (enrolment, publishing, edit grants): as
//! `sqlite/status.rs`, statement for statement, so that both stores give
//! the same answers and the same canonical dump.

use std::fmt::Write as _;

use enumera_core::bundle::receipt::ReceiptThrough;
use enumera_core::bundle::{ReceiptEntry, hex};
use enumera_core::instrument::Instrument;
use enumera_core::store::Payload;

use super::{CURRENT, Inner, i, u};
use crate::error::CentralError;
use crate::now;
use crate::report::{DeviceHoldings, DeviceStatus, PublishedInstrument, Status};

/// A row's sealed bytes, whether chunked (0008_sealed_chunks.sql) or whole;
/// `{t}` the table (`responses` or `conflicts`).
const SEALED_BYTES: &str = "coalesce((SELECT string_agg(sc.bytes, ''::BYTEA ORDER BY sc.seq)
    FROM sealed_chunks sc WHERE sc.instance_id = {t}.instance_id
    AND sc.content_hash = {t}.content_hash), {t}.sealed)";

impl Inner {
    pub(super) fn payload_impl(
        &mut self,
        instance_id: &str,
    ) -> Result<Option<Payload>, CentralError> {
        let map = self.err("reading a response");
        let row = self
            .client()
            .query_opt(
                "SELECT xml, json, coalesce((SELECT string_agg(sc.bytes, ''::BYTEA ORDER BY sc.seq)
                     FROM sealed_chunks sc WHERE sc.instance_id = r.instance_id
                     AND sc.content_hash = r.content_hash), sealed)
                 FROM responses r WHERE instance_id = $1",
                &[&instance_id],
            )
            .map_err(map)?;
        Ok(row.and_then(|r| {
            let (xml, json, sealed): (Option<String>, Option<String>, Option<Vec<u8>>) =
                (r.get(0), r.get(1), r.get(2));
            match (xml, json, sealed) {
                (_, _, Some(ciphertext)) => Some(Payload::Sealed { ciphertext: ciphertext.into() }),
                (Some(xml), Some(json), None) => Some(Payload::Plain { xml, json }),
                _ => None,
            }
        }))
    }

    pub(super) fn holdings_impl(
        &mut self,
        device_id: &str,
    ) -> Result<DeviceHoldings, CentralError> {
        let map = self.err("reading a device");
        let key: Option<Vec<u8>> = self
            .client()
            .query_opt("SELECT public_key FROM devices WHERE device_id = $1", &[&device_id])
            .map_err(map)?
            .map(|r| r.get(0));
        let public_key: [u8; 32] = key
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| CentralError::UnknownDevice { device_id: device_id.to_string() })?;
        let map = self.err("reading a device's chain");
        let whole = super::chain::whole(self.client(), device_id).map_err(map)?;
        let map = self.err("reading a device's entries");
        let entries = self
            .client()
            .query(
                "SELECT seq, instance_id, entry_hash FROM entries WHERE device_id = $1 AND seq > $2
                 ORDER BY seq, entry_hash",
                &[&device_id, &i(whole.seq)],
            )
            .map_err(map)?
            .iter()
            .map(|r| ReceiptEntry { seq: u(r.get(0)), instance_id: r.get(1), entry_hash: r.get(2) })
            .collect();
        let through = whole.hash.map(|entry_hash| ReceiptThrough { seq: whole.seq, entry_hash });
        Ok(DeviceHoldings { device_id: device_id.to_string(), public_key, through, entries })
    }

    fn count(&mut self, sql: &str) -> Result<u64, CentralError> {
        let map = self.err("counting");
        Ok(u(self.client().query_one(sql, &[]).map_err(map)?.get(0)))
    }

    pub(super) fn status_impl(&mut self) -> Result<Status, CentralError> {
        let map = self.err("listing devices");
        let rows = self
            .client()
            .query(
                "SELECT d.device_id, d.name, d.public_key, d.enrolled,
                        (SELECT count(*) FROM entries e WHERE e.device_id = d.device_id),
                        (SELECT coalesce(max(seq), 0) FROM entries e WHERE e.device_id = d.device_id),
                        d.last_seen
                 FROM devices d ORDER BY d.device_id",
                &[],
            )
            .map_err(map)?;
        let mut devices = Vec::new();
        for r in rows {
            let device_id: String = r.get(0);
            let map = self.err("checking sequences");
            let (gaps, forks) = super::chain::problems(self.client(), &device_id).map_err(map)?;
            devices.push(DeviceStatus {
                device_id,
                name: r.get(1),
                public_key: hex(&r.get::<_, Vec<u8>>(2)),
                enrolled: r.get(3),
                entries: u(r.get(4)),
                max_seq: u(r.get(5)),
                gaps,
                forks,
                last_seen: r.get(6),
            });
        }
        Ok(Status {
            central_public_key: hex(&self.identity()?.1),
            responses: self.count("SELECT count(*) FROM responses")?,
            current: self.count(&format!("SELECT count(*) FROM responses r WHERE {CURRENT}"))?,
            held_aside: self.count(&format!(
                "SELECT count(*) FROM responses r
                 WHERE r.superseded_by IS NULL AND NOT r.edit_conflict AND NOT ({CURRENT})"
            ))?,
            sealed: self.count("SELECT count(*) FROM responses WHERE sealed IS NOT NULL")?,
            conflicts: self.count("SELECT count(*) FROM conflicts")?,
            devices,
            published: self.count("SELECT count(*) FROM published")?,
        })
    }

    pub(super) fn enrol_impl(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        let target = self.target.clone();
        let err = || {
            let target = target.clone();
            move |e| CentralError::postgres(&target, "enrolling a device", e)
        };
        let mut tx = self.client().transaction().map_err(err())?;
        let result = (|| {
            // Waits for ingests learning a device to finish (they check
            // that none is enrolled under the shared form of this lock).
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&super::ingest::ENROLMENT_LOCK])?;
            let known: Option<Vec<u8>> = tx
                .query_opt(
                    "SELECT public_key FROM devices WHERE device_id = $1 FOR UPDATE",
                    &[&device_id],
                )?
                .map(|r| r.get(0));
            match known {
                Some(k) if k != public_key => return Ok(Some(k)),
                Some(_) => {
                    tx.execute(
                        "UPDATE devices SET enrolled = true WHERE device_id = $1",
                        &[&device_id],
                    )?;
                }
                None => {
                    let at = now();
                    tx.execute(
                        "INSERT INTO devices (device_id, public_key, name, enrolled, first_seen, last_seen)
                         VALUES ($1, $2, $3, true, $4, $4)",
                        &[&device_id, &&public_key[..], &name, &at],
                    )?;
                }
            }
            Ok(None)
        })();
        match result.map_err(err())? {
            Some(k) => Err(CentralError::EnrolConflict {
                device_id: device_id.to_string(),
                known: hex(&k),
            }),
            None => tx.commit().map_err(err()),
        }
    }

    pub(super) fn publish_impl(&mut self, instrument: &Instrument) -> Result<bool, CentralError> {
        let hash = instrument.hash();
        let target = self.target.clone();
        let err = |context: &'static str| {
            let target = target.clone();
            move |e| CentralError::postgres(&target, context, e)
        };
        let mut tx = self.client().transaction().map_err(err("publishing"))?;
        let known = tx
            .query_opt(
                "SELECT hash, unpublished_at FROM published WHERE form_id = $1 AND version = $2
                 FOR UPDATE",
                &[&instrument.form_id, &instrument.version],
            )
            .map_err(err("reading published instruments"))?
            .map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1)));
        let new = match known {
            Some((h, None)) if h == hash => false,
            Some((h, Some(_))) if h == hash => {
                tx.execute(
                    "UPDATE published SET unpublished_at = NULL WHERE form_id = $1 AND version = $2",
                    &[&instrument.form_id, &instrument.version],
                )
                .map_err(err("publishing"))?;
                true
            }
            Some((h, _)) => {
                return Err(CentralError::PublishConflict {
                    form_id: instrument.form_id.clone(),
                    version: instrument.version.clone(),
                    published: h,
                    new: hash,
                });
            }
            None => {
                tx.execute(
                    "INSERT INTO published (form_id, version, hash, title, json, published_at, sealed)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &instrument.form_id,
                        &instrument.version,
                        &hash,
                        &instrument.title,
                        &instrument.canonical_json(),
                        &now(),
                        &!instrument.settings.public_keys.is_empty(),
                    ],
                )
                .map_err(err("publishing"))?;
                true
            }
        };
        tx.commit().map_err(err("publishing"))?;
        Ok(new)
    }

    pub(super) fn unpublish_impl(
        &mut self,
        form_id: &str,
        version: Option<&str>,
    ) -> Result<usize, CentralError> {
        let map = self.err("reading published instruments");
        let exists: bool = self
            .client()
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM published
                 WHERE form_id = $1 AND ($2::TEXT IS NULL OR version = $2))",
                &[&form_id, &version],
            )
            .map_err(map)?
            .get(0);
        if !exists {
            return Err(CentralError::NotPublished {
                form_id: form_id.to_string(),
                version: version.map(str::to_string),
            });
        }
        let map = self.err("unpublishing");
        self.client()
            .execute(
                "UPDATE published SET unpublished_at = $3
                 WHERE form_id = $1 AND ($2::TEXT IS NULL OR version = $2) AND unpublished_at IS NULL",
                &[&form_id, &version, &now()],
            )
            .map(|n| n as usize)
            .map_err(map)
    }

    pub(super) fn grant_edit_impl(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        let map = self.err(format!("authorising device {device_id} to edit {instance_id}"));
        self.client()
            .execute(
                "INSERT INTO edit_grants (instance_id, device_id, reason, granted_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (instance_id, device_id) DO NOTHING",
                &[&instance_id, &device_id, &reason, &now()],
            )
            .map(|_| ())
            .map_err(map)
    }

    pub(super) fn published_impl(&mut self) -> Result<Vec<PublishedInstrument>, CentralError> {
        let map = self.err("listing published instruments");
        Ok(self
            .client()
            .query(
                "SELECT form_id, version, hash, title, published_at, unpublished_at FROM published
                 ORDER BY form_id, version",
                &[],
            )
            .map_err(map)?
            .iter()
            .map(|r| PublishedInstrument {
                form_id: r.get(0),
                version: r.get(1),
                hash: r.get(2),
                title: r.get(3),
                published_at: r.get(4),
                unpublished_at: r.get(5),
            })
            .collect())
    }

    pub(super) fn published_json_impl(
        &mut self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        let map = self.err("reading a published instrument");
        Ok(self
            .client()
            .query_opt(
                "SELECT json FROM published WHERE form_id = $1 AND version = $2",
                &[&form_id, &version],
            )
            .map_err(map)?
            .map(|r| r.get(0)))
    }

    /// The same text as the SQLite store's `dump_impl`, line for line.
    /// Hashes of payloads are computed by the database (`sha256()`), so
    /// large blobs never cross the connection.
    pub(super) fn dump_impl(&mut self) -> Result<String, CentralError> {
        let mut out = String::new();
        let map = self.err("dumping");
        let rows = |c: &mut postgres::Client, sql: &str| c.query(sql, &[]);
        let text_sha =
            |col: &str| format!("coalesce(encode(sha256(convert_to({col}, 'UTF8')), 'hex'), '-')");
        let bytes_sha = |col: &str| format!("coalesce(encode(sha256({col}), 'hex'), '-')");
        let c = self.client();
        let result = (|| -> Result<(), postgres::Error> {
            for r in
                rows(c, "SELECT device_id, public_key, enrolled FROM devices ORDER BY device_id")?
            {
                let (id, key, enrolled): (String, Vec<u8>, bool) = (r.get(0), r.get(1), r.get(2));
                let _ = writeln!(out, "device {id} {} enrolled={enrolled}", hex(&key));
            }
            for r in rows(
                c,
                "SELECT device_id, seq, entry_hash, prev_hash, content_hash, instance_id FROM entries
                 ORDER BY device_id, seq, entry_hash",
            )? {
                let seq: i64 = r.get(1);
                let s = |k| r.get::<_, String>(k);
                let _ = writeln!(out, "entry {} {} {} {} {} {}", s(0), u(seq), s(2), s(3), s(4), s(5));
            }
            let responses = format!(
                "SELECT instance_id, content_hash, device_id, seq, entry_hash, deprecated_id,
                        superseded_by, edit_conflict, {}, {}, {}, hold
                 FROM responses ORDER BY instance_id",
                text_sha("xml"),
                text_sha("json"),
                bytes_sha(&SEALED_BYTES.replace("{t}", "responses")),
            );
            for r in rows(c, &responses)? {
                let opt = |k| r.get::<_, Option<String>>(k).unwrap_or_else(|| "-".into());
                let s = |k| r.get::<_, String>(k);
                let conflict: bool = r.get(7);
                let _ = writeln!(
                    out,
                    "response {} {} {} {} {} deprecated={} superseded_by={} \
                     edit_conflict={conflict} hold={} xml={} json={} sealed={}",
                    s(0),
                    s(1),
                    s(2),
                    u(r.get(3)),
                    s(4),
                    opt(5),
                    opt(6),
                    opt(11),
                    s(8),
                    s(9),
                    s(10),
                );
            }
            for r in rows(
                c,
                "SELECT instance_id, name, sha256, size FROM response_attachments
                 ORDER BY instance_id, name",
            )? {
                let (id, name, sha): (String, String, String) = (r.get(0), r.get(1), r.get(2));
                let _ = writeln!(out, "attachment {id} {name:?} {sha} {}", u(r.get(3)));
            }
            let conflicts = format!(
                "SELECT instance_id, content_hash, kind, {}, {}, {} FROM conflicts
                 ORDER BY instance_id, content_hash",
                text_sha("xml"),
                text_sha("json"),
                bytes_sha(&SEALED_BYTES.replace("{t}", "conflicts")),
            );
            for r in rows(c, &conflicts)? {
                let s = |k| r.get::<_, String>(k);
                let _ = writeln!(
                    out,
                    "conflict {} {} {} xml={} json={} sealed={}",
                    s(0),
                    s(1),
                    s(2),
                    s(3),
                    s(4),
                    s(5)
                );
            }
            for r in rows(
                c,
                &format!(
                    "SELECT sha256, size, encode(sha256({}), 'hex') FROM blobs b ORDER BY sha256",
                    super::export::BLOB_BYTES
                ),
            )? {
                let (sha, hash): (String, String) = (r.get(0), r.get(2));
                let _ = writeln!(out, "blob {sha} {} {hash}", u(r.get(1)));
            }
            for r in
                rows(c, "SELECT form_id, version, hash FROM published ORDER BY form_id, version")?
            {
                let v: (String, String, String) = (r.get(0), r.get(1), r.get(2));
                let _ = writeln!(out, "published {:?} {:?} {}", v.0, v.1, v.2);
            }
            Ok(())
        })();
        result.map_err(map)?;
        Ok(out)
    }
}
