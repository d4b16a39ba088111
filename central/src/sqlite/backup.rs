//! `central backup` / `restore` for SQLite, with SQLite's online backup
//! API: the copy is one read transaction on the live database, so servers
//! keep ingesting (WAL lets the writer go on beside it) and the copy is
//! the database as it was at one moment.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::backup::Backup;

use super::SqliteCentral;
use crate::error::CentralError;

/// Copies every page of `from` into `to` in one step (-1: all pages), so
/// no write by another connection can make the copy restart: in WAL mode
/// that step is one read transaction, and writers go on beside it. Busy
/// (another connection checkpointing, say) waits and tries again, for up
/// to the 30 s every central command waits for a lock.
fn copy(from: &Connection, to: &mut Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::backup::StepResult;
    let backup = Backup::new(from, to)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some("the database stayed locked for 30 s".into()),
                ));
            }
        }
    }
}

impl SqliteCentral {
    /// Whether the database answers (a server's `/healthz`).
    pub fn ping(&self) -> Result<(), CentralError> {
        self.identity().map(drop)
    }

    /// Writes a consistent copy of the database to `out`, a new file (one
    /// file: no write-ahead log beside it). Refused when `out` exists.
    pub fn backup_to(&self, out: &Path) -> Result<(), CentralError> {
        if out.exists() {
            return Err(CentralError::Exists { path: out.to_path_buf() });
        }
        let sql = |context: &'static str| move |e| CentralError::sql(out, context, e);
        let mut dst = Connection::open(out).map_err(sql("creating the backup"))?;
        copy(&self.conn, &mut dst).map_err(sql("copying the database"))?;
        dst.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(sql("finishing the backup"))?;
        Ok(())
    }

    /// Restores a backup (`backup_to`'s file) into a new database at
    /// `path`, then opens it (upgrading an older schema). Refused when
    /// `path` exists, and when the backup is not a central database.
    pub fn restore_from(path: &Path, backup: &Path) -> Result<Self, CentralError> {
        if path.exists() {
            return Err(CentralError::Exists { path: path.to_path_buf() });
        }
        let src = SqliteCentral::open_backup(backup)?;
        let sql = |context: &'static str| move |e| CentralError::sql(path, context, e);
        let mut dst = Connection::open(path).map_err(sql("creating the database"))?;
        copy(&src, &mut dst).map_err(sql("restoring"))?;
        drop(dst);
        SqliteCentral::open(path)
    }

    /// A backup file, read only, checked to be a central database this
    /// build can read.
    fn open_backup(backup: &Path) -> Result<Connection, CentralError> {
        use rusqlite::OpenFlags;
        let sql = |context: &'static str| move |e| CentralError::sql(backup, context, e);
        if !backup.exists() {
            return Err(CentralError::NotFound { path: backup.to_path_buf() });
        }
        let conn = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql("opening the backup"))?;
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("reading the backup's schema version"))?;
        if version > super::SCHEMA_VERSION {
            return Err(CentralError::NewerVersion {
                path: backup.to_path_buf(),
                found: version,
                supported: super::SCHEMA_VERSION,
            });
        }
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(sql("checking the backup"))?;
        let keyed: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM central)", [], |r| r.get(0))
            .unwrap_or(false);
        if ok != "ok" || !keyed {
            return Err(CentralError::NotInitialized { path: backup.to_path_buf() });
        }
        Ok(conn)
    }
}
