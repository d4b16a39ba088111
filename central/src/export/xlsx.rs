//! XLSX: one workbook per form, one sheet per table, written in constant
//! memory mode (rows go to a temporary file as they come).

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Workbook, Worksheet};

use super::ExportError;
use super::schema::Table;

pub struct XlsxBook {
    path: PathBuf,
    book: Workbook,
    /// Next row per sheet.
    next: Vec<u32>,
}

impl std::fmt::Debug for XlsxBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxBook").field("path", &self.path).finish()
    }
}

fn xerr(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> ExportError + '_ {
    move |e| ExportError::Xlsx { path: path.to_path_buf(), reason: e.to_string() }
}

/// A sheet name Excel accepts: 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(name: &str, taken: &[String]) -> String {
    let clean: String =
        name.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).take(31).collect();
    let mut candidate = clean.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&candidate)) {
        let suffix = format!("~{n}");
        candidate =
            format!("{}{suffix}", clean.chars().take(31 - suffix.len()).collect::<String>());
        n += 1;
    }
    candidate
}

impl XlsxBook {
    pub fn create(
        path: &Path,
        tables: &[Table],
        headers: &[Vec<String>],
    ) -> Result<Self, ExportError> {
        let mut book = Workbook::new();
        let mut names = Vec::new();
        for (t, header) in tables.iter().zip(headers) {
            let name = sheet_name(&t.name, &names);
            let sheet = book.add_worksheet_with_constant_memory().map_err(xerr(path))?;
            sheet.set_name(&name).map_err(xerr(path))?;
            write_row(sheet, 0, header).map_err(xerr(path))?;
            names.push(name);
        }
        Ok(XlsxBook { path: path.to_path_buf(), book, next: vec![1; tables.len()] })
    }

    pub fn row(&mut self, table: usize, values: &[String]) -> Result<(), ExportError> {
        let sheet = self.book.worksheet_from_index(table).map_err(xerr(&self.path))?;
        write_row(sheet, self.next[table], values).map_err(xerr(&self.path))?;
        self.next[table] += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.book.save(&self.path).map_err(xerr(&self.path))?;
        Ok(self.path)
    }
}

fn write_row(
    sheet: &mut Worksheet,
    row: u32,
    values: &[String],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (c, v) in values.iter().enumerate() {
        if v.is_empty() {
            continue;
        }
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        // Numbers as numbers, so that Excel can compute with them.
        match as_number(v) {
            Some(n) => sheet.write_number(row, col, n)?,
            None => sheet.write_string(row, col, v)?,
        };
    }
    Ok(())
}

/// A plain decimal number; codes with leading zeros (`007`) stay text.
fn as_number(v: &str) -> Option<f64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if !digits.starts_with(|c: char| c.is_ascii_digit()) || leading_zero {
        return None;
    }
    v.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let long = "p2p_practice_followup-changes-and-more";
        let a = sheet_name(long, &[]);
        assert_eq!(a.chars().count(), 31);
        let b = sheet_name(long, std::slice::from_ref(&a));
        assert_ne!(a, b);
        assert_eq!(b.chars().count(), 31);
        assert_eq!(sheet_name("a/b", &[]), "a_b");
        assert_eq!(as_number("0.5"), Some(0.5));
        assert_eq!(as_number("-3"), Some(-3.0));
        assert_eq!(as_number("007"), None);
        assert_eq!(as_number("1e400"), None);
        assert_eq!(as_number("uuid:1"), None);
    }
}
