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
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../sql/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "participants",
        sql: include_str!("../../sql/0002_participants.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

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
        tx.pragma_update(None, "user_version", m.version)
            .map_err(step)?;
    }
    tx.commit()
        .map_err(|e| StoreError::sql(path, "committing the schema upgrade", e))?;
    Ok(latest)
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_in_order_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
    }
}
