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
