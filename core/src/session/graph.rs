//! The dependency graph, at template level: which elements' expressions read
//! which elements, and the order in which to re-evaluate them.
//!
//! Paths in expressions are resolved statically against the templates (an
//! expression's `../x` means the same template for every repeat instance), so
//! the graph is built once per form. At fill time an answer to one element
//! re-evaluates only its dependents, in this order (see `recompute.rs`).

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::expr::{Axis, Expr, NodeTest, Step};

use super::form::{Template, TplId, TplKind};

/// What the expressions of a form read.
#[derive(Debug, Default)]
pub struct Reads {
    /// For each template, the templates its expressions read.
    pub deps: Vec<Vec<TplId>>,
    /// (reader, read) pairs where the reader reaches the read template
    /// through a step into a repeat (`../../rep[...]/x`, `/data/rep/x`):
    /// it reads every instance, not only the one it shares with `read`.
    pub broad: HashSet<(TplId, TplId)>,
}

/// For each template, the templates its expressions read.
pub fn dependencies(
    templates: &[Template],
    by_path: &HashMap<String, TplId>,
    child_by_name: &[HashMap<String, TplId>],
) -> Reads {
    let g =
        Graph { templates, child_by_name, in_broad: Cell::new(false), broad: Default::default() };
    let mut broad = HashSet::new();
    let deps = templates
        .iter()
        .enumerate()
        .map(|(id, t)| {
            g.broad.take();
            let mut deps = BTreeSet::new();
            let l = &t.logic;
            for e in [
                &l.relevant,
                &l.required,
                &l.readonly,
                &l.constraint,
                &l.calculate,
                &l.choice_filter,
                &l.choices_from,
            ]
            .into_iter()
            .flatten()
            {
                g.collect(id, e, &mut deps);
            }
            // A repeat's count is evaluated at the repeat's parent.
            if let Some(count) = &l.repeat_count {
                g.collect(t.parent.unwrap_or(id), count, &mut deps);
            }
            for path in &l.trigger {
                if let Some(&t) = by_path.get(path) {
                    deps.insert(t);
                }
            }
            // A relevant group hides its children: their state follows it.
            if let Some(p) = t.parent {
                deps.insert(p);
            }
            deps.remove(&id);
            for r in g.broad.take() {
                broad.insert((id, r));
            }
            deps.into_iter().collect()
        })
        .collect();
    Reads { deps, broad }
}

#[derive(Clone, Copy)]
enum Start {
    /// Above the root element (`/`).
    Document,
    Tpl(TplId),
}

/// The templates and a name index, for resolving paths statically.
struct Graph<'a> {
    templates: &'a [Template],
    child_by_name: &'a [HashMap<String, TplId>],
    /// Whether the path being walked has stepped down into a repeat.
    in_broad: Cell<bool>,
    /// What the current template reads broadly (see [`Reads::broad`]).
    broad: std::cell::RefCell<BTreeSet<TplId>>,
}

impl Graph<'_> {
    /// Adds to `out` the templates `e` reads when evaluated at template `ctx`.
    fn collect(&self, ctx: TplId, e: &Expr, out: &mut BTreeSet<TplId>) {
        match e {
            Expr::Num(_) | Expr::Str(_) => {}
            Expr::Ref(_) => {}
            Expr::Path(p) => {
                let start = if p.absolute { vec![Start::Document] } else { vec![Start::Tpl(ctx)] };
                self.resolve_steps(ctx, start, &p.steps, out);
            }
            Expr::Filter(f) => {
                // `current()/..` is relative to the bind's own node; any other base
                // (instance('list'), a parenthesised path) is walked on its own.
                let start = match &f.base {
                    Expr::Call(c) if c.name == "current" && c.args.is_empty() => {
                        Some(vec![Start::Tpl(ctx)])
                    }
                    Expr::Path(p) => {
                        let mut tmp = BTreeSet::new();
                        let start =
                            if p.absolute { vec![Start::Document] } else { vec![Start::Tpl(ctx)] };
                        let ends = self.resolve_steps(ctx, start, &p.steps, &mut tmp);
                        out.extend(tmp);
                        Some(ends.into_iter().map(Start::Tpl).collect())
                    }
                    other => {
                        self.collect(ctx, other, out);
                        None
                    }
                };
                for p in &f.predicates {
                    self.collect(ctx, p, out);
                }
                match start {
                    Some(start) => {
                        self.resolve_steps(ctx, start, &f.steps, out);
                    }
                    None => {
                        // Steps into a secondary instance: only their predicates
                        // can read the main instance (through current()).
                        for s in &f.steps {
                            for p in &s.predicates {
                                self.collect(ctx, p, out);
                            }
                        }
                    }
                }
            }
            Expr::Binary(_, a, b) => {
                self.collect(ctx, a, out);
                self.collect(ctx, b, out);
            }
            Expr::Neg(a) => self.collect(ctx, a, out),
            Expr::Call(c) => {
                for a in &c.args {
                    self.collect(ctx, a, out);
                }
            }
        }
    }

    /// Walks `steps` over the templates; every template reached is a dependency.
    /// Returns the templates at the end of the path.
    fn resolve_steps(
        &self,
        ctx: TplId,
        start: Vec<Start>,
        steps: &[Step],
        out: &mut BTreeSet<TplId>,
    ) -> Vec<TplId> {
        let templates = self.templates;
        let was_broad = self.in_broad.get();
        let mut level = start;
        for step in steps {
            let mut next: Vec<Start> = Vec::new();
            for s in &level {
                match (step.axis, s) {
                    (Axis::Child, Start::Document) => {
                        if matches_test(&step.test, &templates[0].name) {
                            next.push(Start::Tpl(0));
                        }
                    }
                    (Axis::Child, Start::Tpl(t)) => match &step.test {
                        NodeTest::Name(name) => {
                            if let Some(&c) = self.child_by_name[*t].get(name) {
                                next.push(Start::Tpl(c));
                            }
                        }
                        test => {
                            for &c in &templates[*t].children {
                                if matches_test(test, &templates[c].name) {
                                    next.push(Start::Tpl(c));
                                }
                            }
                        }
                    },
                    (Axis::SelfAxis, s) => next.push(*s),
                    (Axis::Parent, Start::Tpl(t)) => match templates[*t].parent {
                        Some(p) => next.push(Start::Tpl(p)),
                        None => next.push(Start::Document),
                    },
                    (Axis::Descendant | Axis::DescendantOrSelf, s) => {
                        let from = match s {
                            Start::Document => 0,
                            Start::Tpl(t) => *t,
                        };
                        let mut stack = vec![from];
                        while let Some(t) = stack.pop() {
                            if (t != from || step.axis == Axis::DescendantOrSelf)
                                && matches_test(&step.test, &templates[t].name)
                            {
                                next.push(Start::Tpl(t));
                            }
                            stack.extend(templates[t].children.iter().copied());
                        }
                    }
                    (Axis::Ancestor | Axis::AncestorOrSelf, Start::Tpl(t)) => {
                        let mut cur = if step.axis == Axis::AncestorOrSelf {
                            Some(*t)
                        } else {
                            templates[*t].parent
                        };
                        while let Some(a) = cur {
                            if matches_test(&step.test, &templates[a].name) {
                                next.push(Start::Tpl(a));
                            }
                            cur = templates[a].parent;
                        }
                    }
                    // Sibling and document-order axes are not used by forms in
                    // practice; depending on the parent covers them.
                    (_, Start::Tpl(t)) => {
                        if let Some(p) = templates[*t].parent {
                            next.push(Start::Tpl(p));
                            out.extend(templates[p].children.iter().copied());
                        }
                    }
                    (_, Start::Document) => {}
                }
            }
            let downward =
                matches!(step.axis, Axis::Child | Axis::Descendant | Axis::DescendantOrSelf);
            if downward
                && next
                    .iter()
                    .any(|s| matches!(s, Start::Tpl(t) if templates[*t].kind == TplKind::Repeat))
            {
                self.in_broad.set(true);
            }
            for s in &next {
                if let Start::Tpl(t) = s {
                    out.insert(*t);
                    if self.in_broad.get() {
                        self.broad.borrow_mut().insert(*t);
                    }
                    for p in &step.predicates {
                        self.collect(*t, p, out);
                        // current() inside a predicate is still the bind's node.
                        let _ = ctx;
                    }
                }
            }
            level = next;
        }
        self.in_broad.set(was_broad);
        level
            .into_iter()
            .filter_map(|s| match s {
                Start::Tpl(t) => Some(t),
                Start::Document => None,
            })
            .collect()
    }
}

fn matches_test(test: &NodeTest, name: &str) -> bool {
    match test {
        NodeTest::Name(n) => n == name,
        NodeTest::Any | NodeTest::Node => true,
        NodeTest::AnyInPrefix(p) => name.split_once(':').is_some_and(|(q, _)| q == p),
        NodeTest::Text => false,
    }
}

/// For each template, the templates that read it.
pub fn invert(deps: &[Vec<TplId>], n: usize) -> Vec<Vec<TplId>> {
    let mut out = vec![Vec::new(); n];
    for (d, reads) in deps.iter().enumerate() {
        for &r in reads {
            out[r].push(d);
        }
    }
    out
}

/// A recomputation order: every template after those it reads. A cycle
/// among calculations is an error naming it; other cycles (a relevance that
/// reads a calculation reading the same group, say) are broken in document
/// order, as ODK's engines tolerate them.
pub fn order(templates: &[Template], deps: &[Vec<TplId>]) -> Result<Vec<TplId>, String> {
    let n = templates.len();
    let mut indegree = vec![0usize; n];
    let dependents = invert(deps, n);
    for (t, reads) in deps.iter().enumerate() {
        indegree[t] = reads.len();
    }
    let mut queue: VecDeque<TplId> = (0..n).filter(|&t| indegree[t] == 0).collect();
    let mut out = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    loop {
        while let Some(t) = queue.pop_front() {
            if placed[t] {
                continue;
            }
            placed[t] = true;
            out.push(t);
            for &d in &dependents[t] {
                indegree[d] = indegree[d].saturating_sub(1);
                if indegree[d] == 0 {
                    queue.push_back(d);
                }
            }
        }
        let Some(stuck) = (0..n).find(|&t| !placed[t]) else {
            break;
        };
        if let Some(cycle) = calculate_cycle(templates, deps, stuck) {
            return Err(cycle);
        }
        queue.push_back(stuck);
    }
    Ok(out)
}

/// A cycle through calculations only, reachable from `start`, as
/// "calculation cycle: ${a} -> ${b} -> ${a}".
fn calculate_cycle(templates: &[Template], deps: &[Vec<TplId>], start: TplId) -> Option<String> {
    let is_calc = |t: TplId| templates[t].logic.calculate.is_some();
    let mut path = vec![start];
    let mut on_path = vec![false; templates.len()];
    let mut done = vec![false; templates.len()];
    fn dfs(
        t: TplId,
        deps: &[Vec<TplId>],
        is_calc: &dyn Fn(TplId) -> bool,
        path: &mut Vec<TplId>,
        on_path: &mut [bool],
        done: &mut [bool],
    ) -> Option<Vec<TplId>> {
        on_path[t] = true;
        for &d in &deps[t] {
            if !is_calc(d) {
                continue;
            }
            if on_path[d] {
                let from = path.iter().position(|&x| x == d).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(d);
                return Some(cycle);
            }
            if !done[d] {
                path.push(d);
                if let Some(c) = dfs(d, deps, is_calc, path, on_path, done) {
                    return Some(c);
                }
                path.pop();
            }
        }
        on_path[t] = false;
        done[t] = true;
        None
    }
    if !is_calc(start) {
        return None;
    }
    let cycle = dfs(start, deps, &is_calc, &mut path, &mut on_path, &mut done)?;
    let names: Vec<String> = cycle.iter().map(|&t| format!("${{{}}}", templates[t].name)).collect();
    Some(format!("calculation cycle: {}", names.join(" -> ")))
}

/// Templates that must be re-evaluated whenever the repeat structure
/// changes: those whose expressions are volatile or positional.
pub fn structural(templates: &[Template]) -> Vec<TplId> {
    templates
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind != TplKind::Root)
        .filter(|(_, t)| {
            let l = &t.logic;
            [&l.relevant, &l.required, &l.readonly, &l.constraint, &l.calculate, &l.repeat_count]
                .into_iter()
                .flatten()
                .any(positional)
        })
        .map(|(i, _)| i)
        .collect()
}

fn positional(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Call(c) = x
            && matches!(c.name.as_str(), "position" | "last" | "indexed-repeat")
        {
            found = true;
        }
    });
    found
}
