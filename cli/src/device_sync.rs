//! `enumera device bundle` and `enumera device receipt`: the device's side
//! of sync by file.

use std::path::Path;

use enumera_core::bundle::{BundleOptions, apply_receipt, write_bundle_file};
use enumera_core::store::Store;

use crate::UserError;
use crate::device::to_json;

pub fn bundle(db: &Path, out: &Path, since_receipt: bool, json: bool) -> Result<(), UserError> {
    let store = Store::open_existing(db)?;
    let summary = write_bundle_file(&store, &BundleOptions { since_receipt }, out)?;
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
        if report.central_key_pinned {
            eprintln!(
                "learned central's key from this first receipt; later receipts must match it"
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
