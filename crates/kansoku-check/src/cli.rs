//! The command line (issue 6): `kansoku-check scan --image ROOT [--ioc FILE]
//! [--format json|text|markdown] [--lang en|ja]`. Parsing only; each command's work lives in
//! its own module so tests call it directly.
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::i18n::{Msg, t};
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
Mount the suspect disk read-only on a clean machine and point --image at its root, or run\n\
`scan --live` on the suspect Windows system itself.\n\
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
    /// Scan, then write the remediation plan (a dry run: nothing on the volume changes).
    Plan(PlanArgs),
    /// Carry out a plan: quarantine files and edit hives, each step verified and logged.
    Apply(ApplyArgs),
    /// Undo one applied action, by the id the apply report printed (SESSION/ACTION).
    /// Exit 0 when it was restored, 3 when it was not (the reason is printed).
    Restore(RestoreArgs),
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Quarantine directory for apply (must not be on the scanned volume).
    #[arg(long, value_name = "DIR")]
    pub quarantine: PathBuf,
    /// Where to write the plan (JSON).
    #[arg(long, short = 'o', value_name = "PLAN")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The plan written by `kansoku-check plan`.
    #[arg(long, value_name = "PLAN")]
    pub plan: PathBuf,
    /// Indicator database for the scan made after the actions.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The action to undo, as SESSION/ACTION.
    pub id: String,
    /// The quarantine directory given to `plan`.
    #[arg(long, value_name = "DIR")]
    pub quarantine: PathBuf,
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
#[command(group(clap::ArgGroup::new("target").required(true).args(["image", "live"])))]
pub struct ScanArgs {
    /// Root of the mounted Windows volume (the directory holding WINDOWS or WINNT).
    #[arg(long, value_name = "ROOT")]
    pub image: Option<PathBuf>,
    /// Check the running Windows system this runs on instead (registry, processes,
    /// services, listening ports, mutexes); `scan` only: plans work on a mounted volume.
    #[arg(long)]
    pub live: bool,
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
        Command::Plan(args) => plan(&args, out),
        Command::Apply(args) => apply(&args, out),
        Command::Restore(args) => restore(&args, out),
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
    let result = match &args.image {
        Some(image) => crate::scan::scan(&Volume::open(image)?, &db),
        None => scan_live(&db)?,
    };
    let report = Report::from_scan(result, &db);
    write_report(&report, args.format, args.lang, &db, out)?;
    Ok(report.outcome())
}

#[cfg(windows)]
fn scan_live(db: &IocDb) -> Result<crate::scan::ScanResult, CliError> {
    Ok(crate::live::scan_live(&crate::live::WindowsSystem, db))
}

#[cfg(not(windows))]
fn scan_live(_: &IocDb) -> Result<crate::scan::ScanResult, CliError> {
    Err(
        "--live checks the running Windows system it runs on; here, mount the Windows disk \
         and use --image ROOT"
            .into(),
    )
}

/// The mounted volume of a plan: live remediation is not offered, a plan needs a volume.
fn image(args: &ScanArgs) -> Result<&PathBuf, CliError> {
    args.image.as_ref().ok_or_else(|| {
        "plans are made for a mounted volume: give --image ROOT (--live only scans)".into()
    })
}

fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let db = load_db(args.scan.ioc.as_deref())?;
    let volume = Volume::open(image(&args.scan)?)?;
    crate::plan::check_quarantine(&volume, &args.quarantine)?;
    let result = crate::scan::scan(&volume, &db);
    let plan = crate::plan::make(&result, &db, &args.quarantine);
    crate::quarantine::write_durable(&args.out, plan.json().as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let report = Report::from_scan(result, &db);
    write_report(&report, args.scan.format, args.scan.lang, &db, out)?;
    if args.scan.format != Format::Json {
        let lang = args.scan.lang;
        writeln!(
            out,
            "\n{} {} ({} {}):",
            t(lang, Msg::PlanWritten),
            args.out.display(),
            plan.actions.len(),
            t(lang, Msg::NothingChanged)
        )?;
        for a in &plan.actions {
            writeln!(
                out,
                "  {} [{}] {}",
                a.id,
                a.rule_ids.join(", "),
                a.describe()
            )?;
        }
    }
    Ok(report.outcome())
}

fn apply(args: &ApplyArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let db = load_db(args.ioc.as_deref())?;
    let text = std::fs::read_to_string(&args.plan)
        .map_err(|e| format!("cannot read plan {}: {e}", args.plan.display()))?;
    let plan = crate::plan::Plan::load(&args.plan)?;
    let (session, results) = crate::remedy::apply(&plan, &text)?;
    let volume = Volume::open(std::path::Path::new(&plan.root))?;
    let report = Report::after_actions(crate::scan::scan(&volume, &db), &db, results);
    write_report(&report, args.format, args.lang, &db, out)?;
    if args.format != Format::Json {
        writeln!(
            out,
            "\n{}: {session} ({}); {}: kansoku-check restore {session}/ACTION --quarantine {}",
            t(args.lang, Msg::SessionWritten),
            plan.quarantine,
            t(args.lang, Msg::UndoWith),
            plan.quarantine
        )?;
    }
    Ok(report.outcome())
}

fn restore(args: &RestoreArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let r = crate::remedy::restore(&args.quarantine, &args.id);
    writeln!(
        out,
        "{}: {}",
        if r.ok { "restored" } else { "NOT restored" },
        r.detail
    )?;
    Ok(if r.ok { Outcome::Clean } else { Outcome::Error })
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
        let Command::Scan(a) = cli.command else {
            panic!("not scan")
        };
        assert_eq!(a.image, Some(PathBuf::from("/mnt/c")));
        assert_eq!(a.format, Format::Markdown);
        assert_eq!(a.lang, Lang::Ja);
        assert!(Cli::try_parse_from(["kansoku-check", "scan"]).is_err());
        assert!(
            Cli::try_parse_from(["kansoku-check", "scan", "--image", "/", "--format", "xml"])
                .is_err()
        );
    }

    #[test]
    fn live_is_an_alternative_to_image_for_scans_only() {
        let live = Cli::try_parse_from(["kansoku-check", "scan", "--live"]).unwrap();
        let Command::Scan(a) = &live.command else {
            panic!("not scan")
        };
        assert!(a.live && a.image.is_none());
        assert!(
            Cli::try_parse_from(["kansoku-check", "scan", "--live", "--image", "/"]).is_err(),
            "one or the other"
        );
        let plan = Cli::try_parse_from([
            "kansoku-check",
            "plan",
            "--live",
            "--quarantine",
            "/tmp/q",
            "-o",
            "/tmp/p.json",
        ])
        .unwrap();
        assert_eq!(
            run(plan, &mut Vec::new()),
            Outcome::Error,
            "plans need --image"
        );
        #[cfg(not(windows))]
        assert_eq!(
            run(live, &mut Vec::new()),
            Outcome::Error,
            "live needs Windows"
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
