//! What can go wrong with the device store, each case with the ids a person
//! needs to act on it.

use std::path::PathBuf;

use super::ResponseState;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no device database at {}; create it with `enumera device --db {} init --name NAME`",
        path.display(), path.display()
    )]
    NotFound { path: PathBuf },

    #[error(
        "device database {} has schema version {found}, newer than this build understands \
         (up to {supported}); it was left untouched: update Enumera to open it",
        path.display()
    )]
    NewerVersion { path: PathBuf, found: u32, supported: u32 },

    #[error(
        "{} is not a readable Enumera database ({reason}); it was moved aside to {} \
         (nothing was deleted) and a new database can be created in its place",
        path.display(), moved_to.display()
    )]
    Corrupt { path: PathBuf, moved_to: PathBuf, reason: String },

    #[error(
        "device database {} is read-only (file permissions or a read-only file system); \
         nothing was changed",
        path.display()
    )]
    ReadOnly { path: PathBuf },

    #[error(
        "the disk holding {} is full (or the database reached its size limit) while {context}; \
         that change was not saved, everything saved before it is kept",
        path.display()
    )]
    DiskFull { path: PathBuf, context: String },

    #[error(
        "upgrading {} to schema version {version} ({name}) failed: {source}; \
         the database was left at version {from}, its data untouched",
        path.display()
    )]
    Migration {
        path: PathBuf,
        from: u32,
        version: u32,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    #[error("this device is not initialized yet; run `enumera device --db DB init --name NAME`")]
    NotInitialized,

    #[error("this device is already initialized (device id {device_id})")]
    AlreadyInitialized { device_id: String },

    #[error("no instrument with form id {form_id:?} is installed")]
    UnknownForm { form_id: String },

    #[error("instrument {form_id:?} version {version:?} with hash {hash} is not installed")]
    UnknownInstrument { form_id: String, version: String, hash: String },

    #[error(
        "instrument {form_id:?} version {version:?} is already installed with different content \
         (installed hash {installed}, new hash {new}); give the changed form a new version"
    )]
    InstrumentVersionConflict { form_id: String, version: String, installed: String, new: String },

    #[error("stored instrument {form_id:?} version {version:?} cannot be read: {reason}")]
    BadStoredInstrument { form_id: String, version: String, reason: String },

    #[error("no response with instance id {instance_id}")]
    UnknownResponse { instance_id: String },

    #[error("response {instance_id} is {state}; only a draft can be {action}")]
    NotDraft { instance_id: String, state: ResponseState, action: &'static str },

    #[error("response {instance_id} is {state}; it cannot be {action}")]
    InvalidState { instance_id: String, state: ResponseState, action: &'static str },

    #[error("response {instance_id} is already being edited in draft {draft_id}")]
    EditInProgress { instance_id: String, draft_id: String },

    #[error(
        "central's key changed on this device while a receipt was applied; nothing was marked, \
         apply the receipt again"
    )]
    CentralChanged,

    #[error("no participant with id {participant_id:?} on this device")]
    UnknownParticipant { participant_id: String },

    #[error("invalid reference {reference:?} in response {instance_id}: {reason}")]
    BadRef { instance_id: String, reference: String, reason: &'static str },

    #[error("invalid attachment name {name:?} in response {instance_id}: {reason}")]
    BadAttachmentName { instance_id: String, name: String, reason: &'static str },

    #[error("attachment {name:?} of response {instance_id} is missing (expected at {})", path.display())]
    AttachmentMissing { instance_id: String, name: String, path: PathBuf },

    #[error(
        "attachment {name:?} of response {instance_id} does not match what was stored \
         (recorded SHA-256 {expected}, {size} bytes; file has SHA-256 {found}, {found_size} bytes)"
    )]
    AttachmentMismatch {
        instance_id: String,
        name: String,
        expected: String,
        size: u64,
        found: String,
        found_size: u64,
    },

    #[error(
        "{}{file} is {size} bytes: {kind} may take at most {limit} bytes{}; nothing was saved",
        question.as_ref().map(|q| format!("{q} in response {instance_id}: ")).unwrap_or_else(|| format!("response {instance_id}: ")),
        if *others > 0 { format!(" (its other files take {others})") } else { String::new() }
    )]
    AttachmentTooLarge {
        instance_id: String,
        /// The file question it was to answer.
        question: Option<String>,
        /// The file given (its path, or its name when given as bytes).
        file: String,
        size: u64,
        limit: u64,
        kind: super::attachments::LimitKind,
        /// Bytes the response's other attachments already take.
        others: u64,
    },

    #[error("no attachment {name:?} in response {instance_id}")]
    UnknownAttachment { instance_id: String, name: String },

    #[error("form media file {what}: {reason}")]
    FormMedia { what: String, reason: String },

    #[error("roster entry {index}: {reason}")]
    Roster { index: usize, reason: String },

    #[error("roster is not valid JSON: {0}")]
    RosterJson(#[source] serde_json::Error),

    #[error("{context}: {}: {source}", path.display())]
    Io {
        path: PathBuf,
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("database error in {} while {context}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        context: String,
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Classifies a SQLite error: a full disk and a read-only file get their
    /// own variants because the user can do something about them.
    pub(crate) fn sql(
        path: &std::path::Path,
        context: impl Into<String>,
        e: rusqlite::Error,
    ) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path, context: context.into() },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path },
            _ => StoreError::Sqlite { path, context: context.into(), source: e },
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
