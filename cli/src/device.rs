//! `enumera device --db DEV.db ...`: the tablet's database from a terminal.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use enumera_core::instrument::Instrument;
use enumera_core::store::{Response, Store};

use crate::UserError;

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The device database file.
    #[arg(long, value_name = "DEV.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create the device database with a new device id and signing key.
    Init {
        /// A name people recognise for this device.
        #[arg(long)]
        name: String,
        /// The enumerator's id.
        #[arg(long)]
        enumerator: Option<String>,
        /// Central's public key (64 hex digits, as `enumera central init`
        /// prints it), pinned now: receipts from any other central are
        /// refused, and only this one's let responses be purged.
        #[arg(long, value_name = "HEX")]
        central_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Pin central's public key (or show the key receipts are checked
    /// against). Responses another key acknowledged go back to the outbox.
    Trust {
        /// Central's public key, 64 hex digits (`enumera central init` prints it).
        #[arg(long, value_name = "HEX")]
        central_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Install an instrument (Enumera JSON; XLSForm once the importer is
    /// wired in), with the form media files its labels name, from --media
    /// DIR or else the FORM-media/ folder beside the form (a form carried
    /// by file, without central).
    Install {
        form: PathBuf,
        /// The form's media folder (default: FORM-media/ beside the form).
        #[arg(long, value_name = "DIR")]
        media: Option<PathBuf>,
    },
    /// Every response with its state, and counts per state.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One response: header, answers, attachments and outbox entry (JSON).
    Show { instance_id: String },
    /// Give up a draft (kept until purged).
    Discard { instance_id: String },
    /// Remove a sent or discarded response from the device (its outbox entry stays).
    Purge { instance_id: String },
    /// Start an edit of a finalized response; prints the new draft's instance id.
    Edit { instance_id: String },
    /// Fill a response, every answer saved as it is given: from --steps, or
    /// as an interview at the terminal. Prints the instance id.
    Fill(crate::fill::FillArgs),
    /// Participant roster.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Check the database, the outbox chain and every attachment file.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Write finalized responses into a signed bundle for central.
    Bundle {
        /// The bundle file to write.
        #[arg(short = 'o', long = "out", value_name = "OUT.bundle")]
        out: PathBuf,
        /// Only responses no receipt has acknowledged yet (default: every
        /// finalized response still on the device; ingest is idempotent).
        #[arg(long)]
        since_receipt: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sync with central over HTTP: upload unacknowledged responses, apply
    /// the receipt, install new instruments, import rosters. Safe to repeat.
    Sync(crate::device_sync::SyncArgs),
    /// Apply central's receipt: mark exactly the responses it covers as sent.
    Receipt {
        #[arg(value_name = "IN.receipt")]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Apply central's signed returns file (`enumera central returns`):
    /// responses of this device a reviewer sent back, with comments.
    Return {
        #[arg(value_name = "IN.returns")]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The responses returned to this device, with the reviewers' comments
    /// at their questions and whether each is corrected.
    Returns {
        #[arg(long)]
        json: bool,
    },
    /// Reopen a returned response as a draft that corrects it (from its
    /// finalized answers when the device holds them); prints the draft's id.
    Reopen { instance_id: String },
    /// The work central assigned to this device (or its enumerator), with
    /// how many interviews are started and finalized for each. `--apply`
    /// first applies an assignments file (`enumera central assignments
    /// file`), for devices that move data by file.
    Assignments {
        #[arg(long, value_name = "IN.assignments")]
        apply: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import a roster JSON file (`{"participants": [{"id", "display", "personal"}]}`).
    Import { file: PathBuf },
    /// The participants this device holds (with --json, their personal
    /// fields too): once central assigns participants, only its own.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn parse_central_key(hex: &str) -> Result<[u8; 32], UserError> {
    enumera_core::bundle::unhex(hex.trim()).ok_or_else(|| {
        UserError(format!(
            "--central-key {hex:?} is not 64 hex digits (`enumera central init` prints the key)"
        ))
    })
}

/// The form media of a form carried by file (issue 18, item 2): every file
/// found is checked into the store; files the form names that are not in
/// the folder are warned about (the form is installed all the same, as a
/// sync installs a form whose media did not all arrive).
fn install_media(
    store: &mut Store,
    instrument: &enumera_core::instrument::Instrument,
    folder: Option<&std::path::Path>,
) -> Result<(), UserError> {
    use enumera_central::form_media::gather_media;
    if instrument.media_files().is_empty() {
        return Ok(());
    }
    let (files, missing) = match gather_media(instrument, folder) {
        Ok(g) => (g.files, Vec::new()),
        Err(enumera_central::CentralError::MediaMissing { missing, .. }) => {
            // Take what is there: gather again from the files present.
            let present: Vec<_> = instrument
                .media_files()
                .into_iter()
                .filter_map(|name| {
                    let path = folder?.join(&name);
                    let mut f = std::fs::File::open(&path).ok()?;
                    let size = f.metadata().ok()?.len();
                    let sha256 = enumera_central::hash_reader(&mut f).ok()?;
                    Some(enumera_central::form_media::MediaSource { name, path, sha256, size })
                })
                .collect();
            (present, missing)
        }
        Err(e) => return Err(e.into()),
    };
    let entries: Vec<_> = files.iter().map(|f| f.entry()).collect();
    store.set_instrument_media(&instrument.hash(), &entries)?;
    for f in &files {
        let mut input = std::fs::File::open(&f.path)
            .map_err(|e| UserError(format!("{}: {e}", f.path.display())))?;
        if let Err(reason) = store.import_form_media(&f.sha256, f.size, &mut input)? {
            return Err(UserError(format!("{}: {reason}", f.path.display())));
        }
    }
    if !files.is_empty() {
        eprintln!("with {} form media files", files.len());
    }
    for m in missing {
        eprintln!("warning: form media file missing: {m}");
    }
    Ok(())
}

/// A form file (XLSForm or Enumera JSON) as an instrument for `device install`.
pub fn load_form(path: &Path) -> Result<Instrument, UserError> {
    crate::load::instrument(path)
}

pub fn run(args: DeviceArgs) -> Result<ExitCode, UserError> {
    let db = args.db.as_path();
    match args.command {
        DeviceCommand::Fill(fill) => return crate::fill::run(db, fill),
        DeviceCommand::Init { name, enumerator, central_key, json } => {
            let central_key = central_key.as_deref().map(parse_central_key).transpose()?;
            let mut store = Store::open(db)?;
            let id = store.init_device(&name, enumerator.as_deref())?;
            if let Some(key) = &central_key {
                store.pin_central_key(key)?;
            }
            if json {
                println!("{}", to_json(&id));
            } else {
                println!("{}", id.device_id);
                eprintln!("device {} initialized; public key {}", id.name, id.public_key_hex());
                if let Some(key) = &central_key {
                    eprintln!("central key {} pinned", enumera_core::bundle::hex(key));
                }
            }
        }
        DeviceCommand::Trust { central_key, json } => {
            let mut store = Store::open_existing(db)?;
            match central_key {
                Some(hex) => {
                    let report = store.pin_central_key(&parse_central_key(&hex)?)?;
                    if json {
                        println!("{}", to_json(&report));
                    } else {
                        if let Some(old) = report.replaced {
                            eprintln!("replaced central key {}", enumera_core::bundle::hex(&old));
                        }
                        eprintln!(
                            "central key {hex} pinned; {} response(s) another key acknowledged \
                             go to this central at the next sync",
                            report.reopened.len()
                        );
                    }
                }
                None => {
                    let trust = store.central_trust()?;
                    if json {
                        println!("{}", to_json(&trust));
                    } else {
                        match trust {
                            Some(t) => println!(
                                "{} ({})",
                                enumera_core::bundle::hex(&t.key),
                                if t.pinned { "pinned" } else { "learned from the first receipt" }
                            ),
                            None => println!("no central key yet"),
                        }
                    }
                }
            }
        }
        DeviceCommand::Install { form, media } => {
            let instrument = load_form(&form)?;
            let mut store = Store::open_existing(db)?;
            let key = store.install_instrument(&instrument)?;
            eprintln!("installed {} version {:?} ({})", key.form_id, key.version, key.hash);
            let folder = media.or_else(|| enumera_central::form_media::media_folder_beside(&form));
            install_media(&mut store, &instrument, folder.as_deref())?;
        }
        DeviceCommand::List { json } => {
            let store = Store::open_existing(db)?;
            let responses = store.list_responses()?;
            let counts = store.state_counts()?;
            if json {
                let out = serde_json::json!({ "responses": responses, "counts": counts });
                println!("{}", to_json(&out));
            } else {
                print!("{}", table(&responses));
                println!(
                    "{} draft, {} finalized, {} sent, {} discarded",
                    counts.draft, counts.finalized, counts.sent, counts.discarded
                );
            }
        }
        DeviceCommand::Show { instance_id } => {
            let store = Store::open_existing(db)?;
            let response = store.response(&instance_id)?;
            let out = serde_json::json!({
                "response": response,
                "answers": store.answers(&instance_id)?,
                "repeats": store.repeat_counts(&instance_id)?,
                "attachments": store.attachments(&instance_id)?,
                "outbox": store.outbox_entry(&instance_id)?,
            });
            println!("{}", to_json(&out));
        }
        DeviceCommand::Discard { instance_id } => {
            Store::open_existing(db)?.discard(&instance_id)?;
            eprintln!("discarded {instance_id} (kept until purged)");
        }
        DeviceCommand::Purge { instance_id } => {
            let report = Store::open_existing(db)?.purge(&instance_id)?;
            eprintln!("purged {instance_id} ({} attachment files removed)", report.files_removed);
        }
        DeviceCommand::Edit { instance_id } => {
            let draft = Store::open_existing(db)?.edit(&instance_id)?;
            println!("{}", draft.instance_id);
        }
        DeviceCommand::Roster(RosterCommand::Import { file }) => {
            let bytes = std::fs::read(&file)
                .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
            let report = Store::open_existing(db)?.import_roster(&bytes)?;
            eprintln!(
                "roster {}: {} added, {} updated, {} unchanged",
                file.display(),
                report.added,
                report.updated,
                report.unchanged
            );
        }
        DeviceCommand::Roster(RosterCommand::List { json }) => {
            let list = Store::open_existing(db)?.participants()?;
            if json {
                println!("{}", to_json(&list));
            } else {
                for p in &list {
                    let shown: Vec<String> =
                        p.display.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!("{}  {}", p.id, shown.join("  "));
                }
                if list.is_empty() {
                    println!("no participants");
                }
            }
        }
        DeviceCommand::Verify { json } => {
            let store = Store::open_existing(db)?;
            let integrity = store.integrity_check()?;
            let outbox = store.verify_outbox()?;
            let attachments = store.verify_attachments()?;
            let ok = integrity.is_empty() && outbox.is_empty() && attachments.is_empty();
            if json {
                let out = serde_json::json!({
                    "ok": ok, "integrity": integrity, "outbox": outbox, "attachments": attachments,
                });
                println!("{}", to_json(&out));
            } else {
                for p in &integrity {
                    println!("integrity: {p}");
                }
                for p in &outbox {
                    println!("outbox: {p}");
                }
                for p in &attachments {
                    println!("attachment {} of {}: {:?}", p.attachment.name, p.instance_id, p.kind);
                }
            }
            if !ok {
                return Err(UserError(format!("{} has problems (listed above)", db.display())));
            }
            eprintln!("{}: ok", db.display());
        }
        DeviceCommand::Bundle { out, since_receipt, json } => {
            crate::device_sync::bundle(db, &out, since_receipt, json)?
        }
        DeviceCommand::Receipt { file, json } => crate::device_sync::receipt(db, &file, json)?,
        DeviceCommand::Return { file, json } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
            let mut store = Store::open_existing(db)?;
            let report = enumera_core::review::apply_returns(&mut store, &bytes)
                .map_err(|e| UserError(format!("{}: {e}", file.display())))?;
            if json {
                println!("{}", to_json(&report));
            } else {
                eprintln!(
                    "{}: {} response(s) newly returned, {} with new comments, {} not of this device",
                    file.display(),
                    report.new.len(),
                    report.updated.len(),
                    report.not_ours.len()
                );
            }
        }
        DeviceCommand::Returns { json } => {
            let returns = Store::open_existing(db)?.returned_responses()?;
            if json {
                println!("{}", to_json(&returns));
            } else {
                for r in &returns {
                    println!(
                        "{}  {:?}  returned by {} at {}{}",
                        r.returned.instance_id,
                        r.status,
                        r.returned.reviewer,
                        r.returned.returned_at,
                        r.correction_id
                            .as_deref()
                            .map(|c| format!("  correction {c}"))
                            .unwrap_or_default()
                    );
                    for c in &r.returned.comments {
                        println!(
                            "    {}: {}",
                            c.reference.as_deref().unwrap_or("(response)"),
                            c.text
                        );
                    }
                }
                if returns.is_empty() {
                    println!("no returned responses");
                }
            }
        }
        DeviceCommand::Reopen { instance_id } => {
            let draft = Store::open_existing(db)?.reopen(&instance_id)?;
            println!("{}", draft.instance_id);
        }
        DeviceCommand::Assignments { apply, json } => {
            let mut store = Store::open_existing(db)?;
            if let Some(file) = apply {
                let bytes = std::fs::read(&file)
                    .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
                let report = enumera_core::review::apply_assignments(&mut store, &bytes)
                    .map_err(|e| UserError(format!("{}: {e}", file.display())))?;
                eprintln!(
                    "{}: {} assignment(s), {} new, {} ended; {} roster row(s) removed, {} kept \
                     for unsent work{}",
                    file.display(),
                    report.assignments,
                    report.new.len(),
                    report.ended.len(),
                    report.participants_removed.len(),
                    report.participants_kept.len(),
                    if report.stale {
                        " (older than the file applied before: ignored)"
                    } else {
                        ""
                    }
                );
            }
            let list = store.assignments()?;
            if json {
                println!("{}", to_json(&list));
            } else {
                for a in &list {
                    let w = &a.work;
                    let what = match (&w.participant_id, w.quantity) {
                        (Some(p), _) => format!("participant {p}"),
                        (None, Some(q)) => format!("{q} interview(s)"),
                        (None, None) => "open".into(),
                    };
                    println!(
                        "{}  {} {}{}  started {}  finalized {}{}",
                        w.assignment_id,
                        w.form_id,
                        w.round.map(|r| format!("round {r}  ")).unwrap_or_default(),
                        what,
                        a.started,
                        a.finalized,
                        if a.done { "  done" } else { "" }
                    );
                }
                if list.is_empty() {
                    println!("no assignments");
                }
            }
        }
        DeviceCommand::Sync(args) => crate::device_sync::sync(db, args)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn table(responses: &[Response]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<46} {:<20} {:<16} {:>5} {:<9}",
        "INSTANCE", "FORM", "PARTICIPANT", "ROUND", "STATE"
    );
    for r in responses {
        let round = r.round.map(|n| n.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<46} {:<20} {:<16} {:>5} {:<9}",
            r.instance_id,
            format!("{} {}", r.instrument.form_id, r.instrument.version),
            r.participant_id.as_deref().unwrap_or("-"),
            round,
            r.state
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use enumera_core::store::{NewResponse, Payload, ResponseState};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cmd {
        #[command(flatten)]
        device: DeviceArgs,
    }

    fn run_args(args: &[&str]) -> Result<ExitCode, UserError> {
        let mut full = vec!["device"];
        full.extend_from_slice(args);
        run(Cmd::try_parse_from(full).expect("valid arguments").device)
    }

    const FORM: &str = r#"{"model_version":1,"form_id":"capacity","version":"1","title":"Capacity",
        "root_name":"data","settings":{},
        "children":[{"name":"role","kind":{"kind":"question","type":"text"},"row":2,"preload":true,
                     "label":{"":"Role"}}]}"#;

    #[test]
    fn trust_pins_central_key_at_init_and_later() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let db = db.to_str().unwrap();
        let err =
            run_args(&["--db", db, "init", "--name", "T", "--central-key", "zz"]).unwrap_err();
        assert!(err.0.contains("64 hex"), "{}", err.0);
        assert!(!std::path::Path::new(db).exists(), "a bad key initializes nothing");
        let key = "ab".repeat(32);
        run_args(&["--db", db, "init", "--name", "T", "--central-key", &key]).unwrap();
        let trust = Store::open_existing(db).unwrap().central_trust().unwrap().unwrap();
        assert_eq!((enumera_core::bundle::hex(&trust.key), trust.pinned), (key, true));
        run_args(&["--db", db, "trust"]).unwrap();
        run_args(&["--db", db, "trust", "--central-key", &"cd".repeat(32), "--json"]).unwrap();
        let trust = Store::open_existing(db).unwrap().central_trust().unwrap().unwrap();
        assert_eq!(trust.key, [0xcd; 32]);
    }

    #[test]
    fn init_install_list_show_discard_edit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let db = db.to_str().unwrap();
        let form = dir.path().join("capacity.json");
        std::fs::write(&form, FORM).unwrap();
        let form = form.to_str().unwrap();

        let err = run_args(&["--db", db, "list"]).unwrap_err();
        assert!(err.0.contains("init"), "{}", err.0);
        run_args(&["--db", db, "init", "--name", "Tablet 1", "--enumerator", "E7"]).unwrap();
        assert!(
            run_args(&["--db", db, "init", "--name", "again"]).unwrap_err().0.contains("already")
        );
        run_args(&["--db", db, "install", form]).unwrap();
        let err = run_args(&["--db", db, "install", "form.xlsx"]).unwrap_err();
        assert!(err.0.contains("form.xlsx"), "{}", err.0);

        let (draft, done) = {
            let mut store = Store::open_existing(db).unwrap();
            assert_eq!(store.device().unwrap().enumerator_id.as_deref(), Some("E7"));
            let key = store.latest_instrument("capacity").unwrap();
            let draft = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
            let done = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
            store.set_answer(&done, "/data/role", "planner").unwrap();
            store
                .finalize(&done, Payload::Plain { xml: "<data/>".into(), json: "{}".into() })
                .unwrap();
            (draft, done)
        };
        run_args(&["--db", db, "list"]).unwrap();
        run_args(&["--db", db, "list", "--json"]).unwrap();
        run_args(&["--db", db, "show", &done]).unwrap();
        assert!(run_args(&["--db", db, "show", "uuid:none"]).unwrap_err().0.contains("uuid:none"));
        let err = run_args(&["--db", db, "purge", &draft]).unwrap_err();
        assert!(err.0.contains("purged"), "{}", err.0);
        run_args(&["--db", db, "discard", &draft]).unwrap();
        let err = run_args(&["--db", db, "discard", &done]).unwrap_err();
        assert!(err.0.contains("finalized"), "{}", err.0);
        run_args(&["--db", db, "edit", &done]).unwrap();
        run_args(&["--db", db, "verify"]).unwrap();

        let roster = dir.path().join("roster.json");
        std::fs::write(&roster, r#"[{"id": "MZ-001", "personal": {"name": "Ana"}}]"#).unwrap();
        run_args(&["--db", db, "roster", "import", roster.to_str().unwrap()]).unwrap();

        let store = Store::open_existing(db).unwrap();
        assert_eq!(store.response(&draft).unwrap().state, ResponseState::Discarded);
        let counts = store.state_counts().unwrap();
        assert_eq!((counts.draft, counts.finalized, counts.discarded), (1, 1, 1));
        assert_eq!(store.participant("MZ-001").unwrap().personal["name"], "Ana");
    }

    #[test]
    fn load_form_reports_unreadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        assert!(load_form(&bad).unwrap_err().0.contains("bad.json"));
        assert!(load_form(Path::new("form.txt")).unwrap_err().0.contains("unknown form file type"));
        assert!(load_form(&dir.path().join("missing.json")).unwrap_err().0.contains("cannot read"));
    }
}
