//! `enumera central --db C.db assign ...` and `central assignments ...`:
//! who interviews whom (issue 17, item 5). With `--token` (or
//! ENUMERA_TOKEN) an admin's or a supervisor's token acts, held to its
//! scope as over HTTP; without one, the operator at the database acts.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use enumera_central::{
    AnyStore, Assignment, AssignmentFilter, Central, Location, NewAssignment, Principal, Target,
};

use crate::UserError;
use crate::device::to_json;

/// Whom: exactly one of --device or --enumerator.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The device id (as `enumera device init` printed it).
    #[arg(long, value_name = "DEVICE_ID")]
    device: Option<String>,
    /// An enumerator: every device that says this enumerator carries it
    /// (its `--enumerator` at `device init`) gets the work.
    #[arg(long, value_name = "NAME")]
    enumerator: Option<String>,
}

impl TargetArgs {
    fn target(self) -> Target {
        match (self.device, self.enumerator) {
            (Some(d), _) => Target::Device(d),
            (None, Some(e)) => Target::Enumerator(e),
            // clap requires one of them.
            (None, None) => Target::Device(String::new()),
        }
    }
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The form's id.
    #[arg(long, value_name = "FORM_ID")]
    form: String,
    #[arg(long, value_name = "N")]
    round: Option<i64>,
    /// A participant on a published roster (repeatable): one assignment each.
    #[arg(long = "participant", value_name = "ID")]
    participants: Vec<String>,
    /// For a form without a roster: how many interviews.
    #[arg(long, value_name = "N", conflicts_with = "participants")]
    quantity: Option<u32>,
    /// For a quantity: the district it is for.
    #[arg(long, value_name = "DISTRICT", conflicts_with = "participants")]
    district: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// An admin's or supervisor's token (default: the operator).
    #[arg(long, value_name = "TOKEN", env = "ENUMERA_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AssignmentsArgs {
    /// An admin's or supervisor's token (default: the operator).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "ENUMERA_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    #[command(subcommand)]
    command: AssignmentsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AssignmentsCommand {
    /// The live assignments this token reaches (--all: ended ones too).
    List {
        #[arg(long, value_name = "FORM_ID")]
        form: Option<String>,
        #[arg(long, value_name = "N")]
        round: Option<i64>,
        #[arg(long, value_name = "DISTRICT")]
        district: Option<String>,
        #[arg(long, value_name = "DEVICE_ID")]
        device: Option<String>,
        #[arg(long, value_name = "NAME")]
        enumerator: Option<String>,
        #[arg(long, value_name = "ID")]
        participant: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// End an assignment: it leaves its device at the next sync.
    Revoke {
        assignment_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Give an assignment's work to another device or enumerator (the old
    /// one ends, a new one names it).
    Reassign {
        assignment_id: String,
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long)]
        json: bool,
    },
    /// Write a device's signed assignments file (its work and those
    /// participants' roster rows), for `enumera device assignments apply`.
    File {
        #[arg(long, value_name = "DEVICE_ID")]
        device: String,
        /// The enumerator carrying it (default: the one it last reported).
        #[arg(long, value_name = "NAME")]
        enumerator: Option<String>,
        #[arg(short = 'o', long = "out", value_name = "OUT.assignments")]
        out: PathBuf,
    },
}

fn who(central: &Central<AnyStore>, token: Option<&str>) -> Result<Option<Principal>, UserError> {
    match token {
        None => Ok(None),
        Some(t) => Ok(Some(
            central.principal(t)?.ok_or_else(|| UserError("unknown or revoked token".into()))?,
        )),
    }
}

pub fn assign(db: &Location, args: AssignArgs) -> Result<(), UserError> {
    let mut central = Central::open_at(db)?;
    let who = who(&central, args.token.as_deref())?;
    let new = NewAssignment {
        form_id: args.form,
        round: args.round,
        participants: args.participants,
        quantity: args.quantity,
        district: args.district,
        target: args.target.target(),
    };
    let made = central.assign(who.as_ref(), &new)?;
    if args.json {
        println!("{}", to_json(&made));
    } else {
        print!("{}", table(&made));
        eprintln!("{} assignment(s) made", made.len());
    }
    Ok(())
}

pub fn run(db: &Location, args: AssignmentsArgs) -> Result<(), UserError> {
    let mut central = Central::open_at(db)?;
    let who = who(&central, args.token.as_deref())?;
    let (one, json) = match args.command {
        AssignmentsCommand::List {
            form,
            round,
            district,
            device,
            enumerator,
            participant,
            all,
            json,
        } => {
            let filter = AssignmentFilter {
                form_id: form,
                round,
                district,
                device,
                enumerator,
                participant,
                include_ended: all,
            };
            let list = central.assignments(who.as_ref(), &filter)?;
            if json {
                println!("{}", to_json(&list));
            } else {
                print!("{}", table(&list));
            }
            return Ok(());
        }
        AssignmentsCommand::File { device, enumerator, out } => {
            let file = central.assignments_file(&device, enumerator.as_deref())?;
            std::fs::write(&out, &file.file)
                .map_err(|e| UserError(format!("writing {}: {e}", out.display())))?;
            eprintln!(
                "wrote {}: {} assignment(s) and {} roster row(s) for device {device}",
                out.display(),
                file.statement.assignments.len(),
                file.statement.participants.len()
            );
            return Ok(());
        }
        AssignmentsCommand::Revoke { assignment_id, json } => {
            (central.revoke_assignment(who.as_ref(), &assignment_id)?, json)
        }
        AssignmentsCommand::Reassign { assignment_id, target, json } => {
            (central.reassign(who.as_ref(), &assignment_id, &target.target())?, json)
        }
    };
    if json {
        println!("{}", to_json(&one));
    } else {
        print!("{}", table(std::slice::from_ref(&one)));
    }
    Ok(())
}

fn table(list: &[Assignment]) -> String {
    let mut out = String::new();
    for a in list {
        let what = match (&a.participant_id, a.quantity) {
            (Some(p), _) => format!("participant {p}"),
            (None, Some(q)) => format!("{q} interview(s)"),
            (None, None) => "open".into(),
        };
        let to = match (&a.device_id, &a.enumerator) {
            (Some(d), _) => format!("device {d}"),
            (_, Some(e)) => format!("enumerator {e}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{}  {} {}{}  {}  {}{}{}\n",
            a.assignment_id,
            a.form_id,
            a.round.map(|r| format!("round {r}  ")).unwrap_or_default(),
            what,
            to,
            a.district.as_deref().map(|d| format!("district {d}  ")).unwrap_or_default(),
            a.replaces.as_deref().map(|r| format!("replaces {r}  ")).unwrap_or_default(),
            a.ended_by.as_deref().map(|e| format!("ended: {e}")).unwrap_or_default(),
        ));
    }
    if list.is_empty() {
        out.push_str("no assignments\n");
    }
    out
}
