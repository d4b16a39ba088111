//! Authorship (issue 15, finding 1): only the device that made a response,
//! or a device central authorised, may replace it. Instance ids are no
//! secret (anyone carrying a bundle reads them), so central never takes an
//! instance id as proof of who made a response: an edit from another
//! device is held aside, in any order of arrival, and an instance id two
//! devices claim is exported for neither.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::Device;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{Central, IngestReport};

fn superseded_by(c: &Central, id: &str) -> Option<String> {
    let dump = c.canonical_dump().unwrap();
    let line = dump.lines().find(|l| l.starts_with(&format!("response {id} "))).unwrap();
    let s = line.split(" superseded_by=").nth(1).unwrap().split(' ').next().unwrap();
    (s != "-").then(|| s.to_string())
}

fn hold(c: &Central, id: &str) -> Option<String> {
    let dump = c.canonical_dump().unwrap();
    let line = dump.lines().find(|l| l.starts_with(&format!("response {id} "))).unwrap();
    let s = line.split(" hold=").nth(1).unwrap().split(' ').next().unwrap();
    (s != "-").then(|| s.to_string())
}

/// (current, held aside) as `central status` counts them.
fn counts(c: &Central) -> (u64, u64) {
    let s = c.status().unwrap();
    (s.current, s.held_aside)
}

/// The `plain` form's exported answers `a`, by instance id, and the
/// report's lines.
fn exported(c: &Central, dir: &Path) -> (Vec<(String, String)>, String) {
    let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
    export(c.store(), &opts, dir, &mut |_, _| {}).unwrap();
    let mut rows = Vec::new();
    let mut reader = csv::Reader::from_path(dir.join("plain.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let key = headers.iter().position(|h| h == "KEY").unwrap();
    let a = headers.iter().position(|h| h == "a").unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        rows.push((row[key].to_string(), row[a].to_string()));
    }
    rows.sort();
    (rows, std::fs::read_to_string(dir.join("report.csv")).unwrap())
}

fn with_plain_published() -> Central {
    let mut c = Central::in_memory().unwrap();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c
}

fn ingest_all(c: &mut Central, bundles: &[&[u8]]) -> Vec<IngestReport> {
    bundles.iter().map(|b| c.ingest(b).unwrap()).collect()
}

/// The review's attack: device B signs, with its own key, an edit of a
/// response device A made. Whether it arrives after A's response or before
/// it, A's response stays current and exported with A's values; B's edit is
/// held aside as `not_author` and listed in the export's report. Fails on a
/// central that lets any device replace any response.
#[test]
fn authorship_another_device_cannot_replace_a_response_in_any_order() {
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let x = a.finalize("what A was told", false, None);
    let forged = b.forge_edit(&x, "what B wants the export to say");
    let (from_a, from_b) = (a.bundle(false), b.bundle(false));

    let mut after = with_plain_published();
    let reports = ingest_all(&mut after, &[&from_a, &from_b]);
    assert_eq!(reports[1].edits, 0);
    assert_eq!(reports[1].held_aside.len(), 1, "{:?}", reports[1]);
    assert_eq!(reports[1].held_aside[0].kind, "not_author");
    assert_eq!(reports[1].held_aside[0].instance_id, forged);

    let mut before = with_plain_published();
    let reports = ingest_all(&mut before, &[&from_b, &from_a]);
    assert_eq!(reports[0].held_aside[0].kind, "pending_edit");
    assert_eq!(reports[1].held_aside[0].kind, "not_author");
    assert_eq!(reports[1].held_aside[0].device_id, b.device_id());

    for c in [&after, &before] {
        assert_eq!(superseded_by(c, &x), None);
        assert_eq!(hold(c, &forged).as_deref(), Some("not_author"));
        assert_eq!(counts(c), (1, 1));
        let dir = common::tempdir();
        let (rows, report) = exported(c, dir.path());
        assert_eq!(rows, vec![(x.clone(), "what A was told".to_string())]);
        let line = report.lines().find(|l| l.contains(&forged)).unwrap();
        assert!(line.starts_with("not_author,"), "{line}");
        assert!(line.contains(&a.device_id()), "{line}");
    }
    assert_eq!(after.canonical_dump().unwrap(), before.canonical_dump().unwrap());
}

/// The author's own edits still replace, in either order: an edit that
/// arrives first waits for its version, then replaces it.
#[test]
fn authorship_the_authors_edit_waits_for_its_version_then_replaces_it() {
    let mut a = Device::new("tablet A");
    let x = a.finalize("v1", false, None);
    let first = a.bundle(false);
    let entries = a.store.outbox(0, false).unwrap();
    a.store.mark_sent(&[(entries[0].seq, entries[0].instance_id.clone())]).unwrap();
    let x2 = a.edit(&x, "v2");
    let edit_only = a.bundle(true);

    let mut c = with_plain_published();
    let report = c.ingest(&edit_only).unwrap();
    assert_eq!((report.edits, report.held_aside[0].kind.as_str()), (0, "pending_edit"));
    assert_eq!(counts(&c), (0, 1));
    let dir = common::tempdir();
    let (rows, report_csv) = exported(&c, dir.path());
    assert!(rows.is_empty());
    assert!(report_csv.lines().any(|l| l.starts_with("pending_edit,") && l.contains(&x2)));

    let report = c.ingest(&first).unwrap();
    assert_eq!(report.edits, 1);
    assert!(report.held_aside.is_empty(), "{report:?}");
    assert_eq!(superseded_by(&c, &x), Some(x2.clone()));
    assert_eq!(hold(&c, &x2), None);
    assert_eq!(counts(&c), (1, 0));
    let dir = common::tempdir();
    assert_eq!(exported(&c, dir.path()).0, vec![(x2, "v2".to_string())]);
}

/// A forged edit that arrives before everything does not take the place
/// of the author's own edit, whatever the order: every order of the three
/// bundles gives the same central.
#[test]
fn authorship_a_forged_claim_never_blocks_the_authors_edit() {
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let x = a.finalize("v1", false, None);
    let original = a.bundle(false);
    let entries = a.store.outbox(0, false).unwrap();
    a.store.mark_sent(&[(entries[0].seq, entries[0].instance_id.clone())]).unwrap();
    let x2 = a.edit(&x, "v2 by A");
    let genuine = a.bundle(true);
    let forged_id = b.forge_edit(&x, "v2 by B");
    let forged = b.bundle(false);
    let bundles = [&original[..], &genuine[..], &forged[..]];
    let mut dumps = Vec::new();
    for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let mut c = with_plain_published();
        for i in order {
            c.ingest(bundles[i]).unwrap();
        }
        assert_eq!(superseded_by(&c, &x), Some(x2.clone()), "order {order:?}");
        assert_eq!(hold(&c, &forged_id).as_deref(), Some("not_author"), "order {order:?}");
        assert_eq!(counts(&c), (1, 1), "order {order:?}");
        dumps.push(c.canonical_dump().unwrap());
    }
    assert!(dumps.windows(2).all(|w| w[0] == w[1]));
}

/// Instance ids are visible to anyone carrying a bundle: a device that
/// sends other content under an instance id another device made (before or
/// after it) gets neither version exported; both are kept, one as a
/// conflict, the other held aside as contested.
#[test]
fn authorship_an_instance_id_claimed_by_two_devices_is_exported_for_neither() {
    for squatter_first in [false, true] {
        let mut a = Device::new("tablet A");
        let mut b = Device::new("tablet B");
        let x = a.finalize("A's answer", false, None);
        let other = a.finalize("A's other answer", false, None);
        b.forge_instance_id(&x, "B's answer");
        let (from_a, from_b) = (a.bundle(false), b.bundle(false));
        let mut c = with_plain_published();
        let order: [&[u8]; 2] =
            if squatter_first { [&from_b, &from_a] } else { [&from_a, &from_b] };
        let reports = ingest_all(&mut c, &order);
        assert_eq!(reports[1].conflicts.len(), 1);
        assert_eq!(reports[1].held_aside[0].kind, "contested");
        assert_eq!(hold(&c, &x).as_deref(), Some("contested"));
        let s = c.status().unwrap();
        assert_eq!((s.responses, s.current, s.held_aside, s.conflicts), (2, 1, 1, 1));
        let dir = common::tempdir();
        let (rows, report) = exported(&c, dir.path());
        assert_eq!(rows, vec![(other.clone(), "A's other answer".to_string())]);
        assert!(report.lines().any(|l| l.starts_with("contested,") && l.contains(&x)));
        assert!(
            report.lines().any(|l| l.starts_with("conflict:different_content,") && l.contains(&x))
        );
    }
    // The same device sending other content under its own id (a tablet
    // restored from a backup) is a conflict as before: the first stays.
    let mut a = Device::new("tablet A");
    let x = a.finalize("first", false, None);
    let (mut one, mut two) = a.fork();
    one.finalize("one", false, None);
    two.finalize("two", false, None);
    let mut c = with_plain_published();
    c.ingest(&one.bundle(false)).unwrap();
    let report = c.ingest(&two.bundle(false)).unwrap();
    assert!(report.held_aside.is_empty(), "{report:?}");
    assert_eq!(hold(&c, &x), None);
}

/// The hook for the review flow (issue 17): once central authorises a
/// device to replace a response, that device's edit of it is placed as the
/// author's would be. Without the grant, the same edit is held aside.
#[test]
fn authorship_a_device_central_authorised_may_replace() {
    let mut a = Device::new("tablet A");
    let mut supervisor = Device::new("supervisor's tablet");
    let x = a.finalize("as entered", false, None);
    let corrected = supervisor.forge_edit(&x, "as corrected on review");
    let (from_a, from_supervisor) = (a.bundle(false), supervisor.bundle(false));

    let mut c = with_plain_published();
    c.grant_edit(&x, &supervisor.device_id(), "review return (test)").unwrap();
    ingest_all(&mut c, &[&from_supervisor, &from_a]);
    assert_eq!(superseded_by(&c, &x), Some(corrected.clone()));
    assert_eq!(counts(&c), (1, 0));
    let mut without = with_plain_published();
    ingest_all(&mut without, &[&from_a, &from_supervisor]);
    assert_eq!(superseded_by(&without, &x), None);
}

/// The rule holds in the database itself, whatever code writes to it: a
/// statement marking a response replaced by another device's edit fails.
#[test]
fn authorship_the_database_refuses_a_replacement_by_another_device() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let x = a.finalize("A", false, None);
    let forged = b.forge_edit(&x, "B");
    {
        let mut c = Central::init(&db).unwrap();
        c.ingest(&a.bundle(false)).unwrap();
        c.ingest(&b.bundle(false)).unwrap();
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let err = conn
        .execute("UPDATE responses SET superseded_by = ?1 WHERE instance_id = ?2", [&forged, &x])
        .unwrap_err();
    assert!(err.to_string().contains("only the device that made a response"), "{err}");
    let err = conn
        .execute("UPDATE responses SET hold = NULL WHERE instance_id = ?1", [&forged])
        .unwrap_err();
    assert!(err.to_string().contains("stays held aside"), "{err}");
}

/// A central of schema 3 that had accepted another device's edit (as the
/// review found) upgrades to hold that edit aside and make the replaced
/// version current again; an edit whose version never arrived waits.
#[test]
fn authorship_an_upgraded_central_judges_what_it_held_by_the_new_rule() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        for sql in [
            include_str!("../sql/0001_init.sql"),
            include_str!("../sql/0002_tokens_rosters.sql"),
            include_str!("../sql/0003_chain_state.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 3;
             INSERT INTO central VALUES (1, 'c', zeroblob(32), zeroblob(32), 't');
             INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
                 form_version, form_hash, deprecated_id, finalized_at, xml, json, superseded_by,
                 received_at)
             VALUES ('x', 'h1', 'A', 1, 'e1', 'plain', '1', 'f', NULL, 't', '<a/>', '{}', 'forged', 't'),
                    ('forged', 'h2', 'B', 1, 'e2', 'plain', '1', 'f', 'x', 't', '<b/>', '{}', NULL, 't'),
                    ('own', 'h3', 'A', 2, 'e3', 'plain', '1', 'f', NULL, 't', '<a/>', '{}', 'own2', 't'),
                    ('own2', 'h4', 'A', 3, 'e4', 'plain', '1', 'f', 'own', 't', '<a/>', '{}', NULL, 't'),
                    ('early', 'h5', 'A', 4, 'e5', 'plain', '1', 'f', 'absent', 't', '<a/>', '{}', NULL, 't');",
        )
        .unwrap();
    }
    let c = Central::open(&db).unwrap();
    assert_eq!(superseded_by(&c, "x"), None);
    assert_eq!(hold(&c, "forged").as_deref(), Some("not_author"));
    assert_eq!(superseded_by(&c, "own"), Some("own2".into()));
    assert_eq!(hold(&c, "own2"), None);
    assert_eq!(hold(&c, "early").as_deref(), Some("pending_edit"));
    assert_eq!(counts(&c), (2, 2));
}
