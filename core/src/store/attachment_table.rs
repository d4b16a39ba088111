//! Attachment content kept in a table of the device database instead of a
//! folder beside it: for the browser, where SQLite lives in the Origin
//! Private File System and there is no file system for `std::fs` (issue 18
//! in the web app). Everything else about attachments is unchanged: the
//! same rows in `attachments`, the same limits, `max-pixels`, hashes and
//! orphan removal, so a browser keeps the same bytes a tablet does.
//!
//! The table plays the folder's part and follows its rules: content is
//! stored under its SHA-256 in its own committed transaction before the
//! answer naming it is committed (so there is never an answer without its
//! content), and content no attachment row names is removed after the
//! change that released it, or by garbage collection after the grace
//! period. Like the folder it is not part of the versioned schema: it is
//! created when a store is opened with [`AttachmentPlace::Database`].

use std::io::Read;

use rusqlite::{Connection, OptionalExtension, params};

/// Where a store keeps attachment content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachmentPlace {
    /// Content-addressed files in `<db>-attachments/` (tablets, the CLI).
    #[default]
    Folder,
    /// Rows of the `attachment_content` table in the database itself (the
    /// browser, where the database's OPFS file is the durable storage).
    Database,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS attachment_content (
    sha256 TEXT PRIMARY KEY NOT NULL,
    content BLOB NOT NULL,
    stored_at INTEGER NOT NULL
)";

pub(crate) fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(CREATE)
}

/// Reads `src` up to `cap + 1` bytes and stores it under its hash (an
/// intact copy already there is kept). `Ok(Err(seen))` when it passes `cap`:
/// nothing is kept.
pub(crate) fn store(
    conn: &Connection,
    src: impl Read,
    cap: u64,
) -> std::io::Result<std::result::Result<(String, u64), u64>> {
    let mut bytes = Vec::new();
    src.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let size = bytes.len() as u64;
    if size > cap {
        return Ok(Err(size));
    }
    let sha256 = super::sha256_hex(&bytes);
    let intact = read(conn, &sha256)?.is_some_and(|b| super::sha256_hex(&b) == sha256);
    if !intact {
        conn.execute(
            "INSERT INTO attachment_content (sha256, content, stored_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT (sha256) DO UPDATE SET content = excluded.content, stored_at = excluded.stored_at",
            params![sha256, bytes],
        )
        .map_err(io)?;
    } else {
        // Fresh again: garbage collection spares it until its answer commits.
        conn.execute(
            "UPDATE attachment_content SET stored_at = unixepoch() WHERE sha256 = ?1",
            [&sha256],
        )
        .map_err(io)?;
    }
    Ok(Ok((sha256, size)))
}

/// The content stored under `sha256`, if any.
pub(crate) fn read(conn: &Connection, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT content FROM attachment_content WHERE sha256 = ?1")
        .and_then(|mut s| s.query_row([sha256], |r| r.get(0)).optional())
        .map_err(io)
}

/// Removes the content under `sha256` (best effort, after the commit that
/// released it; garbage collection catches what this misses).
pub(crate) fn remove(conn: &Connection, sha256: &str) {
    let _ = conn.execute("DELETE FROM attachment_content WHERE sha256 = ?1", [sha256]);
}

/// Removes content no attachment row names, sparing what was stored in the
/// last `grace` (an answer about to be committed). Returns how many.
pub(crate) fn collect_garbage(
    conn: &Connection,
    grace: std::time::Duration,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM attachment_content
         WHERE stored_at <= unixepoch() - ?1
           AND sha256 NOT IN (SELECT sha256 FROM attachments)",
        [i64::try_from(grace.as_secs()).unwrap_or(i64::MAX)],
    )
}

/// SQLite's errors as I/O errors, so the folder's error handling (a full
/// disk or quota is `DiskFull`) applies unchanged.
fn io(e: rusqlite::Error) -> std::io::Error {
    let kind = match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => std::io::ErrorKind::StorageFull,
        _ => std::io::ErrorKind::Other,
    };
    std::io::Error::new(kind, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::FixedEnv;
    use crate::fill::{Fill, Start};
    use crate::instrument::{NodeKind, QuestionType};
    use crate::store::test_support::instrument;
    use crate::store::{Store, StoreError};

    fn content_rows(store: &Store) -> i64 {
        store.conn.query_row("SELECT count(*) FROM attachment_content", [], |r| r.get(0)).unwrap()
    }

    /// The browser's store: attach (with `max-pixels`), replace, clear,
    /// limits and finalize behave as with files, and no folder is made.
    #[test]
    fn content_in_the_database_follows_the_folders_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::open_keeping_attachments(dir.path().join("web.db"), AttachmentPlace::Database)
                .unwrap();
        store.init_device("browser", None).unwrap();
        let mut form = instrument("ph", "1", &["name", "photo", "file"]);
        form.children[1].parameters.insert("max-pixels".into(), "400".into());
        for (i, t) in [(1, QuestionType::Image), (2, QuestionType::File)] {
            if let NodeKind::Question(q) = &mut form.children[i].kind {
                q.qtype = t;
            }
        }
        store.install_instrument(&form).unwrap();
        let env = Box::new(FixedEnv::default());
        let mut fill = Fill::start(&mut store, "ph", &Start::default(), env).unwrap();
        let id = fill.instance_id().to_string();

        let big = crate::photo::tests::jpeg(1200, 900);
        let a = fill.attach_bytes(&mut store, "/data/photo", "site.jpg", &big).unwrap();
        let kept = store.read_attachment(&id, &a.name).unwrap();
        assert_eq!(kept, crate::photo::downscale(&big, 400).unwrap(), "the tablet's bytes");
        let b = fill.attach_bytes(&mut store, "/data/photo", "site.jpg", b"\xff\xd8 b").unwrap();
        assert_eq!(store.attachments(&id).unwrap(), vec![b.clone()]);
        assert_eq!(content_rows(&store), 1, "the replaced photo is gone");
        fill.set(&mut store, "/data/photo", "").unwrap();
        assert!(store.attachments(&id).unwrap().is_empty());
        assert_eq!(content_rows(&store), 0, "the cleared photo is gone");

        store.set_attachment_limits(crate::store::AttachmentLimits {
            max_file: 10,
            max_response: 100,
        });
        let err = fill.attach_bytes(&mut store, "/data/file", "big.pdf", &[7; 40]).unwrap_err();
        assert!(
            matches!(&err, crate::fill::FillError::Store(StoreError::AttachmentTooLarge { question: Some(q), size: 40, limit: 10, .. }) if q == "/data/file"),
            "{err}"
        );
        assert_eq!(content_rows(&store), 0, "nothing kept");
        assert_eq!(store.answer(&id, "/data/file").unwrap(), None);

        let f = fill.attach_bytes(&mut store, "/data/file", "ok.pdf", b"pdf").unwrap();
        let entry = fill.finalize(&mut store).unwrap();
        assert!(entry.content.contains(&f.sha256));
        assert!(store.verify_attachments().unwrap().is_empty());
        assert!(!store.attachments_dir().exists(), "no folder in the browser");

        // Content no row names goes at garbage collection.
        store.conn.execute("INSERT INTO attachment_content VALUES ('ab', x'00', 0)", []).unwrap();
        assert_eq!(store.collect_garbage().unwrap(), 1);
        assert_eq!(content_rows(&store), 1);
    }
}
