//! `enumera central --db C.db ...`: the central store from a terminal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use enumera_central::Central;

use crate::UserError;
use crate::device::to_json;

#[derive(Debug, Args)]
pub struct CentralArgs {
    /// The central database file.
    #[arg(long, value_name = "C.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: CentralCommand,
}

#[derive(Debug, Subcommand)]
pub enum CentralCommand {
    /// Create the central database and central's signing key.
    Init {
        #[arg(long)]
        json: bool,
    },
    /// Publish an instrument for devices to fetch.
    Publish { form: PathBuf },
    /// Verify and ingest bundles (each all or nothing).
    Ingest {
        #[arg(required = true, value_name = "BUNDLE")]
        bundles: Vec<PathBuf>,
        /// Write each device's receipt into this folder (`DEVICE_ID.receipt`).
        #[arg(long, value_name = "DIR")]
        receipts: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Responses, conflicts, devices with their sequence gaps and forks.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write the signed receipt for a device.
    Receipt {
        #[arg(long, value_name = "ID")]
        device: String,
        #[arg(short = 'o', long = "out", value_name = "OUT.receipt")]
        out: PathBuf,
    },
    /// Enrol a device key; once any device is enrolled, others are refused.
    Enrol {
        #[arg(long, value_name = "ID")]
        device: String,
        /// The device's Ed25519 public key (64 hex digits, `device init` prints it).
        #[arg(long, value_name = "HEX")]
        key: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    std::fs::write(path, bytes)
        .map_err(|e| UserError(format!("cannot write {}: {e}", path.display())))
}

pub fn run(args: CentralArgs) -> Result<ExitCode, UserError> {
    let db = args.db.as_path();
    match args.command {
        CentralCommand::Init { json } => {
            let central = Central::init(db)?;
            let key = enumera_core::bundle::hex(&central.public_key()?);
            if json {
                println!("{}", serde_json::json!({ "central_public_key": key }));
            } else {
                println!("{key}");
                eprintln!("central database {} initialized", db.display());
            }
        }
        CentralCommand::Publish { form } => {
            let instrument = crate::device::load_form(&form)?;
            let new = Central::open(db)?.publish(&instrument)?;
            eprintln!(
                "{} {} version {:?} ({})",
                if new { "published" } else { "already published:" },
                instrument.form_id,
                instrument.version,
                instrument.hash()
            );
        }
        CentralCommand::Ingest { bundles, receipts, json } => {
            let mut central = Central::open(db)?;
            let mut results = Vec::new();
            let mut failed = 0;
            let mut devices = std::collections::BTreeSet::new();
            for path in &bundles {
                let outcome = std::fs::read(path)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|bytes| {
                        central.ingest(&bytes).map_err(|e| format!("refused ({}): {e}", e.code()))
                    });
                match outcome {
                    Ok(report) => {
                        if !json {
                            eprintln!(
                                "{}: device {}: {} entries, {} new responses ({} edits), {} duplicates, {} conflicts",
                                path.display(),
                                report.device_id,
                                report.entries,
                                report.new_responses,
                                report.edits,
                                report.duplicates,
                                report.conflicts.len()
                            );
                            for c in &report.conflicts {
                                eprintln!(
                                    "  conflict {} ({}): {}",
                                    c.instance_id, c.kind, c.detail
                                );
                            }
                        }
                        devices.insert(report.device_id.clone());
                        results.push(
                            serde_json::json!({"bundle": path, "ok": true, "report": report}),
                        );
                    }
                    Err(msg) => {
                        failed += 1;
                        eprintln!("{}: {msg}; nothing from it was stored", path.display());
                        results
                            .push(serde_json::json!({"bundle": path, "ok": false, "error": msg}));
                    }
                }
            }
            if let Some(dir) = receipts {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| UserError(format!("cannot create {}: {e}", dir.display())))?;
                for device in &devices {
                    let receipt = central.receipt_for(device)?;
                    let path = dir.join(format!("{device}.receipt"));
                    write_file(&path, &receipt.file)?;
                    eprintln!("wrote {}", path.display());
                }
            }
            if json {
                println!("{}", to_json(&results));
            }
            if failed > 0 {
                return Err(UserError(format!(
                    "{failed} of {} bundles refused (reasons above)",
                    bundles.len()
                )));
            }
        }
        CentralCommand::Status { json } => {
            let status = Central::open(db)?.status()?;
            if json {
                println!("{}", to_json(&status));
            } else {
                println!(
                    "{} responses ({} current, {} sealed), {} conflicts, {} devices, {} published instruments",
                    status.responses,
                    status.current,
                    status.sealed,
                    status.conflicts,
                    status.devices.len(),
                    status.published
                );
                for d in &status.devices {
                    let gaps: Vec<String> =
                        d.gaps.iter().map(|g| format!("{}-{}", g.from, g.to)).collect();
                    println!(
                        "device {} ({}): {} entries up to {}{}{}",
                        d.device_id,
                        d.name,
                        d.entries,
                        d.max_seq,
                        if gaps.is_empty() {
                            String::new()
                        } else {
                            format!(", gaps {}", gaps.join(","))
                        },
                        if d.forks.is_empty() {
                            String::new()
                        } else {
                            format!(", forks at {:?}", d.forks)
                        },
                    );
                }
            }
        }
        CentralCommand::Receipt { device, out } => {
            let receipt = Central::open(db)?.receipt_for(&device)?;
            write_file(&out, &receipt.file)?;
            eprintln!(
                "wrote {}: {} entries of device {device}",
                out.display(),
                receipt.receipt.entries.len()
            );
        }
        CentralCommand::Enrol { device, key, name } => {
            let public_key: [u8; 32] = enumera_core::bundle::unhex(&key)
                .ok_or_else(|| UserError(format!("--key {key:?} is not 64 hex digits")))?;
            Central::open(db)?.enrol_device(&device, &public_key, &name)?;
            eprintln!("enrolled device {device}; devices not enrolled are now refused");
        }
    }
    Ok(ExitCode::SUCCESS)
}
