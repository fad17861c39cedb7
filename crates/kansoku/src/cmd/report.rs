//! `kansoku report`: the operator's first look at a store.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kansoku_classify::Networks;
use kansoku_store::{BackscatterOptions, Report, ReportOptions, Store};

use super::Format;
use crate::coverage::warn_outside;
use crate::time::{parse_time, unix_seconds};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Start of the period (inclusive): 2003-08-11, "2003-08-11 16:00" (UTC) or RFC 3339.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// End of the period (exclusive), same forms as --from.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// Rows in each ranked section: protocols, top ports, signatures, top sources.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Report DoS attacks inferred from backscatter instead (one row per attack: victim,
    /// protocol and ports, start, end, packets, peak rate).
    #[arg(long)]
    pub backscatter: bool,
    /// The telescope's prefixes (repeatable): attack rates are extrapolated from its share
    /// of IPv4.
    #[arg(long, value_name = "CIDR", requires = "backscatter", value_parser = super::parse_prefix)]
    pub telescope: Vec<String>,
    /// An attack has at least this many backscatter packets (corsaro's default).
    #[arg(long, default_value_t = 25, requires = "backscatter")]
    pub min_packets: u64,
    /// ...lasting at least this many seconds.
    #[arg(long, default_value_t = 60, requires = "backscatter")]
    pub min_duration: u64,
    /// ...with at least this many packets in some 60-second window.
    #[arg(long, default_value_t = 30, requires = "backscatter")]
    pub min_per_minute: u64,
}

pub fn run(args: ReportArgs) -> Result<bool> {
    let store = Store::open(&args.store)?;
    warn_outside(&store, unix_seconds(&args.from), unix_seconds(&args.to))?;
    if args.backscatter {
        let telescope = Networks::parse(&args.telescope.join("\n"))
            .map_err(|e| anyhow::anyhow!("--telescope: {e}"))?;
        let options = BackscatterOptions {
            from: args.from,
            to: args.to,
            min_packets: args.min_packets,
            min_duration_s: args.min_duration,
            min_per_minute: args.min_per_minute,
            telescope_addresses: (!telescope.is_empty()).then(|| telescope.ipv4_addresses()),
        };
        let report = Report::backscatter(&store, &options)?;
        report.write(&mut std::io::stdout().lock(), args.format.into())?;
        return Ok(true);
    }
    let options = ReportOptions {
        from: args.from,
        to: args.to,
        top: args.top,
    };
    let report = Report::compute(&store, &options)?;
    report.write(&mut std::io::stdout().lock(), args.format.into())?;
    Ok(true)
}
