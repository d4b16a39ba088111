//! Writer process for the store crash test: fills and finalizes responses
//! forever, printing one line per acknowledged (committed) step, until it is
//! killed. Usage: `store-crash-writer DB SEED [--open-only]`; with
//! `--open-only` it opens (and so upgrades) the database, prints `O`, exits.
//!
//! Lines: `D id` draft started, `A id ref value` answer saved, `T id name
//! sha256` attachment saved, `F id seq` finalized. A line is printed only
//! after the store call returned, i.e. after the commit.

use std::io::Write;
use std::process::ExitCode;

use enumera_core::store::{NewResponse, Payload, ResponseState, Store};
use enumera_tests::rng::Rng;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(seed)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: store-crash-writer DB SEED");
        return ExitCode::from(2);
    };
    match run(db, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store-crash-writer: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(db: &str, seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng(seed | 1);
    let mut out = std::io::stdout().lock();
    let mut store = Store::open_existing(db)?;
    if std::env::args().any(|a| a == "--open-only") {
        writeln!(out, "O")?;
        return Ok(());
    }
    let key = store.latest_instrument("crash")?;
    // Carry on with the draft an earlier (killed) run left, as the app would.
    let mut current = store
        .list_responses()?
        .into_iter()
        .rev()
        .find(|r| r.state == ResponseState::Draft)
        .map(|r| r.instance_id);
    loop {
        let id = match current.take() {
            Some(id) => id,
            None => {
                let id = store.create_draft(&NewResponse::new(key.clone()))?.instance_id;
                writeln!(out, "D {id}")?;
                out.flush()?;
                id
            }
        };
        let answered = store.answers(&id)?.len();
        let more = 1 + rng.below(12) as usize;
        for i in answered..answered + more {
            let reference = format!("/data/q{i}");
            let value = format!("v{i}-{}", rng.below(1_000_000));
            store.set_answer(&id, &reference, &value)?;
            writeln!(out, "A {id} {reference} {value}")?;
            out.flush()?;
        }
        if rng.below(4) == 0 {
            let name = format!("photo-{}.jpg", rng.below(1000));
            let bytes = format!("photo of {id} {}", rng.below(u64::MAX)).repeat(50);
            let info = store.put_attachment(&id, &name, bytes.as_bytes())?;
            writeln!(out, "T {id} {name} {}", info.sha256)?;
            out.flush()?;
        }
        let n = store.answers(&id)?.len();
        let payload = Payload::Plain {
            xml: format!(
                "<data><answers>{n}</answers><meta><instanceID>{id}</instanceID></meta></data>"
            ),
            json: format!("{{\"answers\":{n}}}"),
        };
        let entry = store.finalize(&id, payload)?;
        writeln!(out, "F {id} {}", entry.seq)?;
        out.flush()?;
    }
}
