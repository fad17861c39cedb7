//! Thin binary: parse the command line, run, map the outcome to the documented exit code.
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kansoku_check::cli::Cli::parse();
    let outcome = kansoku_check::cli::run(cli, &mut std::io::stdout().lock());
    ExitCode::from(outcome.code())
}
