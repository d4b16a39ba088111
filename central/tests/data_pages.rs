//! The data API's submission pages as each store answers them (issue 19):
//! a cursor walk over many submissions meets each once, at every page
//! size, including sizes that end exactly on the last item; filters and
//! counts agree with the pages; submissions arriving (and edits replacing
//! others) in the middle of a walk neither repeat nor drop a submission;
//! and on PostgreSQL, a transaction still running holds back later
//! arrivals from the pages until it ends, so it can never commit behind a
//! cursor. Both stores, PostgreSQL skipped (saying so) without a cluster.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
#[allow(dead_code)]
#[path = "conformance/stores.rs"]
mod stores;

use std::collections::HashSet;

use common::Device;
use enumera_central::submissions::{Cursor, SubmissionQuery, SubmissionSource};
use enumera_central::{AnyStore, Central, CentralError, Location, Role, Scope, TokenGrant};
use enumera_core::review::{Comment, ReviewKind};
use stores::Backend;

fn query(form: &str) -> SubmissionQuery {
    SubmissionQuery { form_id: form.into(), ..SubmissionQuery::default() }
}

/// Every page after `from` (the start when `None`) at `limit`: the ids in
/// order, and how many pages.
fn walk(store: &AnyStore, q: &SubmissionQuery, limit: usize) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut after) = (Vec::new(), 0, None::<Cursor>);
    loop {
        let page = store.submission_page(q, after.as_ref(), 0, limit).unwrap();
        assert!(page.items.len() <= limit);
        pages += 1;
        ids.extend(page.items.into_iter().map(|m| m.instance_id));
        match page.next {
            Some(c) => {
                // The cursor is text to clients: it must read back.
                after = Some(Cursor::parse(&c.text()).unwrap());
            }
            None => return (ids, pages),
        }
    }
}

fn unique(ids: &[String]) -> bool {
    ids.iter().collect::<HashSet<_>>().len() == ids.len()
}

fn researcher(c: &mut Central<AnyStore>) -> String {
    c.create_role_token(&TokenGrant {
        role: Role::Researcher,
        subject: "Rui".into(),
        scope: Scope::default(),
    })
    .unwrap()
}

fn pages_filters_and_arrivals(backend: &Backend) {
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let mut made = Vec::new();
    for n in 0..60 {
        made.push(a.finalize(&n.to_string(), false, None));
    }
    let sealed = a.finalize("secret", true, None);
    for n in 0..43 {
        made.push(b.finalize(&format!("b{n}"), false, None));
    }
    let (mut c, _) = backend.fresh_at();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c.publish(&common::instrument("sealed", &[common::TEST_RECIPIENT])).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    c.ingest(&b.bundle(false)).unwrap();
    let token = researcher(&mut c);
    c.review_with_token(&token, &made[3], ReviewKind::Approve, vec![]).unwrap();
    c.review_with_token(&token, &made[70], ReviewKind::Reject, vec![Comment::general("redo")])
        .unwrap();
    let store = c.store();
    let plain = query("plain");

    // One page holding all: arrival order, which is each bundle's order.
    let all = store.submission_page(&plain, None, 0, 1000).unwrap();
    assert!(all.next.is_none());
    let all: Vec<String> = all.items.into_iter().map(|m| m.instance_id).collect();
    assert_eq!(all, made);
    assert_eq!(store.submission_count(&plain).unwrap(), 103);

    // Every page size walks the same list once; 103 and 1 end exactly on
    // the last item (no empty page after it), the others part-way.
    for (limit, pages) in [(1, 103), (7, 15), (10, 11), (102, 2), (103, 1), (1000, 1)] {
        let (ids, n) = walk(store, &plain, limit);
        assert_eq!((ids.len(), n), (103, pages), "limit {limit}");
        assert_eq!(ids, made, "limit {limit}");
    }

    // Offsets count after the cursor.
    let skip = store.submission_page(&plain, None, 5, 3).unwrap();
    let skip: Vec<String> = skip.items.into_iter().map(|m| m.instance_id).collect();
    assert_eq!(skip, made[5..8].to_vec());
    let first = store.submission_page(&plain, None, 0, 2).unwrap();
    let after = store.submission_page(&plain, first.next.as_ref(), 1, 3).unwrap();
    let after: Vec<String> = after.items.into_iter().map(|m| m.instance_id).collect();
    assert_eq!(after, made[3..6].to_vec());

    // Filters, in the pages and in the counts.
    let with = |f: &dyn Fn(&mut SubmissionQuery)| {
        let mut q = query("plain");
        f(&mut q);
        let (ids, _) = walk(store, &q, 9);
        assert_eq!(ids.len() as u64, store.submission_count(&q).unwrap());
        ids
    };
    assert_eq!(with(&|q| q.review_state = Some("approved".into())), vec![made[3].clone()]);
    assert_eq!(with(&|q| q.review_state = Some("rejected".into())), vec![made[70].clone()]);
    let received = with(&|q| q.review_state = Some("received".into()));
    assert_eq!(received.len(), 101);
    assert!(!received.contains(&made[3]) && !received.contains(&made[70]));
    assert_eq!(with(&|q| q.version = Some("1".into())).len(), 103);
    assert!(with(&|q| q.version = Some("2".into())).is_empty());
    assert_eq!(with(&|q| q.since = Some("2000-01-01".into())).len(), 103);
    assert!(with(&|q| q.since = Some("2999-01-01".into())).is_empty());
    assert!(with(&|q| q.round = Some(1)).is_empty());
    let sealed_list = walk(store, &query("sealed"), 5).0;
    assert_eq!(sealed_list, vec![sealed.clone()]);
    assert!(walk(store, &query("nothing"), 5).0.is_empty());

    // One submission, by id, with its review state; none for a form's
    // other list, an unknown id, or (below) a replaced version.
    let (r, state) = store.submission(&made[70]).unwrap().unwrap();
    assert_eq!((r.instance_id.as_str(), state.as_str()), (made[70].as_str(), "rejected"));
    assert!(r.xml.is_some() && r.entry_content.is_some());
    let (r, _) = store.submission(&sealed).unwrap().unwrap();
    assert!(r.sealed.is_some() && r.xml.is_none());
    assert!(store.submission("uuid:nobody").unwrap().is_none());

    // A cursor of the other store's shape is refused, not misread.
    let foreign = match store {
        AnyStore::Sqlite(_) => Cursor(vec![1, 2]),
        AnyStore::Postgres(_) => Cursor(vec![1]),
    };
    assert!(matches!(
        store.submission_page(&plain, Some(&foreign), 0, 5),
        Err(CentralError::BadCursor)
    ));

    // Arrivals in the middle of a walk: 30 seen, then tablet A edits one
    // seen (made[5]) and one not yet seen (made[40]) and sends 5 more.
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..3 {
        let page = store.submission_page(&plain, after.as_ref(), 0, 10).unwrap();
        seen.extend(page.items.into_iter().map(|m| m.instance_id));
        after = page.next;
    }
    assert_eq!(seen, made[..30].to_vec());
    let edit_seen = a.edit(&made[5], "five again");
    let edit_unseen = a.edit(&made[40], "forty again");
    let fresh: Vec<String> =
        (0..5).map(|n| a.finalize(&format!("late {n}"), false, None)).collect();
    c.ingest(&a.bundle(false)).unwrap();
    let store = c.store();
    loop {
        let page = store.submission_page(&plain, after.as_ref(), 0, 10).unwrap();
        seen.extend(page.items.into_iter().map(|m| m.instance_id));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert!(unique(&seen), "a submission was listed twice");
    let seen: HashSet<&String> = seen.iter().collect();
    for id in made.iter().filter(|id| **id != made[40]) {
        assert!(seen.contains(id), "{id} dropped");
    }
    // Replaced before the walk reached it: its edit stands in for it.
    assert!(!seen.contains(&made[40]));
    for id in fresh.iter().chain([&edit_seen, &edit_unseen]) {
        assert!(seen.contains(id), "{id}, arrived during the walk, missing");
    }
    assert_eq!(seen.len(), 103 - 1 + 5 + 2);
    assert!(store.submission(&made[5]).unwrap().is_none(), "a replaced version is not current");
    assert_eq!(store.submission_count(&plain).unwrap(), 103 - 2 + 5 + 2);
}

#[test]
fn pages_filters_and_arrivals_sqlite() {
    pages_filters_and_arrivals(&Backend::sqlite().unwrap());
}

#[test]
fn pages_filters_and_arrivals_postgres() {
    if let Some(backend) = Backend::postgres() {
        pages_filters_and_arrivals(&backend);
    }
}

/// The pages of `plain` once they hold `n` submissions (within seconds).
fn eventually(store: &AnyStore, n: usize) -> Vec<String> {
    for _ in 0..500 {
        let (ids, _) = walk(store, &query("plain"), 10);
        if ids.len() >= n {
            return ids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the pages never held {n} submissions");
}

/// PostgreSQL hands out arrival numbers before a transaction commits: one
/// still running (as another server's ingest may be) holds later arrivals
/// back from the pages, so that nothing can commit behind a cursor a
/// client already holds; once it ends, they are listed.
#[test]
fn a_running_transaction_holds_back_later_arrivals_postgres() {
    let Some(backend) = Backend::postgres() else { return };
    let mut a = Device::new("tablet A");
    let first: Vec<String> = (0..3).map(|n| a.finalize(&n.to_string(), false, None)).collect();
    let (mut c, at) = backend.fresh_at();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    // Transaction ids are the cluster's: other tests' transactions in
    // their own databases hold pages back too, for as long as they run.
    assert_eq!(eventually(c.store(), 3), first);
    let Location::Postgres(url) = &at else { unreachable!() };
    let mut other = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut running = other.transaction().unwrap();
    // A transaction id, as any ingest takes with its first write.
    running.execute("SELECT pg_current_xact_id()", &[]).unwrap();
    let later: Vec<String> = (0..2).map(|n| a.finalize(&format!("l{n}"), false, None)).collect();
    c.ingest(&a.bundle(false)).unwrap();
    let (ids, _) = walk(c.store(), &query("plain"), 10);
    assert_eq!(ids, first, "committed after a running transaction began: held back");
    assert_eq!(c.store().submission_count(&query("plain")).unwrap(), 3);
    // One submission by id does not page, so it is not held back.
    assert!(c.store().submission(&later[0]).unwrap().is_some());
    running.commit().unwrap();
    assert_eq!(eventually(c.store(), 5), [first, later].concat());
    drop(other);
}
