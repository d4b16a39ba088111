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
    let mut out = ChoicesOut::default();
    let Some(sheet) = book.sheet(SHEET) else {
        return out;
    };
    let columns = headers::columns(sheet, SHEET, SheetKind::Choices, diagnostics);
    for c in &columns {
        out.columns
            .insert(column_key(&c.field, c.lang.as_deref()), c.index);
    }
    check_languages(
        &columns,
        sheet.header_row,
        SHEET,
        &mut out.languages,
        diagnostics,
    );
    if sheet.rows.is_empty() {
        return out;
    }
    for (field, what) in [(Field::ListName, "list_name"), (Field::Name, "name")] {
        if !columns.iter().any(|c| c.field == field) {
            diagnostics.push(Diagnostic::error(
                Location::row(SHEET, sheet.header_row),
                format!("the choices sheet has no '{what}' column"),
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
                    choice
                        .media
                        .entry(kind.clone())
                        .or_default()
                        .0
                        .insert(lang, value);
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
                Location::row(SHEET, row.number),
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
