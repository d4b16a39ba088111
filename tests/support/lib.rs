//! Shared helpers for Enumera's cross-crate tests: building XLSForm fixtures
//! in code, locating the `enumera` binary, and caches for external tools.
//!
//! ```no_run
//! use enumera_tests::XlsForm;
//! let dir = tempfile::tempdir().unwrap();
//! let path = XlsForm::new()
//!     .survey(&[&["type", "name", "label::English (en)"], &["text", "q1", "Q1"]])
//!     .choices(&[&["list_name", "name", "label::English (en)"], &["yn", "yes", "Yes"]])
//!     .settings(&[&["form_id", "version"], &["f", "1"]])
//!     .write_to(dir.path().join("f.xlsx"));
//! ```

pub mod device;
pub mod fixtures;
pub mod fuzzing;
pub mod odk;
pub mod rng;

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

/// One cell value of a fixture; rows given as `&[&str]` are all text, and
/// [`XlsForm::cell`] puts a typed value where a test needs one.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date cell (formatted as a date, so readers see a date).
    Date {
        year: u16,
        month: u8,
        day: u8,
    },
    /// A formula with the result a spreadsheet program would have cached
    /// (readers, pyxform included, see the cached result).
    Formula {
        formula: String,
        result: String,
    },
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

#[derive(Debug, Clone, Default)]
struct SheetSpec {
    name: String,
    rows: Vec<Vec<Cell>>,
}

/// An XLSForm built in code: sheets as rows of cells (row 0 is the header),
/// plus files to write beside it. Empty strings are left blank.
#[derive(Debug, Clone, Default)]
pub struct XlsForm {
    sheets: Vec<SheetSpec>,
    files: Vec<(String, Vec<u8>)>,
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<Cell>> {
    rows.iter().map(|r| r.iter().map(|c| Cell::from(*c)).collect()).collect()
}

impl XlsForm {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `survey` sheet; the first row is the header.
    pub fn survey(self, r: &[&[&str]]) -> Self {
        self.sheet("survey", r)
    }

    pub fn choices(self, r: &[&[&str]]) -> Self {
        self.sheet("choices", r)
    }

    pub fn settings(self, r: &[&[&str]]) -> Self {
        self.sheet("settings", r)
    }

    /// Any sheet, by name (replaces one of the same name).
    pub fn sheet(mut self, name: &str, r: &[&[&str]]) -> Self {
        self.sheets.retain(|s| s.name != name);
        self.sheets.push(SheetSpec { name: name.to_string(), rows: rows(r) });
        self
    }

    /// Sets one cell (0-based row and column, row 0 = header) of a sheet
    /// added before, e.g. a number where a person would type one.
    pub fn cell(mut self, sheet: &str, row: usize, col: usize, value: Cell) -> Self {
        if let Some(s) = self.sheets.iter_mut().find(|s| s.name == sheet) {
            if s.rows.len() <= row {
                s.rows.resize(row + 1, Vec::new());
            }
            let r = &mut s.rows[row];
            if r.len() <= col {
                r.resize(col + 1, Cell::from(""));
            }
            r[col] = value;
        }
        self
    }

    /// A file written beside the form (a CSV for `select_one_from_file`).
    pub fn file(mut self, name: &str, contents: &str) -> Self {
        self.files.push((name.to_string(), contents.as_bytes().to_vec()));
        self
    }

    /// The .xlsx bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut book = Workbook::new();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        for spec in &self.sheets {
            let ws = book.add_worksheet();
            ws.set_name(&spec.name).expect("valid sheet name");
            for (r, row) in spec.rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match cell {
                        Cell::Text(s) if s.is_empty() => {}
                        Cell::Text(s) => {
                            ws.write_string(r, c, s).expect("cell written");
                        }
                        Cell::Number(n) => {
                            ws.write_number(r, c, *n).expect("cell written");
                        }
                        Cell::Bool(b) => {
                            ws.write_boolean(r, c, *b).expect("cell written");
                        }
                        Cell::Formula { formula, result } => {
                            let f = Formula::new(formula).set_result(result);
                            ws.write_formula(r, c, f).expect("cell written");
                        }
                        Cell::Date { year, month, day } => {
                            let d = ExcelDateTime::from_ymd(*year, *month, *day).expect("date");
                            ws.write_datetime_with_format(r, c, d, &date).expect("cell written");
                        }
                    }
                }
            }
        }
        book.save_to_buffer().expect("xlsx written")
    }

    /// Writes the form (and its files, beside it) and returns the path.
    pub fn write_to(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("fixture folder");
            for (name, bytes) in &self.files {
                std::fs::write(dir.join(name), bytes).expect("fixture file");
            }
        }
        std::fs::write(&path, self.to_bytes()).expect("fixture written");
        path
    }

    /// Writes the form as `NAME.xlsx` into a new temporary folder, which
    /// lives as long as the returned guard.
    pub fn write_temp(&self, name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = self.write_to(dir.path().join(format!("{name}.xlsx")));
        (dir, path)
    }
}

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where external tools are installed: `$ENUMERA_CACHE`, default `<root>/.cache`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ENUMERA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache"))
}

/// The `enumera` binary: `$ENUMERA_BIN` if set, else the one cargo built
/// beside this test executable (`target/<profile>/enumera`). Tests inside
/// the cli crate should prefer `env!("CARGO_BIN_EXE_enumera")`, which cargo
/// guarantees is built; from this crate, run `cargo build -p enumera-cli`
/// first (scripts/test.sh and `cargo test --workspace` do).
pub fn enumera_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ENUMERA_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/<test> -> target/<profile>/enumera
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join(format!("enumera{}", std::env::consts::EXE_SUFFIX));
    bin.exists().then_some(bin)
}

/// A Python with pyxform installed, from the venv that
/// `tests/tools/pyxform.sh` installs (pinned version, under a lock, into
/// `$ENUMERA_CACHE/pyxform-venv`). `None`, with a message on stderr, when the
/// machine has no python3 or the install fails.
pub fn pyxform_python() -> Option<PathBuf> {
    let script = repo_root().join("tests/tools/pyxform.sh");
    let out = match Command::new("bash").arg(&script).env("ENUMERA_CACHE", cache_dir()).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIP: cannot run {}: {e}", script.display());
            return None;
        }
    };
    if !out.status.success() {
        eprintln!(
            "SKIP: pyxform is not available ({}): {}",
            if out.status.code() == Some(3) { "no python3" } else { "install failed" },
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let xls2xform = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let python = xls2xform.parent()?.join("python");
    python.exists().then_some(python)
}
