//! `enumera`: drives the whole system from a terminal, for people and tests.
//!
//! Contract (docs/ARCHITECTURE.md): JSON for programs on stdout with `--json`,
//! progress and messages on stderr; exit 0 success, 1 a user error with a clear
//! message, 2 a usage error (clap's own exit code).

mod central;
mod central_assign;
mod central_export;
mod central_review;
mod demo;
mod device;
mod device_sync;
mod fill;
mod form;
mod http;
mod interview;
mod load;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "enumera", version, about = "Offline-first field-survey engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, convert and try survey instruments (XLSForm or Enumera JSON).
    #[command(subcommand)]
    Form(form::FormCommand),
    /// The device database: init, install instruments, list and inspect responses.
    Device(device::DeviceArgs),
    /// The central store: init, publish instruments, ingest bundles, status, receipts.
    Central(central::CentralArgs),
    /// Simulate a whole field campaign of the P2P study on this machine:
    /// central, tablets, three rounds, sync by file, receipts, export.
    Demo(demo::DemoArgs),
}

/// A failure to report to the user: printed on stderr, exit code 1.
#[derive(Debug)]
pub struct UserError(pub String);

impl<E: std::error::Error> From<E> for UserError {
    fn from(e: E) -> Self {
        UserError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Form(cmd) => form::run(cmd),
        Command::Device(args) => device::run(args),
        Command::Central(args) => central::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(code) => code,
        Err(UserError(msg)) => {
            eprintln!("enumera: {msg}");
            ExitCode::from(1)
        }
    }
}
