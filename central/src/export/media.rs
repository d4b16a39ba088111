//! `media/`: every exported response's attachments beside the tables, as
//! ODK Central's export zip holds them, so the file name a CSV cell gives
//! (`1764887400123.jpg`, the answer as ODK writes it) is found at
//! `media/NAME`. Each file is checked against the SHA-256 and size its
//! response's signed entry carried before it is written; an attachment
//! missing at central or not matching goes to `report.csv`, never dropped
//! silently. Two responses whose different files share a name: the first
//! keeps `media/NAME`, the later one is written to
//! `media/INSTANCE_ID/NAME`, its response's cells give that path
//! ([`Media::renamed`]) and the report says so (ODK Central would
//! overwrite one with the other).

use enumera_core::bundle::HashingWriter;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use enumera_core::store::{AttachmentInfo, EntryContent};
use sha2::Digest;

use super::payload::OpenedFile;
use super::report::ReportKind;
use super::{ExportError, ExportSource, StoredResponse};

/// The folder, and which file each name there holds.
pub(super) struct Media {
    dir: PathBuf,
    /// Name in `media/` -> the SHA-256 of the file written under it.
    written: HashMap<String, String>,
    /// Files written (shared names counted once).
    pub files: u64,
    /// The files of the response last written that went under its folder
    /// rather than their name: (name, path within `media/`), for its cells.
    pub renamed: Vec<(String, String)>,
}

impl Media {
    pub fn new(out: &Path) -> Media {
        Media { dir: out.join("media"), written: HashMap::new(), files: 0, renamed: Vec::new() }
    }

    /// Writes the attachments `r`'s signed entry names; what cannot be
    /// written goes to `notes` for the report.
    pub fn write<S: ExportSource>(
        &mut self,
        source: &S,
        r: &StoredResponse,
        notes: &mut Vec<(ReportKind, String)>,
    ) -> Result<(), ExportError> {
        let Some(content) =
            r.entry_content.as_deref().and_then(|c| serde_json::from_str::<EntryContent>(c).ok())
        else {
            return Ok(());
        };
        for a in &content.attachments {
            if !is_plain_name(&a.name) {
                // Bundles with such names are refused at ingest; an older
                // store may still hold one.
                notes.push((
                    ReportKind::MediaMissing,
                    format!("{:?}: not a plain file name", a.name),
                ));
                continue;
            }
            // Streamed into a temporary file beside the folder while
            // hashed, and given its name only once it matched: a video is
            // never held whole, and a bad file is never left under a name.
            let Some(path) = self.target(r, a, notes) else { continue };
            // Beside media/, which is made only once a file is good.
            let partial = self.dir.with_file_name(format!(".media-partial-{}", a.sha256));
            let file = std::fs::File::create(&partial).map_err(|e| ExportError::io(&partial, e))?;
            let mut out = HashingWriter::new(std::io::BufWriter::new(file));
            let copied = source.copy_attachment(&a.sha256, &mut out);
            let flushed = std::io::Write::flush(&mut out.out);
            let found = enumera_core::bundle::hex(&out.sha.finalize());
            let (n, copied) = (
                out.n,
                copied.and_then(|c| {
                    flushed.map_err(|e| ExportError::io(&partial, e))?;
                    Ok(c)
                }),
            );
            let held = match copied {
                Ok(held) => held,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
            };
            if held.is_none() {
                let _ = std::fs::remove_file(&partial);
                self.forget(a);
                notes.push((
                    ReportKind::MediaMissing,
                    format!("{}: central holds no file with SHA-256 {}", a.name, a.sha256),
                ));
                continue;
            }
            if found != a.sha256 || n != a.size {
                let _ = std::fs::remove_file(&partial);
                self.forget(a);
                notes.push((
                    ReportKind::MediaMismatch,
                    format!(
                        "{}: expected SHA-256 {} ({} bytes), central holds {found} ({n} bytes)",
                        a.name, a.sha256, a.size,
                    ),
                ));
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| ExportError::io(parent, e))?;
            }
            std::fs::rename(&partial, &path).map_err(|e| ExportError::io(&path, e))?;
            self.files += 1;
        }
        Ok(())
    }

    /// Writes a sealed response's attachments, opened with the identity
    /// (their hashes were checked against the sealed header when opened).
    pub fn write_opened(
        &mut self,
        r: &StoredResponse,
        attachments: &mut [(AttachmentInfo, OpenedFile)],
        notes: &mut Vec<(ReportKind, String)>,
    ) -> Result<(), ExportError> {
        for (a, bytes) in attachments {
            if !is_plain_name(&a.name) {
                notes.push((
                    ReportKind::MediaMissing,
                    format!("{:?}: not a plain file name (sealed attachment)", a.name),
                ));
                continue;
            }
            self.place(r, a, bytes, notes)?;
        }
        Ok(())
    }

    /// Writes one checked file under its name, or under the response's
    /// folder when another file already has the name.
    fn place(
        &mut self,
        r: &StoredResponse,
        a: &AttachmentInfo,
        file: &mut OpenedFile,
        notes: &mut Vec<(ReportKind, String)>,
    ) -> Result<(), ExportError> {
        let Some(path) = self.target(r, a, notes) else { return Ok(()) };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ExportError::io(parent, e))?;
        }
        // Copied from its temporary file through a small buffer.
        let out = std::fs::File::create(&path).map_err(|e| ExportError::io(&path, e))?;
        let mut out = std::io::BufWriter::new(out);
        file.copy_to(&mut out)
            .and_then(|_| std::io::Write::flush(&mut out))
            .map_err(|e| ExportError::io(&path, e))?;
        self.files += 1;
        Ok(())
    }

    /// Where a file goes: under its name, or under the response's folder
    /// when another file already has the name; None when this very file is
    /// written already.
    fn target(
        &mut self,
        r: &StoredResponse,
        a: &AttachmentInfo,
        notes: &mut Vec<(ReportKind, String)>,
    ) -> Option<PathBuf> {
        match self.written.get(&a.name) {
            Some(sha) if *sha == a.sha256 => None,
            Some(_) => {
                let within = format!("{}/{}", folder_name(&r.instance_id), a.name);
                let path = self.dir.join(&within);
                self.renamed.push((a.name.clone(), within));
                notes.push((
                    ReportKind::MediaRenamed,
                    format!(
                        "{}: another response's different file has this name; written to {}",
                        a.name,
                        path.strip_prefix(self.dir.parent().unwrap_or(&self.dir))
                            .unwrap_or(&path)
                            .display()
                    ),
                ));
                Some(path)
            }
            None => {
                self.written.insert(a.name.clone(), a.sha256.clone());
                Some(self.dir.join(&a.name))
            }
        }
    }

    /// Undoes [`Media::target`] for a file that turned out missing or bad.
    fn forget(&mut self, a: &AttachmentInfo) {
        if self.written.get(&a.name) == Some(&a.sha256) {
            self.written.remove(&a.name);
        }
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// An instance id as a folder name on every system (`uuid:...` has a colon).
fn folder_name(instance_id: &str) -> String {
    instance_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Filter, HeldAside, Order, Visit};
    use enumera_core::bundle::sha256_hex;
    use enumera_core::instrument::Instrument;

    /// Central holding these attachment files, by hash.
    struct Held(HashMap<String, Vec<u8>>);

    impl ExportSource for Held {
        fn instruments(&self, _: &Filter) -> Result<Vec<Instrument>, ExportError> {
            Ok(Vec::new())
        }
        fn count(&self, _: &Filter) -> Result<u64, ExportError> {
            Ok(0)
        }
        fn responses(
            &self,
            _: &Filter,
            _: Order,
            _: Visit<'_, StoredResponse>,
        ) -> Result<(), ExportError> {
            Ok(())
        }
        fn held_aside(&self, _: &Filter, _: Visit<'_, HeldAside>) -> Result<(), ExportError> {
            Ok(())
        }
        fn pseudonym_secret(&self) -> Result<[u8; 32], ExportError> {
            Ok([0; 32])
        }
        fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, ExportError> {
            Ok(self.0.get(sha256).cloned())
        }
        fn copy_sealed(
            &self,
            _: &str,
            _: &mut dyn std::io::Write,
        ) -> Result<Option<u64>, ExportError> {
            Ok(None)
        }
    }

    fn response(id: &str, files: &[(&str, &[u8])]) -> StoredResponse {
        let attachments: Vec<_> = files
            .iter()
            .map(|(n, b)| serde_json::json!({"name": n, "sha256": sha256_hex(b), "size": b.len()}))
            .collect();
        let content = serde_json::json!({
            "attachments": attachments, "device_id": "d", "finalized_at": "t",
            "form_hash": "h", "form_id": "f", "form_version": "1",
            "format": "enumera-outbox-entry/1", "instance_id": id,
        });
        StoredResponse {
            instance_id: id.into(),
            device_id: "d".into(),
            form_id: "f".into(),
            form_version: "1".into(),
            participant_id: None,
            round: None,
            enumerator: None,
            finalized_at: "t".into(),
            received_at: "t".into(),
            xml: None,
            sealed: None,
            entry_content: Some(content.to_string()),
        }
    }

    #[test]
    fn files_are_checked_and_collisions_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c): (&[u8], &[u8], &[u8]) = (b"photo a", b"photo b", b"recording");
        let mut held: HashMap<String, Vec<u8>> =
            [a, b].iter().map(|x| (sha256_hex(x), x.to_vec())).collect();
        // Central holds something else under c's hash.
        held.insert(sha256_hex(c), b"altered".to_vec());
        let source = Held(held);
        let mut media = Media::new(dir.path());
        let mut notes = Vec::new();
        media.write(&source, &response("uuid:1", &[("1.jpg", a)]), &mut notes).unwrap();
        // The same file under the same name: written once.
        media.write(&source, &response("uuid:2", &[("1.jpg", a)]), &mut notes).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        // A different file under that name; a mismatch; one not held.
        let r3 = response("uuid:3", &[("1.jpg", b), ("2.wav", c), ("3.mp4", b"gone")]);
        media.write(&source, &r3, &mut notes).unwrap();
        let m = dir.path().join("media");
        assert_eq!(std::fs::read(m.join("1.jpg")).unwrap(), a);
        assert_eq!(std::fs::read(m.join("uuid-3").join("1.jpg")).unwrap(), b);
        assert!(!m.join("2.wav").exists() && !m.join("3.mp4").exists());
        assert_eq!(media.files, 2);
        let kinds: Vec<ReportKind> = notes.iter().map(|n| n.0).collect();
        assert_eq!(
            kinds,
            [ReportKind::MediaRenamed, ReportKind::MediaMismatch, ReportKind::MediaMissing]
        );
        assert!(notes[0].1.contains("media/uuid-3/1.jpg"), "{notes:?}");
    }

    #[test]
    fn names_and_folders_are_safe() {
        assert!(is_plain_name("1764887400123.jpg"));
        for bad in ["", ".", "..", "a/b", "a\\b", "nul\0"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        assert_eq!(folder_name("uuid:0b1c-2d/3"), "uuid-0b1c-2d-3");
    }
}
