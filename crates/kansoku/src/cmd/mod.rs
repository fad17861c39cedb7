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
