//! Review converges (issue 17): the bundles of a review loop delivered
//! duplicated and reordered, and review actions sent again (a client's
//! retries), interleaved in any order that respects causality (a version
//! is returned before its correction exists), leave central in the same
//! state as delivering each once in order: the same responses held and
//! replaced, the same review state per version, the same events.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::Device;
use enumera_central::{Central, CentralError, Role, Scope, TokenGrant};
use enumera_core::bundle::finalize_response;
use enumera_core::review::{Comment, ReviewAction, ReviewKind, SignedAction, apply_returns};
use proptest::prelude::*;

/// One review loop, recorded: central's database before anything arrived,
/// the bundles and actions in the order they happened, and central's
/// final state.
struct History {
    start: Vec<u8>,
    token: String,
    /// In causal order: `Bundle(i)` or `Action(i)`.
    steps: Vec<Step>,
    bundles: Vec<Vec<u8>>,
    actions: Vec<Vec<u8>>,
    end: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Bundle(usize),
    Action(usize),
    /// A bundle of another device nobody reviews (an edit of its own
    /// response): free to arrive at any time, before what it edits too.
    Free(usize),
}

/// Central's state without times or random ids: the canonical dump, and
/// per response its review state and the kinds of its events.
fn state(c: &Central) -> String {
    let mut out = c.canonical_dump().unwrap();
    let dump = out.clone();
    for line in dump.lines().filter(|l| l.starts_with("response ")) {
        let id = line.split(' ').nth(1).unwrap();
        let events = enumera_central::CentralStore::review_events(c.store(), id).unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        let current = enumera_central::CentralStore::review_item(c.store(), id).unwrap();
        out.push_str(&format!(
            "review {id} {:?} {kinds:?} {:?}\n",
            current.map(|i| (i.state, i.edited_after_return)),
            events.iter().map(|e| e.comments.len()).collect::<Vec<_>>()
        ));
    }
    out
}

fn correct(d: &mut Device, of: &str, answer: &str) -> String {
    let draft = d.store.reopen(of).unwrap().instance_id;
    d.store.set_answer(&draft, "/data/a", answer).unwrap();
    let xml = format!("<data><a>{answer}</a><meta><instanceID>{draft}</instanceID></meta></data>");
    let json = serde_json::json!({"a": answer, "meta": {"instanceID": draft}}).to_string();
    finalize_response(&mut d.store, &draft, xml, json).unwrap();
    draft
}

fn history() -> &'static History {
    static H: OnceLock<History> = OnceLock::new();
    H.get_or_init(|| {
        let dir = common::tempdir();
        let path = dir.path().join("c.db");
        let mut c = Central::init(&path).unwrap();
        c.publish(&common::instrument("plain", &[])).unwrap();
        let token = c
            .create_role_token(&TokenGrant {
                role: Role::Researcher,
                subject: "Rui".into(),
                scope: Scope::default(),
            })
            .unwrap();
        drop(c);
        let start = std::fs::read(&path).unwrap();
        let mut c = Central::open(&path).unwrap();
        let who = c.principal(&token).unwrap().unwrap();
        let mut a = Device::new("tablet A");
        a.store.pin_central_key(&c.public_key().unwrap()).unwrap();
        let (mut steps, mut bundles, mut actions) = (vec![], vec![], vec![]);
        let mut deliver = |c: &mut Central, bundle: Vec<u8>, steps: &mut Vec<Step>| {
            c.ingest(&bundle).unwrap();
            steps.push(Step::Bundle(bundles.len()));
            bundles.push(bundle);
        };
        let mut act =
            |c: &mut Central, id: &str, kind, comments: Vec<Comment>, steps: &mut Vec<Step>| {
                let signed = ReviewAction::new(id, kind, comments, "2026-12-04T10:00:00Z")
                    .sign(&enumera_central::roles::reviewer_seed(&token));
                assert!(c.review(&who, &signed).unwrap().new);
                steps.push(Step::Action(actions.len()));
                actions.push(signed.file);
            };
        let mut b = Device::new("tablet B");
        let z = b.finalize("7", false, None);
        let free1 = b.bundle(false);
        b.edit(&z, "8");
        let free2 = b.bundle(false);
        let x = a.finalize("12", false, None);
        let y = a.finalize("40", false, None);
        deliver(&mut c, a.bundle(false), &mut steps);
        act(&mut c, &y, ReviewKind::Comment, vec![Comment::general("fine")], &mut steps);
        act(&mut c, &x, ReviewKind::Reject, vec![Comment::at("/data/a", "too young")], &mut steps);
        let returns = c.returns_for(&a.device_id()).unwrap().file;
        apply_returns(&mut a.store, &returns).unwrap();
        let x2 = correct(&mut a, &x, "21");
        deliver(&mut c, a.bundle(false), &mut steps);
        act(&mut c, &x2, ReviewKind::HasIssues, vec![Comment::at("/data/a", "sure?")], &mut steps);
        act(&mut c, &x2, ReviewKind::Reject, vec![Comment::general("call again")], &mut steps);
        let returns = c.returns_for(&a.device_id()).unwrap().file;
        apply_returns(&mut a.store, &returns).unwrap();
        let x3 = correct(&mut a, &x2, "22");
        deliver(&mut c, a.bundle(true), &mut steps);
        act(&mut c, &x3, ReviewKind::Approve, vec![], &mut steps);
        act(&mut c, &y, ReviewKind::Approve, vec![], &mut steps);
        for free in [free1, free2] {
            c.ingest(&free).unwrap();
            steps.push(Step::Free(bundles.len()));
            bundles.push(free);
        }
        let end = state(&c);
        History { start, token, steps, bundles, actions, end }
    })
}

/// Delivers `h`'s bundles and actions in an order `choices` picks among
/// those causality allows, each bundle `copies[i]` times and each action
/// twice at most; returns central's final state.
fn replay(h: &History, dir: &Path, choices: &[usize], copies: &[usize]) -> String {
    let path = dir.join("replay.db");
    std::fs::write(&path, &h.start).unwrap();
    let mut c = Central::open(&path).unwrap();
    let who = c.principal(&h.token).unwrap().unwrap();
    // Sends still to make: (step, copies left). A step is enabled once
    // every earlier step of another kind was sent once: bundles may pass
    // each other and actions may repeat, but a version is reviewed before
    // the correction that follows its return exists.
    let mut left: Vec<(Step, usize)> = h
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (*s, if let Step::Bundle(_) = s { copies[i % copies.len()] } else { 1 + i % 2 })
        })
        .collect();
    let mut sent = vec![false; h.steps.len()];
    let mut pick = choices.iter().cycle();
    while left.iter().any(|(_, n)| *n > 0) {
        let enabled: Vec<usize> = (0..left.len())
            .filter(|&i| left[i].1 > 0)
            .filter(|&i| {
                (0..i).all(|j| {
                    sent[j]
                        || matches!((h.steps[i], h.steps[j]), (Step::Bundle(_), Step::Bundle(_)))
                })
            })
            .collect();
        let i = enabled[pick.next().copied().unwrap_or(0) % enabled.len()];
        match left[i].0 {
            Step::Bundle(b) | Step::Free(b) => {
                c.ingest(&h.bundles[b]).unwrap();
            }
            Step::Action(a) => {
                let signed = SignedAction::verify_file(&h.actions[a]).unwrap();
                match c.review(&who, &signed) {
                    Ok(_) => {}
                    // Its version has not arrived yet (its bundle is
                    // still on the way): the client tries again later.
                    Err(CentralError::NotReviewable { .. }) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        left[i].1 -= 1;
        sent[i] = true;
    }
    state(&c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_converges_to_the_same_central_state(
        choices in proptest::collection::vec(0usize..16, 1..40),
        copies in proptest::collection::vec(1usize..4, 5),
    ) {
        let h = history();
        let dir = common::tempdir();
        prop_assert_eq!(replay(h, dir.path(), &choices, &copies), h.end.clone());
    }
}
