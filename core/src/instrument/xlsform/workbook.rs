//! Reading a workbook into plain text cells, the way pyxform sees them:
//! every value becomes the text pyxform's reader would produce (whole numbers
//! without `.0`, booleans as `TRUE`/`FALSE`, dates as `2026-11-29 00:00:00`),
//! strings are trimmed, and blank cells are absent. The reading itself is
//! in `xlsx.rs`, behind the `xlsx` feature.

use super::ImportError;

/// One worksheet: its header row and its non-blank data rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sheet {
    /// The name as the workbook spells it (`Survey`); messages use the
    /// lowercase XLSForm name instead.
    pub name: String,
    /// Header text by 0-based column; `None` where the header cell is blank.
    pub headers: Vec<Option<String>>,
    /// 1-based row number of the header row.
    pub header_row: u32,
    pub rows: Vec<Row>,
}

/// A data row with at least one non-blank cell.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    /// 1-based, as the spreadsheet shows it.
    pub number: u32,
    /// The non-blank cells as (0-based column, text), by column. Sparse, so
    /// that one cell far to the right (`XFD7`) costs what one cell costs.
    cells: Vec<(usize, String)>,
}

impl Row {
    /// A row from its cells by column (`None` for blank).
    #[cfg(test)]
    pub fn new(number: u32, cells: Vec<Option<String>>) -> Row {
        let cells = cells.into_iter().enumerate().filter_map(|(i, c)| Some((i, c?))).collect();
        Row { number, cells }
    }

    /// A row from (column, text) pairs in any order; of two cells in one
    /// column the last wins (the .xlsx reader's, behind `xlsx`).
    #[cfg(feature = "xlsx")]
    pub fn from_sparse(number: u32, mut cells: Vec<(usize, String)>) -> Row {
        cells.sort_by_key(|(c, _)| *c);
        cells.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(&mut later.1, &mut earlier.1);
            }
            same
        });
        Row { number, cells }
    }

    pub fn get(&self, col: usize) -> Option<&str> {
        let i = self.cells.binary_search_by_key(&col, |(c, _)| *c).ok()?;
        Some(self.cells[i].1.as_str())
    }

    /// The last column holding a cell.
    #[cfg(feature = "xlsx")]
    pub fn last_column(&self) -> Option<usize> {
        self.cells.last().map(|(c, _)| *c)
    }
}

/// The sheets of a workbook, in workbook order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workbook {
    pub sheets: Vec<Sheet>,
}

impl Workbook {
    /// The sheet whose name is `name`, ignoring case (as pyxform does).
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets.iter().find(|s| s.name.trim().eq_ignore_ascii_case(name))
    }
}

/// Reads .xlsx (or legacy .xls) bytes. `name` is only for messages.
#[cfg(feature = "xlsx")]
pub(crate) fn read(bytes: &[u8], name: &str) -> Result<Workbook, ImportError> {
    super::xlsx::read(bytes, name)
}

/// This build has no workbook reader (the phones' library): say what to
/// give it instead.
#[cfg(not(feature = "xlsx"))]
pub(crate) fn read(_bytes: &[u8], name: &str) -> Result<Workbook, ImportError> {
    Err(ImportError::NoWorkbookReader { name: name.to_string() })
}

/// Runs of spaces become one, as pyxform does for headers.
pub(crate) fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for c in s.trim().chars() {
        if c == ' ' {
            if !prev_space {
                out.push(c);
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_collapse() {
        assert_eq!(collapse_spaces("  label::English   (en) "), "label::English (en)");
    }
}
