//! The session's instance tree and the form's secondary instances seen as
//! one XPath document, for the evaluator.
//!
//! Ids: 0 is the main instance's document root (`/`), `n + 1` is tree node
//! `n`, and ids with the top bit set are secondary-instance nodes.

use crate::expr::{Document, NodeId as XId, NodeKind};

use super::form::Form;
use super::tree::{NodeId, Tree};

const SECONDARY: u64 = 1 << 63;
const DOC_ROOT: XId = XId(0);

/// A borrowed view of one response for evaluation.
#[derive(Debug, Clone, Copy)]
pub struct SessionDoc<'a> {
    pub form: &'a Form,
    pub tree: &'a Tree,
}

pub fn xid(n: NodeId) -> XId {
    XId(n as u64 + 1)
}

/// The tree node behind an evaluator id, if it is one.
pub fn tree_node(id: XId) -> Option<NodeId> {
    (id.0 != 0 && id.0 & SECONDARY == 0).then(|| (id.0 - 1) as usize)
}

fn sec(id: XId) -> Option<usize> {
    (id.0 & SECONDARY != 0).then_some((id.0 & !SECONDARY) as usize)
}

fn sec_id(i: usize) -> XId {
    XId(i as u64 | SECONDARY)
}

impl Document for SessionDoc<'_> {
    fn root(&self) -> XId {
        DOC_ROOT
    }

    fn instance(&self, id: &str) -> Option<XId> {
        self.form.secondary.roots.get(id).map(|&i| sec_id(i))
    }

    fn kind(&self, node: XId) -> NodeKind {
        if node == DOC_ROOT {
            return NodeKind::Root;
        }
        match sec(node) {
            Some(i) if self.form.secondary.nodes[i].parent.is_none() => NodeKind::Root,
            Some(i) if self.form.secondary.nodes[i].attribute => NodeKind::Attribute,
            _ => NodeKind::Element,
        }
    }

    fn parent(&self, node: XId) -> Option<XId> {
        if let Some(i) = sec(node) {
            return self.form.secondary.nodes[i].parent.map(sec_id);
        }
        let n = tree_node(node)?;
        Some(self.tree.node(n).parent.map_or(DOC_ROOT, xid))
    }

    fn first_child(&self, node: XId) -> Option<XId> {
        if node == DOC_ROOT {
            return Some(xid(self.tree.root()));
        }
        if let Some(i) = sec(node) {
            return self.form.secondary.nodes[i].first_child.map(sec_id);
        }
        let n = tree_node(node)?;
        self.tree.node(n).children.first().map(|&c| xid(c))
    }

    fn first_attribute(&self, node: XId) -> Option<XId> {
        sec(node).and_then(|i| self.form.secondary.nodes[i].first_attribute).map(sec_id)
    }

    fn next_sibling(&self, node: XId) -> Option<XId> {
        if let Some(i) = sec(node) {
            return self.form.secondary.nodes[i].next.map(sec_id);
        }
        self.tree.node(tree_node(node)?).next.map(xid)
    }

    fn prev_sibling(&self, node: XId) -> Option<XId> {
        if let Some(i) = sec(node) {
            return self.form.secondary.nodes[i].prev.map(sec_id);
        }
        self.tree.node(tree_node(node)?).prev.map(xid)
    }

    fn name(&self, node: XId) -> &str {
        if let Some(i) = sec(node) {
            return &self.form.secondary.nodes[i].name;
        }
        match tree_node(node) {
            Some(n) => &self.form.template(self.tree.node(n).tpl).name,
            None => "",
        }
    }

    fn value(&self, node: XId) -> &str {
        if let Some(i) = sec(node) {
            return &self.form.secondary.nodes[i].value;
        }
        match tree_node(node) {
            Some(n) => self.tree.node(n).effective(),
            None => "",
        }
    }

    fn compare_order(&self, a: XId, b: XId) -> std::cmp::Ordering {
        match (sec(a), sec(b)) {
            // Secondary arenas are built in document order.
            (Some(x), Some(y)) => x.cmp(&y),
            _ => crate::expr::default_compare_order(self, a, b),
        }
    }

    fn children_named(&self, node: XId, name: &str, out: &mut Vec<XId>) {
        let Some(n) = tree_node(node) else {
            // The document root and secondary instances are small: scan.
            let mut c = self.first_child(node);
            while let Some(x) = c {
                if self.name(x) == name {
                    out.push(x);
                }
                c = self.next_sibling(x);
            }
            return;
        };
        let parent_tpl = self.tree.node(n).tpl;
        let Some(&tpl) = self.form.child_by_name[parent_tpl].get(name) else { return };
        // Instances of one template are contiguous siblings.
        let mut c = self.tree.first_of(n, tpl);
        while let Some(x) = c {
            if self.tree.node(x).tpl != tpl {
                break;
            }
            out.push(xid(x));
            c = self.tree.node(x).next;
        }
    }

    fn child_named(&self, node: XId, name: &str) -> Option<XId> {
        if node == DOC_ROOT {
            let root = self.tree.root();
            return (self.form.template(self.tree.node(root).tpl).name == name).then(|| xid(root));
        }
        if let Some(n) = tree_node(node) {
            let parent_tpl = self.tree.node(n).tpl;
            let tpl = self.form.child_by_name[parent_tpl].get(name)?;
            return self.tree.first_of(n, *tpl).map(xid);
        }
        let mut c = self.first_child(node);
        while let Some(x) = c {
            if self.name(x) == name {
                return Some(x);
            }
            c = self.next_sibling(x);
        }
        None
    }
}

/// The session's environment as expressions see it: the injected clock,
/// random and uuid source, plus the current language for
/// `jr:choice-name()`.
pub struct SessionEnv<'a> {
    pub inner: &'a dyn crate::expr::Env,
    pub form: &'a Form,
    pub tree: &'a Tree,
    pub language: Option<&'a str>,
}

impl std::fmt::Debug for SessionEnv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionEnv").field("language", &self.language).finish_non_exhaustive()
    }
}

impl crate::expr::Env for SessionEnv<'_> {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.now()
    }

    fn utc_offset(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::FixedOffset {
        self.inner.utc_offset(at)
    }

    fn random(&self) -> f64 {
        self.inner.random()
    }

    fn uuid(&self) -> String {
        self.inner.uuid()
    }

    fn language(&self) -> Option<&str> {
        self.language
    }

    fn choice_label(&self, _doc: &dyn Document, node: XId, value: &str) -> Option<String> {
        let n = tree_node(node)?;
        let tpl = self.form.template(self.tree.node(n).tpl);
        let list = match &tpl.node.as_ref()?.kind {
            crate::instrument::NodeKind::Question(q) => q.list.as_ref()?,
            _ => return None,
        };
        let choice =
            self.form.instrument.choices.get(list)?.choices.iter().find(|c| c.name == value)?;
        let default = self.form.instrument.default_language.as_deref();
        choice.label.as_odk_shows(self.language, default).map(str::to_string)
    }
}
