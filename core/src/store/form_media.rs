//! Form media files on the device (issue 18, item 2): the images, audio and
//! video a form's labels name, fetched with the form and checked against
//! the SHA-256 and size central listed. Kept in the database as blobs,
//! written and read with SQLite's incremental blob I/O in chunks, so a
//! video is never held whole; content-addressed, so form versions naming
//! the same bytes share them.

use std::io::{Read, Write};

use rusqlite::{MAIN_DB, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};
use super::{Store, write_tx};
use crate::instrument::canonical::hex;

/// Bytes moved per blob read or write.
pub const FORM_MEDIA_CHUNK: usize = 1 << 20;

/// One file a form needs: its name in the form, SHA-256 and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormMediaEntry {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// A file a form needs, and whether the device holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormMediaStatus {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub present: bool,
}

fn part_key(sha256: &str) -> String {
    format!("part:{sha256}")
}

impl Store {
    /// Records the files an installed instrument needs (replacing what was
    /// recorded): the list central gave, or a form package's.
    pub fn set_instrument_media(
        &mut self,
        instrument_hash: &str,
        media: &[FormMediaEntry],
    ) -> Result<()> {
        let path = self.path.clone();
        let tx = write_tx(&mut self.conn, &path, "recording form media")?;
        let map = |e| StoreError::sql(&path, "recording form media", e);
        tx.execute("DELETE FROM instrument_media WHERE instrument_hash = ?1", [instrument_hash])
            .map_err(map)?;
        for m in media {
            tx.execute(
                "INSERT INTO instrument_media (instrument_hash, name, sha256, size)
                 VALUES (?1, ?2, ?3, ?4)",
                params![instrument_hash, m.name, m.sha256, m.size],
            )
            .map_err(map)?;
        }
        tx.commit().map_err(map)
    }

    /// The files an instrument needs, by name, each with whether it is here.
    pub fn instrument_media(&self, instrument_hash: &str) -> Result<Vec<FormMediaStatus>> {
        self.conn
            .prepare_cached(
                "SELECT m.name, m.sha256, m.size, f.sha256 IS NOT NULL
                 FROM instrument_media m LEFT JOIN form_media_files f ON f.sha256 = m.sha256
                 WHERE m.instrument_hash = ?1 ORDER BY m.name",
            )
            .and_then(|mut s| {
                s.query_map([instrument_hash], |r| {
                    Ok(FormMediaStatus {
                        name: r.get(0)?,
                        sha256: r.get(1)?,
                        size: r.get(2)?,
                        present: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("listing form media"))
    }

    /// True when the file with that SHA-256 is held whole and checked.
    pub fn has_form_media(&self, sha256: &str) -> Result<bool> {
        self.conn
            .query_row("SELECT 1 FROM form_media_files WHERE sha256 = ?1", [sha256], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(self.err("looking up form media"))
    }

    /// Starts (or starts over) writing the file that should hash to
    /// `sha256`: `size` bytes of space, filled by [`Self::write_form_media`].
    pub fn begin_form_media(&mut self, sha256: &str, size: u64) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO form_media_files (sha256, size, content)
                 VALUES (?1, ?2, zeroblob(?2))",
                params![part_key(sha256), size],
            )
            .map_err(self.err("starting a form media file"))?;
        Ok(())
    }

    /// Writes `bytes` at `offset` of a file begun with [`Self::begin_form_media`].
    pub fn write_form_media(&mut self, sha256: &str, offset: u64, bytes: &[u8]) -> Result<()> {
        let fail = |reason: String| StoreError::FormMedia { what: sha256.into(), reason };
        let row = self.part_row(sha256)?.ok_or_else(|| fail("it was not begun".into()))?;
        let mut blob = self
            .conn
            .blob_open(MAIN_DB, "form_media_files", "content", row, false)
            .map_err(self.err("opening a form media file"))?;
        let end = offset.checked_add(bytes.len() as u64);
        if end.is_none_or(|end| end > blob.len() as u64) {
            return Err(fail(format!(
                "{} bytes at offset {offset} run past its listed size {}",
                bytes.len(),
                blob.len()
            )));
        }
        blob.write_all_at(bytes, offset as usize).map_err(self.err("writing a form media file"))
    }

    /// Checks a written file against its SHA-256 (read back in chunks) and
    /// keeps it under that key; `Err(found)` (and nothing kept) when it
    /// hashes to something else.
    pub fn finish_form_media(&mut self, sha256: &str) -> Result<std::result::Result<(), String>> {
        let fail = |reason: String| StoreError::FormMedia { what: sha256.into(), reason };
        let row = self.part_row(sha256)?.ok_or_else(|| fail("it was not begun".into()))?;
        let found = {
            let mut blob = self
                .conn
                .blob_open(MAIN_DB, "form_media_files", "content", row, true)
                .map_err(self.err("reading a form media file"))?;
            hash_all(&mut blob).map_err(|e| fail(format!("reading it back: {e}")))?
        };
        let path = self.path.clone();
        let tx = write_tx(&mut self.conn, &path, "keeping a form media file")?;
        let map = |e| StoreError::sql(&path, "keeping a form media file", e);
        if found != sha256 {
            tx.execute("DELETE FROM form_media_files WHERE rowid = ?1", [row]).map_err(map)?;
            tx.commit().map_err(map)?;
            return Ok(Err(found));
        }
        let held: bool = tx
            .query_row("SELECT 1 FROM form_media_files WHERE sha256 = ?1", [sha256], |_| Ok(()))
            .optional()
            .map_err(map)?
            .is_some();
        if held {
            tx.execute("DELETE FROM form_media_files WHERE rowid = ?1", [row]).map_err(map)?;
        } else {
            tx.execute(
                "UPDATE form_media_files SET sha256 = ?1 WHERE rowid = ?2",
                params![sha256, row],
            )
            .map_err(map)?;
        }
        tx.commit().map_err(map)?;
        Ok(Ok(()))
    }

    /// Copies a whole file in from `input` (`size` bytes expected), in
    /// chunks, and keeps it if it hashes to `sha256`; `Err(reason)` with
    /// nothing kept otherwise. For forms carried by file.
    pub fn import_form_media(
        &mut self,
        sha256: &str,
        size: u64,
        input: &mut dyn Read,
    ) -> Result<std::result::Result<(), String>> {
        if self.has_form_media(sha256)? {
            return Ok(Ok(()));
        }
        self.begin_form_media(sha256, size)?;
        let mut buf = vec![0u8; FORM_MEDIA_CHUNK];
        let mut at = 0u64;
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.drop_part(sha256)?;
                    return Ok(Err(format!("reading it: {e}")));
                }
            };
            if at + n as u64 > size {
                self.drop_part(sha256)?;
                return Ok(Err(format!("it is larger than its listed {size} bytes")));
            }
            self.write_form_media(sha256, at, &buf[..n])?;
            at += n as u64;
        }
        if at != size {
            self.drop_part(sha256)?;
            return Ok(Err(format!("it has {at} bytes, listed as {size}")));
        }
        Ok(self.finish_form_media(sha256)?.map_err(|found| format!("its SHA-256 is {found}")))
    }

    /// Copies an instrument's form media file `name` to `out` in chunks;
    /// `None` when the instrument names no such file or it is not here.
    pub fn copy_form_media(
        &self,
        instrument_hash: &str,
        name: &str,
        out: &mut dyn Write,
    ) -> Result<Option<u64>> {
        let row: Option<i64> = self
            .conn
            .query_row(
                "SELECT f.rowid FROM instrument_media m
                 JOIN form_media_files f ON f.sha256 = m.sha256
                 WHERE m.instrument_hash = ?1 AND m.name = ?2",
                params![instrument_hash, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("finding a form media file"))?;
        let Some(row) = row else { return Ok(None) };
        let mut blob = self
            .conn
            .blob_open(MAIN_DB, "form_media_files", "content", row, true)
            .map_err(self.err("reading a form media file"))?;
        let n = std::io::copy(&mut blob, out).map_err(|e| StoreError::FormMedia {
            what: name.into(),
            reason: format!("copying it out: {e}"),
        })?;
        Ok(Some(n))
    }

    /// An instrument's form media file `name`, whole (images and audio of a
    /// label; use [`Self::copy_form_media`] for video).
    pub fn read_form_media(&self, instrument_hash: &str, name: &str) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(self.copy_form_media(instrument_hash, name, &mut out)?.map(|_| out))
    }

    fn part_row(&self, sha256: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT rowid FROM form_media_files WHERE sha256 = ?1",
                [part_key(sha256)],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("finding a form media file"))
    }

    fn drop_part(&mut self, sha256: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM form_media_files WHERE sha256 = ?1", [part_key(sha256)])
            .map_err(self.err("dropping a form media file"))?;
        Ok(())
    }
}

fn hash_all(input: &mut dyn Read) -> std::io::Result<String> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; FORM_MEDIA_CHUNK];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(hex(&sha.finalize())),
            Ok(n) => sha.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sha256_hex;
    use crate::store::test_support::temp_store;

    fn entry(name: &str, bytes: &[u8]) -> FormMediaEntry {
        FormMediaEntry { name: name.into(), sha256: sha256_hex(bytes), size: bytes.len() as u64 }
    }

    #[test]
    fn files_written_in_chunks_are_kept_only_under_their_hash() {
        let (_d, mut store) = temp_store();
        let big: Vec<u8> = (0..(FORM_MEDIA_CHUNK * 2 + 7)).map(|i| (i % 251) as u8).collect();
        let e = entry("card.png", &big);
        store.set_instrument_media("f1", std::slice::from_ref(&e)).unwrap();
        assert!(!store.instrument_media("f1").unwrap()[0].present);
        store.begin_form_media(&e.sha256, e.size).unwrap();
        for (i, chunk) in big.chunks(FORM_MEDIA_CHUNK).enumerate() {
            store.write_form_media(&e.sha256, (i * FORM_MEDIA_CHUNK) as u64, chunk).unwrap();
        }
        // Past the listed size: refused.
        assert!(store.write_form_media(&e.sha256, e.size - 1, b"xy").is_err());
        assert_eq!(store.finish_form_media(&e.sha256).unwrap(), Ok(()));
        assert!(store.instrument_media("f1").unwrap()[0].present);
        assert_eq!(store.read_form_media("f1", "card.png").unwrap().unwrap(), big);
        assert_eq!(store.read_form_media("f1", "other.png").unwrap(), None);
        assert_eq!(store.read_form_media("f2", "card.png").unwrap(), None);

        // Another version naming the same bytes shares them.
        let renamed = FormMediaEntry { name: "card-v2.png".into(), ..e.clone() };
        store.set_instrument_media("f2", &[renamed]).unwrap();
        assert_eq!(store.read_form_media("f2", "card-v2.png").unwrap().unwrap(), big);
    }

    #[test]
    fn tampered_bytes_are_dropped() {
        let (_d, mut store) = temp_store();
        let e = entry("a.mp3", b"the real audio");
        store.begin_form_media(&e.sha256, e.size).unwrap();
        store.write_form_media(&e.sha256, 0, b"the fake audio").unwrap();
        let found = store.finish_form_media(&e.sha256).unwrap().unwrap_err();
        assert_eq!(found, sha256_hex(b"the fake audio"));
        assert!(!store.has_form_media(&e.sha256).unwrap());
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM form_media_files", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn imports_check_size_and_hash() {
        let (_d, mut store) = temp_store();
        let e = entry("v.mp4", b"0123456789");
        let short = store.import_form_media(&e.sha256, e.size, &mut &b"01234"[..]).unwrap();
        assert!(short.unwrap_err().contains("5 bytes"));
        let long = store.import_form_media(&e.sha256, 3, &mut &b"0123456789"[..]).unwrap();
        assert!(long.unwrap_err().contains("larger"));
        assert_eq!(
            store.import_form_media(&e.sha256, e.size, &mut &b"0123456789"[..]).unwrap(),
            Ok(())
        );
        assert!(store.has_form_media(&e.sha256).unwrap());
        // Again: a no-op.
        assert_eq!(store.import_form_media(&e.sha256, e.size, &mut &b""[..]).unwrap(), Ok(()));
    }
}
