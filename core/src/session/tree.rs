//! The instance tree of one response: an arena of nodes, one per element
//! instance, in document order under their parents. Repeat instances are
//! siblings with the same template, as in the XML they become.

use std::collections::HashMap;

use super::form::{Form, TplId, TplKind};

/// Index of a node in [`Tree::nodes`]. Ids are never reused within a session,
/// so a removed repeat instance's id stays dead.
pub type NodeId = usize;

/// One element instance and its computed state.
#[derive(Debug, Clone)]
pub struct InstNode {
    pub tpl: TplId,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    /// Siblings in document order (kept in step with the parent's children),
    /// so that expressions walk repeats without searching.
    pub prev: Option<NodeId>,
    pub next: Option<NodeId>,
    /// The stored value (kept while non-relevant, so it comes back).
    pub value: String,
    /// For a select whose choices change (choice_filter, choices from a
    /// repeat): the stored value less the picks no longer offered, which is
    /// what ODK shows, computes with and submits. The stored value stays, so
    /// a pick comes back with its choice.
    pub shown: Option<String>,
    /// The node's own `relevant` expression (true when it has none).
    pub self_relevant: bool,
    /// Relevant itself and every ancestor relevant.
    pub relevant: bool,
    pub required: bool,
    pub readonly: bool,
    pub constraint_valid: bool,
    /// Why the constraint or required expression could not be evaluated,
    /// when it could not (the node is then invalid or required: fail closed).
    pub logic_error: Option<String>,
    /// This node is an instance of a repeat (counted in
    /// [`Tree::repeat_instances`]).
    pub(crate) repeat_instance: bool,
    /// Whether the value was given by the user or a default (drives `once()`
    /// and dynamic defaults).
    pub alive: bool,
}

impl InstNode {
    fn new(tpl: TplId, parent: Option<NodeId>) -> Self {
        InstNode {
            tpl,
            parent,
            children: Vec::new(),
            prev: None,
            next: None,
            value: String::new(),
            shown: None,
            self_relevant: true,
            relevant: true,
            required: false,
            readonly: false,
            constraint_valid: true,
            logic_error: None,
            repeat_instance: false,
            alive: true,
        }
    }

    /// The value as expressions see it: empty while non-relevant.
    pub fn effective(&self) -> &str {
        match (&self.shown, self.relevant) {
            (_, false) => "",
            (Some(shown), true) => shown,
            (None, true) => &self.value,
        }
    }
}

/// The arena.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub nodes: Vec<InstNode>,
    /// Live repeat instances, at every level: bounded by
    /// `MAX_REPEAT_INSTANCES` so that nested counts cannot multiply
    /// without end.
    pub(crate) repeat_instances: usize,
    /// First live instance of each (parent node, child template): the hot
    /// path of every `/data/x` step, which must not scan a parent's children.
    first: HashMap<(NodeId, TplId), NodeId>,
}

impl Tree {
    /// A fresh tree for `form`: every element once, and one instance of each
    /// uncontrolled repeat (as pyxform's instance has), none of a
    /// count-controlled one until its count is known.
    pub fn new(form: &Form) -> Tree {
        let mut tree = Tree { nodes: Vec::new(), repeat_instances: 0, first: HashMap::new() };
        tree.nodes.push(InstNode::new(0, None));
        tree.build_children(form, 0, true);
        tree
    }

    pub fn root(&self) -> NodeId {
        0
    }

    pub fn node(&self, id: NodeId) -> &InstNode {
        &self.nodes[id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut InstNode {
        &mut self.nodes[id]
    }

    /// Creates the subtree under a new node: every child element once (none
    /// of a count-controlled repeat, and none of a user repeat unless
    /// `user_repeats`). Appends in form order and links once, so a wide form
    /// builds in linear time.
    fn build_children(&mut self, form: &Form, parent: NodeId, user_repeats: bool) {
        let tpl = self.nodes[parent].tpl;
        let mut created = Vec::new();
        for &child in &form.template(tpl).children {
            let t = form.template(child);
            if t.kind == TplKind::Repeat && (t.logic.repeat_count.is_some() || !user_repeats) {
                continue;
            }
            let id = self.nodes.len();
            let mut node = InstNode::new(child, Some(parent));
            if let Some(d) = &t.default {
                node.value = d.clone();
            }
            if t.kind == TplKind::Repeat {
                node.repeat_instance = true;
                self.repeat_instances += 1;
            }
            self.nodes.push(node);
            self.nodes[parent].children.push(id);
            created.push(id);
        }
        self.relink(parent);
        for id in created {
            self.build_children(form, id, user_repeats);
        }
    }

    /// Creates one instance of `tpl` (and its subtree) under `parent`, after
    /// `after` among the parent's children (or at the template's place).
    pub fn instantiate(
        &mut self,
        form: &Form,
        tpl: TplId,
        parent: NodeId,
        after: Option<NodeId>,
    ) -> NodeId {
        let id = self.nodes.len();
        let mut node = InstNode::new(tpl, Some(parent));
        if let Some(d) = &form.template(tpl).default {
            node.value = d.clone();
        }
        node.repeat_instance = true;
        self.repeat_instances += 1;
        self.nodes.push(node);
        let pos = match after {
            Some(a) => {
                let siblings = &self.nodes[parent].children;
                siblings.iter().position(|&c| c == a).map_or(siblings.len(), |p| p + 1)
            }
            None => self.insert_position(form, parent, tpl),
        };
        self.nodes[parent].children.insert(pos, id);
        self.relink(parent);
        // The form's instance holds one instance of each user repeat; a
        // repeat instance added later holds none of the repeats nested in
        // it, as in ODK Web Forms (the enumerator adds them).
        self.build_children(form, id, false);
        id
    }

    /// Creates `n` instances of `tpl` (and their subtrees) under `parent`,
    /// after `after` (or at the template's place), linking the parent's
    /// children once: a count of thousands costs linear time.
    pub fn instantiate_many(
        &mut self,
        form: &Form,
        tpl: TplId,
        parent: NodeId,
        after: Option<NodeId>,
        n: usize,
    ) -> Vec<NodeId> {
        let pos = match after {
            Some(a) => {
                let siblings = &self.nodes[parent].children;
                siblings.iter().position(|&c| c == a).map_or(siblings.len(), |p| p + 1)
            }
            None => self.insert_position(form, parent, tpl),
        };
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let id = self.nodes.len();
            let mut node = InstNode::new(tpl, Some(parent));
            if let Some(d) = &form.template(tpl).default {
                node.value = d.clone();
            }
            node.repeat_instance = true;
            self.repeat_instances += 1;
            self.nodes.push(node);
            ids.push(id);
        }
        let children = &mut self.nodes[parent].children;
        children.splice(pos..pos, ids.iter().copied());
        self.relink(parent);
        for &id in &ids {
            self.build_children(form, id, false);
        }
        ids
    }

    /// Where a new instance of `tpl` goes among `parent`'s children: after
    /// the last node of any template that precedes it in the form.
    fn insert_position(&self, form: &Form, parent: NodeId, tpl: TplId) -> usize {
        let order = &form.template(self.nodes[parent].tpl).children;
        let rank = |t: TplId| order.iter().position(|&x| x == t).unwrap_or(usize::MAX);
        let mine = rank(tpl);
        self.nodes[parent].children.iter().take_while(|&&c| rank(self.nodes[c].tpl) <= mine).count()
    }

    /// Detaches `id` (a repeat instance) from its parent; the subtree is dead.
    pub fn remove(&mut self, id: NodeId) {
        if let Some(parent) = self.nodes[id].parent {
            self.nodes[parent].children.retain(|&c| c != id);
            self.relink(parent);
        }
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            self.nodes[n].alive = false;
            if self.nodes[n].repeat_instance {
                self.repeat_instances -= 1;
            }
            stack.extend(self.nodes[n].children.iter().copied());
        }
    }

    fn relink(&mut self, parent: NodeId) {
        let children = std::mem::take(&mut self.nodes[parent].children);
        let mut seen: Vec<TplId> = Vec::new();
        for (i, &c) in children.iter().enumerate() {
            self.nodes[c].prev = i.checked_sub(1).map(|p| children[p]);
            self.nodes[c].next = children.get(i + 1).copied();
            let tpl = self.nodes[c].tpl;
            // Children of one template are contiguous, so the first seen is first.
            if seen.last() != Some(&tpl) {
                seen.push(tpl);
                self.first.insert((parent, tpl), c);
            }
        }
        self.nodes[parent].children = children;
    }

    /// First live instance of template `tpl` under `parent`.
    pub fn first_of(&self, parent: NodeId, tpl: TplId) -> Option<NodeId> {
        self.first.get(&(parent, tpl)).copied().filter(|&n| self.nodes[n].alive)
    }

    /// Live instances of `tpl` directly under `parent`, in order.
    pub fn instances(&self, parent: NodeId, tpl: TplId) -> Vec<NodeId> {
        // Instances of one template are contiguous siblings.
        let mut out = Vec::new();
        let mut c = self.first_of(parent, tpl);
        while let Some(x) = c.filter(|&x| self.nodes[x].tpl == tpl) {
            out.push(x);
            c = self.nodes[x].next;
        }
        out
    }

    /// 1-based position among siblings of the same template.
    pub fn position(&self, id: NodeId) -> usize {
        let Some(parent) = self.nodes[id].parent else {
            return 1;
        };
        let tpl = self.nodes[id].tpl;
        self.nodes[parent]
            .children
            .iter()
            .filter(|&&c| self.nodes[c].tpl == tpl)
            .position(|&c| c == id)
            .map_or(1, |p| p + 1)
    }

    /// ODK's reference for a node: `/data/members[2]/name` (repeat instances
    /// always carry their index).
    pub fn reference(&self, form: &Form, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(n) = cur {
            let tpl = form.template(self.nodes[n].tpl);
            if tpl.kind == TplKind::Repeat {
                parts.push(format!("{}[{}]", tpl.name, self.position(n)));
            } else {
                parts.push(tpl.name.clone());
            }
            cur = self.nodes[n].parent;
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(&p);
        }
        s
    }

    /// Live nodes in document order (pre-order).
    pub fn walk(&self) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![self.root()];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.nodes[n].children.iter().rev().copied());
        }
        out
    }

    /// Live descendants of `id`, excluding itself.
    pub fn descendants(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = self.nodes[id].children.iter().rev().copied().collect();
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.nodes[n].children.iter().rev().copied());
        }
        out
    }

    /// Nearest ancestor-or-self instance of template `tpl`.
    pub fn ancestor_of_tpl(&self, id: NodeId, tpl: TplId) -> Option<NodeId> {
        let mut cur = Some(id);
        while let Some(n) = cur {
            if self.nodes[n].tpl == tpl {
                return Some(n);
            }
            cur = self.nodes[n].parent;
        }
        None
    }

    /// Every live instance of `tpl` under `scope` (which must be an
    /// ancestor-or-self instance of a template on `tpl`'s path).
    pub fn instances_under(&self, form: &Form, scope: NodeId, tpl: TplId) -> Vec<NodeId> {
        // Template chain from scope's template down to tpl.
        let scope_tpl = self.nodes[scope].tpl;
        let mut chain = Vec::new();
        let mut t = Some(tpl);
        while let Some(x) = t {
            if x == scope_tpl {
                break;
            }
            chain.push(x);
            t = form.template(x).parent;
        }
        if t.is_none() {
            return Vec::new();
        }
        chain.reverse();
        let mut level = vec![scope];
        for step in chain {
            let mut next = Vec::new();
            for n in level {
                next.extend(self.instances(n, step));
            }
            level = next;
        }
        level
    }
}
