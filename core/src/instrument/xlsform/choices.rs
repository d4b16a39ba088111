//! The choices sheet: named lists of choices, with their labels, media and
//! any extra columns that `choice_filter` expressions read.

use std::collections::BTreeMap;

use super::headers::{self, Field, SheetKind};
use super::survey::{check_languages, column_key, plain_quotes};
use super::workbook::Workbook;
use crate::instrument::model::{Choice, ChoiceList, Text};
use crate::instrument::{Diagnostic, Location};

const SHEET: &str = "choices";

#[derive(Debug, Default)]
pub(crate) struct ChoicesOut {
    pub lists: BTreeMap<String, ChoiceList>,
    pub columns: BTreeMap<String, usize>,
    pub languages: Vec<String>,
}

pub(crate) fn read(book: &Workbook, diagnostics: &mut Vec<Diagnostic>) -> ChoicesOut {
    read_sheet(book, SHEET, diagnostics)
}

/// A sheet of lists: `choices`, or `osm` (the tags of `osm LIST`
/// questions), which has the same columns.
pub(crate) fn read_sheet(
    book: &Workbook,
    sheet_name: &'static str,
    diagnostics: &mut Vec<Diagnostic>,
) -> ChoicesOut {
    let sheet_kind = sheet_name;
    let mut out = ChoicesOut::default();
    let Some(sheet) = book.sheet(sheet_kind) else {
        return out;
    };
    let columns = headers::columns(sheet, sheet_kind, SheetKind::Choices, diagnostics);
    for c in &columns {
        out.columns.insert(column_key(&c.field, c.lang.as_deref()), c.index);
    }
    check_languages(&columns, sheet.header_row, sheet_kind, &mut out.languages, diagnostics);
    if sheet.rows.is_empty() {
        return out;
    }
    for (field, what) in [(Field::ListName, "list_name"), (Field::Name, "name")] {
        if !columns.iter().any(|c| c.field == field) {
            diagnostics.push(Diagnostic::error(
                Location::row(sheet_kind, sheet.header_row),
                format!("the {sheet_kind} sheet has no '{what}' column"),
            ));
            return out;
        }
    }
    for row in &sheet.rows {
        let mut list = None;
        let mut choice = Choice {
            name: String::new(),
            label: Text::default(),
            media: BTreeMap::new(),
            extra: BTreeMap::new(),
            row: row.number,
        };
        for c in &columns {
            let Some(raw) = row.get(c.index) else {
                continue;
            };
            let value = plain_quotes(raw);
            let lang = c.lang.clone().unwrap_or_default();
            match &c.field {
                Field::ListName => list = Some(value),
                Field::Name => choice.name = value,
                Field::Label => {
                    choice.label.0.insert(lang, value);
                }
                Field::Media(kind) => {
                    choice.media.entry(kind.clone()).or_default().0.insert(lang, value);
                }
                Field::Extra(header) => {
                    choice.extra.insert(header.clone(), value);
                }
                _ => {}
            }
        }
        // pyxform ignores rows outside any list; say so, since such a row
        // is usually a list name forgotten.
        let Some(list) = list else {
            diagnostics.push(Diagnostic::warning(
                Location::row(sheet_kind, row.number),
                "choice has no list_name and is ignored",
            ));
            continue;
        };
        out.lists
            .entry(list)
            .or_insert_with(|| ChoiceList { choices: vec![] })
            .choices
            .push(choice);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::xlsform::workbook::{Row, Sheet};

    fn sheet(rows: &[&[&str]]) -> Workbook {
        let cells = |r: &[&str]| -> Vec<Option<String>> {
            r.iter().map(|v| (!v.is_empty()).then(|| v.to_string())).collect()
        };
        Workbook {
            sheets: vec![Sheet {
                name: "Choices".into(),
                headers: cells(rows[0]),
                header_row: 1,
                rows: rows[1..]
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Row::new(i as u32 + 2, cells(r)))
                    .collect(),
            }],
        }
    }

    #[test]
    fn lists_labels_media_and_extra_columns() {
        let mut d = vec![];
        let out = read(
            &sheet(&[
                &[
                    "list name",
                    "name",
                    "label::English (en)",
                    "media::image::English (en)",
                    "State",
                ],
                &["city", "beira", "Beira", "beira.png", "sofala"],
                &["yn", "y", "Yes", "", ""],
                &["", "orphan", "Lost", "", ""],
            ]),
            &mut d,
        );
        assert_eq!(out.languages, ["English (en)"]);
        let beira = &out.lists["city"].choices[0];
        assert_eq!(beira.label.0["English (en)"], "Beira");
        assert_eq!(beira.media["image"].0["English (en)"], "beira.png");
        assert_eq!(beira.extra["State"], "sofala");
        assert_eq!(beira.row, 2);
        assert_eq!(out.columns["State"], 4);
        assert_eq!(
            d.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["choices!4:4: choice has no list_name and is ignored"]
        );
    }

    #[test]
    fn required_columns() {
        let mut d = vec![];
        read(&sheet(&[&["list_name", "label"], &["yn", "Yes"]]), &mut d);
        assert_eq!(d[0].to_string(), "choices!1:1: the choices sheet has no 'name' column");
    }
}
