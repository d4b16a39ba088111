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

/// What XML 1.0 cannot carry, as the adversarial review typed and pasted it.
const HOSTILE: [char; 6] = ['\u{0}', '\u{7}', '\u{B}', '\u{C}', '\u{1B}', '\u{FFFE}'];

fn text_of(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml:?}"));
    doc.descendants().find(|n| n.has_tag_name(name)).map(|n| n.text().unwrap_or("").to_string())
}

#[test]
fn input_at_entry_characters_xml_cannot_carry_are_refused_with_the_reason() {
    let mut s = session(json!([q("t", "text")]), json!({}));
    s.set("/data/t", "kept").unwrap();
    for c in HOSTILE {
        let err = s.set("/data/t", &format!("Word{c}text")).expect_err("refused at entry");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("U+{:04X}", c as u32)) && msg.contains("character 5"),
            "{msg}"
        );
        assert_eq!(leaf(&s.leaves(), "/data/t").value, "kept", "the old answer stays");
    }
    // What XML can carry goes through unchanged, carriage returns included.
    let fine = "a\tb\nc\r\nd <&> \"e\" \u{7F} \u{FFFD} 😀";
    s.set("/data/t", fine).unwrap();
    assert_eq!(text_of(&s.submission_xml(), "t").as_deref(), Some(fine));
}

#[test]
fn input_at_entry_computed_and_restored_values_never_make_the_submission_unreadable() {
    // A calculation can make what no one typed (base64 of U+0007 and U+000B),
    // and a draft saved before entry was checked can hold anything.
    let s = session(
        json!([
            q("t", "text"),
            bind(
                q("c", "calculate"),
                json!({"calculation": "concat('x', base64-decode('Bws='), 'y')"})
            ),
        ]),
        json!({}),
    );
    let xml = s.submission_xml();
    assert_eq!(text_of(&xml, "c").as_deref(), Some("x\u{FFFD}\u{FFFD}y"));
    let form = s.form().clone();
    let restored = Session::restore(
        form,
        SessionOptions { device_id: Some("dev\u{1B}ice".into()), ..Default::default() },
        Box::new(crate::expr::FixedEnv::default()),
        &[],
        &[("/data/t".into(), "a\u{0}b\u{B}c\u{FFFF}".into())],
    );
    let xml = restored.submission_xml();
    assert_eq!(text_of(&xml, "t").as_deref(), Some("a\u{FFFD}b\u{FFFD}c\u{FFFD}"));
}

#[test]
fn resource_bounds_nested_counts_cannot_multiply_without_end() {
    let rep = |name: &str, count: &str, children: serde_json::Value| {
        json!({"name": name, "kind": {"kind": "repeat", "count": count}, "row": 2,
               "children": children})
    };
    let mut s = session(
        json!([
            q("n", "integer"),
            q("m", "integer"),
            rep("outer", "${n}", json!([rep("inner", "${m}", json!([q("x", "text")]))])),
        ]),
        json!({}),
    );
    s.set("/data/n", "100").unwrap();
    s.set("/data/m", "50").unwrap();
    assert_eq!(s.tree.repeat_instances, 100 + 100 * 50);
    // 100 more per outer instance would pass the cap: refused and undone.
    let err = s.set("/data/m", "150").expect_err("over the cap");
    assert!(matches!(err, SessionError::TooManyRepeatInstances { limit: 10_000, .. }), "{err}");
    assert_eq!(leaf(&s.leaves(), "/data/m").value, "50", "the old answer stays");
    assert_eq!(s.tree.repeat_instances, 100 + 100 * 50, "and so do the instances");
    // 10,000 inside 10,000: refused at once, never a hundred million.
    s.set("/data/n", "10000").expect_err("over the cap");
    s.set("/data/m", "1").unwrap();
    assert_eq!(s.tree.repeat_instances, 200);
}
