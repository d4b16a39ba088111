//! Why a bundle could not be written or was refused. Reading errors name the
//! byte offset or the item, so a broken transfer can be told from tampering.

use std::path::PathBuf;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not an Enumera bundle (the file does not start with ENUMBNDL)")]
    NotABundle,

    #[error(
        "bundle format version {found} is not known to this build (it reads version {supported}); \
         update Enumera to read it"
    )]
    UnknownVersion { found: u32, supported: u32 },

    #[error(
        "truncated file: {what} needs {needed} bytes at offset {offset}, but only {available} remain \
         (an interrupted copy or upload? send the bundle again)"
    )]
    Truncated { what: String, offset: u64, needed: u64, available: u64 },

    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { what: String, size: u64, limit: u64 },

    #[error("{extra} unexpected bytes after the last item (at offset {offset})")]
    TrailingBytes { offset: u64, extra: u64 },

    #[error("bad manifest: {reason}")]
    BadManifest { reason: String },

    #[error(
        "bad signature: the manifest was not signed by the device key it names \
         ({device_id}); the bundle was altered or forged"
    )]
    BadSignature { device_id: String },

    #[error(
        "hash mismatch in item {index} ({kind} of {instance_id}): the manifest says {expected}, \
         the content hashes to {found}; the bundle was altered"
    )]
    HashMismatch {
        index: usize,
        kind: String,
        instance_id: String,
        expected: String,
        found: String,
    },

    #[error(
        "item {index} ({kind} of {instance_id}) is framed as {found} bytes but the manifest \
         says {expected}"
    )]
    ItemLength { index: usize, kind: String, instance_id: String, expected: u64, found: u64 },

    #[error("item {index} ({kind} of {instance_id}) is not valid UTF-8 text")]
    NotText { index: usize, kind: String, instance_id: String },

    #[error("outbox entry {seq} ({instance_id}) in the manifest is inconsistent: {reason}")]
    BadEntry { seq: u64, instance_id: String, reason: String },

    #[error(
        "the device's stored submission of {instance_id} no longer matches its outbox entry \
         ({what}); run `enumera device verify` and report this device"
    )]
    StoredMismatch { instance_id: String, what: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("{context} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl BundleError {
    /// A short machine-readable reason (for `--json` output and HTTP replies).
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::NotABundle => "not_a_bundle",
            BundleError::UnknownVersion { .. } => "unknown_format_version",
            BundleError::Truncated { .. } => "truncated",
            BundleError::TooLarge { .. } => "too_large",
            BundleError::TrailingBytes { .. } => "trailing_bytes",
            BundleError::BadManifest { .. } => "bad_manifest",
            BundleError::BadSignature { .. } => "bad_signature",
            BundleError::HashMismatch { .. } => "hash_mismatch",
            BundleError::ItemLength { .. } => "bad_framing",
            BundleError::NotText { .. } => "bad_item",
            BundleError::BadEntry { .. } => "bad_entry",
            BundleError::StoredMismatch { .. } => "device_store_mismatch",
            BundleError::Store(_) => "device_store",
            BundleError::Io { .. } => "io",
        }
    }
}
