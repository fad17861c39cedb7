//! Thin binary: parse the command line, run, map the outcome to the documented exit code.
use std::process::ExitCode;

use clap::Parser;
use kansoku_check::outcome::Outcome;

fn main() -> ExitCode {
    let cli = match kansoku_check::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are answers (exit 0). A usage error would exit 2 by clap's
            // convention, which here means "partly remediated": a wrapping script would read
            // a mistyped flag as a remediation result. Nothing was checked: exit 3.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Outcome::Error.code()
            } else {
                0
            });
        }
    };
    let outcome = kansoku_check::cli::run(cli, &mut std::io::stdout().lock());
    ExitCode::from(outcome.code())
}
