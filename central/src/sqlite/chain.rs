//! A device's outbox chain as central holds it: gaps (sequence numbers
//! below the highest received that are missing) and forks (a sequence
//! number with two different entries, or an entry that does not link to
//! the one received before it).
//!
//! Checked after every ingest, so it must not cost the device's whole
//! history each time: `chain_state` records how far the chain is whole
//! (one entry per sequence number, each linking to the one before), only
//! entries from there on are read, and a second entry arriving inside the
//! whole part is recorded in `chain_forks` as it comes. The answer is the
//! same as reading every entry ([`problems_by_full_scan`], kept for the
//! tests that say so).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, params};

use crate::report::SeqRange;

/// Entries `1..=seq` are held, one each, linked; `hash` is the entry hash
/// at `seq` (`None` at 0: seq 1 may follow anything, as a device's first
/// entry follows its genesis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Whole {
    pub seq: u64,
    pub hash: Option<String>,
}

pub(super) fn whole(conn: &Connection, device_id: &str) -> rusqlite::Result<Whole> {
    let row = conn
        .prepare_cached("SELECT through_seq, through_hash FROM chain_state WHERE device_id = ?1")?
        .query_row([device_id], |r| Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?)))
        .optional()?;
    Ok(row.map_or(Whole { seq: 0, hash: None }, |(seq, hash)| Whole { seq, hash: Some(hash) }))
}

/// Call for each entry an ingest adds: one at or below the whole part is a
/// second entry at its sequence number, a fork.
pub(super) fn note_entry(
    conn: &Connection,
    device_id: &str,
    seq: u64,
    whole: &Whole,
) -> rusqlite::Result<()> {
    if seq <= whole.seq {
        conn.prepare_cached("INSERT OR IGNORE INTO chain_forks (device_id, seq) VALUES (?1, ?2)")?
            .execute(params![device_id, seq])?;
    }
    Ok(())
}

/// Gaps and forks, reading only the entries past the whole part; moves the
/// whole part forward when `advance` (inside an ingest's transaction).
fn check(
    conn: &Connection,
    device_id: &str,
    advance: bool,
) -> rusqlite::Result<(Vec<SeqRange>, Vec<u64>)> {
    let mut whole = whole(conn, device_id)?;
    let by_seq = entries_from(conn, device_id, whole.seq.max(1))?;
    let mut forks: BTreeSet<u64> = conn
        .prepare_cached("SELECT seq FROM chain_forks WHERE device_id = ?1")?
        .query_map([device_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let (gaps, past) = scan(&by_seq, whole.seq);
    forks.extend(past);

    if advance {
        let start = whole.seq;
        while let Some([(hash, prev)]) = by_seq.get(&(whole.seq + 1)).map(Vec::as_slice) {
            if whole.hash.as_ref().is_some_and(|h| h != prev) {
                break;
            }
            whole = Whole { seq: whole.seq + 1, hash: Some(hash.clone()) };
        }
        if whole.seq > start {
            conn.prepare_cached(
                "INSERT INTO chain_state (device_id, through_seq, through_hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE
                 SET through_seq = excluded.through_seq, through_hash = excluded.through_hash",
            )?
            .execute(params![device_id, whole.seq, whole.hash])?;
        }
    }
    Ok((gaps, forks.into_iter().collect()))
}

/// Gaps and forks of a device, for status and replies (reads only).
pub(super) fn problems(
    conn: &Connection,
    device_id: &str,
) -> rusqlite::Result<(Vec<SeqRange>, Vec<u64>)> {
    check(conn, device_id, false)
}

/// Gaps and forks after an ingest, recording how far the chain is whole.
pub(super) fn problems_after_ingest(
    conn: &Connection,
    device_id: &str,
) -> rusqlite::Result<(Vec<SeqRange>, Vec<u64>)> {
    check(conn, device_id, true)
}

/// (entry hash, prev hash) of every entry at `from` and after, by seq.
pub(crate) type BySeq = BTreeMap<u64, Vec<(String, String)>>;

fn entries_from(conn: &Connection, device_id: &str, from: u64) -> rusqlite::Result<BySeq> {
    let mut by_seq = BySeq::new();
    let mut s = conn.prepare_cached(
        "SELECT seq, entry_hash, prev_hash FROM entries
         WHERE device_id = ?1 AND seq >= ?2 ORDER BY seq",
    )?;
    let rows =
        s.query_map(params![device_id, from], |r| Ok((r.get::<_, u64>(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (seq, hash, prev) = row?;
        by_seq.entry(seq).or_default().push((hash, prev));
    }
    Ok(by_seq)
}

/// Gaps and forks among the sequence numbers after `whole` (those at or
/// below it are whole but for the forks recorded as they arrived).
pub(crate) fn scan(by_seq: &BySeq, whole: u64) -> (Vec<SeqRange>, BTreeSet<u64>) {
    let mut gaps = Vec::new();
    let mut forks = BTreeSet::new();
    let mut expected = whole + 1;
    for (&seq, list) in by_seq.range(whole + 1..) {
        if seq > expected {
            gaps.push(SeqRange { from: expected, to: seq - 1 });
        }
        expected = seq + 1;
        if list.len() > 1 {
            forks.insert(seq);
        }
        if let Some(before) = seq.checked_sub(1).and_then(|p| by_seq.get(&p))
            && list.iter().any(|(_, prev)| !before.iter().any(|(hash, _)| hash == prev))
        {
            forks.insert(seq);
        }
    }
    (gaps, forks)
}

/// The same answer from every entry of the device: what [`problems`] must
/// agree with.
#[cfg(test)]
pub(super) fn problems_by_full_scan(
    conn: &Connection,
    device_id: &str,
) -> rusqlite::Result<(Vec<SeqRange>, Vec<u64>)> {
    let (gaps, forks) = scan(&entries_from(conn, device_id, 1)?, 0);
    Ok((gaps, forks.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().expect("db");
        conn.execute_batch(
            "CREATE TABLE devices (device_id TEXT PRIMARY KEY);
             INSERT INTO devices VALUES ('d');
             CREATE TABLE entries (device_id TEXT, seq INTEGER, entry_hash TEXT, prev_hash TEXT,
                                   PRIMARY KEY (device_id, seq, entry_hash));",
        )
        .expect("entries");
        conn.execute_batch(include_str!("../../sql/0003_chain_state.sql")).expect("chain tables");
        conn
    }

    /// Adds entries as an ingest does: note each new one, then check.
    fn ingest(conn: &Connection, entries: &[(u64, String, String)]) -> (Vec<SeqRange>, Vec<u64>) {
        let whole = whole(conn, "d").expect("whole");
        for (seq, hash, prev) in entries {
            let added = conn
                .execute(
                    "INSERT OR IGNORE INTO entries VALUES ('d', ?1, ?2, ?3)",
                    params![seq, hash, prev],
                )
                .expect("insert");
            if added == 1 {
                note_entry(conn, "d", *seq, &whole).expect("note");
            }
        }
        problems_after_ingest(conn, "d").expect("check")
    }

    /// The device's true chain: entry n has hash "h{n}" and follows h{n-1}.
    fn link(seq: u64) -> (u64, String, String) {
        (seq, format!("h{seq}"), format!("h{}", seq - 1))
    }

    #[test]
    fn a_whole_chain_is_checked_from_where_it_was_whole() {
        let conn = db();
        assert_eq!(ingest(&conn, &(1..=5).map(link).collect::<Vec<_>>()), (vec![], vec![]));
        assert_eq!(whole(&conn, "d").expect("whole").seq, 5);
        // A gap, then filled.
        assert_eq!(ingest(&conn, &[link(8)]), (vec![SeqRange { from: 6, to: 7 }], vec![]));
        assert_eq!(whole(&conn, "d").expect("whole").seq, 5);
        assert_eq!(ingest(&conn, &[link(6), link(7)]), (vec![], vec![]));
        assert_eq!(whole(&conn, "d").expect("whole").seq, 8);
        // A second entry at 3, long after 3 was whole: a fork, for good.
        let forked = (3, "x3".to_string(), "h2".to_string());
        assert_eq!(ingest(&conn, &[forked]), (vec![], vec![3]));
        assert_eq!(ingest(&conn, &[link(9)]), (vec![], vec![3]));
        // An entry that does not link to the one before it.
        let unlinked = (10, "h10".to_string(), "nope".to_string());
        assert_eq!(ingest(&conn, &[unlinked]), (vec![], vec![3, 10]));
        assert_eq!(whole(&conn, "d").expect("whole").seq, 9);
    }

    /// An entry: on the true chain, or a forged/forked one at some seq.
    fn entry() -> impl Strategy<Value = (u64, String, String)> {
        prop_oneof![
            4 => (1u64..40).prop_map(link),
            1 => (1u64..40, 0u8..3, 0u8..3).prop_map(|(seq, h, p)| {
                let prev = if p == 0 { format!("h{}", seq - 1) } else { format!("f{}-{p}", seq - 1) };
                (seq, format!("f{seq}-{h}"), prev)
            }),
        ]
    }

    proptest! {
        /// Whatever arrives in whatever batches, the incremental answer is
        /// the full scan's, after every ingest.
        #[test]
        fn incremental_checks_agree_with_the_full_scan(
            batches in prop::collection::vec(prop::collection::vec(entry(), 0..12), 1..8)
        ) {
            let conn = db();
            for batch in &batches {
                let incremental = ingest(&conn, batch);
                let full = problems_by_full_scan(&conn, "d").expect("full");
                prop_assert_eq!(&incremental, &full);
                prop_assert_eq!(problems(&conn, "d").expect("read"), full);
            }
        }
    }
}
