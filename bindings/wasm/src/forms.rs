//! A form file given as bytes (a download, a file the researcher dropped on
//! the page) becomes an instrument: an XLSForm workbook or an Enumera
//! instrument (JSON), with every problem found, as `enumera form check`
//! finds them.

use enumera_core::instrument::{
    ImportError, Imported, Instrument, SourceColumns, import_xlsform_bytes, validate,
};

/// Reads a form from its bytes. The file name picks the reader (`.xlsx`,
/// `.xls`, `.json`); a name without one of those is read as JSON when the
/// bytes start with `{`, else as a workbook. It also names the form when a
/// workbook's settings have no `form_id`. CSV files a workbook names cannot
/// be reached from bytes alone and are reported missing.
pub fn read(bytes: &[u8], file_name: &str) -> Result<Imported, ImportError> {
    let lower = file_name.to_ascii_lowercase();
    let json = if lower.ends_with(".json") {
        true
    } else if [".xlsx", ".xlsm", ".xls"].iter().any(|e| lower.ends_with(e)) {
        false
    } else {
        bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    if json {
        let instrument = Instrument::from_json(bytes)
            .map_err(|source| ImportError::Json { name: file_name.to_string(), source })?;
        let diagnostics = validate(&instrument, &SourceColumns::default());
        Ok(Imported { instrument, diagnostics })
    } else {
        import_xlsform_bytes(bytes, file_name, None)
    }
}

/// The errors of an import, one line each (`FILE: survey!E12: message`), or
/// `None` when the form can be filled.
pub fn errors(imported: &Imported, file_name: &str) -> Option<Vec<String>> {
    let errors: Vec<String> = imported.errors().map(|d| format!("{file_name}: {d}")).collect();
    (!errors.is_empty()).then_some(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instrument_json() -> Vec<u8> {
        let json = serde_json::json!({
            "model_version": enumera_core::instrument::model::MODEL_VERSION,
            "form_id": "f", "version": "1", "title": "F", "root_name": "data",
            "settings": {}, "children": [
                {"name": "a", "label": {"": "A"}, "kind": {"kind": "question", "type": "text"}, "row": 2}
            ],
        });
        json.to_string().into_bytes()
    }

    #[test]
    fn json_is_read_by_name_or_by_its_first_byte() {
        for name in ["form.json", "download"] {
            let imported = read(&instrument_json(), name).expect("reads");
            assert_eq!(imported.instrument.form_id, "f");
            assert_eq!(errors(&imported, name), None);
        }
    }

    #[test]
    fn a_file_that_is_neither_says_so() {
        let e = read(b"hello, this is text", "notes.xlsx").expect_err("refused");
        assert!(e.to_string().contains("notes.xlsx"), "{e}");
        let e = read(b"{ not json", "f.json").expect_err("refused");
        assert!(e.to_string().starts_with("f.json"), "{e}");
    }
}
