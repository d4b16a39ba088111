//! What of an XForm the conformance test compares, read into plain maps, and
//! the differences between two such summaries.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};

const XFORMS: &str = "http://www.w3.org/2002/xforms";
const JR: &str = "http://openrosa.org/javarosa";

/// Bind attributes that carry meaning for a form's logic.
const BIND_ATTRS: [&str; 10] = [
    "type",
    "relevant",
    "required",
    "constraint",
    "calculate",
    "readonly",
    "jr:preload",
    "jr:preloadParams",
    "jr:constraintMsg",
    "jr:requiredMsg",
];

/// Attributes whose value is an expression (normalized before comparing);
/// an appearance may call `search(..., ${x})`.
const EXPR_ATTRS: [&str; 9] = [
    "appearance",
    "relevant",
    "required",
    "constraint",
    "calculate",
    "readonly",
    "value",
    "nodeset",
    "jr:count",
];

#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    /// The primary instance, one line per element (indented).
    pub instance: Vec<String>,
    /// nodeset -> attribute -> value.
    pub binds: BTreeMap<String, BTreeMap<String, String>>,
    /// "ref event" -> value.
    pub setvalues: BTreeMap<String, String>,
    /// "lang | id | form" -> text.
    pub itext: BTreeMap<String, String>,
    /// "tag ref" -> description of the control.
    pub controls: BTreeMap<String, String>,
    /// Secondary instance id -> its `src`, or its items one a line.
    pub secondary: BTreeMap<String, String>,
}

impl Summary {
    pub fn of(xml: &str) -> Result<Summary, String> {
        let doc = Document::parse(xml).map_err(|e| format!("not well-formed XML: {e}"))?;
        let model = doc.descendants().find(|n| is(n, "model")).ok_or("no <model>")?;
        let instance = model
            .children()
            .find(|n| {
                is(n, "instance") && n.attribute("id").is_none() && n.attribute("src").is_none()
            })
            .and_then(|i| i.first_element_child())
            .ok_or("no primary instance")?;
        let mut s = Summary::default();
        let mut root_line = instance.tag_name().name().to_string();
        for a in instance.attributes() {
            root_line.push_str(&format!(" {}={:?}", attr_name(&a), a.value()));
        }
        s.instance.push(root_line);
        outline(instance, 1, &mut s.instance);

        for inst in model.children().filter(|n| is(n, "instance") && n.attribute("id").is_some()) {
            let id = inst.attribute("id").unwrap_or_default().to_string();
            let body = match inst.attribute("src") {
                Some(src) => format!("src={src}"),
                None => {
                    let mut items = Vec::new();
                    for item in inst.descendants().filter(|n| is(n, "item")) {
                        let mut fields: Vec<String> = item
                            .children()
                            .filter(|c| c.is_element())
                            .map(|c| {
                                format!(
                                    "{}={:?}",
                                    c.tag_name().name(),
                                    c.text().unwrap_or_default()
                                )
                            })
                            .collect();
                        // pyxform orders extra columns as the sheet does;
                        // order inside an item carries no meaning.
                        fields.sort();
                        items.push(fields.join(" "));
                    }
                    items.join("\n")
                }
            };
            s.secondary.insert(id, body);
        }

        for bind in model.children().filter(|n| is(n, "bind")) {
            let nodeset = bind.attribute("nodeset").unwrap_or_default().to_string();
            let mut attrs = BTreeMap::new();
            for a in bind.attributes() {
                let name = attr_name(&a);
                if BIND_ATTRS.contains(&name.as_str()) {
                    attrs.insert(name.clone(), value_of(&name, a.value()));
                }
            }
            if s.binds.insert(nodeset.clone(), attrs).is_some() {
                return Err(format!("two binds for {nodeset}"));
            }
        }

        for sv in doc.descendants().filter(|n| is(n, "setvalue")) {
            let key = format!(
                "{} {}",
                sv.attribute("ref").unwrap_or_default(),
                sv.attribute("event").unwrap_or_default()
            );
            let value = expr(sv.attribute("value").unwrap_or_default());
            s.setvalues.insert(key, value);
        }

        if let Some(itext) = model.children().find(|n| is(n, "itext")) {
            for tr in itext.children().filter(|n| is(n, "translation")) {
                let lang = tr.attribute("lang").unwrap_or_default();
                let default = if tr.attribute("default").is_some() { " (default)" } else { "" };
                for text in tr.children().filter(|n| is(n, "text")) {
                    let id = text.attribute("id").unwrap_or_default();
                    let values: Vec<_> = text.children().filter(|n| is(n, "value")).collect();
                    if values.is_empty() {
                        s.itext.insert(format!("{lang}{default} | {id} | (none)"), String::new());
                    }
                    for v in values {
                        let form = v.attribute("form").unwrap_or("long");
                        s.itext.insert(format!("{lang}{default} | {id} | {form}"), content(v));
                    }
                }
            }
        }

        let body =
            doc.descendants().find(|n| n.tag_name().name() == "body").ok_or("no <h:body>")?;
        for n in body.descendants().filter(|n| n.is_element() && n != &body) {
            let tag = n.tag_name().name();
            if matches!(
                tag,
                "label" | "hint" | "value" | "itemset" | "setvalue" | "output" | "item"
            ) {
                continue;
            }
            let reference = n.attribute("ref").or(n.attribute("nodeset")).unwrap_or_default();
            let key = format!("{tag} {reference}");
            if s.controls.insert(key.clone(), describe(n)).is_some() {
                return Err(format!("two controls {key}"));
            }
        }
        Ok(s)
    }
}

/// Each difference as a line: where, pyxform's side, Enumera's side.
pub fn diff(pyxform: &Summary, enumera: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if pyxform.instance != enumera.instance {
        out.push(format!(
            "  instance differs:\n    pyxform:\n{}\n    enumera:\n{}",
            indent(&pyxform.instance),
            indent(&enumera.instance)
        ));
    }
    diff_maps("bind", &pyxform.binds, &enumera.binds, &mut out);
    diff_maps("setvalue", &pyxform.setvalues, &enumera.setvalues, &mut out);
    diff_maps("itext", &pyxform.itext, &enumera.itext, &mut out);
    diff_maps("control", &pyxform.controls, &enumera.controls, &mut out);
    diff_maps("secondary instance", &pyxform.secondary, &enumera.secondary, &mut out);
    out
}

fn diff_maps<V: PartialEq + std::fmt::Debug>(
    what: &str,
    pyxform: &BTreeMap<String, V>,
    enumera: &BTreeMap<String, V>,
    out: &mut Vec<String>,
) {
    for (k, theirs) in pyxform {
        match enumera.get(k) {
            None => out.push(format!("  {what} {k}: only pyxform has it: {theirs:?}")),
            Some(ours) if ours != theirs => {
                out.push(format!("  {what} {k}:\n    pyxform: {theirs:?}\n    enumera: {ours:?}"))
            }
            Some(_) => {}
        }
    }
    for (k, ours) in enumera {
        if !pyxform.contains_key(k) {
            out.push(format!("  {what} {k}: only Enumera has it: {ours:?}"));
        }
    }
}

fn indent(lines: &[String]) -> String {
    lines.iter().map(|l| format!("      {l}")).collect::<Vec<_>>().join("\n")
}

fn is(n: &Node, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(XFORMS)
}

fn attr_name(a: &roxmltree::Attribute) -> String {
    let prefix = match a.namespace() {
        Some(JR) => "jr:",
        Some("http://www.opendatakit.org/xforms") => "odk:",
        Some("http://openrosa.org/xforms") => "orx:",
        Some(_) => "?:",
        None => "",
    };
    format!("{prefix}{}", a.name())
}

fn value_of(name: &str, value: &str) -> String {
    if EXPR_ATTRS.contains(&name) { expr(value) } else { value.to_string() }
}

fn outline(n: Node, depth: usize, out: &mut Vec<String>) {
    for c in n.children().filter(|c| c.is_element()) {
        let mut line = format!("{}{}", "  ".repeat(depth), c.tag_name().name());
        for a in c.attributes() {
            line.push_str(&format!(" {}={:?}", attr_name(&a), a.value()));
        }
        if let Some(t) = c.text().map(str::trim).filter(|t| !t.is_empty()) {
            line.push_str(&format!(" = {t:?}"));
        }
        out.push(line);
        outline(c, depth + 1, out);
    }
}

fn describe(n: Node) -> String {
    let mut parts = Vec::new();
    let mut attrs: Vec<_> = n
        .attributes()
        .map(|a| {
            let name = attr_name(&a);
            let v = value_of(&name, a.value());
            format!("{name}={v:?}")
        })
        .collect();
    attrs.sort();
    parts.extend(attrs);
    for c in n.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "label" | "hint" => {
                let name = c.tag_name().name();
                match c.attribute("ref") {
                    Some(r) => parts.push(format!("{name}@{r}")),
                    None => parts.push(format!("{name}:{:?}", content(c))),
                }
            }
            "itemset" => {
                let nodeset = expr(c.attribute("nodeset").unwrap_or_default());
                let refs: Vec<_> = c
                    .children()
                    .filter(|x| x.is_element())
                    .map(|x| {
                        format!(
                            "{}@{}",
                            x.tag_name().name(),
                            x.attribute("ref").unwrap_or_default()
                        )
                    })
                    .collect();
                parts.push(format!("itemset[{nodeset}; {}]", refs.join(", ")));
            }
            _ => {}
        }
    }
    parts.join(" ")
}

/// Mixed content (text and `<output value>`), whitespace-normalized.
fn content(n: Node) -> String {
    let mut s = String::new();
    for c in n.children() {
        if c.is_text() {
            s.push_str(c.text().unwrap_or_default());
        } else if c.tag_name().name() == "output" {
            s.push_str(&format!(" \u{1}{}\u{1} ", expr(c.attribute("value").unwrap_or_default())));
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    words.join(" ").replace('\u{1}', "`")
}

/// An expression with whitespace removed outside string literals, except a
/// single space between two word characters (`a and b`, `a - b`).
pub fn expr(src: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '\'' | '"');
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in src.chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && out.chars().last().is_some_and(word) && word(c) {
            out.push(' ');
        }
        pending_space = false;
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_normalize_padding_only() {
        assert_eq!(expr(" /data/a  + 1"), expr("/data/a + 1"));
        assert_eq!(expr("concat('x',  /data/n )"), "concat('x',/data/n)");
        assert_eq!(expr(" ../a  and  /data/b  = 'x  y'"), "../a and/data/b='x  y'");
        assert_ne!(expr("/data/a + 1"), expr("/data/a + 2"));
        assert_ne!(expr("a or b"), expr("a and b"));
    }
}
