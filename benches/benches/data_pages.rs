//! The data API's submission pages (issue 19): what one page, one count
//! and one submission cost as a form's submissions grow from 1,000 to
//! 100,000, in SQLite and PostgreSQL, beside what the data API did before
//! for every page (read every current submission of the form and every
//! review state, then cut the page out). A page should cost the same at
//! every size.
//!
//! Submissions are written straight into central's tables (plain rows of
//! one form, no devices or bundles): what is measured is reading them.
//! `cargo bench -p enumera-benches --bench data_pages`; PostgreSQL from
//! ENUMERA_TEST_POSTGRES (scripts/bench.sh starts a cluster), skipped
//! without it. Under `cargo test` a tiny version runs.

use enumera_benches::{Samples, fmt_duration};
use enumera_central::export::{ExportSource, Filter, Order, StoredResponse};
use enumera_central::submissions::{Cursor, SubmissionQuery, SubmissionSource};
use enumera_central::{AnyStore, Central, Location};

const PAGE: usize = 100;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[1_000, 10_000, 100_000] } else { &[300] };
    let reps = if full { 15 } else { 2 };
    let dir = tempfile::tempdir().expect("scratch dir");
    println!(
        "Pages of {PAGE} submissions of one form; median of {reps} runs (the scan of before: of 3)."
    );
    println!();
    println!(
        "| store | submissions | first page | middle page (cursor) | last page | count | one submission | before: every page |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let admin = std::env::var("ENUMERA_TEST_POSTGRES").ok().filter(|a| !a.is_empty());
    for &n in sizes {
        let at = Location::File(dir.path().join(format!("central-{n}.db")));
        row("SQLite", &at, n, reps);
        match &admin {
            Some(admin) => {
                let (at, name) = new_database(admin);
                row("PostgreSQL", &at, n, reps);
                drop_database(admin, &name);
            }
            None => println!("| PostgreSQL | skipped: ENUMERA_TEST_POSTGRES unset | | | | | | |"),
        }
    }
}

fn fill(at: &Location, n: usize) {
    let columns = "instance_id, content_hash, device_id, seq, entry_hash, form_id, form_version,
        form_hash, finalized_at, xml, json, received_at";
    match at {
        Location::File(path) => {
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute(
                &format!(
                    "INSERT INTO responses ({columns})
                     WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
                     SELECT 'uuid:' || i, 'h' || i, 'd' || (i % 50), i, 'e' || i, 'bench', '1',
                            'fh', '2026-01-01T00:00:00Z', '<data><a>' || i || '</a></data>', '{{}}',
                            '2026-01-01T00:00:00Z' FROM k"
                ),
                [n as i64],
            )
            .expect("fill");
        }
        Location::Postgres(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            client
                .execute(
                    &format!(
                        "INSERT INTO responses ({columns})
                         SELECT 'uuid:' || i, 'h' || i, 'd' || (i % 50), i, 'e' || i, 'bench',
                                '1', 'fh', '2026-01-01T00:00:00Z',
                                '<data><a>' || i || '</a></data>', '{{}}', '2026-01-01T00:00:00Z'
                         FROM generate_series(1, $1::BIGINT) AS i"
                    ),
                    &[&(n as i64)],
                )
                .expect("fill");
            client.batch_execute("ANALYZE responses").expect("analyze");
        }
    }
}

fn median(reps: usize, mut f: impl FnMut()) -> String {
    let mut s = Samples::default();
    for _ in 0..reps {
        s.time(&mut f);
    }
    fmt_duration(s.quantile(0.5))
}

fn row(label: &str, at: &Location, n: usize, reps: usize) {
    let c: Central<AnyStore> = Central::init_at(at).expect("init");
    fill(at, n);
    let store = c.store();
    let q = SubmissionQuery { form_id: "bench".into(), ..SubmissionQuery::default() };
    // Cursors to the middle and the last page.
    let (mut after, mut seen, mut middle, mut last) = (None::<Cursor>, 0, None, None);
    loop {
        let page = store.submission_page(&q, after.as_ref(), 0, 1000).expect("page");
        seen += page.items.len();
        if middle.is_none() && seen >= n / 2 {
            middle = page.next.clone();
        }
        if n - seen <= PAGE && last.is_none() && seen < n {
            last = page.next.clone();
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, n, "every submission listed once");
    let last = last.or_else(|| middle.clone());
    let page = |at: Option<&Cursor>| {
        let p = store.submission_page(&q, at, 0, PAGE).expect("page");
        assert!(!p.items.is_empty());
    };
    let first = median(reps, || page(None));
    let mid = median(reps, || page(middle.as_ref()));
    let end = median(reps, || page(last.as_ref()));
    let count = median(reps, || {
        assert_eq!(store.submission_count(&q).expect("count"), n as u64);
    });
    let one = median(reps, || {
        assert!(store.submission(&format!("uuid:{}", n / 2)).expect("one").is_some());
    });
    let before = median(3, || {
        let filter = Filter { form: Some("bench".into()), ..Filter::default() };
        store.review(&filter).expect("review");
        let mut rows = 0usize;
        store
            .responses(&filter, Order::Form, &mut |_: StoredResponse| {
                rows += 1;
                Ok(())
            })
            .expect("scan");
        assert_eq!(rows, n);
    });
    println!("| {label} | {n} | {first} | {mid} | {end} | {count} | {one} | {before} |");
}

fn new_database(admin: &str) -> (Location, String) {
    let name = format!("enumera_bench_pages_{}", std::process::id());
    let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("connect");
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create");
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    (Location::Postgres(format!("{base}/{name}?{query}")), name)
}

fn drop_database(admin: &str, name: &str) {
    if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
