//! What a session shows: the state of every leaf and container (as ODK's
//! engine reports it), the options of selects, labels with `${name}` filled
//! in, and what stands between the response and finalizing.

use serde::Serialize;

use crate::expr::{Context, Expr};
use crate::instrument::{QuestionType, Text};

use super::Session;
use super::form::{MetaField, TplKind};
use super::tree::NodeId;

/// One question (or calculate, note, metadata) as it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeafState {
    #[serde(rename = "ref")]
    pub reference: String,
    /// The question type (`integer`, `select_one`, ...); `meta` for meta fields.
    #[serde(rename = "type")]
    pub qtype: String,
    pub relevant: bool,
    pub required: bool,
    pub readonly: bool,
    /// ODK's string value; empty while non-relevant.
    pub value: String,
    pub constraint_valid: bool,
    pub required_valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Current choice values of a select (after choice_filter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// The constraint or required message in the current language, when violated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violation_message: Option<String>,
}

/// A group, a repeat (range) or one repeat instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerState {
    #[serde(rename = "ref")]
    pub reference: String,
    /// `root`, `group`, `repeat-range:controlled`, `repeat-range:uncontrolled`, `repeat-instance`.
    #[serde(rename = "type")]
    pub kind: String,
    pub relevant: bool,
    pub readonly: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<usize>,
}

/// Something that keeps a response from being finalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    Required {
        #[serde(rename = "ref")]
        reference: String,
        message: String,
    },
    Constraint {
        #[serde(rename = "ref")]
        reference: String,
        message: String,
    },
}

/// A choice as the enumerator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

impl Session {
    /// Every leaf in document order.
    pub fn leaves(&self) -> Vec<LeafState> {
        self.tree
            .walk()
            .into_iter()
            .filter(|&n| self.is_reported_leaf(n))
            .map(|n| self.leaf_state(n))
            .collect()
    }

    fn is_reported_leaf(&self, n: NodeId) -> bool {
        let t = self.form.template(self.tree.node(n).tpl);
        match t.kind {
            TplKind::Leaf(_) => true,
            TplKind::Meta(MetaField::Group) => false,
            TplKind::Meta(MetaField::DeprecatedId) => !self.tree.node(n).value.is_empty(),
            TplKind::Meta(_) => true,
            _ => false,
        }
    }

    pub fn leaf_state(&self, n: NodeId) -> LeafState {
        let node = self.tree.node(n);
        let t = self.form.template(node.tpl);
        let qtype = match t.kind {
            TplKind::Leaf(q) => type_name(q),
            _ => "meta".to_string(),
        };
        let required_valid = !(node.relevant && node.required && node.value.is_empty());
        let violation_message = if !node.constraint_valid {
            Some(self.constraint_message(n))
        } else if !required_valid {
            Some(self.required_message(n))
        } else {
            None
        };
        let options = t
            .qtype()
            .filter(|q| q.is_select())
            .map(|_| self.options_of(n).into_iter().map(|o| o.value).collect());
        LeafState {
            reference: self.tree.reference(&self.form, n),
            qtype,
            relevant: node.relevant,
            required: node.required,
            readonly: node.readonly
                || (matches!(t.kind, TplKind::Meta(MetaField::InstanceId))
                    && self.form.instrument.settings.instance_id_readonly()),
            value: node.effective().to_string(),
            constraint_valid: node.constraint_valid,
            required_valid,
            label: t.label().map(|l| self.render(l, n)),
            options,
            violation_message,
        }
    }

    /// Groups, repeat ranges and instances in document order.
    pub fn containers(&self) -> Vec<ContainerState> {
        let mut out = Vec::new();
        for n in self.tree.walk() {
            let node = self.tree.node(n);
            let t = self.form.template(node.tpl);
            let label = t.label().map(|l| self.render(l, n));
            let kind = match t.kind {
                TplKind::Root => "root",
                TplKind::Group | TplKind::Meta(MetaField::Group) => "group",
                TplKind::Repeat => "repeat-instance",
                _ => continue,
            };
            // A repeat range is reported before its first instance; ranges
            // with no instance are reported from the parent's turn.
            if t.kind == TplKind::Repeat && self.tree.position(n) == 1 {
                out.push(self.range_state(node.parent.unwrap_or(0), node.tpl));
            }
            out.push(ContainerState {
                reference: self.tree.reference(&self.form, n),
                kind: kind.to_string(),
                relevant: node.relevant,
                readonly: node.readonly,
                label,
                instance_count: None,
            });
            for &c in &t.children {
                let ct = self.form.template(c);
                if ct.kind == TplKind::Repeat && self.tree.instances(n, c).is_empty() {
                    out.push(self.range_state(n, c));
                }
            }
        }
        out
    }

    fn range_state(&self, parent: NodeId, tpl: usize) -> ContainerState {
        let t = self.form.template(tpl);
        let p = self.tree.node(parent);
        let count = self.tree.instances(parent, tpl).len();
        let controlled = t.logic.repeat_count.is_some();
        ContainerState {
            reference: format!("{}/{}", self.tree.reference(&self.form, parent), t.name),
            kind: if controlled { "repeat-range:controlled" } else { "repeat-range:uncontrolled" }
                .to_string(),
            relevant: p.relevant && self.eval_bool(t.logic.relevant.as_ref(), parent, true),
            readonly: p.readonly,
            label: t.label().map(|l| self.render(l, parent)),
            instance_count: Some(count),
        }
    }

    /// The current choices of a select node (choice_filter applied), with
    /// labels in the current language.
    pub fn options_of(&self, n: NodeId) -> Vec<ChoiceOption> {
        let t = self.form.template(self.tree.node(n).tpl);
        let mut out = self.listed_options(n);
        if let Some(seed) = &t.logic.randomize_seed {
            let seed = self.eval_string(seed, n);
            let order = crate::expr::seeded_order(out.len(), &seed);
            let mut slots: Vec<Option<ChoiceOption>> = out.into_iter().map(Some).collect();
            out =
                order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect();
        }
        out
    }

    /// The choices of a select node in the order of their list.
    fn listed_options(&self, n: NodeId) -> Vec<ChoiceOption> {
        let t = self.form.template(self.tree.node(n).tpl);
        let lang = self.language.as_deref();
        let default_lang = self.form.instrument.default_language.as_deref();
        let filter = t.logic.choice_filter.as_ref();
        let Some(q) = t.node.as_ref().and_then(|node| match &node.kind {
            crate::instrument::NodeKind::Question(q) => Some(q),
            _ => None,
        }) else {
            return vec![];
        };
        let mut out = Vec::new();
        if let Some(source) = &t.logic.choices_from {
            // Choices from a repeat's answers: each non-empty one, value
            // and label alike, in document order (pyxform's itemset).
            let nodes = self.with_evaluator(n, |ev| {
                ev.eval_nodes(source, &Context::new(super::doc::xid(n))).unwrap_or_default()
            });
            for x in nodes {
                let Some(id) = super::doc::tree_node(x) else { continue };
                let v = self.tree.node(id).effective();
                if !v.is_empty() {
                    out.push(ChoiceOption { value: v.to_string(), label: v.to_string() });
                }
            }
        } else if let Some(list) = &q.list {
            let Some(choices) = self.form.instrument.choices.get(list) else {
                return vec![];
            };
            let items = self.form.secondary.roots.get(list).copied();
            for (i, c) in choices.choices.iter().enumerate() {
                if let (Some(f), Some(doc_root)) = (filter, items)
                    && !self.item_passes(f, n, doc_root, i, choices.choices.len())
                {
                    continue;
                }
                out.push(ChoiceOption {
                    value: c.name.clone(),
                    label: c.label.as_odk_shows(lang, default_lang).unwrap_or(&c.name).to_string(),
                });
            }
        } else if let Some(file) = &q.file {
            let id = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);
            let node = t.node.as_ref();
            // A GeoJSON feature's value is its id and its label its title.
            let (value_default, label_default) = if file.to_ascii_lowercase().ends_with(".geojson")
            {
                ("id", "title")
            } else {
                ("name", "label")
            };
            let value_col =
                node.and_then(|n| n.parameters.get("value")).map_or(value_default, String::as_str);
            let label_col =
                node.and_then(|n| n.parameters.get("label")).map_or(label_default, String::as_str);
            let items = self.form.secondary.items(id);
            let doc_root = self.form.secondary.roots.get(id).copied();
            for (i, item) in items.iter().enumerate() {
                if let (Some(f), Some(root)) = (filter, doc_root)
                    && !self.item_passes(f, n, root, i, items.len())
                {
                    continue;
                }
                let value = item.get(value_col).copied().unwrap_or_default().to_string();
                let label = item.get(label_col).copied().unwrap_or(value.as_str()).to_string();
                out.push(ChoiceOption { value, label });
            }
        }
        out
    }

    /// Whether item `index` of the secondary instance rooted at `doc_root`
    /// passes `filter`, with `current()` the select node.
    fn item_passes(
        &self,
        filter: &Expr,
        n: NodeId,
        doc_root: usize,
        index: usize,
        size: usize,
    ) -> bool {
        let sec = &self.form.secondary;
        let Some(root) = sec.nodes[doc_root].first_child else {
            return false;
        };
        let mut item = sec.nodes[root].first_child;
        for _ in 0..index {
            item = item.and_then(|i| sec.nodes[i].next);
        }
        let Some(item) = item else { return false };
        let item_id = crate::expr::NodeId(item as u64 | (1 << 63));
        self.with_evaluator(n, |ev| {
            ev.eval_bool(filter, &Context { node: item_id, position: index + 1, size })
                .unwrap_or(false)
        })
    }

    /// A text in the current language as ODK shows it: every `${name}`
    /// replaced by that question's value (as seen from node `n`), and every
    /// `instance('list')/root/item[...]/label` expression (which pyxform
    /// turns into an `<output>`) by its value.
    pub fn render(&self, text: &Text, n: NodeId) -> String {
        let default_lang = self.form.instrument.default_language.as_deref();
        let raw = text.as_odk_shows(self.language.as_deref(), default_lang).unwrap_or_default();
        if !raw.contains("${") && !raw.contains("instance(") {
            return raw.to_string();
        }
        let tpl_path = &self.form.template(self.tree.node(n).tpl).path;
        let ctx = element_path(&self.form, tpl_path);
        let value_of = |src: &str| {
            self.form
                .paths
                .expand(src, &ctx)
                .ok()
                .and_then(|src| crate::expr::parse(&src).ok())
                .map(|e| self.eval_string(&e, n))
                .unwrap_or_default()
        };
        let mut out = String::new();
        let mut pos = 0;
        for (start, end) in crate::instrument::xform::instance_expressions(raw) {
            self.render_references(&raw[pos..start], &value_of, &mut out);
            out.push_str(&value_of(&raw[start..end]));
            pos = end;
        }
        self.render_references(&raw[pos..], &value_of, &mut out);
        out
    }

    /// `text` with each `${name}` replaced by its value.
    fn render_references(&self, text: &str, value_of: &dyn Fn(&str) -> String, out: &mut String) {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return;
            };
            out.push_str(&value_of(&rest[start..start + end + 1]));
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
    }

    fn constraint_message(&self, n: NodeId) -> String {
        if let Some(e) = self.logic_failure(n) {
            return e;
        }
        let t = self.form.template(self.tree.node(n).tpl);
        match t.bind().map(|b| &b.constraint_message).filter(|m| !m.is_empty()) {
            Some(m) => self.render(&message_as_written(m, &self.form.instrument), n),
            None => "Value not allowed".to_string(),
        }
    }

    fn required_message(&self, n: NodeId) -> String {
        if let Some(e) = self.logic_failure(n) {
            return e;
        }
        let t = self.form.template(self.tree.node(n).tpl);
        match t.bind().map(|b| &b.required_message).filter(|m| !m.is_empty()) {
            Some(m) => self.render(&message_as_written(m, &self.form.instrument), n),
            None => "This field is required.".to_string(),
        }
    }

    /// The message for a constraint or required expression that could not
    /// be evaluated: the enumerator cannot fix it, the form's author can.
    fn logic_failure(&self, n: NodeId) -> Option<String> {
        self.tree.node(n).logic_error.as_ref().map(|e| {
            format!(
                "this answer cannot be checked, so it is not accepted: the form's rule \
                 fails ({e}); tell the form's author"
            )
        })
    }

    /// Everything that blocks finalizing: required questions left empty and
    /// constraint violations, with their messages in the current language.
    pub fn blockers(&self) -> Vec<Blocker> {
        let mut out = Vec::new();
        for n in self.tree.walk() {
            let node = self.tree.node(n);
            if !node.relevant || !self.form.template(node.tpl).is_leaf() {
                continue;
            }
            if !node.constraint_valid {
                out.push(Blocker::Constraint {
                    reference: self.tree.reference(&self.form, n),
                    message: self.constraint_message(n),
                });
            } else if node.required && node.value.is_empty() {
                out.push(Blocker::Required {
                    reference: self.tree.reference(&self.form, n),
                    message: self.required_message(n),
                });
            }
        }
        out
    }

    /// Every stored answer (non-relevant ones too, since they come back),
    /// as (reference, value): what a draft must keep to be restored.
    pub fn answers(&self) -> Vec<(String, String)> {
        self.tree
            .walk()
            .into_iter()
            .filter(|&n| {
                let t = self.form.template(self.tree.node(n).tpl);
                matches!(t.kind, TplKind::Leaf(_)) && !self.tree.node(n).value.is_empty()
            })
            .map(|n| (self.tree.reference(&self.form, n), self.tree.node(n).value.clone()))
            .collect()
    }
}

/// A constraint or required message as pyxform writes it: one that shows an
/// answer (`${name}`) goes to itext even when only its unsuffixed form is
/// given, so in a form with languages it is the default language's text
/// (and `-` in the others), like a translated one.
fn message_as_written(m: &Text, inst: &crate::instrument::Instrument) -> Text {
    let plain_with_output =
        !m.0.keys().any(|k| !k.is_empty()) && m.0.values().any(|v| v.contains("${"));
    if !plain_with_output || inst.languages.is_empty() {
        return m.clone();
    }
    let default = inst.default_language.clone().unwrap_or_else(|| "default".into());
    let mut t = Text::default();
    t.0.insert(default, m.0.get("").cloned().unwrap_or_default());
    t
}

/// The question type as XLSForm writes it.
pub fn type_name(q: QuestionType) -> String {
    serde_json::to_value(q).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The `ElementPath` of a template path, for `${}` expansion.
fn element_path(form: &super::Form, path: &str) -> crate::instrument::paths::ElementPath {
    let segments: Vec<String> =
        path.trim_start_matches('/').split('/').map(str::to_string).collect();
    let mut repeat = Vec::with_capacity(segments.len());
    let mut prefix = String::new();
    for s in &segments {
        prefix.push('/');
        prefix.push_str(s);
        let is_repeat =
            form.by_path.get(&prefix).is_some_and(|&t| form.template(t).kind == TplKind::Repeat);
        repeat.push(is_repeat);
    }
    crate::instrument::paths::ElementPath { segments, repeat }
}
