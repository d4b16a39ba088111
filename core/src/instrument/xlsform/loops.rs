//! `begin loop over LIST`: pyxform's loop, a group holding one group per
//! choice of LIST (named and labelled as the choice), each with a copy of
//! the loop's rows in which `%(name)s` and `%(label)s` stand for the
//! choice's name and label (`builder.py`, `_create_loop_from_dict`). A
//! choice named `none` is left out, as pyxform leaves it out.

use std::collections::BTreeMap;

use super::survey::LOOP_MARK;
use crate::instrument::model::{ChoiceList, Node, NodeKind, Text};
use crate::instrument::{Diagnostic, Location};

/// Replaces every loop group in `nodes` (at any depth) by its expansion.
pub(crate) fn expand(
    nodes: &mut [Node],
    lists: &BTreeMap<String, ChoiceList>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for node in nodes.iter_mut() {
        expand(&mut node.children, lists, diagnostics);
        let Some(list_name) = node.extra.remove(LOOP_MARK) else { continue };
        let Some(list) = lists.get(&list_name) else {
            diagnostics.push(Diagnostic::error(
                Location::row("survey", node.row),
                format!(
                    "loop '{}' is over list '{list_name}', which the choices sheet does not have",
                    node.name
                ),
            ));
            node.children.clear();
            continue;
        };
        let body = std::mem::take(&mut node.children);
        for choice in list.choices.iter().filter(|c| c.name != "none") {
            let mut group = Node {
                name: choice.name.clone(),
                kind: NodeKind::Group,
                row: node.row,
                label: choice.label.clone(),
                hint: Text::default(),
                guidance_hint: Text::default(),
                media: choice.media.clone(),
                bind: Default::default(),
                appearance: None,
                parameters: BTreeMap::new(),
                pii: false,
                preload: false,
                extra: BTreeMap::new(),
                children: Vec::new(),
            };
            for child in &body {
                let mut copy = child.clone();
                substitute(&mut copy, &choice.name, &choice.label);
                group.children.push(copy);
            }
            node.children.push(group);
        }
    }
}

/// `%(name)s` and `%(label)s` in every text of `node` and its children; a
/// label in a language uses the choice's label in that language.
fn substitute(node: &mut Node, name: &str, label: &Text) {
    let plain = label.get(None, None).unwrap_or(name).to_string();
    let fill = |s: &mut String, lang: Option<&str>| {
        if !s.contains("%(") {
            return;
        }
        let l = lang.and_then(|l| label.0.get(l)).map_or(plain.as_str(), String::as_str);
        *s = s.replace("%(name)s", name).replace("%(label)s", l);
    };
    let fill_text = |t: &mut Text| {
        for (lang, s) in t.0.iter_mut() {
            fill(s, (!lang.is_empty()).then_some(lang.as_str()));
        }
    };
    fill(&mut node.name, None);
    fill_text(&mut node.label);
    fill_text(&mut node.hint);
    fill_text(&mut node.guidance_hint);
    fill_text(&mut node.bind.constraint_message);
    fill_text(&mut node.bind.required_message);
    for media in node.media.values_mut() {
        fill_text(media);
    }
    let b = &mut node.bind;
    for e in [
        &mut b.relevant,
        &mut b.required,
        &mut b.constraint,
        &mut b.calculation,
        &mut b.default,
        &mut b.readonly,
        &mut b.choice_filter,
        &mut b.trigger,
    ]
    .into_iter()
    .flatten()
    {
        fill(e, None);
    }
    if let Some(a) = &mut node.appearance {
        fill(a, None);
    }
    for v in node.extra.values_mut() {
        fill(v, None);
    }
    for child in &mut node.children {
        substitute(child, name, label);
    }
}
