//! The rules of issue 15 on every store: authorship, edits in any order,
//! contested instance ids, form integrity, and the database refusing what
//! the rules forbid whatever program writes to it. And export, which reads
//! the same rows from both stores.

use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{AnyStore, Central, IngestReport, Location};
use enumera_core::bundle::ResearcherIdentity;
use enumera_core::store::{NewResponse, Payload};

use super::ingest::{mark_all_sent, status};
use super::stores::Backend;
use crate::common::{Device, TEST_IDENTITY, TEST_RECIPIENT, instrument};

fn field(c: &Central<AnyStore>, id: &str, name: &str) -> Option<String> {
    let dump = c.canonical_dump().expect("dump");
    let line = dump.lines().find(|l| l.starts_with(&format!("response {id} "))).expect("held");
    let s = line.split(&format!(" {name}=")).nth(1).expect("field").split(' ').next()?;
    (s != "-").then(|| s.to_string())
}

fn counts(c: &Central<AnyStore>) -> (u64, u64) {
    let s = c.status().expect("status");
    (s.current, s.held_aside)
}

fn kinds(r: &IngestReport) -> Vec<String> {
    r.held_aside.iter().map(|h| h.kind.clone()).collect()
}

pub fn another_device_cannot_replace_a_response_in_any_order(b: &Backend) {
    let mut a = Device::new("tablet A");
    let mut other = Device::new("tablet B");
    let x = a.finalize("v1", false, None);
    let original = a.bundle(false);
    mark_all_sent(&mut a);
    let x2 = a.edit(&x, "v2 by A");
    let genuine = a.bundle(true);
    let forged_id = other.forge_edit(&x, "v2 by B");
    let forged = other.bundle(false);
    let bundles = [&original[..], &genuine[..], &forged[..]];
    let mut dumps = Vec::new();
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let dump = b.check(|c, _| {
            c.publish(&instrument("plain", &[])).expect("publish");
            let reports: Vec<Vec<String>> =
                order.iter().map(|&i| kinds(&c.ingest(bundles[i]).expect("ingest"))).collect();
            assert_eq!(field(c, &x, "superseded_by"), Some(x2.clone()), "order {order:?}");
            assert_eq!(field(c, &forged_id, "hold").as_deref(), Some("not_author"));
            assert_eq!(counts(c), (1, 1), "order {order:?}");
            (c.canonical_dump().expect("dump"), reports)
        });
        dumps.push(dump.0);
    }
    assert!(dumps.windows(2).all(|w| w[0] == w[1]), "the order of arrival changed the state");
}

pub fn an_instance_id_claimed_by_two_devices_is_exported_for_neither(b: &Backend) {
    for squatter_first in [false, true] {
        let mut a = Device::new("tablet A");
        let mut squatter = Device::new("tablet B");
        let x = a.finalize("A's answer", false, None);
        a.finalize("A's other answer", false, None);
        squatter.forge_instance_id(&x, "B's answer");
        let (from_a, from_b) = (a.bundle(false), squatter.bundle(false));
        b.check(|c, _| {
            c.publish(&instrument("plain", &[])).expect("publish");
            let order: [&[u8]; 2] =
                if squatter_first { [&from_b, &from_a] } else { [&from_a, &from_b] };
            let reports: Vec<IngestReport> =
                order.iter().map(|bundle| c.ingest(bundle).expect("ingest")).collect();
            assert_eq!(reports[1].conflicts.len(), 1);
            assert_eq!(kinds(&reports[1]), vec!["contested".to_string()]);
            assert_eq!(field(c, &x, "hold").as_deref(), Some("contested"));
            let s = c.status().expect("status");
            assert_eq!((s.responses, s.current, s.held_aside, s.conflicts), (2, 1, 1, 1));
            reports
        });
    }
}

pub fn edits_wait_for_their_version_and_a_second_edit_is_a_conflict(b: &Backend) {
    let mut a = Device::new("tablet A");
    let x = a.finalize("v1", false, None);
    let first = a.bundle(false);
    mark_all_sent(&mut a);
    let x2 = a.edit(&x, "v2");
    let edit = a.bundle(true);
    // A restored copy of the tablet edits the same version again.
    let (_a, mut copy) = a.fork();
    let x3 = copy.edit(&x, "v2 on the copy");
    let second_edit = copy.bundle(true);
    b.check(|c, _| {
        c.publish(&instrument("plain", &[])).expect("publish");
        let report = c.ingest(&edit).expect("edit first");
        assert_eq!((report.edits, kinds(&report)), (0, vec!["pending_edit".to_string()]));
        assert_eq!(counts(c), (0, 1));
        let report = c.ingest(&first).expect("then its version");
        assert_eq!((report.edits, report.held_aside.len()), (1, 0));
        assert_eq!(field(c, &x, "superseded_by"), Some(x2.clone()));
        let report = c.ingest(&second_edit).expect("second edit");
        assert_eq!(report.conflicts.len(), 1, "{report:?}");
        assert_eq!(report.conflicts[0].kind, "edit_of_superseded");
        assert_eq!(field(c, &x3, "edit_conflict").as_deref(), Some("true"));
        assert_eq!(counts(c), (1, 0));
        status(c)
    });
}

pub fn a_device_central_authorised_may_replace(b: &Backend) {
    let mut a = Device::new("tablet A");
    let mut supervisor = Device::new("supervisor's tablet");
    let x = a.finalize("as entered", false, None);
    let corrected = supervisor.forge_edit(&x, "as corrected on review");
    let (from_a, from_supervisor) = (a.bundle(false), supervisor.bundle(false));
    let supervisor_id = supervisor.device_id();
    b.check(|c, _| {
        c.publish(&instrument("plain", &[])).expect("publish");
        c.grant_edit(&x, &supervisor_id, "review return (test)").expect("grant");
        c.grant_edit(&x, &supervisor_id, "again: a no-op").expect("grant again");
        c.ingest(&from_supervisor).expect("edit first");
        c.ingest(&from_a).expect("then the version");
        assert_eq!(field(c, &x, "superseded_by"), Some(corrected.clone()));
        assert_eq!(counts(c), (1, 0));
    });
}

pub fn plaintext_for_a_sealed_form_is_held_aside(b: &Backend) {
    let mut d = Device::new("tablet");
    let honest = d.finalize("sealed as it should be", true, None);
    // Plaintext under the published (sealed) form's hash, as a modified
    // app that skips sealing would send.
    let skipped = d.store.create_draft(&NewResponse::new(d.sealed.clone())).expect("draft");
    let id = skipped.instance_id;
    let xml = format!("<data><a>in the clear</a><meta><instanceID>{id}</instanceID></meta></data>");
    d.store.finalize(&id, Payload::Plain { xml, json: "{}".into() }).expect("finalize");
    // And a response to a form central never published with that hash.
    let mut other = Device::new("other");
    other.finalize("plain answer", false, None);
    let (bundle, other_bundle) = (d.bundle(false), other.bundle(false));
    b.check(|c, _| {
        c.publish(&instrument("sealed", &[TEST_RECIPIENT])).expect("publish");
        let report = c.ingest(&bundle).expect("ingest");
        assert_eq!(kinds(&report), vec!["plaintext_for_sealed_form".to_string()]);
        assert_eq!(counts(c), (1, 1));
        // Published after its responses arrived, a form applies to them:
        // a `plain` form of another content makes the response mismatched.
        c.ingest(&other_bundle).expect("other");
        assert_eq!(counts(c), (2, 1));
        let mut changed = instrument("plain", &[]);
        changed.title = "plain, as central publishes it".into();
        c.publish(&changed).expect("publish changed");
        assert_eq!(counts(c), (1, 2));
        c.unpublish("plain", None).expect("unpublish");
        assert_eq!(counts(c), (1, 2), "unpublishing stops serving, not checking");
        assert!(c.canonical_dump().expect("dump").contains(&honest));
    });
}

pub fn the_database_refuses_what_the_rules_forbid(b: &Backend) {
    let mut a = Device::new("tablet A");
    let mut other = Device::new("tablet B");
    let x = a.finalize("A", false, None);
    let forged = other.forge_edit(&x, "B");
    let (c, at) = b.fresh_at();
    let mut c = c;
    c.ingest(&a.bundle(false)).expect("a");
    c.ingest(&other.bundle(false)).expect("b");
    let before = c.canonical_dump().expect("dump");
    let refused = [
        (
            format!("UPDATE responses SET superseded_by = '{forged}' WHERE instance_id = '{x}'"),
            "only the device that made a response",
        ),
        (
            format!("UPDATE responses SET hold = NULL WHERE instance_id = '{forged}'"),
            "stays held aside",
        ),
        (
            format!("UPDATE responses SET xml = '<evil/>' WHERE instance_id = '{x}'"),
            "cannot change",
        ),
        (format!("DELETE FROM responses WHERE instance_id = '{x}'"), "cannot be deleted"),
        ("UPDATE entries SET content = 'x'".to_string(), "cannot change"),
        ("DELETE FROM entries".to_string(), "cannot be deleted"),
        (
            format!(
            "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
                 form_version, form_hash, finalized_at, xml, json, superseded_by, received_at)
             VALUES ('new', 'h', 'd', 1, 'e', 'f', '1', 'h', 't', '<a/>', '{{}}', '{x}', 't')"),
            "replaced only by an edit that follows it",
        ),
    ];
    for (sql, why) in refused {
        let err = b.raw(&at, &sql).expect_err(&sql);
        assert!(err.contains(why), "{sql}: {err}");
    }
    assert_eq!(c.canonical_dump().expect("dump"), before);
    if let Location::Postgres(_) = at {
        // The identity's columns are typed and checked as in SQLite.
        assert!(b.raw(&at, "UPDATE central SET public_key = '\\x00'").is_err());
    }
}

/// Export reads the same responses, values and report from both stores:
/// the tables' files are equal but for when each response arrived.
pub fn export_writes_the_same_files(b: &Backend) {
    let mut a = Device::new("tablet A");
    let mut other = Device::new("tablet B");
    for i in 0..5 {
        a.finalize(&format!("answer {i}"), i % 2 == 0, (i == 1).then_some(&b"jpg"[..]));
    }
    let x = a.finalize("to be corrected", false, None);
    other.forge_edit(&x, "forged");
    let (from_a, from_b) = (a.bundle(false), other.bundle(false));
    let files = b.check(|c, backend| {
        c.publish(&instrument("plain", &[])).expect("publish");
        c.publish(&instrument("sealed", &[TEST_RECIPIENT])).expect("publish");
        c.publish_roster("round-1", br#"[{"id":"P1","display":{"lga":"X"}}]"#).expect("roster");
        c.ingest(&from_a).expect("a");
        c.ingest(&from_b).expect("b");
        let out = backend.dir().join(format!("export-{}", uuid::Uuid::new_v4().simple()));
        let opts = ExportOptions {
            format: Some(Format::Csv),
            identity: Some(ResearcherIdentity::parse(TEST_IDENTITY).expect("identity")),
            ..Default::default()
        };
        let summary = export(c.store(), &opts, &out, &mut |_, _| {}).expect("export");
        assert_eq!(summary.responses, 6);
        let mut files = Vec::new();
        for name in ["plain.csv", "sealed.csv", "report.csv"] {
            let text = std::fs::read_to_string(out.join(name)).expect(name);
            files.push((name, mask_times(&text)));
        }
        files
    });
    assert!(files[0].1.contains("answer 1"));
}

/// Every RFC 3339 UTC time with microseconds (as central writes arrival
/// times, and devices finalize times) replaced by `T`.
fn mask_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        // YYYY-MM-DDTHH:MM:SS.ffffffZ is 27 bytes.
        if i + 27 <= bytes.len() && is_time(&bytes[i..i + 27]) {
            out.push('T');
            i += 27;
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_time(b: &[u8]) -> bool {
    let digit = |i: usize| b[i].is_ascii_digit();
    (0..4).all(digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && (20..26).all(digit)
        && b[26] == b'Z'
}

/// `n` varied bytes (not compressible, as media are).
fn varied(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Every file under `dir`, by SHA-256.
fn hashes_under(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).expect("media") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(hashes_under(&p));
        } else {
            out.insert(enumera_core::bundle::sha256_hex(&std::fs::read(&p).expect("file")));
        }
    }
    out
}

/// Large files (issue 18): a plain response's file over several chunks
/// (PostgreSQL stores it in 1 MiB `blob_chunks` rows, SQLite takes it with
/// blob I/O) and a sealed response's file (inside its sealed payload,
/// spooled at ingest, written to SQLite with blob I/O, opened as a stream
/// at export) export byte for byte. The sealed payload is stored so it
/// streams: in `sealed_payloads` on SQLite (0012), in 1 MiB `sealed_chunks`
/// rows on PostgreSQL (0008); a payload stored whole in `responses.sealed`,
/// as before those, still exports, as does (PostgreSQL) a file stored whole
/// as before schema 5.
pub fn large_media_export_byte_for_byte(b: &Backend) {
    let (plain, sealed) = (varied(5 << 19, 1), varied(3 << 19, 2));
    let mut d = Device::new("tablet A");
    d.finalize("plain video", false, Some(&plain));
    d.finalize("sealed video", true, Some(&sealed));
    let bundle = d.bundle(false);
    let (mut c, at) = b.fresh_at();
    c.publish(&instrument("plain", &[])).expect("publish");
    c.publish(&instrument("sealed", &[TEST_RECIPIENT])).expect("publish");
    // From a file, as `central ingest` and the server take one: items over
    // 1 MiB (the plain file, the sealed payload) are spooled to temporary
    // files and streamed into the store.
    let path = b.dir().join(format!("large-{}.bundle", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, &bundle).expect("bundle file");
    assert_eq!(c.ingest_file(&path).expect("ingest").new_responses, 2);
    let exported = |c: &Central<AnyStore>| {
        let out = b.dir().join(format!("export-{}", uuid::Uuid::new_v4().simple()));
        let opts = ExportOptions {
            format: Some(Format::Csv),
            identity: Some(ResearcherIdentity::parse(TEST_IDENTITY).expect("identity")),
            ..Default::default()
        };
        let summary = export(c.store(), &opts, &out, &mut |_, _| {}).expect("export");
        assert_eq!(summary.media_files, 2);
        hashes_under(&out.join("media"))
    };
    let want: std::collections::BTreeSet<String> =
        [&plain, &sealed].iter().map(|f| enumera_core::bundle::sha256_hex(f)).collect();
    assert_eq!(exported(&c), want);
    if let enumera_central::Location::File(path) = &at {
        // The spooled sealed payload is in `sealed_payloads` (its bytes the
        // last column, so written and read with blob I/O), the response's
        // own column an empty marker.
        let conn = rusqlite::Connection::open(path).expect("open");
        let (rows, len, marker): (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM sealed_payloads),
                        (SELECT sum(length(bytes)) FROM sealed_payloads),
                        (SELECT count(*) FROM responses WHERE sealed = X'')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("sealed payloads");
        assert_eq!((rows, marker), (1, 1));
        assert!(len > 3 << 19, "the sealed payload holds the 1.5 MiB file: {len}");
        drop(conn);
        // As stored before schema 0012: the payload inline; still exports.
        b.raw(
            &at,
            "BEGIN;
             DROP TRIGGER responses_frozen;
             UPDATE responses SET sealed = (SELECT sp.bytes FROM sealed_payloads sp
                 WHERE sp.instance_id = responses.instance_id
                   AND sp.content_hash = responses.content_hash)
             WHERE sealed = X'';
             DELETE FROM sealed_payloads;
             CREATE TRIGGER responses_frozen BEFORE UPDATE OF sealed ON responses
             BEGIN SELECT RAISE(ABORT, 'enumera central: a held response cannot change'); END;
             COMMIT;",
        )
        .expect("as stored before schema 0012");
        assert_eq!(exported(&c), want);
    }
    if b.kind == super::stores::Kind::Postgres {
        b.raw(
            &at,
            "DO $$ BEGIN
                 IF (SELECT count(*) FROM blob_chunks) <> 3
                    OR EXISTS (SELECT 1 FROM blobs WHERE bytes IS NOT NULL) THEN
                     RAISE EXCEPTION 'the 2.5 MiB file is not in 3 chunks';
                 END IF;
             END $$",
        )
        .expect("chunks");
        b.raw(
            &at,
            "UPDATE blobs b SET bytes = (SELECT string_agg(c.bytes, ''::BYTEA ORDER BY c.seq)
                 FROM blob_chunks c WHERE c.sha256 = b.sha256);
             DELETE FROM blob_chunks;",
        )
        .expect("as stored before schema 5");
        assert_eq!(exported(&c), want);
        // The spooled sealed payload (the 1.5 MiB file and more) is in two
        // 1 MiB `sealed_chunks` rows, the response's own column empty.
        b.raw(
            &at,
            "DO $$ BEGIN
                 IF (SELECT count(*) FROM sealed_chunks) <> 2
                    OR (SELECT sum(octet_length(bytes)) FROM sealed_chunks) <= 3 * 524288
                    OR (SELECT count(*) FROM responses WHERE sealed = ''::BYTEA) <> 1 THEN
                     RAISE EXCEPTION 'the sealed payload is not in 2 chunks';
                 END IF;
             END $$",
        )
        .expect("sealed chunks");
        // As stored before schema 8: the payload whole in its column.
        b.raw(
            &at,
            "ALTER TABLE responses DISABLE TRIGGER responses_frozen;
             UPDATE responses r SET sealed = (SELECT string_agg(c.bytes, ''::BYTEA ORDER BY c.seq)
                 FROM sealed_chunks c
                 WHERE c.instance_id = r.instance_id AND c.content_hash = r.content_hash)
             WHERE sealed = ''::BYTEA;
             ALTER TABLE responses ENABLE TRIGGER responses_frozen;
             DELETE FROM sealed_chunks;",
        )
        .expect("as stored before schema 8");
        assert_eq!(exported(&c), want);
    }
}

/// A kept conflict with a large sealed payload (issue 18, item 5): both
/// versions of a forked tablet's sealed video are spooled and stored so
/// they stream (`sealed_payloads` on SQLite, `sealed_chunks` on
/// PostgreSQL), and both stores hold the same bytes for the response and
/// the conflict (the canonical dump hashes each store's sealed bytes).
pub fn a_large_sealed_conflict_is_kept_whole(b: &Backend) {
    let mut d = Device::new("tablet A");
    d.finalize("first", false, None);
    mark_all_sent(&mut d);
    let (mut a, mut fork) = d.fork();
    let id = a.finalize("on the tablet", true, Some(&varied(3 << 19, 3)));
    fork.forge_sealed_instance_id(&id, "on the restored copy", &varied(3 << 19, 4));
    let (from_a, from_fork) = (a.bundle(true), fork.bundle(true));
    b.check(|c, b| {
        c.publish(&instrument("plain", &[])).expect("publish");
        c.publish(&instrument("sealed", &[TEST_RECIPIENT])).expect("publish");
        let mut ingest = |bytes: &[u8]| {
            let path = b.dir().join(format!("fork-{}.bundle", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, bytes).expect("bundle file");
            c.ingest_file(&path).expect("ingest")
        };
        assert_eq!(ingest(&from_a).new_responses, 1);
        let report = ingest(&from_fork);
        assert_eq!(report.conflicts.len(), 1);
        assert_eq!(report.conflicts[0].kind, "different_content");
        let dump = c.canonical_dump().expect("dump");
        let empty = enumera_core::bundle::sha256_hex(b"");
        let sealed: Vec<&str> = dump.lines().filter(|l| l.contains(&id)).collect();
        assert_eq!(sealed.iter().filter(|l| l.starts_with("conflict ")).count(), 1, "{dump}");
        for line in
            sealed.iter().filter(|l| l.starts_with("conflict ") || l.starts_with("response "))
        {
            assert!(!line.contains(&format!("sealed={empty}")), "bytes missing: {line}");
            assert!(!line.ends_with("sealed=-"), "not sealed: {line}");
        }
        report.conflicts.len()
    });
}
