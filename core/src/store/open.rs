//! Opening the database file: refusing what must not be touched (a newer
//! schema, a read-only file), moving aside what cannot be read, then settings
//! and schema upgrade.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags};

use super::error::{Result, StoreError};
use super::migrate::{self, Migration};

/// How long a write waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn open_connection(path: &Path, migrations: &[Migration]) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::sql(path, "opening the database", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| StoreError::sql(path, "setting busy_timeout", e))?;

    // Read before writing anything: a newer or unreadable file must be left
    // exactly as it was (even `journal_mode=WAL` writes the header).
    let found = match probe(&conn) {
        Ok(v) => v,
        Err(e) if is_unreadable(&e) => {
            drop(conn);
            let moved_to = move_aside(path)?;
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                moved_to,
                reason: e.to_string(),
            });
        }
        Err(e) => return Err(StoreError::sql(path, "reading the database header", e)),
    };
    let supported = migrations.last().map_or(0, |m| m.version);
    if found > supported {
        return Err(StoreError::NewerVersion {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    // SQLite silently opens a write-protected file read-only.
    if conn.is_readonly(MAIN_DB).unwrap_or(false) {
        return Err(StoreError::ReadOnly {
            path: path.to_path_buf(),
        });
    }

    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| StoreError::sql(path, "switching to WAL", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Sqlite {
            path: path.to_path_buf(),
            context: format!("switching to WAL (the file system gave journal mode {mode})"),
            source: rusqlite::Error::InvalidQuery,
        });
    }
    conn.execute_batch(
        // secure_delete: deleted answers (a sealed response's plaintext, a
        // purge) are overwritten rather than left in free pages.
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;",
    )
    .map_err(|e| StoreError::sql(path, "applying connection settings", e))?;
    migrate::migrate(&mut conn, path, migrations)?;
    Ok(conn)
}

/// Reads the schema version and the schema itself, which fails on a file that
/// is not a database or whose first pages are damaged.
fn probe(conn: &Connection) -> rusqlite::Result<u32> {
    let version = migrate::user_version(conn)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(version)
}

fn is_unreadable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// Renames the file (and its WAL and shared-memory files) to
/// `NAME.corrupt-YYYYMMDDTHHMMSSZ`, never overwriting an earlier one.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let base = path.as_os_str().to_owned();
    let mut n = 0u32;
    let target = loop {
        let mut name = base.clone();
        name.push(format!(".corrupt-{stamp}"));
        if n > 0 {
            name.push(format!("-{n}"));
        }
        let candidate = PathBuf::from(name);
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    let io = |context: &str| {
        let context = context.to_string();
        move |source| StoreError::Io {
            path: path.to_path_buf(),
            context,
            source,
        }
    };
    std::fs::rename(path, &target).map_err(io("moving an unreadable database aside"))?;
    for suffix in ["-wal", "-shm"] {
        let mut from = base.clone();
        from.push(suffix);
        let from = PathBuf::from(from);
        if from.exists() {
            let mut to = target.as_os_str().to_owned();
            to.push(suffix);
            std::fs::rename(&from, PathBuf::from(to))
                .map_err(io("moving an unreadable database's WAL aside"))?;
        }
    }
    Ok(target)
}
