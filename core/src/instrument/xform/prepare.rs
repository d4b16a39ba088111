//! The rewrites pyxform makes to a form before writing it, done on a copy of
//! the instrument so that the writer sees the same tree pyxform does:
//! - `or_other`: an `other` choice is added to the list and a `NAME_other`
//!   text question follows the select, relevant when `other` is selected;
//! - a `repeat_count` that is not a single `${name}` gets a calculate
//!   `REPEAT_count` just before the repeat, and the repeat counts that;
//! - audit questions move into the `meta` group, which is added last.

use std::collections::{BTreeMap, BTreeSet};

use crate::instrument::model::{
    Bind, Choice, ChoiceList, Instrument, Node, NodeKind, Question, QuestionType, Text,
};

/// Name of the group pyxform adds for instanceID and friends.
pub const META: &str = "meta";

/// The instrument as pyxform would see it (see the module docs). The `meta`
/// group is always the last top-level child.
pub fn prepare(instrument: &Instrument) -> Instrument {
    let mut out = instrument.clone();
    let mut audits = Vec::new();
    out.children = prepare_nodes(&instrument.children, &mut out.choices, &mut audits);
    let mut meta = new_node(META, NodeKind::Group);
    meta.children = audits;
    out.children.push(meta);
    out
}

fn prepare_nodes(
    nodes: &[Node],
    choices: &mut BTreeMap<String, ChoiceList>,
    audits: &mut Vec<Node>,
) -> Vec<Node> {
    let mut out = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        if node.question_type() == Some(QuestionType::Audit) {
            audits.push(node.clone());
            continue;
        }
        let mut node = node.clone();
        node.children = prepare_nodes(&node.children, choices, audits);
        if node.kind == NodeKind::Group {
            table_list(&mut node);
        }

        if let NodeKind::Repeat { count: Some(count) } = &mut node.kind
            && !is_single_reference(count)
        {
            let name = format!("{}_count", node.name);
            let mut calc = new_node(&name, NodeKind::Question(question(QuestionType::Calculate)));
            calc.row = node.row;
            calc.bind.calculation = Some(count.clone());
            calc.bind.readonly = Some("true()".into());
            *count = format!("${{{name}}}");
            out.push(calc);
        }

        let other = match &node.kind {
            NodeKind::Question(q)
                if q.or_other
                    && matches!(
                        q.qtype,
                        QuestionType::SelectOne | QuestionType::SelectMultiple
                    ) =>
            {
                q.list.clone()
            }
            _ => None,
        };
        let name = node.name.clone();
        let row = node.row;
        out.push(node);

        if let Some(list) = other {
            add_other_choice(choices, &list);
            let other_name = format!("{name}_other");
            // The importer may have added the question already.
            if nodes.get(i + 1).map(|n| n.name.as_str()) != Some(other_name.as_str()) {
                let mut q = new_node(&other_name, NodeKind::Question(question(QuestionType::Text)));
                q.row = row;
                q.label = Text::plain("Specify other.");
                // pyxform writes this relative path literally, wherever the
                // select sits.
                q.bind.relevant = Some(format!("selected(../{name}, 'other')"));
                out.push(q);
            }
        }
    }
    out
}

/// Adds the `other` choice to every list an `or_other` select uses (for
/// sessions, which fill what pyxform writes).
pub(crate) fn add_other_choices(inst: &mut Instrument) {
    fn lists(nodes: &[Node], out: &mut Vec<String>) {
        for n in nodes {
            if let NodeKind::Question(q) = &n.kind
                && q.or_other
                && matches!(q.qtype, QuestionType::SelectOne | QuestionType::SelectMultiple)
                && let Some(l) = &q.list
            {
                out.push(l.clone());
            }
            lists(&n.children, out);
        }
    }
    let mut used = Vec::new();
    lists(&inst.children, &mut used);
    for l in used {
        add_other_choice(&mut inst.choices, &l);
    }
}

/// Every `table-list` group rewritten as pyxform writes it (for sessions).
pub(crate) fn rewrite_table_lists(nodes: &mut [Node]) {
    for n in nodes {
        rewrite_table_lists(&mut n.children);
        if n.kind == NodeKind::Group {
            table_list(n);
        }
    }
}

/// A group with the `table-list` appearance becomes, as in pyxform, a
/// `field-list` whose label and hint move to a generated note, with a
/// generated select showing the choice labels once as a header row before
/// the first select, and every select shown without its choice labels.
fn table_list(group: &mut Node) {
    let Some(appearance) = &group.appearance else {
        return;
    };
    let tokens: Vec<&str> = appearance.split_whitespace().collect();
    if !tokens.contains(&"table-list") {
        return;
    }
    let rest: Vec<&str> = tokens.into_iter().filter(|t| *t != "table-list").collect();
    group.appearance =
        Some(std::iter::once("field-list").chain(rest).collect::<Vec<_>>().join(" "));
    let mut children = Vec::with_capacity(group.children.len() + 2);
    if !group.label.is_empty() || !group.hint.is_empty() {
        let name = format!("generated_table_list_label_{}", group.row);
        let mut note = new_node(&name, NodeKind::Question(question(QuestionType::Note)));
        note.row = group.row;
        note.label = std::mem::take(&mut group.label);
        note.hint = std::mem::take(&mut group.hint);
        children.push(note);
    }
    let mut header_done = false;
    for mut child in std::mem::take(&mut group.children) {
        let select = match &child.kind {
            NodeKind::Question(q)
                if matches!(q.qtype, QuestionType::SelectOne | QuestionType::SelectMultiple) =>
            {
                Some(q.clone())
            }
            _ => None,
        };
        if let Some(q) = select {
            if !header_done {
                header_done = true;
                let name = format!("reserved_name_for_field_list_labels_{}", child.row);
                let mut header =
                    new_node(&name, NodeKind::Question(Question { or_other: false, ..q }));
                header.row = child.row;
                header.label = Text::plain(" ");
                header.appearance = Some("label".into());
                children.push(header);
            }
            child.appearance = Some("list-nolabel".into());
        }
        children.push(child);
    }
    group.children = children;
}

/// Adds the `other` choice pyxform adds: labelled "Other" in every language
/// the list's labels use.
fn add_other_choice(choices: &mut BTreeMap<String, ChoiceList>, list: &str) {
    let Some(list) = choices.get_mut(list) else {
        return;
    };
    if list.choices.iter().any(|c| c.name == "other") {
        return;
    }
    let langs: BTreeSet<&String> = list
        .choices
        .iter()
        .filter(|c| is_translated(&c.label))
        .flat_map(|c| c.label.0.keys())
        .collect();
    let label = if langs.is_empty() {
        Text::plain("Other")
    } else {
        Text(langs.into_iter().map(|l| (l.clone(), "Other".to_string())).collect())
    };
    let row = list.choices.last().map_or(0, |c| c.row + 1);
    list.choices.push(Choice {
        name: "other".into(),
        label,
        media: BTreeMap::new(),
        extra: BTreeMap::new(),
        row,
    });
}

/// A text with at least one language-specific form (pyxform holds such a
/// text as a dict and writes it as itext).
pub fn is_translated(text: &Text) -> bool {
    text.0.keys().any(|k| !k.is_empty())
}

/// `${name}` and nothing else.
pub fn is_single_reference(src: &str) -> bool {
    let s = src.trim();
    s.strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(|name| !name.is_empty() && !name.contains(['{', '}', '$']))
}

fn question(qtype: QuestionType) -> Question {
    Question { qtype, list: None, file: None, or_other: false }
}

fn new_node(name: &str, kind: NodeKind) -> Node {
    Node {
        name: name.to_string(),
        kind,
        row: 0,
        label: Text::default(),
        hint: Text::default(),
        guidance_hint: Text::default(),
        media: BTreeMap::new(),
        bind: Bind::default(),
        appearance: None,
        parameters: BTreeMap::new(),
        pii: false,
        preload: false,
        extra: BTreeMap::new(),
        children: Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::instrument::model::MODEL_VERSION;

    pub fn q(name: &str, qtype: QuestionType) -> Node {
        new_node(name, NodeKind::Question(question(qtype)))
    }

    pub fn select(name: &str, qtype: QuestionType, list: &str) -> Node {
        let mut n = q(name, qtype);
        if let NodeKind::Question(q) = &mut n.kind {
            q.list = Some(list.into());
        }
        n
    }

    pub fn group(name: &str, repeat: bool, children: Vec<Node>) -> Node {
        let kind = if repeat { NodeKind::Repeat { count: None } } else { NodeKind::Group };
        let mut n = new_node(name, kind);
        n.children = children;
        n
    }

    pub fn choice(name: &str, label: Text) -> Choice {
        Choice { name: name.into(), label, media: BTreeMap::new(), extra: BTreeMap::new(), row: 2 }
    }

    pub fn instrument(children: Vec<Node>) -> Instrument {
        Instrument {
            model_version: MODEL_VERSION,
            form_id: "f".into(),
            version: String::new(),
            title: "F".into(),
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

    fn names(nodes: &[Node]) -> Vec<&str> {
        nodes.iter().map(|n| n.name.as_str()).collect()
    }

    #[test]
    fn or_other_adds_question_and_translated_choice() {
        let mut s = select("fav", QuestionType::SelectOne, "yn");
        if let NodeKind::Question(q) = &mut s.kind {
            q.or_other = true;
        }
        let mut inst = instrument(vec![s]);
        let mut yes = Text::default();
        yes.0.insert("English (en)".into(), "Yes".into());
        yes.0.insert("Português (pt)".into(), "Sim".into());
        inst.choices.insert("yn".into(), ChoiceList { choices: vec![choice("yes", yes)] });
        let out = prepare(&inst);
        assert_eq!(names(&out.children), ["fav", "fav_other", "meta"]);
        assert_eq!(out.children[1].bind.relevant.as_deref(), Some("selected(../fav, 'other')"));
        let other = &out.choices["yn"].choices[1];
        assert_eq!(other.name, "other");
        assert_eq!(other.label.0.len(), 2);
        assert!(other.label.0.values().all(|v| v == "Other"));
        // Idempotent: a second pass adds nothing.
        let again = prepare(&Instrument { children: out.children[..2].to_vec(), ..out.clone() });
        assert_eq!(names(&again.children), ["fav", "fav_other", "meta"]);
        assert_eq!(again.choices["yn"].choices.len(), 2);
    }

    #[test]
    fn table_list_groups_are_rewritten_as_pyxform_does() {
        let mut a = select("a", QuestionType::SelectOne, "yn");
        a.row = 3;
        let mut b = select("b", QuestionType::SelectOne, "yn");
        b.row = 4;
        let mut g = group("tbl", false, vec![a, b]);
        g.row = 2;
        g.label = Text::plain("Table");
        g.appearance = Some("table-list compact".into());
        let out = prepare(&instrument(vec![g]));
        let g = &out.children[0];
        assert_eq!(g.appearance.as_deref(), Some("field-list compact"));
        assert!(g.label.is_empty());
        assert_eq!(
            names(&g.children),
            ["generated_table_list_label_2", "reserved_name_for_field_list_labels_3", "a", "b"]
        );
        assert_eq!(g.children[0].label, Text::plain("Table"));
        assert_eq!(g.children[1].appearance.as_deref(), Some("label"));
        assert_eq!(g.children[2].appearance.as_deref(), Some("list-nolabel"));
    }

    #[test]
    fn repeat_count_expression_gets_a_calculate_and_audit_moves_to_meta() {
        let mut rep = group("hh", true, vec![q("n", QuestionType::Text)]);
        rep.kind = NodeKind::Repeat { count: Some("${a} + 1".into()) };
        let mut simple = group("kids", true, vec![]);
        simple.kind = NodeKind::Repeat { count: Some(" ${a} ".into()) };
        let inst = instrument(vec![
            q("audit", QuestionType::Audit),
            q("a", QuestionType::Integer),
            rep,
            simple,
        ]);
        let out = prepare(&inst);
        assert_eq!(names(&out.children), ["a", "hh_count", "hh", "kids", "meta"]);
        assert_eq!(out.children[1].bind.calculation.as_deref(), Some("${a} + 1"));
        assert_eq!(out.children[2].kind, NodeKind::Repeat { count: Some("${hh_count}".into()) });
        assert_eq!(out.children[3].kind, NodeKind::Repeat { count: Some(" ${a} ".into()) });
        assert_eq!(names(&out.children[4].children), ["audit"]);
    }
}
