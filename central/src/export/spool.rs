//! Rows of one table kept on disk until every value has been seen.
//!
//! The typed files (Stata `.dta`, SPSS `.sav`, XLSX) declare each column's
//! type and width before its data, and both are only known once the last
//! row is in: the longest text, whether a calculate's values are all
//! numbers, the range of an integer. So rows go to a spool file beside the
//! output first (length-prefixed values, nothing kept in memory), with what
//! each column has held so far; [`Spool::finish`] decides each column's
//! type, and every typed writer then reads the same spool back. One spool
//! serves every typed format of one export.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ExportError;
use super::codes::Code;
use super::types::{Instant, ValueType, instant, number};

/// How a column's values are meant to be read.
#[derive(Debug, Clone)]
pub struct Plan {
    pub vtype: ValueType,
    /// Coded columns: value (choice name, or label with `--labels`) -> code.
    pub codes: Option<Arc<HashMap<String, Code>>>,
}

impl Plan {
    #[cfg(test)]
    pub fn text() -> Plan {
        Plan { vtype: ValueType::Text, codes: None }
    }
}

/// What the spool has seen of one column.
#[derive(Debug, Clone)]
struct Seen {
    max_len: usize,
    max_chars: usize,
    /// Some value was not empty.
    any: bool,
    /// Every non-empty value fits the plan (a number, a date, one of the codes).
    fits: bool,
    /// Every number is whole; with their range.
    whole: bool,
    min: f64,
    max: f64,
    /// The most digits after a decimal point (for display formats).
    decimals: u8,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            max_len: 0,
            max_chars: 0,
            any: false,
            fits: true,
            whole: true,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            decimals: 0,
        }
    }
}

/// A column's type, decided once every value has been seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    /// Text of at most `width` bytes (`chars` characters).
    Text {
        width: usize,
        chars: usize,
    },
    /// Numbers (also coded choices and 0/1 flags); whole numbers with their range.
    Number {
        whole: bool,
        min: f64,
        max: f64,
    },
    Date,
    DateTime,
    Time,
}

impl Resolved {
    #[cfg(test)]
    pub fn is_text(self) -> bool {
        matches!(self, Resolved::Text { .. })
    }
}

/// One value as the typed writers store it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    /// No value: Stata's `.`, SPSS's system missing, an empty cell.
    Empty,
    Number(f64),
    /// A choice's code (possibly a missing-style one).
    Code(Code),
    Time(Instant),
}

/// A table's rows being spooled.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    out: BufWriter<File>,
    plans: Vec<Plan>,
    seen: Vec<Seen>,
    pub rows: u64,
}

impl Spool {
    /// A spool named after `output` (`.name.spool` beside it).
    pub fn create(output: &Path, plans: Vec<Plan>) -> Result<Self, ExportError> {
        let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = output.with_file_name(format!(".{name}.spool"));
        let file = File::create(&path).map_err(|e| ExportError::io(&path, e))?;
        let seen = vec![Seen::default(); plans.len()];
        Ok(Spool { path, out: BufWriter::with_capacity(256 * 1024, file), plans, seen, rows: 0 })
    }

    /// One row, a value per column (missing values empty).
    pub fn write<S: AsRef<str>>(&mut self, row: &[S]) -> Result<(), ExportError> {
        for (i, plan) in self.plans.iter().enumerate() {
            let v = row.get(i).map(AsRef::as_ref).unwrap_or("");
            let seen = &mut self.seen[i];
            seen.max_len = seen.max_len.max(v.len());
            if !v.is_empty() {
                if v.len() > seen.max_chars {
                    seen.max_chars = seen.max_chars.max(v.chars().count());
                }
                seen.any = true;
                if seen.fits {
                    match cell(plan, v) {
                        None => seen.fits = false,
                        Some(Cell::Number(x)) => {
                            seen.whole &= x.fract() == 0.0;
                            if let Some((_, frac)) = v.split_once('.') {
                                let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
                                seen.decimals = seen.decimals.max(digits.min(16) as u8);
                            }
                            seen.min = seen.min.min(x);
                            seen.max = seen.max.max(x);
                        }
                        Some(Cell::Code(Code::Valid(n))) => {
                            seen.min = seen.min.min(f64::from(n));
                            seen.max = seen.max.max(f64::from(n));
                        }
                        Some(_) => {}
                    }
                }
            }
            let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
            self.out
                .write_all(&len.to_le_bytes())
                .and_then(|()| self.out.write_all(&v.as_bytes()[..len as usize]))
                .map_err(|e| ExportError::io(&self.path, e))?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Decides every column's type; the spool is then read by [`Finished::reader`].
    pub fn finish(mut self) -> Result<Finished, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.path, e))?;
        let resolved = self.plans.iter().zip(&self.seen).map(|(p, s)| resolve(p, s)).collect();
        let decimals = self.seen.iter().map(|s| s.decimals).collect();
        let path = std::mem::take(&mut self.path);
        Ok(Finished {
            path,
            plans: std::mem::take(&mut self.plans),
            resolved,
            decimals,
            rows: self.rows,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn resolve(plan: &Plan, seen: &Seen) -> Resolved {
    let text = Resolved::Text { width: seen.max_len.max(1), chars: seen.max_chars.max(1) };
    if !seen.fits || (plan.vtype == ValueType::Infer && !seen.any) {
        return text;
    }
    let (min, max) = if seen.min <= seen.max { (seen.min, seen.max) } else { (0.0, 0.0) };
    match plan.vtype {
        ValueType::Text => text,
        ValueType::Number | ValueType::Infer | ValueType::Flag => {
            Resolved::Number { whole: seen.whole, min, max }
        }
        ValueType::Coded => {
            // The codes the value labels hold count too: a label for 500 in
            // a byte variable would not fit.
            let codes = plan.codes.as_deref().map(|c| c.values()).into_iter().flatten();
            let (lo, hi) = codes.fold((min, max), |(lo, hi), c| match c {
                Code::Valid(n) => (lo.min(f64::from(*n)), hi.max(f64::from(*n))),
                Code::Missing { .. } => (lo, hi),
            });
            Resolved::Number { whole: true, min: lo, max: hi }
        }
        ValueType::Date => Resolved::Date,
        ValueType::DateTime => Resolved::DateTime,
        ValueType::Time => Resolved::Time,
    }
}

/// A non-empty value as the plan reads it; None when it does not fit.
fn cell<'a>(plan: &Plan, v: &'a str) -> Option<Cell<'a>> {
    match plan.vtype {
        ValueType::Text => Some(Cell::Text(v)),
        ValueType::Number | ValueType::Infer | ValueType::Flag => number(v).map(Cell::Number),
        ValueType::Coded => plan.codes.as_deref().and_then(|c| c.get(v)).map(|c| Cell::Code(*c)),
        t => instant(t, v).map(Cell::Time),
    }
}

/// A finished spool: the columns' types, and the rows to read back.
#[derive(Debug)]
pub struct Finished {
    path: PathBuf,
    pub plans: Vec<Plan>,
    pub resolved: Vec<Resolved>,
    /// Per column, the most digits after a decimal point of its numbers.
    pub decimals: Vec<u8>,
    pub rows: u64,
}

impl Finished {
    pub fn reader(&self) -> Result<Reader, ExportError> {
        let file = File::open(&self.path).map_err(|e| ExportError::io(&self.path, e))?;
        Ok(Reader {
            path: self.path.clone(),
            input: BufReader::with_capacity(256 * 1024, file),
            buf: Vec::new(),
            ends: Vec::new(),
            k: self.plans.len(),
            row: 0,
        })
    }

    /// The value of column `i` as its resolved type stores it.
    pub fn cell<'a>(&self, i: usize, v: &'a str) -> Cell<'a> {
        if v.is_empty() {
            return Cell::Empty;
        }
        match self.resolved[i] {
            Resolved::Text { .. } => Cell::Text(v),
            _ => cell(&self.plans[i], v).unwrap_or(Cell::Empty),
        }
    }
}

impl Drop for Finished {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a spool back a row at a time.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    input: BufReader<File>,
    buf: Vec<u8>,
    ends: Vec<usize>,
    k: usize,
    /// Rows read so far (1-based number of the current row).
    pub row: u64,
}

impl Reader {
    /// The next row; false at the end.
    pub fn next_row(&mut self) -> Result<bool, ExportError> {
        self.buf.clear();
        self.ends.clear();
        for i in 0..self.k {
            let mut len = [0u8; 4];
            match self.input.read_exact(&mut len) {
                Err(e) if i == 0 && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                r => r.map_err(|e| ExportError::io(&self.path, e))?,
            }
            let len = u32::from_le_bytes(len) as usize;
            let start = self.buf.len();
            self.buf.resize(start + len, 0);
            self.input
                .read_exact(&mut self.buf[start..])
                .map_err(|e| ExportError::io(&self.path, e))?;
            self.ends.push(self.buf.len());
        }
        self.row += 1;
        Ok(true)
    }

    /// Column `i` of the current row.
    pub fn value(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        // Written from &str: always UTF-8.
        std::str::from_utf8(&self.buf[start..self.ends[i]]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(plans: Vec<Plan>, rows: &[&[&str]]) -> (tempfile::TempDir, Finished) {
        let dir = tempfile::tempdir().expect("dir");
        let mut s = Spool::create(&dir.path().join("t.dta"), plans).expect("create");
        for r in rows {
            s.write(r).expect("write");
        }
        let f = s.finish().expect("finish");
        (dir, f)
    }

    fn plan(vtype: ValueType) -> Plan {
        Plan { vtype, codes: None }
    }

    #[test]
    fn columns_get_the_type_their_values_allow() {
        let (_d, f) = spool(
            vec![
                plan(ValueType::Number),
                plan(ValueType::Number),
                plan(ValueType::Infer),
                plan(ValueType::Infer),
                plan(ValueType::Date),
                plan(ValueType::Infer),
            ],
            &[&["1", "2.5", "7", "x", "2026-01-01", ""], &["-300", "", "8", "9", "later", ""]],
        );
        assert_eq!(f.resolved[0], Resolved::Number { whole: true, min: -300.0, max: 1.0 });
        assert_eq!(f.resolved[1], Resolved::Number { whole: false, min: 2.5, max: 2.5 });
        assert_eq!(f.resolved[2], Resolved::Number { whole: true, min: 7.0, max: 8.0 });
        assert_eq!(f.resolved[3], Resolved::Text { width: 1, chars: 1 });
        assert_eq!(
            f.resolved[4],
            Resolved::Text { width: 10, chars: 10 },
            "a value that is no date"
        );
        assert!(f.resolved[5].is_text(), "a calculate never answered");
        let mut r = f.reader().expect("reader");
        assert!(r.next_row().expect("row"));
        assert_eq!(r.value(3), "x");
        assert_eq!(f.cell(0, r.value(0)), Cell::Number(1.0));
        assert!(r.next_row().expect("row"));
        assert_eq!(f.cell(1, r.value(1)), Cell::Empty);
        assert!(!r.next_row().expect("end"));
    }

    #[test]
    fn the_spool_goes_when_the_export_ends_or_fails() {
        let dir = tempfile::tempdir().expect("dir");
        let mut s = Spool::create(&dir.path().join("t.dta"), vec![Plan::text()]).expect("create");
        s.write(&["x"]).expect("write");
        assert!(dir.path().join(".t.dta.spool").exists());
        drop(s);
        assert!(!dir.path().join(".t.dta.spool").exists());
        let s = Spool::create(&dir.path().join("t.dta"), vec![Plan::text()]).expect("create");
        let f = s.finish().expect("finish");
        assert!(dir.path().join(".t.dta.spool").exists());
        drop(f);
        assert!(!dir.path().join(".t.dta.spool").exists());
    }
}
