//! Attachments (photos, audio, files): content-addressed files in a folder
//! beside the database (`<db>-attachments/ab/abcdef...`), each recorded with
//! its SHA-256 and size. A missing or altered file is reported, never
//! silently dropped.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::attachment_table::{self, AttachmentPlace};
use super::error::{Result, StoreError};
use super::responses::{not_draft, touch_draft};
use super::{Files, Store, now};
use crate::instrument::canonical::hex;
use sha2::{Digest, Sha256};

/// One attachment of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// The file name the answer refers to (`photo-1.jpg`).
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// An attachment whose file is not what was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentProblem {
    pub instance_id: String,
    pub attachment: AttachmentInfo,
    pub kind: AttachmentProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttachmentProblemKind {
    Missing { path: PathBuf },
    Mismatch { found_sha256: String, found_size: u64 },
}

/// How large attachments may be: one file, and all of one response's files
/// together. Checked while the file is copied in, so an oversized file
/// costs no more than the bytes read before the limit, and leaves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_file: u64,
    pub max_response: u64,
}

impl Default for AttachmentLimits {
    /// 512 MiB a file (about 40 minutes of 720p video), 1 GiB a response:
    /// under the bundle reader's 2 GiB item cap and SQLite's 1 GB value
    /// cap at central.
    fn default() -> Self {
        AttachmentLimits { max_file: 512 << 20, max_response: 1 << 30 }
    }
}

/// Which limit a file passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// [`AttachmentLimits::max_file`].
    File,
    /// [`AttachmentLimits::max_response`], counting the response's other files.
    Response,
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitKind::File => "a file",
            LimitKind::Response => "a response's attachments together",
        })
    }
}

fn file_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

pub(crate) fn rows(conn: &Connection, instance_id: &str) -> rusqlite::Result<Vec<AttachmentInfo>> {
    conn.prepare_cached(
        "SELECT name, sha256, size FROM attachments WHERE instance_id = ?1 ORDER BY name",
    )?
    .query_map([instance_id], |r| {
        Ok(AttachmentInfo { name: r.get(0)?, sha256: r.get(1)?, size: r.get(2)? })
    })?
    .collect()
}

/// Streams `r` through SHA-256 (and into `keep`, when given).
fn hash_reader(
    mut r: impl Read,
    mut keep: Option<&mut dyn Write>,
) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        if let Some(w) = keep.as_deref_mut() {
            w.write_all(&buf[..n])?;
        }
        size += n as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Checks one attachment file against its record without loading it whole
/// (videos can be large), keeping the bytes when asked.
fn checked(
    conn: &Connection,
    files: &Files,
    instance_id: &str,
    a: &AttachmentInfo,
    keep: Option<&mut dyn Write>,
) -> Result<()> {
    let path = file_path(&files.dir, &a.sha256);
    let io = |source| StoreError::Io {
        path: path.clone(),
        context: format!("reading attachment {:?} of {instance_id}", a.name),
        source,
    };
    let missing = || StoreError::AttachmentMissing {
        instance_id: instance_id.to_string(),
        name: a.name.clone(),
        path: path.clone(),
    };
    let file: Box<dyn Read> = match files.place {
        AttachmentPlace::Database => match attachment_table::read(conn, &a.sha256).map_err(io)? {
            Some(bytes) => Box::new(std::io::Cursor::new(bytes)),
            None => return Err(missing()),
        },
        AttachmentPlace::Folder => match fs::File::open(&path) {
            Ok(f) => Box::new(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(io(e)),
        },
    };
    let (found, found_size) = hash_reader(file, keep).map_err(io)?;
    if found != a.sha256 || found_size != a.size {
        return Err(StoreError::AttachmentMismatch {
            instance_id: instance_id.to_string(),
            name: a.name.clone(),
            expected: a.sha256.clone(),
            size: a.size,
            found,
            found_size,
        });
    }
    Ok(())
}

fn read_checked(
    conn: &Connection,
    files: &Files,
    instance_id: &str,
    a: &AttachmentInfo,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(a.size).unwrap_or(0).min(1 << 26));
    checked(conn, files, instance_id, a, Some(&mut bytes as &mut dyn Write))?;
    Ok(bytes)
}

pub(crate) fn check_file(
    conn: &Connection,
    files: &Files,
    instance_id: &str,
    a: &AttachmentInfo,
) -> Result<()> {
    checked(conn, files, instance_id, a, None)
}

fn check_name(instance_id: &str, name: &str) -> Result<()> {
    let reason = if name.is_empty() || name == "." || name == ".." {
        Some("must be a file name")
    } else if name.len() > 255 {
        Some("longer than 255 bytes")
    } else if name.contains(['/', '\\', '\0']) {
        Some("must not contain / \\ or NUL")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::BadAttachmentName {
            instance_id: instance_id.to_string(),
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Copies `src` durably into the folder under its hash (temp file, fsync,
/// rename, fsync of the folder), hashing as it goes; an intact copy already
/// there is kept. Returns the hash and size, or `Ok(Err(seen))` when the
/// content passes `cap` bytes (then nothing is kept: `seen` is how many
/// bytes were read, at most `cap + 1`).
fn store_content(
    conn: &Connection,
    files: &Files,
    src: impl Read,
    cap: u64,
) -> std::io::Result<std::result::Result<(String, u64), u64>> {
    if files.place == AttachmentPlace::Database {
        return attachment_table::store(conn, src, cap);
    }
    let dir = files.dir.as_path();
    let tmp_dir = dir.join("tmp");
    fs::create_dir_all(&tmp_dir)?;
    let tmp = tmp_dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        // One byte past the cap tells an oversized file from one exactly at it.
        let (sha256, size) = hash_reader(Tee(src.take(cap.saturating_add(1)), &mut f), None)?;
        if size > cap {
            drop(f);
            fs::remove_file(&tmp)?;
            return Ok(Err(size));
        }
        f.sync_all()?;
        drop(f);
        let target = file_path(dir, &sha256);
        let folder = target.parent().unwrap_or(dir);
        fs::create_dir_all(folder)?;
        if target.exists() && hash_reader(fs::File::open(&target)?, None)? == (sha256.clone(), size)
        {
            fs::remove_file(&tmp)?;
        } else {
            fs::rename(&tmp, &target)?;
            fs::File::open(folder)?.sync_all()?;
        }
        Ok(Ok((sha256, size)))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Whether an I/O error is the disk (or quota) running out of space.
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC (28) and EDQUOT (122 on Linux) on every Unix the apps run on.
    matches!(e.raw_os_error(), Some(28) | Some(122))
        || e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
}

/// Within a response's write transaction: drops the attachments among
/// `names` (values answers held before this change) that no answer of the
/// response names any more, so that replacing or clearing a file answer
/// leaves no orphan. Returns the hashes of the dropped files, to remove
/// after the commit ([`remove_unreferenced_files`]).
pub(crate) fn release_unreferenced(
    tx: &Connection,
    instance_id: &str,
    names: &[String],
) -> rusqlite::Result<Vec<String>> {
    let mut hashes = Vec::new();
    for name in names {
        let still_named: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM answers WHERE instance_id = ?1 AND value = ?2)",
            )?
            .query_row(params![instance_id, name], |r| r.get(0))?;
        if still_named {
            continue;
        }
        let sha: Option<String> = tx
            .prepare_cached(
                "DELETE FROM attachments WHERE instance_id = ?1 AND name = ?2 RETURNING sha256",
            )?
            .query_row(params![instance_id, name], |r| r.get(0))
            .optional()?;
        hashes.extend(sha);
    }
    Ok(hashes)
}

/// Removes the files of `hashes` that no attachment row refers to. After
/// the commit, and best effort: a file left by a failure here is
/// unreferenced, and [`Store::collect_garbage`] removes it later.
pub(crate) fn remove_unreferenced_files(conn: &Connection, files: &Files, hashes: &[String]) {
    for sha in hashes {
        let referenced = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")
            .and_then(|mut s| s.query_row([sha], |r| r.get::<_, bool>(0)))
            .unwrap_or(true);
        if !referenced && sha.len() > 2 {
            match files.place {
                AttachmentPlace::Database => attachment_table::remove(conn, sha),
                AttachmentPlace::Folder => {
                    let _ = fs::remove_file(file_path(&files.dir, sha));
                }
            }
        }
    }
}

/// Too large bytes in memory: the error gives their whole size, not only
/// what was read before the limit (as a file's size comes from the file).
fn whole_size(e: StoreError, bytes: &[u8]) -> StoreError {
    match e {
        StoreError::AttachmentTooLarge {
            instance_id, question, file, limit, kind, others, ..
        } => {
            let size = bytes.len() as u64;
            StoreError::AttachmentTooLarge {
                instance_id,
                question,
                file,
                size,
                limit,
                kind,
                others,
            }
        }
        e => e,
    }
}

/// A reader that writes what it reads to `W`.
struct Tee<R, W>(R, W);

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.write_all(&buf[..n])?;
        Ok(n)
    }
}

impl Store {
    /// Stores an attachment of a draft under `name` (replacing an earlier
    /// file of that name), and returns its hash and size.
    pub fn put_attachment(
        &mut self,
        instance_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentInfo> {
        self.put_attachment_from(instance_id, name, bytes, None).map_err(|e| whole_size(e, bytes))
    }

    /// Like [`Store::put_attachment`], streaming the content from a file
    /// (a photo or recording the app saved), which is copied, not moved.
    pub fn put_attachment_file(
        &mut self,
        instance_id: &str,
        name: &str,
        src: &Path,
    ) -> Result<AttachmentInfo> {
        let file = fs::File::open(src).map_err(|source| StoreError::Io {
            path: src.to_path_buf(),
            context: format!("reading the file for attachment {name:?} of {instance_id}"),
            source,
        })?;
        self.put_attachment_from(instance_id, name, file, Some(src))
    }

    /// Answers the file question `reference` with the file at `src`: the
    /// content is copied durably under its hash first, then one transaction
    /// records the answer (`name`, the file name as ODK writes it) with the
    /// attachment, so there is never an answer without its file. The file
    /// the question named before is dropped when no answer names it any
    /// more. A crash before the commit leaves only an unreferenced file,
    /// which [`Store::collect_garbage`] removes.
    pub fn attach_answer_file(
        &mut self,
        instance_id: &str,
        reference: &str,
        name: &str,
        src: &Path,
    ) -> Result<AttachmentInfo> {
        let file = fs::File::open(src).map_err(|source| StoreError::Io {
            path: src.to_path_buf(),
            context: format!("reading the file for {reference} of {instance_id}"),
            source,
        })?;
        self.put_attachment_answering(instance_id, name, file, Some(src), Some(reference))
    }

    /// Like [`Store::attach_answer_file`], from bytes in memory (a
    /// signature drawn on screen).
    pub fn attach_answer(
        &mut self,
        instance_id: &str,
        reference: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentInfo> {
        self.put_attachment_answering(instance_id, name, bytes, None, Some(reference))
            .map_err(|e| whole_size(e, bytes))
    }

    fn put_attachment_from(
        &mut self,
        instance_id: &str,
        name: &str,
        content: impl Read,
        src: Option<&Path>,
    ) -> Result<AttachmentInfo> {
        self.put_attachment_answering(instance_id, name, content, src, None)
    }

    fn put_attachment_answering(
        &mut self,
        instance_id: &str,
        name: &str,
        content: impl Read,
        src: Option<&Path>,
        answering: Option<&str>,
    ) -> Result<AttachmentInfo> {
        check_name(instance_id, name)?;
        if let Some(reason) = answering.and_then(super::refs::invalid_reason) {
            return Err(StoreError::BadRef {
                instance_id: instance_id.to_string(),
                reference: answering.unwrap_or_default().to_string(),
                reason,
            });
        }
        // Refuse before writing a file for a response that cannot take it.
        let state = super::responses::state_of(&self.conn, instance_id)
            .map_err(self.err(format!("reading response {instance_id}")))?;
        match state {
            None => {
                return Err(StoreError::UnknownResponse { instance_id: instance_id.to_string() });
            }
            Some(super::ResponseState::Draft) => {}
            Some(state) => {
                return Err(StoreError::NotDraft {
                    instance_id: instance_id.to_string(),
                    state,
                    action: "given attachments",
                });
            }
        }
        // The response's other files count against its limit; the file this
        // answer replaces does not (it is released below).
        let replaced: Option<String> = match answering {
            Some(reference) => self
                .conn
                .query_row(
                    "SELECT value FROM answers WHERE instance_id = ?1 AND ref = ?2",
                    params![instance_id, reference],
                    |r| r.get(0),
                )
                .optional()
                .map_err(self.err(format!("reading the answer to {reference}")))?,
            None => None,
        };
        let others: u64 = rows(&self.conn, instance_id)
            .map_err(self.err(format!("listing attachments of {instance_id}")))?
            .iter()
            .filter(|a| a.name != name && Some(&a.name) != replaced.as_ref())
            .map(|a| a.size)
            .sum();
        let limits = self.limits;
        let room = limits.max_response.saturating_sub(others);
        let cap = limits.max_file.min(room);
        let source_name = src.map_or_else(|| name.to_string(), |p| p.display().to_string());
        let stored = store_content(&self.conn, &self.files, content, cap).map_err(|source| {
            let path = src.map_or_else(|| self.files.dir.clone(), Path::to_path_buf);
            let context = format!("saving attachment {name:?} of {instance_id} ({source_name})");
            if is_disk_full(&source) {
                StoreError::DiskFull { path: self.files.dir.clone(), context }
            } else {
                StoreError::Io { path, context, source }
            }
        })?;
        let (sha256, size) = match stored {
            Ok(done) => done,
            Err(seen) => {
                let (kind, limit) = if limits.max_file <= room {
                    (LimitKind::File, limits.max_file)
                } else {
                    (LimitKind::Response, limits.max_response)
                };
                // The whole file's size when it is a file; else what was read.
                let size = src.and_then(|p| fs::metadata(p).ok()).map_or(seen, |m| m.len());
                return Err(StoreError::AttachmentTooLarge {
                    instance_id: instance_id.to_string(),
                    question: answering.map(str::to_string),
                    file: source_name,
                    size,
                    limit,
                    kind,
                    others,
                });
            }
        };
        let info = AttachmentInfo { name: name.to_string(), sha256, size };
        let Store { conn, path, files, .. } = self;
        let map =
            |e| StoreError::sql(path, format!("saving attachment {name:?} of {instance_id}"), e);
        let tx = super::write_tx(conn, path, "saving an attachment")?;
        if !touch_draft(&tx, instance_id, &now()).map_err(map)? {
            return Err(not_draft(path, &tx, instance_id, "given attachments"));
        }
        let mut released = Vec::new();
        if let Some(reference) = answering {
            let old: Option<String> = tx
                .query_row(
                    "SELECT value FROM answers WHERE instance_id = ?1 AND ref = ?2",
                    params![instance_id, reference],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map)?;
            tx.execute(
                "INSERT INTO answers (instance_id, ref, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (instance_id, ref) DO UPDATE SET value = excluded.value",
                params![instance_id, reference, info.name],
            )
            .map_err(map)?;
            released.extend(old.filter(|o| *o != info.name));
        }
        tx.execute(
            "INSERT INTO attachments (instance_id, name, sha256, size) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
            params![instance_id, info.name, info.sha256, info.size],
        )
        .map_err(map)?;
        let hashes = release_unreferenced(&tx, instance_id, &released).map_err(map)?;
        tx.commit().map_err(map)?;
        remove_unreferenced_files(conn, files, &hashes);
        Ok(info)
    }

    /// The attachments recorded for a response, by name.
    pub fn attachments(&self, instance_id: &str) -> Result<Vec<AttachmentInfo>> {
        rows(&self.conn, instance_id)
            .map_err(self.err(format!("listing attachments of {instance_id}")))
    }

    /// An attachment's bytes, checked against its recorded hash and size.
    pub fn read_attachment(&self, instance_id: &str, name: &str) -> Result<Vec<u8>> {
        let info: Option<AttachmentInfo> = self
            .conn
            .prepare_cached(
                "SELECT name, sha256, size FROM attachments WHERE instance_id = ?1 AND name = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![instance_id, name], |r| {
                    Ok(AttachmentInfo { name: r.get(0)?, sha256: r.get(1)?, size: r.get(2)? })
                })
                .optional()
            })
            .map_err(self.err(format!("reading attachment {name:?} of {instance_id}")))?;
        let info = info.ok_or_else(|| StoreError::UnknownAttachment {
            instance_id: instance_id.to_string(),
            name: name.to_string(),
        })?;
        read_checked(&self.conn, &self.files, instance_id, &info)
    }

    /// Streams an attachment into `out` through a small buffer (videos can
    /// be large), checking it against its recorded hash and size as it
    /// goes: on a mismatch `out` has received the bytes and the error says
    /// so, so write to something discarded on error (a bundle's `.partial`).
    pub fn copy_attachment(
        &self,
        instance_id: &str,
        name: &str,
        out: &mut dyn Write,
    ) -> Result<AttachmentInfo> {
        let info = self.attachment_info(instance_id, name)?;
        checked(&self.conn, &self.files, instance_id, &info, Some(out))?;
        Ok(info)
    }

    fn attachment_info(&self, instance_id: &str, name: &str) -> Result<AttachmentInfo> {
        let info: Option<AttachmentInfo> = self
            .conn
            .prepare_cached(
                "SELECT name, sha256, size FROM attachments WHERE instance_id = ?1 AND name = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![instance_id, name], |r| {
                    Ok(AttachmentInfo { name: r.get(0)?, sha256: r.get(1)?, size: r.get(2)? })
                })
                .optional()
            })
            .map_err(self.err(format!("reading attachment {name:?} of {instance_id}")))?;
        info.ok_or_else(|| StoreError::UnknownAttachment {
            instance_id: instance_id.to_string(),
            name: name.to_string(),
        })
    }

    /// Checks every recorded attachment file; lists each one missing or
    /// altered (empty when all are intact).
    pub fn verify_attachments(&self) -> Result<Vec<AttachmentProblem>> {
        let all: Vec<(String, AttachmentInfo)> = self
            .conn
            .prepare("SELECT instance_id, name, sha256, size FROM attachments ORDER BY instance_id, name")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((r.get(0)?, AttachmentInfo { name: r.get(1)?, sha256: r.get(2)?, size: r.get(3)? }))
                })?
                .collect()
            })
            .map_err(self.err("listing attachments"))?;
        let mut problems = Vec::new();
        for (instance_id, a) in all {
            let kind = match check_file(&self.conn, &self.files, &instance_id, &a) {
                Ok(_) => continue,
                Err(StoreError::AttachmentMissing { path, .. }) => {
                    AttachmentProblemKind::Missing { path }
                }
                Err(StoreError::AttachmentMismatch { found, found_size, .. }) => {
                    AttachmentProblemKind::Mismatch { found_sha256: found, found_size }
                }
                Err(e) => return Err(e),
            };
            problems.push(AttachmentProblem { instance_id, attachment: a, kind });
        }
        Ok(problems)
    }

    /// Removes attachment files no response refers to any more (after a
    /// purge, a sealed finalize, or an interrupted write). Returns how many.
    pub fn collect_garbage(&self) -> Result<usize> {
        self.collect_garbage_older_than(std::time::Duration::ZERO)
    }

    /// [`Store::collect_garbage`], sparing files changed in the last
    /// `grace`: what another process on the same database may be about to
    /// commit (a copy finished, its transaction not yet run). Run at every
    /// open, so a file a crash left between copy and commit is not kept
    /// forever (docs/RELIABILITY.md).
    pub fn collect_garbage_older_than(&self, grace: std::time::Duration) -> Result<usize> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io {
                path,
                context: "cleaning the attachment folder".into(),
                source,
            }
        };
        if self.files.place == AttachmentPlace::Database {
            return attachment_table::collect_garbage(&self.conn, grace)
                .map_err(self.err("cleaning the attachment table"));
        }
        let Ok(folders) = fs::read_dir(&self.files.dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for folder in folders {
            let folder = folder.map_err(io(&self.files.dir))?.path();
            if !folder.is_dir() {
                continue;
            }
            for file in fs::read_dir(&folder).map_err(io(&folder))? {
                let file = file.map_err(io(&folder))?.path();
                let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let recent = !grace.is_zero()
                    && fs::metadata(&file)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_none_or(|age| age < grace);
                let keep = recent
                    || !name.starts_with(".tmp-")
                        && self
                            .conn
                            .prepare_cached("SELECT 1 FROM attachments WHERE sha256 = ?1 LIMIT 1")
                            .and_then(|mut s| s.query_row([name], |_| Ok(())).optional())
                            .map_err(self.err("cleaning the attachment folder"))?
                            .is_some();
                if !keep {
                    fs::remove_file(&file).map_err(io(&file))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Payload, sha256_hex};

    fn plain() -> Payload {
        Payload::Plain { xml: "<data/>".into(), json: "{}".into() }
    }

    #[test]
    fn attachments_are_content_addressed_and_checked() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
        let info = store.put_attachment(&id, "p.jpg", b"jpeg bytes").unwrap();
        assert_eq!(info.sha256, sha256_hex(b"jpeg bytes"));
        assert_eq!(info.size, 10);
        assert_eq!(store.read_attachment(&id, "p.jpg").unwrap(), b"jpeg bytes");
        assert_eq!(store.attachments(&id).unwrap(), vec![info.clone()]);
        // A second response with the same content shares the file.
        let other = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.put_attachment(&other, "q.jpg", b"jpeg bytes").unwrap();
        assert!(store.verify_attachments().unwrap().is_empty());
        assert!(matches!(
            store.put_attachment(&id, "../x", b""),
            Err(StoreError::BadAttachmentName { .. })
        ));
        assert!(matches!(
            store.read_attachment(&id, "nope"),
            Err(StoreError::UnknownAttachment { .. })
        ));
        let entry = store.finalize(&id, plain()).unwrap();
        assert!(entry.content.contains(&info.sha256));
        assert!(matches!(
            store.put_attachment(&id, "late.jpg", b"x"),
            Err(StoreError::NotDraft { .. })
        ));
    }

    #[test]
    fn files_over_a_limit_are_refused_with_their_context_and_leave_nothing() {
        let (_d, mut store, key) = ready_store(&["a", "b"]);
        store.set_attachment_limits(AttachmentLimits { max_file: 10, max_response: 15 });
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let files_in = |store: &Store| {
            fs::read_dir(&store.files.dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| fs::read_dir(e.path()).map_or(0, Iterator::count))
                        .sum::<usize>()
                })
                .unwrap_or(0)
        };
        let err = store.attach_answer(&id, "/data/a", "1.mp4", &[7; 11]).unwrap_err();
        match &err {
            StoreError::AttachmentTooLarge {
                question, file, size, limit, kind, others, ..
            } => {
                assert_eq!(
                    (question.as_deref(), file.as_str(), *size, *limit, *kind, *others),
                    (Some("/data/a"), "1.mp4", 11, 10, LimitKind::File, 0)
                );
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("/data/a") && err.to_string().contains("at most 10"));
        assert!(store.attachments(&id).unwrap().is_empty());
        assert_eq!(store.answer(&id, "/data/a").unwrap(), None);
        assert_eq!(files_in(&store), 0, "nothing half-written");

        // Exactly at the limit is fine; the response's total counts too.
        store.attach_answer(&id, "/data/a", "1.mp4", &[1; 10]).unwrap();
        let err = store.attach_answer(&id, "/data/b", "2.mp4", &[2; 6]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::AttachmentTooLarge {
                    kind: LimitKind::Response,
                    others: 10,
                    limit: 15,
                    ..
                }
            ),
            "{err}"
        );
        // Replacing an answer's file does not count the file it replaces.
        store.attach_answer(&id, "/data/a", "3.mp4", &[3; 10]).unwrap();
        store.attach_answer(&id, "/data/b", "4.mp4", &[4; 5]).unwrap();
        assert_eq!(store.attachments(&id).unwrap().len(), 2);
        assert_eq!(files_in(&store), 2);

        // From a file: the error gives its path and whole size.
        let big = store.files.dir.with_file_name("big.mov");
        fs::write(&big, vec![0u8; 100]).unwrap();
        let err = store.attach_answer_file(&id, "/data/a", "5.mov", &big).unwrap_err();
        assert!(matches!(err, StoreError::AttachmentTooLarge { size: 100, .. }), "{err}");
        assert!(err.to_string().contains("big.mov"), "{err}");
    }

    /// Unmounts the small file system on drop.
    struct Mounted(std::path::PathBuf);

    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }

    /// Disk full mid-attachment: a typed error, no row, no answer, and no
    /// half-written file; the store works again once there is room.
    #[test]
    fn a_full_disk_mid_attachment_is_a_typed_error_leaving_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("small");
        fs::create_dir(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "enumera-media-test"])
            .arg(&mnt)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "skipped: cannot mount a small tmpfs here (needs root with CAP_SYS_ADMIN), so \
                 a full disk cannot be made; the limit test covers the same clean-up path"
            );
            return;
        }
        let _guard = Mounted(mnt.clone());
        let mut store = Store::open(mnt.join("device.db")).unwrap();
        store.init_device("t", None).unwrap();
        let key = store
            .install_instrument(&crate::store::test_support::instrument("f", "1", &["a"]))
            .unwrap();
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let video = dir.path().join("video.mp4");
        fs::write(&video, vec![7u8; 4 << 20]).unwrap();
        let err = store.attach_answer_file(&id, "/data/a", "1.mp4", &video).unwrap_err();
        assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
        assert!(err.to_string().contains("1.mp4"), "{err}");
        assert!(store.attachments(&id).unwrap().is_empty());
        assert_eq!(store.answer(&id, "/data/a").unwrap(), None);
        let left: usize = fs::read_dir(&store.files.dir)
            .unwrap()
            .map(|d| fs::read_dir(d.unwrap().path()).map_or(0, Iterator::count))
            .sum();
        assert_eq!(left, 0, "a half-written file was left");
        // Room enough for a photo: it goes in.
        let photo = store.attach_answer(&id, "/data/a", "2.jpg", &[1u8; 1000]).unwrap();
        assert_eq!(store.read_attachment(&id, &photo.name).unwrap(), vec![1u8; 1000]);
    }

    /// What a kill between a file's copy and its answer's commit leaves: a
    /// finished file no row names (and a temporary file of a cut copy).
    /// An open spares them while they are recent, removes them after.
    #[test]
    fn an_open_removes_orphans_older_than_the_grace_period() {
        let (d, store, _) = ready_store(&["a"]);
        let db = store.path.clone();
        let files = store.files.dir.clone();
        drop(store);
        let orphan = files.join("ab").join(format!("ab{}", "0".repeat(62)));
        let cut = files.join("tmp").join(".tmp-cut");
        for p in [&orphan, &cut] {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"partial").unwrap();
        }
        drop(Store::open(&db).unwrap());
        assert!(orphan.exists() && cut.exists(), "recent files are spared");
        let old = std::time::SystemTime::now() - super::super::ORPHAN_GRACE * 2;
        for p in [&orphan, &cut] {
            fs::File::options().write(true).open(p).unwrap().set_modified(old).unwrap();
        }
        drop(Store::open(&db).unwrap());
        assert!(!orphan.exists() && !cut.exists(), "old orphans are removed at open");
        drop(d);
    }

    #[test]
    fn attachments_stream_out_checked() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let info = store.put_attachment(&id, "v.mp4", &bytes).unwrap();
        let mut out = Vec::new();
        assert_eq!(store.copy_attachment(&id, "v.mp4", &mut out).unwrap(), info);
        assert_eq!(out, bytes);
        fs::write(file_path(&store.files.dir, &info.sha256), b"altered").unwrap();
        assert!(matches!(
            store.copy_attachment(&id, "v.mp4", &mut Vec::new()),
            Err(StoreError::AttachmentMismatch { .. })
        ));
    }

    #[test]
    fn missing_or_altered_files_are_reported_and_stop_finalize() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let a = store.put_attachment(&id, "a.jpg", b"first").unwrap();
        let b = store.put_attachment(&id, "b.wav", b"second").unwrap();
        let path = |i: &AttachmentInfo| file_path(store.attachments_dir(), &i.sha256);
        fs::remove_file(path(&a)).unwrap();
        fs::write(path(&b), b"changed").unwrap();
        let problems = store.verify_attachments().unwrap();
        assert_eq!(problems.len(), 2);
        assert!(matches!(problems[0].kind, AttachmentProblemKind::Missing { .. }));
        assert_eq!(problems[0].attachment.name, "a.jpg");
        assert!(matches!(&problems[1].kind, AttachmentProblemKind::Mismatch { found_size: 7, .. }));
        let err = store.finalize(&id, plain()).unwrap_err();
        assert!(
            matches!(&err, StoreError::AttachmentMissing { name, .. } if name == "a.jpg"),
            "{err}"
        );
        assert_eq!(store.response(&id).unwrap().state, crate::store::ResponseState::Draft);
        assert!(store.outbox(0, false).unwrap().is_empty());
        // Putting the file back (re-attaching) lets it through.
        store.put_attachment(&id, "a.jpg", b"first").unwrap();
        let err = store.finalize(&id, plain()).unwrap_err();
        assert!(
            matches!(&err, StoreError::AttachmentMismatch { name, .. } if name == "b.wav"),
            "{err}"
        );
        store.put_attachment(&id, "b.wav", b"second").unwrap();
        store.finalize(&id, plain()).unwrap();
    }

    #[test]
    fn attachments_stream_from_files() {
        let (dir, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let src = dir.path().join("recording.wav");
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&src, &content).unwrap();
        let info = store.put_attachment_file(&id, "recording.wav", &src).unwrap();
        assert_eq!((info.sha256.as_str(), info.size), (sha256_hex(&content).as_str(), 300_000));
        assert_eq!(store.read_attachment(&id, "recording.wav").unwrap(), content);
        assert!(src.exists(), "the source is copied, not moved");
        let err =
            store.put_attachment_file(&id, "x.wav", &dir.path().join("gone.wav")).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err}");
        assert!(err.to_string().contains("gone.wav"), "{err}");
        // No temp files are left behind.
        assert_eq!(fs::read_dir(store.attachments_dir().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn file_answers_keep_their_files_only_while_named() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let a = store.attach_answer(&id, "/data/m[1]/photo", "1.jpg", b"first").unwrap();
        store.attach_answer(&id, "/data/m[2]/photo", "2.jpg", b"second").unwrap();
        assert_eq!(store.answer(&id, "/data/m[1]/photo").unwrap().as_deref(), Some("1.jpg"));
        // Replaced: the old file goes, from the response and the disk.
        let c = store.attach_answer(&id, "/data/m[1]/photo", "3.jpg", b"third").unwrap();
        let names = |s: &Store| -> Vec<String> {
            s.attachments(&id).unwrap().into_iter().map(|a| a.name).collect()
        };
        assert_eq!(names(&store), ["2.jpg", "3.jpg"]);
        assert!(!file_path(store.attachments_dir(), &a.sha256).exists());
        // Removing the repeat instance takes its file; the next one moves up.
        store.remove_repeat_instance(&id, "/data/m[1]").unwrap();
        assert_eq!(names(&store), ["2.jpg"]);
        assert!(!file_path(store.attachments_dir(), &c.sha256).exists());
        assert_eq!(store.answer(&id, "/data/m[1]/photo").unwrap().as_deref(), Some("2.jpg"));
        // Cleared: gone too. A bad reference is refused before any write.
        store.clear_answer(&id, "/data/m[1]/photo").unwrap();
        assert!(names(&store).is_empty());
        assert!(matches!(
            store.attach_answer(&id, "data/x", "4.jpg", b"x"),
            Err(StoreError::BadRef { .. })
        ));
        assert_eq!(store.collect_garbage().unwrap(), 0);
    }

    #[test]
    fn garbage_collection_keeps_referenced_files() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.put_attachment(&id, "a.jpg", b"v1").unwrap();
        store.put_attachment(&id, "a.jpg", b"v2").unwrap();
        assert_eq!(store.collect_garbage().unwrap(), 1);
        assert_eq!(store.read_attachment(&id, "a.jpg").unwrap(), b"v2");
        store.discard(&id).unwrap();
        let report = store.purge(&id).unwrap();
        assert_eq!(report.files_removed, 1);
    }
}
