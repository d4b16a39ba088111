//! Schema versions: numbered SQL files under core/sql, applied in order in one
//! IMMEDIATE transaction, the version kept in SQLite's `user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::error::{Result, StoreError};

/// One schema step: the SQL that takes a database from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every schema step since the first release. Released files are never edited.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../sql/0001_init.sql") },
    Migration {
        version: 2,
        name: "participants",
        sql: include_str!("../../sql/0002_participants.sql"),
    },
    Migration {
        version: 3,
        name: "central_trust",
        sql: include_str!("../../sql/0003_central_trust.sql"),
    },
    Migration {
        version: 4,
        name: "supervision",
        sql: include_str!("../../sql/0004_supervision.sql"),
    },
    Migration {
        version: 5,
        name: "assignments",
        sql: include_str!("../../sql/0005_assignments.sql"),
    },
    Migration { version: 6, name: "audit", sql: include_str!("../../sql/0006_audit.sql") },
    Migration {
        version: 7,
        name: "form_media",
        sql: include_str!("../../sql/0007_form_media.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 7;

const _: () = assert!(MIGRATIONS[MIGRATIONS.len() - 1].version == SCHEMA_VERSION);

/// Brings the database up to the last of `migrations`. All steps run in one
/// transaction: a failure leaves the database exactly at the version it had.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, migrations: &[Migration]) -> Result<u32> {
    let latest = migrations.last().map_or(0, |m| m.version);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::sql(path, "starting the schema upgrade", e))?;
    let from =
        user_version(&tx).map_err(|e| StoreError::sql(path, "reading the schema version", e))?;
    if from > latest {
        return Err(StoreError::NewerVersion {
            path: path.to_path_buf(),
            found: from,
            supported: latest,
        });
    }
    if from == latest {
        return Ok(from);
    }
    for m in migrations.iter().filter(|m| m.version > from) {
        let step = |e| StoreError::Migration {
            path: path.to_path_buf(),
            from,
            version: m.version,
            name: m.name,
            source: e,
        };
        tx.execute_batch(m.sql).map_err(step)?;
        tx.pragma_update(None, "user_version", m.version).map_err(step)?;
    }
    tx.commit().map_err(|e| StoreError::sql(path, "committing the schema upgrade", e))?;
    Ok(latest)
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;
    use crate::store::test_support::instrument;
    use crate::store::{NewResponse, Payload, ResponseState, Store, StoreError};

    /// A database as each released schema version left it, with data.
    const FIXTURES: &[(u32, &str)] = &[
        (1, include_str!("../../sql/fixtures/v1.sql")),
        (2, include_str!("../../sql/fixtures/v2.sql")),
    ];

    fn load_fixture(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        // One transaction: statement by statement, each would wait for a sync.
        Connection::open(&path).unwrap().execute_batch(&format!("BEGIN; {sql}; COMMIT;")).unwrap();
        (dir, path)
    }

    /// Everything a migration must keep, read with plain SQL.
    fn snapshot(path: &Path) -> Vec<String> {
        let c = Connection::open(path).unwrap();
        let mut out = Vec::new();
        for q in [
            "SELECT instance_id, form_id, form_hash, participant_id, round, state, deprecated_id, created_at, finalized_at, sent_at FROM responses ORDER BY instance_id",
            "SELECT instance_id, ref, value FROM answers ORDER BY instance_id, ref",
            "SELECT instance_id, ref, count FROM repeats ORDER BY instance_id, ref",
            "SELECT seq, instance_id, content, entry_hash, sent_at FROM outbox ORDER BY seq",
            "SELECT instance_id, xml, json FROM submissions ORDER BY instance_id",
            "SELECT device_id, hex(public_key) FROM device",
            "SELECT form_id, version, hash, length(json) FROM instruments",
        ] {
            let mut stmt = c.prepare(q).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap();
            for row in rows {
                out.push(row.unwrap().join("|"));
            }
        }
        out
    }

    fn schema(conn: &Connection) -> Vec<(String, String, String)> {
        conn.prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn fixtures_match_the_released_schema_files() {
        for (version, sql) in FIXTURES {
            let (_d, path) = load_fixture(sql);
            let fixture = Connection::open(&path).unwrap();
            assert_eq!(user_version(&fixture).unwrap(), *version);
            let mut fresh = Connection::open_in_memory().unwrap();
            migrate(&mut fresh, Path::new(":memory:"), &MIGRATIONS[..*version as usize]).unwrap();
            assert_eq!(
                schema(&fixture),
                schema(&fresh),
                "fixture v{version} differs from the schema files"
            );
        }
    }

    #[test]
    fn every_past_version_upgrades_keeping_its_data() {
        for (version, sql) in FIXTURES {
            let (_d, path) = load_fixture(sql);
            let before = snapshot(&path);
            assert!(before.len() > 10, "fixture v{version} has data");
            let mut store = Store::open(&path).unwrap();
            assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
            drop(store);
            assert_eq!(snapshot(&path), before, "data changed upgrading from v{version}");
            store = Store::open(&path).unwrap();
            assert!(store.integrity_check().unwrap().is_empty());
            assert!(store.verify_outbox().unwrap().is_empty(), "{:?}", store.verify_outbox());
            // Participant ids used before the roster existed became roster rows.
            let p = store.participant("MZ-001").unwrap();
            assert_eq!(p.source, crate::store::ParticipantSource::Migrated);
            // The upgraded database keeps working: the chain continues.
            let draft = store
                .list_responses()
                .unwrap()
                .into_iter()
                .find(|r| r.state == ResponseState::Draft && r.participant_id.is_some())
                .unwrap();
            store.set_answer(&draft.instance_id, "/data/score", "4").unwrap();
            let last = store.outbox(0, false).unwrap().last().unwrap().seq;
            let e = store
                .finalize(
                    &draft.instance_id,
                    Payload::Plain { xml: "<data/>".into(), json: "{}".into() },
                )
                .unwrap();
            assert_eq!(e.seq, last + 1);
            assert!(store.verify_outbox().unwrap().is_empty());
            let sig = store.sign(b"m").unwrap();
            assert!(crate::store::verify_signature(&store.public_key().unwrap(), b"m", &sig));
        }
    }

    /// Version 3 records which central key acknowledged each entry: a
    /// version 2 device's receipts were all from the key it had learned, so
    /// they are that key's; the key stays learned, not pinned, so nothing
    /// is purged until an operator pins it.
    #[test]
    fn a_version_2_device_keeps_its_learned_key_unpinned() {
        let (_d, path) = load_fixture(FIXTURES[1].1);
        let mut store = Store::open(&path).unwrap();
        let trust = store.central_trust().unwrap().unwrap();
        assert!(!trust.pinned);
        let by: Vec<Option<String>> = store
            .conn
            .prepare("SELECT sent_by FROM outbox WHERE sent_at IS NOT NULL ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(by, vec![Some(crate::bundle::hex(&trust.key)); 2]);
        let sent = store.outbox(0, false).unwrap()[0].instance_id.clone();
        assert!(matches!(store.purge(&sent), Err(StoreError::InvalidState { .. })));
        assert!(store.pin_central_key(&trust.key).unwrap().reopened.is_empty());
        store.purge(&sent).unwrap();
    }

    #[test]
    fn a_failed_migration_rolls_back_leaving_old_data_readable() {
        let broken = Migration {
            version: SCHEMA_VERSION + 1,
            name: "broken",
            sql: "CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);",
        };
        let mut steps = MIGRATIONS.to_vec();
        steps.push(broken);
        let (_d, path) = load_fixture(FIXTURES[0].1);
        let before = snapshot(&path);
        let err = Store::open_with(&path, &steps).unwrap_err();
        match &err {
            StoreError::Migration { from: 1, version, name: "broken", .. } => {
                assert_eq!(*version, SCHEMA_VERSION + 1)
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("left at version 1"), "{err}");
        let c = Connection::open(&path).unwrap();
        assert_eq!(user_version(&c).unwrap(), 1, "v2 was rolled back with the broken step");
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('half_done', 'participants')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
        drop(c);
        assert_eq!(snapshot(&path), before);
        // A build without the broken step opens it fine.
        assert_eq!(Store::open(&path).unwrap().schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn versions_are_numbered_in_order_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
    }

    /// SQL text that rebuilds the database: schema, rows, then indexes and
    /// triggers (after the rows, which the triggers would refuse).
    fn dump(c: &Connection) -> String {
        let mut out = format!("PRAGMA user_version = {};\n", user_version(c).unwrap());
        let tables: Vec<(String, String)> = c
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (name, sql) in &tables {
            out.push_str(&format!("{sql};\n"));
            let cols: Vec<String> = c
                .prepare(&format!("PRAGMA table_info({name})"))
                .unwrap()
                .query_map([], |r| r.get(1))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let quoted =
                cols.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(" || ',' || ");
            let rows: Vec<String> = c
                .prepare(&format!(
                    "SELECT 'INSERT INTO {name} VALUES (' || {quoted} || ');' FROM {name}"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            for row in rows {
                out.push_str(&row);
                out.push('\n');
            }
        }
        let rest: Vec<String> = c
            .prepare("SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for sql in rest {
            out.push_str(&format!("{sql};\n"));
        }
        out
    }

    /// Writes core/sql/fixtures/v2.sql from the version 1 fixture, upgraded,
    /// with what version 2 could hold besides: central's key learned from a
    /// receipt and the entries it acknowledged (`ENUMERA_WRITE_FIXTURE=1
    /// cargo test -p enumera-core write_v2_fixture -- --ignored`, once).
    #[test]
    #[ignore]
    fn write_v2_fixture() {
        if std::env::var_os("ENUMERA_WRITE_FIXTURE").is_none() {
            return;
        }
        let (_d, path) = load_fixture(FIXTURES[0].1);
        let store = Store::open_with(&path, &MIGRATIONS[..2]).unwrap();
        store
            .conn
            .execute_batch(&format!(
                "INSERT INTO settings VALUES ('sync.central_public_key', '{}');
                 UPDATE outbox SET sent_at = '2026-11-30T09:00:00.000000Z' WHERE seq = 2;
                 UPDATE responses SET state = 'sent', sent_at = '2026-11-30T09:00:00.000000Z'
                 WHERE instance_id = (SELECT instance_id FROM outbox WHERE seq = 2);",
                crate::bundle::hex(&crate::bundle::receipt::public_key_of(&[5; 32]))
            ))
            .unwrap();
        let text = dump(&store.conn);
        let out = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/fixtures/v2.sql");
        std::fs::write(
            out,
            format!("-- A device database as schema version 2 left it, with data: the migration\n-- test fixture for version 2. Generated once by migrate::tests::write_v2_fixture; never edit.\n{text}"),
        )
        .unwrap();
    }

    /// Writes core/sql/fixtures/v1.sql. Run once when schema version 1 was
    /// current (`ENUMERA_WRITE_FIXTURE=1 cargo test -p enumera-core
    /// write_v1_fixture -- --ignored`); the file is then never regenerated.
    #[test]
    #[ignore]
    fn write_v1_fixture() {
        if std::env::var_os("ENUMERA_WRITE_FIXTURE").is_none() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let mut store = Store::open_with(&path, &MIGRATIONS[..1]).unwrap();
        store.init_device("fixture tablet", Some("enum-42")).unwrap();
        let key = store
            .install_instrument(&instrument("capacity", "2026-01", &["role*", "score", "m/name*"]))
            .unwrap();
        let plain = |n: u32| Payload::Plain {
            xml: format!("<data><n>{n}</n></data>"),
            json: format!("{{\"n\":{n}}}"),
        };
        let mut ids = Vec::new();
        for (n, participant) in
            [Some("MZ-001"), Some("MZ-001"), Some("MZ-002"), None, Some("MZ-001")]
                .iter()
                .enumerate()
        {
            let id = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
            store
                .conn
                .execute(
                    "UPDATE responses SET participant_id = ?2, round = ?3 WHERE instance_id = ?1",
                    params![id, participant, n as i64 + 1],
                )
                .unwrap();
            store.set_answer(&id, "/data/role", &format!("role {n}")).unwrap();
            store.set_repeat_count(&id, "/data/m", 2).unwrap();
            store.set_answer(&id, "/data/m[1]/name", "peer one").unwrap();
            store.set_answer(&id, "/data/m[2]/name", "peer two").unwrap();
            ids.push(id);
        }
        let a = store.finalize(&ids[0], plain(0)).unwrap();
        store.finalize(&ids[1], plain(1)).unwrap();
        store.mark_sent(&[(a.seq, ids[0].clone())]).unwrap();
        store.discard(&ids[3]).unwrap();
        let text = dump(&store.conn);
        let out = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/fixtures/v1.sql");
        std::fs::write(
            out,
            format!("-- A device database as schema version 1 left it, with data: the migration\n-- test fixture for version 1. Generated once by migrate::tests::write_v1_fixture; never edit.\n{text}"),
        )
        .unwrap();
    }
}
