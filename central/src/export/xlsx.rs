//! XLSX: one workbook per form, one sheet per table, written in constant
//! memory mode from the tables' spools once every value is known, so each
//! column is typed as in Stata and SPSS: numbers (numeric calculates too)
//! as numbers, dates as date cells (`yyyy-mm-dd`), date-times as date-time
//! cells in UTC, times as times, choices as their names (numbers when the
//! name is one), text as text. Text never becomes a formula (XLSX cells are
//! typed), and a text longer than Excel's 32,767 characters is cut there:
//! export.rs notes it in report.csv and keeps the whole text beside the
//! workbook.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::ExportError;
use super::spool::{Cell, Finished, Resolved};
use super::types::ValueType;

/// The most characters an Excel cell holds.
pub const MAX_CHARS: usize = 32_767;

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

/// One sheet to write: its name, header and rows.
#[derive(Debug)]
pub struct Sheet<'a> {
    pub name: &'a str,
    pub header: Vec<String>,
    pub data: &'a Finished,
}

/// Writes the workbook at `path`.
pub fn write(path: &Path, sheets: &[Sheet<'_>]) -> Result<PathBuf, ExportError> {
    let err = xerr(path);
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let time = Format::new().set_num_format("hh:mm:ss");
    let mut names = Vec::new();
    for s in sheets {
        let name = sheet_name(s.name, &names);
        let sheet = book.add_worksheet_with_constant_memory().map_err(&err)?;
        sheet.set_name(&name).map_err(&err)?;
        for (c, h) in s.header.iter().enumerate() {
            sheet.write_string(0, col(c), h).map_err(&err)?;
        }
        let mut rows = s.data.reader()?;
        let mut r = 1u32;
        while rows.next_row()? {
            for c in 0..s.header.len() {
                let v = rows.value(c);
                if v.is_empty() {
                    continue;
                }
                write_cell(sheet, r, col(c), s.data, c, v, [&date, &datetime, &time])
                    .map_err(&err)?;
            }
            r += 1;
        }
        names.push(name);
    }
    book.save(path).map_err(&err)?;
    Ok(path.to_path_buf())
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

fn write_cell(
    sheet: &mut Worksheet,
    r: u32,
    c: u16,
    data: &Finished,
    i: usize,
    v: &str,
    [date, datetime, time]: [&Format; 3],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    match (data.resolved[i], data.cell(i, v)) {
        (Resolved::Date, Cell::Time(t)) => sheet.write_number_with_format(r, c, t.excel, date)?,
        (Resolved::DateTime, Cell::Time(t)) => {
            sheet.write_number_with_format(r, c, t.excel, datetime)?
        }
        (Resolved::Time, Cell::Time(t)) => sheet.write_number_with_format(r, c, t.excel, time)?,
        (_, Cell::Number(x)) => sheet.write_number(r, c, x)?,
        // A choice: its name, as a number when it is one.
        (_, Cell::Code(_)) if data.plans[i].vtype == ValueType::Coded => {
            match super::types::number(v) {
                Some(x) if !v.starts_with('0') || v == "0" => sheet.write_number(r, c, x)?,
                _ => sheet.write_string(r, c, v)?,
            }
        }
        _ => sheet.write_string(r, c, truncate(v))?,
    };
    Ok(())
}

/// At most Excel's 32,767 characters.
pub fn truncate(v: &str) -> &str {
    match v.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => &v[..i],
        None => v,
    }
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
    }

    #[test]
    fn long_text_is_cut_at_excels_limit_on_a_character() {
        let long = "ক".repeat(40_000);
        assert_eq!(truncate(&long).chars().count(), MAX_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
