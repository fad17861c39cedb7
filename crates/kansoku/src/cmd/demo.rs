//! `kansoku demo`: the whole flow on a simulated Blaster outbreak, with nothing to set up.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use kansoku_sim::Config;
use kansoku_store::{OutputFormat, Report, ReportOptions, Store};

use super::ingest::{self, IngestArgs};
use super::simulate::write_capture;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the capture and the store in this directory (default: a temporary one, removed
    /// at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

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
    let store = dir.join("store");
    let config = Config {
        seed: args.seed,
        ..Config::default()
    };
    eprintln!("1/3 simulating W32/Blaster on a /16 darknet, 3 days from 2003-08-11 ...");
    write_capture(&config, &capture, Some(&dir.join("truth.json")))?;
    eprintln!("2/3 ingesting {} ...", capture.display());
    let ok = ingest::run(IngestArgs {
        store: store.clone(),
        sensor: "demo".into(),
        bin: None,
        rules: Vec::new(),
        no_rules: false,
        research_networks: None,
        skip_known: true,
        keep_going: false,
        threads: None,
        inputs: vec![capture],
    })?;
    eprintln!("3/3 report\n");
    let report = Report::compute(&Store::open(&store)?, &ReportOptions::default())?;
    report.write(&mut std::io::stdout().lock(), OutputFormat::Table)?;
    if args.keep.is_some() {
        eprintln!(
            "\nkept in {dir}; try: kansoku sql --store {store} \"SELECT bin_start, packets, \
             sources FROM observations WHERE dst_port = 135 ORDER BY bin_start\"",
            dir = dir.display(),
            store = store.display()
        );
    }
    Ok(ok)
}
