//! SPSS output: a `.sav` per table (sav.rs, from [`variables`]) in the
//! chosen language, and syntax for people who want it:
//!
//! - `export.sps` opens each `.sav`, (re)applies its variable labels, value
//!   labels and missing values, and saves it: the dictionary as text, to
//!   read and edit;
//! - `export-LANG.sps`, one per other language of the forms, applies that
//!   language's labels and saves the copy `TABLE-LANG.sav`.
//!
//! The syntax opens the `.sav` files rather than the CSVs: SPSS and PSPP
//! read delimited text a line at a time, so an answer with a line break
//! would become a phantom case (issue 15, finding 6), while the `.sav`
//! holds every answer as given.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::codes::{SpssMissing, spss_missing};
use super::dictionary::{
    choice_text, code_pairs, coded, label_languages, language_name, variable_label,
};
use super::sav::{Measure, Variable};
use super::types::ValueType;
use super::{ExportError, TableVars};

/// An SPSS string literal: single quotes doubled, one line, at most `max` bytes.
pub fn quote(s: &str, max: usize) -> String {
    let mut flat = String::new();
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if flat.len() + c.len_utf8() > max {
            break;
        }
        flat.push(c);
    }
    format!("'{}'", flat.replace('\'', "''"))
}

/// The `.sav` variables of a table, labelled in `lang`.
pub fn variables(table: &TableVars<'_>, lang: Option<&str>) -> Vec<Variable> {
    table
        .vars
        .iter()
        .map(|v| {
            let c = v.column;
            let (value_labels, missing) = match coded(v.schema, c) {
                Some(choices) => (
                    choices
                        .iter()
                        .map(|(n, code, text)| {
                            (f64::from(code.spss()), choice_text(v.schema, n, text, lang))
                        })
                        .collect(),
                    spss_missing(&code_pairs(v.schema, c)),
                ),
                None if c.vtype == ValueType::Flag => {
                    (vec![(0.0, "No".into()), (1.0, "Yes".into())], SpssMissing::None)
                }
                None => (Vec::new(), SpssMissing::None),
            };
            let measure = match c.vtype {
                ValueType::Number
                | ValueType::Infer
                | ValueType::Date
                | ValueType::DateTime
                | ValueType::Time => Measure::Scale,
                // A list of numbered choices (a 1-5 scale) is ordered.
                ValueType::Coded
                    if !value_labels.is_empty()
                        && code_pairs(v.schema, c)
                            .iter()
                            .filter(|(_, code)| !code.is_missing())
                            .all(|(n, _)| n.parse::<i32>().is_ok()) =>
                {
                    Measure::Ordinal
                }
                _ => Measure::Nominal,
            };
            Variable {
                name: v.spss.to_string(),
                label: variable_label(v.schema, c, lang),
                value_labels,
                missing,
                measure,
            }
        })
        .collect()
}

/// `export.sps` (the chosen language) and `export-LANG.sps` for the others.
pub(crate) fn write(out: &Path, tables: &[TableVars<'_>]) -> Result<Vec<PathBuf>, ExportError> {
    let chosen = tables.iter().find_map(|t| t.vars.first()).and_then(|v| v.lang);
    let mut others: Vec<String> = Vec::new();
    for t in tables {
        if let Some(v) = t.vars.first() {
            for l in label_languages(v.schema, v.lang).into_iter().skip(1).flatten() {
                if !others.contains(&l) {
                    others.push(l);
                }
            }
        }
    }
    let mut files = vec![write_one(&out.join("export.sps"), tables, None, chosen, "")?];
    for lang in &others {
        let code = language_name(lang);
        let path = out.join(format!("export-{code}.sps"));
        files.push(write_one(&path, tables, Some(lang), chosen, &format!("-{code}"))?);
    }
    Ok(files)
}

fn write_one(
    path: &Path,
    tables: &[TableVars<'_>],
    lang: Option<&str>,
    chosen: Option<&str>,
    suffix: &str,
) -> Result<PathBuf, ExportError> {
    let mut s = String::from("* Encoding: UTF-8.\n");
    let _ = writeln!(
        s,
        "* Enumera export: opens each .sav in this folder and applies its labels{}; saves {}.\n\
         * Variable names: see codebook.csv (column spss_name). Missing-style choices\n\
         * (don't know, refused, not applicable) are user-missing values.\n\
         * Run from this folder (File > Open > Syntax, then Run > All).\n",
        lang.or(chosen).map(|l| format!(" in {l}")).unwrap_or_default(),
        if suffix.is_empty() {
            "it again".to_string()
        } else {
            format!("a copy, TABLE{suffix}.sav")
        }
    );
    for table in tables {
        let lang = lang.or_else(|| table.vars.first().and_then(|v| v.lang));
        let vars = variables(table, lang);
        let _ = writeln!(s, "GET FILE='{}.sav'.", table.name);
        if !vars.is_empty() {
            s.push_str("VARIABLE LABELS\n");
            let n = vars.len();
            for (i, v) in vars.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  {} {}{}",
                    v.name,
                    quote(&v.label, 255),
                    if i + 1 == n { "." } else { " /" }
                );
            }
        }
        let labelled: Vec<String> = vars
            .iter()
            .filter(|v| !v.value_labels.is_empty())
            .map(|v| {
                let pairs: Vec<String> = v
                    .value_labels
                    .iter()
                    .map(|(code, l)| format!("{code} {}", quote(l, 120)))
                    .collect();
                format!("  {} {}", v.name, pairs.join(" "))
            })
            .collect();
        if !labelled.is_empty() {
            let _ = writeln!(s, "VALUE LABELS\n{}.", labelled.join(" /\n"));
        }
        for v in &vars {
            let list = match &v.missing {
                SpssMissing::None => continue,
                SpssMissing::Discrete(d) => {
                    d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
                }
                SpssMissing::Range { low, high, also: None } => format!("{low} THRU {high}"),
                SpssMissing::Range { low, high, also: Some(x) } => {
                    format!("{low} THRU {high}, {x}")
                }
            };
            let _ = writeln!(s, "MISSING VALUES {} ({list}).", v.name);
        }
        let _ = writeln!(s, "SAVE OUTFILE='{}{suffix}.sav'.\n", table.name);
    }
    std::fs::write(path, s).map_err(|e| ExportError::io(path, e))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_and_length_capped() {
        assert_eq!(quote("it's", 80), "'it''s'");
        assert_eq!(quote("ação", 2), "'a'");
        assert_eq!(quote("ação", 3), "'aç'");
        assert_eq!(quote("a\nb", 80), "'a b'");
    }
}
