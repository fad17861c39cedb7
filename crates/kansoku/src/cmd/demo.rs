//! `kansoku demo`: the whole flow on a simulated Blaster outbreak, with nothing to set up:
//! simulate, ingest, report, alerts, the infected-population estimate, the packet
//! observation chart of TCP 135, and the dashboard serving it all with the sample advisory.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use kansoku_aggregate::PortName;
use kansoku_analyse::alerts::AlertConfig;
use kansoku_sim::Config;
use kansoku_store::{
    OutputFormat, Report, ReportOptions, ScopeFilter, Store, alerts_batch, write_batches,
};

use super::Format;
use super::chart::{self, ChartArgs};
use super::estimate::{self, EstimateArgs};
use super::ingest::{self, IngestArgs};
use super::serve::serve_until_interrupted;
use super::simulate::write_capture;
use crate::alerting;
use kansoku_store::population::telescope_share;

/// 2003-08-09T00:00:00Z: two quiet days of background before Blaster's 2003-08-11.
const DEMO_START_S: u64 = 1_060_387_200;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the capture and the store in this directory (default: a temporary one, removed
    /// at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Where to write the packet observation chart of TCP 135 (.png or .svg).
    #[arg(long, default_value = "kansoku-demo-tcp135.png")]
    pub chart: PathBuf,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the dashboard listens at the end (if taken, a free port on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Stop after the chart instead of serving the dashboard.
    #[arg(long)]
    pub no_serve: bool,
}

/// The sample advisory of the repository (`advisories/`), built in so the demo's dashboard
/// has one wherever the binary runs.
const SAMPLE_ADVISORY: [(&str, &str); 4] = [
    (
        "ms03-026-blaster.en.md",
        include_str!("../../../../advisories/ms03-026-blaster.en.md"),
    ),
    (
        "ms03-026-blaster.ja.md",
        include_str!("../../../../advisories/ms03-026-blaster.ja.md"),
    ),
    (
        ".revisions/ms03-026-blaster.en.md.jsonl",
        include_str!("../../../../advisories/.revisions/ms03-026-blaster.en.md.jsonl"),
    ),
    (
        ".revisions/ms03-026-blaster.ja.md.jsonl",
        include_str!("../../../../advisories/.revisions/ms03-026-blaster.ja.md.jsonl"),
    ),
];

pub fn run(args: DemoArgs) -> Result<bool> {
    let temp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let capture = dir.join("blaster-2003.pcap");
    let store_dir = dir.join("store");
    let config = Config {
        seed: args.seed,
        start: DEMO_START_S,
        days: 4,
        baseline_days: 2,
        ..Config::default()
    };
    eprintln!(
        "1/6 simulating a /16 darknet from 2003-08-09: two days of background, then \
         W32/Blaster for two days ..."
    );
    write_capture(&config, &capture, Some(&dir.join("truth.json")))?;
    eprintln!("2/6 ingesting {} ...", capture.display());
    let (addr, len) = config.telescope;
    let telescope = format!("{}/{len}", std::net::Ipv4Addr::from(addr));
    let ok = ingest::run(IngestArgs {
        store: store_dir.clone(),
        sensor: "demo".into(),
        bin: None,
        rules: Vec::new(),
        no_rules: false,
        research_networks: None,
        telescope: vec![telescope.clone()],
        skip_known: true,
        keep_going: false,
        threads: None,
        inputs: vec![capture],
    })?;
    let store = Store::open(&store_dir)?;
    let mut out = std::io::stdout().lock();

    eprintln!("3/6 report");
    let report = Report::compute(&store, &ReportOptions::default())?;
    report.write(&mut out, OutputFormat::Table)?;

    eprintln!("4/6 outbreak alerts");
    let alerts = alerting::compute(
        &store,
        &ScopeFilter::All,
        None,
        None,
        &AlertConfig::default(),
    )?;
    println!("\noutbreak alerts");
    write_batches(
        &mut out,
        &[alerts_batch(&alerts.rows)?],
        OutputFormat::Table,
    )?;
    if let Some(note) = alerts.learning_note() {
        println!("{note}");
    }

    eprintln!("5/6 infected-population estimate");
    println!("\ninfected population");
    out.flush()?;
    estimate::run(EstimateArgs {
        store: store_dir.clone(),
        signature: "blaster".into(),
        telescope: vec![telescope.clone()],
        from: None,
        to: None,
        confidence: 0.95,
        replicates: 200,
        seed: 1,
        format: Format::Table,
    })?;

    eprintln!("6/6 packet observation chart of tcp/135");
    chart::run(ChartArgs {
        store: store_dir.clone(),
        port: Some(PortName(6, 135)),
        signature: None,
        heatmap: false,
        top: 20,
        bin: None,
        from: None,
        to: None,
        output: args.chart.clone(),
    })?;
    if args.keep.is_some() {
        eprintln!(
            "\nkept in {dir}; try: kansoku sql --store {store} \"SELECT bin_start, packets, \
             sources FROM observations WHERE dst_port = 135 ORDER BY bin_start\"",
            dir = dir.display(),
            store = store_dir.display()
        );
    }
    drop(out);
    if !args.no_serve {
        serve_dashboard(&dir, &store_dir, args.listen, &telescope)?;
    }
    Ok(ok)
}

/// Serves the demo store with the sample advisory and a fresh operator account until
/// Ctrl-C, printing the address and the login.
fn serve_dashboard(dir: &Path, store: &Path, listen: SocketAddr, telescope: &str) -> Result<()> {
    let advisories = dir.join("advisories");
    for (name, text) in SAMPLE_ADVISORY {
        let path = advisories.join(name);
        std::fs::create_dir_all(path.parent().expect("advisory files have a directory"))?;
        if !path.exists() {
            std::fs::write(&path, text)?;
        }
    }
    let password = kansoku_web::auth::random_hex(8);
    kansoku_web::auth::set_operator(store, "demo", &password)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = kansoku_web::Config {
        advisories: Some(advisories),
        telescope_share: Some(
            telescope_share(&[telescope.to_owned()]).map_err(anyhow::Error::msg)?,
        ),
        ..kansoku_web::Config::new(store.to_path_buf())
    };
    let fallback = SocketAddr::from(([127, 0, 0, 1], 0));
    serve_until_interrupted(config, &[listen, fallback], |address| {
        println!(
            "\ndashboard: http://{address}/ (operator login: demo / {password}; Ctrl-C stops)"
        );
        let _ = std::io::stdout().flush();
    })
}
