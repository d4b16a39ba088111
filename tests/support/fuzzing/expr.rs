//! Expression targets: the parser (with a print/re-parse round trip) and
//! evaluation against a small document with repeats and an instance.

use std::sync::OnceLock;

use enumera_core::expr::{
    Context, Document, Evaluator, FixedEnv, MemDoc, NodeId, parse, refs, testdata,
};

/// Parses the input; whatever parses must print as text that parses again
/// to the same printed text (the printer is what the XForm writer emits).
pub fn expr_parse(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(expr) = parse(src) else { return };
    let printed = expr.to_string();
    let again = match parse(&printed) {
        Ok(e) => e,
        Err(e) => panic!("{src:?} printed as {printed:?}, which does not parse: {e}"),
    };
    assert_eq!(again.to_string(), printed, "printing is not stable for {src:?}");
    // What the form checks and the dependency graph read from an expression.
    let _ = refs::ref_names(&expr);
    let _ = refs::call_problems(&expr);
    let _ = refs::is_volatile(&expr);
    let _ = refs::dependencies(&expr, "/data/hh/m/n");
}

/// The expression case table's document (tests' `testdata` feature): the
/// seeds come from that table, so they reach real nodes and instances.
fn doc() -> Option<&'static MemDoc> {
    static DOC_CELL: OnceLock<Option<MemDoc>> = OnceLock::new();
    DOC_CELL.get_or_init(|| testdata::fixture_doc().ok()).as_ref()
}

/// Evaluates whatever parses, at the root and inside a repeat instance, as
/// a value, a string, a number and a boolean. Errors are fine; panics,
/// hangs and runaway memory are not.
pub fn expr_eval(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(expr) = parse(src) else { return };
    let Some(doc) = doc() else { return };
    let env = FixedEnv::default();
    let contexts: Vec<NodeId> =
        [Some(doc.root()), doc.node_at("/data/calc"), doc.node_at("/data/rep")]
            .into_iter()
            .flatten()
            .collect();
    for node in contexts {
        let ev = Evaluator::new(doc, &env, node);
        let ctx = Context::new(node);
        let _ = ev.eval(&expr, &ctx);
        let _ = ev.eval_str(&expr, &ctx);
        let _ = ev.eval_num(&expr, &ctx);
        let _ = ev.eval_bool(&expr, &ctx);
    }
}
