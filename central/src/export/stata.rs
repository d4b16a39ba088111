//! Stata output. The export writes a `.dta` per table directly (dta.rs,
//! from [`dictionary`]); `export.do` documents the same result and lets a
//! Stata user rebuild it from the CSVs: it reads each CSV (the panel's
//! too), restores cells the CSV neutralised for spreadsheets, names the
//! variables validly (see the codebook for the mapping), codes the choices
//! (codes.rs), reads numbers and dates, applies variable and value labels
//! in every language of the form (`label language`), and saves the `.dta`
//! of each table. Date-times stay text in the rebuilt files: the `.dta`
//! the export wrote has them as `%tc` in UTC.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::codes::Code;
use super::dictionary::{
    YES_NO, choice_text, coded, label_languages, language_name, set_name, variable_label,
};
use super::dta;
use super::types::ValueType;
use super::{ExportError, TableVars};

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

/// The `.dta` dictionary of a table: labels in every language of its form
/// (the chosen one current), value label sets for its choices.
pub fn dictionary(table: &TableVars<'_>) -> dta::Dictionary {
    let Some(first) = table.vars.first() else {
        return dta::Dictionary {
            labels: vec![table.label.clone()],
            languages: Vec::new(),
            vars: Vec::new(),
            value_labels: Vec::new(),
        };
    };
    let schema = first.schema;
    let langs = label_languages(schema, first.lang);
    let languages: Vec<String> = if langs.len() > 1 {
        langs.iter().map(|l| language_name(l.as_deref().unwrap_or("default"))).collect()
    } else {
        Vec::new()
    };
    let mut vars = Vec::new();
    let mut sets: Vec<dta::ValueLabels> = Vec::new();
    for v in &table.vars {
        let c = v.column;
        let labels: Vec<String> =
            langs.iter().map(|l| variable_label(v.schema, c, l.as_deref())).collect();
        let value_label = if let Some(choices) = coded(v.schema, c) {
            let name = set_name(c.list.as_deref().unwrap_or(""));
            if !sets.iter().any(|s| s.name == name) {
                let entries = choices
                    .iter()
                    .map(|(n, code, text)| {
                        let per: Vec<String> = langs
                            .iter()
                            .map(|l| choice_text(v.schema, n, text, l.as_deref()))
                            .collect();
                        (*code, per)
                    })
                    .collect();
                sets.push(dta::ValueLabels { name: name.clone(), entries });
            }
            Some(name)
        } else if c.vtype == ValueType::Flag {
            if !sets.iter().any(|s| s.name == YES_NO) {
                let no = vec!["No".to_string(); langs.len()];
                let yes = vec!["Yes".to_string(); langs.len()];
                sets.push(dta::ValueLabels {
                    name: YES_NO.into(),
                    entries: vec![(Code::Valid(0), no), (Code::Valid(1), yes)],
                });
            }
            Some(YES_NO.to_string())
        } else {
            None
        };
        vars.push(dta::Variable { name: v.stata.to_string(), labels, value_label });
    }
    let labels = vec![table.label.clone(); langs.len().max(1)];
    dta::Dictionary { labels, languages, vars, value_labels: sets }
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
        let dict = dictionary(table);
        let _ = writeln!(s, "* ---- {} ----", table.name);
        let _ = writeln!(
            s,
            "import delimited using \"{}.csv\", varnames(nonames) rowrange(2) encoding(\"utf-8\") bindquote(strict) stringcols(_all) clear",
            table.name
        );
        for (i, v) in table.vars.iter().enumerate() {
            let _ = writeln!(s, "rename v{} {}", i + 1, v.stata);
        }
        // Cells a spreadsheet would run as formulas were written with a
        // leading ' (csv.rs); take it off again.
        let _ = writeln!(
            s,
            "foreach v of varlist _all {{\n    capture replace `v' = usubstr(`v', 2, .) if ustrregexm(`v', \"^'+[-=+@\\t\\r]\") & !ustrregexm(usubstr(`v', 2, .), \"^'*-?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$\")\n}}"
        );
        // Value labels first, so that every `label values` finds its definition.
        for set in &dict.value_labels {
            for (i, (code, texts)) in set.entries.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "label define {} {} {}, {}",
                    set.name,
                    code.stata(),
                    quote(&texts[0], 32000),
                    if i == 0 { "replace" } else { "add" }
                );
            }
        }
        for (v, dv) in table.vars.iter().zip(&dict.vars) {
            let (schema, lang, c, stata) = (v.schema, v.lang, v.column, v.stata);
            if let Some(choices) = coded(schema, c) {
                let _ = writeln!(s, "generate double enumera_tmp = ., after({stata})");
                for (name, code, text) in &choices {
                    // The CSV holds the choice label with --labels.
                    let value =
                        if labels { choice_text(schema, name, text, lang) } else { name.clone() };
                    let _ = writeln!(
                        s,
                        "replace enumera_tmp = {} if {stata} == {}",
                        code.stata(),
                        quote(&value, 2000)
                    );
                }
                let _ = writeln!(s, "drop {stata}\nrename enumera_tmp {stata}");
            } else if c.vtype.is_numeric() {
                let _ = writeln!(s, "destring {stata}, replace");
            } else if c.vtype == ValueType::Date {
                let _ = writeln!(
                    s,
                    "generate long enumera_tmp = date({stata}, \"YMD\"), after({stata})\nformat enumera_tmp %td\ndrop {stata}\nrename enumera_tmp {stata}"
                );
            } else if c.vtype == ValueType::Infer {
                let _ = writeln!(s, "capture destring {stata}, replace");
            }
            if let Some(set) = &dv.value_label {
                let _ = writeln!(s, "label values {stata} {set}");
            }
            let _ = writeln!(s, "label variable {stata} {}", quote(&dv.labels[0], 80));
        }
        // The other languages, as `label language` keeps them.
        if dict.languages.len() > 1 {
            let _ = writeln!(s, "label language {}, rename", dict.languages[0]);
            for (i, lang) in dict.languages.iter().enumerate().skip(1) {
                let _ = writeln!(s, "label language {lang}, new");
                for set in &dict.value_labels {
                    let name = dta::set_name(&set.name, &dict.languages, i);
                    for (j, (code, texts)) in set.entries.iter().enumerate() {
                        let text = texts.get(i).unwrap_or(&texts[0]);
                        let _ = writeln!(
                            s,
                            "label define {name} {} {}, {}",
                            code.stata(),
                            quote(text, 32000),
                            if j == 0 { "replace" } else { "add" }
                        );
                    }
                }
                for dv in &dict.vars {
                    if let Some(set) = &dv.value_label {
                        let name = dta::set_name(set, &dict.languages, i);
                        let _ = writeln!(s, "label values {} {name}", dv.name);
                    }
                    let text = dv.labels.get(i).unwrap_or(&dv.labels[0]);
                    let _ = writeln!(s, "label variable {} {}", dv.name, quote(text, 80));
                }
            }
            let _ = writeln!(s, "label language {}", dict.languages[0]);
        }
        let _ = writeln!(s, "compress\nsave \"{}.dta\", replace\n", table.name);
    }
    let path = out.join("export.do");
    std::fs::write(&path, s).map_err(|e| ExportError::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_macros() {
        assert_eq!(quote("say \"hi\"", 80), "`\"say \"hi\"\"'");
        assert_eq!(quote("costs $100 `x'", 80), "`\"costs \\$100 'x'\"'");
        assert_eq!(quote("a\nb", 80), "`\"a b\"'");
        assert!(quote("a\"'b", 80).matches("\"'").count() == 1);
    }
}
