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
        return Err(StoreError::NewerVersion { path: path.to_path_buf(), found, supported });
    }
    // SQLite silently opens a write-protected file read-only.
    if conn.is_readonly(MAIN_DB).unwrap_or(false) {
        return Err(StoreError::ReadOnly { path: path.to_path_buf() });
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
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(version)
}

fn is_unreadable(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt))
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
        move |source| StoreError::Io { path: path.to_path_buf(), context, source }
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

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Store};

    #[test]
    fn newer_version_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE future (x); INSERT INTO future VALUES (1); PRAGMA user_version = 99;",
            )
            .unwrap();
        }
        let before = fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        match &err {
            StoreError::NewerVersion { found: 99, supported, .. } => {
                assert_eq!(*supported, crate::store::SCHEMA_VERSION)
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("update Enumera"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert!(!dir.path().join("d.db-wal").exists());
    }

    fn corrupt_case(bytes: impl FnOnce(&Path) -> Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let content = bytes(&path);
        fs::write(&path, &content).unwrap();
        let err = Store::open(&path).unwrap_err();
        let StoreError::Corrupt { moved_to, .. } = &err else { panic!("unexpected {err}") };
        assert!(!path.exists());
        assert_eq!(fs::read(moved_to).unwrap(), content, "moved aside byte for byte");
        assert!(moved_to.to_string_lossy().contains("d.db.corrupt-"));
        // The place is free for a new database; the old file stays.
        let store = Store::open(&path).unwrap();
        assert!(store.integrity_check().unwrap().is_empty());
        assert!(moved_to.exists());
    }

    #[test]
    fn a_file_that_is_not_a_database_is_moved_aside() {
        corrupt_case(|_| b"these are field notes, not a database\n".repeat(200));
    }

    #[test]
    fn a_database_with_a_damaged_schema_page_is_moved_aside() {
        corrupt_case(|path| {
            let (_d, mut store, key) = ready_store(&["a"]);
            let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
            store.set_answer(&id, "/data/a", "1").unwrap();
            store.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
            let mut bytes = fs::read(store.path()).unwrap();
            drop(store);
            let _ = path;
            for b in &mut bytes[100..1000] {
                *b = 0xA5;
            }
            bytes
        });
    }

    #[test]
    fn disk_full_loses_nothing_committed() {
        let (dir, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let pages: u64 = store.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        store.set_max_page_count(pages + 3).unwrap();
        let big = "x".repeat(1500);
        let mut acked = Vec::new();
        let err = loop {
            let reference = format!("/data/a{}", acked.len());
            match store.set_answer(&id, &reference, &big) {
                Ok(()) => acked.push(reference),
                Err(e) => break e,
            }
            assert!(acked.len() < 1000, "the cap never bit");
        };
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
        assert!(err.to_string().contains("full"), "{err}");
        assert!(!acked.is_empty());
        // Still usable for reading, and writing once there is room again.
        assert_eq!(store.answers(&id).unwrap().len(), acked.len());
        store.set_max_page_count(1_000_000).unwrap();
        store.set_answer(&id, "/data/after", "1").unwrap();
        drop(store);
        let store = Store::open(dir.path().join("device.db")).unwrap();
        for r in &acked {
            assert_eq!(store.answer(&id, r).unwrap().as_deref(), Some(big.as_str()), "{r}");
        }
        assert!(store.integrity_check().unwrap().is_empty());
    }

    /// Unmounts the small file system on drop.
    struct Mounted(std::path::PathBuf);

    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }

    #[test]
    fn a_full_file_system_loses_nothing_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("small");
        fs::create_dir(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "enumera-test"])
            .arg(&mnt)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "skipped: cannot mount a small tmpfs here (needs root); max_page_count test covers it"
            );
            return;
        }
        let _guard = Mounted(mnt.clone());
        let path = mnt.join("device.db");
        let mut store = Store::open(&path).unwrap();
        store.init_device("t", None).unwrap();
        let key = store
            .install_instrument(&crate::store::test_support::instrument("f", "1", &["a"]))
            .unwrap();
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        // Fill the file system, then free a little room for some answers.
        let filler = mnt.join("filler");
        {
            let mut f = fs::File::create(&filler).unwrap();
            let chunk = vec![0u8; 64 * 1024];
            while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
            let len = f.metadata().unwrap().len();
            f.set_len(len.saturating_sub(48 * 1024)).unwrap();
        }
        let value = "y".repeat(1000);
        let mut acked = Vec::new();
        let err = loop {
            let reference = format!("/data/a{}", acked.len());
            match store.set_answer(&id, &reference, &value) {
                Ok(()) => acked.push(reference),
                Err(e) => break e,
            }
            assert!(acked.len() < 2000, "the file system never filled");
        };
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
        drop(store);
        fs::remove_file(&filler).unwrap();
        let store = Store::open(&path).unwrap();
        assert!(store.integrity_check().unwrap().is_empty());
        for r in &acked {
            assert_eq!(store.answer(&id, r).unwrap().as_deref(), Some(value.as_str()), "{r}");
        }
    }

    /// Makes `path` unwritable even for root (`chattr +i`), undone on drop.
    struct ReadOnlyFile<'a>(&'a Path, bool);

    impl Drop for ReadOnlyFile<'_> {
        fn drop(&mut self) {
            if self.1 {
                let _ = std::process::Command::new("chattr").arg("-i").arg(self.0).status();
            }
            if let Ok(meta) = fs::metadata(self.0) {
                let mut perms = meta.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                let _ = fs::set_permissions(self.0, perms);
            }
        }
    }

    fn writable(path: &Path) -> bool {
        fs::OpenOptions::new().write(true).open(path).is_ok()
    }

    #[test]
    fn read_only_file_is_a_clear_error_and_keeps_data() {
        let (dir, mut store, key) = ready_store(&["a"]);
        let path = dir.path().join("device.db");
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.set_answer(&id, "/data/a", "kept").unwrap();
        drop(store);
        let mut perms = fs::metadata(&path).unwrap().permissions();
        perms.set_readonly(true);
        fs::set_permissions(&path, perms).unwrap();
        let mut guard = ReadOnlyFile(&path, false);
        if writable(&path) {
            // Root ignores permission bits; the immutable flag binds root too.
            guard.1 = std::process::Command::new("chattr")
                .arg("+i")
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
        }
        if writable(&path) {
            eprintln!("skipped: cannot make a file read-only here (root without chattr)");
            return;
        }
        let before = fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), before);
        drop(guard);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.answer(&id, "/data/a").unwrap().as_deref(), Some("kept"));
    }

    #[test]
    fn open_existing_refuses_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open_existing(dir.path().join("none.db")).unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        assert!(!dir.path().join("none.db").exists());
    }

    #[test]
    fn settings_are_applied() {
        let (_d, store, _) = ready_store(&["a"]);
        let get = |p: &str| -> String {
            store
                .conn
                .query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .unwrap()
        };
        assert_eq!(get("journal_mode"), "Text(\"wal\")");
        assert_eq!(get("synchronous"), "Integer(2)");
        assert_eq!(get("foreign_keys"), "Integer(1)");
        assert_eq!(get("temp_store"), "Integer(2)");
        assert_eq!(get("user_version"), format!("Integer({})", crate::store::SCHEMA_VERSION));
    }
}
