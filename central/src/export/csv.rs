//! CSV as RFC 4180 with a header: UTF-8, comma, `"` quoting only when a
//! field needs it, `\n` line ends. Written as rows come, buffered.
//!
//! Two things are for spreadsheet programs rather than for CSV itself:
//!
//! - **A UTF-8 byte-order mark** first (when asked; the default layout asks),
//!   so that Excel on Windows opens accents and Bengali as UTF-8 instead of
//!   the machine's code page. pandas, readr, the `csv` crate and PSPP skip it;
//!   Enumera's `.do` and `.sps` never read the header line.
//! - **Formula neutralising** (on unless the export is asked for raw CSV):
//!   a cell that Excel or LibreOffice would run as a formula (it starts with
//!   `=`, `+`, `-`, `@`, a tab or a carriage return and is not a plain
//!   number) gets a leading `'`, OWASP's advice. It is reversible: a value
//!   is neutralised when, after its leading `'`s, it starts with one of those
//!   characters and is not a number; [`unneutralise`] removes exactly one
//!   `'` from such a value and nothing else. Negative numbers stay numbers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

/// UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

/// How CSV cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    /// Start the file with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Prefix cells that a spreadsheet would run as formulas with `'`.
    pub neutralise: bool,
}

impl Default for CsvStyle {
    fn default() -> Self {
        CsvStyle { bom: false, neutralise: true }
    }
}

/// `-12`, `3.5`, `.5`, `-1e-3`: what a statistics package reads as a number
/// and a spreadsheet as a constant, never as a formula.
pub fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        None => !int.is_empty() && digits(int),
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Would a spreadsheet run this (after any leading `'`) as a formula?
fn formula_like(value: &str) -> bool {
    // Most cells start with something harmless: decide on the first byte.
    if !matches!(value.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\''))
    {
        return false;
    }
    let rest = value.trim_start_matches('\'');
    rest.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(rest)
}

/// The cell as written: with a leading `'` when a spreadsheet would run it.
pub fn neutralise(value: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// The value a neutralised cell stood for ([`neutralise`] undone).
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// Appends `prefix` and `field` as one field, quoted when it holds a
/// comma, quote or line break.
fn push_prefixed(line: &mut String, prefix: &str, field: &str) {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        line.push('"');
        line.push_str(prefix);
        // Quotes doubled, the text between them copied whole.
        let mut rest = field;
        while let Some(i) = rest.find('"') {
            line.push_str(&rest[..=i]);
            line.push('"');
            rest = &rest[i + 1..];
        }
        line.push_str(rest);
        line.push('"');
    } else {
        line.push_str(prefix);
        line.push_str(field);
    }
}

/// A CSV file being written.
#[derive(Debug)]
pub struct CsvFile {
    path: PathBuf,
    out: BufWriter<File>,
    line: String,
    style: CsvStyle,
    pub rows: u64,
}

impl CsvFile {
    pub fn create(path: &Path, header: &[&str], style: CsvStyle) -> Result<Self, ExportError> {
        let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
        let mut csv = CsvFile {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            line: String::new(),
            style,
            rows: 0,
        };
        if style.bom {
            csv.out.write_all(BOM.as_bytes()).map_err(|e| ExportError::io(path, e))?;
        }
        csv.write(header)?;
        csv.rows = 0;
        Ok(csv)
    }

    pub fn write<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), ExportError> {
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            let f = f.as_ref();
            let prefix = if self.style.neutralise && formula_like(f) { "'" } else { "" };
            push_prefixed(&mut self.line, prefix, f);
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes()).map_err(|e| ExportError::io(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.path, e))?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let mut s = String::new();
        push_prefixed(&mut s, "", "plain");
        s.push(',');
        push_prefixed(&mut s, "", "a, \"b\"\nc");
        assert_eq!(s, "plain,\"a, \"\"b\"\"\nc\"");
    }

    #[test]
    fn numbers_are_plain_and_formulas_are_not() {
        for n in ["0", "-12", "3.5", "-0.25", ".5", "-.5", "5.", "1e3", "-1E-3", "12e+2"] {
            assert!(is_plain_number(n), "{n}");
        }
        for s in ["", "-", ".", "-.", "1e", "e3", "1.2.3", "--1", "-1+2", "+5", "1 2", "0x10"] {
            assert!(!is_plain_number(s), "{s}");
        }
    }

    #[test]
    fn formulas_are_neutralised_reversibly_and_numbers_left_alone() {
        let cases = [
            ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
            ("+44 20 7946 0958", "'+44 20 7946 0958"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=x", "''=x"),
            ("-12", "-12"),
            ("-0.5", "-0.5"),
            ("'twas", "'twas"),
            ("'-5", "'-5"),
            ("plain", "plain"),
            ("", ""),
        ];
        for (value, cell) in cases {
            assert_eq!(neutralise(value), cell, "{value:?}");
            assert_eq!(unneutralise(cell), value, "{cell:?}");
        }
    }

    #[test]
    fn a_file_starts_with_the_bom_when_asked_and_neutralises_every_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        let mut f = CsvFile::create(&path, &["a", "b"], CsvStyle { bom: true, neutralise: true })
            .expect("create");
        f.write(&["=1+1", "-3"]).expect("write");
        f.write(&["=A1,\"x\"", "@"]).expect("write");
        f.finish().expect("finish");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "\u{feff}a,b\n'=1+1,-3\n\"'=A1,\"\"x\"\"\",'@\n");
        let mut f = CsvFile::create(&path, &["a"], CsvStyle { bom: false, neutralise: false })
            .expect("create");
        f.write(&["=1+1"]).expect("write");
        f.finish().expect("finish");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a\n=1+1\n");
    }
}
