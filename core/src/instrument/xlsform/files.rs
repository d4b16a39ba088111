//! CSV files that travel with a form: the lists of `select_one_from_file`
//! and the tables `pulldata()` reads, taken from the folder beside the form.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv;
use crate::instrument::Diagnostic;
use crate::instrument::model::{DataFile, Instrument, Node, NodeKind};
use crate::instrument::validate::SourceColumns;

/// Loads every file the form names. One rule for all of them, as pyxform
/// has it (it converts a form without its files): a file that is not
/// beside the form is a warning, the form is still read, and what the
/// file would give (choices, rows) is empty until it is put there. A file
/// that is there but cannot be read is an error.
pub(crate) fn load(
    instrument: &Instrument,
    columns: &SourceColumns,
    dir: Option<&Path>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, DataFile> {
    let mut files = BTreeMap::new();
    let mut nodes = Vec::new();
    collect(&instrument.children, &mut nodes);
    for node in &nodes {
        let NodeKind::Question(q) = &node.kind else {
            continue;
        };
        let Some(file) = &q.file else { continue };
        let here = columns.survey_cell(node.row, "type");
        if files.contains_key(file) {
            continue;
        }
        match read(dir, file) {
            Ok(Some(data)) => {
                let geojson = file.to_ascii_lowercase().ends_with(".geojson");
                let (value, label) = if geojson { ("id", "title") } else { ("name", "label") };
                let value = node.parameters.get("value").map_or(value, String::as_str);
                let label = node.parameters.get("label").map_or(label, String::as_str);
                for column in [value, label] {
                    if data.column(column).is_none() {
                        diagnostics.push(Diagnostic::error(
                            here.clone(),
                            format!(
                                "{file} has no '{column}' column (its columns: {})",
                                data.columns.join(", ")
                            ),
                        ));
                    }
                }
                files.insert(file.clone(), data);
            }
            Ok(None) => diagnostics.push(Diagnostic::warning(
                here,
                format!("{}; the choices from it are empty until it is", missing(dir, file)),
            )),
            Err(message) => diagnostics.push(Diagnostic::error(here, message)),
        }
    }
    for file in instrument.externals.values() {
        if files.contains_key(file) {
            continue;
        }
        let here = crate::instrument::Location::sheet("survey");
        match read(dir, file) {
            Ok(Some(data)) => {
                files.insert(file.clone(), data);
            }
            Ok(None) => diagnostics.push(Diagnostic::warning(
                here,
                format!("{}; instance('{}') is empty until it is", missing(dir, file), stem(file)),
            )),
            Err(message) => diagnostics.push(Diagnostic::error(here, message)),
        }
    }
    for node in &nodes {
        for (field, src) in expressions(node) {
            for name in pulldata_files(src) {
                let file = format!("{name}.csv");
                if files.contains_key(&file) {
                    continue;
                }
                match read(dir, &file) {
                    Ok(Some(data)) => {
                        files.insert(file, data);
                    }
                    Ok(None) => diagnostics.push(Diagnostic::warning(
                        columns.survey_cell(node.row, field),
                        format!(
                            "{}; pulldata('{name}', ...) gives nothing until it is",
                            missing(dir, &file)
                        ),
                    )),
                    Err(message) => diagnostics.push(Diagnostic::warning(
                        columns.survey_cell(node.row, field),
                        format!("pulldata('{name}', ...) cannot be answered: {message}"),
                    )),
                }
            }
        }
    }
    files
}

fn stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(s, _)| s)
}

fn missing(dir: Option<&Path>, file: &str) -> String {
    match dir {
        Some(d) => format!("{file} is not in the form's folder ({})", d.display()),
        None => format!("{file} was not given with the form"),
    }
}

/// A file beside the form, read by its kind (.csv, .geojson, .xml): `None`
/// when it is not there.
fn read(dir: Option<&Path>, file: &str) -> Result<Option<DataFile>, String> {
    // Only plain file names: a form must not reach outside its folder.
    if file.contains(['/', '\\']) || file.starts_with('.') {
        return Err(format!("'{file}' must be a plain file name beside the form"));
    }
    let Some(dir) = dir else {
        return Ok(None);
    };
    let path = dir.join(file);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let lower = file.to_ascii_lowercase();
    let parsed = if lower.ends_with(".geojson") || lower.ends_with(".xml") {
        other_kinds(&lower, &bytes)
    } else {
        csv::parse(&bytes).map_err(|e| e.to_string())
    };
    parsed.map(Some).map_err(|e| format!("{file} {e}"))
}

#[cfg(feature = "xlsx")]
fn other_kinds(lower: &str, bytes: &[u8]) -> Result<DataFile, String> {
    if lower.ends_with(".geojson") {
        super::data_files::geojson(bytes)
    } else {
        super::data_files::xml_items(bytes)
    }
}

/// Without the readers (the phones' library) forms are never imported.
#[cfg(not(feature = "xlsx"))]
fn other_kinds(_lower: &str, _bytes: &[u8]) -> Result<DataFile, String> {
    Err("cannot be read by this build".into())
}

fn collect<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in nodes {
        out.push(n);
        collect(&n.children, out);
    }
}

/// The expression columns of a node, with their field keys.
pub(crate) fn expressions(node: &Node) -> Vec<(&'static str, &str)> {
    let b = &node.bind;
    let mut out = Vec::new();
    for (key, v) in [
        ("relevant", &b.relevant),
        ("required", &b.required),
        ("constraint", &b.constraint),
        ("calculation", &b.calculation),
        ("default", &b.default),
        ("read_only", &b.readonly),
        ("choice_filter", &b.choice_filter),
        ("trigger", &b.trigger),
    ] {
        if let Some(v) = v {
            out.push((key, v.as_str()));
        }
    }
    if let NodeKind::Repeat { count: Some(c) } = &node.kind {
        out.push(("repeat_count", c.as_str()));
    }
    out
}

/// The first arguments of `pulldata('name', ...)` calls in `src`.
fn pulldata_files(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("pulldata") {
        rest = &rest[i + "pulldata".len()..];
        let after = rest.trim_start();
        let Some(args) = after.strip_prefix('(') else {
            continue;
        };
        let args = args.trim_start();
        let Some(q) = args.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        if let Some(end) = args[1..].find(q) {
            let name = &args[1..1 + end];
            if !name.is_empty() && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pulldata_files() {
        assert_eq!(
            pulldata_files(
                "pulldata('fruits', 'name', 'key', ${k}) + pulldata ( \"veg\",'a','b',1)"
            ),
            ["fruits", "veg"]
        );
        assert!(pulldata_files("concat('pulldata')").is_empty());
    }

    #[test]
    fn refuses_paths_outside_the_folder() {
        let dir = Path::new("/tmp");
        assert!(read(Some(dir), "../etc/passwd.csv").unwrap_err().contains("plain file name"));
        assert!(read(None, "a.csv").unwrap().is_none());
    }
}
