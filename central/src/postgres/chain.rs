//! A device's outbox chain in PostgreSQL: the same incremental check as
//! the SQLite store (`sqlite/chain.rs`, whose scan this reuses), reading
//! only the entries past where the chain is known whole.

use std::collections::BTreeSet;

use postgres::GenericClient;

use super::{i, u};
use crate::report::SeqRange;
use crate::sqlite::chain::{BySeq, Whole, scan};

type Pg<T> = Result<T, postgres::Error>;

pub(super) fn whole(c: &mut impl GenericClient, device_id: &str) -> Pg<Whole> {
    let row = c.query_opt(
        "SELECT through_seq, through_hash FROM chain_state WHERE device_id = $1",
        &[&device_id],
    )?;
    Ok(row
        .map_or(Whole { seq: 0, hash: None }, |r| Whole { seq: u(r.get(0)), hash: Some(r.get(1)) }))
}

fn check(
    c: &mut impl GenericClient,
    device_id: &str,
    advance: bool,
) -> Pg<(Vec<SeqRange>, Vec<u64>)> {
    let mut whole = whole(c, device_id)?;
    let mut by_seq = BySeq::new();
    for r in c.query(
        "SELECT seq, entry_hash, prev_hash FROM entries
         WHERE device_id = $1 AND seq >= $2 ORDER BY seq",
        &[&device_id, &i(whole.seq.max(1))],
    )? {
        by_seq.entry(u(r.get(0))).or_default().push((r.get(1), r.get(2)));
    }
    let mut forks: BTreeSet<u64> = c
        .query("SELECT seq FROM chain_forks WHERE device_id = $1", &[&device_id])?
        .iter()
        .map(|r| u(r.get(0)))
        .collect();
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
            c.execute(
                "INSERT INTO chain_state (device_id, through_seq, through_hash) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id) DO UPDATE
                 SET through_seq = excluded.through_seq, through_hash = excluded.through_hash",
                &[&device_id, &i(whole.seq), &whole.hash],
            )?;
        }
    }
    Ok((gaps, forks.into_iter().collect()))
}

/// Gaps and forks of a device (reads only).
pub(super) fn problems(
    c: &mut impl GenericClient,
    device_id: &str,
) -> Pg<(Vec<SeqRange>, Vec<u64>)> {
    check(c, device_id, false)
}

/// Gaps and forks after an ingest, recording how far the chain is whole.
pub(super) fn problems_after_ingest(
    c: &mut impl GenericClient,
    device_id: &str,
) -> Pg<(Vec<SeqRange>, Vec<u64>)> {
    check(c, device_id, true)
}
