//! The command line (issue 6): `kansoku-check scan --image ROOT [--ioc FILE]
//! [--format json|text|markdown] [--lang en|ja]`. Parsing only; each command's work lives in
//! its own module so tests call it directly.
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::ioc::IocDb;
use crate::outcome::Outcome;
use crate::report::Report;
use crate::volume::Volume;

#[derive(Debug, Parser)]
#[command(
    name = "kansoku-check",
    version,
    about = "Check a mounted Windows volume for W32.Blaster and W32.Welchia, and the MS03-026 patch",
    long_about = "Check a mounted Windows volume for W32.Blaster and W32.Welchia, and the MS03-026 patch.\n\n\
Mount the suspect disk read-only on a clean machine and point --image at its root.\n\
Exit codes: 0 clean, 1 infected, 2 partly remediated, 3 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a mounted Windows volume (read-only) and report findings and patch state.
    Scan(ScanArgs),
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Versioned JSON for automation.
    Json,
    /// A readable terminal summary.
    Text,
    /// A Markdown summary for a ticket or a report.
    Markdown,
}

/// Language of the text and Markdown summaries (JSON is language-neutral).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Ja,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Root of the mounted Windows volume (the directory holding WINDOWS or WINNT).
    #[arg(long, value_name = "ROOT")]
    pub image: PathBuf,
    /// Indicator database (TOML) to use instead of the compiled-in one.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of the text and Markdown reports.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

/// Runs a parsed command line, writing the report to `out` and diagnostics to stderr.
pub fn run(cli: Cli, out: &mut dyn Write) -> Outcome {
    let result = match cli.command {
        Command::Scan(args) => scan(&args, out),
    };
    result.unwrap_or_else(|e| {
        eprintln!("kansoku-check: error: {e}");
        Outcome::Error
    })
}

/// Errors that stop a command before it can report (bad arguments, unreadable database).
pub type CliError = Box<dyn std::error::Error>;

/// The indicator database chosen on the command line.
pub fn load_db(ioc: Option<&std::path::Path>) -> Result<IocDb, CliError> {
    Ok(match ioc {
        Some(p) => IocDb::load(p)?,
        None => IocDb::builtin()?,
    })
}

/// Writes `report` in the chosen format.
pub fn write_report(
    report: &Report,
    format: Format,
    lang: Lang,
    db: &IocDb,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", report.json()),
        Format::Text => write!(out, "{}", report.summary(lang, false, db)),
        Format::Markdown => write!(out, "{}", report.summary(lang, true, db)),
    }
}

fn scan(args: &ScanArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let db = load_db(args.ioc.as_deref())?;
    let volume = Volume::open(&args.image)?;
    let report = Report::from_scan(crate::scan::scan(&volume, &db), &db);
    write_report(&report, args.format, args.lang, &db, out)?;
    Ok(report.outcome())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_parses_documented_options() {
        let cli = Cli::try_parse_from([
            "kansoku-check",
            "scan",
            "--image",
            "/mnt/c",
            "--ioc",
            "x.toml",
            "--format",
            "markdown",
            "--lang",
            "ja",
        ])
        .unwrap();
        let Command::Scan(a) = cli.command;
        assert_eq!(a.image, PathBuf::from("/mnt/c"));
        assert_eq!(a.format, Format::Markdown);
        assert_eq!(a.lang, Lang::Ja);
        assert!(Cli::try_parse_from(["kansoku-check", "scan"]).is_err());
        assert!(
            Cli::try_parse_from(["kansoku-check", "scan", "--image", "/", "--format", "xml"])
                .is_err()
        );
    }

    #[test]
    fn missing_root_is_an_error_exit() {
        let cli = Cli::try_parse_from([
            "kansoku-check",
            "scan",
            "--image",
            "/nonexistent/kansoku-check-test",
        ])
        .unwrap();
        assert_eq!(run(cli, &mut Vec::new()), Outcome::Error);
    }
}
