//! The settings sheet: form id, title, version, root name and the rest.

use super::headers::{self, Field, SheetKind};
use super::workbook::Workbook;
use crate::instrument::model::Settings;
use crate::instrument::{Diagnostic, Location};

#[derive(Debug)]
pub(crate) struct SettingsOut {
    pub form_id: String,
    pub title: String,
    pub version: String,
    pub root_name: String,
    pub default_language: Option<String>,
    pub settings: Settings,
    /// Column index by key (`form_id`, `version`, `instance_name`, ...).
    pub columns: std::collections::BTreeMap<String, usize>,
    /// The row holding the values.
    pub row: Option<u32>,
}

/// `yes`/`true`/`true()` and `no`/`false`/`false()`, in any case (pyxform
/// takes the common casings; spreadsheets also produce `TRUE()`).
pub(crate) fn yes(value: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    match v.as_str() {
        "yes" | "true" | "true()" => Some(true),
        "no" | "false" | "false()" => Some(false),
        _ => None,
    }
}

pub(crate) fn read(book: &Workbook, stem: &str, diagnostics: &mut Vec<Diagnostic>) -> SettingsOut {
    let mut out = SettingsOut {
        form_id: stem.to_string(),
        title: String::new(),
        version: String::new(),
        root_name: "data".to_string(),
        default_language: None,
        settings: Settings::default(),
        columns: Default::default(),
        row: None,
    };
    let mut title = None;
    if let Some(sheet) = book.sheet("settings") {
        let columns = headers::columns(sheet, "settings", SheetKind::Settings, diagnostics);
        for c in &columns {
            let key = match &c.field {
                Field::Label => "form_title".to_string(),
                Field::Name => "form_id".to_string(),
                other => other.key(),
            };
            out.columns.insert(key, c.index);
        }
        out.row = sheet.rows.first().map(|r| r.number);
        // pyxform reads the first row under the headers only.
        if let Some(row) = sheet.rows.first() {
            for col in &columns {
                let Some(value) = row.get(col.index) else {
                    continue;
                };
                let value = value.to_string();
                let here = || Location::cell("settings", row.number, col.index);
                match &col.field {
                    Field::Label => title = Some(value),
                    Field::Name => out.form_id = value,
                    Field::Extra(key) => match key.as_str() {
                        "version" => out.version = value,
                        "instance_name" => out.settings.instance_name = Some(value),
                        "default_language" => out.default_language = Some(value),
                        "public_key" => {
                            out.settings.public_keys = value
                                .split(|c: char| c.is_whitespace() || c == ',')
                                .filter(|k| !k.is_empty())
                                .map(str::to_string)
                                .collect();
                        }
                        "allow_choice_duplicates" => match yes(&value) {
                            Some(b) => out.settings.allow_choice_duplicates = b,
                            None => diagnostics.push(Diagnostic::error(
                                here(),
                                format!("allow_choice_duplicates must be yes or no, not '{value}'"),
                            )),
                        },
                        "style" => out.settings.style = Some(value),
                        "submission_url" => out.settings.submission_url = Some(value),
                        "name" => out.root_name = value,
                        _ => {
                            out.settings.other.insert(key.clone(), value);
                        }
                    },
                    _ => {}
                }
            }
        }
    }
    out.title = title.unwrap_or_else(|| out.form_id.clone());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::xlsform::workbook::{Row, Sheet};

    fn book(headers: &[&str], values: &[&str]) -> Workbook {
        Workbook {
            sheets: vec![Sheet {
                name: "Settings".into(),
                headers: headers.iter().map(|h| Some(h.to_string())).collect(),
                header_row: 1,
                rows: vec![Row::new(
                    2,
                    values.iter().map(|v| (!v.is_empty()).then(|| v.to_string())).collect(),
                )],
            }],
        }
    }

    #[test]
    fn reads_every_setting() {
        let b = book(
            &[
                "form_title",
                "form_id",
                "version",
                "public_key",
                "allow_choice_duplicates",
                "name",
                "style",
                "default_language",
                "instance_name",
                "auto_send",
            ],
            &[
                "Title",
                "fid",
                "2026112901",
                "age1abc, age1def",
                "yes",
                "household",
                "pages",
                "English (en)",
                "concat(${a})",
                "true",
            ],
        );
        let mut d = vec![];
        let s = read(&b, "stem", &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.title, "Title");
        assert_eq!(s.form_id, "fid");
        assert_eq!(s.version, "2026112901");
        assert_eq!(s.settings.public_keys, ["age1abc", "age1def"]);
        assert!(s.settings.allow_choice_duplicates);
        assert_eq!(s.root_name, "household");
        assert_eq!(s.settings.style.as_deref(), Some("pages"));
        assert_eq!(s.default_language.as_deref(), Some("English (en)"));
        assert_eq!(s.settings.instance_name.as_deref(), Some("concat(${a})"));
        assert_eq!(s.settings.other.get("auto_send").map(String::as_str), Some("true"));
    }

    #[test]
    fn yes_and_no() {
        for y in ["yes", "Yes", "TRUE", "true()", "TRUE()"] {
            assert_eq!(yes(y), Some(true), "{y}");
        }
        for n in ["no", "NO", "False", "false()"] {
            assert_eq!(yes(n), Some(false), "{n}");
        }
        assert_eq!(yes("${a} = 1"), None);
    }

    #[test]
    fn defaults_follow_pyxform() {
        let s = read(&Workbook::default(), "my_form", &mut vec![]);
        assert_eq!(
            (s.form_id.as_str(), s.title.as_str(), s.root_name.as_str()),
            ("my_form", "my_form", "data")
        );
        let b = book(&["allow_choice_duplicates"], &["maybe"]);
        let mut d = vec![];
        read(&b, "f", &mut d);
        assert_eq!(
            d[0].to_string(),
            "settings!A2: allow_choice_duplicates must be yes or no, not 'maybe'"
        );
    }
}
