//! Review at central and the return to the device (issue 17): signed,
//! appended review events; role and scope checks; a rejection that travels
//! signed to the device that made the response, is corrected there as a
//! new version naming the old one, and comes back to `received`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::Device;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{
    Central, CentralError, CentralStore, ReviewFilter, Role, Scope, TokenGrant,
    roles::reviewer_seed,
};
use enumera_core::bundle::finalize_response;
use enumera_core::review::{
    Comment, ReturnError, ReturnsStatement, ReviewAction, ReviewKind, ReviewState, apply_returns,
};
use enumera_core::store::ReturnStatus;

fn token(c: &mut Central, role: Role, name: &str, devices: &[String]) -> String {
    let scope = Scope { districts: Default::default(), devices: devices.iter().cloned().collect() };
    c.create_role_token(&TokenGrant { role, subject: name.into(), scope }).unwrap()
}

fn correct(d: &mut Device, draft: &str, answer: &str) {
    d.store.set_answer(draft, "/data/a", answer).unwrap();
    let xml = format!("<data><a>{answer}</a><meta><instanceID>{draft}</instanceID></meta></data>");
    let json = serde_json::json!({"a": answer, "meta": {"instanceID": draft}}).to_string();
    finalize_response(&mut d.store, draft, xml, json).unwrap();
}

#[test]
fn a_rejection_goes_back_to_its_device_is_corrected_and_approved() {
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let x = a.finalize("12", false, None);
    let z = b.finalize("40", false, None);
    let mut c = Central::in_memory().unwrap();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    c.ingest(&b.bundle(false)).unwrap();

    let sup = token(&mut c, Role::Supervisor, "Ana", &[a.device_id()]);
    let researcher = token(&mut c, Role::Researcher, "Rui", &[]);
    let device = c.create_token(&a.device_id()).unwrap();
    let admin = token(&mut c, Role::Admin, "Ada", &[]);
    let comments = vec![
        Comment::at("/data/a", "age 12 is below the eligible age: check the ID card"),
        Comment::at("/data/meta/instanceID", "second comment, at another question"),
    ];

    // A device never reviews; an admin does not review; a supervisor only
    // within its scope; an action must be signed by the sender's token.
    for t in [&device, &admin] {
        let e = c.review_with_token(t, &x, ReviewKind::Approve, vec![]).unwrap_err();
        assert!(matches!(e, CentralError::Forbidden { .. }), "{e}");
    }
    let e = c.review_with_token(&sup, &z, ReviewKind::Approve, vec![]).unwrap_err();
    assert!(matches!(e, CentralError::OutOfScope { .. }), "{e}");
    let ana = c.principal(&sup).unwrap().unwrap();
    let by_rui = ReviewAction::new(&x, ReviewKind::Approve, vec![], "2026-12-01T10:00:00Z")
        .sign(&reviewer_seed(&researcher));
    assert!(matches!(c.review(&ana, &by_rui), Err(CentralError::NotReviewerKey { .. })));
    assert_eq!(c.review_list(&ana, &ReviewFilter::default()).unwrap().len(), 1);
    assert_eq!(
        c.review_list(&c.principal(&researcher).unwrap().unwrap(), &ReviewFilter::default())
            .unwrap()
            .len(),
        2
    );

    // Ana returns x with two question comments; the same action twice is kept once.
    let reject =
        ReviewAction::new(&x, ReviewKind::Reject, comments.clone(), "2026-12-01T10:00:00Z")
            .sign(&reviewer_seed(&sup));
    let out = c.review(&ana, &reject).unwrap();
    assert_eq!((out.state, out.new), (ReviewState::Rejected, true));
    assert!(!c.review(&ana, &reject).unwrap().new);
    let e = c.review_with_token(&sup, &x, ReviewKind::Approve, vec![]).unwrap_err();
    assert!(matches!(e, CentralError::BadReview { .. }), "{e}");
    let shown = c.review_show(&ana, &x).unwrap();
    assert_eq!(shown.item.state, ReviewState::Rejected);
    assert_eq!(shown.events.len(), 1);
    assert_eq!(
        (shown.events[0].reviewer.as_str(), shown.events[0].role),
        ("Ana", Role::Supervisor)
    );
    assert_eq!(shown.answers.unwrap()["a"], "12");
    let rejected = ReviewFilter { state: Some(ReviewState::Rejected), ..Default::default() };
    assert_eq!(c.review_list(&ana, &rejected).unwrap().len(), 1);

    // The return travels signed to A; B's returns file is not A's, and a
    // return naming B's response cannot be carried to A.
    a.store.pin_central_key(&c.public_key().unwrap()).unwrap();
    let for_a = c.returns_for(&a.device_id()).unwrap();
    assert_eq!(for_a.statement.returns.len(), 1);
    assert!(matches!(
        apply_returns(&mut a.store, &c.returns_for(&b.device_id()).unwrap().file),
        Err(ReturnError::OtherDevice { .. })
    ));
    c.review_with_token(&researcher, &z, ReviewKind::Reject, vec![Comment::general("redo")])
        .unwrap();
    let mut smuggled = c.returns_for(&b.device_id()).unwrap().statement;
    let device_a = a.store.device().unwrap();
    smuggled.device_id = device_a.device_id.clone();
    smuggled.device_public_key = enumera_core::bundle::hex(&device_a.public_key);
    let seed = c.store().signing_seed().unwrap();
    let report =
        apply_returns(&mut a.store, &ReturnsStatement::sign(smuggled, &seed).file).unwrap();
    assert_eq!(report.not_ours, vec![z.clone()]);
    // A forged return (not signed by central) is refused.
    let forged = for_a.statement.clone().sign(&[9; 32]);
    assert!(matches!(
        apply_returns(&mut a.store, &forged.file),
        Err(ReturnError::UntrustedCentral { .. })
    ));
    assert_eq!(apply_returns(&mut a.store, &for_a.file).unwrap().new, vec![x.clone()]);

    // A sees the comments at their questions, reopens, corrects, finalizes.
    let info = a.store.returned(&x).unwrap().unwrap();
    assert_eq!(info.comments_at("/data/a")[0].text, comments[0].text);
    assert_eq!(info.comments_at("/data/meta/instanceID").len(), 1);
    let draft = a.store.reopen(&x).unwrap();
    assert_eq!(draft.deprecated_id.as_deref(), Some(x.as_str()));
    assert_eq!(a.store.answers(&draft.instance_id).unwrap(), a.store.answers(&x).unwrap());
    correct(&mut a, &draft.instance_id, "21");
    assert_eq!(a.store.returned(&x).unwrap().unwrap().status, ReturnStatus::Corrected);
    c.ingest(&a.bundle(true)).unwrap();

    // Central takes the correction: back to received, flagged, x replaced.
    let x2 = draft.instance_id;
    let item = c.review_show(&ana, &x2).unwrap().item;
    assert_eq!(item.state, ReviewState::Received);
    assert!(item.edited_after_return);
    assert_eq!(item.deprecated_id.as_deref(), Some(x.as_str()));
    assert!(matches!(c.review_show(&ana, &x), Err(CentralError::NotReviewable { .. })));
    assert!(c.returns_for(&a.device_id()).unwrap().statement.returns.is_empty());
    let out = c.review_with_token(&sup, &x2, ReviewKind::Approve, vec![]).unwrap();
    assert_eq!(out.state, ReviewState::Approved);
    let approved = ReviewFilter { state: Some(ReviewState::Approved), ..Default::default() };
    let listed = c.review_list(&ana, &approved).unwrap();
    assert_eq!(listed.iter().map(|i| i.instance_id.as_str()).collect::<Vec<_>>(), [x2.as_str()]);

    // Progress: Ana follows tablet A only; Rui everywhere; a device never.
    let ana_progress = c.progress(Some(&ana)).unwrap();
    assert_eq!(ana_progress.len(), 1);
    let p = &ana_progress[0];
    assert_eq!((p.received, p.approved, p.returned, p.corrected_after_return), (1, 1, 0, 1));
    let rui = c.principal(&researcher).unwrap().unwrap();
    let all: (u64, u64) = c
        .progress(Some(&rui))
        .unwrap()
        .iter()
        .fold((0, 0), |(n, r), p| (n + p.received, r + p.returned));
    assert_eq!(all, (2, 1));
    let dev = c.principal(&device).unwrap().unwrap();
    assert!(matches!(c.progress(Some(&dev)), Err(CentralError::Forbidden { .. })));

    // The device's outbox chain holds both versions.
    assert!(a.store.outbox_entry(&x).unwrap().is_some());
    assert!(a.store.outbox_entry(&x2).unwrap().is_some());

    // The export: the latest version in the main table, the history in
    // review.csv, the state and the edited-after-return flag beside it.
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
    export(c.store(), &opts, out.path(), &mut |_, _| {}).unwrap();
    let rows = |name: &str| -> Vec<Vec<String>> {
        let mut reader = csv::Reader::from_path(out.path().join(name)).unwrap();
        let mut all = vec![reader.headers().unwrap().iter().map(String::from).collect()];
        all.extend(reader.records().map(|r| r.unwrap().iter().map(String::from).collect()));
        all
    };
    let main = rows("plain.csv");
    let key = main[0].iter().position(|h| h == "KEY").unwrap();
    let a_col = main[0].iter().position(|h| h == "a").unwrap();
    let mine: Vec<&Vec<String>> =
        main[1..].iter().filter(|r| r[key] == x2 || r[key] == x).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0][key].as_str(), mine[0][a_col].as_str()), (x2.as_str(), "21"));
    let history = rows("review.csv");
    let kinds: Vec<(&str, &str)> =
        history[1..].iter().map(|r| (r[0].as_str(), r[3].as_str())).collect();
    assert_eq!(kinds, [(x.as_str(), "reject"), (z.as_str(), "reject"), (x2.as_str(), "approve")]);
    assert!(history[1][10].contains("/data/a") && history[1][5] == "Ana");
    let status = rows("review_status.csv");
    let x2_status = status.iter().find(|r| r[0] == x2).unwrap();
    assert_eq!(x2_status[2..], [String::from("approved"), x.clone(), "1".into()]);
    let z_status = status.iter().find(|r| r[0] == z).unwrap();
    assert_eq!((z_status[2].as_str(), z_status[4].as_str()), ("rejected", "0"));
}

/// A sealed response's return carries comments only, and the device, which
/// keeps none of its sealed answers, reopens it as an empty correction for
/// the same participant and round (docs/FORMAT.md, "Returns of sealed
/// responses").
#[test]
fn a_sealed_response_is_returned_with_comments_only_and_corrected_from_scratch() {
    let mut a = Device::new("tablet A");
    let s = a.finalize("secret", true, None);
    let mut c = Central::in_memory().unwrap();
    c.publish(&common::instrument("sealed", &[common::TEST_RECIPIENT])).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    let rui = token(&mut c, Role::Researcher, "Rui", &[]);
    let who = c.principal(&rui).unwrap().unwrap();
    assert!(c.review_show(&who, &s).unwrap().answers.is_none(), "central cannot read it");
    c.review_with_token(&rui, &s, ReviewKind::Reject, vec![Comment::at("/data/a", "re-ask a")])
        .unwrap();
    let file = c.returns_for(&a.device_id()).unwrap();
    assert!(file.statement.returns[0].sealed);
    let text = String::from_utf8(file.file.clone()).unwrap();
    assert!(!text.contains("secret"), "a return never carries answers");
    a.store.pin_central_key(&c.public_key().unwrap()).unwrap();
    apply_returns(&mut a.store, &file.file).unwrap();
    let draft = a.store.reopen(&s).unwrap();
    assert_eq!(draft.deprecated_id.as_deref(), Some(s.as_str()));
    assert!(a.store.answers(&draft.instance_id).unwrap().is_empty(), "nothing kept to copy");
    correct(&mut a, &draft.instance_id, "secret, asked again");
    c.ingest(&a.bundle(true)).unwrap();
    let item = c.review_show(&who, &draft.instance_id).unwrap().item;
    assert!(item.sealed && item.edited_after_return);
    assert_eq!(item.state, ReviewState::Received);
}

/// A supervisor scoped to a district reviews the responses of that
/// district's participants (their roster row's `display.district`), from
/// any device, and nothing else; filters narrow by district and round.
#[test]
fn a_district_supervisor_reviews_its_districts_participants_only() {
    let roster = br#"{"participants": [
        {"id": "P1", "display": {"district": "Beira"}},
        {"id": "P2", "display": {"district": "Khulna"}}]}"#;
    let mut a = Device::new("tablet A");
    a.store.import_roster(roster).unwrap();
    let mut ids = Vec::new();
    for p in ["P1", "P2"] {
        let mut new = enumera_core::store::NewResponse::new(a.plain.clone());
        new.participant_id = Some(p.into());
        new.round = Some(2);
        let id = a.store.create_draft(&new).unwrap().instance_id;
        correct(&mut a, &id, "x");
        ids.push(id);
    }
    let mut c = Central::in_memory().unwrap();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c.publish_roster("officials", roster).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    let scope = Scope { districts: ["Beira".to_string()].into(), devices: Default::default() };
    let bia = c
        .create_role_token(&TokenGrant { role: Role::Supervisor, subject: "Bia".into(), scope })
        .unwrap();
    let who = c.principal(&bia).unwrap().unwrap();
    let listed = c.review_list(&who, &ReviewFilter::default()).unwrap();
    assert_eq!(listed.iter().map(|i| i.instance_id.as_str()).collect::<Vec<_>>(), [&ids[0]]);
    assert_eq!(listed[0].district.as_deref(), Some("Beira"));
    let e = c.review_with_token(&bia, &ids[1], ReviewKind::Approve, vec![]).unwrap_err();
    assert!(matches!(e, CentralError::OutOfScope { .. }), "{e}");
    c.review_with_token(&bia, &ids[0], ReviewKind::Approve, vec![]).unwrap();

    let rui = token(&mut c, Role::Researcher, "Rui", &[]);
    let rui = c.principal(&rui).unwrap().unwrap();
    let khulna = ReviewFilter { district: Some("Khulna".into()), ..Default::default() };
    assert_eq!(c.review_list(&rui, &khulna).unwrap()[0].instance_id, ids[1]);
    let round_1 = ReviewFilter { round: Some(1), ..Default::default() };
    assert!(c.review_list(&rui, &round_1).unwrap().is_empty());
    let progress = c.progress(Some(&rui)).unwrap();
    let beira = progress.iter().find(|p| p.district.as_deref() == Some("Beira")).unwrap();
    assert_eq!((beira.round, beira.approved, beira.received), (Some(2), 1, 1));
}
