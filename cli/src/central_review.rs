//! `enumera central --db C.db review ...`: review responses from a
//! terminal (issue 17). Every action is signed with the key of the
//! reviewer's own token (`--token`, or ENUMERA_TOKEN): the same roles and
//! scope as over HTTP, and the same appended, signed events.

use clap::{Args, Subcommand};
use enumera_central::{Central, Location, ReviewFilter, ReviewItem};
use enumera_core::review::{Comment, ReviewKind, ReviewState};

use crate::UserError;
use crate::device::to_json;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The reviewer's token (a supervisor's or a researcher's): it names
    /// who acts, and its key signs each action.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "ENUMERA_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The current responses this token may review, with their state.
    List {
        #[arg(long, value_name = "FORM_ID")]
        form: Option<String>,
        #[arg(long, value_name = "N")]
        round: Option<i64>,
        #[arg(long, value_name = "DISTRICT")]
        district: Option<String>,
        #[arg(long, value_name = "NAME")]
        enumerator: Option<String>,
        #[arg(long, value_name = "DEVICE_ID")]
        device: Option<String>,
        /// received, approved, rejected or has_issues.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One response: its answers (plain ones) and its review history.
    Show {
        instance_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Approve a response.
    Approve {
        instance_id: String,
        #[command(flatten)]
        comments: CommentArgs,
        #[arg(long)]
        json: bool,
    },
    /// Send a response back to the device that made it, with at least one
    /// comment saying why.
    Reject {
        instance_id: String,
        #[command(flatten)]
        comments: CommentArgs,
        #[arg(long)]
        json: bool,
    },
    /// Mark a response as having issues, without returning it.
    HasIssues {
        instance_id: String,
        #[command(flatten)]
        comments: CommentArgs,
        #[arg(long)]
        json: bool,
    },
    /// Comment on a response or its questions (no change of state).
    Comment {
        instance_id: String,
        #[command(flatten)]
        comments: CommentArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// A comment on the whole response (repeatable).
    #[arg(long, value_name = "TEXT")]
    comment: Vec<String>,
    /// A comment on one question, by its ODK reference:
    /// `--at /data/age="too young for the survey"` (repeatable).
    #[arg(long, value_name = "REF=TEXT")]
    at: Vec<String>,
}

impl CommentArgs {
    fn comments(self) -> Result<Vec<Comment>, UserError> {
        let mut out: Vec<Comment> = self.comment.iter().map(|t| Comment::general(t)).collect();
        for a in &self.at {
            let (reference, text) = a.split_once('=').ok_or_else(|| {
                UserError(format!("--at {a:?}: write it as REF=TEXT, e.g. /data/age=\"too young\""))
            })?;
            out.push(Comment::at(reference.trim(), text));
        }
        Ok(out)
    }
}

pub fn run(db: &Location, args: ReviewArgs) -> Result<(), UserError> {
    let token = args.token.ok_or_else(|| {
        UserError(
            "review needs the reviewer's own token: --token TOKEN or ENUMERA_TOKEN \
             (`enumera central --db C.db token create --role supervisor|researcher --name NAME`)"
                .into(),
        )
    })?;
    let mut central = Central::open_at(db)?;
    let who =
        central.principal(&token)?.ok_or_else(|| UserError("unknown or revoked token".into()))?;
    let (instance_id, kind, comments, json) = match args.command {
        ReviewCommand::List { form, round, district, enumerator, device, state, json } => {
            let state = match state.as_deref() {
                None => None,
                Some(s) => Some(ReviewState::parse(s).ok_or_else(|| {
                    UserError(format!(
                        "--state {s:?}: use received, approved, rejected or has_issues"
                    ))
                })?),
            };
            let filter = ReviewFilter { form_id: form, round, district, enumerator, device, state };
            let items = central.review_list(&who, &filter)?;
            if json {
                println!("{}", to_json(&items));
            } else {
                print!("{}", table(&items));
            }
            return Ok(());
        }
        ReviewCommand::Show { instance_id, json } => {
            let detail = central.review_show(&who, &instance_id)?;
            if json {
                println!("{}", to_json(&detail));
                return Ok(());
            }
            print!("{}", table(std::slice::from_ref(&detail.item)));
            match &detail.answers {
                Some(a) => println!("answers: {a}"),
                None => println!("answers: sealed (central cannot read them)"),
            }
            for e in &detail.events {
                println!(
                    "{}  {} {} ({}, token {}) -> {}",
                    e.at,
                    e.kind.as_str(),
                    e.reviewer,
                    e.role,
                    e.token_id,
                    e.state_after
                );
                for c in &e.comments {
                    println!("    {}: {}", c.reference.as_deref().unwrap_or("(response)"), c.text);
                }
            }
            return Ok(());
        }
        ReviewCommand::Approve { instance_id, comments, json } => {
            (instance_id, ReviewKind::Approve, comments, json)
        }
        ReviewCommand::Reject { instance_id, comments, json } => {
            (instance_id, ReviewKind::Reject, comments, json)
        }
        ReviewCommand::HasIssues { instance_id, comments, json } => {
            (instance_id, ReviewKind::HasIssues, comments, json)
        }
        ReviewCommand::Comment { instance_id, comments, json } => {
            (instance_id, ReviewKind::Comment, comments, json)
        }
    };
    let outcome = central.review_with_token(&token, &instance_id, kind, comments.comments()?)?;
    if json {
        println!("{}", to_json(&outcome));
    } else {
        eprintln!(
            "{} {}: now {} (action {}, signed by {})",
            kind.as_str(),
            instance_id,
            outcome.state,
            outcome.action_id,
            who.describe()
        );
    }
    Ok(())
}

fn table(items: &[ReviewItem]) -> String {
    let mut out = String::new();
    for i in items {
        out.push_str(&format!(
            "{}  {:<10} {} v{}  device {}  {}{}{}{}\n",
            i.instance_id,
            i.state.as_str(),
            i.form_id,
            i.form_version,
            i.device_id,
            i.district.as_deref().map(|d| format!("district {d}  ")).unwrap_or_default(),
            i.round.map(|r| format!("round {r}  ")).unwrap_or_default(),
            if i.comments > 0 { format!("{} comments  ", i.comments) } else { String::new() },
            if i.edited_after_return { "corrected after return" } else { "" },
        ));
    }
    if items.is_empty() {
        out.push_str("no responses to review\n");
    }
    out
}
