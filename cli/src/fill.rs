//! `enumera device --db DEV.db fill FORM_ID ...`: fill a response on the
//! device, every answer committed as it is given; from a steps script or
//! (without `--steps`) as an interactive interview.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use enumera_core::fill::{Fill, Saver, Start};
use enumera_core::session::Session;
use enumera_core::store::Store;
use serde_json::json;

use crate::UserError;
use crate::interview::{
    Change, HookError, InterviewHooks, InterviewOptions, Outcome, run_interview,
};
use crate::run::{Step, instance_ref, parse_step, read_steps, step_file, value_string};

#[derive(Debug, Args)]
pub struct FillArgs {
    /// The form id of an installed instrument (its latest version is used).
    pub form_id: Option<String>,
    /// Continue this draft instead of starting a new response.
    #[arg(long, conflicts_with = "form_id")]
    pub resume: Option<String>,
    /// Link the response to this participant (and preload from their latest
    /// earlier response where the form marks fields `preload`).
    #[arg(long)]
    pub participant: Option<String>,
    /// The round of the study (1 = baseline).
    #[arg(long)]
    pub round: Option<i64>,
    /// Apply these steps (JSON list) instead of asking interactively.
    #[arg(long)]
    pub steps: Option<PathBuf>,
    /// Finalize after the steps (refused, with the reasons, while anything blocks it).
    #[arg(long)]
    pub finalize: bool,
    /// With --steps: take values as ODK's engine does, coerced to the
    /// question's type instead of refused as a failed step.
    #[arg(long, requires = "steps")]
    pub coerce: bool,
    /// What `deviceid` metadata of a new response holds, instead of this
    /// device's id (to compare runs with another engine).
    #[arg(long, conflicts_with = "resume")]
    pub device_id: Option<String>,
    /// Fill on a test clock frozen at this ISO 8601 instant, moved on only
    /// by `{"wait": SECONDS}` steps (the audit log's times and durations,
    /// `start`/`end`, `now()`), instead of the device's clock.
    #[arg(long)]
    pub now: Option<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The clock a fill runs on: the device's, or the test clock `--now` names.
fn env_for(now: Option<&str>) -> Result<Box<dyn enumera_core::expr::Env + Send>, UserError> {
    let Some(s) = now else { return Ok(Fill::system_env()) };
    let at = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| UserError(format!("--now {s:?} is not an ISO 8601 instant: {e}")))?
        .with_timezone(&chrono::Utc);
    Ok(Box::new(enumera_core::expr::FixedEnv::new(at, 1)))
}

pub fn run(db: &std::path::Path, args: FillArgs) -> Result<ExitCode, UserError> {
    let mut store = Store::open_existing(db)?;
    let mut fill = match (&args.resume, &args.form_id) {
        (Some(id), _) => Fill::resume(&store, id, env_for(args.now.as_deref())?).map_err(user)?,
        (None, Some(form_id)) => {
            let start = Start {
                participant_id: args.participant.clone(),
                round: args.round,
                preload: args.participant.is_some(),
            };
            match &args.device_id {
                Some(d) => Fill::start_as_device(
                    &mut store,
                    form_id,
                    &start,
                    env_for(args.now.as_deref())?,
                    d,
                ),
                None => Fill::start(&mut store, form_id, &start, env_for(args.now.as_deref())?),
            }
            .map_err(user)?
        }
        (None, None) => {
            return Err(UserError("name a FORM_ID to fill, or --resume INSTANCE_ID".into()));
        }
    };
    let instance_id = fill.instance_id().to_string();
    let Some(steps_path) = &args.steps else {
        return interactively(&mut store, fill, args.resume.is_some());
    };
    let steps = read_steps(steps_path)?;
    let steps_dir = steps_path.parent().unwrap_or(std::path::Path::new("."));
    let mut outcomes = Vec::new();
    let mut failed = 0;
    for (index, raw) in steps.iter().enumerate() {
        let r = parse_step(raw)
            .and_then(|step| apply(&mut fill, &mut store, step, args.coerce, steps_dir));
        if let Err(e) = &r {
            failed += 1;
            eprintln!("step {index}: {e}");
        }
        outcomes.push(json!({"index": index, "ok": r.is_ok(), "error": r.err()}));
    }
    let finalized = if args.finalize {
        let entry = fill.finalize(&mut store).map_err(user)?;
        Some(entry.seq)
    } else {
        None
    };
    if args.json {
        println!(
            "{}",
            json!({"instance_id": instance_id, "steps": outcomes, "failed": failed, "finalized_seq": finalized})
        );
    } else {
        println!("{instance_id}");
        match finalized {
            Some(seq) => eprintln!("finalized as outbox entry {seq}"),
            None => eprintln!("saved as a draft; continue with --resume {instance_id}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn apply(
    fill: &mut Fill,
    store: &mut Store,
    step: Step,
    coerce: bool,
    steps_dir: &std::path::Path,
) -> Result<(), String> {
    let r = match step {
        // The file is copied into the device store with the answer.
        Step::Attach { attach, file } => {
            fill.attach(store, &attach, &step_file(steps_dir, &file)).map(|_| ())
        }
        Step::Set { set, value } if coerce => fill.set_coerced(store, &set, &value_string(value)),
        Step::Set { set, value } => fill.set(store, &set, &value_string(value)),
        Step::Clear { clear } => fill.set(store, &clear, ""),
        Step::AddRepeat { add_repeat, count } => {
            (0..count.unwrap_or(1)).try_for_each(|_| fill.add_repeat(store, &add_repeat))
        }
        Step::RemoveRepeat { remove_repeat, index } => {
            fill.remove_repeat(store, &instance_ref(remove_repeat, index))
        }
        Step::SetLanguage { set_language } => fill.set_language(&set_language),
        Step::Show { show } => fill.show(store, &show),
        Step::Exit { exit: true } => fill.exit(store),
        Step::ChangeReason { change_reason } => fill.set_change_reason(store, &change_reason),
        // The clock and the rest of the log: on the session, saved with it.
        other => {
            let (session, saver) = fill.parts();
            crate::run::audit_step(session, other)?;
            saver.save(store, session)
        }
    };
    r.map_err(|e| e.to_string())
}

/// The interview at the terminal, every accepted change committed to the
/// store as it is made.
fn interactively(store: &mut Store, mut fill: Fill, resuming: bool) -> Result<ExitCode, UserError> {
    let instance_id = fill.instance_id().to_string();
    let (session, saver) = fill.parts();
    let mut hooks = DeviceHooks { store, saver };
    let mut options = InterviewOptions::for_terminal();
    if resuming {
        options = options.resuming();
    }
    let stdin = std::io::stdin();
    let outcome = run_interview(session, stdin.lock(), std::io::stdout(), &mut hooks, &options)
        .map_err(|e| UserError(format!("{instance_id}: {e}")))?;
    if outcome != Outcome::Finalized {
        // Leaving the form: the audit log's `form exit`, saved.
        fill.exit(store).map_err(user)?;
    }
    println!("{instance_id}");
    match outcome {
        Outcome::Finalized => eprintln!("finalized"),
        _ => eprintln!("saved as a draft; continue with --resume {instance_id}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Commits each change of the interview through the fill's saver.
struct DeviceHooks<'a> {
    store: &'a mut Store,
    saver: &'a mut Saver,
}

impl InterviewHooks for DeviceHooks<'_> {
    fn changed(&mut self, session: &mut Session, change: &Change) -> Result<(), HookError> {
        match change {
            Change::Answer { .. } => self.saver.save(self.store, session)?,
            Change::RepeatAdded { reference } => {
                self.saver.repeat_added(self.store, session, reference)?
            }
            Change::RepeatRemoved { reference } => {
                self.saver.repeat_removed(self.store, session, reference)?
            }
            Change::Language { .. } => {}
        }
        Ok(())
    }

    fn attach(
        &mut self,
        session: &mut Session,
        reference: &str,
        path: &std::path::Path,
    ) -> Result<Option<String>, HookError> {
        // Said plainly before core's fuller message for other failures.
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(format!("{} is not a file", path.display()).into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("there is no file {}", path.display()).into());
            }
            Err(e) => return Err(format!("{} cannot be read: {e}", path.display()).into()),
        }
        // Committed with its file here: `changed` then finds nothing new.
        let info = self.saver.attach(self.store, session, reference, path)?;
        Ok(Some(info.name))
    }

    fn save(&mut self, session: &mut Session) -> Result<(), HookError> {
        Ok(self.saver.save(self.store, session)?)
    }

    fn finalize(&mut self, session: &mut Session) -> Result<(), HookError> {
        self.saver.finalize(self.store, session)?;
        Ok(())
    }
}

fn user(e: enumera_core::fill::FillError) -> UserError {
    UserError(e.to_string())
}
