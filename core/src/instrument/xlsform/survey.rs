//! The survey sheet: one row per question, with begin/end rows nesting groups
//! and repeats.

use std::collections::BTreeMap;

use super::headers::{self, Column, Field, SheetKind};
use super::settings::yes;
use super::types::{self, TypeCell};
use super::workbook::{Row, Workbook, collapse_spaces};
use crate::instrument::model::{MAX_NESTING, Node, NodeKind, QuestionType, Text};
use crate::instrument::{Diagnostic, Location};

const SHEET: &str = "survey";

/// The bind column naming a metadata question's preload parameter, as an
/// author may write it (`bind::jr:preloadParams`), and as the `uri:`
/// spellings of metadata types set it.
pub(crate) const PRELOAD_PARAMS: &str = "bind::jr:preloadParams";

#[derive(Debug, Default)]
pub(crate) struct SurveyOut {
    pub children: Vec<Node>,
    /// Column index by field key (`relevant`, `label::English (en)`).
    pub columns: BTreeMap<String, usize>,
    /// Languages in column headers, in order first seen.
    pub languages: Vec<String>,
    /// `csv-external` / `xml-external` rows: (instance id, file name, row).
    pub externals: Vec<(String, String, u32)>,
}

/// The `extra` key marking a `begin loop over LIST` group until
/// [`super::loops::expand`] replaces it (no column can be named so).
pub(crate) const LOOP_MARK: &str = "\u{0}loop";

/// The key a column is known by in [`SurveyOut::columns`].
pub(crate) fn column_key(field: &Field, lang: Option<&str>) -> String {
    match lang {
        Some(l) => format!("{}::{l}", field.key()),
        None => field.key(),
    }
}

/// Replaces typographic quotes with plain ones, as pyxform does, so that
/// expressions typed in a word processor still parse.
pub(crate) fn plain_quotes(s: &str) -> String {
    s.replace(['\u{2018}', '\u{2019}'], "'").replace(['\u{201c}', '\u{201d}'], "\"")
}

/// An open group or repeat.
struct Open {
    node: Node,
    repeat: bool,
    type_col: Option<usize>,
    /// Opened deeper than [`MAX_NESTING`]: reported once, and its rows
    /// belong to the deepest level kept, so that the tree every later
    /// step walks stays shallow.
    flattened: bool,
}

pub(crate) fn read(book: &Workbook, diagnostics: &mut Vec<Diagnostic>) -> SurveyOut {
    let mut out = SurveyOut::default();
    // A workbook with a single, otherwise named sheet is read as the survey
    // (pyxform does the same).
    let sheet = match book.sheet(SHEET) {
        Some(s) => s,
        None if book.sheets.len() == 1
            && !["choices", "settings"]
                .iter()
                .any(|n| book.sheets[0].name.eq_ignore_ascii_case(n)) =>
        {
            &book.sheets[0]
        }
        None => {
            let names: Vec<&str> = book.sheets.iter().map(|s| s.name.as_str()).collect();
            let hint = types::suggest(SHEET, names.iter().copied())
                .map(|s| format!(" (is '{s}' meant to be 'survey'?)"))
                .unwrap_or_default();
            diagnostics.push(Diagnostic::error(
                Location::sheet(SHEET),
                format!(
                    "the workbook has no sheet named 'survey'{hint}; its sheets are: {}",
                    names.join(", ")
                ),
            ));
            return out;
        }
    };
    if sheet.headers.is_empty() {
        diagnostics.push(Diagnostic::error(
            Location::sheet(SHEET),
            "the survey sheet is empty; its first row names the columns (type, name, label, ...)",
        ));
        return out;
    }
    let columns = headers::columns(sheet, SHEET, SheetKind::Survey, diagnostics);
    for c in &columns {
        out.columns.insert(column_key(&c.field, c.lang.as_deref()), c.index);
    }
    check_languages(&columns, sheet.header_row, SHEET, &mut out.languages, diagnostics);
    let type_col = columns.iter().find(|c| c.field == Field::Type).map(|c| c.index);
    if type_col.is_none() && !sheet.rows.is_empty() {
        diagnostics.push(Diagnostic::error(
            Location::row(SHEET, sheet.header_row),
            "the survey sheet has no 'type' column",
        ));
        return out;
    }

    let mut stack: Vec<Open> = Vec::new();
    for row in &sheet.rows {
        let cell = |field: &Field| -> Option<String> {
            columns
                .iter()
                .find(|c| &c.field == field && c.lang.is_none())
                .and_then(|c| row.get(c.index))
                .map(|v| plain_quotes(&collapse_spaces(v)))
        };
        if cell(&Field::Disabled).as_deref().and_then(yes) == Some(true) {
            continue;
        }
        let Some(type_text) = cell(&Field::Type) else {
            let has_name = cell(&Field::Name).is_some();
            let has_label =
                columns.iter().any(|c| c.field == Field::Label && row.get(c.index).is_some());
            if has_name || has_label {
                diagnostics.push(Diagnostic::error(
                    loc(row.number, type_col),
                    "this row has a name or label but no type",
                ));
            } else {
                diagnostics.push(Diagnostic::warning(
                    Location::row(SHEET, row.number),
                    "row without type, name or label is skipped",
                ));
            }
            continue;
        };
        let here_type = loc(row.number, type_col);
        match types::parse(&type_text) {
            TypeCell::Setting(_) => continue,
            TypeCell::Unknown { suggestion } => {
                let hint = suggestion.map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
                diagnostics.push(Diagnostic::error(
                    here_type,
                    format!("unknown question type '{type_text}'{hint}"),
                ));
            }
            TypeCell::Unsupported(t) => diagnostics.push(Diagnostic::error(
                here_type,
                format!("question type '{t}' is not supported by Enumera"),
            )),
            TypeCell::MissingList(cmd) => diagnostics.push(Diagnostic::error(
                here_type,
                format!("'{cmd}' needs the name of a choice list after it, like '{cmd} yes_no'"),
            )),
            TypeCell::End { repeat } => {
                let what = if repeat { "repeat" } else { "group" };
                match stack.pop() {
                    None => diagnostics.push(Diagnostic::error(
                        here_type,
                        format!("'end {what}' without a matching 'begin {what}'"),
                    )),
                    Some(open) => {
                        if open.repeat != repeat {
                            let other = if open.repeat { "repeat" } else { "group" };
                            diagnostics.push(Diagnostic::error(
                                here_type,
                                format!(
                                    "'end {what}' closes {other} '{}' (row {}), which needs 'end {other}'",
                                    open.node.name, open.node.row
                                ),
                            ));
                        }
                        if !open.flattened {
                            attach(&mut stack, &mut out.children, open.node);
                        }
                    }
                }
            }
            TypeCell::External { csv } => {
                let Some(name) = cell(&Field::Name) else {
                    diagnostics.push(Diagnostic::error(
                        loc(row.number, col(&columns, &Field::Name).or(type_col)),
                        format!(
                            "'{type_text}' needs a name: the file is NAME.{}",
                            if csv { "csv" } else { "xml" }
                        ),
                    ));
                    continue;
                };
                let file = format!("{name}.{}", if csv { "csv" } else { "xml" });
                out.externals.push((name, file, row.number));
            }
            TypeCell::BeginLoop { list } => {
                let mut node = build(row, &columns, NodeKind::Group, diagnostics);
                node.extra.insert(LOOP_MARK.to_string(), list);
                let depth = stack.iter().filter(|o| !o.flattened).count();
                let flattened = depth >= MAX_NESTING;
                if flattened && !stack.last().is_some_and(|o| o.flattened) {
                    diagnostics.push(Diagnostic::error(
                        here_type,
                        format!(
                            "'{}' is nested {} groups and repeats deep; Enumera reads at most {MAX_NESTING} levels",
                            node.name,
                            depth + 1
                        ),
                    ));
                }
                stack.push(Open { node, repeat: false, type_col, flattened });
            }
            TypeCell::Begin { repeat } => {
                let count = cell(&Field::RepeatCount);
                if !repeat && count.is_some() {
                    diagnostics.push(Diagnostic::warning(
                        loc(row.number, col(&columns, &Field::RepeatCount)),
                        "repeat_count is ignored on a group",
                    ));
                }
                let kind = if repeat { NodeKind::Repeat { count } } else { NodeKind::Group };
                let node = build(row, &columns, kind, diagnostics);
                if repeat && node.label.is_empty() && node.media.is_empty() {
                    diagnostics.push(Diagnostic::warning(
                        Location::row(SHEET, row.number),
                        format!("repeat '{}' has no label", node.name),
                    ));
                }
                let depth = stack.iter().filter(|o| !o.flattened).count();
                let flattened = depth >= MAX_NESTING;
                if flattened && !stack.last().is_some_and(|o| o.flattened) {
                    diagnostics.push(Diagnostic::error(
                        here_type,
                        format!(
                            "'{}' is nested {} groups and repeats deep; Enumera reads at most {MAX_NESTING} levels",
                            node.name,
                            depth + 1
                        ),
                    ));
                }
                stack.push(Open { node, repeat, type_col, flattened });
            }
            TypeCell::Question(q, defaults) => {
                let qtype = q.qtype;
                let or_other = q.or_other;
                let mut node = build(row, &columns, NodeKind::Question(q), diagnostics);
                // What pyxform's type dictionary adds where the row says nothing.
                if let Some(c) = defaults.constraint
                    && node.bind.constraint.is_none()
                {
                    node.bind.constraint = Some(c.to_string());
                }
                if let Some(h) = defaults.hint
                    && node.hint.is_empty()
                {
                    node.hint = Text::plain(h);
                }
                if let Some(p) = defaults.preload_params {
                    node.extra.entry(PRELOAD_PARAMS.to_string()).or_insert_with(|| p.to_string());
                }
                if node.name.is_empty() {
                    // pyxform names what needs no name of its own.
                    match qtype {
                        QuestionType::Note => {
                            node.name = format!("generated_note_name_{}", row.number)
                        }
                        QuestionType::Audit => node.name = "audit".into(),
                        _ => {}
                    }
                } else if qtype == QuestionType::Audit && node.name != "audit" {
                    diagnostics.push(Diagnostic::error(
                        loc(row.number, col(&columns, &Field::Name)),
                        "an audit must be named 'audit'; leave its name blank",
                    ));
                }
                if qtype == QuestionType::Calculate
                    && node.bind.calculation.is_none()
                    && node.bind.default.is_none()
                {
                    diagnostics.push(Diagnostic::error(
                        loc(row.number, col(&columns, &Field::Calculation).or(type_col)),
                        format!("calculate '{}' has no calculation", node.name),
                    ));
                }
                check_question(&node, qtype, &columns, type_col, diagnostics);
                if or_other && node.bind.choice_filter.is_some() {
                    diagnostics.push(Diagnostic::error(
                        loc(row.number, col(&columns, &Field::ChoiceFilter)),
                        "choice_filter cannot be used with or_other",
                    ));
                }
                attach(&mut stack, &mut out.children, node);
            }
        }
    }
    // Close what was left open, so the rest of the form can still be checked.
    while let Some(open) = stack.pop() {
        let what = if open.repeat { "repeat" } else { "group" };
        diagnostics.push(Diagnostic::error(
            loc(open.node.row, open.type_col),
            format!(
                "'begin {what}' for '{}' is never closed; add an 'end {what}' row",
                open.node.name
            ),
        ));
        if !open.flattened {
            attach(&mut stack, &mut out.children, open.node);
        }
    }
    out
}

/// Checks that belong to one question type, as pyxform makes them.
fn check_question(
    node: &Node,
    qtype: QuestionType,
    columns: &[Column],
    type_col: Option<usize>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let params_at = || loc(node.row, col(columns, &Field::Parameters).or(type_col));
    match qtype {
        QuestionType::Range => {
            let mut bad = false;
            let mut num = |key: &str, default: f64| -> f64 {
                match node.parameters.get(key) {
                    None => default,
                    Some(v) => match v.parse::<f64>() {
                        Ok(n) if n.is_finite() => n,
                        _ => {
                            bad = true;
                            diagnostics.push(Diagnostic::error(
                                params_at(),
                                format!("range parameter {key} must be a number, not '{v}'"),
                            ));
                            default
                        }
                    },
                }
            };
            let (start, end, step) = (num("start", 1.0), num("end", 10.0), num("step", 1.0));
            if bad {
                return; // already reported
            }
            if step == 0.0 {
                diagnostics
                    .push(Diagnostic::error(params_at(), "range parameter step must not be 0"));
            } else if step.abs() > (end - start).abs() {
                diagnostics.push(Diagnostic::error(
                    params_at(),
                    format!(
                        "range parameter step ({step}) must not be larger than the range from start to end ({start} to {end})"
                    ),
                ));
            }
        }
        QuestionType::Image if !node.parameters.contains_key("max-pixels") => {
            diagnostics.push(Diagnostic::warning(
                params_at(),
                format!(
                    "image '{}' has no max-pixels parameter; add one (e.g. max-pixels=1024) to keep photos small to store and send",
                    node.name
                ),
            ));
        }
        QuestionType::SimSerial | QuestionType::SubscriberId => {
            diagnostics.push(Diagnostic::warning(
                loc(node.row, type_col),
                "this metadata is no longer given by most devices (only Android before 11)",
            ));
        }
        _ => {}
    }
}

fn loc(row: u32, col: Option<usize>) -> Location {
    match col {
        Some(c) => Location::cell(SHEET, row, c),
        None => Location::row(SHEET, row),
    }
}

fn col(columns: &[Column], field: &Field) -> Option<usize> {
    columns.iter().find(|c| &c.field == field && c.lang.is_none()).map(|c| c.index)
}

fn attach(stack: &mut [Open], root: &mut Vec<Node>, node: Node) {
    match stack.iter_mut().rev().find(|o| !o.flattened) {
        Some(parent) => parent.node.children.push(node),
        None => root.push(node),
    }
}

/// Builds the node of one row from every column it fills.
fn build(row: &Row, columns: &[Column], kind: NodeKind, diagnostics: &mut Vec<Diagnostic>) -> Node {
    let mut node = Node {
        name: String::new(),
        kind,
        row: row.number,
        label: Text::default(),
        hint: Text::default(),
        guidance_hint: Text::default(),
        media: BTreeMap::new(),
        bind: Default::default(),
        appearance: None,
        parameters: BTreeMap::new(),
        pii: false,
        preload: false,
        extra: BTreeMap::new(),
        children: vec![],
    };
    for c in columns {
        let Some(raw) = row.get(c.index) else {
            continue;
        };
        let value = plain_quotes(&collapse_spaces(raw));
        let lang = c.lang.clone().unwrap_or_default();
        let here = || Location::cell(SHEET, row.number, c.index);
        match &c.field {
            Field::Name => node.name = value,
            Field::Label => put(&mut node.label, lang, value),
            Field::Hint => put(&mut node.hint, lang, value),
            Field::GuidanceHint => put(&mut node.guidance_hint, lang, value),
            Field::Media(kind) => put(node.media.entry(kind.clone()).or_default(), lang, value),
            Field::RequiredMessage => put(&mut node.bind.required_message, lang, value),
            Field::ConstraintMessage => put(&mut node.bind.constraint_message, lang, value),
            Field::Required => node.bind.required = Some(boolean_expr(value)),
            Field::ReadOnly => node.bind.readonly = Some(boolean_expr(value)),
            Field::Relevant => node.bind.relevant = Some(boolean_expr(value)),
            Field::Constraint => node.bind.constraint = Some(value),
            Field::Calculation => node.bind.calculation = Some(value),
            Field::Default => node.bind.default = Some(value),
            Field::ChoiceFilter => node.bind.choice_filter = Some(value),
            Field::Trigger => node.bind.trigger = Some(value),
            Field::Appearance => node.appearance = Some(value),
            Field::Parameters => match parse_parameters(&value) {
                Ok(p) => node.parameters = p,
                Err(()) => diagnostics.push(Diagnostic::error(
                    here(),
                    format!(
                        "parameters '{value}' are not key=value pairs separated by spaces (like 'start=1 end=10 step=1')"
                    ),
                )),
            },
            Field::Pii | Field::Preload => {
                let Some(flag) = yes(&value) else {
                    diagnostics.push(Diagnostic::error(
                        here(),
                        format!("{} must be yes or no, not '{value}'", c.field.key()),
                    ));
                    continue;
                };
                if c.field == Field::Pii {
                    node.pii = flag;
                } else {
                    node.preload = flag;
                }
            }
            Field::Extra(key) => {
                let lower = key.to_lowercase();
                if ["bind::", "bind:", "body::", "body:", "control::", "instance::", "instance:"]
                    .iter()
                    .any(|p| lower.starts_with(p))
                {
                    node.extra.insert(key.clone(), value);
                }
                // Any other column (notes to self, sms columns) has no meaning here.
            }
            Field::Type | Field::RepeatCount | Field::Disabled | Field::ListName => {}
        }
    }
    node
}

fn put(text: &mut Text, lang: String, value: String) {
    text.0.insert(lang, value);
}

/// `yes`/`true` -> `true()`, `no`/`false` -> `false()`; expressions as written.
fn boolean_expr(value: String) -> String {
    match yes(&value) {
        Some(true) => "true()".into(),
        Some(false) => "false()".into(),
        None => value,
    }
}

/// `start=1 end=10 step=1` (separated by spaces, commas or semicolons).
/// Keys are lowercased, and so are values except `label` and `value`, which
/// name CSV columns.
pub(crate) fn parse_parameters(s: &str) -> Result<BTreeMap<String, String>, ()> {
    let is_sep = |c: char| c.is_whitespace() || c == ',' || c == ';';
    let mut out = BTreeMap::new();
    // Spaces around '=' are allowed: join them first.
    let mut joined = String::new();
    for part in s.split('=') {
        if !joined.is_empty() {
            joined = joined.trim_end_matches(is_sep).to_string();
            joined.push('=');
        }
        joined.push_str(if joined.is_empty() { part } else { part.trim_start_matches(is_sep) });
    }
    for token in joined.split(is_sep).filter(|t| !t.is_empty()) {
        let Some((k, v)) = token.split_once('=') else {
            return Err(());
        };
        if k.is_empty() || v.is_empty() || v.contains('=') {
            return Err(());
        }
        let k = k.to_lowercase();
        let v = if k == "label" || k == "value" { v.to_string() } else { v.to_lowercase() };
        out.insert(k, v);
    }
    Ok(out)
}

/// Header checks about languages: a language without a `Name (code)` code,
/// and (as pyxform warns) a language missing a column that others have.
pub(crate) fn check_languages(
    columns: &[Column],
    header_row: u32,
    sheet: &str,
    languages: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // field keys seen per language ("" for unsuffixed).
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let mut all_fields: Vec<String> = Vec::new();
    for c in columns.iter().filter(|c| c.field.translatable()) {
        let lang = c.lang.clone().unwrap_or_default();
        if let Some(l) = &c.lang
            && !languages.contains(l)
        {
            languages.push(l.clone());
            if !headers::has_language_code(l) {
                diagnostics.push(Diagnostic::warning(
                    Location::cell(sheet, header_row, c.index),
                    format!(
                        "language '{l}' has no language code; write it as 'Name (code)', like 'English (en)'"
                    ),
                ));
            }
        }
        let key = c.field.key();
        if !all_fields.contains(&key) {
            all_fields.push(key.clone());
        }
        match seen.iter_mut().find(|(l, _)| *l == lang) {
            Some((_, fields)) => fields.push(key),
            None => seen.push((lang, vec![key])),
        }
    }
    if seen.len() < 2 {
        return;
    }
    for (lang, fields) in &seen {
        let missing: Vec<&str> =
            all_fields.iter().filter(|f| !fields.contains(f)).map(String::as_str).collect();
        if missing.is_empty() {
            continue;
        }
        let name = if lang.is_empty() { "default" } else { lang };
        let (noun, list) = if missing.len() == 1 {
            ("column", missing[0].to_string())
        } else {
            ("columns", missing.join(", "))
        };
        diagnostics.push(Diagnostic::warning(
            Location::row(sheet, header_row),
            format!(
                "language '{name}' is missing the {sheet} {noun} {list} that other languages have"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let p = parse_parameters("start=1 end=10, step = 2; label=Name").unwrap();
        assert_eq!(p.get("start").map(String::as_str), Some("1"));
        assert_eq!(p.get("end").map(String::as_str), Some("10"));
        assert_eq!(p.get("step").map(String::as_str), Some("2"));
        assert_eq!(p.get("label").map(String::as_str), Some("Name"));
        assert!(parse_parameters("start").is_err());
        assert!(parse_parameters("a==b").is_err());
        assert!(parse_parameters("").unwrap().is_empty());
    }

    #[test]
    fn quotes_and_booleans() {
        assert_eq!(plain_quotes("\u{2018}a\u{2019} = \u{201c}b\u{201d}"), "'a' = \"b\"");
        assert_eq!(boolean_expr("yes".into()), "true()");
        assert_eq!(boolean_expr("TRUE".into()), "true()");
        assert_eq!(boolean_expr("true()".into()), "true()");
        assert_eq!(boolean_expr("No".into()), "false()");
        assert_eq!(boolean_expr("${a} = 1".into()), "${a} = 1");
    }
}
