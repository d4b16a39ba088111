//! The workbook reader (calamine): .xlsx and legacy .xls bytes to the plain
//! text cells of [`Workbook`]. Compiled with the `xlsx` feature only.

use std::io::Cursor;

use calamine::{Data, Reader, Xls, Xlsx};

use super::ImportError;
use super::workbook::{Row, Sheet, Workbook, collapse_spaces};

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads .xlsx (or legacy .xls) bytes. `name` is only for messages.
///
/// The spreadsheet reader is third-party parsing code run on files from
/// anywhere, so a panic inside it is caught and reported as an unreadable
/// file rather than taking the app down. Fuzzing found one (calamine 0.38: a
/// cell reference with a very long column, `AAAAAAAAAAAAAAA1`, overflows its
/// column arithmetic; tests/fuzz_corpus.rs keeps the file).
pub(crate) fn read(bytes: &[u8], name: &str) -> Result<Workbook, ImportError> {
    std::panic::catch_unwind(|| read_unguarded(bytes, name)).unwrap_or_else(|_| {
        Err(ImportError::Unreadable {
            name: name.to_string(),
            reason: "its contents are malformed (the spreadsheet reader failed on them); \
                     open and save it again in a spreadsheet program"
                .into(),
        })
    })
}

fn read_unguarded(bytes: &[u8], name: &str) -> Result<Workbook, ImportError> {
    let name = name.to_string();
    if bytes.is_empty() {
        return Err(ImportError::Empty { name });
    }
    if bytes.starts_with(OLE_MAGIC) {
        // An encrypted .xlsx is an OLE container holding an `EncryptionInfo`
        // stream; its directory stores stream names in UTF-16.
        if contains_utf16(bytes, "EncryptionInfo") {
            return Err(ImportError::Encrypted { name });
        }
        super::limits::check_xls(bytes, &name)?;
        let mut xls = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
            calamine::XlsError::Password => ImportError::Encrypted { name: name.clone() },
            other => ImportError::Unreadable { name: name.clone(), reason: other.to_string() },
        })?;
        return collect_xls(&mut xls, &name);
    }
    if !bytes.starts_with(ZIP_MAGIC) {
        return Err(ImportError::NotAWorkbook { name });
    }
    super::limits::check_xlsx(bytes, &name)?;
    let mut xlsx = Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
        calamine::XlsxError::Zip(_) | calamine::XlsxError::Io(_) => {
            ImportError::Damaged { name: name.clone() }
        }
        other => ImportError::Unreadable { name: name.clone(), reason: other.to_string() },
    })?;
    collect_xlsx(&mut xlsx, &name)
}

/// Reads every sheet cell by cell (never as a rectangle: one cell at
/// `XFD1048576` would make the rectangle 17 billion cells), keeping only
/// filled cells, at most [`MAX_CELLS`](super::limits::MAX_CELLS) of them.
fn collect_xlsx(reader: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Result<Workbook, ImportError> {
    let mut book = Workbook::default();
    let mut budget = super::limits::MAX_CELLS;
    for sheet_name in reader.sheet_names() {
        let unreadable = |e: calamine::XlsxError| ImportError::Unreadable {
            name: name.to_string(),
            reason: format!("sheet '{sheet_name}': {e}"),
        };
        let mut cells = reader.worksheet_cells_reader(&sheet_name).map_err(unreadable)?;
        let mut rows: std::collections::BTreeMap<u32, Vec<(usize, String)>> = Default::default();
        while let Some(cell) = cells.next_cell().map_err(unreadable)? {
            let Some(text) = cell_text(&Data::from(cell.get_value().clone())) else { continue };
            budget = budget.checked_sub(1).ok_or_else(|| too_many_cells(name))?;
            let (row, col) = cell.get_position();
            rows.entry(row).or_default().push((col as usize, text));
        }
        drop(cells);
        book.sheets.push(sheet_from_rows(sheet_name, rows));
    }
    Ok(book)
}

fn too_many_cells(name: &str) -> ImportError {
    ImportError::TooLarge {
        name: name.to_string(),
        reason: format!(
            "it has more than {} filled cells; a form has far fewer",
            super::limits::MAX_CELLS
        ),
    }
}

/// A legacy .xls: its reader has built each sheet as a rectangle already
/// (bounded by [`super::limits::check_xls`]).
fn collect_xls(reader: &mut Xls<Cursor<&[u8]>>, name: &str) -> Result<Workbook, ImportError> {
    let mut book = Workbook::default();
    let mut budget = super::limits::MAX_CELLS;
    for sheet_name in reader.sheet_names() {
        let range = reader.worksheet_range(&sheet_name).map_err(|e| ImportError::Unreadable {
            name: name.to_string(),
            reason: format!("sheet '{sheet_name}': {e}"),
        })?;
        let mut rows: std::collections::BTreeMap<u32, Vec<(usize, String)>> = Default::default();
        for (row, col, value) in range.used_cells() {
            let Some(text) = cell_text(value) else { continue };
            budget = budget.checked_sub(1).ok_or_else(|| too_many_cells(name))?;
            let (r0, c0) = range.start().unwrap_or((0, 0));
            rows.entry(r0 + row as u32).or_default().push((c0 as usize + col, text));
        }
        book.sheets.push(sheet_from_rows(sheet_name, rows));
    }
    Ok(book)
}

/// The header row is the first row holding anything (row 1 in any normal
/// form); columns keep their absolute positions so messages name real cells.
fn sheet_from_rows(
    name: String,
    rows: std::collections::BTreeMap<u32, Vec<(usize, String)>>,
) -> Sheet {
    let mut sheet = Sheet { name, ..Sheet::default() };
    let mut rows = rows.into_iter();
    if let Some((r, cells)) = rows.next() {
        sheet.header_row = r + 1;
        let header = Row::from_sparse(r + 1, cells);
        let width = header.last_column().map_or(0, |c| c + 1);
        sheet.headers = (0..width).map(|c| header.get(c).map(collapse_spaces)).collect();
    }
    for (r, cells) in rows {
        sheet.rows.push(Row::from_sparse(r + 1, cells));
    }
    sheet
}

/// The text pyxform would see for a cell; `None` for blank.
pub(crate) fn cell_text(cell: &Data) -> Option<String> {
    let text = match cell {
        Data::Empty => return None,
        Data::String(s) => s.trim().replace('\u{a0}', " "),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::DateTime(dt) => datetime_text(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => e.to_string(),
    };
    (!text.trim().is_empty()).then_some(text)
}

/// Python's `str()` of the number openpyxl returns: whole numbers without a
/// fraction (`2026112901`, not `2026112901.0`).
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e17 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Python's `str()` of a `datetime` (or a `time` for values under one day).
fn datetime_text(dt: &calamine::ExcelDateTime) -> String {
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let frac = if ms > 0 { format!(".{:06}", u32::from(ms) * 1000) } else { String::new() };
    if dt.is_duration() || dt.as_f64() < 1.0 {
        format!("{h:02}:{mi:02}:{s:02}{frac}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{frac}")
    }
}

fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(pattern.len()).any(|w| w == pattern.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn cells_read_as_pyxform_sees_them() {
        assert_eq!(cell_text(&Data::Float(2026112901.0)).as_deref(), Some("2026112901"));
        assert_eq!(cell_text(&Data::Float(1.5)).as_deref(), Some("1.5"));
        assert_eq!(cell_text(&Data::Int(7)).as_deref(), Some("7"));
        assert_eq!(cell_text(&Data::Bool(true)).as_deref(), Some("TRUE"));
        assert_eq!(cell_text(&Data::String("  a\u{a0}b ".into())).as_deref(), Some("a b"));
        assert_eq!(cell_text(&Data::String("   ".into())), None);
        assert_eq!(cell_text(&Data::Empty), None);
        let date = ExcelDateTime::new(46355.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(date)).as_deref(), Some("2026-11-29 00:00:00"));
        let time = ExcelDateTime::new(0.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(time)).as_deref(), Some("12:00:00"));
    }

    #[test]
    fn not_workbooks_are_refused_clearly() {
        assert!(matches!(read(b"", "f.xlsx"), Err(ImportError::Empty { .. })));
        assert!(matches!(
            read(b"type,name\ntext,q", "f.xlsx"),
            Err(ImportError::NotAWorkbook { .. })
        ));
        assert!(matches!(
            read(b"PK\x03\x04garbage", "f.xlsx"),
            Err(ImportError::Damaged { .. }) | Err(ImportError::Unreadable { .. })
        ));
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend(vec![0u8; 64]);
        ole.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(matches!(read(&ole, "f.xlsx"), Err(ImportError::Encrypted { .. })));
    }
}
