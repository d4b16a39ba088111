//! The interactive interview: a form filled at a terminal, one screen at a
//! time, on the same session API the apps use. Line-based (no full-screen
//! UI), so it works over a dumb terminal, ssh, or with stdin piped in.
//!
//! `enumera form preview FORM` runs it on a form with nothing kept;
//! `enumera device fill` runs it on a draft from the device store, keeping
//! every answer through [`InterviewHooks`]:
//!
//! ```ignore
//! // In `device fill`, with names from the store (illustrative):
//! struct StoreHooks<'a> { store: &'a mut Store, draft: DraftId }
//! impl InterviewHooks for StoreHooks<'_> {
//!     fn changed(&mut self, s: &mut Session, _change: &Change) -> Result<(), HookError> {
//!         Ok(self.store.save_draft(self.draft, &s.answers(), s.language())?)
//!     }
//!     fn finalize(&mut self, s: &mut Session) -> Result<(), HookError> {
//!         Ok(self.store.finalize(self.draft, &s.submission_xml())?)
//!     }
//!     // save(): every answer is already committed, so the default (nothing) is right.
//! }
//! let options = InterviewOptions::for_terminal().resuming();
//! match run_interview(&mut session, stdin().lock(), stdout().lock(), &mut hooks, &options)? {
//!     Outcome::Finalized => ..., Outcome::Saved | Outcome::Quit | Outcome::EndOfInput => ...,
//! }
//! ```

mod answer;
mod command;
mod runner;
mod style;
#[cfg(test)]
mod tests;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use enumera_core::session::{Session, SessionOptions};

use crate::UserError;

/// Whatever a hook's owner (the device store) fails with.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// One accepted change to the response, reported as soon as it is made so
/// that a store can commit it (a draft must survive the process dying).
///
/// A change can move other values too (a `trigger` recalculation, the
/// defaults of a new repeat instance, the indices of later instances after a
/// removal), so a store keeping a draft should save `session.answers()` (the
/// whole restorable state) rather than only the value at `reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A question was answered or cleared (`/data/members[2]/age`).
    Answer { reference: String },
    /// A repeat instance was added (its reference, `/data/members[3]`).
    RepeatAdded { reference: String },
    /// A repeat instance was removed; the instances after it moved up one,
    /// so their references changed: store `session.answers()` afresh.
    RepeatRemoved { reference: String },
    /// The language was switched (the full name, `Português (pt)`).
    Language { language: String },
}

impl Change {
    pub fn reference(&self) -> Option<&str> {
        match self {
            Change::Answer { reference }
            | Change::RepeatAdded { reference }
            | Change::RepeatRemoved { reference } => Some(reference),
            Change::Language { .. } => None,
        }
    }
}

/// What the owner of an interview does at its turning points. Every method
/// has a default that does nothing, which is what a preview wants.
pub trait InterviewHooks {
    /// After every accepted change. An error stops the interview
    /// ([`InterviewError::Hook`]): going on would lose answers.
    fn changed(&mut self, session: &mut Session, change: &Change) -> Result<(), HookError> {
        let _ = (session, change);
        Ok(())
    }

    /// A file question answered at the terminal with the path of a file:
    /// keeps the file with the response and returns the answer (the name
    /// the file is kept under), the session already holding it. `None`:
    /// this interview keeps no files (a preview), and the path is taken
    /// as the answer. An error is shown and the earlier answer stays.
    fn attach(
        &mut self,
        session: &mut Session,
        reference: &str,
        path: &std::path::Path,
    ) -> Result<Option<String>, HookError> {
        let _ = (session, reference, path);
        Ok(None)
    }

    /// `:s`: save and quit. An error is shown and the interview goes on.
    fn save(&mut self, session: &mut Session) -> Result<(), HookError> {
        let _ = session;
        Ok(())
    }

    /// Finalize, called only when nothing blocks it and after the `end`
    /// timestamps are set. An error (e.g. the store refused) is shown and
    /// the interview goes on.
    fn finalize(&mut self, session: &mut Session) -> Result<(), HookError> {
        let _ = session;
        Ok(())
    }
}

/// Hooks that keep nothing (a preview).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl InterviewHooks for NoHooks {}

/// How the interview talks to its terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterviewOptions {
    /// ANSI colours.
    pub color: bool,
    /// Write each input line back to the output: when stdin is not a
    /// terminal, nobody else echoes it, and the transcript needs it.
    pub echo: bool,
    /// Start at the first screen with an unanswered question (a restored
    /// draft) rather than at the beginning.
    pub resume: bool,
}

impl InterviewOptions {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset; echo when
    /// stdin is piped.
    pub fn for_terminal() -> Self {
        InterviewOptions {
            color: style::Style::detect().color,
            echo: !std::io::stdin().is_terminal(),
            resume: false,
        }
    }

    // Used by `enumera device fill` on a restored draft.
    #[allow(dead_code)]
    pub fn resuming(mut self) -> Self {
        self.resume = true;
        self
    }
}

/// How an interview ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Finalized: nothing blocked it and [`InterviewHooks::finalize`] agreed.
    Finalized,
    /// `:s`, and [`InterviewHooks::save`] agreed.
    Saved,
    /// `:q`.
    Quit,
    /// The input ended (Ctrl-D, or the end of a piped script).
    EndOfInput,
}

/// Why an interview stopped early.
#[derive(Debug, thiserror::Error)]
pub enum InterviewError {
    #[error("terminal input/output failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not keep {}: {source}", describe_change(change))]
    Hook { change: Change, source: HookError },
}

fn describe_change(change: &Change) -> String {
    match (change, change.reference()) {
        (Change::Language { language }, _) => format!("the switch to {language}"),
        (_, Some(r)) => format!("the change to {r}"),
        (_, None) => "the change".to_string(),
    }
}

/// Runs the interview on `session`, reading lines from `input` and writing
/// to `output`, until it is finalized, saved, quit or the input ends.
pub fn run_interview<R: BufRead, W: Write>(
    session: &mut Session,
    input: R,
    output: W,
    hooks: &mut dyn InterviewHooks,
    options: &InterviewOptions,
) -> Result<Outcome, InterviewError> {
    runner::Interviewer::new(session, input, output, hooks, options).run(options.resume)
}

/// `enumera form preview FORM [--lang L]`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The form file (XLSForm .xlsx or Enumera instrument .json).
    pub form: PathBuf,
    /// Start in this language (its name, `Português (pt)`, or its code, `pt`).
    #[arg(long)]
    pub lang: Option<String>,
}

/// Tries a form at the terminal, without a device: nothing is kept; when it
/// is finalized, the submission XML is printed.
pub fn preview(args: PreviewArgs) -> Result<ExitCode, UserError> {
    let form = crate::load::form(&args.form)?;
    let mut session = Session::new(form, SessionOptions::default());
    if let Some(lang) = &args.lang {
        session.set_language(lang)?;
    }
    let options = InterviewOptions::for_terminal();
    let outcome = run_interview(
        &mut session,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &mut NoHooks,
        &options,
    )?;
    let mut out = std::io::stdout().lock();
    match outcome {
        Outcome::Finalized => {
            writeln!(out, "Submission:")?;
            writeln!(out, "{}", session.submission_xml())?;
        }
        Outcome::Saved => {
            writeln!(
                out,
                "A preview keeps nothing (use `enumera device fill` for drafts). Answers so far:"
            )?;
            for (reference, value) in session.answers() {
                writeln!(out, "  {reference} = {value}")?;
            }
        }
        Outcome::Quit | Outcome::EndOfInput => {
            writeln!(out, "Not finalized; nothing kept.")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
