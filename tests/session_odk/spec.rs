//! The form specs of the session differential suite: one markdown file per
//! form under tests/diff/, readable on its own.
//!
//! ```text
//! # title: what the form exercises (free text up to the first `##`)
//!
//! ## survey
//! | type | name | label | relevant |
//! | ---- | ---- | ----- | -------- |
//! | integer | age | Age | |
//!
//! ## choices            (and `## settings`, `## file places.csv` + a fenced block)
//!
//! ## steps grow_and_shrink
//! ```json
//! [{"set": "/data/age", "value": "3"}]
//! ```
//! ```
//!
//! Table rows are split on `|`; write `\|` for a literal bar (the XPath
//! union). The `| --- |` rule under a header is optional.

use std::path::Path;

use enumera_tests::XlsForm;

/// One form and its step scripts.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub sheets: Vec<(String, Vec<Vec<String>>)>,
    pub files: Vec<(String, String)>,
    pub scripts: Vec<(String, serde_json::Value)>,
    /// `## clock 2024-01-15T23:30:00Z +2`: the frozen instant and the
    /// zone's offset in hours (default: the suite's clock, UTC).
    pub clock: Option<(String, i32)>,
}

impl Spec {
    /// The XLSForm the spec describes.
    pub fn xlsform(&self) -> XlsForm {
        let mut form = XlsForm::new();
        for (sheet, rows) in &self.sheets {
            let refs: Vec<Vec<&str>> =
                rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
            let rows: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
            form = form.sheet(sheet, &rows);
        }
        for (name, text) in &self.files {
            form = form.file(name, text);
        }
        form
    }
}

/// Splits one table row into its cells.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('|');
                }
            }
            '|' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn is_rule(row: &[String]) -> bool {
    row.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

/// Reads a spec; errors name the file and line.
pub fn parse(path: &Path) -> Result<Spec, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut spec =
        Spec { name, sheets: Vec::new(), files: Vec::new(), scripts: Vec::new(), clock: None };
    // The section being read: ("sheet"|"steps"|"file", its name).
    let mut section: Option<(&str, String)> = None;
    let mut fence: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), i + 1);
        if let Some(buf) = fence.as_mut() {
            if line.trim_start().starts_with("```") {
                let body = fence.take().unwrap_or_default();
                match &section {
                    Some(("steps", n)) => {
                        let v: serde_json::Value = serde_json::from_str(&body)
                            .map_err(|e| format!("{}: steps {n}: {e}", at()))?;
                        spec.scripts.push((n.clone(), v));
                    }
                    Some(("file", n)) => spec.files.push((n.clone(), body)),
                    _ => return Err(format!("{}: a fenced block outside steps or file", at())),
                }
            } else {
                buf.push_str(line);
                buf.push('\n');
            }
            continue;
        }
        let t = line.trim();
        if let Some(h) = t.strip_prefix("## ") {
            let mut words = h.split_whitespace();
            let kind = words.next().unwrap_or_default();
            let rest = words.collect::<Vec<_>>().join(" ");
            section = match kind {
                "survey" | "choices" | "settings" | "external_choices" | "osm" => {
                    spec.sheets.push((kind.to_string(), Vec::new()));
                    Some(("sheet", kind.to_string()))
                }
                "steps" if !rest.is_empty() => Some(("steps", rest)),
                "file" if !rest.is_empty() => Some(("file", rest)),
                "clock" => {
                    let mut parts = rest.split_whitespace();
                    let instant = parts.next().unwrap_or_default().to_string();
                    let hours = parts.next().unwrap_or("0").trim_start_matches('+');
                    let hours: i32 =
                        hours.parse().map_err(|_| format!("{}: bad zone offset {hours}", at()))?;
                    spec.clock = Some((instant, hours));
                    None
                }
                _ => return Err(format!("{}: unknown section `## {h}`", at())),
            };
        } else if t.starts_with("```") {
            fence = Some(String::new());
        } else if t.starts_with('|') {
            let Some(("sheet", _)) = section else {
                return Err(format!("{}: a table row outside a sheet", at()));
            };
            let row = cells(t);
            if !is_rule(&row)
                && let Some((_, rows)) = spec.sheets.last_mut()
            {
                rows.push(row);
            }
        }
    }
    if fence.is_some() {
        return Err(format!("{}: unclosed ``` block", path.display()));
    }
    if spec.scripts.is_empty() {
        return Err(format!("{}: no `## steps NAME` section", path.display()));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_escaped_bars() {
        assert_eq!(cells("| a | count(x \\| y) | |"), vec!["a", "count(x | y)", ""]);
    }
}
