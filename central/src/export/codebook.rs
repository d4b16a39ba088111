//! The codebook: every variable of every table, its question label in every
//! language, type, choices with labels, relevance and constraint as the
//! form author wrote them, the versions it is in, and its Stata and SPSS
//! names. As `codebook.csv` (for programs) and `codebook.md` (for people).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use enumera_core::instrument::Text;

use super::csv::CsvFile;
use super::schema::{Column, ColumnRole, FormSchema};
use super::{ExportError, Naming};

/// Every language of the exported forms; `""` for single-language forms.
fn languages(schemas: &[(FormSchema, Option<String>)]) -> Vec<String> {
    let mut langs: Vec<String> = Vec::new();
    for (s, _) in schemas {
        for l in &s.languages {
            if !langs.contains(l) {
                langs.push(l.clone());
            }
        }
    }
    if langs.is_empty() {
        langs.push(String::new());
    }
    langs
}

fn text_in(t: &Text, lang: &str) -> String {
    t.0.get(lang).or_else(|| t.0.get("")).cloned().unwrap_or_default()
}

pub fn type_name(c: &Column) -> String {
    match (&c.role, c.qtype) {
        (ColumnRole::Meta, _) => "metadata".into(),
        (ColumnRole::Choice(_), _) => "select_multiple choice (0/1)".into(),
        (ColumnRole::GeoPart(_), _) => "geopoint part (number)".into(),
        (_, Some(q)) => serde_json::to_value(q)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// `name=label | name=label` for the column's choice list in `lang`.
fn choices_in(schema: &FormSchema, c: &Column, lang: &str) -> String {
    if let ColumnRole::Choice(choice) = &c.role {
        let list = c.list.as_deref().unwrap_or("");
        let label = schema.choices.get(list).and_then(|l| l.iter().find(|(n, _)| n == choice));
        return format!("1={}", label.map(|(_, t)| text_in(t, lang)).unwrap_or_default());
    }
    if c.role != ColumnRole::Value {
        return String::new();
    }
    let Some(list) = c.list.as_deref().and_then(|l| schema.choices.get(l)) else {
        return String::new();
    };
    list.iter().map(|(n, t)| format!("{n}={}", text_in(t, lang))).collect::<Vec<_>>().join(" | ")
}

pub fn write(
    out: &Path,
    schemas: &[(FormSchema, Option<String>)],
    naming: &Naming,
) -> Result<Vec<PathBuf>, ExportError> {
    let langs = languages(schemas);
    let lang_col = |prefix: &str, l: &str| {
        if l.is_empty() { prefix.to_string() } else { format!("{prefix}::{l}") }
    };
    let mut header: Vec<String> = [
        "form_id",
        "table",
        "variable",
        "stata_name",
        "spss_name",
        "type",
        "pii",
        "versions",
        "list",
        "relevant",
        "constraint",
    ]
    .map(String::from)
    .to_vec();
    header.extend(langs.iter().map(|l| lang_col("label", l)));
    header.extend(langs.iter().map(|l| lang_col("choices", l)));
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut csv = CsvFile::create(&out.join("codebook.csv"), &h)?;
    let mut md = String::from("# Codebook\n\n");
    let _ = writeln!(
        md,
        "Variables of every exported table. `relevant` and `constraint` are as written in the \
         form. Stata and SPSS names are the names `export.do` / `export.sps` give the columns.\n"
    );
    for ((schema, lang), form_names) in schemas.iter().zip(naming) {
        let lang = lang.as_deref().unwrap_or("");
        let _ = writeln!(
            md,
            "## {} ({})\n\nVersions: {}. Languages: {}.\n",
            md_cell(&schema.title),
            schema.form_id,
            schema.versions.join(", "),
            if schema.languages.is_empty() { "one".into() } else { schema.languages.join(", ") }
        );
        for (table, table_names) in schema.tables.iter().zip(form_names) {
            let _ = writeln!(
                md,
                "### Table `{}`{}\n\n| variable | Stata | SPSS | type | label | choices | relevant | constraint | versions |\n|---|---|---|---|---|---|---|---|---|",
                table.name,
                match table.parent {
                    Some(p) =>
                        format!(" (repeat; `PARENT_KEY` is `KEY` of `{}`)", schema.tables[p].name),
                    None => String::new(),
                }
            );
            for (c, (stata, spss)) in table.columns.iter().zip(table_names) {
                let mut row = vec![
                    schema.form_id.clone(),
                    table.name.clone(),
                    c.name.clone(),
                    stata.clone(),
                    spss.clone(),
                    type_name(c),
                    if c.pii { "yes" } else { "" }.to_string(),
                    c.versions.join(" "),
                    c.list.clone().unwrap_or_default(),
                    c.relevant.clone().unwrap_or_default(),
                    c.constraint.clone().unwrap_or_default(),
                ];
                row.extend(langs.iter().map(|l| text_in(&c.label, l)));
                row.extend(langs.iter().map(|l| choices_in(schema, c, l)));
                csv.write(&row)?;
                let _ = writeln!(
                    md,
                    "| `{}` | `{stata}` | `{spss}` | {} | {} | {} | {} | {} | {} |",
                    c.name,
                    type_name(c),
                    md_cell(&text_in(&c.label, lang)),
                    md_cell(&choices_in(schema, c, lang)),
                    md_code(c.relevant.as_deref()),
                    md_code(c.constraint.as_deref()),
                    c.versions.join(", ")
                );
            }
            md.push('\n');
        }
    }
    let md_path = out.join("codebook.md");
    std::fs::write(&md_path, md).map_err(|e| ExportError::io(&md_path, e))?;
    Ok(vec![csv.finish()?, md_path])
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn md_code(s: Option<&str>) -> String {
    s.map(|s| format!("`{}`", md_cell(s).replace('`', "'"))).unwrap_or_default()
}
