//! `kansoku`: the command line. Thin by design: every subcommand parses its arguments with
//! clap and calls into the library crates that hold the data flow.

mod alerting;
mod cmd;
mod coverage;
mod pipeline;
mod time;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// jemalloc instead of glibc's allocator: closing bins builds and drops hundreds of thousands
/// of rows (sketch bytes, port lists, Arrow buffers), and glibc's free lists and
/// consolidation took several per cent of an ingest (docs/architecture.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Internet worm observation: count what a darknet receives, per port and signature, and
/// report it.
#[derive(Parser, Debug)]
#[command(name = "kansoku", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read pcap/pcapng captures (files, directories, .gz/.zst, stdin) into a store.
    Ingest(cmd::ingest::IngestArgs),
    /// Summarise a store: time range, protocols, top ports and sources, decode health.
    Report(cmd::report::ReportArgs),
    /// Run SQL over the store's tables (observations, sources, backscatter, alerts).
    Sql(cmd::sql::SqlArgs),
    /// Outbreak alerts (onset, surge, decline) per port and signature.
    Alerts(cmd::alerts::AlertsArgs),
    /// The packet observation chart of a port or signature, or a port heatmap (SVG, PNG).
    Chart(cmd::chart::ChartArgs),
    /// Infected and scanning hosts per owner (prefixes file or ASN database), to notify them.
    Owners(cmd::owners::OwnersArgs),
    /// The infected population behind a signature's sources over time, with a logistic fit
    /// (plateau, doubling time), bands, and the verdict on each assumption.
    Estimate(cmd::estimate::EstimateArgs),
    /// Serve the dashboard and the JSON API over a store.
    Serve(cmd::serve::ServeArgs),
    /// Operator accounts of the dashboard.
    Operator(cmd::access::OperatorArgs),
    /// Owner API tokens of the dashboard.
    Token(cmd::access::TokenArgs),
    /// Precision and recall of the classifier against a simulator ground truth.
    Evaluate(cmd::evaluate::EvaluateArgs),
    /// Write a simulated darknet capture with its ground truth.
    Simulate(cmd::simulate::SimulateArgs),
    /// Simulate a Blaster outbreak, ingest it into a temporary store and print the report.
    Demo(cmd::demo::DemoArgs),
}

impl Command {
    /// Commands that print their results to standard output.
    fn prints_results(&self) -> bool {
        matches!(
            self,
            Command::Report(_)
                | Command::Sql(_)
                | Command::Alerts(_)
                | Command::Owners(_)
                | Command::Estimate(_)
                | Command::Evaluate(_)
        )
    }

    /// The `--from`/`--to` period of the commands that take one.
    fn period(&self) -> Option<(&Option<String>, &Option<String>)> {
        match self {
            Command::Report(a) => Some((&a.from, &a.to)),
            Command::Alerts(a) => Some((&a.from, &a.to)),
            Command::Chart(a) => Some((&a.from, &a.to)),
            Command::Owners(a) => Some((&a.from, &a.to)),
            Command::Estimate(a) => Some((&a.from, &a.to)),
            _ => None,
        }
    }
}

/// `kansoku sql ... | head` should end like any Unix filter when `head` has read enough:
/// killed by SIGPIPE, silently. Rust ignores SIGPIPE, so the next write failed instead, and
/// `println!` panicked on it. Only for commands whose job is printing: a client hanging up
/// must not kill the server, and an ingest's writes go to files.
fn end_quietly_when_the_reader_goes_away() {
    #[cfg(unix)]
    // SAFETY: called before any thread is started; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some((from, to)) = cli.command.period()
        && let Err(message) = time::check_period(from, to)
    {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    if cli.command.prints_results() {
        end_quietly_when_the_reader_goes_away();
    }
    let result = match cli.command {
        Command::Ingest(args) => cmd::ingest::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Sql(args) => cmd::sql::run(args),
        Command::Alerts(args) => cmd::alerts::run(args),
        Command::Chart(args) => cmd::chart::run(args),
        Command::Owners(args) => cmd::owners::run(args),
        Command::Estimate(args) => cmd::estimate::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Operator(args) => cmd::access::operator(args),
        Command::Token(args) => cmd::access::token(args),
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Demo(args) => cmd::demo::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kansoku: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
