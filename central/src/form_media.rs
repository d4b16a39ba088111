//! Form media at central (issue 18, item 2): the files a form's labels name,
//! gathered from a folder when the form is published, stored by SHA-256 in
//! either store and served to devices by SHA-256.
//!
//! Rules (docs/FORMAT.md, "Form media"): every file the form names must be
//! in the folder, else publishing fails naming each missing file with the
//! question (or choice) and column that needs it; other files in the folder
//! are not published and are reported as warnings (the folder ODK users keep
//! beside a form also holds files Enumera carries inside the instrument,
//! such as select_one_from_file CSVs). A published version's media are
//! fixed: changed files need a new form version.

use std::path::{Path, PathBuf};

use enumera_core::instrument::{Instrument, valid_media_name};
use enumera_core::store::FormMediaEntry;

use crate::error::CentralError;

/// Bytes a store reads or writes at a time (and a PostgreSQL chunk).
pub const MEDIA_CHUNK: usize = 1 << 20;

/// A file to publish with a form: its name in the form, where it is read
/// from, and its SHA-256 and size as read when it was gathered (checked
/// again while it is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSource {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl MediaSource {
    pub fn entry(&self) -> FormMediaEntry {
        FormMediaEntry { name: self.name.clone(), sha256: self.sha256.clone(), size: self.size }
    }
}

/// The files gathered for a form, and the folder's files it does not name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatheredMedia {
    pub files: Vec<MediaSource>,
    pub unreferenced: Vec<String>,
}

/// Gathers every form media file `instrument` names from `dir` (`None`: the
/// form names none, or an error naming what is missing).
pub fn gather_media(
    instrument: &Instrument,
    dir: Option<&Path>,
) -> Result<GatheredMedia, CentralError> {
    let refs = instrument.media_references();
    let names = instrument.media_files();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for name in &names {
        let places: Vec<String> = refs
            .iter()
            .filter(|r| &r.file == name)
            .map(|r| format!("{} (column {}, row {})", r.at, r.column, r.row))
            .collect();
        if !valid_media_name(name) {
            problems.push(format!(
                "{name:?} is not a plain file name (no folders, not starting with a dot), \
                 named by {}",
                places.join(", ")
            ));
            continue;
        }
        let path = dir.map(|d| d.join(name));
        match path.as_deref().map(std::fs::File::open) {
            Some(Ok(mut f)) => {
                let path = path.clone().unwrap_or_default();
                let io = |e: std::io::Error| CentralError::MediaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                };
                let size = f.metadata().map_err(io)?.len();
                let sha256 = crate::hash_reader(&mut f).map_err(io)?;
                files.push(MediaSource { name: name.clone(), path, sha256, size });
            }
            _ => problems.push(format!("{name}, needed by {}", places.join(", "))),
        }
    }
    if !problems.is_empty() {
        return Err(CentralError::MediaMissing {
            form_id: instrument.form_id.clone(),
            version: instrument.version.clone(),
            folder: dir.map(Path::to_path_buf),
            missing: problems,
        });
    }
    let mut unreferenced = Vec::new();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| CentralError::MediaFile { path: dir.into(), reason: e.to_string() })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let carried = instrument.files.contains_key(&name)
                || instrument.externals.values().any(|f| f == &name);
            if !names.contains(&name) && !carried && !name.starts_with('.') {
                unreferenced.push(name);
            }
        }
        unreferenced.sort();
    }
    Ok(GatheredMedia { files, unreferenced })
}

/// The folder ODK users keep beside a form (`FORM-media/` for
/// `FORM.xlsx`), when it exists.
pub fn media_folder_beside(form: &Path) -> Option<PathBuf> {
    let stem = form.file_stem()?.to_string_lossy().into_owned();
    let dir = form.with_file_name(format!("{stem}-media"));
    dir.is_dir().then_some(dir)
}

/// Whether two media lists are the same files under the same names.
pub(crate) fn same_media(a: &[FormMediaEntry], b: &[FormMediaEntry]) -> bool {
    let key = |v: &[FormMediaEntry]| {
        let mut k: Vec<(String, String, u64)> =
            v.iter().map(|e| (e.name.clone(), e.sha256.clone(), e.size)).collect();
        k.sort();
        k
    };
    key(a) == key(b)
}

/// What changed between the media published under a version and new ones.
pub(crate) fn media_change(old: &[FormMediaEntry], new: &[FormMediaEntry]) -> String {
    let mut out = Vec::new();
    for n in new {
        match old.iter().find(|o| o.name == n.name) {
            None => out.push(format!("{} added", n.name)),
            Some(o) if o.sha256 != n.sha256 => out.push(format!("{} changed", n.name)),
            Some(_) => {}
        }
    }
    for o in old {
        if !new.iter().any(|n| n.name == o.name) {
            out.push(format!("{} removed", o.name));
        }
    }
    out.join(", ")
}
