//! Checks on a whole instrument, each problem pinned to its cell: names
//! (empty, not XML, duplicated in a scope), choice lists (missing,
//! duplicates), labels, `${name}` references and calculation cycles.
//!
//! It works on the model, so an instrument read back from JSON is checked
//! the same way as one just imported; [`SourceColumns`] maps field keys to
//! the columns they came from so messages name cells, not only rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::diagnostic::{Diagnostic, Location};
use super::model::{Instrument, MAX_NESTING, Node, NodeKind, QuestionType, Text};
use super::paths::{PathIndex, RefError, references};

/// Where each field's column is on the survey and choices sheets (0-based),
/// by field key: `relevant`, `type`, `name`, `label`, `label::English (en)`.
/// Empty for an instrument that did not come from a workbook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceColumns {
    pub survey: BTreeMap<String, usize>,
    pub choices: BTreeMap<String, usize>,
    /// Settings columns by key (`instance_name`, `name`, `form_id`), and the
    /// row that holds their values.
    pub settings: BTreeMap<String, usize>,
    pub settings_row: Option<u32>,
}

impl SourceColumns {
    pub fn survey_cell(&self, row: u32, key: &str) -> Location {
        cell("survey", &self.survey, row, key)
    }

    pub fn choices_cell(&self, row: u32, key: &str) -> Location {
        cell("choices", &self.choices, row, key)
    }

    pub fn settings_cell(&self, key: &str) -> Location {
        match self.settings_row {
            Some(row) => cell("settings", &self.settings, row, key),
            None => Location::sheet("settings"),
        }
    }
}

fn cell(sheet: &str, map: &BTreeMap<String, usize>, row: u32, key: &str) -> Location {
    match map.get(key) {
        Some(&c) => Location::cell(sheet, row, c),
        None => Location::row(sheet, row),
    }
}

/// Every problem in `instrument`, in no particular order.
/// The end of the message for a shown question with nothing to show: an
/// error for an XLSForm (pyxform refuses it), a warning for an XForm.
pub(crate) const NO_LABEL: &str = "has no label or hint";

pub fn validate(instrument: &Instrument, columns: &SourceColumns) -> Vec<Diagnostic> {
    if let Some(deep) = too_deep(&instrument.children, 1) {
        // Every walk below recurses through the tree: stop here.
        return vec![Diagnostic::error(
            columns.survey_cell(deep.row, "type"),
            format!(
                "'{}' is nested more than {MAX_NESTING} groups and repeats deep; Enumera reads at most {MAX_NESTING} levels",
                deep.name
            ),
        )];
    }
    let mut v =
        Validator { instrument, columns, index: PathIndex::new(instrument), out: Vec::new() };
    v.root();
    v.names(&instrument.children, "the survey", &mut HashMap::new());
    let mut all = Vec::new();
    flatten(&instrument.children, &mut all);
    v.repeats(&all);
    for node in &all {
        v.node(node);
    }
    v.cycles(&all);
    v.choices();
    v.translations(&all);
    v.out
}

/// The first group or repeat nested deeper than [`MAX_NESTING`], if any;
/// `depth` is the level of `nodes`' containers.
fn too_deep(nodes: &[Node], depth: usize) -> Option<&Node> {
    nodes
        .iter()
        .filter(|n| n.is_container())
        .find_map(|n| if depth > MAX_NESTING { Some(n) } else { too_deep(&n.children, depth + 1) })
}

fn flatten<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in nodes {
        out.push(n);
        flatten(&n.children, out);
    }
}

/// An XML element name as pyxform accepts it (an NCName, optionally with
/// one `prefix:`).
pub fn is_xml_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        c.is_ascii_alphabetic()
            || c == '_'
            || matches!(c as u32,
                0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x2FF | 0x370..=0x37D | 0x37F..=0x1FFF
                | 0x200C..=0x200D | 0x2070..=0x218F | 0x2C00..=0x2FEF | 0x3001..=0xD7FF
                | 0xF900..=0xFDCF | 0xFDF0..=0xFFFD | 0x10000..=0xEFFFF)
    }
    fn rest(c: char) -> bool {
        start(c)
            || c.is_ascii_digit()
            || matches!(c, '-' | '.' | '\u{b7}')
            || matches!(c as u32, 0x300..=0x36F | 0x203F..=0x2040)
    }
    fn ncname(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(start) && chars.all(rest)
    }
    match name.split_once(':') {
        Some((prefix, local)) => ncname(prefix) && ncname(local),
        None => ncname(name),
    }
}

struct Validator<'a> {
    instrument: &'a Instrument,
    columns: &'a SourceColumns,
    index: PathIndex,
    out: Vec<Diagnostic>,
}

fn kind_word(node: &Node) -> &'static str {
    match node.kind {
        NodeKind::Group => "group",
        NodeKind::Repeat { .. } => "repeat",
        NodeKind::Question(_) => "question",
    }
}

impl Validator<'_> {
    fn error(&mut self, at: Location, msg: impl Into<String>) {
        self.out.push(Diagnostic::error(at, msg));
    }

    fn warning(&mut self, at: Location, msg: impl Into<String>) {
        self.out.push(Diagnostic::warning(at, msg));
    }

    fn root(&mut self) {
        let i = self.instrument;
        if let Some(name) = &i.settings.instance_name {
            let at = self.columns.settings_cell("instance_name");
            self.refs(name, at.clone(), "instance_name".into());
            self.expression(name, at, "instance_name");
        }
        if !is_xml_name(&i.root_name) {
            self.error(
                self.columns.settings_cell("name"),
                format!("settings name '{}' is not a valid XML name", i.root_name),
            );
        }
        if i.form_id.trim().is_empty() {
            let at = self.columns.settings_cell("form_id");
            self.error(at, "form_id is empty");
        }
    }

    /// Names within one scope (the children of one group or repeat).
    fn names(
        &mut self,
        nodes: &[Node],
        scope: &str,
        seen_lower: &mut HashMap<String, (String, u32)>,
    ) {
        let mut seen: HashMap<&str, u32> = HashMap::new();
        for node in nodes {
            let at = self.columns.survey_cell(node.row, "name");
            if node.name.is_empty() {
                self.error(at, format!("{} has no name", kind_word(node)));
            } else if !is_xml_name(&node.name) {
                self.error(
                    at,
                    format!(
                        "name '{}' is not a valid XML name: start with a letter or '_', then use only letters, digits, '_', '-' and '.'",
                        node.name
                    ),
                );
            } else if let Some(first) = seen.get(node.name.as_str()) {
                self.error(
                    at,
                    format!("name '{}' is already used in {scope} (row {first})", node.name),
                );
            } else if scope == "the survey" && node.name == "meta" {
                self.error(at, "name 'meta' is reserved for the form's metadata group");
            } else {
                seen.insert(&node.name, node.row);
                let lower = node.name.to_lowercase();
                match seen_lower.get(&lower) {
                    Some((other, row)) => {
                        let msg = format!(
                            "name '{}' differs only in case from '{other}' (row {row}) in {scope}; some tools treat them as the same",
                            node.name
                        );
                        self.warning(at, msg);
                    }
                    None => {
                        seen_lower.insert(lower, (node.name.clone(), node.row));
                    }
                }
            }
            if node.is_container() {
                let inner = format!("{} '{}'", kind_word(node), node.name);
                self.names(&node.children, &inner, &mut HashMap::new());
            }
        }
    }

    /// Repeat names must be unique in the whole form and differ from the root.
    fn repeats(&mut self, all: &[&Node]) {
        let mut seen: HashMap<&str, u32> = HashMap::new();
        for node in all.iter().filter(|n| matches!(n.kind, NodeKind::Repeat { .. })) {
            if node.name.is_empty() {
                continue;
            }
            let at = self.columns.survey_cell(node.row, "name");
            if node.name == self.instrument.root_name {
                self.error(
                    at,
                    format!("repeat name '{}' is the same as the form's root element", node.name),
                );
            } else if let Some(first) = seen.get(node.name.as_str()) {
                let msg = format!(
                    "repeat name '{}' is already used by the repeat on row {first}; repeat names must be unique in the form",
                    node.name
                );
                self.error(at, msg);
            } else {
                seen.insert(&node.name, node.row);
            }
        }
    }

    fn node(&mut self, node: &Node) {
        if let NodeKind::Question(q) = &node.kind {
            match &q.list {
                Some(list)
                    if q.qtype == QuestionType::Osm && !self.instrument.osm.contains_key(list) =>
                {
                    let at = self.columns.survey_cell(node.row, "type");
                    self.warning(
                        at,
                        format!(
                            "osm tag list '{list}' is not on the osm sheet; the question asks for no tags"
                        ),
                    );
                }
                Some(_) if q.qtype == QuestionType::Osm => {}
                Some(list) => self.select_list(node, list, q.qtype),
                None => {}
            }
            // pyxform: a question with a calculation or a trigger and no
            // label or hint is a value of the model only, with no control.
            let model_only = node.bind.calculation.as_deref().is_some_and(|c| !c.trim().is_empty())
                || node.bind.trigger.as_deref().is_some_and(|t| !t.trim().is_empty());
            let shown = !q.qtype.is_metadata()
                && !model_only
                && !matches!(q.qtype, QuestionType::Calculate | QuestionType::Hidden);
            if shown && node.label.is_empty() && node.hint.is_empty() && node.media.is_empty() {
                let at = self.label_cell(node.row);
                self.error(at, format!("question '{}' {NO_LABEL}", node.name));
            }
        }
        for (key, src) in super::xlsform::expressions(node) {
            let at = self.columns.survey_cell(node.row, key);
            self.refs(src, at.clone(), key.to_string());
            // A trigger is a list of references, not an expression; a
            // default is one only when it computes something (pyxform's rule).
            let is_expr = match key {
                // Already reported as an unclosed `${`.
                _ if references(src).is_err() => false,
                "trigger" => false,
                "default" => is_dynamic_default(src),
                _ => true,
            };
            if is_expr {
                self.expression(src, at, key);
            }
        }
        for (key, text) in [
            ("label", &node.label),
            ("hint", &node.hint),
            ("guidance_hint", &node.guidance_hint),
            ("required_message", &node.bind.required_message),
            ("constraint_message", &node.bind.constraint_message),
        ] {
            self.text_refs(node.row, key, text, false);
        }
    }

    /// Parses an expression column and checks the functions it calls.
    fn expression(&mut self, src: &str, at: Location, what: &str) {
        let expr = match crate::expr::parse(src) {
            Ok(e) => e,
            Err(e) => {
                self.error(at, format!("{} at column {} in {what}", e.message, e.column));
                return;
            }
        };
        let mut problems = Vec::new();
        expr.walk(&mut |x| {
            let crate::expr::Expr::Call(call) = x else {
                return;
            };
            match call.func {
                None => {
                    let hint = super::xlsform::suggest(
                        &call.name,
                        crate::expr::Func::ALL.iter().map(|f| f.name()),
                    )
                    .map(|s| format!("; did you mean {s}()?"))
                    .unwrap_or_default();
                    problems.push(format!("unknown function {}() in {what}{hint}", call.name));
                }
                Some(f) => {
                    let (min, max) = f.arity();
                    let n = call.args.len();
                    if n < min || max.is_some_and(|m| n > m) {
                        let wanted = match max {
                            Some(m) if m == min => format!("{min}"),
                            Some(m) => format!("{min} to {m}"),
                            None => format!("at least {min}"),
                        };
                        let s = if wanted == "1" { "" } else { "s" };
                        problems.push(format!(
                            "{}() takes {wanted} argument{s}, not {n}, in {what}",
                            call.name
                        ));
                    }
                }
            }
        });
        for p in crate::expr::refs::literal_problems(&expr) {
            problems.push(format!("{p} in {what}"));
        }
        for p in problems {
            self.error(at.clone(), p);
        }
    }

    fn label_cell(&self, row: u32) -> Location {
        let first_label = self
            .columns
            .survey
            .iter()
            .filter(|(k, _)| *k == "label" || k.starts_with("label::"))
            .map(|(_, &c)| c)
            .min();
        match first_label {
            Some(c) => Location::cell("survey", row, c),
            None => Location::row("survey", row),
        }
    }

    fn text_refs(&mut self, row: u32, key: &str, text: &Text, choices: bool) {
        for (lang, src) in &text.0 {
            let col_key = if lang.is_empty() { key.to_string() } else { format!("{key}::{lang}") };
            let at = if choices {
                self.columns.choices_cell(row, &col_key)
            } else {
                self.columns.survey_cell(row, &col_key)
            };
            let what = if lang.is_empty() { key.to_string() } else { format!("{key} ({lang})") };
            self.refs(src, at, what);
        }
    }

    fn refs(&mut self, src: &str, at: Location, what: String) {
        let names = match references(src) {
            Ok(n) => n,
            Err(e) => {
                self.error(at, format!("{e} in {what}"));
                return;
            }
        };
        let mut reported = HashSet::new();
        for name in names {
            if !reported.insert(name) {
                continue;
            }
            match self.index.get(name) {
                Ok(_) => {}
                Err(RefError::Unknown { .. }) if self.implicit(name) => {}
                Err(RefError::Unknown { .. }) => {
                    let hint = self
                        .suggest_name(name)
                        .map(|s| format!("; did you mean ${{{s}}}?"))
                        .unwrap_or_default();
                    self.error(
                        at.clone(),
                        format!("unknown reference ${{{name}}} in {what}{hint}"),
                    );
                }
                Err(e) => self.error(at.clone(), format!("{e} in {what}")),
            }
        }
    }

    /// Names that exist without a row of their own: `NAME_other` of an
    /// `or_other` select, and the metadata pyxform adds.
    fn implicit(&self, name: &str) -> bool {
        if matches!(name, "instanceID" | "instanceName") {
            return true;
        }
        name.strip_suffix("_other").is_some_and(|base| {
            let mut all = Vec::new();
            flatten(&self.instrument.children, &mut all);
            all.iter()
                .any(|n| n.name == base && matches!(&n.kind, NodeKind::Question(q) if q.or_other))
        })
    }

    fn suggest_name(&self, name: &str) -> Option<String> {
        let mut all = Vec::new();
        flatten(&self.instrument.children, &mut all);
        super::xlsform::suggest(name, all.iter().map(|n| n.name.as_str()))
    }

    fn select_list(&mut self, node: &Node, list: &str, qtype: QuestionType) {
        let at = self.columns.survey_cell(node.row, "type");
        if list.contains("${") {
            // Choices from the answers of a repeat: the reference must exist.
            self.refs(list, at, "type".into());
            return;
        }
        let Some(found) = self.instrument.choices.get(list) else {
            let msg = if self.instrument.choices.is_empty() {
                format!("choice list '{list}' is not defined: the form has no choices sheet")
            } else {
                let hint = super::xlsform::suggest(
                    list,
                    self.instrument.choices.keys().map(String::as_str),
                )
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
                format!("choice list '{list}' is not on the choices sheet{hint}")
            };
            self.error(at, msg);
            return;
        };
        if qtype.is_multi() {
            for c in found.choices.iter().filter(|c| c.name.contains(' ')) {
                let at = self.columns.choices_cell(c.row, "name");
                self.error(
                    at,
                    format!(
                        "choice name '{}' in list '{list}' has a space, which {} cannot store (answers are separated by spaces)",
                        c.name,
                        if qtype == QuestionType::Rank { "rank" } else { "select_multiple" }
                    ),
                );
            }
        }
    }

    /// Cycles among calculations: `${a}` computed from `${b}` computed from `${a}`.
    fn cycles(&mut self, all: &[&Node]) {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in all.iter().enumerate() {
            by_name.entry(n.name.as_str()).or_default().push(i);
        }
        let edges: Vec<Vec<usize>> = all
            .iter()
            .map(|n| {
                let Some(calc) = &n.bind.calculation else {
                    return vec![];
                };
                let mut targets: Vec<usize> = references(calc)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|name| match by_name.get(name).map(Vec::as_slice) {
                        Some([one]) if all[*one].bind.calculation.is_some() => Some(*one),
                        _ => None,
                    })
                    .collect();
                targets.dedup();
                targets
            })
            .collect();
        for scc in strongly_connected(&edges) {
            let start = *scc.iter().min().unwrap_or(&0);
            let self_loop = edges[start].contains(&start);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let path = cycle_path(&edges, &scc, start);
            let names: Vec<String> =
                path.iter().map(|&i| format!("${{{}}}", all[i].name)).collect();
            let at = self.columns.survey_cell(all[start].row, "calculation");
            self.error(at, format!("calculation cycle: {}", names.join(" -> ")));
        }
    }

    /// A text given in some languages but not in others that the form uses
    /// for the same column: the enumerator working in that language would
    /// see nothing (or another language) there.
    fn translations(&mut self, all: &[&Node]) {
        let mut used: HashMap<&str, Vec<&str>> = HashMap::new();
        for node in all {
            for (key, text) in texts(node) {
                let langs = used.entry(key).or_default();
                for l in text.0.keys().filter(|l| !l.is_empty()) {
                    if !langs.contains(&l.as_str()) {
                        langs.push(l);
                    }
                }
            }
        }
        let choice_langs: Vec<&str> = {
            let mut v: Vec<&str> = Vec::new();
            for c in self.instrument.choices.values().flat_map(|l| &l.choices) {
                for l in c.label.0.keys().filter(|l| !l.is_empty()) {
                    if !v.contains(&l.as_str()) {
                        v.push(l);
                    }
                }
            }
            v
        };
        for node in all {
            for (key, text) in texts(node) {
                if !text.0.keys().any(|l| !l.is_empty()) {
                    continue;
                }
                for lang in used.get(key).map(Vec::as_slice).unwrap_or_default() {
                    if !text.0.contains_key(*lang) {
                        let at = self.columns.survey_cell(node.row, &format!("{key}::{lang}"));
                        let msg =
                            format!("{} '{}' has no {key} in {lang}", kind_word(node), node.name);
                        self.warning(at, msg);
                    }
                }
            }
        }
        for (list, cl) in &self.instrument.choices {
            for c in &cl.choices {
                if !c.label.0.keys().any(|l| !l.is_empty()) {
                    continue;
                }
                for lang in &choice_langs {
                    if !c.label.0.contains_key(*lang) {
                        let at = self.columns.choices_cell(c.row, &format!("label::{lang}"));
                        self.warning(
                            at,
                            format!("choice '{}' in list '{list}' has no label in {lang}", c.name),
                        );
                    }
                }
            }
        }
    }

    fn choices(&mut self) {
        let allow_dupes = self.instrument.settings.allow_choice_duplicates;
        for (list, cl) in &self.instrument.choices {
            let mut seen: HashMap<&str, u32> = HashMap::new();
            for c in &cl.choices {
                let at = self.columns.choices_cell(c.row, "name");
                if c.name.is_empty() {
                    self.error(at, format!("choice in list '{list}' has no name"));
                    continue;
                }
                if let Some(first) = seen.get(c.name.as_str()) {
                    if !allow_dupes {
                        self.error(
                            at,
                            format!(
                                "choice name '{}' is already used in list '{list}' (row {first}); use allow_choice_duplicates in settings if this is meant",
                                c.name
                            ),
                        );
                    }
                } else {
                    seen.insert(&c.name, c.row);
                }
                if c.label.is_empty() && c.media.is_empty() {
                    let at = self.columns.choices_cell(c.row, "label");
                    self.warning(at, format!("choice '{}' in list '{list}' has no label", c.name));
                }
                self.text_refs(c.row, "label", &c.label, true);
            }
        }
    }
}

/// The texts of a node that are translated, with their field keys.
fn texts(node: &Node) -> [(&'static str, &Text); 5] {
    [
        ("label", &node.label),
        ("hint", &node.hint),
        ("guidance_hint", &node.guidance_hint),
        ("required_message", &node.bind.required_message),
        ("constraint_message", &node.bind.constraint_message),
    ]
}

/// pyxform treats a default as an expression, evaluated when the form
/// opens, when it references, calls, filters or computes; a plain value such
/// as `2026-01-01` or `yes` is a literal.
fn is_dynamic_default(src: &str) -> bool {
    src.contains("${")
        || src.contains('(')
        || src.contains('[')
        || src.split_whitespace().any(|w| matches!(w, "+" | "*" | "div" | "mod"))
}

/// Tarjan's strongly connected components, iteratively (deep forms must
/// not overflow the stack).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX || edges[root].is_empty() {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(comp);
                }
            }
        }
    }
    out.sort_by_key(|c| c.iter().min().copied());
    out
}

/// A shortest cycle through `start` inside one component, start repeated at
/// the end: [a, b, a].
fn cycle_path(edges: &[Vec<usize>], scc: &[usize], start: usize) -> Vec<usize> {
    if edges[start].contains(&start) {
        return vec![start, start];
    }
    let inside: HashSet<usize> = scc.iter().copied().collect();
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if !inside.contains(&w) {
                continue;
            }
            if w == start {
                let mut back = Vec::new();
                let mut cur = v;
                while cur != start {
                    back.push(cur);
                    match prev.get(&cur) {
                        Some(&p) => cur = p,
                        None => break,
                    }
                }
                back.reverse();
                let mut path = vec![start];
                path.extend(back);
                path.push(start);
                return path;
            }
            if w != start && !prev.contains_key(&w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start, start]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_names() {
        assert!(is_xml_name("age"));
        assert!(is_xml_name("_a.b-c1"));
        assert!(is_xml_name("nome_do_município"));
        assert!(is_xml_name("odk:tag"));
        assert!(!is_xml_name("1st"));
        assert!(!is_xml_name("my name"));
        assert!(!is_xml_name("a/b"));
        assert!(!is_xml_name(""));
        assert!(!is_xml_name("a:b:c"));
    }

    fn question(name: &str, row: u32, qtype: QuestionType) -> Node {
        Node {
            name: name.into(),
            kind: NodeKind::Question(super::super::model::Question {
                qtype,
                list: None,
                file: None,
                or_other: false,
            }),
            row,
            label: Text::plain(name),
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
        }
    }

    fn instrument(children: Vec<Node>) -> Instrument {
        Instrument {
            model_version: super::super::model::MODEL_VERSION,
            form_id: "f".into(),
            version: String::new(),
            title: "f".into(),
            root_name: "data".into(),
            default_language: None,
            languages: vec![],
            settings: Default::default(),
            children,
            choices: BTreeMap::new(),
            files: BTreeMap::new(),
            osm: BTreeMap::new(),
            externals: BTreeMap::new(),
        }
    }

    #[test]
    fn without_columns_problems_name_the_row() {
        let mut a = question("a", 2, QuestionType::Integer);
        a.bind.relevant = Some("${b} > 1".into());
        let mut c = question("c", 3, QuestionType::Calculate);
        c.bind.calculation = Some("${c} + 1".into());
        let got: Vec<String> = validate(&instrument(vec![a, c]), &SourceColumns::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "survey!2:2: unknown reference ${b} in relevant",
                "survey!3:3: calculation cycle: ${c} -> ${c}",
            ]
        );
    }

    #[test]
    fn or_other_names_and_instance_id_are_known() {
        let mut q = question("q", 2, QuestionType::SelectOne);
        if let NodeKind::Question(qq) = &mut q.kind {
            qq.list = Some("l".into());
            qq.or_other = true;
        }
        let mut t = question("t", 3, QuestionType::Text);
        t.bind.relevant = Some("${q_other} != '' and ${instanceID} != ''".into());
        let mut i = instrument(vec![q, t]);
        i.choices.insert(
            "l".into(),
            super::super::model::ChoiceList {
                choices: vec![super::super::model::Choice {
                    name: "x".into(),
                    label: Text::plain("X"),
                    media: BTreeMap::new(),
                    extra: BTreeMap::new(),
                    row: 2,
                }],
            },
        );
        assert_eq!(validate(&i, &SourceColumns::default()), vec![]);
    }

    #[test]
    fn dynamic_defaults() {
        assert!(is_dynamic_default("${a} + 1"));
        assert!(is_dynamic_default("today()"));
        assert!(is_dynamic_default("3 * 4"));
        assert!(!is_dynamic_default("2026-01-01"));
        assert!(!is_dynamic_default("yes"));
    }

    #[test]
    fn cycles_are_found_and_named_in_order() {
        // 0 -> 1 -> 2 -> 0, and 3 -> 3, and 4 -> 0 (not in a cycle).
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let sccs: Vec<Vec<usize>> = strongly_connected(&edges)
            .into_iter()
            .filter(|c| c.len() > 1 || edges[c[0]].contains(&c[0]))
            .collect();
        assert_eq!(sccs.len(), 2);
        assert_eq!(cycle_path(&edges, &sccs[0], 0), [0, 1, 2, 0]);
        assert_eq!(cycle_path(&edges, &sccs[1], 3), [3, 3]);
    }
}
