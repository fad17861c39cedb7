//! One module per subcommand; each parses nothing itself (clap does) and prints its result.

pub mod access;
pub mod alerts;
pub mod chart;
pub mod demo;
pub mod estimate;
pub mod evaluate;
pub mod ingest;
pub mod owners;
pub mod report;
pub mod serve;
pub mod simulate;
pub mod sql;

use clap::ValueEnum;
use kansoku_store::OutputFormat;

/// `--format` of every report.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => OutputFormat::Table,
            Format::Json => OutputFormat::Json,
            Format::Csv => OutputFormat::Csv,
        }
    }
}

/// A `--telescope` prefix (`198.18.0.0/16`, `2001:db8::/32` or one address), checked when the
/// command line is parsed so that a typo is a usage error like any other.
pub fn parse_prefix(text: &str) -> Result<String, String> {
    match kansoku_classify::Networks::parse(text) {
        Ok(_) => Ok(text.to_owned()),
        // A list's error names its line; one value has just the one.
        Err(e) => Err(e.trim_start_matches("line 1: ").to_owned()),
    }
}
