//! `kansoku alerts`: outbreak alerts (onset, surge, decline) per port and signature.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kansoku_aggregate::PortName;
use kansoku_analyse::alerts::AlertConfig;
use kansoku_store::{ScopeFilter, Store, alerts_batch, write_batches};

use super::Format;
use crate::alerting;
use crate::coverage::warn_outside;
use crate::time::{parse_time, unix_seconds};

#[derive(Args, Debug)]
pub struct AlertsArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Report alerts raised from this time (inclusive): 2003-08-11, "2003-08-11 16:00" or
    /// RFC 3339 (UTC). The detector reads the week before it for its baseline.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// ...until this time (exclusive).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// Only this port: tcp/135, udp/1434, icmp/8.0.
    #[arg(long, conflicts_with = "signature")]
    pub port: Option<PortName>,
    /// Only this signature: blaster, welchia, ...
    #[arg(long)]
    pub signature: Option<String>,
    /// Days of history behind each bin's baseline (same time of day on each day).
    #[arg(long, default_value_t = AlertConfig::default().history_days)]
    pub history_days: u32,
    /// Bins on each side of the same time of day in the baseline's reference.
    #[arg(long, default_value_t = AlertConfig::default().window_bins)]
    pub window_bins: u32,
    /// CUSUM decision threshold h (in baseline deviations).
    #[arg(long, default_value_t = AlertConfig::default().h)]
    pub threshold: f64,
    /// CUSUM reference k: deviations below it are ignored.
    #[arg(long, default_value_t = AlertConfig::default().k)]
    pub reference: f64,
    /// Distinct sources above (or below) the baseline before a bin counts.
    #[arg(long, default_value_t = AlertConfig::default().min_increase)]
    pub min_increase: f64,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

impl AlertsArgs {
    pub fn config(&self) -> AlertConfig {
        AlertConfig {
            history_days: self.history_days,
            window_bins: self.window_bins,
            k: self.reference,
            h: self.threshold,
            min_increase: self.min_increase,
            ..AlertConfig::default()
        }
    }
}

pub fn run(args: AlertsArgs) -> Result<bool> {
    let store = Store::open(&args.store)?;
    warn_outside(&store, unix_seconds(&args.from), unix_seconds(&args.to))?;
    let filter = match (&args.port, &args.signature) {
        (Some(PortName(proto, port)), _) => ScopeFilter::Port {
            proto: *proto,
            port: *port,
        },
        (None, Some(name)) => ScopeFilter::Signature(name.clone()),
        (None, None) => ScopeFilter::All,
    };
    let alerts = alerting::compute(
        &store,
        &filter,
        unix_seconds(&args.from),
        unix_seconds(&args.to),
        &args.config(),
    )?;
    if let Some(note) = alerts.learning_note() {
        eprintln!("note: {note}");
    }
    let batch = alerts_batch(&alerts.rows)?;
    write_batches(&mut std::io::stdout().lock(), &[batch], args.format.into())?;
    Ok(true)
}
