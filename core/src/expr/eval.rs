//! Evaluates a parsed expression over a [`Document`] in an [`Env`].

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{Axis, BinOp, Expr, NodeTest, Path, Step};
use super::doc::{Document, NodeId, NodeKind};
use super::env::Env;
use super::functions::{DateParts, Func};
use super::value::{Value, string_to_number};

/// A failure at fill time: a function called with the wrong number of
/// arguments, an unknown function or instance, a bad regex. Syntax errors are
/// [`super::ParseError`]s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> EvalError {
        EvalError { message: message.into() }
    }
}

pub type EvalResult<T> = Result<T, EvalError>;

/// The context an expression (or a predicate inside it) is evaluated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// `.`
    pub node: NodeId,
    /// `position()`, 1-based.
    pub position: usize,
    /// `last()`.
    pub size: usize,
}

impl Context {
    pub fn new(node: NodeId) -> Context {
        Context { node, position: 1, size: 1 }
    }
}

/// Evaluates `expr` with `context` as both `.` and `current()`.
pub fn evaluate<'a>(
    expr: &'a Expr,
    doc: &'a dyn Document,
    env: &'a dyn Env,
    context: NodeId,
) -> EvalResult<Value<'a>> {
    Evaluator::new(doc, env, context).eval(expr, &Context::new(context))
}

/// Evaluates `expr` as a condition (relevant, required, constraint,
/// read_only): XPath `boolean()` of the result.
pub fn evaluate_bool(
    expr: &Expr,
    doc: &dyn Document,
    env: &dyn Env,
    context: NodeId,
) -> EvalResult<bool> {
    Ok(evaluate(expr, doc, env, context)?.to_bool())
}

/// Evaluates `expr` to the text a calculate stores: ODK's string
/// conversion (NaN is "", booleans are `true`/`false`).
pub fn evaluate_string(
    expr: &Expr,
    doc: &dyn Document,
    env: &dyn Env,
    context: NodeId,
) -> EvalResult<String> {
    Ok(evaluate(expr, doc, env, context)?.to_str(doc).into_owned())
}

/// One evaluation: the document, the environment and the node `current()`
/// refers to. Cheap to make; make one per evaluation.
pub struct Evaluator<'a> {
    pub(crate) doc: &'a dyn Document,
    pub(crate) env: &'a dyn Env,
    pub(crate) current: NodeId,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator").field("current", &self.current).finish_non_exhaustive()
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(doc: &'a dyn Document, env: &'a dyn Env, current: NodeId) -> Evaluator<'a> {
        Evaluator { doc, env, current }
    }

    pub fn eval(&self, expr: &'a Expr, ctx: &Context) -> EvalResult<Value<'a>> {
        match expr {
            Expr::Num(n) => Ok(Value::Num(*n)),
            Expr::Str(s) => Ok(Value::Str(Cow::Borrowed(s))),
            Expr::Ref(name) => Ok(Value::Nodes(self.resolve_ref(name))),
            Expr::Path(p) => self.eval_path(p, ctx).map(Value::Nodes),
            Expr::Filter(f) => {
                let base = self.eval(&f.base, ctx)?;
                let Value::Nodes(mut nodes) = base else {
                    return Err(EvalError::new(format!(
                        "cannot apply a predicate or path to a {}",
                        type_name(&base)
                    )));
                };
                for p in &f.predicates {
                    nodes = self.filter(nodes, p)?;
                }
                self.eval_steps(nodes, &f.steps).map(Value::Nodes)
            }
            Expr::Neg(a) => Ok(Value::Num(-self.eval_num(a, ctx)?)),
            Expr::Binary(op, a, b) => self.eval_binary(*op, a, b, ctx),
            Expr::Call(c) => match c.func {
                Some(f) => {
                    let (min, max) = f.arity();
                    if c.args.len() < min || max.is_some_and(|m| c.args.len() > m) {
                        return Err(EvalError::new(format!(
                            "{}() takes {} but was given {}",
                            c.name,
                            arity_text(min, max),
                            c.args.len()
                        )));
                    }
                    self.call(f, &c.args, ctx)
                }
                None => Err(EvalError::new(format!("unknown function {}()", c.name))),
            },
        }
    }

    /// Evaluates and converts to a string (NaN becomes "").
    pub fn eval_str(&self, e: &'a Expr, ctx: &Context) -> EvalResult<Cow<'a, str>> {
        Ok(self.eval(e, ctx)?.to_str(self.doc))
    }

    /// Evaluates and converts to a number, reading date strings as days.
    pub fn eval_num(&self, e: &'a Expr, ctx: &Context) -> EvalResult<f64> {
        let v = self.eval(e, ctx)?;
        Ok(self.num(&v))
    }

    pub fn eval_bool(&self, e: &'a Expr, ctx: &Context) -> EvalResult<bool> {
        Ok(self.eval(e, ctx)?.to_bool())
    }

    pub fn eval_nodes(&self, e: &'a Expr, ctx: &Context) -> EvalResult<Vec<NodeId>> {
        match self.eval(e, ctx)? {
            Value::Nodes(n) => Ok(n),
            other => Err(EvalError::new(format!("expected nodes but got a {}", type_name(&other)))),
        }
    }

    /// ODK's number conversion: as [`Value::to_num`], but a string or node
    /// that looks like an ISO date or date-time becomes days since
    /// 1970-01-01 (fractional for a time of day), as in ODK Web Forms.
    pub fn num(&self, v: &Value<'_>) -> f64 {
        match v {
            Value::Str(s) => self.str_to_num(s),
            Value::Nodes(ns) => match ns.first() {
                Some(&n) => {
                    let s = self.doc.string_value(n);
                    // A node holding only white space is empty, not 0.
                    if s.trim().is_empty() { f64::NAN } else { self.str_to_num(&s) }
                }
                None => f64::NAN,
            },
            other => other.to_num(self.doc),
        }
    }

    pub(crate) fn str_to_num(&self, s: &str) -> f64 {
        let n = string_to_number(s);
        if n.is_nan() && DateParts::looks_like_date(s) {
            return DateParts::parse(s, self.env).map_or(f64::NAN, |d| d.epoch_days());
        }
        n
    }

    /// An unreplaced `${name}`: the first element of that name in the main
    /// instance, in document order.
    fn resolve_ref(&self, name: &str) -> Vec<NodeId> {
        let mut stack = vec![self.doc.root()];
        while let Some(n) = stack.pop() {
            if self.doc.kind(n) == NodeKind::Element && self.doc.name(n) == name {
                return vec![n];
            }
            let mut kids = Vec::new();
            let mut c = self.doc.first_child(n);
            while let Some(k) = c {
                kids.push(k);
                c = self.doc.next_sibling(k);
            }
            stack.extend(kids.into_iter().rev());
        }
        Vec::new()
    }

    fn eval_path(&self, p: &'a Path, ctx: &Context) -> EvalResult<Vec<NodeId>> {
        // `/` is always the main instance, also inside a predicate over
        // `instance('x')` (as in ODK).
        let start = if p.absolute { self.doc.root() } else { ctx.node };
        self.eval_steps(vec![start], &p.steps)
    }

    pub(crate) fn eval_steps(
        &self,
        mut nodes: Vec<NodeId>,
        steps: &'a [Step],
    ) -> EvalResult<Vec<NodeId>> {
        let mut next = Vec::new();
        let mut buf = Vec::new();
        // Ordered and disjoint (no node inside another): then child,
        // attribute and self steps keep document order without sorting,
        // which spares `compare_order` on the common `/data/rep/x`.
        let mut flat = nodes.len() <= 1;
        for step in steps {
            next.clear();
            for &n in &nodes {
                if step.predicates.is_empty() {
                    self.axis_nodes(n, step, &mut next);
                    continue;
                }
                buf.clear();
                self.axis_nodes(n, step, &mut buf);
                let mut sel = std::mem::take(&mut buf);
                for p in &step.predicates {
                    sel = self.filter(sel, p)?;
                }
                next.extend_from_slice(&sel);
                buf = sel;
            }
            let keeps_flat = matches!(step.axis, Axis::Child | Axis::Attribute | Axis::SelfAxis);
            let single_forward = nodes.len() <= 1
                && !step.axis.is_reverse()
                && !matches!(step.axis, Axis::Following);
            std::mem::swap(&mut nodes, &mut next);
            if !(single_forward || (flat && keeps_flat)) {
                self.sort_unique(&mut nodes);
            }
            flat = (flat && keeps_flat) || nodes.len() <= 1;
        }
        Ok(nodes)
    }

    pub(crate) fn sort_unique(&self, nodes: &mut Vec<NodeId>) {
        if nodes.len() > 1 {
            let doc = self.doc;
            if !nodes.windows(2).all(|w| doc.compare_order(w[0], w[1]) == Ordering::Less) {
                nodes.sort_by(|a, b| doc.compare_order(*a, *b));
                nodes.dedup();
            }
        }
    }

    /// Keeps the nodes for which `pred` holds, with positions counted in
    /// the order given (axis order).
    fn filter(&self, nodes: Vec<NodeId>, pred: &'a Expr) -> EvalResult<Vec<NodeId>> {
        if let Expr::Num(k) = pred {
            let k = *k;
            let keep = if k >= 1.0 && k.fract() == 0.0 {
                nodes.get(k as usize - 1).copied()
            } else {
                None
            };
            return Ok(keep.into_iter().collect());
        }
        let size = nodes.len();
        let mut out = Vec::with_capacity(size);
        for (i, &n) in nodes.iter().enumerate() {
            let c = Context { node: n, position: i + 1, size };
            let keep = match self.eval(pred, &c)? {
                Value::Num(k) => k == (i + 1) as f64,
                v => v.to_bool(),
            };
            if keep {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn test(&self, n: NodeId, test: &NodeTest, principal: NodeKind) -> bool {
        let kind = self.doc.kind(n);
        match test {
            NodeTest::Node => true,
            NodeTest::Text => false,
            NodeTest::Any => kind == principal,
            NodeTest::Name(name) => kind == principal && self.doc.name(n) == name,
            NodeTest::AnyInPrefix(p) => {
                kind == principal
                    && self.doc.name(n).split_once(':').is_some_and(|(pre, _)| pre == p)
            }
        }
    }

    /// Appends the nodes on `step.axis` from `n` that pass the node test,
    /// in axis order (reverse axes nearest first).
    fn axis_nodes(&self, n: NodeId, step: &Step, out: &mut Vec<NodeId>) {
        let doc = self.doc;
        let t = &step.test;
        let el = NodeKind::Element;
        match step.axis {
            Axis::Child => {
                if let NodeTest::Name(name) = t {
                    doc.children_named(n, name, out);
                    return;
                }
                let mut c = doc.first_child(n);
                while let Some(k) = c {
                    if self.test(k, t, el) {
                        out.push(k);
                    }
                    c = doc.next_sibling(k);
                }
            }
            Axis::Attribute => {
                if doc.kind(n) == NodeKind::Element {
                    let mut c = doc.first_attribute(n);
                    while let Some(k) = c {
                        if self.test(k, t, NodeKind::Attribute) {
                            out.push(k);
                        }
                        c = doc.next_sibling(k);
                    }
                }
            }
            Axis::SelfAxis => {
                if self.test(n, t, self.principal_self(n)) {
                    out.push(n);
                }
            }
            Axis::Parent => {
                if let Some(p) = doc.parent(n)
                    && self.test(p, t, el)
                {
                    out.push(p);
                }
            }
            Axis::Ancestor | Axis::AncestorOrSelf => {
                if step.axis == Axis::AncestorOrSelf && self.test(n, t, self.principal_self(n)) {
                    out.push(n);
                }
                let mut p = doc.parent(n);
                while let Some(a) = p {
                    if self.test(a, t, el) {
                        out.push(a);
                    }
                    p = doc.parent(a);
                }
            }
            Axis::Descendant | Axis::DescendantOrSelf => {
                if step.axis == Axis::DescendantOrSelf && self.test(n, t, self.principal_self(n)) {
                    out.push(n);
                }
                if doc.kind(n) != NodeKind::Attribute {
                    self.descendants(n, t, out);
                }
            }
            Axis::FollowingSibling | Axis::PrecedingSibling => {
                if doc.kind(n) == NodeKind::Attribute {
                    return;
                }
                let fwd = step.axis == Axis::FollowingSibling;
                let mut c = if fwd { doc.next_sibling(n) } else { doc.prev_sibling(n) };
                while let Some(k) = c {
                    if self.test(k, t, el) {
                        out.push(k);
                    }
                    c = if fwd { doc.next_sibling(k) } else { doc.prev_sibling(k) };
                }
            }
            Axis::Following | Axis::Preceding => {
                let fwd = step.axis == Axis::Following;
                let mut cur =
                    if doc.kind(n) == NodeKind::Attribute { doc.parent(n) } else { Some(n) };
                while let Some(x) = cur {
                    let mut s = if fwd { doc.next_sibling(x) } else { doc.prev_sibling(x) };
                    while let Some(sib) = s {
                        if fwd {
                            if self.test(sib, t, el) {
                                out.push(sib);
                            }
                            self.descendants(sib, t, out);
                        } else {
                            let mut sub = Vec::new();
                            if self.test(sib, t, el) {
                                sub.push(sib);
                            }
                            self.descendants(sib, t, &mut sub);
                            out.extend(sub.into_iter().rev());
                        }
                        s = if fwd { doc.next_sibling(sib) } else { doc.prev_sibling(sib) };
                    }
                    cur = doc.parent(x);
                }
            }
        }
    }

    fn principal_self(&self, n: NodeId) -> NodeKind {
        match self.doc.kind(n) {
            NodeKind::Attribute => NodeKind::Attribute,
            _ => NodeKind::Element,
        }
    }

    fn descendants(&self, n: NodeId, t: &NodeTest, out: &mut Vec<NodeId>) {
        let mut c = self.doc.first_child(n);
        while let Some(k) = c {
            if self.test(k, t, NodeKind::Element) {
                out.push(k);
            }
            self.descendants(k, t, out);
            c = self.doc.next_sibling(k);
        }
    }

    fn eval_binary(
        &self,
        op: BinOp,
        a: &'a Expr,
        b: &'a Expr,
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        if !matches!(a, Expr::Binary(..)) {
            let x = self.eval(a, ctx)?;
            return self.apply_binary(op, x, b, ctx);
        }
        // A long chain (`a + b + c + ...`) leans left; walking its spine in a
        // loop keeps the stack flat however long the chain is.
        let mut spine: Vec<(BinOp, &'a Expr)> = vec![(op, b)];
        let mut leftmost = a;
        while let Expr::Binary(o, l, r) = leftmost {
            spine.push((*o, r));
            leftmost = l;
        }
        let mut acc = self.eval(leftmost, ctx)?;
        for (o, r) in spine.into_iter().rev() {
            acc = self.apply_binary(o, acc, r, ctx)?;
        }
        Ok(acc)
    }

    /// `x op b`, with `b` evaluated only when needed (`and`, `or`).
    fn apply_binary(
        &self,
        op: BinOp,
        x: Value<'a>,
        b: &'a Expr,
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        Ok(match op {
            BinOp::Or => Value::Bool(x.to_bool() || self.eval_bool(b, ctx)?),
            BinOp::And => Value::Bool(x.to_bool() && self.eval_bool(b, ctx)?),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let x = self.num(&x);
                let y = self.eval_num(b, ctx)?;
                Value::Num(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div => x / y,
                    _ => x % y,
                })
            }
            BinOp::Union => {
                let Value::Nodes(mut x) = x else {
                    return Err(EvalError::new(format!(
                        "expected nodes but got a {}",
                        type_name(&x)
                    )));
                };
                x.extend(self.eval_nodes(b, ctx)?);
                self.sort_unique(&mut x);
                Value::Nodes(x)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let y = self.eval(b, ctx)?;
                Value::Bool(self.compare(op, &x, &y))
            }
        })
    }

    /// XPath 1.0 comparison (3.4), including the existential rules for
    /// node-sets.
    pub(crate) fn compare(&self, op: BinOp, x: &Value<'_>, y: &Value<'_>) -> bool {
        match (x, y) {
            (Value::Nodes(xs), Value::Nodes(ys)) => xs.iter().any(|&m| {
                let sm = self.doc.string_value(m);
                ys.iter().any(|&n| {
                    let sn = self.doc.string_value(n);
                    self.compare_atoms(op, &Value::Str(sm.clone()), &Value::Str(sn))
                })
            }),
            (Value::Nodes(xs), other) => self.compare_nodes(op, xs, other, false),
            (other, Value::Nodes(ys)) => self.compare_nodes(op, ys, other, true),
            _ => self.compare_atoms(op, x, y),
        }
    }

    fn compare_nodes(&self, op: BinOp, nodes: &[NodeId], other: &Value<'_>, flipped: bool) -> bool {
        if let Value::Bool(b) = other {
            let nb = Value::Bool(!nodes.is_empty());
            let ob = Value::Bool(*b);
            return if flipped {
                self.compare_atoms(op, &ob, &nb)
            } else {
                self.compare_atoms(op, &nb, &ob)
            };
        }
        nodes.iter().any(|&n| {
            let s = Value::Str(self.doc.string_value(n));
            let nv =
                if let Value::Num(_) = other { Value::Num(self.num_of_node_str(&s)) } else { s };
            if flipped {
                self.compare_atoms(op, other, &nv)
            } else {
                self.compare_atoms(op, &nv, other)
            }
        })
    }

    fn num_of_node_str(&self, s: &Value<'_>) -> f64 {
        match s {
            Value::Str(t) if t.trim().is_empty() => f64::NAN,
            Value::Str(t) => self.str_to_num(t),
            other => self.num(other),
        }
    }

    fn compare_atoms(&self, op: BinOp, x: &Value<'_>, y: &Value<'_>) -> bool {
        match op {
            BinOp::Eq | BinOp::Ne => {
                let eq = match (x, y) {
                    (Value::Bool(_), _) | (_, Value::Bool(_)) => x.to_bool() == y.to_bool(),
                    (Value::Num(_), _) | (_, Value::Num(_)) => self.num(x) == self.num(y),
                    _ => x.to_str(self.doc) == y.to_str(self.doc),
                };
                eq == (op == BinOp::Eq)
            }
            _ => {
                let (a, b) = (self.num(x), self.num(y));
                match op {
                    BinOp::Lt => a < b,
                    BinOp::Le => a <= b,
                    BinOp::Gt => a > b,
                    _ => a >= b,
                }
            }
        }
    }

    /// Dispatches a call of a known function (arity already checked).
    fn call(&self, f: Func, args: &'a [Expr], ctx: &Context) -> EvalResult<Value<'a>> {
        self.call_function(f, args, ctx)
    }
}

pub(crate) fn arity_text(min: usize, max: Option<usize>) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    match max {
        Some(m) if m == min => format!("{min} {}", plural(min)),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} {}", plural(min)),
    }
}

pub(crate) fn type_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Num(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Nodes(_) => "node-set",
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::{Document, FixedEnv, MemDoc, evaluate, parse};

    fn doc() -> MemDoc {
        let mut d = MemDoc::from_xml(
            "<data><age>34</age><name>Ana</name><rep><x>1</x></rep><rep><x>2</x></rep><rep><x>5</x></rep><e/></data>",
        )
        .unwrap_or_default();
        d.add_instance_rows("yn", &["name", "label"], &[&["yes", "Yes"], &["no", "No"]]);
        d
    }

    fn s(src: &str) -> String {
        let d = doc();
        let env = FixedEnv::default();
        let Ok(e) = parse(src) else {
            return format!("parse error: {src}");
        };
        let ctx = d.node_at("/data/rep[2]/x").unwrap_or(d.root());
        match evaluate(&e, &d, &env, ctx) {
            Ok(v) => v.to_str(&d).into_owned(),
            Err(err) => format!("error: {err}"),
        }
    }

    #[test]
    fn convenience_entry_points() {
        use crate::expr::{evaluate_bool, evaluate_string};
        let d = doc();
        let env = FixedEnv::default();
        let cond = parse("/data/age > 30").ok();
        let calc = parse("/data/age div 0 - /data/age div 0").ok();
        let (Some(cond), Some(calc)) = (cond, calc) else { panic!("parse") };
        assert_eq!(evaluate_bool(&cond, &d, &env, d.root()), Ok(true));
        assert_eq!(evaluate_string(&calc, &d, &env, d.root()), Ok(String::new()));
    }

    #[test]
    fn paths_predicates_and_operators() {
        assert_eq!(s("/data/age + 1"), "35");
        assert_eq!(s("/data/age > 18 and /data/name = 'Ana'"), "true");
        assert_eq!(s("count(/data/rep)"), "3");
        assert_eq!(s("sum(/data/rep/x)"), "8");
        assert_eq!(s("/data/rep[x > 1][1]/x"), "2");
        assert_eq!(s("/data/rep[last()]/x"), "5");
        assert_eq!(s("."), "2");
        assert_eq!(s("../../age"), "34");
        assert_eq!(s("../preceding-sibling::rep/x"), "1");
        assert_eq!(s("count(//x)"), "3");
        assert_eq!(s("instance('yn')/root/item[name = 'no']/label"), "No");
        assert_eq!(s("/data/rep/x = 5"), "true");
        assert_eq!(s("/data/rep/x != 5"), "true");
        assert_eq!(s("/data/e + 1"), "");
        assert_eq!(s("${age} * 2"), "68");
        assert_eq!(s("position(..)"), "2");
        assert_eq!(s("count(/data/rep | /data/rep[1])"), "3");
        assert_eq!(s("nope(1)"), "error: unknown function nope()");
        assert_eq!(s("concat('a')"), "a");
        assert_eq!(s("substring('12345', 2, 3)"), "234");
    }
}
