//! Stata output. The export writes a `.dta` per table directly (dta.rs,
//! from [`dta_variables`]); `export.do` documents the same result and lets
//! a Stata user rebuild it from the CSVs: it reads each CSV (the panel's
//! too), names the variables validly (see the codebook for the mapping),
//! applies variable labels and value labels (defined before they are
//! applied), and saves the `.dta` of each table.
//!
//! Choice codes: integer names keep their value; in a list that mixes
//! integers with other codes (`1`..`5`, `na`), the others become Stata's
//! extended missing values `.a`, `.b`, ... (so scores still average
//! correctly); a list of only text codes is numbered 1, 2, ... in order.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use super::dta::{self, Code};
use super::names::{Tool, sanitize};
use super::schema::{Column, ColumnRole, FormSchema};
use super::{ExportError, TableVars};

/// Stata codes for a choice list: (choice name, code as Stata writes it).
pub fn codes(choices: &[String]) -> Vec<(String, String)> {
    let is_int = |s: &str| s.parse::<i32>().is_ok_and(|n| n.to_string() == s);
    let texts = choices.iter().filter(|c| !is_int(c)).count();
    let ints = choices.len() - texts;
    if texts == 0 || (ints > 0 && texts <= 26) {
        let mut letter = b'a';
        choices
            .iter()
            .map(|c| {
                if is_int(c) {
                    (c.clone(), c.clone())
                } else {
                    let code = format!(".{}", letter as char);
                    letter += 1;
                    (c.clone(), code)
                }
            })
            .collect()
    } else {
        choices.iter().enumerate().map(|(i, c)| (c.clone(), (i + 1).to_string())).collect()
    }
}

/// A Stata string literal: compound quotes, macro characters escaped, one
/// line, at most `max` characters.
pub fn quote(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect::<String>()
        .replace('`', "'")
        .replace('$', "\\$");
    // `"'  would close the compound quote early.
    let flat = flat.replace("\"'", "\" '");
    format!("`\"{flat}\"'")
}

pub fn variable_label(schema: &FormSchema, c: &Column, lang: Option<&str>) -> String {
    let base = c.label.get(lang, schema.default_language.as_deref()).unwrap_or(&c.name);
    match &c.role {
        ColumnRole::Choice(choice) => {
            let l = c.list.as_deref().and_then(|l| schema.choice_label(l, choice, lang));
            format!("{base}: {}", l.unwrap_or(choice))
        }
        ColumnRole::GeoPart(i) => {
            format!("{base} ({})", ["latitude", "longitude", "altitude", "accuracy"][*i])
        }
        _ => base.to_string(),
    }
}

/// Select-one columns with value labels: the list of each.
pub fn select_one_list<'a>(
    schema: &'a FormSchema,
    c: &Column,
) -> Option<&'a [(String, enumera_core::instrument::Text)]> {
    use enumera_core::instrument::QuestionType;
    if c.role != ColumnRole::Value || c.qtype != Some(QuestionType::SelectOne) {
        return None;
    }
    schema.choices.get(c.list.as_deref()?).map(Vec::as_slice)
}

/// The `.dta` variables of some columns (schema, language, column, Stata
/// name), with the value labels they name: select_one answers coded as the
/// `.do` file codes them, select_multiple choices 0/1, numbers as numbers.
/// `labels`: the values are choice labels (`--labels`), not choice names.
pub fn dta_variables<'a>(
    columns: impl IntoIterator<Item = (&'a FormSchema, Option<&'a str>, &'a Column, &'a str)>,
    labels: bool,
) -> (Vec<dta::Variable>, Vec<dta::ValueLabel>) {
    let mut vars = Vec::new();
    let mut value_labels: Vec<dta::ValueLabel> = Vec::new();
    for (schema, lang, c, name) in columns {
        let kind = if let Some(list) = select_one_list(schema, c) {
            let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
            let label_name = label_name(c.list.as_deref().unwrap_or(""));
            let mut by_value = HashMap::new();
            let mut entries = Vec::new();
            for ((choice, code), (_, text)) in codes(&names).into_iter().zip(list) {
                let Some(code) = Code::parse(&code) else { continue };
                let label = text.get(lang, schema.default_language.as_deref()).unwrap_or(&choice);
                // As record.rs writes the value: the label with --labels.
                let value = if labels { label.to_string() } else { choice.clone() };
                by_value.entry(value).or_insert(code);
                entries.push((code, label.to_string()));
            }
            if !value_labels.iter().any(|l| l.name == label_name) {
                value_labels.push(dta::ValueLabel { name: label_name.clone(), entries });
            }
            dta::Kind::Coded { codes: by_value, value_label: label_name }
        } else if matches!(c.role, ColumnRole::Choice(_)) {
            if !value_labels.iter().any(|l| l.name == "enumera_yesno") {
                value_labels.push(dta::ValueLabel {
                    name: "enumera_yesno".into(),
                    entries: vec![(Code::Int(0), "No".into()), (Code::Int(1), "Yes".into())],
                });
            }
            let codes = [("0".to_string(), Code::Int(0)), ("1".to_string(), Code::Int(1))];
            dta::Kind::Coded {
                codes: codes.into_iter().collect(),
                value_label: "enumera_yesno".into(),
            }
        } else if c.is_numeric() {
            dta::Kind::Number
        } else {
            dta::Kind::Text
        };
        vars.push(dta::Variable {
            name: name.to_string(),
            label: variable_label(schema, c, lang),
            kind,
        });
    }
    (vars, value_labels)
}

/// `labels`: the CSVs hold choice labels (`--labels`), not choice names.
pub(crate) fn write(
    out: &Path,
    tables: &[TableVars<'_>],
    labels: bool,
) -> Result<PathBuf, ExportError> {
    let mut s = String::from(
        "* Enumera export: reads the CSVs in this folder into Stata, with variable and value labels.\n\
         * Run from this folder: do export.do\n\
         * The export already wrote these .dta files; this file documents them and rebuilds them.\n\
         * Variable names: see codebook.csv (column stata_name).\n\
         version 14\nset more off\n\n",
    );
    for table in tables {
        let _ = writeln!(s, "* ---- {} ----", table.name);
        let _ = writeln!(
            s,
            "import delimited using \"{}.csv\", varnames(nonames) rowrange(2) encoding(\"utf-8\") bindquote(strict) stringcols(_all) clear",
            table.name
        );
        for (i, v) in table.vars.iter().enumerate() {
            let _ = writeln!(s, "rename v{} {}", i + 1, v.stata);
        }
        // Value labels first, so that every `label values` finds its definition.
        let mut defined: Vec<String> = Vec::new();
        let mut define = |s: &mut String, name: &str, pairs: &[(String, String)]| {
            if defined.iter().any(|d| d == name) {
                return;
            }
            defined.push(name.to_string());
            for (i, (code, label)) in pairs.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "label define {name} {code} {}, {}",
                    quote(label, 32000),
                    if i == 0 { "replace" } else { "add" }
                );
            }
        };
        for v in &table.vars {
            let (schema, lang, c) = (v.schema, v.lang, v.column);
            if let Some(list) = select_one_list(schema, c) {
                let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
                let pairs: Vec<(String, String)> = codes(&names)
                    .into_iter()
                    .zip(list)
                    .map(|((_, code), (n, t))| {
                        (
                            code,
                            t.get(lang, schema.default_language.as_deref())
                                .unwrap_or(n)
                                .to_string(),
                        )
                    })
                    .collect();
                define(&mut s, &label_name(c.list.as_deref().unwrap_or("")), &pairs);
            }
            if matches!(c.role, ColumnRole::Choice(_)) {
                define(
                    &mut s,
                    "enumera_yesno",
                    &[("0".into(), "No".into()), ("1".into(), "Yes".into())],
                );
            }
        }
        for v in &table.vars {
            let (schema, lang, c, stata) = (v.schema, v.lang, v.column, v.stata);
            if let Some(list) = select_one_list(schema, c) {
                let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
                let _ = writeln!(s, "generate double enumera_tmp = ., after({stata})");
                for ((name, code), (_, text)) in codes(&names).into_iter().zip(list) {
                    // The CSV holds the choice label with --labels.
                    let value = match text.get(lang, schema.default_language.as_deref()) {
                        Some(label) if labels => label,
                        _ => &name,
                    };
                    let _ = writeln!(
                        s,
                        "replace enumera_tmp = {code} if {stata} == {}",
                        quote(value, 2000)
                    );
                }
                let _ = writeln!(s, "drop {stata}\nrename enumera_tmp {stata}");
                let _ = writeln!(
                    s,
                    "label values {stata} {}",
                    label_name(c.list.as_deref().unwrap_or(""))
                );
            } else if c.is_numeric() {
                let _ = writeln!(s, "destring {stata}, replace");
                if matches!(c.role, ColumnRole::Choice(_)) {
                    let _ = writeln!(s, "label values {stata} enumera_yesno");
                }
            }
            let _ = writeln!(
                s,
                "label variable {stata} {}",
                quote(&variable_label(schema, c, lang), 80)
            );
        }
        let _ = writeln!(s, "compress\nsave \"{}.dta\", replace\n", table.name);
    }
    let path = out.join("export.do");
    std::fs::write(&path, s).map_err(|e| ExportError::io(&path, e))?;
    Ok(path)
}

/// Value label names: valid Stata names, prefixed so they never clash with
/// Stata's own.
pub fn label_name(list: &str) -> String {
    sanitize(&format!("l_{list}"), Tool::Stata)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn codes_keep_integers_and_map_the_rest() {
        let c = codes(&v(&["1", "2", "5", "na", "dk"]));
        assert_eq!(c[2], ("5".into(), "5".into()));
        assert_eq!(c[3], ("na".into(), ".a".into()));
        assert_eq!(c[4], ("dk".into(), ".b".into()));
        let c = codes(&v(&["yes", "no"]));
        assert_eq!(c, vec![("yes".into(), "1".into()), ("no".into(), "2".into())]);
        // "01" is not the integer 1: it would lose its leading zero.
        assert_eq!(codes(&v(&["01", "02"]))[1].1, "2");
    }

    #[test]
    fn quoting_survives_quotes_and_macros() {
        assert_eq!(quote("say \"hi\"", 80), "`\"say \"hi\"\"'");
        assert_eq!(quote("costs $100 `x'", 80), "`\"costs \\$100 'x'\"'");
        assert_eq!(quote("a\nb", 80), "`\"a b\"'");
        assert!(quote("a\"'b", 80).matches("\"'").count() == 1);
    }
}
