//! Undoing what pyxform (and the XForm writer, which follows it) does to a
//! form on the way to an XForm (xform/prepare.rs), so that the instrument
//! read back is the one the XLSForm gave:
//! - `or_other`: the `other` choice added to the list and the
//!   `NAME_other` text question after the select;
//! - a `repeat_count` that is not a single reference: the `NAME_count`
//!   calculate before the repeat;
//! - `table-list`: the generated label note and header select, and the
//!   `list-nolabel` appearance of the group's selects.
//!
//! Then the lists written in the body (`search()` selects, OSM tags) become
//! choice lists, and rows are numbered.

use std::collections::BTreeMap;

use crate::instrument::model::{
    Choice, ChoiceList, Instrument, Node, NodeKind, QuestionType, Text,
};

pub(super) fn undo(inst: &mut Instrument) {
    let mut other_lists = Vec::new();
    undo_nodes(&mut inst.children, &mut other_lists);
    for list in other_lists {
        let Some(l) = inst.choices.get_mut(&list) else { continue };
        let added = l.choices.last().is_some_and(|c| {
            c.name == "other" && !c.label.is_empty() && c.label.0.values().all(|v| v == "Other")
        });
        if added {
            l.choices.pop();
        }
    }
}

fn undo_nodes(nodes: &mut Vec<Node>, other_lists: &mut Vec<String>) {
    for n in nodes.iter_mut() {
        undo_nodes(&mut n.children, other_lists);
    }
    // or_other: a select followed by `NAME_other`, relevant when `other`
    // is selected, labelled as pyxform labels it.
    let mut i = 0;
    while i + 1 < nodes.len() {
        let name = nodes[i].name.clone();
        let is_select = matches!(
            nodes[i].question_type(),
            Some(QuestionType::SelectOne | QuestionType::SelectMultiple)
        );
        let next = &nodes[i + 1];
        let generated = next.name == format!("{name}_other")
            && next.question_type() == Some(QuestionType::Text)
            && next.label == Text::plain("Specify other.")
            && next.bind.relevant.as_deref().map(compact)
                == Some(compact(&format!("selected(../{name}, 'other')")));
        if is_select && generated {
            if let NodeKind::Question(q) = &mut nodes[i].kind {
                q.or_other = true;
                if let Some(l) = &q.list {
                    other_lists.push(l.clone());
                }
            }
            nodes.remove(i + 1);
        }
        i += 1;
    }
    // repeat_count: `NAME_count` (read-only calculate) just before the repeat.
    let mut i = 0;
    while i + 1 < nodes.len() {
        let rep = nodes[i + 1].name.clone();
        let counted = matches!(&nodes[i + 1].kind, NodeKind::Repeat { count: Some(c) }
            if c.trim().ends_with(&format!("/{rep}_count")) || c.trim() == format!("{rep}_count"));
        let calc = &nodes[i];
        if counted
            && calc.name == format!("{rep}_count")
            && calc.question_type() == Some(QuestionType::Calculate)
            && calc.bind.readonly.as_deref().map(str::trim) == Some("true()")
        {
            let expr = calc.bind.calculation.clone().unwrap_or_default();
            nodes[i + 1].kind = NodeKind::Repeat { count: Some(format!("\u{0}{expr}")) };
            nodes.remove(i);
            continue;
        }
        i += 1;
    }
    for n in nodes.iter_mut() {
        table_list(n);
    }
}

fn compact(s: &str) -> String {
    s.split_whitespace().collect()
}

/// A `field-list` group holding pyxform's generated table-list label and
/// header: back to `table-list`.
fn table_list(group: &mut Node) {
    if group.kind != NodeKind::Group {
        return;
    }
    let has_header = group.children.iter().any(|c| {
        c.name.starts_with("reserved_name_for_field_list_labels_")
            && c.appearance.as_deref() == Some("label")
    });
    if !has_header {
        return;
    }
    let Some(appearance) = &group.appearance else { return };
    let rest: Vec<&str> = appearance.split_whitespace().filter(|t| *t != "field-list").collect();
    group.appearance =
        Some(std::iter::once("table-list").chain(rest).collect::<Vec<_>>().join(" "));
    let mut children = Vec::new();
    // The generated names carry the rows pyxform read them from: the
    // group's, and its first select's (a session makes the same names).
    let row_of =
        |name: &str, prefix: &str| name.strip_prefix(prefix).and_then(|r| r.parse::<u32>().ok());
    let mut header_row = None;
    for mut c in std::mem::take(&mut group.children) {
        if c.name.starts_with("generated_table_list_label_")
            && c.question_type() == Some(QuestionType::Note)
        {
            group.row = row_of(&c.name, "generated_table_list_label_").unwrap_or(group.row);
            group.label = c.label;
            group.hint = c.hint;
            continue;
        }
        if c.name.starts_with("reserved_name_for_field_list_labels_") {
            header_row = row_of(&c.name, "reserved_name_for_field_list_labels_");
            continue;
        }
        if let (Some(r), true) =
            (header_row.take(), c.appearance.as_deref() == Some("list-nolabel"))
        {
            c.row = r;
        }
        if c.appearance.as_deref() == Some("list-nolabel") {
            c.appearance = None;
        }
        children.push(c);
    }
    group.children = children;
}

/// Lists written in the body: the choices of a `search()` select, the tags
/// of an `osm` question.
pub(super) fn gather_inline_lists(inst: &mut Instrument) {
    let mut lists: BTreeMap<String, ChoiceList> = BTreeMap::new();
    let mut osm: BTreeMap<String, ChoiceList> = BTreeMap::new();
    gather(&mut inst.children, &mut lists, &mut osm);
    for (name, list) in lists {
        inst.choices.entry(name).or_insert(list);
    }
    for (name, list) in osm {
        inst.osm.entry(name).or_insert(list);
    }
}

fn gather(
    nodes: &mut [Node],
    lists: &mut BTreeMap<String, ChoiceList>,
    osm: &mut BTreeMap<String, ChoiceList>,
) {
    for n in nodes.iter_mut() {
        gather(&mut n.children, lists, osm);
        let keys: Vec<String> =
            n.extra.keys().filter(|k| k.starts_with('\u{0}')).cloned().collect();
        if keys.is_empty() {
            continue;
        }
        let list_name = match &n.kind {
            NodeKind::Question(q) => q.list.clone().unwrap_or_else(|| n.name.clone()),
            _ => n.name.clone(),
        };
        let mut items = Vec::new();
        let mut tags = Vec::new();
        for k in keys {
            let v = n.extra.remove(&k).unwrap_or_default();
            if let Some(value) = k.strip_prefix("\u{0}inline:") {
                let value = value.split_once(':').map_or(value, |(_, v)| v);
                let (label, media): (Text, BTreeMap<String, Text>) =
                    serde_json::from_str(&v).unwrap_or_default();
                items.push(choice(value, label, media));
            } else if let Some(key) = k.strip_prefix("\u{0}tag:") {
                let label: Text = serde_json::from_str(&v).unwrap_or_default();
                tags.push(choice(key, label, BTreeMap::new()));
            }
        }
        if !items.is_empty() {
            lists.entry(list_name.clone()).or_insert(ChoiceList { choices: items });
        }
        if !tags.is_empty() {
            osm.entry(list_name).or_insert(ChoiceList { choices: tags });
        }
    }
}

fn choice(name: &str, label: Text, media: BTreeMap<String, Text>) -> Choice {
    Choice { name: name.to_string(), label, media, extra: BTreeMap::new(), row: 0 }
}

/// Rows as a compact XLSForm would have them: the header is row 1, every
/// element a row and every group or repeat an end row too; choices in list
/// order. Rows only place messages; they are not part of the hash.
pub(super) fn number_rows(inst: &mut Instrument) {
    let mut row = 1;
    number(&mut inst.children, &mut row);
    let mut row = 1;
    for list in inst.choices.values_mut() {
        for c in &mut list.choices {
            row += 1;
            c.row = row;
        }
    }
}

fn number(nodes: &mut [Node], row: &mut u32) {
    for n in nodes {
        *row += 1;
        // A row an XForm names (table-list's generated names) is kept.
        if n.row == 0 {
            n.row = *row;
        }
        if n.is_container() {
            number(&mut n.children, row);
            *row += 1;
        }
    }
}
