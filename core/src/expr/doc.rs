//! The document the evaluator reads: a tree of nodes behind opaque ids.
//!
//! The session implements [`Document`] over its own instance tree; tests use
//! [`crate::expr::MemDoc`]. The evaluator never holds node data, only ids, so
//! an implementation is free to store its tree however suits it.

use std::cmp::Ordering;

/// An opaque node handle chosen by the [`Document`] implementation. The
/// evaluator only compares and passes them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

/// The kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The root of an instance: the parent of `/data` (or of `root` in a
    /// secondary instance). `/` selects it.
    Root,
    Element,
    Attribute,
}

/// Read access to the main instance and the secondary instances (choice
/// lists as `instance('list')/root/item`, CSV files the same way).
///
/// Required methods are the tree walk; the defaults derive the rest and can
/// be overridden where the implementation knows better (e.g. an index by
/// name, or a cheap document-order key).
pub trait Document {
    /// The root node of the main instance (`/`).
    fn root(&self) -> NodeId;

    /// The root node of the secondary instance `id`, if there is one.
    fn instance(&self, id: &str) -> Option<NodeId>;

    fn kind(&self, node: NodeId) -> NodeKind;

    /// The parent element (or root); for an attribute, its element.
    fn parent(&self, node: NodeId) -> Option<NodeId>;

    /// First element child, in document order.
    fn first_child(&self, node: NodeId) -> Option<NodeId>;

    /// Next element sibling; for an attribute, the element's next attribute.
    fn next_sibling(&self, node: NodeId) -> Option<NodeId>;

    /// Previous element sibling (attributes: previous attribute).
    fn prev_sibling(&self, node: NodeId) -> Option<NodeId>;

    /// First attribute of an element. Instances without attributes can leave
    /// the default.
    fn first_attribute(&self, _node: NodeId) -> Option<NodeId> {
        None
    }

    /// The local name as written, with its prefix if any (`jr:template`).
    /// The root's name is "".
    fn name(&self, node: NodeId) -> &str;

    /// The node's own text: a leaf's value, an attribute's value. A session
    /// returns "" for a non-relevant question here (ODK reads those as empty).
    fn value(&self, node: NodeId) -> &str;

    /// The XPath string-value: a leaf's value, or for an element with element
    /// children the concatenation of its descendants' values.
    fn string_value(&self, node: NodeId) -> std::borrow::Cow<'_, str> {
        match self.first_child(node) {
            None => std::borrow::Cow::Borrowed(self.value(node)),
            Some(_) => {
                let mut out = String::new();
                collect_text(self, node, &mut out);
                std::borrow::Cow::Owned(out)
            }
        }
    }

    /// Document order of two nodes of the same instance. The default walks
    /// ancestor chains; override with an order key when one is at hand.
    fn compare_order(&self, a: NodeId, b: NodeId) -> Ordering {
        default_compare_order(self, a, b)
    }

    /// Appends the element children named `name`, in document order: the
    /// hot path of `/data/x`. Override with an index for wide groups.
    fn children_named(&self, node: NodeId, name: &str, out: &mut Vec<NodeId>) {
        let mut c = self.first_child(node);
        while let Some(n) = c {
            if self.name(n) == name {
                out.push(n);
            }
            c = self.next_sibling(n);
        }
    }

    /// The first element child named `name`.
    fn child_named(&self, node: NodeId, name: &str) -> Option<NodeId> {
        let mut c = self.first_child(node);
        while let Some(n) = c {
            if self.name(n) == name {
                return Some(n);
            }
            c = self.next_sibling(n);
        }
        None
    }
}

fn collect_text<D: Document + ?Sized>(doc: &D, node: NodeId, out: &mut String) {
    match doc.first_child(node) {
        None => out.push_str(doc.value(node)),
        Some(first) => {
            let mut c = Some(first);
            while let Some(n) = c {
                collect_text(doc, n, out);
                c = doc.next_sibling(n);
            }
        }
    }
}

/// Compares by the chain of ancestors: attributes come right after their
/// element and before its children.
pub fn default_compare_order<D: Document + ?Sized>(doc: &D, a: NodeId, b: NodeId) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let chain = |mut n: NodeId| {
        let mut v = vec![n];
        while let Some(p) = doc.parent(n) {
            v.push(p);
            n = p;
        }
        v.reverse();
        v
    };
    let ca = chain(a);
    let cb = chain(b);
    let mut i = 0;
    while i < ca.len() && i < cb.len() && ca[i] == cb[i] {
        i += 1;
    }
    if i == ca.len() {
        return Ordering::Less; // a is an ancestor of b
    }
    if i == cb.len() {
        return Ordering::Greater;
    }
    if i == 0 {
        // Different instances: order by id so sorting stays total.
        return ca[0].cmp(&cb[0]);
    }
    let (x, y) = (ca[i], cb[i]);
    let (kx, ky) = (doc.kind(x), doc.kind(y));
    match (kx == NodeKind::Attribute, ky == NodeKind::Attribute) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    // Same parent: whichever comes first among the siblings.
    let mut s = doc.next_sibling(x);
    while let Some(n) = s {
        if n == y {
            return Ordering::Less;
        }
        s = doc.next_sibling(n);
    }
    Ordering::Greater
}
