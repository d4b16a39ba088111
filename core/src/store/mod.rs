//! The device database: installed instruments, drafts committed answer by
//! answer, finalized responses in a hash-chained outbox, attachments, the
//! participant roster and the device's identity.
//!
//! One SQLite file per device (WAL, `synchronous=FULL`), one writer
//! connection held by [`Store`]. The store keeps plain data: the session
//! engine decides what the answers mean and produces the submission; the store
//! makes sure that nothing it acknowledged is ever lost or silently changed.
//!
//! The life of a response:
//! [`Store::create_draft`] -> [`Store::set_answer`] (one committed
//! transaction each; also [`Store::set_repeat_count`],
//! [`Store::remove_repeat_instance`], [`Store::put_attachment`]) ->
//! [`Store::finalize`] with the [`Payload`] the session produced (plaintext,
//! or sealed by the sync work) -> outbox entry -> [`Store::mark_sent`] for
//! what a receipt covers -> [`Store::purge`] or [`Store::apply_retention`].
//! [`Store::edit`] starts a new draft naming the finalized one it replaces;
//! [`Store::discard`] gives a draft up.
//!
//! More connections (a screen listing responses while the interview writes)
//! are simply more `Store::open` calls on the same file: WAL lets readers run
//! beside the writer, and writers queue on the busy timeout.
//!
//! The Ed25519 secret seed is kept in the database for now; moving it to the
//! platform keystore (Android Keystore, iOS Keychain) is a binding concern.

mod assignments;
mod attachment_table;
mod attachments;
mod device;
mod error;
mod form_media;
mod instruments;
mod migrate;
mod open;
mod outbox;
mod participants;
#[cfg(test)]
mod proptests;
mod refs;
mod responses;
mod retention;
mod returns;
mod sync_state;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use assignments::AssignmentInfo;
pub use attachment_table::AttachmentPlace;
pub use attachments::{
    AttachmentInfo, AttachmentLimits, AttachmentProblem, AttachmentProblemKind, LimitKind,
};
pub use device::{DeviceIdentity, verify_signature};
pub use error::{Result, StoreError};
pub use form_media::{FORM_MEDIA_CHUNK, FormMediaEntry, FormMediaStatus};
pub use instruments::{InstalledInstrument, InstrumentKey};
pub use migrate::SCHEMA_VERSION;
pub use outbox::{
    ChainProblem, EntryContent, GENESIS_HASH, MarkSentReport, OutboxEntry, Payload, Submission,
    entry_hash,
};
pub use participants::{Participant, ParticipantSource, RosterImport};
pub use responses::{Answer, NewResponse, Response, ResponseState, StateCounts};
pub use retention::{PurgeReport, Retention};
pub use returns::{ReturnInfo, ReturnStatus};
pub use sync_state::{CentralTrust, PinReport};

/// How old an unreferenced attachment file must be before an open removes
/// it: younger ones may be another process's copy about to be committed.
pub const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// The device database. Not `Sync`: one writer per process, as SQLite wants.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Where attachment content is kept: content-addressed files
    /// (`<db>-attachments/ab/abcd...`) or, in the browser, a table.
    files: Files,
    /// How large attachments may be (issue 18, item 5).
    limits: AttachmentLimits,
}

impl Store {
    /// Opens the database at `path`, creating it when missing, and upgrades
    /// its schema. See [`StoreError`] for what is refused and why.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path.as_ref(), migrate::MIGRATIONS)
    }

    /// Opens an existing database; a missing file is an error rather than a
    /// new empty database (for commands other than `init`).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(StoreError::NotFound { path: path.to_path_buf() });
        }
        Self::open(path)
    }

    /// Like [`Store::open`], keeping attachment content where `place`
    /// says: [`AttachmentPlace::Database`] is for the browser, which has no
    /// folder beside its database (the web binding opens its store so).
    pub fn open_keeping_attachments(
        path: impl AsRef<Path>,
        place: AttachmentPlace,
    ) -> Result<Store> {
        Self::open_placed(path.as_ref(), migrate::MIGRATIONS, place)
    }

    /// Where this store keeps attachment content.
    pub fn attachment_place(&self) -> AttachmentPlace {
        self.files.place
    }

    pub(crate) fn open_with(path: &Path, migrations: &[migrate::Migration]) -> Result<Store> {
        Self::open_placed(path, migrations, AttachmentPlace::Folder)
    }

    fn open_placed(
        path: &Path,
        migrations: &[migrate::Migration],
        place: AttachmentPlace,
    ) -> Result<Store> {
        let conn = open::open_connection(path, migrations)?;
        if place == AttachmentPlace::Database {
            attachment_table::create(&conn)
                .map_err(|e| StoreError::sql(path, "creating the attachment table", e))?;
        }
        let mut files = path.as_os_str().to_owned();
        files.push("-attachments");
        let store = Store {
            conn,
            path: path.to_path_buf(),
            files: Files { dir: PathBuf::from(files), place },
            limits: AttachmentLimits::default(),
        };
        // Files a crash left between their copy and their answer's commit
        // (and temporary files of a copy cut short) go at the next open.
        // Best effort: an error here is reported by the next write instead.
        let _ = store.collect_garbage_older_than(ORPHAN_GRACE);
        Ok(store)
    }

    /// Sets how large attachments may be (the defaults otherwise).
    pub fn set_attachment_limits(&mut self, limits: AttachmentLimits) {
        self.limits = limits;
    }

    /// How large attachments may be.
    pub fn attachment_limits(&self) -> AttachmentLimits {
        self.limits
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder holding attachment files.
    pub fn attachments_dir(&self) -> &Path {
        &self.files.dir
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        migrate::user_version(&self.conn).map_err(self.err("reading the schema version"))
    }

    /// `PRAGMA integrity_check`: empty when the database is sound, else
    /// SQLite's list of problems.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt =
            self.conn.prepare("PRAGMA integrity_check").map_err(self.err("checking integrity"))?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(self.err("checking integrity"))?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// Caps the database at `pages` pages for this connection (SQLite's
    /// `max_page_count`); writes beyond it fail as if the disk were full.
    /// Returns the cap in force (never below the current size).
    pub fn set_max_page_count(&self, pages: u64) -> Result<u64> {
        self.conn
            .pragma_update_and_check(None, "max_page_count", pages, |r| r.get(0))
            .map_err(self.err("setting max_page_count"))
    }

    /// Maps a SQLite error from this store, with what we were doing.
    fn err<'a>(
        &'a self,
        context: impl Into<String> + 'a,
    ) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
        move |e| StoreError::sql(&self.path, context, e)
    }
}

/// Where a store keeps attachment content ([`attachment_table`]).
#[derive(Debug, Clone)]
pub(crate) struct Files {
    /// The folder (also named in errors when content is in the database).
    pub(crate) dir: PathBuf,
    pub(crate) place: AttachmentPlace,
}

/// Starts the IMMEDIATE transaction every write runs in: the write lock is
/// taken up front, so a busy database waits (busy_timeout) instead of failing
/// half way.
fn write_tx<'c>(conn: &'c mut Connection, path: &Path, context: &str) -> Result<Transaction<'c>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::sql(path, context, e))
}

/// Current time as RFC 3339 UTC with microseconds: sortable as text.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    crate::instrument::canonical::hex(&sha2::Sha256::digest(bytes))
}

// The bindings hand the store to a worker thread (behind a mutex).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Store>();
};

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::instrument::Instrument;

    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("device.db")).expect("open");
        (dir, store)
    }

    /// An instrument with text questions named `leaves` (a leaf written
    /// `name*` is marked preload; `rep/name` puts it in a repeat `rep`).
    pub fn instrument(form_id: &str, version: &str, leaves: &[&str]) -> Instrument {
        let q = |name: &str| {
            let (name, preload) = match name.strip_suffix('*') {
                Some(n) => (n, true),
                None => (name, false),
            };
            serde_json::json!({"name": name, "kind": {"kind": "question", "type": "text"}, "row": 2, "preload": preload})
        };
        let mut children = Vec::new();
        let mut repeats: std::collections::BTreeMap<&str, Vec<serde_json::Value>> =
            Default::default();
        for leaf in leaves {
            match leaf.split_once('/') {
                Some((rep, name)) => repeats.entry(rep).or_default().push(q(name)),
                None => children.push(q(leaf)),
            }
        }
        for (rep, kids) in repeats {
            children.push(
                serde_json::json!({"name": rep, "kind": {"kind": "repeat"}, "row": 3, "children": kids}),
            );
        }
        let json = serde_json::json!({
            "model_version": crate::instrument::model::MODEL_VERSION,
            "form_id": form_id, "version": version, "title": form_id, "root_name": "data",
            "settings": {}, "children": children,
        });
        Instrument::from_json(json.to_string().as_bytes()).expect("test instrument")
    }

    /// An initialized device with one instrument installed.
    pub fn ready_store(leaves: &[&str]) -> (tempfile::TempDir, Store, InstrumentKey) {
        let (dir, mut store) = temp_store();
        store.init_device("test tablet", Some("enum-1")).expect("init");
        let key = store.install_instrument(&instrument("f", "1", leaves)).expect("install");
        (dir, store, key)
    }
}
