//! XLSForm import: an .xlsx workbook (survey, choices and settings sheets)
//! read with the meaning pyxform gives it, into an [`Instrument`], with every
//! problem reported at once against the cell that holds it.
//!
//! Reading never stops at the first problem: the importer builds as much of
//! the instrument as the sheets allow and lists each error and warning as a
//! [`Diagnostic`]. Only a file that is not a readable workbook at all (not an
//! .xlsx, empty, encrypted, truncated) is an [`ImportError`].
//!
//! What is read (tests/tests/import_pyxform.rs checks it against pyxform's
//! own reading of the same files):
//! - cells as pyxform sees them: numbers without `.0`, `TRUE`/`FALSE`, dates
//!   as `2026-11-29 00:00:00`, formulas as their cached result, text trimmed,
//!   runs of spaces collapsed on the survey sheet, typographic quotes made
//!   plain; headers case-insensitive, `::` (or `:`) language suffixes;
//! - survey columns and pyxform's aliases (headers.rs), `bind::X`,
//!   `body::X`, `instance::X` kept verbatim, our `pii` / `preload` columns
//!   (also `bind::enumera:pii`, `bind::enumera:preload`);
//! - types and their aliases (types.rs), `select_one list [or_other]`,
//!   `select_*_from_file f.csv`, `rank`, begin/end group and repeat;
//! - choices with extra columns; settings; CSV files beside the form.
//!
//! Deliberate differences from pyxform 4: plain `jr:constraintMsg` and
//! `jr:requiredMsg` headers are read (pyxform now ignores them silently);
//! `select_one_external` and the entities sheet are refused or ignored with
//! a message. Every type name of pyxform's alias table and question type
//! dictionary is read (types.rs), with `begin loop over LIST` (loops.rs),
//! `osm` and its sheet, `start-geopoint`, `background-geopoint`,
//! `background-audio`, `csv-external` and `xml-external`. Files beside the
//! form (.csv, .geojson, .xml) follow one rule, as pyxform converts without
//! them: missing is a warning (files.rs).

mod canonical;
mod choices;
pub mod csv;
#[cfg(feature = "xlsx")]
mod data_files;
mod files;
mod headers;
#[cfg(feature = "xlsx")]
pub(crate) mod limits;
mod loops;
mod settings;
mod survey;
mod types;
mod workbook;
#[cfg(feature = "xlsx")]
mod xlsx;

pub(crate) use files::expressions;

/// The files an instrument names, read from `dir` (for the XForm reader,
/// which follows the same rule).
#[cfg(feature = "xlsx")]
pub(crate) fn load_files(
    instrument: &Instrument,
    columns: &SourceColumns,
    dir: Option<&Path>,
    diagnostics: &mut Vec<Diagnostic>,
) -> std::collections::BTreeMap<String, super::model::DataFile> {
    files::load(instrument, columns, dir, diagnostics)
}
pub(crate) use types::suggest;

use std::path::{Path, PathBuf};

use super::canonical::CanonicalError;
use super::diagnostic::{Diagnostic, Severity};
use super::model::{Instrument, MODEL_VERSION};
use super::validate::{self, SourceColumns};

/// An imported instrument and every problem found on the way. An instrument
/// with any error diagnostic must not be used to collect data.
#[derive(Debug, Clone)]
pub struct Imported {
    pub instrument: Instrument,
    /// Errors and warnings, sorted by sheet, row and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl Imported {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// A file that cannot be read as a form at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{name} is empty (0 bytes); an XLSForm is an .xlsx workbook with a survey sheet")]
    Empty { name: String },
    #[error(
        "{name} is not an Excel workbook; save the form as .xlsx (Excel Workbook) and try again"
    )]
    NotAWorkbook { name: String },
    #[error(
        "{name} is password-protected (encrypted); remove the password in your spreadsheet program and save it again"
    )]
    Encrypted { name: String },
    #[error(
        "{name} is damaged or incomplete (its zip archive cannot be read); save or copy it again"
    )]
    Damaged { name: String },
    #[error("{name} cannot be read as a workbook: {reason}")]
    Unreadable { name: String, reason: String },
    #[error("{name} cannot be read as an XForm: {reason}")]
    NotAnXForm { name: String, reason: String },
    #[error("{name} is refused: {reason}")]
    TooLarge { name: String, reason: String },
    #[error("{name}: {source}")]
    Json { name: String, source: CanonicalError },
    #[error(
        "{name}: this build of Enumera reads forms as Enumera instruments (.json) only; \
         publish the XLSForm at central (devices fetch it when they sync) or convert it with \
         `enumera form convert FORM.xlsx -o FORM.json`"
    )]
    NoWorkbookReader { name: String },
    #[error(
        "{name}: unknown form file type; give an XLSForm (.xlsx, .xls), an ODK XForm (.xml) or an Enumera instrument (.json)"
    )]
    UnknownFormat { name: String },
}

/// Imports the XLSForm at `path`. CSV files it names (`select_one_from_file`,
/// `pulldata`) are read from the same folder.
pub fn import_xlsform(path: &Path) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ImportError::Io { path: path.to_path_buf(), source })?;
    let name = file_name(path);
    import_xlsform_bytes(&bytes, &name, path.parent())
}

/// Imports XLSForm bytes. `name` is the file name (its stem is the form id
/// when settings give none); CSV files are read from `media_dir` when given.
pub fn import_xlsform_bytes(
    bytes: &[u8],
    name: &str,
    media_dir: Option<&Path>,
) -> Result<Imported, ImportError> {
    let book = workbook::read(bytes, name)?;
    let mut diagnostics = Vec::new();
    let stem = Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name);

    check_sheet_names(&book, &mut diagnostics);
    let settings = settings::read(&book, stem, &mut diagnostics);
    let choices = choices::read(&book, &mut diagnostics);
    let osm = choices::read_sheet(&book, "osm", &mut diagnostics);
    let mut survey = survey::read(&book, &mut diagnostics);
    loops::expand(&mut survey.children, &choices.lists, &mut diagnostics);
    // pyxform puts the audit in `meta`, after every question: it has one
    // place in the instrument too, whatever its row (so an XForm read back
    // gives the same instrument).
    let mut audits = Vec::new();
    take_audits(&mut survey.children, &mut audits);
    survey.children.extend(audits);

    let mut languages = survey.languages.clone();
    for l in &choices.languages {
        if !languages.contains(l) {
            languages.push(l.clone());
        }
    }
    let (settings_columns, settings_row) = (settings.columns, settings.row);
    let mut instrument = Instrument {
        model_version: MODEL_VERSION,
        form_id: settings.form_id,
        version: settings.version,
        title: settings.title,
        root_name: settings.root_name,
        default_language: settings.default_language,
        languages,
        settings: settings.settings,
        children: survey.children,
        choices: choices.lists,
        files: Default::default(),
        osm: osm.lists,
        externals: survey
            .externals
            .iter()
            .map(|(id, file, _)| (id.clone(), file.clone()))
            .collect(),
    };
    let columns = SourceColumns {
        survey: survey.columns,
        choices: choices.columns,
        settings: settings_columns,
        settings_row,
    };
    canonical::canonicalize(&mut instrument);
    instrument.files = files::load(&instrument, &columns, media_dir, &mut diagnostics);
    diagnostics.extend(validate::validate(&instrument, &columns));
    sort(&mut diagnostics);
    Ok(Imported { instrument, diagnostics })
}

/// Loads a form for use: an XLSForm (.xlsx/.xls) is imported, an Enumera
/// instrument JSON is read back and validated again.
pub fn load_form(path: &Path) -> Result<Imported, ImportError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx" | "xlsm" | "xls") => import_xlsform(path),
        #[cfg(feature = "xlsx")]
        Some("xml") => super::xform_read::import_xform(path),
        #[cfg(not(feature = "xlsx"))]
        Some("xml") => Err(ImportError::NoWorkbookReader { name: file_name(path) }),
        Some("json") => {
            let bytes = std::fs::read(path)
                .map_err(|source| ImportError::Io { path: path.to_path_buf(), source })?;
            let instrument = Instrument::from_json(&bytes)
                .map_err(|source| ImportError::Json { name: file_name(path), source })?;
            let mut diagnostics = validate::validate(&instrument, &SourceColumns::default());
            sort(&mut diagnostics);
            Ok(Imported { instrument, diagnostics })
        }
        _ => Err(ImportError::UnknownFormat { name: file_name(path) }),
    }
}

/// Sheets Enumera does not read: a likely misspelling of one it does, or an
/// XLSForm sheet it does not carry out (so the author is not surprised).
fn check_sheet_names(book: &workbook::Workbook, diagnostics: &mut Vec<Diagnostic>) {
    use super::diagnostic::Location;
    const READ: [&str; 3] = ["survey", "choices", "settings"];
    if book.sheets.len() < 2 {
        return; // a lone sheet is read as the survey
    }
    for sheet in &book.sheets {
        let lower = sheet.name.trim().to_lowercase();
        if READ.contains(&lower.as_str()) {
            continue;
        }
        if lower == "osm" {
            continue; // the tags of `osm LIST` questions
        }
        let message = if matches!(lower.as_str(), "entities" | "external_choices") {
            format!("the '{}' sheet is not supported by Enumera and is ignored", sheet.name)
        } else if let Some(s) = types::suggest(&lower, READ.into_iter()) {
            format!("sheet '{}' is not read; is it meant to be '{s}'?", sheet.name)
        } else {
            continue;
        };
        if lower != "survey"
            && book.sheet("survey").is_none()
            && types::suggest(&lower, ["survey"].into_iter()).is_some()
        {
            continue; // reported as the missing survey sheet
        }
        diagnostics.push(Diagnostic::warning(Location::sheet(&sheet.name), message));
    }
}

/// Moves every audit question, at any depth, out of `nodes` into `out`.
fn take_audits(nodes: &mut Vec<super::model::Node>, out: &mut Vec<super::model::Node>) {
    let (keep, audits): (Vec<_>, Vec<_>) = std::mem::take(nodes)
        .into_iter()
        .partition(|n| n.question_type() != Some(super::model::QuestionType::Audit));
    *nodes = keep;
    out.extend(audits);
    for n in nodes.iter_mut() {
        take_audits(&mut n.children, out);
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Sheet order as a person reads the workbook, then row, then column.
fn sort(diagnostics: &mut [Diagnostic]) {
    fn sheet_rank(s: &str) -> u8 {
        match s {
            "settings" => 0,
            "survey" => 1,
            "choices" => 2,
            _ => 3,
        }
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                sheet_rank(&d.location.sheet),
                d.location.row.unwrap_or(0),
                d.location.column.as_ref().map_or(0, String::len),
                d.location.column.clone().unwrap_or_default(),
            )
        };
        key(a).cmp(&key(b))
    });
}
