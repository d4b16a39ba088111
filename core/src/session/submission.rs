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
    let open = out.len();
    for &c in &node.children {
        element(form, tree, c, out);
    }
    if out.len() == open {
        // Nothing of it is relevant: empty, as ODK writes it.
        out.pop();
        out.push_str("/>");
        return;
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

/// XML text escaping (`&`, `<`, `>`; and `"` in attributes), for any text
/// whatever its source (answers, calculations, defaults, preloads, device
/// ids): what XML 1.0 cannot carry at all (most C0 controls, U+FFFE,
/// U+FFFF) becomes U+FFFD, so a finalized response is always well-formed
/// XML and never becomes unreadable. Answers with such characters are
/// refused at entry ([`super::Session::set`]); this is the last line of
/// defence for computed values. A carriage return (and in attributes tab
/// and newline) is written as a character reference, which XML parsers
/// would otherwise normalise away.
pub fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Whether XML 1.0 can carry `c` (its `Char` production; Rust strings
/// hold no surrogates).
pub fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// The first character of `s` that XML 1.0 cannot carry, with its
/// 1-based position in characters.
pub fn first_non_xml_char(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| !is_xml_char(*c)).map(|(i, c)| (i + 1, c))
}

/// A character's name for a person: `U+000B (vertical tab)`.
pub fn describe_char(c: char) -> String {
    let name = match c {
        '\u{0}' => " (null)",
        '\u{7}' => " (bell)",
        '\u{8}' => " (backspace)",
        '\u{B}' => " (vertical tab, as pasted text from word processors carries)",
        '\u{C}' => " (form feed, a page break)",
        '\u{1B}' => " (escape)",
        '\u{FFFE}' | '\u{FFFF}' => " (a noncharacter)",
        _ => " (a control character)",
    };
    format!("U+{:04X}{name}", c as u32)
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
