//! Property tests: printing a tree and parsing it back gives the same tree,
//! and neither parsing nor evaluating anything panics.

use proptest::prelude::*;

use super::ast::{Axis, BinOp, Call, Expr, Filter, NodeTest, Path, Step};
use super::testdata::fixture_doc;
use super::{Document, FixedEnv, evaluate, parse};

const NAMES: &[&str] = &[
    "data",
    "age",
    "rep",
    "n",
    "s",
    "g",
    "inner",
    "item",
    "name",
    "div",
    "jr:template",
    "x-y",
    "a.b",
];
const FUNCS: &[&str] = &[
    "count",
    "concat",
    "if",
    "substr",
    "jr:choice-name",
    "selected",
    "sum",
    "round",
    "today",
    "format-date",
    "regex",
    "not",
    "randomize",
    "no-such-fn",
    "position",
    "instance",
    "current",
];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_string)
}

fn literal() -> impl Strategy<Value = String> {
    // Any text that one kind of quote can hold.
    "[a-zA-Z0-9 _'.,é😀-]{0,8}|[a-z \"]{0,6}"
}

fn step(inner: BoxedStrategy<Expr>) -> impl Strategy<Value = Step> {
    let axis = prop::sample::select(vec![
        Axis::Child,
        Axis::Parent,
        Axis::SelfAxis,
        Axis::Ancestor,
        Axis::AncestorOrSelf,
        Axis::Descendant,
        Axis::DescendantOrSelf,
        Axis::Attribute,
        Axis::FollowingSibling,
        Axis::PrecedingSibling,
        Axis::Following,
        Axis::Preceding,
    ]);
    let test = prop_oneof![
        4 => name().prop_map(NodeTest::Name),
        1 => Just(NodeTest::Any),
        1 => Just(NodeTest::AnyInPrefix("jr".into())),
        1 => Just(NodeTest::Node),
        1 => Just(NodeTest::Text),
    ];
    (axis, test, prop::collection::vec(inner, 0..2)).prop_map(|(axis, test, predicates)| Step {
        axis,
        test,
        predicates,
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..100_000, 0u32..4)
            .prop_map(|(n, d)| Expr::Num(f64::from(n) / f64::from(10u32.pow(d)))),
        literal().prop_map(Expr::Str),
        "[a-z_][a-z0-9_]{0,5}".prop_map(Expr::Ref),
        Just(Expr::Path(Path { absolute: true, steps: vec![] })),
        name().prop_map(|n| Expr::Path(Path {
            absolute: false,
            steps: vec![Step { axis: Axis::Child, test: NodeTest::Name(n), predicates: vec![] }],
        })),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let binop = prop::sample::select(vec![
            BinOp::Or,
            BinOp::And,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Mod,
            BinOp::Union,
        ]);
        prop_oneof![
            (binop, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
            inner.clone().prop_map(|a| Expr::Neg(Box::new(a))),
            (prop::sample::select(FUNCS), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(n, args)| Expr::Call(Call::new(n, args))),
            (any::<bool>(), prop::collection::vec(step(inner.clone().boxed()), 1..4))
                .prop_map(|(absolute, steps)| Expr::Path(Path { absolute, steps })),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 0..2),
                prop::collection::vec(step(inner.boxed()), 0..2)
            )
                .prop_filter("a filter needs predicates or steps", |(_, p, s)| {
                    !p.is_empty() || !s.is_empty()
                })
                .prop_map(|(base, predicates, steps)| {
                    Expr::Filter(Box::new(Filter { base, predicates, steps }))
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let reparsed = parse(&printed);
        prop_assert_eq!(reparsed.as_ref().ok(), Some(&e), "printed as {}: {:?}", printed, reparsed);
    }

    #[test]
    fn evaluating_any_tree_does_not_panic(e in expr()) {
        let doc = fixture_doc().unwrap_or_default();
        let env = FixedEnv::default();
        let _ = evaluate(&e, &doc, &env, doc.root());
    }

    #[test]
    fn parsing_and_evaluating_any_text_does_not_panic(src in "[ -~é😀]{0,40}") {
        let doc = fixture_doc().unwrap_or_default();
        let env = FixedEnv::default();
        if let Ok(e) = parse(&src) {
            let ctx = doc.node_at("/data/rep[2]/n").unwrap_or(doc.root());
            let _ = evaluate(&e, &doc, &env, ctx);
            // Whatever parses also prints to something that parses.
            prop_assert!(parse(&e.to_string()).is_ok(), "{} printed as {}", src, e);
        }
    }

    #[test]
    fn functions_on_odd_strings_do_not_panic(
        f in prop::sample::select(super::Func::ALL),
        a in "[ -~éç😀]{0,24}",
        b in "[ -~éç😀]{0,12}",
        n in -3i32..30,
    ) {
        let doc = fixture_doc().unwrap_or_default();
        let env = FixedEnv::default();
        let (min, max) = f.arity();
        let all = [Expr::Str(a), Expr::Str(b), Expr::Num(f64::from(n)), Expr::Str("2024-02-29".into())];
        for k in min..=max.unwrap_or(4).min(4) {
            let call = Expr::Call(Call::new(f.name(), all[..k].to_vec()));
            let _ = evaluate(&call, &doc, &env, doc.root());
        }
    }
}
