//! `enumera demo`: a whole field campaign of the P2P sanitation study,
//! simulated offline on this machine.
//!
//! Central publishes the instruments and the roster; each tablet (its own
//! device database, in its own district) installs them and interviews its
//! participants over three rounds; bundles travel by file, through a
//! supervisor, late and twice; receipts come back; the researcher exports.
//! Every step goes through the same code the real tools use.

mod autofill;
mod campaign;
mod media;
mod people;
mod report;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::UserError;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the campaign's databases, bundles and exports
    /// (replaced if it holds an earlier demo).
    #[arg(long, default_value = "enumera-demo")]
    pub dir: PathBuf,
    /// Enumerator tablets, each in its own district.
    #[arg(long, default_value_t = 3)]
    pub devices: usize,
    /// Local-government staff followed over the three rounds.
    #[arg(long, default_value_t = 12)]
    pub participants: usize,
    /// Seed of the simulation: the same seed gives the same campaign.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the summary as JSON on stdout (for programs and tests).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DemoArgs) -> Result<ExitCode, UserError> {
    if args.devices == 0 || args.devices > 6 {
        return Err(UserError("--devices must be between 1 and 6".into()));
    }
    if args.participants < args.devices {
        return Err(UserError("--participants must be at least --devices".into()));
    }
    let outcome = campaign::Campaign::new(&args)?.run()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.to_json()).unwrap_or_default());
    } else {
        print!("{}", report::render(&outcome));
    }
    if outcome.problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &outcome.problems {
            eprintln!("enumera demo: {p}");
        }
        Ok(ExitCode::from(1))
    }
}
