//! Incremental recomputation: after an answer or a repeat change, evaluate
//! exactly the nodes whose expressions read what changed, in the form's
//! dependency order, and keep going only while something really changes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::expr::{Context, Evaluator, Expr};

use super::Session;
use super::doc::{SessionDoc, SessionEnv, xid};
use super::form::{TplId, TplKind};
use super::tree::NodeId;

/// Work waiting to be done: evaluate template `tpl` at node `node` (for a
/// count-controlled repeat whose node is the repeat's parent: its count).
type Item = Reverse<(usize, TplId, NodeId)>;

/// A guard against oscillation in forms whose logic is cyclic through
/// relevance (cycles through calculations are refused at compile time).
const MAX_EVALS_PER_NODE: u32 = 8;

#[derive(Debug, Default)]
pub(crate) struct Worklist {
    heap: BinaryHeap<Item>,
    /// Generation stamps, to enqueue each (node, template) once per round.
    queued: Vec<u32>,
    /// Evaluations of each node this round, as (round, count): stamped so
    /// that starting a round costs nothing, whatever the size of the form.
    evals: Vec<(u32, u32)>,
    generation: u32,
}

impl Session {
    /// Evaluates everything, in dependency order (at start).
    pub(crate) fn recompute_all(&mut self) {
        self.begin_round();
        let form = self.form.clone();
        for (tpl, t) in form.templates.iter().enumerate() {
            if t.logic.repeat_count.is_some()
                && let Some(parent) = t.parent
            {
                for p in self.tree.instances_under(&form, self.tree.root(), parent) {
                    self.enqueue(tpl, p);
                }
            }
        }
        for n in self.tree.walk() {
            self.enqueue(self.tree.node(n).tpl, n);
        }
        self.run();
    }

    pub(crate) fn begin_round(&mut self) {
        let w = &mut self.work;
        w.generation = w.generation.wrapping_add(1);
        if w.generation == 0 {
            w.queued.iter_mut().for_each(|g| *g = 0);
            w.evals.iter_mut().for_each(|e| *e = (0, 0));
            w.generation = 1;
        }
        let n = self.tree.nodes.len();
        w.queued.resize(n, 0);
        w.evals.resize(n, (0, 0));
    }

    pub(crate) fn enqueue(&mut self, tpl: TplId, node: NodeId) {
        let order = self.form.template(tpl).order;
        let w = &mut self.work;
        if w.queued.len() <= node {
            w.queued.resize(node + 1, 0);
            w.evals.resize(node + 1, (0, 0));
        }
        // A count item shares its parent node's slot with the parent's own
        // item, so stamp only the node's own template.
        let is_own = self.tree.node(node).tpl == tpl;
        if is_own {
            if w.queued[node] == w.generation {
                return;
            }
            w.queued[node] = w.generation;
        }
        w.heap.push(Reverse((order, tpl, node)));
    }

    /// Processes the worklist until nothing changes any more.
    pub(crate) fn run(&mut self) {
        while let Some(Reverse((_, tpl, node))) = self.work.heap.pop() {
            if !self.tree.node(node).alive {
                continue;
            }
            if self.tree.node(node).tpl == tpl {
                self.work.queued[node] = 0;
                let generation = self.work.generation;
                let evals = &mut self.work.evals[node];
                if evals.0 != generation {
                    *evals = (generation, 0);
                }
                if evals.1 >= MAX_EVALS_PER_NODE {
                    continue;
                }
                evals.1 += 1;
                let (value_changed, relevance_changed, readonly_changed) = self.evaluate_node(node);
                if value_changed || relevance_changed {
                    self.enqueue_dependents(node);
                }
                if relevance_changed || readonly_changed {
                    // Children inherit relevance and read-only.
                    let children = self.tree.node(node).children.clone();
                    for c in children {
                        self.enqueue(self.tree.node(c).tpl, c);
                    }
                }
            } else {
                self.evaluate_count(tpl, node);
            }
        }
    }

    /// Queues every node whose expressions read `node`'s template, limited to
    /// the repeat instance both share when they share one.
    pub(crate) fn enqueue_dependents(&mut self, node: NodeId) {
        let form = self.form.clone();
        let tpl = self.tree.node(node).tpl;
        for &d in &form.dependents[tpl] {
            // A reader that reaches into other instances (`../../rep[..]/x`)
            // depends on every instance, not just the one it shares.
            let shared = shared_repeat(&form.templates, tpl, d)
                .filter(|&r| r == d || !form.broad_reads.contains(&(d, tpl)));
            let scope =
                shared.and_then(|r| self.tree.ancestor_of_tpl(node, r)).unwrap_or(self.tree.root());
            let dt = form.template(d);
            if dt.logic.repeat_count.is_some()
                && let Some(parent) = dt.parent
            {
                let scope = if shared == Some(d) { self.tree.root() } else { scope };
                for p in self.tree.instances_under(&form, scope, parent) {
                    self.enqueue(d, p);
                }
            }
            if shared == Some(d) {
                // The dependent is the repeat that contains us: just our instance.
                if let Some(inst) = self.tree.ancestor_of_tpl(node, d) {
                    self.enqueue(d, inst);
                }
                continue;
            }
            for inst in self.tree.instances_under(&form, scope, d) {
                self.enqueue(d, inst);
            }
        }
    }

    /// Re-evaluates one node's expressions. Returns whether its effective
    /// value, its relevance and its read-only state changed.
    fn evaluate_node(&mut self, node: NodeId) -> (bool, bool, bool) {
        let form = self.form.clone();
        let n = self.tree.node(node);
        let t = form.template(n.tpl);
        let before_value = n.effective().to_string();
        let before_relevant = n.relevant;
        let before_readonly = n.readonly;
        let parent = n.parent.map(|p| self.tree.node(p));
        let parent_relevant = parent.is_none_or(|p| p.relevant);
        let parent_readonly = parent.is_some_and(|p| p.readonly);

        let self_relevant = self.eval_bool(t.logic.relevant.as_ref(), node, true);
        let relevant = self_relevant && parent_relevant;
        // Fail closed: a `required` that cannot be evaluated requires.
        let (required, required_error) = match self.try_eval_bool(t.logic.required.as_ref(), node) {
            Ok(r) => (r.unwrap_or(false), None),
            Err(e) => (true, Some(e)),
        };
        let readonly = parent_readonly
            || matches!(t.kind, TplKind::Leaf(q) if q == crate::instrument::QuestionType::Note)
            || self.eval_bool(t.logic.readonly.as_ref(), node, false);
        let shown = (t.logic.choice_filter.is_some() || t.logic.choices_from.is_some())
            .then(|| self.offered_value(node));
        let calculated = match (&t.logic.calculate, t.logic.trigger.is_empty()) {
            (Some(calc), true) if self.user_set != Some(node) => {
                let v = self.eval_string(calc, node);
                Some(self.fit_to_type(node, v))
            }
            _ => None,
        };

        let n = self.tree.node_mut(node);
        n.self_relevant = self_relevant;
        n.relevant = relevant;
        n.required = required;
        n.readonly = readonly;
        if let Some(v) = calculated {
            n.value = v;
        }
        if let Some(shown) = shown {
            n.shown = (shown != n.value).then_some(shown);
        }
        let has_value = !n.value.is_empty();
        // Fail closed: a constraint that cannot be evaluated (a regex too
        // big to compile, an impossible date) refuses the value, with the
        // reason, rather than letting anything through.
        let (constraint_valid, constraint_error) = if !relevant || !has_value {
            (true, None)
        } else {
            match self.try_eval_bool(t.logic.constraint.as_ref(), node) {
                Ok(v) => (v.unwrap_or(true), None),
                Err(e) => (false, Some(e)),
            }
        };
        let n = self.tree.node_mut(node);
        n.constraint_valid = constraint_valid;
        n.logic_error = constraint_error.or(required_error);
        (n.effective() != before_value, relevant != before_relevant, readonly != before_readonly)
    }

    /// Makes the number of instances of count-controlled repeat `tpl` under
    /// `parent` equal to its `repeat_count`.
    fn evaluate_count(&mut self, tpl: TplId, parent: NodeId) {
        let form = self.form.clone();
        let Some(count) = form.template(tpl).logic.repeat_count.as_ref() else {
            return;
        };
        // As ODK Web Forms does (its RepeatRangeControlled): the count is
        // applied whether or not the repeat is relevant (a hidden group gets
        // its counted instances, hidden too); a count that reads blank (a
        // question not answered yet, or hidden) keeps the instances there
        // are, with their answers; a negative one means none; fractions
        // truncate.
        let n = self.with_evaluator(parent, |ev| {
            ev.eval_num(count, &Context::new(xid(parent))).unwrap_or(f64::NAN)
        });
        if n.is_nan() {
            return;
        }
        let wanted = if n > 0.0 { n.min(MAX_REPEAT_COUNT as f64) as usize } else { 0 };
        let have = self.tree.instances(parent, tpl);
        if have.len() == wanted {
            return;
        }
        let room = MAX_REPEAT_INSTANCES.saturating_sub(self.tree.repeat_instances);
        let wanted = if wanted > have.len() + room {
            self.overflow =
                Some(format!("{}/{}", self.tree.reference(&form, parent), form.template(tpl).name));
            have.len() + room
        } else {
            wanted
        };
        if have.len() < wanted {
            let after = have.last().copied();
            let ids = self.tree.instantiate_many(&form, tpl, parent, after, wanted - have.len());
            for id in ids {
                self.created_one(id);
            }
            self.enqueue_structural();
        } else {
            for &gone in &have[wanted..] {
                self.removed_one(gone);
            }
            self.enqueue_structural();
        }
    }

    /// After a repeat instance appears: evaluate its subtree, apply dynamic
    /// defaults once, and tell whoever counts or sums the repeat.
    pub(crate) fn created(&mut self, instance: NodeId) {
        self.created_one(instance);
        self.enqueue_structural();
    }

    /// [`Session::created`] without telling position-dependent
    /// expressions (the caller does, once for many instances).
    fn created_one(&mut self, instance: NodeId) {
        let mut nodes = vec![instance];
        nodes.extend(self.tree.descendants(instance));
        self.work.queued.resize(self.tree.nodes.len(), 0);
        self.work.evals.resize(self.tree.nodes.len(), (0, 0));
        self.apply_dynamic_defaults(&nodes);
        for n in nodes {
            self.enqueue(self.tree.node(n).tpl, n);
            self.enqueue_dependents(n);
        }
    }

    /// Before a repeat instance goes: tell whoever read it, then drop it.
    pub(crate) fn removed(&mut self, instance: NodeId) {
        self.removed_one(instance);
        self.enqueue_structural();
    }

    fn removed_one(&mut self, instance: NodeId) {
        let mut nodes = vec![instance];
        nodes.extend(self.tree.descendants(instance));
        // Blank them first so that dependents see them leave.
        for &n in &nodes {
            self.tree.node_mut(n).relevant = false;
        }
        for &n in &nodes {
            self.enqueue_dependents(n);
        }
        self.tree.remove(instance);
    }

    fn enqueue_structural(&mut self) {
        let form = self.form.clone();
        for &t in &form.structural {
            for inst in self.tree.instances_under(&form, self.tree.root(), t) {
                self.enqueue(t, inst);
            }
        }
    }

    /// A select's stored picks that its current choices still offer, in
    /// the order stored (Web Forms filters a select's value by its itemset
    /// and keeps the stored picks for when they return).
    fn offered_value(&self, node: NodeId) -> String {
        let stored = &self.tree.node(node).value;
        if stored.is_empty() {
            return String::new();
        }
        let multi =
            self.form.template(self.tree.node(node).tpl).qtype().is_some_and(|q| q.is_multi());
        let picked: Vec<&str> =
            if multi { stored.split_whitespace().collect() } else { vec![stored.trim()] };
        let offered = self.options_of(node);
        let mut out: Vec<&str> = Vec::new();
        for p in picked {
            if offered.iter().any(|o| o.value == p) && !out.contains(&p) {
                out.push(p);
            }
        }
        out.join(" ")
    }

    pub(crate) fn apply_dynamic_defaults(&mut self, nodes: &[NodeId]) {
        let form = self.form.clone();
        for &n in nodes {
            let t = form.template(self.tree.node(n).tpl);
            if let Some(d) = &t.logic.dynamic_default
                && self.tree.node(n).value.is_empty()
            {
                let v = self.eval_string(d, n);
                let v = self.fit_to_type(n, v);
                self.tree.node_mut(n).value = v;
            }
        }
    }

    /// A computed value (a calculation, a dynamic default, a trigger's
    /// value) as ODK stores it in a question of this type: what the type
    /// cannot hold is empty (`maybe` for a yes/no select, `now()` for a
    /// date), numbers take the type's form (`5` in a decimal is `5.0`,
    /// `1.5` in an integer is `1`). Calculates and text keep any value.
    pub(crate) fn fit_to_type(&self, node: NodeId, v: String) -> String {
        use crate::instrument::QuestionType as Q;
        let t = self.form.template(self.tree.node(node).tpl);
        let Some(q) = t.qtype() else { return v };
        match q {
            Q::Calculate | Q::Hidden | Q::Text | Q::Note | Q::Barcode => v,
            _ if v.is_empty() => v,
            _ if q.is_select() => self.coerce_choices(node, q, &v),
            Q::Range => {
                let as_type = match t.node.as_ref() {
                    Some(n) if crate::instrument::xform::bind_type(n, q) == "decimal" => Q::Decimal,
                    _ => Q::Integer,
                };
                super::values::coerce(as_type, &v)
            }
            Q::Integer
            | Q::Decimal
            | Q::Date
            | Q::Time
            | Q::DateTime
            | Q::Geopoint
            | Q::Geotrace
            | Q::Geoshape => super::values::coerce(q, &v),
            _ => v,
        }
    }

    /// Runs `f` with an evaluator whose `current()` is `node`.
    pub(crate) fn with_evaluator<R>(&self, node: NodeId, f: impl FnOnce(&Evaluator<'_>) -> R) -> R {
        let doc = SessionDoc { form: &self.form, tree: &self.tree };
        let env = SessionEnv {
            inner: self.env.as_ref(),
            form: &self.form,
            tree: &self.tree,
            language: self.language.as_deref(),
        };
        f(&Evaluator::new(&doc, &env, xid(node)))
    }

    pub(crate) fn eval_bool(&self, e: Option<&Expr>, node: NodeId, default: bool) -> bool {
        let Some(e) = e else { return default };
        self.with_evaluator(node, |ev| ev.eval_bool(e, &Context::new(xid(node))).unwrap_or(default))
    }

    /// An optional boolean expression, with its evaluation error as text
    /// (for the fail-closed columns: constraint and required).
    pub(crate) fn try_eval_bool(
        &self,
        e: Option<&Expr>,
        node: NodeId,
    ) -> Result<Option<bool>, String> {
        let Some(e) = e else { return Ok(None) };
        self.with_evaluator(node, |ev| {
            ev.eval_bool(e, &Context::new(xid(node))).map(Some).map_err(|err| err.to_string())
        })
    }

    pub(crate) fn eval_string(&self, e: &Expr, node: NodeId) -> String {
        self.with_evaluator(node, |ev| {
            ev.eval_str(e, &Context::new(xid(node))).map(|s| s.into_owned()).unwrap_or_default()
        })
    }
}

/// A cap on count-controlled repeats so that a typo (`${age} * 1000`) cannot
/// exhaust a tablet's memory.
pub const MAX_REPEAT_COUNT: usize = 10_000;

/// A cap on repeat instances in one response, at every level together: a
/// count of 10,000 inside another of 10,000 would otherwise ask for a
/// hundred million (issue 15, finding 7). A step that would pass it is
/// refused and undone.
pub const MAX_REPEAT_INSTANCES: usize = 10_000;

/// The innermost repeat template that contains (or is) both `a` and `b`.
pub(crate) fn shared_repeat(
    templates: &[super::form::Template],
    a: TplId,
    b: TplId,
) -> Option<TplId> {
    let mut ra = templates[a].repeat;
    while let Some(r) = ra {
        let mut cur = Some(b);
        while let Some(x) = cur {
            if x == r {
                return Some(r);
            }
            cur = templates[x].parent;
        }
        ra = templates[r].parent.and_then(|p| templates[p].repeat);
    }
    None
}
