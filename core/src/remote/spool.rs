//! The device's upload folder: the bundle being uploaded, as a file the
//! transport streams, and the state of an upload in parts, so that a cut
//! connection or a restart of the app resumes where central stopped
//! instead of sending everything again.
//!
//! Files (fixed names; one upload at a time, held by a lock on `lock`):
//! - `bundle.partial`: a bundle being written; never read;
//! - `bundle`: the finished bundle of the upload under way;
//! - `upload.json`: central's upload id for `bundle` ([`Pending`]), written
//!   once central has created it;
//! - `part`: the part being sent.
//!
//! What a crash leaves is cleaned when the folder is next opened: without
//! `upload.json` nothing is worth keeping (the bundle is written again from
//! the store), with it only `bundle` and `upload.json` are kept.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::bundle::{BundleError, BundleOptions, BundleSummary, HashingWriter, write_bundle};
use crate::store::Store;

const LOCK: &str = "lock";
const PARTIAL: &str = "bundle.partial";
const BUNDLE: &str = "bundle";
const PENDING: &str = "upload.json";
const PART: &str = "part";

/// An upload in parts central has accepted, kept until it is finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub id: String,
    pub sha256: String,
    pub bytes: u64,
    pub responses: usize,
}

/// The upload folder, locked for this upload.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    /// Held (locked) while the folder is in use; unlocked when dropped.
    _lock: File,
}

fn io(path: &Path, context: &str) -> impl FnOnce(std::io::Error) -> BundleError + use<> {
    let (path, context) = (path.to_path_buf(), context.to_string());
    move |source| BundleError::Io { path, context, source }
}

impl Spool {
    /// Opens (creating) the folder, waits for any other upload from it to
    /// end, and removes what a crash left (see the module docs).
    pub fn open(dir: &Path) -> Result<Spool, BundleError> {
        std::fs::create_dir_all(dir).map_err(io(dir, "creating the upload folder"))?;
        let lock_path = dir.join(LOCK);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path, "opening"))?;
        lock.lock().map_err(io(&lock_path, "locking"))?;
        let spool = Spool { dir: dir.to_path_buf(), _lock: lock };
        let keep: &[&str] =
            if spool.pending()?.is_some() { &[LOCK, BUNDLE, PENDING] } else { &[LOCK] };
        let entries = std::fs::read_dir(dir).map_err(io(dir, "listing"))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !keep.iter().any(|k| name == *k) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(io(&path, "removing a leftover"))?;
            }
        }
        Ok(spool)
    }

    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE)
    }

    /// The upload under way, if any. An unreadable record is dropped (its
    /// upload expires at central).
    pub fn pending(&self) -> Result<Option<Pending>, BundleError> {
        let path = self.dir.join(PENDING);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, "reading")(e)),
        };
        let pending: Option<Pending> = serde_json::from_slice(&text).ok();
        let bundle_len = std::fs::metadata(self.bundle_path()).map(|m| m.len()).ok();
        match pending {
            Some(p) if bundle_len == Some(p.bytes) => Ok(Some(p)),
            _ => {
                std::fs::remove_file(&path).map_err(io(&path, "removing"))?;
                Ok(None)
            }
        }
    }

    /// Records central's id for the bundle (durably: a record that names
    /// the wrong bundle would resume the wrong upload).
    pub fn set_pending(&self, pending: &Pending) -> Result<(), BundleError> {
        let tmp = self.dir.join("upload.json.partial");
        let path = self.dir.join(PENDING);
        let json = serde_json::to_vec(pending).unwrap_or_default();
        let mut file = File::create(&tmp).map_err(io(&tmp, "creating"))?;
        file.write_all(&json).map_err(io(&tmp, "writing"))?;
        file.sync_all().map_err(io(&tmp, "syncing"))?;
        std::fs::rename(&tmp, &path).map_err(io(&path, "renaming to"))
    }

    /// Writes the next bundle to `bundle` (replacing any), hashing it as it
    /// goes; returns its summary and SHA-256.
    pub fn write_bundle(
        &self,
        store: &Store,
        options: &BundleOptions,
    ) -> Result<(BundleSummary, String), BundleError> {
        self.clear()?;
        let partial = self.dir.join(PARTIAL);
        let file = File::create(&partial).map_err(io(&partial, "creating"))?;
        let mut out = HashingWriter::new(BufWriter::new(file));
        let summary = write_bundle(store, options, &mut out)?;
        let file =
            out.out.into_inner().map_err(|e| e.into_error()).map_err(io(&partial, "writing"))?;
        file.sync_all().map_err(io(&partial, "syncing"))?;
        let path = self.bundle_path();
        std::fs::rename(&partial, &path).map_err(io(&path, "renaming the bundle to"))?;
        Ok((summary, crate::bundle::hex(&out.sha.finalize())))
    }

    /// Copies `len` bytes of the bundle at `offset` to the part file, for
    /// the transport to stream; returns its path.
    pub fn write_part(&self, offset: u64, len: u64) -> Result<PathBuf, BundleError> {
        let bundle = self.bundle_path();
        let path = self.dir.join(PART);
        let mut from = File::open(&bundle).map_err(io(&bundle, "opening"))?;
        from.seek(SeekFrom::Start(offset)).map_err(io(&bundle, "seeking in"))?;
        let mut to = File::create(&path).map_err(io(&path, "creating"))?;
        let copied =
            std::io::copy(&mut from.take(len), &mut to).map_err(io(&path, "writing the part"))?;
        if copied != len {
            return Err(io(&bundle, "reading")(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the bundle ended at {} bytes", offset + copied),
            )));
        }
        Ok(path)
    }

    /// Forgets the upload: removes its bundle, part and record.
    pub fn clear(&self) -> Result<(), BundleError> {
        for name in [PENDING, BUNDLE, PART, PARTIAL] {
            let path = self.dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path, "removing")(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_go_and_a_pending_upload_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool_dir = dir.path().join("up");
        {
            let spool = Spool::open(&spool_dir).expect("open");
            std::fs::write(spool.bundle_path(), b"0123456789").expect("bundle");
            std::fs::write(spool_dir.join(PARTIAL), b"half").expect("partial");
        }
        // No record: a crash before central knew of it; nothing is kept.
        let spool = Spool::open(&spool_dir).expect("open");
        assert!(!spool.bundle_path().exists());
        assert!(!spool_dir.join(PARTIAL).exists());
        std::fs::write(spool.bundle_path(), b"0123456789").expect("bundle");
        let pending = Pending { id: "u1".into(), sha256: "ab".repeat(32), bytes: 10, responses: 1 };
        spool.set_pending(&pending).expect("record");
        let part = spool.write_part(4, 3).expect("part");
        assert_eq!(std::fs::read(&part).expect("read"), b"456");
        assert!(spool.write_part(8, 3).is_err(), "past the end");
        drop(spool);
        let spool = Spool::open(&spool_dir).expect("open");
        assert_eq!(spool.pending().expect("pending"), Some(pending));
        assert!(!part.exists(), "the part is a leftover");
        // A record whose bundle is not the size it names is dropped.
        std::fs::write(spool.bundle_path(), b"012").expect("shorter");
        assert_eq!(spool.pending().expect("pending"), None);
        spool.clear().expect("clear");
        assert_eq!(std::fs::read_dir(&spool_dir).expect("ls").count(), 1, "only the lock");
    }
}
