//! The codebook: every variable of every table (and of the panel), with
//! where it comes from in the submission, its Stata and SPSS names, its
//! type as the typed files store it, its choices with their numeric codes
//! as the `.dta` and `.sav` hold them (missing-style codes marked), its
//! label and choice labels in every language, relevance and constraint as
//! the form author wrote them, and the versions it is in. As
//! `codebook.csv` (for programs) and `codebook.md` (for people).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use enumera_core::instrument::Text;

use super::codes::Code;
use super::csv::{CsvFile, CsvStyle};
use super::dictionary::code_pairs;
use super::panel;
use super::schema::{Column, ColumnRole, FormSchema};
use super::spool::Resolved;
use super::types::ValueType;
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

/// The question type, and how the typed files hold it (from the values
/// when the export saw them).
pub fn type_name(c: &Column, resolved: Option<Resolved>) -> String {
    let question = match (&c.role, c.qtype) {
        (ColumnRole::Meta(_), _) => "metadata".to_string(),
        (ColumnRole::Choice(_), _) => "select_multiple choice".into(),
        (ColumnRole::GeoPart(_), _) => "geopoint part".into(),
        (_, Some(q)) => serde_json::to_value(q)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let held = match (c.vtype, resolved) {
        (ValueType::Infer, Some(Resolved::Number { .. })) => "number (every value is one)",
        (ValueType::Infer, Some(Resolved::Text { .. })) => "text (not every value is a number)",
        (t, Some(Resolved::Text { .. })) if t != ValueType::Text => {
            "text (not every value fits its type)"
        }
        (t, _) => t.name(),
    };
    format!("{question}: {held}")
}

/// `name=code` for each choice, missing-style codes as Stata and SPSS hold them.
fn codes_of(schema: &FormSchema, c: &Column) -> String {
    if c.vtype == ValueType::Flag {
        return "0=not chosen; 1=chosen".into();
    }
    code_pairs(schema, c)
        .iter()
        .map(|(n, code)| match code {
            Code::Valid(v) => format!("{n}={v}"),
            Code::Missing { spss, .. } => {
                format!("{n}={} (Stata) {spss} (SPSS), missing", code.stata())
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
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

/// A column's label: its question's, or for a calculate without one its name.
fn label_in(c: &Column, lang: &str) -> String {
    let l = text_in(&c.label, lang);
    if l.is_empty() && !c.is_meta() { c.leaf.clone() } else { l }
}

pub fn write(
    out: &Path,
    schemas: &[(FormSchema, Option<String>)],
    naming: &Naming,
    panel: Option<&panel::Layout>,
    resolved: &HashMap<String, Vec<Resolved>>,
    style: CsvStyle,
) -> Result<Vec<PathBuf>, ExportError> {
    let langs = languages(schemas);
    let lang_col = |prefix: &str, l: &str| {
        if l.is_empty() { prefix.to_string() } else { format!("{prefix}::{l}") }
    };
    let mut header: Vec<String> = [
        "form_id",
        "table",
        "variable",
        "path",
        "stata_name",
        "spss_name",
        "type",
        "codes",
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
    let mut csv = CsvFile::create(&out.join("codebook.csv"), &h, style)?;
    let mut md = String::from("# Codebook\n\n");
    let _ = writeln!(
        md,
        "Variables of every exported table. `relevant` and `constraint` are as written in the \
         form. Stata and SPSS names are the names the `.dta` / `.sav` files (and `export.do` / \
         `export.sps`) give the columns. Codes are the numbers the `.dta` and `.sav` hold for \
         each choice; missing-style choices (don't know, refused, not applicable) are Stata's \
         extended missing values and SPSS user-missing values. Date-times are in UTC in the \
         typed files, as collected (with their offset) in the CSV and JSON.\n"
    );
    let row_of = |schema: &FormSchema,
                  table: &str,
                  c: &Column,
                  stata: &str,
                  spss: &str,
                  r: Option<Resolved>|
     -> Vec<String> {
        let mut row = vec![
            schema.form_id.clone(),
            table.to_string(),
            c.name.clone(),
            c.path.clone(),
            stata.to_string(),
            spss.to_string(),
            type_name(c, r),
            codes_of(schema, c),
            if c.pii { "yes" } else { "" }.to_string(),
            c.versions.join(" "),
            c.list.clone().unwrap_or_default(),
            c.relevant.clone().unwrap_or_default(),
            c.constraint.clone().unwrap_or_default(),
        ];
        row.extend(langs.iter().map(|l| label_in(c, l)));
        row.extend(langs.iter().map(|l| choices_in(schema, c, l)));
        row
    };
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
                "### Table `{}`{}\n\n| variable | Stata | SPSS | type | label | choices | codes | relevant | constraint | versions |\n|---|---|---|---|---|---|---|---|---|---|",
                table.name,
                match table.parent {
                    Some(p) =>
                        format!(" (repeat; `PARENT_KEY` is `KEY` of `{}`)", schema.tables[p].name),
                    None => String::new(),
                }
            );
            let types = resolved.get(&table.name);
            for (i, (c, (stata, spss))) in table.columns.iter().zip(table_names).enumerate() {
                let r = types.and_then(|t| t.get(i).copied());
                csv.write(&row_of(schema, &table.name, c, stata, spss, r))?;
                let _ = writeln!(
                    md,
                    "| `{}` | `{stata}` | `{spss}` | {} | {} | {} | {} | {} | {} | {} |",
                    c.name,
                    type_name(c, r),
                    md_cell(&label_in(c, lang)),
                    md_cell(&choices_in(schema, c, lang)),
                    md_cell(&codes_of(schema, c)),
                    md_code(c.relevant.as_deref()),
                    md_code(c.constraint.as_deref()),
                    c.versions.join(", ")
                );
            }
            md.push('\n');
        }
    }
    if let Some(p) = panel {
        let _ = writeln!(
            md,
            "## Panel (`panel`)\n\nOne row per participant and round; each form's answers under a short name.\n\n\
             | variable | form | from column | type | label |\n|---|---|---|---|---|"
        );
        let types = resolved.get("panel");
        for (i, ((f, c), name)) in p.columns.iter().zip(&p.names).enumerate() {
            let schema = &schemas[f.unwrap_or(0)].0;
            let r = types.and_then(|t| t.get(i).copied());
            let mut row = row_of(schema, "panel", c, name, name, r);
            if f.is_none() {
                row[0] = String::new();
            }
            row[2] = name.clone();
            row[3] =
                if f.is_some() { format!("{}:{}", schema.form_id, c.name) } else { String::new() };
            csv.write(&row)?;
            let lang = schemas[f.unwrap_or(0)].1.as_deref().unwrap_or("");
            let _ = writeln!(
                md,
                "| `{name}` | {} | `{}` | {} | {} |",
                f.map(|_| schema.form_id.as_str()).unwrap_or(""),
                c.name,
                type_name(c, r),
                md_cell(&label_in(c, lang))
            );
        }
        md.push('\n');
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
