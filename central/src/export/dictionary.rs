//! What Stata and SPSS are told about each variable: its label in each
//! language, its choices' codes and labels, and how its values are read
//! (the spool's plan). One place, so that the `.dta`, the `.sav`, the `.do`,
//! the `.sps` and the codebook say the same thing.

use std::collections::HashMap;
use std::sync::Arc;

use enumera_core::instrument::{QuestionType, Text};

use super::codes::{self, Code};
use super::names::{Tool, sanitize};
use super::schema::{Column, ColumnRole, FormSchema};
use super::spool::Plan;
use super::types::ValueType;

/// A column's variable label in `lang`: its question's label, or its name
/// (calculates seldom have a label); choice and geopoint parts say which
/// part; date-times say they are in UTC.
pub fn variable_label(schema: &FormSchema, c: &Column, lang: Option<&str>) -> String {
    let base = c.label.get(lang, schema.default_language.as_deref()).unwrap_or(&c.leaf);
    let base = if base.is_empty() { c.leaf.as_str() } else { base };
    match &c.role {
        ColumnRole::Choice(choice) => {
            let l = c.list.as_deref().and_then(|l| schema.choice_label(l, choice, lang));
            format!("{base}: {}", l.unwrap_or(choice))
        }
        ColumnRole::GeoPart(i) => {
            format!("{base} ({})", ["latitude", "longitude", "altitude", "accuracy"][*i])
        }
        _ if c.vtype == ValueType::DateTime => format!("{base} (UTC)"),
        _ => base.to_string(),
    }
}

/// The choices of a select_one column with their codes and labels.
pub fn coded<'a>(schema: &'a FormSchema, c: &Column) -> Option<Vec<(String, Code, &'a Text)>> {
    if c.role != ColumnRole::Value || c.qtype != Some(QuestionType::SelectOne) {
        return None;
    }
    let list = schema.choices.get(c.list.as_deref()?)?;
    let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
    Some(
        codes::codes(&names)
            .into_iter()
            .zip(list)
            .map(|((name, code), (_, text))| (name, code, text))
            .collect(),
    )
}

/// The choice codes of a select_one column as (name, code) pairs.
pub fn code_pairs(schema: &FormSchema, c: &Column) -> Vec<(String, Code)> {
    coded(schema, c).map(|v| v.into_iter().map(|(n, c, _)| (n, c)).collect()).unwrap_or_default()
}

/// How the spool reads a column: its type, and for choices the code of
/// each value as the row holds it (the choice's name, or with `--labels`
/// its label in `lang`).
pub fn plan(schema: &FormSchema, c: &Column, lang: Option<&str>, labels: bool) -> Plan {
    let Some(choices) = coded(schema, c) else {
        // A select_one whose list is unknown: text.
        let vtype = if c.vtype == ValueType::Coded { ValueType::Text } else { c.vtype };
        return Plan { vtype, codes: None };
    };
    let mut map: HashMap<String, Code> = HashMap::new();
    for (name, code, text) in &choices {
        let value = match text.get(lang, schema.default_language.as_deref()) {
            Some(label) if labels => label.to_string(),
            _ => name.clone(),
        };
        map.entry(value).or_insert(*code);
    }
    Plan { vtype: ValueType::Coded, codes: Some(Arc::new(map)) }
}

/// The name of a choice list's value labels: a valid Stata name, prefixed
/// so it never clashes with Stata's own.
pub fn set_name(list: &str) -> String {
    sanitize(&format!("l_{list}"), Tool::Stata)
}

/// The value labels of 0/1 choice columns.
pub const YES_NO: &str = "enumera_yesno";

/// A language as Stata's `label language` names it: the code of
/// `English (en)`, or the name made valid.
pub fn language_name(lang: &str) -> String {
    let code = lang
        .rsplit_once('(')
        .and_then(|(_, c)| c.strip_suffix(')'))
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
    let name = sanitize(code.unwrap_or(lang), Tool::Stata);
    name.chars().take(24).collect()
}

/// The languages labels are written in: the chosen one first, then the
/// form's others (a form without languages: one unnamed language).
pub fn label_languages(schema: &FormSchema, chosen: Option<&str>) -> Vec<Option<String>> {
    let mut langs: Vec<Option<String>> = vec![chosen.map(String::from)];
    for l in &schema.languages {
        if Some(l.as_str()) != chosen {
            langs.push(Some(l.clone()));
        }
    }
    langs
}

/// A choice's label in `lang`, falling back to the form's default and then
/// to the choice's name.
pub fn choice_text(schema: &FormSchema, name: &str, text: &Text, lang: Option<&str>) -> String {
    text.get(lang, schema.default_language.as_deref()).unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_named_by_their_code() {
        assert_eq!(language_name("Portuguese (pt)"), "pt");
        assert_eq!(language_name("Bengali (bn)"), "bn");
        assert_eq!(language_name("français"), "fran_ais");
        assert_eq!(language_name("English"), "English");
    }
}
