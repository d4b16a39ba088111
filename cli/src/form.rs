//! `enumera form ...`: check, convert and run instruments.

use std::process::ExitCode;

use clap::Subcommand;

use crate::UserError;

#[derive(Debug, Subcommand)]
pub enum FormCommand {}

pub fn run(cmd: FormCommand) -> Result<ExitCode, UserError> {
    match cmd {}
}
