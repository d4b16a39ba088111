//! The submission: instance XML as ODK Collect sends it, and the same data
//! as JSON. Non-relevant elements are left out entirely, as ODK does.

use serde_json::{Map, Value as Json};

use super::form::{Form, MetaField, TplKind};
use super::tree::{NodeId, Tree};

/// The instance XML: `<data id="form" version="v">...<meta>...</meta></data>`.
pub fn to_xml(form: &Form, tree: &Tree) -> String {
    let mut out = String::with_capacity(256 + tree.nodes.len() * 24);
    let root = tree.root();
    let inst = &form.instrument;
    out.push('<');
    out.push_str(&inst.root_name);
    out.push_str(" id=\"");
    escape_into(&mut out, &inst.form_id, true);
    out.push('"');
    if !inst.version.is_empty() {
        out.push_str(" version=\"");
        escape_into(&mut out, &inst.version, true);
        out.push('"');
    }
    out.push('>');
    for &c in &tree.node(root).children {
        element(form, tree, c, &mut out);
    }
    out.push_str("</");
    out.push_str(&inst.root_name);
    out.push('>');
    out
}

fn element(form: &Form, tree: &Tree, id: NodeId, out: &mut String) {
    let node = tree.node(id);
    if !node.relevant || is_unused_meta(form, tree, id) {
        return;
    }
    let name = &form.template(node.tpl).name;
    let value = node.effective();
    if node.children.is_empty() && (form.template(node.tpl).is_leaf() || value.is_empty()) {
        if value.is_empty() {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
            return;
        }
        out.push('<');
        out.push_str(name);
        out.push('>');
        escape_into(out, value, false);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        return;
    }
    out.push('<');
    out.push_str(name);
    out.push('>');
    for &c in &node.children {
        element(form, tree, c, out);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// `meta/deprecatedID` is written only when the response edits another.
fn is_unused_meta(form: &Form, tree: &Tree, id: NodeId) -> bool {
    form.template(tree.node(id).tpl).kind == TplKind::Meta(MetaField::DeprecatedId)
        && tree.node(id).value.is_empty()
}

/// XML text escaping (`&`, `<`, `>`; and `"` in attributes).
pub fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The same data as JSON: groups are objects, repeats arrays of objects,
/// answers strings (ODK's string values).
pub fn to_json(form: &Form, tree: &Tree) -> Json {
    let mut obj = Map::new();
    children_json(form, tree, tree.root(), &mut obj);
    Json::Object(obj)
}

fn children_json(form: &Form, tree: &Tree, id: NodeId, obj: &mut Map<String, Json>) {
    for &c in &tree.node(id).children {
        let node = tree.node(c);
        if !node.relevant || is_unused_meta(form, tree, c) {
            continue;
        }
        let tpl = form.template(node.tpl);
        match tpl.kind {
            TplKind::Repeat => {
                let mut inner = Map::new();
                children_json(form, tree, c, &mut inner);
                let entry = obj.entry(tpl.name.clone()).or_insert_with(|| Json::Array(vec![]));
                if let Json::Array(items) = entry {
                    items.push(Json::Object(inner));
                }
            }
            _ if tpl.is_container() => {
                let mut inner = Map::new();
                children_json(form, tree, c, &mut inner);
                obj.insert(tpl.name.clone(), Json::Object(inner));
            }
            _ => {
                obj.insert(tpl.name.clone(), Json::String(node.effective().to_string()));
            }
        }
    }
}
