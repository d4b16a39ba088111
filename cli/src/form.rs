//! `enumera form ...`: check, convert and run instruments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use enumera_core::instrument::{Diagnostic, Imported, Instrument, Node, NodeKind, load_form};
use serde_json::{Value, json};

use crate::UserError;

#[derive(Debug, Subcommand)]
pub enum FormCommand {
    /// Check a form (XLSForm .xlsx or Enumera .json) and report every problem.
    Check {
        /// The form file.
        form: PathBuf,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Convert a form to Enumera's canonical JSON (`-o OUT.json`) or to an
    /// ODK XForm (`-o OUT.xml`).
    Convert {
        /// The form file.
        form: PathBuf,
        /// Output file; its extension picks the format (`--output` still works).
        #[arg(short = 'o', long = "out", alias = "output", value_name = "OUT")]
        output: PathBuf,
    },
    /// Fill a form headlessly from a steps script and print the state as JSON.
    Run {
        /// The form file.
        form: PathBuf,
        /// A JSON list of steps: {"set": REF, "value": V}, {"add_repeat": REF},
        /// {"remove_repeat": REF}, {"set_language": L}, {"clear": REF},
        /// {"attach": REF, "file": PATH} (relative to the steps file's folder).
        steps: PathBuf,
        /// The clock, as an ISO 8601 instant (default 2024-01-15T10:30:00Z).
        #[arg(long)]
        now: Option<String>,
        /// Seed for random() and randomize().
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Start in this language (name or code).
        #[arg(long)]
        lang: Option<String>,
        /// What `deviceid` metadata holds (none by default), so runs can be
        /// compared with another engine's.
        #[arg(long)]
        device_id: Option<String>,
        /// The device's location when the form opens (`lat lon [alt
        /// [accuracy]]`), which `start-geopoint` takes.
        #[arg(long)]
        location: Option<String>,
        /// Take values as ODK's engine does: coerced to the question's type
        /// (`12.7` into an integer is `12`, a value that is not a choice is
        /// empty) instead of refused as a failed step.
        #[arg(long)]
        coerce: bool,
    },
    /// Try a form interactively at the terminal, without a device: one
    /// question at a time, nothing kept; prints the submission when finalized.
    Preview(crate::interview::PreviewArgs),
}

pub fn run(cmd: FormCommand) -> Result<ExitCode, UserError> {
    match cmd {
        FormCommand::Check { form, json } => check(&form, json),
        FormCommand::Convert { form, output } => convert(&form, &output),
        FormCommand::Run { form, steps, now, seed, lang, device_id, location, coerce } => {
            let compiled = crate::load::form(&form)?;
            let steps_dir = steps.parent().unwrap_or(Path::new(".")).to_path_buf();
            let steps = crate::run::read_steps(&steps)?;
            let opts = crate::run::RunOptions {
                steps_dir: &steps_dir,
                now: now.as_deref(),
                seed,
                lang: lang.as_deref(),
                device_id: device_id.as_deref(),
                location: location.as_deref(),
                coerce,
            };
            let out = crate::run::run(compiled, &steps, &opts)?;
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        FormCommand::Preview(args) => crate::interview::preview(args),
    }
}

fn load(form: &Path) -> Result<Imported, UserError> {
    load_form(form).map_err(|e| UserError(e.to_string()))
}

/// Prints each diagnostic on stderr, one a line: `FILE: sheet!CELL: message`
/// (warnings say so after the cell).
fn report(form: &Path, imported: &Imported) {
    let file = form.display();
    for d in imported.warnings() {
        eprintln!("{file}: {}: warning: {}", d.location, d.message);
    }
    for d in imported.errors() {
        eprintln!("{file}: {d}");
    }
}

fn check(form: &Path, as_json: bool) -> Result<ExitCode, UserError> {
    let imported = load(form)?;
    report(form, &imported);
    let i = &imported.instrument;
    let (questions, groups, repeats) = count(&i.children);
    if as_json {
        let summary = json!({
            "form_id": i.form_id,
            "version": i.version,
            "title": i.title,
            "hash": i.hash(),
            "languages": i.languages,
            "questions": questions,
            "groups": groups,
            "repeats": repeats,
            "errors": imported.errors().map(diagnostic_json).collect::<Vec<_>>(),
            "warnings": imported.warnings().map(diagnostic_json).collect::<Vec<_>>(),
        });
        println!("{summary}");
    }
    if imported.has_errors() {
        return Ok(ExitCode::from(1));
    }
    if !as_json {
        eprintln!(
            "{}: ok: {} ({questions} questions, {groups} groups, {repeats} repeats)",
            form.display(),
            i.form_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn convert(form: &Path, output: &Path) -> Result<ExitCode, UserError> {
    let ext = output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let write: fn(&Instrument) -> Result<Vec<u8>, UserError> = match ext.as_deref() {
        Some("json") => |i| Ok(i.canonical_json()),
        Some("xml") => |i| match i.to_xform() {
            Ok(xml) => Ok(xml.into_bytes()),
            Err(e) => Err(UserError(format!("cannot write the XForm: {e}"))),
        },
        _ => {
            return Err(UserError(format!(
                "{}: the output must end in .json (Enumera instrument) or .xml (ODK XForm)",
                output.display()
            )));
        }
    };
    let imported = load(form)?;
    report(form, &imported);
    if imported.has_errors() {
        eprintln!("{}: not converted: fix the errors above first", form.display());
        return Ok(ExitCode::from(1));
    }
    let bytes = write(&imported.instrument)?;
    std::fs::write(output, bytes)
        .map_err(|e| UserError(format!("cannot write {}: {e}", output.display())))?;
    eprintln!("{}: wrote {}", form.display(), output.display());
    Ok(ExitCode::SUCCESS)
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({
        "sheet": d.location.sheet,
        "row": d.location.row,
        "column": d.location.column,
        "message": d.message,
    })
}

/// Questions, groups and repeats in a tree.
fn count(nodes: &[Node]) -> (usize, usize, usize) {
    nodes.iter().fold((0, 0, 0), |(q, g, r), n| {
        let (cq, cg, cr) = count(&n.children);
        match n.kind {
            NodeKind::Question(_) => (q + 1 + cq, g + cg, r + cr),
            NodeKind::Group => (q + cq, g + 1 + cg, r + cr),
            NodeKind::Repeat { .. } => (q + cq, g + cg, r + 1 + cr),
        }
    })
}
