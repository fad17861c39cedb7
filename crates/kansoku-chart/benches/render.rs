//! How long the charts of issue 4's target take: 30 days of 5-minute bins (8,640 bins) with
//! eight signatures stacked and two source lines, and a 30-day heatmap of 20 ports.
//!
//! cargo bench -p kansoku-chart --bench render
//!
//! Prints the best and median wall time of several runs for each chart and format, and the
//! output sizes. The input is built once, outside the timing.

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

use kansoku_chart::{Format, render_heatmap, render_observation};

fn measure(what: &str, runs: usize, mut render: impl FnMut() -> Vec<u8>) {
    let bytes = render(); // warm-up: font tables, allocator
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(render());
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{what:<44} best {:>7.1} ms   median {:>7.1} ms   {:>8} bytes",
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3,
        bytes.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter on nothing here.
    let runs = 15;
    let chart = synthetic::outbreak(30, 300, 8, 7);
    let points: usize = chart
        .packets
        .iter()
        .chain(&chart.sources)
        .map(|s| s.points.len())
        .sum();
    println!(
        "observation chart: {} packet series, {} source lines, {points} points",
        chart.packets.len(),
        chart.sources.len()
    );
    measure("observation 30 d x 5 min, SVG", runs, || {
        render_observation(&chart, Format::Svg).unwrap()
    });
    measure("observation 30 d x 5 min, PNG", runs, || {
        render_observation(&chart, Format::Png).unwrap()
    });
    let map = synthetic::port_heatmap(30, 300, 20, 5);
    let points: usize = map.rows.iter().map(|s| s.points.len()).sum();
    println!("heatmap: {} ports, {points} points", map.rows.len());
    measure("heatmap 30 d x 5 min x 20 ports, SVG", runs, || {
        render_heatmap(&map, Format::Svg).unwrap()
    });
    measure("heatmap 30 d x 5 min x 20 ports, PNG", runs, || {
        render_heatmap(&map, Format::Png).unwrap()
    });
}
