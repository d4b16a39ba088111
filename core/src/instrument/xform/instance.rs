//! The primary instance (the submission's empty tree, with repeat templates
//! and static defaults) and the secondary instances (choice lists, CSV
//! files) of the model.

use std::collections::HashSet;

use super::body::search_list;
use super::xml::{Element, is_ncname};
use super::{Writer, binds::default_is_dynamic, child_path};
use crate::instrument::model::{Node, NodeKind};
use crate::instrument::paths::ElementPath;

impl Writer<'_> {
    // ---- the primary instance -----------------------------------------------

    pub(super) fn primary_instance(&self, root: &ElementPath) -> Element {
        let mut el =
            Element::new(self.inst.root_name.as_str()).attr("id", self.inst.form_id.as_str());
        if !self.inst.version.is_empty() {
            el.set("version", self.inst.version.as_str());
        }
        for child in self.instance_nodes(&self.inst.children, root, false) {
            el.push(child);
        }
        el
    }

    /// pyxform writes each repeat as its template (`jr:template=""`) followed
    /// by one instance, except inside a repeat instance, where nested
    /// repeats get only the instance.
    pub(super) fn instance_nodes(
        &self,
        nodes: &[Node],
        parent: &ElementPath,
        in_repeat_instance: bool,
    ) -> Vec<Element> {
        let mut out = Vec::new();
        for node in nodes {
            let ctx = child_path(parent, node);
            match &node.kind {
                NodeKind::Repeat { .. } => {
                    if !in_repeat_instance {
                        out.push(self.template(node, &ctx));
                    }
                    out.push(self.section(node, &ctx, true));
                }
                NodeKind::Group => out.push(self.section(node, &ctx, in_repeat_instance)),
                NodeKind::Question(_) => out.push(self.leaf(node, &ctx)),
            }
        }
        out
    }

    pub(super) fn section(
        &self,
        node: &Node,
        ctx: &ElementPath,
        in_repeat_instance: bool,
    ) -> Element {
        let mut el = self.instance_element(node, ctx);
        for child in self.instance_nodes(&node.children, ctx, in_repeat_instance) {
            el.push(child);
        }
        if self.is_meta(node) {
            el.push(Element::new("instanceID"));
            if self.inst.settings.instance_name.is_some() {
                el.push(Element::new("instanceName"));
            }
        }
        el
    }

    pub(super) fn template(&self, node: &Node, ctx: &ElementPath) -> Element {
        let mut el = self.instance_element(node, ctx).attr("jr:template", "");
        for child in &node.children {
            let child_ctx = child_path(ctx, child);
            el.push(match &child.kind {
                NodeKind::Repeat { .. } => self.template(child, &child_ctx),
                NodeKind::Group => self.section(child, &child_ctx, false),
                NodeKind::Question(_) => self.leaf(child, &child_ctx),
            });
        }
        el
    }

    pub(super) fn leaf(&self, node: &Node, ctx: &ElementPath) -> Element {
        let el = self.instance_element(node, ctx);
        match &node.bind.default {
            Some(d) if !default_is_dynamic(d, node.question_type()) => el.text(d.as_str()),
            _ => el,
        }
    }

    /// The element with its `instance::X` attributes. A reference that does
    /// not resolve is left as written (validation reports it).
    pub(super) fn instance_element(&self, node: &Node, ctx: &ElementPath) -> Element {
        let mut el = Element::new(node.name.as_str());
        for (column, value) in &node.extra {
            if let Some(attr) = column.strip_prefix("instance::").filter(|a| self.declared(a)) {
                let value = self.index.expand_padded(value, ctx).unwrap_or_else(|_| value.clone());
                el.set(attr, value);
            }
        }
        el
    }

    // ---- secondary instances ----------------------------------------------

    pub(super) fn secondary_instances(&self) -> Vec<Element> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut externals = Vec::new();
        collect_external(&self.inst.children, &mut externals);
        for (id, file) in &self.inst.externals {
            let src = if file.ends_with(".csv") {
                format!("jr://file-csv/{file}")
            } else {
                format!("jr://file/{file}")
            };
            externals.push((id.clone(), src));
        }
        for (id, src) in externals {
            if seen.insert(id.clone()) {
                out.push(Element::new("instance").attr("id", id).attr("src", src));
            }
        }
        let (search, other) = list_users(&self.inst.children);
        for (list_name, list) in &self.inst.choices {
            // A list only search() selects use lives in the body instead.
            if search.contains(list_name.as_str()) && !other.contains(list_name.as_str()) {
                continue;
            }
            if !seen.insert(list_name.clone()) {
                continue;
            }
            let itext = self.itext_lists.contains(list_name);
            let mut root = Element::new("root");
            for (i, choice) in list.choices.iter().enumerate() {
                let mut item = Element::new("item");
                if itext {
                    item.push(Element::new("itextId").text(format!("{list_name}-{i}")));
                }
                item.push(Element::new("name").text(choice.name.as_str()));
                if !itext && let Some(label) = choice.label.0.get("") {
                    item.push(Element::new("label").text(label.as_str()));
                }
                for (k, v) in &choice.extra {
                    if !v.is_empty() && is_ncname(k) {
                        item.push(Element::new(k.as_str()).text(v.as_str()));
                    }
                }
                root.push(item);
            }
            out.push(Element::new("instance").attr("id", list_name.as_str()).child(root));
        }
        out
    }
}

/// `select_*_from_file` files and `pulldata('file', ...)` calls become
/// external secondary instances, in form order.
pub(super) fn collect_external(nodes: &[Node], out: &mut Vec<(String, String)>) {
    for node in nodes {
        let b = &node.bind;
        // pyxform reads these columns (and the choice filter and default) for
        // pulldata() calls.
        let exprs = [
            &b.calculation,
            &b.constraint,
            &b.readonly,
            &b.required,
            &b.relevant,
            &b.choice_filter,
            &b.default,
        ];
        for e in exprs.into_iter().flatten() {
            for file in pulldata_files(e) {
                out.push((file.clone(), format!("jr://file-csv/{file}.csv")));
            }
        }
        if let NodeKind::Question(q) = &node.kind
            && let Some(file) = &q.file
        {
            let stem = file_stem(file);
            let src = match file.rsplit_once('.').map(|(_, e)| e) {
                Some("csv") => format!("jr://file-csv/{file}"),
                _ => format!("jr://file/{file}"),
            };
            out.push((stem.to_string(), src));
        }
        collect_external(&node.children, out);
    }
}

fn pulldata_files(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("pulldata(") {
        rest = &rest[at + "pulldata(".len()..];
        let arg = rest.split(',').next().unwrap_or_default();
        let name = arg.trim().trim_matches(['\'', '"']).trim();
        if !name.is_empty() {
            out.push(name.to_string());
        }
    }
    out
}

pub(super) fn file_stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// Choice lists used by `search()` selects, and by any other select.
fn list_users(nodes: &[Node]) -> (HashSet<&str>, HashSet<&str>) {
    fn walk<'n>(nodes: &'n [Node], search: &mut HashSet<&'n str>, other: &mut HashSet<&'n str>) {
        for node in nodes {
            if let Some(list) = search_list(node) {
                search.insert(list);
            } else if let NodeKind::Question(q) = &node.kind
                && let Some(list) = &q.list
            {
                other.insert(list);
            }
            walk(&node.children, search, other);
        }
    }
    let (mut search, mut other) = (HashSet::new(), HashSet::new());
    walk(nodes, &mut search, &mut other);
    (search, other)
}
