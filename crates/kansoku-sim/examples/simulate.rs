//! Runs one simulation and reports its size and speed.
//!
//! `cargo run --release -p kansoku-sim --example simulate -- [SCENARIO] [SCALE] [OUT.pcap]`
//! (output goes to an in-memory sink when OUT is omitted).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use kansoku_sim::{Config, Scenario, simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let scenario: Scenario = args.next().as_deref().unwrap_or("blaster-2003").parse()?;
    let scale: f64 = args.next().as_deref().unwrap_or("1").parse()?;
    let config = Config {
        scenario,
        scale,
        ..Config::default()
    };
    let started = Instant::now();
    let (summary, truth) = match args.next() {
        Some(path) => simulate(&config, BufWriter::new(File::create(path)?))?,
        None => simulate(&config, io::sink())?,
    };
    let elapsed = started.elapsed().as_secs_f64();
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{scenario} scale {scale}: {} packets, {} sources in {elapsed:.2} s ({:.1} M packets/s)",
        summary.packets,
        summary.sources,
        summary.packets as f64 / elapsed / 1e6
    )?;
    let mut by_class: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for s in &truth.sources {
        let e = by_class.entry(&s.class).or_default();
        e.0 += 1;
        e.1 += s.packets;
    }
    for (class, (sources, packets)) in by_class {
        writeln!(
            stdout,
            "  {class:12} {sources:7} sources {packets:10} packets"
        )?;
    }
    Ok(())
}
