//! `kansoku simulate`: write a labelled darknet capture.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kansoku_sim::{Config, Scenario};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Output capture (classic pcap, Ethernet).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Ground truth (JSON): every source with its class, first-seen time and hourly counts.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Outbreak scenario on top of the background radiation: blaster-2003, welchia-2003,
    /// slammer-2003, sasser-2004, conficker-2008, mirai-2016, zmap, masscan, or
    /// mixed-darknet (all of them at once, every source labelled in the truth).
    #[arg(long, default_value = "blaster-2003", value_parser = parse_scenario)]
    pub scenario: Scenario,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days to simulate.
    #[arg(long, default_value_t = 3)]
    pub days: u32,
    /// Days of background alone before the outbreak starts (fewer than --days).
    #[arg(long, default_value_t = 0)]
    pub baseline_days: u32,
    /// Multiplies the number of sources (1.0: 0.3-0.75 M packets over 3 days; 10: about 5 M).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// The telescope's prefix (IPv4 CIDR, length 8 to 30). Every model keeps its
    /// Internet-wide probe rates, so a smaller telescope sees fewer probes per host and
    /// misses more hosts: the setting population estimates must cope with.
    #[arg(long, value_name = "CIDR", default_value = "198.18.0.0/16", value_parser = parse_telescope)]
    pub telescope: ([u8; 4], u8),
}

/// `198.18.0.0/16` as (address, prefix length); the simulator checks the length's range.
fn parse_telescope(text: &str) -> Result<([u8; 4], u8), String> {
    let bad = || format!("`{text}` is not an IPv4 prefix like 198.18.0.0/16");
    let (addr, len) = text.split_once('/').ok_or_else(bad)?;
    let addr: std::net::Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    Ok((addr.octets(), len))
}

fn parse_scenario(text: &str) -> Result<Scenario, String> {
    text.parse()
        .map_err(|e: kansoku_sim::UnknownScenario| e.to_string())
}

pub fn run(args: SimulateArgs) -> Result<bool> {
    let config = Config {
        scenario: args.scenario,
        seed: args.seed,
        days: args.days,
        baseline_days: args.baseline_days,
        scale: args.scale,
        telescope: args.telescope,
        ..Config::default()
    };
    let summary = write_capture(&config, &args.output, args.truth.as_deref())?;
    eprintln!(
        "{}: {} packets from {} sources ({}, seed {})",
        args.output.display(),
        summary.packets,
        summary.sources,
        config.scenario,
        config.seed
    );
    Ok(true)
}

/// Simulate into `output`, and the truth into `truth` if given.
pub fn write_capture(
    config: &Config,
    output: &std::path::Path,
    truth: Option<&std::path::Path>,
) -> Result<kansoku_sim::Summary> {
    let file =
        File::create(output).with_context(|| format!("{}: cannot create", output.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let (summary, ground_truth) = kansoku_sim::simulate(config, &mut out)
        .with_context(|| format!("{}: simulation failed", output.display()))?;
    out.flush()
        .with_context(|| format!("{}: write failed", output.display()))?;
    if let Some(path) = truth {
        let file =
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
        serde_json::to_writer_pretty(BufWriter::new(file), &ground_truth)
            .with_context(|| format!("{}: write failed", path.display()))?;
    }
    Ok(summary)
}
