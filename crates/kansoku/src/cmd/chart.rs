//! `kansoku chart`: the packet observation chart of a port or signature, or a heatmap of
//! the busiest ports, as SVG or PNG.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kansoku_aggregate::PortName;
use kansoku_chart::{
    Format, Heatmap, ObservationChart, Series, render_heatmap, render_observation,
};
use kansoku_store::{ChartScope, ObservationSeries, Store, port_heatmap, sensors, store_span};

use crate::coverage::warn_outside;
use crate::time::{parse_duration, parse_time, unix_seconds};

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["port", "signature", "heatmap"]))]
pub struct ChartArgs {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Chart this port (tcp/135, udp/1434, icmp/8.0): packets stacked by signature.
    #[arg(long)]
    pub port: Option<PortName>,
    /// Chart this signature (blaster, welchia, ...): packets stacked by port.
    #[arg(long)]
    pub signature: Option<String>,
    /// A heatmap of the busiest ports over time instead.
    #[arg(long)]
    pub heatmap: bool,
    /// Rows of the heatmap.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Bin of the chart: 5m, 1h, 1d (default: the store's bin).
    #[arg(long, value_parser = parse_duration)]
    pub bin: Option<u32>,
    /// Start of the period (inclusive), as for `report`.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<String>,
    /// End of the period (exclusive).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<String>,
    /// Output file: .svg or .png.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: ChartArgs) -> Result<bool> {
    let format = Format::from_path(&args.output)?;
    let store = Store::open(&args.store)?;
    let store_bin = store.meta().bin_seconds;
    let bin = args.bin.unwrap_or(store_bin);
    if !bin.is_multiple_of(store_bin) {
        anyhow::bail!(
            "--bin {bin}s is not a multiple of the store's {store_bin}s bins; the chart would \
             split stored bins"
        );
    }
    let (from, to) = (unix_seconds(&args.from), unix_seconds(&args.to));
    let outside = warn_outside(&store, from, to)?;
    // Zero points at the ends of the store's period: a missing bin is zero to the chart, so
    // this makes every chart span the whole period, quiet days included.
    let span = store_span(&store, bin, from, to)?;
    let pad = |points: &mut Vec<(i64, f64)>| {
        if let Some((first, last)) = span {
            points.extend([(first, 0.0), (last, 0.0)]);
        }
    };
    let sensors = sensors(&store)?;
    let subtitle = Some(match sensors.len() {
        1 => format!("sensor {}", sensors[0]),
        _ => format!("sensors {}", sensors.join(", ")),
    });
    let bytes = if args.heatmap {
        let mut rows = port_heatmap(&store, bin, args.top, from, to)?;
        if let Some((_, points)) = rows.first_mut() {
            pad(points);
        }
        let map = Heatmap {
            // No bin in the title: a long span is drawn with wider bins than asked for, and
            // the colour legend and the axis name the width actually drawn.
            title: format!("Busiest {} ports", rows.len()),
            subtitle,
            bin_seconds: i64::from(bin),
            rows: rows
                .into_iter()
                .map(|(name, points)| Series::new(name, points))
                .collect(),
        };
        render_heatmap(&map, format)?
    } else {
        let (scope, what) = match (&args.port, &args.signature) {
            (Some(PortName(proto, port)), _) => (
                ChartScope::Port {
                    proto: *proto,
                    port: *port,
                },
                PortName(*proto, *port).to_string(),
            ),
            (None, Some(name)) => (ChartScope::Signature(name.clone()), name.clone()),
            (None, None) => unreachable!("clap requires one of --port, --signature, --heatmap"),
        };
        let mut series = ObservationSeries::read(&store, &scope, bin, from, to)?;
        if series.packets.is_empty() && !outside {
            // A misspelt signature draws the same flat chart as a quiet one.
            eprintln!("note: nothing seen on {what} in the period: the chart is empty");
        }
        pad(&mut series.sources);
        let chart = ObservationChart {
            // As the dashboard titles it; the axis titles name the bin width drawn.
            title: format!("Packet observation chart: {what} (UTC)"),
            subtitle,
            bin_seconds: i64::from(bin),
            packets: series
                .packets
                .into_iter()
                .map(|(name, points)| Series::new(name, points))
                .collect(),
            sources: vec![Series::new("distinct sources", series.sources)],
        };
        render_observation(&chart, format)?
    };
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    eprintln!("{}: written", args.output.display());
    Ok(true)
}
