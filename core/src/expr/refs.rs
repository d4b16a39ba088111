//! What an expression refers to: `${}` names, function names, paths, and
//! whether it is volatile. Form checks and the session's dependency graph
//! are built from these.

use super::ast::{Expr, Path};
use super::functions::Func;

/// Every `${name}` in the expression, in source order (repeats included).
pub fn ref_names(e: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Ref(n) = x {
            out.push(n.as_str());
        }
    });
    out
}

/// Every function name called, as written (`jr:choice-name`), in source
/// order. Check each with [`super::is_known_function`].
pub fn function_names(e: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Call(c) = x {
            out.push(c.name.as_str());
        }
    });
    out
}

/// Every function call the evaluator does not know.
pub fn unknown_functions(e: &Expr) -> Vec<&str> {
    function_names(e).into_iter().filter(|n| Func::lookup(n).is_none()).collect()
}

/// Every call that would fail at fill time whatever the answers: unknown
/// functions and wrong argument counts, as messages for form checks
/// (`unknown function foo()`, `substr() takes 2 to 3 arguments but was given 1`).
pub fn call_problems(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |x| {
        if let Expr::Call(c) = x {
            match c.func {
                None => out.push(format!("unknown function {}()", c.name)),
                Some(f) => {
                    let (min, max) = f.arity();
                    let n = c.args.len();
                    if n < min || max.is_some_and(|m| n > m) {
                        out.push(format!(
                            "{}() takes {} but was given {n}",
                            c.name,
                            super::eval::arity_text(min, max)
                        ));
                    }
                }
            }
        }
    });
    out
}

/// Arguments written as literals that can never be evaluated: a `regex()`
/// pattern that does not compile (or is too big to), a `digest()`
/// algorithm that does not exist. At fill time these are errors, which a
/// constraint treats as a refusal; `form check` reports them first.
pub fn literal_problems(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |x| {
        let Expr::Call(c) = x else { return };
        match (c.func, c.args.get(1)) {
            (Some(Func::Regex), Some(Expr::Str(pattern))) => {
                if let Err(err) = super::functions::check_regex(pattern) {
                    out.push(err);
                }
            }
            (Some(Func::Digest), Some(Expr::Str(algorithm)))
                if !super::functions::is_digest_algorithm(algorithm) =>
            {
                out.push(format!(
                    "digest(): unsupported algorithm '{algorithm}' (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
                ));
            }
            _ => {}
        }
    });
    out
}

/// Whether the value can change with nothing else changing: `now()`,
/// `today()`, `random()`, `uuid()`.
pub fn is_volatile(e: &Expr) -> bool {
    let mut v = false;
    e.walk(&mut |x| {
        if let Expr::Call(c) = x
            && c.func.is_some_and(Func::is_volatile)
        {
            v = true;
        }
    });
    v
}

/// Every location path in the expression (including those inside
/// predicates and arguments), outermost first. Relative paths are relative
/// to the expression's context node; paths inside a predicate are relative
/// to the nodes the predicate filters, see [`PathRef::in_predicate`].
pub fn paths(e: &Expr) -> Vec<PathRef<'_>> {
    let mut out = Vec::new();
    collect_paths(e, false, &mut out);
    out
}

/// A path found by [`paths`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathRef<'a> {
    pub path: &'a Path,
    /// Inside a predicate: relative steps start from the filtered nodes, not
    /// from the context node.
    pub in_predicate: bool,
}

fn collect_paths<'a>(e: &'a Expr, in_pred: bool, out: &mut Vec<PathRef<'a>>) {
    match e {
        Expr::Path(p) => {
            out.push(PathRef { path: p, in_predicate: in_pred });
            for s in &p.steps {
                for pr in &s.predicates {
                    collect_paths(pr, true, out);
                }
            }
        }
        Expr::Filter(f) => {
            collect_paths(&f.base, in_pred, out);
            for pr in &f.predicates {
                collect_paths(pr, true, out);
            }
            for s in &f.steps {
                for pr in &s.predicates {
                    collect_paths(pr, true, out);
                }
            }
        }
        Expr::Binary(_, a, b) => {
            collect_paths(a, in_pred, out);
            collect_paths(b, in_pred, out);
        }
        Expr::Neg(a) => collect_paths(a, in_pred, out),
        Expr::Call(c) => c.args.iter().for_each(|a| collect_paths(a, in_pred, out)),
        Expr::Num(_) | Expr::Str(_) | Expr::Ref(_) => {}
    }
}

/// A node (or subtree) an expression reads, as an index-free path:
/// `/data/rep/age`, `instance('villages')/root/item/district`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dependency {
    /// `/`-joined element names from the instance root; secondary instances
    /// start with `instance('id')`, an unreplaced `${name}` with `${name}`.
    pub path: String,
    /// Everything below `path` is read too (descendant axes, `*`, axes
    /// the path cannot follow statically).
    pub subtree: bool,
}

/// What an expression evaluated at `context` (an index-free absolute path
/// such as `/data/rep/calc`) reads: the dependency edges the session's
/// recomputation graph needs. Relative paths are resolved against
/// `context`, `current()` too; predicates contribute their own reads.
/// Conservative: when a path cannot be followed statically (ancestor or
/// preceding axes, a computed instance id) the whole instance is a
/// dependency.
pub fn dependencies(e: &Expr, context: &str) -> Vec<Dependency> {
    let ctx: Vec<String> = split_path(context);
    let mut out = Vec::new();
    collect_deps(e, &ctx, &ctx, &mut out);
    out.sort();
    out.dedup();
    out
}

fn split_path(p: &str) -> Vec<String> {
    p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn join(segments: &[String]) -> String {
    match segments.first() {
        Some(first) if first.starts_with("instance(") || first.starts_with("${") => {
            segments.join("/")
        }
        _ => format!("/{}", segments.join("/")),
    }
}

fn push_dep(out: &mut Vec<Dependency>, segments: &[String], subtree: bool) {
    out.push(Dependency { path: join(segments), subtree });
}

/// Follows `steps` from `start`, recording reads; returns the end path and
/// whether it became a subtree.
fn follow_steps(
    steps: &[super::ast::Step],
    start: Vec<String>,
    current: &[String],
    out: &mut Vec<Dependency>,
) -> (Vec<String>, bool) {
    use super::ast::{Axis, NodeTest};
    let mut path = start;
    let mut subtree = false;
    for step in steps {
        if subtree {
            // Below a subtree everything is already covered; predicates
            // still read their own paths.
            for p in &step.predicates {
                collect_deps(p, &path, current, out);
            }
            continue;
        }
        match (step.axis, &step.test) {
            (Axis::Child, NodeTest::Name(n)) => path.push(n.clone()),
            (Axis::Attribute, NodeTest::Name(n)) => path.push(format!("@{n}")),
            (Axis::SelfAxis, _) => {}
            (Axis::Parent, _) => {
                path.pop();
            }
            (Axis::Child | Axis::Attribute | Axis::Descendant | Axis::DescendantOrSelf, _) => {
                subtree = true
            }
            _ => {
                // ancestor, preceding, following: the whole instance.
                path.truncate(usize::from(
                    path.first().is_some_and(|f| f.starts_with("instance(")),
                ));
                subtree = true;
            }
        }
        for p in &step.predicates {
            collect_deps(p, &path, current, out);
        }
    }
    (path, subtree)
}

/// The start of a filter expression's node-set, when it is known.
fn base_path(
    base: &Expr,
    ctx: &[String],
    current: &[String],
    out: &mut Vec<Dependency>,
) -> Option<Vec<String>> {
    match base {
        Expr::Call(c) if c.func == Some(Func::Instance) => match c.args.first() {
            Some(Expr::Str(id)) => Some(vec![format!("instance('{id}')")]),
            _ => None,
        },
        Expr::Call(c) if c.func == Some(Func::Current) => Some(current.to_vec()),
        Expr::Ref(n) => Some(vec![format!("${{{n}}}")]),
        Expr::Path(p) => {
            let start = if p.absolute { Vec::new() } else { ctx.to_vec() };
            let (end, subtree) = follow_steps(&p.steps, start, current, out);
            if subtree { None } else { Some(end) }
        }
        _ => None,
    }
}

fn collect_deps(e: &Expr, ctx: &[String], current: &[String], out: &mut Vec<Dependency>) {
    match e {
        Expr::Num(_) | Expr::Str(_) => {}
        Expr::Ref(n) => push_dep(out, &[format!("${{{n}}}")], false),
        Expr::Path(p) => {
            let start = if p.absolute { Vec::new() } else { ctx.to_vec() };
            let (end, subtree) = follow_steps(&p.steps, start, current, out);
            push_dep(out, &end, subtree);
        }
        Expr::Filter(f) => {
            match base_path(&f.base, ctx, current, out) {
                Some(start) => {
                    for p in &f.predicates {
                        collect_deps(p, &start, current, out);
                    }
                    let (end, subtree) = follow_steps(&f.steps, start, current, out);
                    push_dep(out, &end, subtree);
                }
                None => {
                    // Unknown node-set (computed instance id, a union, ...):
                    // read everything the base reads, and everything at all.
                    collect_deps(&f.base, ctx, current, out);
                    for p in &f.predicates {
                        collect_deps(p, ctx, current, out);
                    }
                    push_dep(out, &[], true);
                }
            }
        }
        Expr::Binary(_, a, b) => {
            collect_deps(a, ctx, current, out);
            collect_deps(b, ctx, current, out);
        }
        Expr::Neg(a) => collect_deps(a, ctx, current, out),
        Expr::Call(c) => {
            match c.func {
                Some(Func::Current) => push_dep(out, current, false),
                // Without arguments these read the context node.
                Some(Func::String | Func::StringLength | Func::NormalizeSpace | Func::Number)
                    if c.args.is_empty() =>
                {
                    push_dep(out, ctx, false)
                }
                Some(Func::Instance) => match c.args.first() {
                    Some(Expr::Str(id)) => push_dep(out, &[format!("instance('{id}')")], true),
                    _ => push_dep(out, &[], true),
                },
                _ => {}
            }
            for a in &c.args {
                collect_deps(a, ctx, current, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn deps(src: &str, ctx: &str) -> Vec<String> {
        let Ok(e) = parse(src) else {
            return vec![format!("parse error: {src}")];
        };
        dependencies(&e, ctx)
            .into_iter()
            .map(|d| if d.subtree { format!("{}//", d.path) } else { d.path })
            .collect()
    }

    #[test]
    fn lists_refs_functions_and_volatility() {
        let e = parse("if(${a} > 1, concat(${b}, jr:choice-name(${a}, '${a}')), now())").ok();
        let Some(e) = e else { panic!("parse") };
        assert_eq!(ref_names(&e), vec!["a", "b", "a"]);
        assert_eq!(function_names(&e), vec!["if", "concat", "jr:choice-name", "now"]);
        assert!(is_volatile(&e));
        let e = parse("foo(1) + count(bar:baz(2))").ok();
        let Some(e) = e else { panic!("parse") };
        assert_eq!(unknown_functions(&e), vec!["foo", "bar:baz"]);
        assert!(!is_volatile(&e));
        let e = parse("substr('a') + foo() + concat() + if(1, 2)").ok();
        let Some(e) = e else { panic!("parse") };
        assert_eq!(
            call_problems(&e),
            vec![
                "substr() takes 2 to 3 arguments but was given 1",
                "unknown function foo()",
                "if() takes 3 arguments but was given 2",
            ]
        );
        assert!(super::super::is_known_function("jr:choice-name"));
        assert!(super::super::is_known_function("count-selected"));
        assert!(!super::super::is_known_function("count-selectd"));
    }

    #[test]
    fn resolves_paths_against_the_context() {
        assert_eq!(
            deps("/data/age > 18 and ../x = 'y'", "/data/g/calc"),
            vec!["/data/age", "/data/g/x"]
        );
        assert_eq!(deps(". > 3", "/data/q"), vec!["/data/q"]);
        assert_eq!(deps("string-length()", "/data/q"), vec!["/data/q"]);
        assert_eq!(
            deps("instance('c')/root/item[district = current()/../d]/label", "/data/g/v"),
            vec!["/data/g/d", "instance('c')/root/item/district", "instance('c')/root/item/label"]
        );
        assert_eq!(deps("sum(/data/rep/n)", "/data/t"), vec!["/data/rep/n"]);
        assert_eq!(deps("count(/data/rep)", "/data/t"), vec!["/data/rep"]);
        assert_eq!(deps("count(//n)", "/data/t"), vec!["///"]);
        assert_eq!(deps("count(/data/g/*)", "/data/t"), vec!["/data/g//"]);
        assert_eq!(deps("${a} + 1", "/data/t"), vec!["${a}"]);
        assert_eq!(deps("today() + 1", "/data/t"), Vec::<String>::new());
        assert_eq!(deps("(/data/rep/n)[2]", "/data/t"), vec!["/data/rep/n"]);
        assert_eq!(deps("/data/rep[n > 1]/s", "/data/t"), vec!["/data/rep/n", "/data/rep/s"]);
    }
}
