//! Installed instruments, kept as canonical JSON keyed by form id, version
//! and content hash. Several versions live side by side: a draft stays on the
//! version it was started with.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::{Result, StoreError};
use super::{Store, now};
use crate::instrument::Instrument;

/// Names one installed instrument exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct InstrumentKey {
    pub form_id: String,
    pub version: String,
    pub hash: String,
}

/// A row of the installed-instrument list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledInstrument {
    pub key: InstrumentKey,
    pub title: String,
    pub installed_at: String,
}

impl Store {
    /// Installs an instrument. Installing the same content again is a no-op;
    /// different content under an installed (form id, version) is refused,
    /// since responses would then not say which one they were filled with.
    pub fn install_instrument(&mut self, instrument: &Instrument) -> Result<InstrumentKey> {
        let json = instrument.canonical_json();
        let key = InstrumentKey {
            form_id: instrument.form_id.clone(),
            version: instrument.version.clone(),
            hash: instrument.hash(),
        };
        // Installed before the hash left source rows out: the same content.
        let legacy_hash = crate::store::sha256_hex(&json);
        let Store { conn, path, .. } = self;
        let ctx = format!("installing instrument {:?} version {:?}", key.form_id, key.version);
        let map = |e| StoreError::sql(path, ctx.clone(), e);
        let tx = super::write_tx(conn, path, &ctx)?;
        let installed: Option<String> = tx
            .query_row(
                "SELECT hash FROM instruments WHERE form_id = ?1 AND version = ?2",
                params![key.form_id, key.version],
                |r| r.get(0),
            )
            .optional()
            .map_err(map)?;
        match installed {
            Some(h) if h == key.hash => return Ok(key),
            Some(h) if h == legacy_hash => return Ok(InstrumentKey { hash: h, ..key }),
            Some(h) => {
                return Err(StoreError::InstrumentVersionConflict {
                    form_id: key.form_id,
                    version: key.version,
                    installed: h,
                    new: key.hash,
                });
            }
            None => {}
        }
        tx.execute(
            "INSERT INTO instruments (form_id, version, hash, title, json, installed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key.form_id, key.version, key.hash, instrument.title, json, now()],
        )
        .map_err(map)?;
        tx.commit().map_err(map)?;
        Ok(key)
    }

    /// The instrument `key` names.
    pub fn instrument(&self, key: &InstrumentKey) -> Result<Instrument> {
        let json: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT json FROM instruments WHERE form_id = ?1 AND version = ?2 AND hash = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![key.form_id, key.version, key.hash], |r| r.get(0)).optional()
            })
            .map_err(self.err(format!("reading instrument {:?}", key.form_id)))?;
        let json = json.ok_or_else(|| StoreError::UnknownInstrument {
            form_id: key.form_id.clone(),
            version: key.version.clone(),
            hash: key.hash.clone(),
        })?;
        Instrument::from_json(&json).map_err(|e| StoreError::BadStoredInstrument {
            form_id: key.form_id.clone(),
            version: key.version.clone(),
            reason: e.to_string(),
        })
    }

    /// The most recently installed version of `form_id` (what a new response
    /// is started with).
    pub fn latest_instrument(&self, form_id: &str) -> Result<InstrumentKey> {
        self.conn
            .query_row(
                "SELECT version, hash FROM instruments WHERE form_id = ?1
                 ORDER BY installed_at DESC, rowid DESC LIMIT 1",
                [form_id],
                |r| {
                    Ok(InstrumentKey {
                        form_id: form_id.to_string(),
                        version: r.get(0)?,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(self.err(format!("looking up form {form_id:?}")))?
            .ok_or_else(|| StoreError::UnknownForm { form_id: form_id.to_string() })
    }

    /// Every installed instrument, by form id then installation time.
    pub fn instruments(&self) -> Result<Vec<InstalledInstrument>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT form_id, version, hash, title, installed_at FROM instruments
                 ORDER BY form_id, installed_at, rowid",
            )
            .map_err(self.err("listing instruments"))?;
        stmt.query_map([], |r| {
            Ok(InstalledInstrument {
                key: InstrumentKey { form_id: r.get(0)?, version: r.get(1)?, hash: r.get(2)? },
                title: r.get(3)?,
                installed_at: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(self.err("listing instruments"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{instrument, temp_store};

    #[test]
    fn versions_live_side_by_side() {
        let (_dir, mut store) = temp_store();
        let v1 = instrument("f", "1", &["a"]);
        let v2 = instrument("f", "2", &["a", "b"]);
        let k1 = store.install_instrument(&v1).unwrap();
        let k2 = store.install_instrument(&v2).unwrap();
        assert_eq!(k1.hash, v1.hash());
        assert_eq!(store.instrument(&k1).unwrap(), v1);
        assert_eq!(store.instrument(&k2).unwrap(), v2);
        assert_eq!(store.latest_instrument("f").unwrap(), k2);
        assert_eq!(store.instruments().unwrap().len(), 2);
        // A draft stays on the version it was started with.
        let draft = store.create_draft(&crate::store::NewResponse::new(k1.clone())).unwrap();
        assert_eq!(store.response(&draft.instance_id).unwrap().instrument, k1);
        // Same content again: no-op.
        assert_eq!(store.install_instrument(&v1).unwrap(), k1);
        assert_eq!(store.instruments().unwrap().len(), 2);
    }

    #[test]
    fn changed_content_under_same_version_is_refused() {
        let (_dir, mut store) = temp_store();
        store.install_instrument(&instrument("f", "1", &["a"])).unwrap();
        let err = store.install_instrument(&instrument("f", "1", &["a", "b"])).unwrap_err();
        assert!(matches!(err, StoreError::InstrumentVersionConflict { .. }), "{err}");
        assert!(err.to_string().contains("new version"));
    }

    #[test]
    fn unknown_form_is_a_typed_error() {
        let (_dir, store) = temp_store();
        let err = store.latest_instrument("nope").unwrap_err();
        assert!(matches!(&err, StoreError::UnknownForm { form_id } if form_id == "nope"));
    }
}
