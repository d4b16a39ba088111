//! Uploads in parts (issue 18, item 5): a bundle larger than one request
//! arrives as parts the database keeps (central/sql/0010_uploads.sql,
//! central/sql/postgres/0006_uploads.sql) until the device asks central to
//! finish it; then the parts are copied, in order, to a spool file and the
//! bundle is ingested as `POST /v1/bundles` would ingest it. Kept in the
//! database rather than on one server's disk so that two servers on one
//! PostgreSQL database may each take a part; never held whole in memory
//! (one row of a part, 1 MiB, at a time).
//!
//! Parts arrive in order: a part is stored only at the offset the upload
//! has received so far, in one transaction with the advance of that
//! offset, so `received` is always what is held.

use std::io::Write;

use crate::error::CentralError;
use crate::{AnyStore, PgCentral, SqliteCentral};

/// A part is kept in rows of at most this many bytes (one database row
/// per MiB): neither the insert nor the join holds more than a row.
pub(crate) const ROW: usize = 1 << 20;

/// An upload as central holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedUpload {
    pub upload_id: String,
    pub device_id: String,
    pub size: u64,
    pub sha256: String,
    pub received: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last part (or the creation).
    pub touched_at: i64,
}

/// What one device may have staged at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Uploads not yet finished.
    pub max_open: u64,
    /// The sizes of those uploads together.
    pub max_staged_bytes: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits { max_open: 4, max_staged_bytes: 4 << 30 }
    }
}

/// Whether an upload was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    Created,
    /// The device has `open` uploads already.
    TooMany {
        open: u64,
    },
    /// The device's open uploads with this one would stage `staged` bytes.
    OverStaged {
        staged: u64,
    },
}

/// What became of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartOutcome {
    /// Stored; the upload as it is now.
    Stored(StagedUpload),
    /// Already held whole (a part sent again after its reply was lost).
    Held(StagedUpload),
    /// Not at the upload's offset, or past its size: nothing stored.
    NotAt(StagedUpload),
    /// No such upload.
    Missing,
}

/// The database side of uploads in parts, for both stores.
pub trait UploadStore {
    /// Creates `upload` (received 0) unless the device's open uploads
    /// would pass `limits`, checked in the same transaction.
    fn begin_upload(
        &mut self,
        upload: &StagedUpload,
        limits: &UploadLimits,
    ) -> Result<Begun, CentralError>;

    fn staged_upload(&self, upload_id: &str) -> Result<Option<StagedUpload>, CentralError>;

    /// Stores `data` at `offset` when that is where the upload is (see the
    /// module docs), touching it at `now`.
    fn put_part(
        &mut self,
        upload_id: &str,
        offset: u64,
        data: &[u8],
        now: i64,
    ) -> Result<PartOutcome, CentralError>;

    /// Writes the parts in order to `out`, one at a time; returns the bytes
    /// written.
    fn copy_upload(&self, upload_id: &str, out: &mut dyn Write) -> Result<u64, CentralError>;

    /// Removes an upload and its parts; false when it was not there.
    fn drop_upload(&mut self, upload_id: &str) -> Result<bool, CentralError>;

    /// Removes every upload last touched before `before` (unix seconds);
    /// returns how many.
    fn expire_uploads(&mut self, before: i64) -> Result<usize, CentralError>;
}

pub(crate) fn spool_error(upload_id: &str) -> impl FnOnce(std::io::Error) -> CentralError + use<> {
    let upload_id = upload_id.to_string();
    move |source| CentralError::UploadSpool { upload_id, source }
}

macro_rules! delegate {
    ($t:ty) => {
        impl UploadStore for $t {
            fn begin_upload(
                &mut self,
                upload: &StagedUpload,
                limits: &UploadLimits,
            ) -> Result<Begun, CentralError> {
                self.begin_upload_impl(upload, limits)
            }
            fn staged_upload(&self, id: &str) -> Result<Option<StagedUpload>, CentralError> {
                self.staged_upload_impl(id)
            }
            fn put_part(
                &mut self,
                id: &str,
                offset: u64,
                data: &[u8],
                now: i64,
            ) -> Result<PartOutcome, CentralError> {
                self.put_part_impl(id, offset, data, now)
            }
            fn copy_upload(&self, id: &str, out: &mut dyn Write) -> Result<u64, CentralError> {
                self.copy_upload_impl(id, out)
            }
            fn drop_upload(&mut self, id: &str) -> Result<bool, CentralError> {
                self.drop_upload_impl(id)
            }
            fn expire_uploads(&mut self, before: i64) -> Result<usize, CentralError> {
                self.expire_uploads_impl(before)
            }
        }
    };
}

delegate!(SqliteCentral);
delegate!(PgCentral);

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
        }
    };
}

impl UploadStore for AnyStore {
    fn begin_upload(
        &mut self,
        upload: &StagedUpload,
        limits: &UploadLimits,
    ) -> Result<Begun, CentralError> {
        each!(self, s => s.begin_upload(upload, limits))
    }
    fn staged_upload(&self, id: &str) -> Result<Option<StagedUpload>, CentralError> {
        each!(self, s => s.staged_upload(id))
    }
    fn put_part(
        &mut self,
        id: &str,
        offset: u64,
        data: &[u8],
        now: i64,
    ) -> Result<PartOutcome, CentralError> {
        each!(self, s => s.put_part(id, offset, data, now))
    }
    fn copy_upload(&self, id: &str, out: &mut dyn Write) -> Result<u64, CentralError> {
        each!(self, s => s.copy_upload(id, out))
    }
    fn drop_upload(&mut self, id: &str) -> Result<bool, CentralError> {
        each!(self, s => s.drop_upload(id))
    }
    fn expire_uploads(&mut self, before: i64) -> Result<usize, CentralError> {
        each!(self, s => s.expire_uploads(before))
    }
}

/// Where a part at `offset` of `len` bytes stands against `upload`.
pub(crate) fn place(upload: &StagedUpload, offset: u64, len: u64) -> Placed {
    let end = offset.saturating_add(len);
    if len == 0 || end > upload.size {
        Placed::NotAt
    } else if offset == upload.received {
        Placed::Next
    } else if end <= upload.received {
        Placed::Held
    } else {
        Placed::NotAt
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    Next,
    Held,
    NotAt,
}
