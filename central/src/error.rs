//! What can go wrong at central, each with what a person can do about it.

use std::path::PathBuf;

use enumera_core::bundle::BundleError;

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error(
        "no central database at {}; create it with `enumera central --db {} init`",
        path.display(), path.display()
    )]
    NotFound { path: PathBuf },

    #[error("{} is already an initialized central database (central key {public_key})", path.display())]
    AlreadyInitialized { path: PathBuf, public_key: String },

    #[error(
        "{} is not initialized as a central database; run `enumera central --db {} init`",
        path.display(), path.display()
    )]
    NotInitialized { path: PathBuf },

    #[error(
        "central database {} has schema version {found}, newer than this build understands \
         (up to {supported}); it was left untouched",
        path.display()
    )]
    NewerVersion { path: PathBuf, found: u32, supported: u32 },

    #[error("central database {}: {context}: {source}", path.display())]
    Sql {
        path: PathBuf,
        context: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{} already exists; a backup or restore never overwrites a file", path.display())]
    Exists { path: PathBuf },

    /// The PostgreSQL store failed (`target`: the database, without its
    /// password; `sqlstate`: PostgreSQL's error code, when it gave one).
    #[error("central database {target}: {context}: {detail}")]
    Postgres { target: String, context: String, detail: String, sqlstate: Option<String> },

    #[error(
        "instrument {form_id:?} version {version:?} is already published with different content \
         (published hash {published}, new hash {new}); give the changed form a new version"
    )]
    PublishConflict { form_id: String, version: String, published: String, new: String },

    #[error(
        "instrument {form_id:?} version {version:?} was not published: form media files are \
         missing{}: {}; put them in the form's media folder (FORM-media/ beside the form, or \
         --media DIR)",
        folder.as_ref().map(|f| format!(" from {}", f.display())).unwrap_or_else(|| " (no media folder was given and none is beside the form)".into()),
        missing.join("; ")
    )]
    MediaMissing { form_id: String, version: String, folder: Option<PathBuf>, missing: Vec<String> },

    #[error("form media file {}: {reason}", path.display())]
    MediaFile { path: PathBuf, reason: String },

    #[error(
        "instrument {form_id:?} version {version:?} is already published with other media \
         ({change}); give the form a new version to publish changed media (devices keep what \
         they fetched for a version)"
    )]
    MediaConflict { form_id: String, version: String, change: String },

    #[error(
        "instrument {form_id:?} version {version:?} was not published: central could not read \
         back what it would serve to devices ({reason}); simplify the form (fewer nested groups \
         or repeats) and publish it again"
    )]
    Unservable { form_id: String, version: String, reason: String },

    #[error("instrument {form_id:?}{} is not published at this central", version.as_ref().map(|v| format!(" version {v:?}")).unwrap_or_default())]
    NotPublished { form_id: String, version: Option<String> },

    #[error("device {device_id} is already enrolled with another public key ({known})")]
    EnrolConflict { device_id: String, known: String },

    #[error("central holds nothing from device {device_id}")]
    UnknownDevice { device_id: String },

    #[error("drawing central's random key: {0}")]
    Random(String),

    #[error(
        "roster name {name:?} is not allowed: use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with a dot)"
    )]
    BadRosterName { name: String },

    #[error("roster {name}: {reason}")]
    BadRoster { name: String, reason: String },

    #[error("cannot make that token: {reason}")]
    BadToken { reason: String },

    #[error("unknown or revoked token")]
    Unauthorized,

    #[error(
        "a {role} token may not {action}; that needs a token of role {}",
        allowed.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
    )]
    Forbidden { role: crate::Role, action: &'static str, allowed: Vec<crate::Role> },

    #[error("{instance_id} cannot be reviewed: {reason}")]
    NotReviewable { instance_id: String, reason: String },

    #[error(
        "{who} may not review {instance_id}: it is outside the districts and devices on that \
         token; ask for a token that covers them"
    )]
    OutOfScope { who: String, instance_id: String },

    #[error(
        "the review action is not signed by the key of the token that sent it ({who}); sign it \
         with that token's key"
    )]
    NotReviewerKey { who: String },

    #[error("review refused: {reason}")]
    BadReview { reason: String },

    /// A data API cursor this store never wrote (issue 19).
    #[error("{}", crate::submissions::BAD_CURSOR)]
    BadCursor,

    #[error("assignment refused: {reason}")]
    BadAssignment { reason: String },

    #[error(
        "{who} may not assign {what}: it is outside the districts and devices on that token; \
         ask for a token that covers them"
    )]
    AssignOutOfScope { who: String, what: String },

    #[error("no assignment {id} (`central assignments list --all` shows every one)")]
    NoSuchAssignment { id: String },

    /// Joining an upload's parts into its spool file (issue 18) failed.
    #[error("writing upload {upload_id} to its spool file: {source}")]
    UploadSpool {
        upload_id: String,
        #[source]
        source: std::io::Error,
    },
}

impl CentralError {
    /// True when the database was locked by another program for longer
    /// than the busy timeout: the same request may succeed shortly.
    pub fn is_busy(&self) -> bool {
        if let CentralError::Postgres { sqlstate: Some(code), .. } = self {
            // Serialization failures and deadlocks past the retries, a lock
            // not granted, a statement cancelled by its timeout.
            return matches!(code.as_str(), "40001" | "40P01" | "55P03" | "57014");
        }
        matches!(
            self,
            CentralError::Sql { source, .. }
                if matches!(
                    source.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                )
        )
    }

    pub(crate) fn postgres(
        target: &str,
        context: impl Into<String>,
        source: postgres::Error,
    ) -> Self {
        let sqlstate = source.code().map(|c| c.code().to_string());
        // The server's own message (the crate's Display says only "db
        // error"), else the client's with its cause.
        let detail = match source.as_db_error() {
            Some(db) => match db.detail() {
                Some(more) => format!("{} ({more})", db.message()),
                None => db.message().to_string(),
            },
            None => match std::error::Error::source(&source) {
                Some(cause) => format!("{source}: {cause}"),
                None => source.to_string(),
            },
        };
        CentralError::Postgres {
            target: target.to_string(),
            context: context.into(),
            detail,
            sqlstate,
        }
    }

    pub(crate) fn sql(
        path: &std::path::Path,
        context: impl Into<String>,
        source: rusqlite::Error,
    ) -> Self {
        CentralError::Sql { path: path.to_path_buf(), context: context.into(), source }
    }
}

/// Why a bundle was not ingested. Nothing from a refused bundle is stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The bundle failed verification (signature, hashes, framing, version).
    #[error(transparent)]
    Bundle(#[from] BundleError),

    #[error(
        "unknown device key: device {device_id} (key {public_key}) is not enrolled at this central; \
         enrol it with `enumera central --db C.db enrol --device {device_id} --key {public_key}`"
    )]
    UnknownDevice { device_id: String, public_key: String },

    #[error(
        "device {device_id} is known with public key {known}, but this bundle is signed with {found}: \
         refused (a forged bundle, or a device re-initialized under the same id)"
    )]
    DeviceKeyMismatch { device_id: String, known: String, found: String },

    /// Over one of the device's quotas ([`crate::Quotas`]); nothing from the
    /// bundle was stored, the device keeps its responses.
    #[error(
        "device {device_id} is over central's quota of {limit} {kind}{}: nothing from this bundle \
         was stored; the responses stay on the device{}",
        if *used > 0 { format!(" (this bundle would make {used})") } else { String::new() },
        match kind {
            crate::QuotaKind::ResponsesPerBundle => ", and smaller bundles can go",
            _ => " until the quota frees up (or the operator raises it)",
        }
    )]
    Quota { device_id: String, kind: crate::QuotaKind, limit: u64, used: u64 },

    /// Central's own database failed; the bundle may be fine: retry.
    #[error(transparent)]
    Central(#[from] CentralError),
}

impl IngestError {
    /// A short machine-readable reason (for `--json` output and HTTP replies).
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Bundle(e) => e.code(),
            IngestError::UnknownDevice { .. } => "unknown_device_key",
            IngestError::DeviceKeyMismatch { .. } => "device_key_mismatch",
            IngestError::Quota { kind: crate::QuotaKind::ResponsesPerBundle, .. } => {
                "too_many_responses"
            }
            IngestError::Quota { .. } => "quota_exceeded",
            IngestError::Central(_) => "central_error",
        }
    }

    /// True when the bundle itself was refused (HTTP 400/403), false when
    /// central failed and the same bundle may succeed later (HTTP 500).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, IngestError::Central(_))
    }
}
