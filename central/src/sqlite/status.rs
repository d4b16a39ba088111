//! Reading central's state: status, per-device sequence problems, receipts'
//! holdings, published instruments and the canonical dump.

use std::fmt::Write as _;

use enumera_core::bundle::receipt::ReceiptThrough;
use enumera_core::bundle::{ReceiptEntry, hex};
use enumera_core::instrument::Instrument;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::SqliteCentral;
use crate::error::CentralError;
use crate::now;
use crate::report::{DeviceHoldings, DeviceStatus, PublishedInstrument, Status};

fn sha_opt(bytes: Option<&[u8]>) -> String {
    bytes.map_or_else(|| "-".into(), |b| hex(&Sha256::digest(b)))
}

impl SqliteCentral {
    pub(super) fn public_key_impl(&self) -> Result<[u8; 32], CentralError> {
        Ok(self.identity()?.1)
    }

    pub(super) fn payload_impl(
        &self,
        instance_id: &str,
    ) -> Result<Option<enumera_core::store::Payload>, CentralError> {
        type Row = (Option<String>, Option<String>, Option<Vec<u8>>);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT xml, json, coalesce((SELECT sp.bytes FROM sealed_payloads sp
                     WHERE sp.instance_id = r.instance_id AND sp.content_hash = r.content_hash),
                     sealed)
                 FROM responses r WHERE instance_id = ?1",
                [instance_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.err("reading a response"))?;
        use enumera_core::store::Payload;
        Ok(match row {
            Some((_, _, Some(ciphertext))) => {
                Some(Payload::Sealed { ciphertext: ciphertext.into() })
            }
            Some((Some(xml), Some(json), None)) => Some(Payload::Plain { xml, json }),
            _ => None,
        })
    }

    pub(super) fn holdings_impl(&self, device_id: &str) -> Result<DeviceHoldings, CentralError> {
        let key: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT public_key FROM devices WHERE device_id = ?1", [device_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err("reading a device"))?;
        let public_key: [u8; 32] = key
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| CentralError::UnknownDevice { device_id: device_id.to_string() })?;
        let whole = super::chain::whole(&self.conn, device_id)
            .map_err(self.err("reading a device's chain"))?;
        let entries = self
            .conn
            .prepare_cached(
                "SELECT seq, instance_id, entry_hash FROM entries WHERE device_id = ?1 AND seq > ?2
                 ORDER BY seq, entry_hash",
            )
            .and_then(|mut s| {
                s.query_map(params![device_id, whole.seq], |r| {
                    Ok(ReceiptEntry {
                        seq: r.get(0)?,
                        instance_id: r.get(1)?,
                        entry_hash: r.get(2)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading a device's entries"))?;
        let through = whole.hash.map(|entry_hash| ReceiptThrough { seq: whole.seq, entry_hash });
        Ok(DeviceHoldings { device_id: device_id.to_string(), public_key, through, entries })
    }

    pub(super) fn status_impl(&self) -> Result<Status, CentralError> {
        let count = |sql: &str| -> Result<u64, CentralError> {
            self.conn.query_row(sql, [], |r| r.get(0)).map_err(self.err("counting"))
        };
        let mut devices = Vec::new();
        type Row = (String, String, Vec<u8>, bool, u64, u64, String);
        let rows: Vec<Row> = self
            .conn
            .prepare(
                "SELECT d.device_id, d.name, d.public_key, d.enrolled,
                        (SELECT count(*) FROM entries e WHERE e.device_id = d.device_id),
                        (SELECT coalesce(max(seq), 0) FROM entries e WHERE e.device_id = d.device_id),
                        d.last_seen
                 FROM devices d ORDER BY d.device_id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?
                .collect()
            })
            .map_err(self.err("listing devices"))?;
        for (device_id, name, key, enrolled, entries, max_seq, last_seen) in rows {
            let (gaps, forks) = super::chain::problems(&self.conn, &device_id)
                .map_err(self.err("checking sequences"))?;
            devices.push(DeviceStatus {
                device_id,
                name,
                public_key: hex(&key),
                enrolled,
                entries,
                max_seq,
                gaps,
                forks,
                last_seen,
            });
        }
        Ok(Status {
            central_public_key: hex(&self.identity()?.1),
            responses: count("SELECT count(*) FROM responses")?,
            current: count(&format!("SELECT count(*) FROM responses r WHERE {}", super::CURRENT))?,
            held_aside: count(&format!(
                "SELECT count(*) FROM responses r
                 WHERE r.superseded_by IS NULL AND r.edit_conflict = 0 AND NOT ({})",
                super::CURRENT
            ))?,
            sealed: count("SELECT count(*) FROM responses WHERE sealed IS NOT NULL")?,
            conflicts: count("SELECT count(*) FROM conflicts")?,
            devices,
            published: count("SELECT count(*) FROM published")?,
        })
    }

    pub(super) fn enrol_impl(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        let known: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT public_key FROM devices WHERE device_id = ?1", [device_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err("reading a device"))?;
        match known {
            Some(k) if k != public_key => Err(CentralError::EnrolConflict {
                device_id: device_id.to_string(),
                known: hex(&k),
            }),
            Some(_) => self
                .conn
                .execute("UPDATE devices SET enrolled = 1 WHERE device_id = ?1", [device_id])
                .map(|_| ())
                .map_err(self.err("enrolling a device")),
            None => {
                let at = now();
                self.conn
                    .execute(
                        "INSERT INTO devices (device_id, public_key, name, enrolled, first_seen, last_seen)
                         VALUES (?1, ?2, ?3, 1, ?4, ?4)",
                        params![device_id, &public_key[..], name, at],
                    )
                    .map(|_| ())
                    .map_err(self.err("enrolling a device"))
            }
        }
    }

    pub(super) fn publish_impl(&mut self, instrument: &Instrument) -> Result<bool, CentralError> {
        let hash = instrument.hash();
        let known: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT hash, unpublished_at FROM published WHERE form_id = ?1 AND version = ?2",
                params![instrument.form_id, instrument.version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("reading published instruments"))?;
        match known {
            Some((h, None)) if h == hash => Ok(false),
            // Served again after `unpublish`.
            Some((h, Some(_))) if h == hash => {
                self.conn
                    .execute(
                        "UPDATE published SET unpublished_at = NULL WHERE form_id = ?1 AND version = ?2",
                        params![instrument.form_id, instrument.version],
                    )
                    .map_err(self.err("publishing"))?;
                Ok(true)
            }
            Some((h, _)) => Err(CentralError::PublishConflict {
                form_id: instrument.form_id.clone(),
                version: instrument.version.clone(),
                published: h,
                new: hash,
            }),
            None => {
                self.conn
                    .execute(
                        "INSERT INTO published (form_id, version, hash, title, json, published_at, sealed)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            instrument.form_id,
                            instrument.version,
                            hash,
                            instrument.title,
                            instrument.canonical_json(),
                            now(),
                            !instrument.settings.public_keys.is_empty()
                        ],
                    )
                    .map_err(self.err("publishing"))?;
                Ok(true)
            }
        }
    }

    pub(super) fn unpublish_impl(
        &mut self,
        form_id: &str,
        version: Option<&str>,
    ) -> Result<usize, CentralError> {
        let exists: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM published
                 WHERE form_id = ?1 AND (?2 IS NULL OR version = ?2))",
                params![form_id, version],
                |r| r.get(0),
            )
            .map_err(self.err("reading published instruments"))?;
        if !exists {
            return Err(CentralError::NotPublished {
                form_id: form_id.to_string(),
                version: version.map(str::to_string),
            });
        }
        self.conn
            .execute(
                "UPDATE published SET unpublished_at = ?3
                 WHERE form_id = ?1 AND (?2 IS NULL OR version = ?2) AND unpublished_at IS NULL",
                params![form_id, version, now()],
            )
            .map_err(self.err("unpublishing"))
    }

    pub(super) fn grant_edit_impl(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        self.conn
            .execute(
                "INSERT INTO edit_grants (instance_id, device_id, reason, granted_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (instance_id, device_id) DO NOTHING",
                params![instance_id, device_id, reason, now()],
            )
            .map(|_| ())
            .map_err(self.err(format!("authorising device {device_id} to edit {instance_id}")))
    }

    pub(super) fn published_impl(&self) -> Result<Vec<PublishedInstrument>, CentralError> {
        self.conn
            .prepare(
                "SELECT form_id, version, hash, title, published_at, unpublished_at FROM published
                 ORDER BY form_id, version",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(PublishedInstrument {
                        form_id: r.get(0)?,
                        version: r.get(1)?,
                        hash: r.get(2)?,
                        title: r.get(3)?,
                        published_at: r.get(4)?,
                        unpublished_at: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("listing published instruments"))
    }

    pub(super) fn published_json_impl(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        self.conn
            .query_row(
                "SELECT json FROM published WHERE form_id = ?1 AND version = ?2",
                params![form_id, version],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("reading a published instrument"))
    }

    pub(super) fn dump_impl(&self) -> Result<String, CentralError> {
        let mut out = String::new();
        let map = self.err("dumping");
        let result = (|| -> rusqlite::Result<()> {
            let mut s = self.conn.prepare(
                "SELECT device_id, hex(public_key), enrolled FROM devices ORDER BY device_id",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let (id, key, enrolled): (String, String, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let _ = writeln!(out, "device {id} {} enrolled={enrolled}", key.to_lowercase());
            }
            let mut s = self.conn.prepare(
                "SELECT device_id, seq, entry_hash, prev_hash, content_hash, instance_id FROM entries
                 ORDER BY device_id, seq, entry_hash",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let v: (String, u64, String, String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                let _ = writeln!(out, "entry {} {} {} {} {} {}", v.0, v.1, v.2, v.3, v.4, v.5);
            }
            let mut s = self.conn.prepare(
                "SELECT instance_id, content_hash, device_id, seq, entry_hash, deprecated_id,
                        superseded_by, edit_conflict, xml, json, coalesce((SELECT sp.bytes
                        FROM sealed_payloads sp WHERE sp.instance_id = r.instance_id
                        AND sp.content_hash = r.content_hash), sealed), hold
                 FROM responses r ORDER BY instance_id",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let hash: String = r.get(1)?;
                let device: String = r.get(2)?;
                let seq: u64 = r.get(3)?;
                let entry: String = r.get(4)?;
                let deprecated: Option<String> = r.get(5)?;
                let superseded: Option<String> = r.get(6)?;
                let conflict: bool = r.get(7)?;
                let xml: Option<String> = r.get(8)?;
                let json: Option<String> = r.get(9)?;
                let sealed: Option<Vec<u8>> = r.get(10)?;
                let hold: Option<String> = r.get(11)?;
                let _ = writeln!(
                    out,
                    "response {id} {hash} {device} {seq} {entry} deprecated={} superseded_by={} \
                     edit_conflict={conflict} hold={} xml={} json={} sealed={}",
                    deprecated.as_deref().unwrap_or("-"),
                    superseded.as_deref().unwrap_or("-"),
                    hold.as_deref().unwrap_or("-"),
                    sha_opt(xml.as_deref().map(str::as_bytes)),
                    sha_opt(json.as_deref().map(str::as_bytes)),
                    sha_opt(sealed.as_deref()),
                );
            }
            let mut s = self.conn.prepare(
                "SELECT instance_id, name, sha256, size FROM response_attachments
                 ORDER BY instance_id, name",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let v: (String, String, String, u64) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let _ = writeln!(out, "attachment {} {:?} {} {}", v.0, v.1, v.2, v.3);
            }
            let mut s = self.conn.prepare(
                "SELECT instance_id, content_hash, kind, xml, json, coalesce((SELECT sp.bytes
                 FROM sealed_payloads sp WHERE sp.instance_id = c.instance_id
                 AND sp.content_hash = c.content_hash), sealed) FROM conflicts c
                 ORDER BY instance_id, content_hash",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let v: (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let xml: Option<String> = r.get(3)?;
                let json: Option<String> = r.get(4)?;
                let sealed: Option<Vec<u8>> = r.get(5)?;
                let _ = writeln!(
                    out,
                    "conflict {} {} {} xml={} json={} sealed={}",
                    v.0,
                    v.1,
                    v.2,
                    sha_opt(xml.as_deref().map(str::as_bytes)),
                    sha_opt(json.as_deref().map(str::as_bytes)),
                    sha_opt(sealed.as_deref())
                );
            }
            let mut s =
                self.conn.prepare("SELECT sha256, size, bytes FROM blobs ORDER BY sha256")?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let (sha, size, bytes): (String, u64, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let _ = writeln!(out, "blob {sha} {size} {}", sha_opt(Some(&bytes)));
            }
            let mut s = self.conn.prepare(
                "SELECT form_id, version, hash FROM published ORDER BY form_id, version",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let v: (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let _ = writeln!(out, "published {:?} {:?} {}", v.0, v.1, v.2);
            }
            Ok(())
        })();
        result.map_err(map)?;
        Ok(out)
    }
}
