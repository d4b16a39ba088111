//! `enumera central --db C.db ...`: the central store from a terminal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use enumera_central::{AnyStore, Central, Location, Quotas, Revoke, Role, Scope, TokenGrant};

use crate::UserError;
use crate::device::to_json;

#[derive(Debug, Args)]
pub struct CentralArgs {
    /// The central database: a SQLite file, or a `postgres://` URL
    /// (before or after the subcommand, or ENUMERA_DB).
    #[arg(long, value_name = "C.db|postgres://...", global = true, env = "ENUMERA_DB")]
    db: Option<PathBuf>,
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
    /// Publish an instrument for devices to fetch (refused when central
    /// could not read back what it would serve), with the form media files
    /// its labels name (media::image/audio/video, big-image), read from
    /// --media DIR or else from the FORM-media/ folder beside the form.
    Publish {
        form: PathBuf,
        /// The form's media folder (default: FORM-media/ beside the form,
        /// when it exists). Every file the form names must be in it.
        #[arg(long, value_name = "DIR")]
        media: Option<PathBuf>,
    },
    /// Stop serving a form to devices (every version, or one). Central keeps
    /// it: responses to it are still accepted, checked and exported, and
    /// publishing the same form again serves it again.
    Unpublish {
        #[arg(value_name = "FORM_ID")]
        form_id: String,
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Verify and ingest bundles (each all or nothing).
    Ingest {
        #[arg(required = true, value_name = "BUNDLE")]
        bundles: Vec<PathBuf>,
        /// Write each device's receipt into this folder (`DEVICE_ID.receipt`).
        #[arg(long, value_name = "DIR")]
        receipts: Option<PathBuf>,
        #[command(flatten)]
        quotas: QuotaArgs,
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
    /// Export for analysis: CSV/XLSX/JSON tables, codebook, Stata/SPSS files, report.
    Export(crate::central_export::ExportArgs),
    /// High-frequency checks for field managers: an HTML report and CSVs.
    Checks(crate::central_export::ChecksArgs),
    /// Serve devices over HTTP: bundle upload with receipts, instruments, rosters.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: String,
        /// Largest request body (a bundle), in MiB.
        #[arg(long, value_name = "MIB", default_value_t = 64)]
        max_body_mib: usize,
        /// Longest a request may take, upload included, in seconds (its
        /// request line and headers: at most 30 of them).
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        request_timeout: u64,
        /// Uploads received or verified at once (one per device at most;
        /// others wait their turn unread). Bounds the server's memory.
        #[arg(long, value_name = "N", default_value_t = 4)]
        max_uploads: usize,
        /// Serve the web app under /app/ from this folder (a built
        /// web/dist/app) instead of the copy built into this binary.
        #[arg(long, value_name = "DIR")]
        web_dir: Option<PathBuf>,
        #[command(flatten)]
        quotas: QuotaArgs,
        /// Operational logs on stderr: one line per request (device, route,
        /// status, bytes, time), per ingest and per error; never tokens or
        /// answers. `json`: one JSON object per line, for a log collector.
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// A consistent copy of the live database (servers may keep running):
    /// SQLite's online backup into a new file; for PostgreSQL, `pg_dump`'s
    /// custom format (restore it with `central restore` or `pg_restore`).
    Backup {
        #[arg(short = 'o', long = "out", value_name = "BACKUP")]
        out: PathBuf,
    },
    /// Restore a `central backup` into --db: a new file, or an empty
    /// PostgreSQL database of the same kind as the backup's.
    Restore {
        #[arg(value_name = "BACKUP")]
        backup: PathBuf,
    },
    /// Bearer tokens with roles: devices, supervisors, researchers, admins.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Participant rosters devices fetch when they sync.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Review responses: list, show, approve, reject (send back to the
    /// device), mark as having issues, comment; signed by your token.
    Review(crate::central_review::ReviewArgs),
    /// Assign participants (or a quantity of interviews) in a form and
    /// round to a device or an enumerator (issue 17).
    Assign(crate::central_assign::AssignArgs),
    /// Assignments: list, revoke, reassign, or write a device's file.
    Assignments(crate::central_assign::AssignmentsArgs),
    /// Progress by round, district and enumerator: interviews assigned,
    /// started and finalized on the devices (as they last reported),
    /// received and where they stand in review (approved, returned, ...). With --token,
    /// only what that token may follow (a supervisor's scope).
    Progress {
        #[arg(long, value_name = "TOKEN", env = "ENUMERA_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write central's signed returns file for a device (the responses a
    /// reviewer sent back to it), for `enumera device return FILE`.
    Returns {
        #[arg(long, value_name = "ID")]
        device: String,
        #[arg(short = 'o', long = "out", value_name = "OUT.returns")]
        out: PathBuf,
    },
}

/// Per-device quotas (0: no limit); over one, a bundle is refused whole
/// and its responses stay on the device.
#[derive(Debug, Clone, Copy, Args)]
pub struct QuotaArgs {
    /// Responses one bundle may carry.
    #[arg(long, value_name = "N", default_value_t = Quotas::DEFAULT.responses_per_bundle)]
    max_responses_per_bundle: u64,
    /// New responses one device may deliver in any 24 hours.
    #[arg(long, value_name = "N", default_value_t = Quotas::DEFAULT.responses_per_day)]
    max_responses_per_day: u64,
    /// MiB of new submissions and attachments one device may deliver in any 24 hours.
    #[arg(long, value_name = "MIB", default_value_t = Quotas::DEFAULT.bytes_per_day >> 20)]
    max_mib_per_day: u64,
}

impl QuotaArgs {
    fn quotas(self) -> Quotas {
        Quotas {
            responses_per_bundle: self.max_responses_per_bundle,
            responses_per_day: self.max_responses_per_day,
            bytes_per_day: self.max_mib_per_day.saturating_mul(1 << 20),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; prints it alone on stdout (central keeps only its
    /// hash, so this is the only time it is shown). Roles: device (its own
    /// sync), supervisor (review and assign within --district/--device),
    /// researcher (review everywhere, export), admin (publish, tokens,
    /// devices).
    Create {
        #[arg(long, value_enum, default_value_t = RoleArg::Device)]
        role: RoleArg,
        /// For a device token, the device id (`enumera device init` prints
        /// it); for a supervisor, a device it reviews (repeatable).
        #[arg(long, value_name = "DEVICE_ID")]
        device: Vec<String>,
        /// For a supervisor, a district it reviews (repeatable): the
        /// `district` of the participants' roster rows.
        #[arg(long, value_name = "DISTRICT")]
        district: Vec<String>,
        /// The person a supervisor, researcher or admin token is for; every
        /// review action they take is recorded and signed under it.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Print `{"token", "token_id", "role", "subject", "scope"}` instead.
        #[arg(long)]
        json: bool,
    },
    /// Revoke tokens: every token of a device, of a person, or one by id.
    #[command(group = clap::ArgGroup::new("which").required(true))]
    Revoke {
        #[arg(long, value_name = "DEVICE_ID", group = "which")]
        device: Option<String>,
        #[arg(long, value_name = "NAME", group = "which")]
        name: Option<String>,
        /// A token id as `token list` shows it.
        #[arg(long, value_name = "TOKEN_ID", group = "which")]
        id: Option<String>,
    },
    /// Every token made, live or revoked, by id (never the token itself).
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Device,
    Supervisor,
    Researcher,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Device => Role::Device,
            RoleArg::Supervisor => Role::Supervisor,
            RoleArg::Researcher => Role::Researcher,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// What `token create` was asked for, as a grant (or why it cannot be one).
fn token_grant(
    role: RoleArg,
    device: Vec<String>,
    district: Vec<String>,
    name: Option<String>,
) -> Result<TokenGrant, UserError> {
    let role = Role::from(role);
    let grant = match role {
        Role::Device => {
            if name.is_some() || !district.is_empty() {
                return Err(UserError(
                    "a device token takes --device DEVICE_ID only (no --name or --district)".into(),
                ));
            }
            let [device] = <[String; 1]>::try_from(device).map_err(|_| {
                UserError("a device token needs exactly one --device DEVICE_ID".into())
            })?;
            TokenGrant::device(&device)
        }
        role => {
            let subject = name.ok_or_else(|| {
                UserError(format!("a {role} token needs --name: the person it is for"))
            })?;
            let scope = Scope {
                districts: district.into_iter().collect(),
                devices: device.into_iter().collect(),
            };
            TokenGrant { role, subject, scope }
        }
    };
    if let Some(reason) = grant.problem() {
        return Err(UserError(reason));
    }
    Ok(grant)
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Publish a roster JSON file (`{"participants": [{"id", "display", "personal"}]}`),
    /// replacing the one published under the same name.
    Publish {
        file: PathBuf,
        /// Name devices see (default: the file name without extension).
        #[arg(long)]
        name: Option<String>,
    },
}

/// Central at `db` (a file or a PostgreSQL database), its schema upgraded.
fn open(db: &Location) -> Result<Central<AnyStore>, UserError> {
    Ok(Central::open_at(db)?)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    std::fs::write(path, bytes)
        .map_err(|e| UserError(format!("cannot write {}: {e}", path.display())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Sends central's events (info and above) to stderr as text or JSON lines.
fn init_logs(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO);
    // A second call in one process (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

struct ServeArgs {
    listen: String,
    max_body_mib: usize,
    request_timeout: u64,
    max_uploads: usize,
    quotas: Quotas,
    web_dir: Option<PathBuf>,
    log_format: LogFormat,
}

fn serve(db: &Location, args: ServeArgs) -> Result<(), UserError> {
    use enumera_central::server::{Server, ServerConfig};
    let request_timeout = std::time::Duration::from_secs(args.request_timeout.max(1));
    let config = ServerConfig {
        max_body: args.max_body_mib.saturating_mul(1 << 20),
        request_timeout,
        // Headers are small: a client that takes longer than this over
        // them is stalling, whatever the request timeout allows a body.
        header_timeout: request_timeout.min(ServerConfig::default().header_timeout),
        max_uploads: args.max_uploads.max(1),
        // Uploads are spooled beside the database: the disk that must
        // hold them anyway, not a RAM-backed /tmp (PostgreSQL: the
        // system's temporary folder).
        spool_dir: match db {
            Location::File(db) => Some(
                db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).into(),
            ),
            Location::Postgres(_) => None,
        },
        ..ServerConfig::default()
    };
    init_logs(args.log_format);
    let mut central = open(db)?;
    central.set_quotas(args.quotas);
    let mut server = Server::bind(central, &args.listen, config)?;
    if let Some(dir) = args.web_dir {
        if !dir.join("index.html").is_file() {
            return Err(UserError(format!(
                "--web-dir {}: no index.html there (build the app with scripts/build-web.sh)",
                dir.display()
            )));
        }
        server = server.web_dir(dir);
    }
    server.run_until_signal(|addr| eprintln!("enumera central listening on http://{addr}"))?;
    eprintln!("enumera central stopped");
    Ok(())
}

pub fn run(args: CentralArgs) -> Result<ExitCode, UserError> {
    let Some(db_arg) = args.db.as_deref() else {
        // A usage error, as clap reports a missing argument.
        eprintln!(
            "error: the central database is missing: give --db C.db (before or after the subcommand) or set ENUMERA_DB"
        );
        return Ok(ExitCode::from(2));
    };
    let db = &Location::parse(&db_arg.to_string_lossy());
    match args.command {
        CentralCommand::Init { json } => {
            let central = Central::init_at(db)?;
            let key = enumera_core::bundle::hex(&central.public_key()?);
            if json {
                println!("{}", serde_json::json!({ "central_public_key": key }));
            } else {
                println!("{key}");
                eprintln!("central database {} initialized", db.display());
            }
        }
        CentralCommand::Publish { form, media } => {
            use enumera_central::form_media::{gather_media, media_folder_beside};
            let instrument = crate::device::load_form(&form)?;
            let folder = media.or_else(|| media_folder_beside(&form));
            let gathered = gather_media(&instrument, folder.as_deref())?;
            for name in &gathered.unreferenced {
                eprintln!(
                    "warning: {name} in the media folder is not named by the form; not published"
                );
            }
            let (new, _) = open(db)?.publish_with_media(&instrument, &gathered.files)?;
            eprintln!(
                "{} {} version {:?} ({}){}",
                if new { "published" } else { "already published:" },
                instrument.form_id,
                instrument.version,
                instrument.hash(),
                match gathered.files.len() {
                    0 => String::new(),
                    n => format!(" with {n} media files"),
                }
            );
        }
        CentralCommand::Unpublish { form_id, version } => {
            let n = open(db)?.unpublish(&form_id, version.as_deref())?;
            eprintln!(
                "{form_id}: {n} version(s) no longer served to devices (kept at central for \
                 responses and export)"
            );
        }
        CentralCommand::Ingest { bundles, receipts, quotas, json } => {
            let mut central = open(db)?;
            central.set_quotas(quotas.quotas());
            let mut results = Vec::new();
            let mut failed = 0;
            let mut devices = std::collections::BTreeSet::new();
            for path in &bundles {
                let outcome =
                    central.ingest_file(path).map_err(|e| format!("refused ({}): {e}", e.code()));
                match outcome {
                    Ok(report) => {
                        if !json {
                            eprintln!(
                                "{}: device {}: {} entries, {} new responses ({} edits), {} duplicates, {} conflicts, {} held aside",
                                path.display(),
                                report.device_id,
                                report.entries,
                                report.new_responses,
                                report.edits,
                                report.duplicates,
                                report.conflicts.len(),
                                report.held_aside.len()
                            );
                            for c in &report.conflicts {
                                eprintln!(
                                    "  conflict {} ({}): {}",
                                    c.instance_id, c.kind, c.detail
                                );
                            }
                            for c in &report.held_aside {
                                eprintln!(
                                    "  held aside {} ({}): {}",
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
            let status = open(db)?.status()?;
            if json {
                println!("{}", to_json(&status));
            } else {
                println!(
                    "{} responses ({} current, {} sealed), {} conflicts, {} held aside, {} devices, {} published instruments",
                    status.responses,
                    status.current,
                    status.sealed,
                    status.conflicts,
                    status.held_aside,
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
            let receipt = open(db)?.receipt_for(&device)?;
            write_file(&out, &receipt.file)?;
            let through = receipt.receipt.through.as_ref().map_or(0, |t| t.seq);
            eprintln!(
                "wrote {}: device {device}'s entries 1 to {through} and {} more",
                out.display(),
                receipt.receipt.entries.len()
            );
        }
        CentralCommand::Review(review) => crate::central_review::run(db, review)?,
        CentralCommand::Assign(args) => crate::central_assign::assign(db, args)?,
        CentralCommand::Assignments(args) => crate::central_assign::run(db, args)?,
        CentralCommand::Progress { token, json } => {
            let central = open(db)?;
            let who = match token {
                Some(t) => Some(
                    central
                        .principal(&t)?
                        .ok_or_else(|| UserError("unknown or revoked token".into()))?,
                ),
                None => None,
            };
            let rows = central.progress(who.as_ref())?;
            if json {
                println!("{}", to_json(&rows));
            } else {
                println!(
                    "round  district  enumerator  assigned  started  finalized  received  awaiting  \
                     approved  returned  has_issues  corrected"
                );
                for r in &rows {
                    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
                    println!(
                        "{}  {}  {}  {}  {}  {}  {}  {}  {}  {}  {}  {}",
                        r.round.map_or("-".into(), |n| n.to_string()),
                        opt(&r.district),
                        opt(&r.enumerator),
                        r.assigned,
                        r.started,
                        r.finalized,
                        r.received,
                        r.awaiting_review,
                        r.approved,
                        r.returned,
                        r.has_issues,
                        r.corrected_after_return
                    );
                }
            }
        }
        CentralCommand::Returns { device, out } => {
            let returns = open(db)?.returns_for(&device)?;
            write_file(&out, &returns.file)?;
            eprintln!(
                "wrote {}: {} response(s) returned to device {device}",
                out.display(),
                returns.statement.returns.len()
            );
        }
        CentralCommand::Export(export) => crate::central_export::run(db, export)?,
        CentralCommand::Checks(checks) => crate::central_export::checks(db, checks)?,
        CentralCommand::Enrol { device, key, name } => {
            let public_key: [u8; 32] = enumera_core::bundle::unhex(&key)
                .ok_or_else(|| UserError(format!("--key {key:?} is not 64 hex digits")))?;
            open(db)?.enrol_device(&device, &public_key, &name)?;
            eprintln!("enrolled device {device}; devices not enrolled are now refused");
        }
        CentralCommand::Serve {
            listen,
            max_body_mib,
            request_timeout,
            max_uploads,
            quotas,
            web_dir,
            log_format,
        } => {
            let quotas = quotas.quotas();
            serve(
                db,
                ServeArgs {
                    listen,
                    max_body_mib,
                    request_timeout,
                    max_uploads,
                    quotas,
                    web_dir,
                    log_format,
                },
            )?;
        }
        CentralCommand::Backup { out } => {
            open(db)?.store().backup_to(&out)?;
            eprintln!("backed up {} into {}", db.display(), out.display());
        }
        CentralCommand::Restore { backup } => {
            let central = Central::restore_at(db, &backup)?;
            let status = central.status()?;
            eprintln!(
                "restored {} into {}: {} responses, {} devices",
                backup.display(),
                db.display(),
                status.responses,
                status.devices.len()
            );
        }
        CentralCommand::Token(TokenCommand::Create { role, device, district, name, json }) => {
            let grant = token_grant(role, device, district, name)?;
            let mut central = open(db)?;
            let token = central.create_role_token(&grant)?;
            let principal = central.principal(&token)?.ok_or_else(|| {
                UserError("the new token was not found at central; try again".into())
            })?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "token": token, "token_id": principal.token_id, "role": grant.role,
                        "subject": grant.subject, "scope": grant.scope,
                    })
                );
            } else {
                println!("{token}");
            }
            eprintln!(
                "{} token {} created for {}; give it to {} only",
                grant.role,
                principal.token_id,
                grant.subject,
                if grant.role == Role::Device { "that device" } else { "that person" }
            );
        }
        CentralCommand::Token(TokenCommand::Revoke { device, name, id }) => {
            let which = match (device, name, id) {
                (Some(d), _, _) => Revoke::Device(d),
                (_, Some(n), _) => Revoke::Subject(n),
                (_, _, Some(i)) => Revoke::TokenId(i),
                _ => return Ok(ExitCode::from(2)),
            };
            let n = open(db)?.revoke(&which)?;
            let what = match &which {
                Revoke::Device(d) => format!("of device {d}"),
                Revoke::Subject(n) => format!("of {n}"),
                Revoke::TokenId(i) => format!("with id {i}"),
            };
            eprintln!("revoked {n} token(s) {what}");
        }
        CentralCommand::Token(TokenCommand::List { json }) => {
            let tokens = open(db)?.tokens()?;
            if json {
                println!("{}", to_json(&tokens));
            } else {
                for t in &tokens {
                    let scope: Vec<String> = t
                        .scope
                        .districts
                        .iter()
                        .map(|d| format!("district {d}"))
                        .chain(t.scope.devices.iter().map(|d| format!("device {d}")))
                        .collect();
                    println!(
                        "{}  {:<10} {}{}  created {}{}",
                        t.token_id,
                        t.role.as_str(),
                        t.subject,
                        if scope.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", scope.join(", "))
                        },
                        t.created_at,
                        t.revoked_at
                            .as_deref()
                            .map(|r| format!(", revoked {r}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        CentralCommand::Roster(RosterCommand::Publish { file, name }) => {
            let json = std::fs::read(&file)
                .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
            let name = match name {
                Some(n) => n,
                None => {
                    file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
                }
            };
            let new = open(db)?
                .publish_roster(&name, &json)
                .map_err(|e| UserError(format!("{}: {e}", file.display())))?;
            eprintln!("{} roster {name}", if new { "published" } else { "already published:" });
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use enumera_core::store::{NewResponse, Payload, ResponseState, Store};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cmd {
        #[command(subcommand)]
        cmd: Top,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Top {
        Central(CentralArgs),
        Device(crate::device::DeviceArgs),
    }

    fn run_args(args: &[&str]) -> Result<ExitCode, UserError> {
        match Cmd::try_parse_from(std::iter::once("enumera").chain(args.iter().copied()))
            .expect("valid arguments")
            .cmd
        {
            Top::Central(a) => run(a),
            Top::Device(a) => crate::device::run(a),
        }
    }

    const FORM: &str = r#"{"model_version":1,"form_id":"capacity","version":"1","title":"Capacity",
        "root_name":"data","settings":{},
        "children":[{"name":"role","kind":{"kind":"question","type":"text"},"row":2,"label":{"":"Role"}}]}"#;

    /// `--db` names a file or a PostgreSQL database (issue 19); the same
    /// commands work on both, backup and restore included. PostgreSQL from
    /// the test command's throwaway cluster (`ENUMERA_TEST_POSTGRES`).
    #[test]
    fn the_same_commands_run_on_a_postgres_url() {
        let Ok(admin) = std::env::var("ENUMERA_TEST_POSTGRES") else {
            eprintln!(
                "skipped: no PostgreSQL (ENUMERA_TEST_POSTGRES unset; scripts/test.sh sets it)"
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let form = dir.path().join("form.json");
        std::fs::write(&form, FORM).unwrap();
        let form = form.to_str().unwrap();
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        let names: Vec<String> =
            (0..2).map(|i| format!("enumera_cli_{}_{i}", std::process::id())).collect();
        let urls: Vec<String> = names
            .iter()
            .map(|name| {
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .unwrap();
                client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
                let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
                format!("{base}/{name}?{query}")
            })
            .collect();
        let (url, copy) = (&urls[0], &urls[1]);
        run_args(&["central", "--db", url, "init"]).unwrap();
        assert!(run_args(&["central", "--db", url, "init"]).unwrap_err().0.contains("already"));
        run_args(&["central", "--db", url, "publish", form]).unwrap();
        run_args(&["central", "--db", url, "token", "create", "--device", "d1"]).unwrap();
        run_args(&["central", "--db", url, "status"]).unwrap();
        let backup = dir.path().join("central.pgdump");
        let backup = backup.to_str().unwrap();
        run_args(&["central", "--db", url, "backup", "-o", backup]).unwrap();
        run_args(&["central", "--db", copy, "restore", backup]).unwrap();
        let dump =
            |u: &str| Central::open_at(&Location::parse(u)).unwrap().canonical_dump().unwrap();
        assert_eq!(dump(url), dump(copy));
        assert_eq!(Central::open_at(&Location::parse(copy)).unwrap().served().unwrap().len(), 1);
        for name in &names {
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        }
    }

    #[test]
    fn bundle_ingest_status_receipt_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let (dev, central, form, bundle) = (p("d.db"), p("c.db"), p("form.json"), p("out.bundle"));
        std::fs::write(&form, FORM).unwrap();
        run_args(&["device", "--db", &dev, "init", "--name", "Tablet 1"]).unwrap();
        run_args(&["device", "--db", &dev, "install", &form]).unwrap();
        let ids: Vec<String> = {
            let mut store = Store::open_existing(&dev).unwrap();
            let key = store.latest_instrument("capacity").unwrap();
            (0..2)
                .map(|i| {
                    let id =
                        store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
                    let xml = format!("<data><role>r{i}</role></data>");
                    store.finalize(&id, Payload::Plain { xml, json: "{}".into() }).unwrap();
                    id
                })
                .collect()
        };
        let device_id = Store::open_existing(&dev).unwrap().device().unwrap().device_id;

        assert!(run_args(&["central", "--db", &central, "status"]).unwrap_err().0.contains("init"));
        run_args(&["central", "--db", &central, "init"]).unwrap();
        run_args(&["central", "--db", &central, "publish", &form]).unwrap();
        run_args(&["device", "--db", &dev, "bundle", "-o", &bundle]).unwrap();
        assert!(!std::path::Path::new(&format!("{bundle}.partial")).exists());

        // A damaged copy is refused with its reason and stores nothing.
        let damaged = p("damaged.bundle");
        let mut bytes = std::fs::read(&bundle).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&damaged, &bytes).unwrap();
        let err = run_args(&["central", "--db", &central, "ingest", &damaged]).unwrap_err();
        assert!(err.0.contains("1 of 1"), "{}", err.0);
        assert_eq!(Central::open(&central).unwrap().status().unwrap().responses, 0);

        let receipts = p("receipts");
        run_args(&[
            "central",
            "--db",
            &central,
            "ingest",
            &bundle,
            &bundle,
            "--receipts",
            &receipts,
        ])
        .unwrap();
        run_args(&["central", "--db", &central, "status", "--json"]).unwrap();
        let status = Central::open(&central).unwrap().status().unwrap();
        assert_eq!((status.responses, status.published), (2, 1));

        let receipt = dir.path().join("receipts").join(format!("{device_id}.receipt"));
        assert!(receipt.exists());
        let single = p("one.receipt");
        run_args(&["central", "--db", &central, "receipt", "--device", &device_id, "-o", &single])
            .unwrap();
        run_args(&["device", "--db", &dev, "receipt", &single]).unwrap();
        let store = Store::open_existing(&dev).unwrap();
        for id in &ids {
            assert_eq!(store.response(id).unwrap().state, ResponseState::Sent);
        }
        // Nothing left to send since the receipt.
        run_args(&["device", "--db", &dev, "bundle", "-o", &bundle, "--since-receipt"]).unwrap();
        let b = enumera_core::bundle::read_bundle(&std::fs::read(&bundle).unwrap()).unwrap();
        assert!(b.responses.is_empty());

        let err =
            run_args(&["central", "--db", &central, "receipt", "--device", "nope", "-o", &single])
                .unwrap_err();
        assert!(err.0.contains("nope"), "{}", err.0);
        let err = run_args(&["central", "--db", &central, "enrol", "--device", "x", "--key", "zz"])
            .unwrap_err();
        assert!(err.0.contains("64 hex"), "{}", err.0);

        // Unpublished: no longer served, still held and exported.
        run_args(&["central", "--db", &central, "unpublish", "capacity", "--version", "1"])
            .unwrap();
        let c = Central::open(&central).unwrap();
        assert!(c.served().unwrap().is_empty());
        assert_eq!(c.published().unwrap().len(), 1);
        let err = run_args(&["central", "--db", &central, "unpublish", "nope"]).unwrap_err();
        assert!(err.0.contains("not published"), "{}", err.0);
    }

    #[test]
    fn tokens_are_made_with_a_role_listed_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let central = dir.path().join("c.db");
        let central = central.to_str().unwrap();
        run_args(&["central", "--db", central, "init"]).unwrap();
        run_args(&["central", "--db", central, "token", "create", "--device", "dev-1"]).unwrap();
        run_args(&[
            "central",
            "--db",
            central,
            "token",
            "create",
            "--role",
            "supervisor",
            "--name",
            "Ana",
            "--district",
            "Beira",
            "--device",
            "dev-9",
            "--json",
        ])
        .unwrap();
        run_args(&[
            "central",
            "--db",
            central,
            "token",
            "create",
            "--role",
            "researcher",
            "--name",
            "Rui",
        ])
        .unwrap();
        for (args, why) in [
            (&["--role", "supervisor", "--name", "Bo"][..], "scope"),
            (&["--role", "researcher"][..], "--name"),
            (&["--role", "admin", "--name", "A", "--district", "X"][..], "no scope"),
            (&["--role", "device", "--device", "a", "--device", "b"][..], "exactly one"),
            (&["--role", "device", "--name", "x", "--device", "a"][..], "--device DEVICE_ID only"),
        ] {
            let mut all = vec!["central", "--db", central, "token", "create"];
            all.extend_from_slice(args);
            let err = run_args(&all).unwrap_err();
            assert!(err.0.contains(why), "{args:?}: {}", err.0);
        }
        let c = Central::open(central).unwrap();
        let listed = c.tokens().unwrap();
        let roles: Vec<(Role, &str)> =
            listed.iter().map(|t| (t.role, t.subject.as_str())).collect();
        assert_eq!(
            roles,
            [(Role::Device, "dev-1"), (Role::Supervisor, "Ana"), (Role::Researcher, "Rui")]
        );
        assert!(listed[1].scope.districts.contains("Beira"));
        assert!(listed[1].scope.devices.contains("dev-9"));
        drop(c);
        run_args(&["central", "--db", central, "token", "list", "--json"]).unwrap();
        run_args(&["central", "--db", central, "token", "revoke", "--name", "Ana"]).unwrap();
        let id = Central::open(central).unwrap().tokens().unwrap()[2].token_id.clone();
        run_args(&["central", "--db", central, "token", "revoke", "--id", &id]).unwrap();
        let c = Central::open(central).unwrap();
        let live: Vec<_> =
            c.tokens().unwrap().into_iter().filter(|t| t.revoked_at.is_none()).collect();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].role, Role::Device);
    }

    /// Issue 18, item 2: `publish` takes the form's media from the
    /// FORM-media/ folder beside it (or --media DIR), naming what is
    /// missing; `device install` carries them to a device without central.
    #[test]
    fn publish_and_install_take_the_form_media_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let (central, dev, form) = (p("c.db"), p("d.db"), p("kii.json"));
        std::fs::write(
            &form,
            r#"{"model_version":1,"form_id":"kii","version":"1","title":"KII",
            "root_name":"data","settings":{},"children":[{"name":"site",
            "kind":{"kind":"question","type":"text"},"row":2,"label":{"":"Site"},
            "media":{"image":{"":"card.png"},"audio":{"":"ask.mp3"}}}]}"#,
        )
        .unwrap();
        run_args(&["central", "--db", &central, "init"]).unwrap();
        let err = run_args(&["central", "--db", &central, "publish", &form]).unwrap_err();
        assert!(
            err.0.contains("card.png, needed by question site (column media::image"),
            "{}",
            err.0
        );
        assert!(err.0.contains("ask.mp3"), "{}", err.0);
        let media = p("kii-media");
        std::fs::create_dir(&media).unwrap();
        std::fs::write(dir.path().join("kii-media/card.png"), b"\x89PNG card").unwrap();
        let err = run_args(&["central", "--db", &central, "publish", &form]).unwrap_err();
        assert!(!err.0.contains("card.png,") && err.0.contains("ask.mp3"), "{}", err.0);
        std::fs::write(dir.path().join("kii-media/ask.mp3"), b"ID3 ask").unwrap();
        std::fs::write(dir.path().join("kii-media/unused.png"), b"x").unwrap();
        run_args(&["central", "--db", &central, "publish", &form]).unwrap();
        let c = Central::open(&central).unwrap();
        let names: Vec<String> =
            c.published_media("kii", "1").unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["ask.mp3", "card.png"]);
        drop(c);
        // --media elsewhere, with a changed file, under the same version: refused.
        let other = p("elsewhere");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(dir.path().join("elsewhere/card.png"), b"another card").unwrap();
        std::fs::write(dir.path().join("elsewhere/ask.mp3"), b"ID3 ask").unwrap();
        let err = run_args(&["central", "--db", &central, "publish", &form, "--media", &other])
            .unwrap_err();
        assert!(err.0.contains("card.png changed") && err.0.contains("new version"), "{}", err.0);

        // Carried by file: the device gets the files from the folder beside the form.
        run_args(&["device", "--db", &dev, "init", "--name", "Tablet 1"]).unwrap();
        run_args(&["device", "--db", &dev, "install", &form]).unwrap();
        let store = Store::open_existing(&dev).unwrap();
        let hash = store.latest_instrument("kii").unwrap().hash;
        assert_eq!(store.read_form_media(&hash, "card.png").unwrap().unwrap(), b"\x89PNG card");
        assert_eq!(store.read_form_media(&hash, "ask.mp3").unwrap().unwrap(), b"ID3 ask");
    }
}
