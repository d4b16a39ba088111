//! Regression tests for the hardening classes of issue 15 that live in the
//! session (docs/RELIABILITY.md, "Hardening classes"): each is named after
//! its class.

use serde_json::json;

use super::tests::{bind, leaf, q, session};
use super::*;

/// A pattern the regex engine refuses to compile (over its size limit).
const HUGE: &str = "^\\w{100000}$";

#[test]
fn fail_closed_a_constraint_that_cannot_be_evaluated_refuses_the_value() {
    let mut s = session(
        json!([
            bind(q("code", "text"), json!({"constraint": format!("regex(., '{HUGE}')")})),
            q("n", "integer"),
            // Only known when filling: form check cannot see this one.
            bind(q("tag", "text"), json!({"constraint": "regex(., concat('^\\w{', ${n}, '}$'))"}),),
            bind(q("must", "text"), json!({"required": "regex('a', concat('^\\w{', ${n}, '}$'))"})),
        ]),
        json!({}),
    );
    s.set("/data/code", "abc").expect("a set that violates is stored, as in ODK");
    let l = s.leaves();
    let code = leaf(&l, "/data/code");
    assert!(!code.constraint_valid, "an unevaluable constraint never lets a value through");
    let msg = code.violation_message.as_deref().unwrap_or_default();
    assert!(msg.contains("cannot be checked") && msg.contains("size limit"), "{msg}");

    s.set("/data/n", "3").unwrap();
    s.set("/data/tag", "abc").unwrap();
    assert!(leaf(&s.leaves(), "/data/tag").constraint_valid, "a pattern that compiles works");
    s.set("/data/n", "100000").unwrap();
    let l = s.leaves();
    assert!(!leaf(&l, "/data/tag").constraint_valid, "re-checked when its pattern grows too big");
    let must = leaf(&l, "/data/must");
    assert!(must.required && !must.required_valid, "an unevaluable required requires");

    let blockers = s.blockers();
    for r in ["/data/code", "/data/tag", "/data/must"] {
        assert!(
            blockers.iter().any(|b| matches!(b, Blocker::Constraint { reference, .. }
                | Blocker::Required { reference, .. } if reference == r)),
            "{r} blocks finalizing: {blockers:?}"
        );
    }
}
