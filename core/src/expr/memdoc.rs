//! A small in-memory [`Document`], built from XML text or by hand; used by
//! the expression tests and available to other parts' tests.
//!
//! ```
//! use enumera_core::expr::MemDoc;
//! let mut doc = MemDoc::from_xml("<data><age>34</age></data>").unwrap();
//! doc.add_instance_xml("yn", "<root><item><name>yes</name><label>Yes</label></item></root>").unwrap();
//! let age = doc.node_at("/data/age").unwrap();
//! doc.set_value(age, "35");
//! ```

use std::collections::HashMap;

use super::doc::{Document, NodeId, NodeKind};

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    name: String,
    value: String,
    parent: Option<u32>,
    first_child: Option<u32>,
    last_child: Option<u32>,
    next: Option<u32>,
    prev: Option<u32>,
    first_attr: Option<u32>,
    last_attr: Option<u32>,
    child_count: u32,
}

/// An XML syntax error in [`MemDoc::from_xml`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad XML at byte {offset}: {message}")]
pub struct XmlError {
    pub offset: usize,
    pub message: String,
}

/// An arena tree: node ids are indices. Document order is creation order
/// as long as nodes are appended (which is all this type allows).
#[derive(Debug, Clone)]
pub struct MemDoc {
    nodes: Vec<Node>,
    main: u32,
    instances: HashMap<String, u32>,
    /// parent -> name -> element children, so `/data/x` does not scan.
    by_name: HashMap<u32, HashMap<Box<str>, Vec<u32>>>,
}

impl Default for MemDoc {
    fn default() -> Self {
        Self::new()
    }
}

impl MemDoc {
    /// An empty main instance (just the root).
    pub fn new() -> MemDoc {
        let mut d = MemDoc {
            nodes: Vec::new(),
            main: 0,
            instances: HashMap::new(),
            by_name: HashMap::new(),
        };
        d.main = d.push(NodeKind::Root, "", "", None);
        d
    }

    /// A document whose main instance is `xml`.
    pub fn from_xml(xml: &str) -> Result<MemDoc, XmlError> {
        let mut d = MemDoc::new();
        let root = d.main;
        parse_xml_into(&mut d, root, xml)?;
        Ok(d)
    }

    /// Adds a secondary instance (`instance(id)`) from XML text.
    pub fn add_instance_xml(&mut self, id: &str, xml: &str) -> Result<NodeId, XmlError> {
        let root = self.push(NodeKind::Root, "", "", None);
        parse_xml_into(self, root, xml)?;
        self.instances.insert(id.to_string(), root);
        Ok(NodeId(u64::from(root)))
    }

    /// Adds a secondary instance `id` shaped like a choice list or CSV:
    /// `<root><item><col>value</col>...</item>...</root>`.
    pub fn add_instance_rows(&mut self, id: &str, columns: &[&str], rows: &[&[&str]]) -> NodeId {
        let root = self.push(NodeKind::Root, "", "", None);
        self.instances.insert(id.to_string(), root);
        let r = self.append_element(NodeId(u64::from(root)), "root", "");
        for row in rows {
            let item = self.append_element(r, "item", "");
            for (c, v) in columns.iter().zip(row.iter()) {
                self.append_element(item, c, v);
            }
        }
        NodeId(u64::from(root))
    }

    /// Appends an element child with a text value.
    pub fn append_element(&mut self, parent: NodeId, name: &str, value: &str) -> NodeId {
        let p = parent.0 as u32;
        let id = self.push(NodeKind::Element, name, value, Some(p));
        match self.nodes[p as usize].last_child {
            Some(last) => {
                self.nodes[last as usize].next = Some(id);
                self.nodes[id as usize].prev = Some(last);
            }
            None => self.nodes[p as usize].first_child = Some(id),
        }
        self.nodes[p as usize].last_child = Some(id);
        self.nodes[p as usize].child_count += 1;
        self.by_name.entry(p).or_default().entry(name.into()).or_default().push(id);
        NodeId(u64::from(id))
    }

    /// Appends an attribute to an element.
    pub fn append_attribute(&mut self, element: NodeId, name: &str, value: &str) -> NodeId {
        let p = element.0 as u32;
        let id = self.push(NodeKind::Attribute, name, value, Some(p));
        match self.nodes[p as usize].last_attr {
            Some(last) => {
                self.nodes[last as usize].next = Some(id);
                self.nodes[id as usize].prev = Some(last);
            }
            None => self.nodes[p as usize].first_attr = Some(id),
        }
        self.nodes[p as usize].last_attr = Some(id);
        NodeId(u64::from(id))
    }

    pub fn set_value(&mut self, node: NodeId, value: &str) {
        if let Some(n) = self.nodes.get_mut(node.0 as usize) {
            n.value = value.to_string();
        }
    }

    /// Finds a node by a plain absolute path of names with optional 1-based
    /// indexes: `/data/members[2]/name`. Not an XPath evaluator, a test aid.
    pub fn node_at(&self, path: &str) -> Option<NodeId> {
        let mut cur = NodeId(u64::from(self.main));
        for part in path.trim_start_matches('/').split('/').filter(|p| !p.is_empty()) {
            let (name, index) = match part.split_once('[') {
                Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()?),
                None => (part, 1),
            };
            let mut seen = 0;
            let mut c = self.first_child(cur);
            let mut found = None;
            while let Some(n) = c {
                if self.name(n) == name {
                    seen += 1;
                    if seen == index {
                        found = Some(n);
                        break;
                    }
                }
                c = self.next_sibling(n);
            }
            cur = found?;
        }
        Some(cur)
    }

    fn push(&mut self, kind: NodeKind, name: &str, value: &str, parent: Option<u32>) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            name: name.to_string(),
            value: value.to_string(),
            parent,
            first_child: None,
            last_child: None,
            next: None,
            prev: None,
            first_attr: None,
            last_attr: None,
            child_count: 0,
        });
        id
    }

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize)
    }
}

fn to_id(i: Option<u32>) -> Option<NodeId> {
    i.map(|i| NodeId(u64::from(i)))
}

impl Document for MemDoc {
    fn root(&self) -> NodeId {
        NodeId(u64::from(self.main))
    }

    fn instance(&self, id: &str) -> Option<NodeId> {
        self.instances.get(id).map(|&i| NodeId(u64::from(i)))
    }

    fn kind(&self, node: NodeId) -> NodeKind {
        self.node(node).map_or(NodeKind::Element, |n| n.kind)
    }

    fn parent(&self, node: NodeId) -> Option<NodeId> {
        to_id(self.node(node)?.parent)
    }

    fn first_child(&self, node: NodeId) -> Option<NodeId> {
        to_id(self.node(node)?.first_child)
    }

    fn next_sibling(&self, node: NodeId) -> Option<NodeId> {
        to_id(self.node(node)?.next)
    }

    fn prev_sibling(&self, node: NodeId) -> Option<NodeId> {
        to_id(self.node(node)?.prev)
    }

    fn first_attribute(&self, node: NodeId) -> Option<NodeId> {
        to_id(self.node(node)?.first_attr)
    }

    fn name(&self, node: NodeId) -> &str {
        self.node(node).map_or("", |n| &n.name)
    }

    fn value(&self, node: NodeId) -> &str {
        self.node(node).map_or("", |n| &n.value)
    }

    fn children_named(&self, node: NodeId, name: &str, out: &mut Vec<NodeId>) {
        // Scanning a few children beats hashing the name.
        if self.node(node).is_some_and(|n| n.child_count <= 16) {
            let mut c = self.first_child(node);
            while let Some(k) = c {
                if self.name(k) == name {
                    out.push(k);
                }
                c = self.next_sibling(k);
            }
            return;
        }
        if let Some(kids) = self.by_name.get(&(node.0 as u32)).and_then(|m| m.get(name)) {
            out.extend(kids.iter().map(|&k| NodeId(u64::from(k))));
        }
    }

    fn compare_order(&self, a: NodeId, b: NodeId) -> std::cmp::Ordering {
        // Nodes are only ever appended, so creation order is document order.
        a.cmp(&b)
    }
}

/// A deliberately small XML reader: elements, attributes, text, CDATA,
/// comments, processing instructions and the five entities plus numeric
/// references. Enough for instances; not a validating parser.
fn parse_xml_into(doc: &mut MemDoc, root: u32, xml: &str) -> Result<(), XmlError> {
    let b = xml.as_bytes();
    let mut i = 0;
    let mut stack: Vec<u32> = vec![root];
    let mut text = String::new();
    let err = |offset: usize, m: &str| XmlError { offset, message: m.to_string() };
    while i < b.len() {
        if b[i] != b'<' {
            let end = xml[i..].find('<').map_or(b.len(), |p| i + p);
            text.push_str(&decode_entities(&xml[i..end]).map_err(|m| err(i, &m))?);
            i = end;
            continue;
        }
        if xml[i..].starts_with("<!--") {
            let end = xml[i..].find("-->").ok_or_else(|| err(i, "unclosed comment"))?;
            i += end + 3;
        } else if xml[i..].starts_with("<![CDATA[") {
            let end = xml[i..].find("]]>").ok_or_else(|| err(i, "unclosed CDATA"))?;
            text.push_str(&xml[i + 9..i + end]);
            i += end + 3;
        } else if xml[i..].starts_with("<?") || xml[i..].starts_with("<!") {
            let end = xml[i..].find('>').ok_or_else(|| err(i, "unclosed declaration"))?;
            i += end + 1;
        } else if xml[i..].starts_with("</") {
            let end = xml[i..].find('>').ok_or_else(|| err(i, "unclosed end tag"))?;
            let name = xml[i + 2..i + end].trim();
            let top = stack
                .pop()
                .filter(|_| !stack.is_empty())
                .ok_or_else(|| err(i, "unbalanced end tag"))?;
            if doc.nodes[top as usize].name != name {
                return Err(err(i, &format!("end tag </{name}> does not match")));
            }
            if doc.nodes[top as usize].first_child.is_none() {
                doc.nodes[top as usize].value = std::mem::take(&mut text);
            }
            text.clear();
            i += end + 1;
        } else {
            text.clear();
            let end = find_tag_end(b, i).ok_or_else(|| err(i, "unclosed tag"))?;
            let self_closing = b[end - 1] == b'/';
            let inner = &xml[i + 1..if self_closing { end - 1 } else { end }];
            let name_end = inner.find(|c: char| c.is_whitespace()).unwrap_or(inner.len());
            let name = &inner[..name_end];
            if name.is_empty() {
                return Err(err(i, "missing element name"));
            }
            let parent = *stack.last().ok_or_else(|| err(i, "content after the root element"))?;
            let el = doc.append_element(NodeId(u64::from(parent)), name, "");
            parse_attributes(doc, el, &inner[name_end..]).map_err(|m| err(i, &m))?;
            if !self_closing {
                stack.push(el.0 as u32);
            }
            i = end + 1;
        }
    }
    if stack.len() != 1 {
        return Err(err(b.len(), "unclosed element"));
    }
    Ok(())
}

fn find_tag_end(b: &[u8], start: usize) -> Option<usize> {
    let mut quote = None;
    for (j, &c) in b.iter().enumerate().skip(start) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'>') => return Some(j),
            _ => {}
        }
    }
    None
}

fn parse_attributes(doc: &mut MemDoc, el: NodeId, mut s: &str) -> Result<(), String> {
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s.find('=').ok_or("attribute without '='")?;
        let name = s[..eq].trim();
        let rest = s[eq + 1..].trim_start();
        let q = rest.chars().next().ok_or("attribute without value")?;
        if q != '"' && q != '\'' {
            return Err("attribute value without quotes".into());
        }
        let close = rest[1..].find(q).ok_or("unclosed attribute value")?;
        let value = decode_entities(&rest[1..1 + close])?;
        // Namespace declarations are not attributes in the XPath data model.
        if name != "xmlns" && !name.starts_with("xmlns:") {
            doc.append_attribute(el, name, &value);
        }
        s = &rest[close + 2..];
    }
}

fn decode_entities(s: &str) -> Result<String, String> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let semi = rest[p..].find(';').ok_or("unterminated entity")?;
        let ent = &rest[p + 1..p + semi];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).ok_or_else(|| format!("unknown entity &{ent};"))?
            }
        };
        out.push(c);
        rest = &rest[p + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_xml_with_attributes_entities_and_instances() {
        let mut d = MemDoc::from_xml(
            "<?xml version='1.0'?><data id=\"f\"><a>1 &lt; 2</a><!-- c --><g><b/><c>x</c></g></data>",
        )
        .unwrap_or_default();
        let a = d.node_at("/data/a");
        assert_eq!(a.map(|n| d.value(n)), Some("1 < 2"));
        let data = d.node_at("/data").unwrap_or(d.root());
        let attr = d.first_attribute(data);
        assert_eq!(attr.map(|n| (d.name(n), d.value(n))), Some(("id", "f")));
        assert_eq!(d.node_at("/data/g/c").map(|n| d.value(n)), Some("x"));
        assert!(d.add_instance_xml("l", "<root><item><name>a</name></item></root>").is_ok());
        assert!(d.instance("l").is_some());
        assert!(MemDoc::from_xml("<a><b></a>").is_err());
        assert!(MemDoc::from_xml("<a>").is_err());
    }
}
