//! CSV files that travel with a form: the lists of `select_one_from_file`
//! and the tables `pulldata()` reads, taken from the folder beside the form.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv;
use crate::instrument::Diagnostic;
use crate::instrument::model::{DataFile, Instrument, Node, NodeKind};
use crate::instrument::validate::SourceColumns;

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
        if !file.to_ascii_lowercase().ends_with(".csv") {
            diagnostics.push(Diagnostic::warning(
                here,
                format!("Enumera reads choices from .csv files only; the choices in '{file}' are not loaded"),
            ));
            continue;
        }
        if files.contains_key(file) {
            continue;
        }
        match read(dir, file) {
            Ok(data) => {
                let value = node.parameters.get("value").map_or("name", String::as_str);
                let label = node.parameters.get("label").map_or("label", String::as_str);
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
                    Ok(data) => {
                        files.insert(file, data);
                    }
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

fn read(dir: Option<&Path>, file: &str) -> Result<DataFile, String> {
    let Some(dir) = dir else {
        return Err(format!("{file} was not given with the form"));
    };
    // Only plain file names: a form must not reach outside its folder.
    if file.contains(['/', '\\']) || file.starts_with('.') {
        return Err(format!("'{file}' must be a plain file name beside the form"));
    }
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{file} is not in the form's folder ({})", dir.display())
        }
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    csv::parse(&bytes).map_err(|e| format!("{file} {e}"))
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
        assert!(read(None, "a.csv").unwrap_err().contains("not given"));
    }
}
