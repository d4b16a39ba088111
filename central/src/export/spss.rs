//! `export.sps`: SPSS syntax that reads each CSV (GET DATA), with valid
//! names (see the codebook), variable labels and value labels. Select-one
//! answers stay strings with string value labels, so codes like `na` keep
//! their meaning.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use enumera_core::instrument::QuestionType;

use super::schema::ColumnRole;
use super::stata::{select_one_list, variable_label};
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

pub(crate) fn write(out: &Path, tables: &[TableVars<'_>]) -> Result<PathBuf, ExportError> {
    let mut s = String::from(
        "* Encoding: UTF-8.\n\
         * Enumera export: reads the CSVs in this folder into SPSS, with variable and value labels.\n\
         * Variable names: see codebook.csv (column spss_name).\n\
         * Run from this folder (File > Open > Syntax, then Run > All).\n\n",
    );
    for table in tables {
        let _ = writeln!(
            s,
            "GET DATA /TYPE=TXT /FILE='{}.csv' /ENCODING='UTF8'\n  /ARRANGEMENT=DELIMITED /DELCASE=LINE /FIRSTCASE=2\n  /DELIMITERS=',' /QUALIFIER='\"'\n  /VARIABLES=",
            table.name
        );
        for v in &table.vars {
            let (c, spss) = (v.column, v.spss);
            let format = match (&c.role, c.qtype) {
                (ColumnRole::Choice(_), _) => "F1.0",
                (ColumnRole::GeoPart(_), _) => "F16.8",
                (ColumnRole::Meta, _) if c.is_numeric() => "F8.0",
                (_, Some(QuestionType::Integer | QuestionType::Range)) => "F12.0",
                (_, Some(QuestionType::Decimal)) => "F16.6",
                (_, Some(QuestionType::Text)) => "A4000",
                _ => "A255",
            };
            let _ = writeln!(s, "    {spss} {format}");
        }
        s.push_str(".\nEXECUTE.\n");
        s.push_str("VARIABLE LABELS\n");
        let n = table.vars.len();
        for (i, v) in table.vars.iter().enumerate() {
            let (schema, lang, c, spss) = (v.schema, v.lang, v.column, v.spss);
            let _ = writeln!(
                s,
                "  {spss} {}{}",
                quote(&variable_label(schema, c, lang), 256),
                if i + 1 == n { "." } else { " /" }
            );
        }
        let mut value_labels = Vec::new();
        for v in &table.vars {
            let (schema, lang, c, spss) = (v.schema, v.lang, v.column, v.spss);
            if let Some(list) = select_one_list(schema, c) {
                let pairs: Vec<String> = list
                    .iter()
                    .map(|(n, t)| {
                        let label = t.get(lang, schema.default_language.as_deref()).unwrap_or(n);
                        format!("{} {}", quote(n, 255), quote(label, 120))
                    })
                    .collect();
                value_labels.push(format!("  {spss} {}", pairs.join(" ")));
            } else if matches!(c.role, ColumnRole::Choice(_)) {
                value_labels.push(format!("  {spss} 0 'No' 1 'Yes'"));
            }
        }
        if !value_labels.is_empty() {
            let _ = writeln!(s, "VALUE LABELS\n{}.", value_labels.join(" /\n"));
        }
        let _ = writeln!(s, "EXECUTE.\nSAVE OUTFILE='{}.sav'.\n", table.name);
    }
    let path = out.join("export.sps");
    std::fs::write(&path, s).map_err(|e| ExportError::io(&path, e))?;
    Ok(path)
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
