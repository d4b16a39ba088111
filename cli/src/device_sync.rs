//! `enumera device bundle` and `enumera device receipt`: the device's side
//! of sync by file.

use std::path::Path;

use enumera_core::bundle::{BundleOptions, apply_receipt, write_bundle_file};
use enumera_core::store::Store;

use crate::UserError;
use crate::device::to_json;

pub fn bundle(db: &Path, out: &Path, since_receipt: bool, json: bool) -> Result<(), UserError> {
    let store = Store::open_existing(db)?;
    let summary =
        write_bundle_file(&store, &BundleOptions { since_receipt, ..Default::default() }, out)?;
    if json {
        println!("{}", to_json(&summary));
    } else {
        let range = match (summary.first_seq, summary.last_seq) {
            (Some(a), Some(b)) => format!("sequence {a}..{b}"),
            _ => "no responses".into(),
        };
        eprintln!(
            "wrote {}: {} responses ({range}), {} bytes",
            out.display(),
            summary.responses,
            summary.bytes
        );
    }
    Ok(())
}

pub fn receipt(db: &Path, file: &Path, json: bool) -> Result<(), UserError> {
    let bytes = std::fs::read(file)
        .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
    let mut store = Store::open_existing(db)?;
    let report = apply_receipt(&mut store, &bytes)
        .map_err(|e| UserError(format!("{}: {e}", file.display())))?;
    if json {
        println!("{}", to_json(&report));
    } else {
        if report.central_key_learned {
            eprintln!(
                "learned central's key from this first receipt; later receipts must match it, and \
                 responses are purged only once an operator pins it (`device trust --central-key`)"
            );
        }
        eprintln!(
            "{}: {} responses marked sent, {} already sent, {} not matching this device",
            file.display(),
            report.marked.len(),
            report.already_sent.len(),
            report.not_matching.len()
        );
    }
    Ok(())
}

/// `enumera device --db DEV.db sync --server URL --token TOKEN`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Central's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    server: String,
    /// This device's token (`enumera central token create --device ID` at central).
    #[arg(long, value_name = "TOKEN", env = "ENUMERA_TOKEN", hide_env_values = true)]
    token: String,
    /// Tries in all when the network or central fails (each try resends
    /// what is still unacknowledged; central keeps each response once).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,
    /// Longest one request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
    #[arg(long)]
    json: bool,
}

pub fn sync(db: &Path, args: SyncArgs) -> Result<(), UserError> {
    let transport = crate::http::UreqTransport::new(
        &args.server,
        std::time::Duration::from_secs(args.timeout.max(1)),
    )
    .map_err(UserError)?;
    let mut store = Store::open_existing(db)?;
    let mut attempt = 1;
    let report = loop {
        match enumera_core::remote::sync(&mut store, &transport, &args.token) {
            Ok(report) => break report,
            Err(e) if e.is_retryable() && attempt < args.attempts => {
                let wait = std::time::Duration::from_secs(1 << attempt.min(5));
                eprintln!(
                    "{e}; trying again in {} s ({attempt}/{})",
                    wait.as_secs(),
                    args.attempts
                );
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(e) => {
                let unsent = store.outbox(0, true).map(|o| o.len()).unwrap_or(0);
                return Err(UserError(format!(
                    "sync with {} failed: {e}\n{unsent} response(s) still wait for a receipt; \
                     they stay on this device and the next sync sends them",
                    args.server
                )));
            }
        }
    };
    if args.json {
        println!("{}", to_json(&report));
    } else {
        match &report.receipt {
            Some(r) => eprintln!(
                "uploaded {} response(s) ({} bytes in {} bundle(s)); receipt: {} marked sent, {} already sent",
                report.uploaded,
                report.bundle_bytes,
                report.bundles,
                r.marked.len(),
                r.already_sent.len()
            ),
            None => eprintln!("nothing to upload"),
        }
        for key in &report.instruments_installed {
            eprintln!("installed {} version {:?}", key.form_id, key.version);
        }
        for r in &report.instruments_refused {
            eprintln!("left out {} version {:?}: {}", r.form_id, r.version, r.reason);
        }
        for r in &report.rosters {
            eprintln!(
                "roster {}: {} added, {} updated, {} unchanged",
                r.name, r.import.added, r.import.updated, r.import.unchanged
            );
        }
        if let Some(a) = &report.assignments {
            eprintln!(
                "assignments: {} ({} new, {} ended); {} roster row(s) removed, {} kept for \
                 unsent work: see `device assignments`",
                a.assignments,
                a.new.len(),
                a.ended.len(),
                a.participants_removed.len(),
                a.participants_kept.len()
            );
        }
        if let Some(r) =
            report.returns.as_ref().filter(|r| !r.new.is_empty() || !r.updated.is_empty())
        {
            eprintln!(
                "{} response(s) returned by a reviewer, {} with new comments: see `device returns`",
                r.new.len(),
                r.updated.len()
            );
        }
    }
    Ok(())
}
