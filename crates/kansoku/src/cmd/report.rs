//! `kansoku report`: the operator's first look at a store.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kansoku_store::{Report, ReportOptions, Store};

use super::Format;
use crate::time::parse_time;

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
    /// Rows in the top ports and top sources sections.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: ReportArgs) -> Result<bool> {
    let store = Store::open(&args.store)?;
    let options = ReportOptions {
        from: args.from,
        to: args.to,
        top: args.top,
    };
    let report = Report::compute(&store, &options)?;
    report.write(&mut std::io::stdout().lock(), args.format.into())?;
    Ok(true)
}
