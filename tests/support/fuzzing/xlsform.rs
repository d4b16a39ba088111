//! XLSForm targets: arbitrary workbook bytes, and arbitrary cell contents
//! written into a well-formed workbook (so the fuzzer reaches the form
//! rules rather than stopping at the zip reader).

use std::sync::Arc;

use enumera_core::expr::FixedEnv;
use enumera_core::instrument::{Instrument, import_xlsform_bytes};
use enumera_core::session::{Form, Session, SessionOptions};
use rust_xlsxwriter::Workbook;

/// Arbitrary bytes as an .xlsx file.
pub fn xlsform_bytes(data: &[u8]) {
    import_and_use(data);
}

/// Limits that keep one input small: a workbook of at most this many rows
/// and columns per sheet.
const MAX_ROWS: usize = 64;
const MAX_COLS: usize = 16;

/// The input as text: sheets separated by a line `===`, rows by newlines,
/// cells by tabs. Sheet 1 is `survey`, then `choices`, `settings`, and an
/// extra sheet `external`. Each cell is written as a string, or as a number
/// when it starts with `#` followed by a number.
pub fn xlsform_cells(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut book = Workbook::new();
    let names = ["survey", "choices", "settings", "external"];
    for (sheet, name) in text.split("\n===\n").zip(names) {
        let ws = book.add_worksheet();
        if ws.set_name(name).is_err() {
            return;
        }
        for (r, row) in sheet.lines().take(MAX_ROWS).enumerate() {
            for (c, cell) in row.split('\t').take(MAX_COLS).enumerate() {
                let (r, c) = (r as u32, c as u16);
                let number = cell.strip_prefix('#').and_then(|n| n.parse::<f64>().ok());
                // A cell the writer refuses (too long, bad number) is left
                // empty: the reader is what is being fuzzed.
                let _ = match number {
                    Some(n) => ws.write_number(r, c, n).map(|_| ()),
                    None if cell.is_empty() => Ok(()),
                    None => ws.write_string(r, c, cell).map(|_| ()),
                };
            }
        }
    }
    let Ok(bytes) = book.save_to_buffer() else { return };
    import_and_use(&bytes);
}

/// Imports the workbook; an instrument without errors is written as an
/// XForm, compiled, and a session is started on it.
fn import_and_use(bytes: &[u8]) {
    let Ok(imported) = import_xlsform_bytes(bytes, "fuzz.xlsx", None) else { return };
    if imported.has_errors() {
        return;
    }
    use_instrument(imported.instrument);
}

pub(crate) fn use_instrument(instrument: Instrument) {
    let _ = instrument.to_xform();
    let _ = instrument.hash();
    let Ok(form) = Form::compile(instrument) else { return };
    let mut session =
        Session::with_env(Arc::new(form), SessionOptions::default(), Box::new(FixedEnv::default()));
    let _ = session.leaves();
    let _ = session.containers();
    let _ = session.blockers();
    let _ = session.submission_xml();
    session.mark_end();
    let _ = session.submission_json();
}
