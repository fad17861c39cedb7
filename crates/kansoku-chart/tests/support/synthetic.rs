//! Deterministic synthetic observations shaped like the Blaster outbreak (August 2003), for
//! the tests, the examples and the benchmark. Not a simulation: just plausible curves.

#![allow(dead_code)]

use kansoku_chart::{Heatmap, ObservationChart, Series};

/// 2003-08-11 00:00 UTC.
pub const T0: i64 = 1_060_560_000;

/// A small xorshift generator: the same numbers on every run and platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `mean` with ±`spread` relative noise.
    pub fn around(&mut self, mean: f64, spread: f64) -> f64 {
        (mean * (1.0 + spread * (2.0 * self.next() - 1.0)))
            .max(0.0)
            .round()
    }
}

fn logistic(t: f64, onset: f64, rate: f64) -> f64 {
    1.0 / (1.0 + (-(t - onset) * rate).exp())
}

/// Daily rhythm: more infected machines are switched on during the (Asian, European,
/// American) working day, so a worm's traffic has a mild daily wave.
fn daily(t: i64) -> f64 {
    let h = (t.rem_euclid(86_400)) as f64 / 3600.0;
    1.0 + 0.25 * (2.0 * std::f64::consts::PI * (h - 14.0) / 24.0).cos()
}

/// `days` days of `bin`-second bins from [`T0`]: packets per signature and distinct sources.
/// `signatures` beyond the first four are small scanners. Bins with no traffic are left out,
/// as the store leaves them out.
pub fn outbreak(days: i64, bin: i64, signatures: usize, seed: u64) -> ObservationChart {
    let mut rng = Rng::new(seed);
    let n = days * 86_400 / bin;
    let per_bin = bin as f64 / 300.0;
    let names = ["blaster", "welchia", "scan-generic", "backscatter"];
    let mut packets: Vec<Series> = (0..signatures)
        .map(|i| {
            Series::new(
                names
                    .get(i)
                    .map_or_else(|| format!("scanner-{i}"), |s| s.to_string()),
                Vec::new(),
            )
        })
        .collect();
    let mut sources = Series::new("all sources", Vec::new());
    let mut blaster_sources = Series::new("blaster", Vec::new());
    let onset = 1.0 + 16.0 / 24.0; // 2003-08-11 16:00 UTC is day 0; onset on day 1 here
    for i in 0..n {
        let t = T0 + i * bin;
        let day = (t - T0) as f64 / 86_400.0;
        let infected = 40_000.0 * logistic(day, onset, 4.0) * daily(t);
        let welchia = 9_000.0 * logistic(day, onset + 1.2, 5.0) * daily(t);
        let mut total_src = 0.0;
        for (k, s) in packets.iter_mut().enumerate() {
            let (pk, src) = match k {
                0 => (infected * 0.9 * per_bin, infected * 0.3),
                1 => (welchia * 1.6 * per_bin, welchia * 0.25),
                2 => (400.0 * per_bin, 60.0),
                3 => (
                    if (day * 24.0) as i64 % 17 < 3 {
                        2_500.0 * per_bin
                    } else {
                        30.0 * per_bin
                    },
                    4.0,
                ),
                _ => (60.0 / k as f64 * per_bin, 5.0),
            };
            let pk = rng.around(pk, 0.2);
            total_src += rng.around(src, 0.15);
            // A six-hour sensor outage on the third day: no rows at all.
            let outage = (2.25..2.5).contains(&day);
            if pk > 0.0 && !outage {
                s.points.push((t, pk));
            }
            if k == 0 && !outage && infected > 0.5 {
                blaster_sources
                    .points
                    .push((t, rng.around(infected * 0.3, 0.1)));
            }
        }
        if !(2.25..2.5).contains(&day) {
            sources.points.push((t, total_src));
        }
    }
    ObservationChart {
        title: "Packets observed on the darknet: W32/Blaster outbreak".into(),
        subtitle: Some(format!(
            "sensor tokyo-1, /16 darknet, {days} days from 2003-08-11 (synthetic)"
        )),
        bin_seconds: bin,
        packets,
        sources: vec![sources, blaster_sources],
    }
}

/// A heatmap of `ports` ports over `days` days.
pub fn port_heatmap(days: i64, bin: i64, ports: usize, seed: u64) -> Heatmap {
    let mut rng = Rng::new(seed);
    let n = days * 86_400 / bin;
    let known = [
        "tcp/135", "icmp/8/0", "tcp/445", "udp/1434", "tcp/80", "tcp/4444", "udp/69", "tcp/23",
    ];
    let mut rows = Vec::new();
    for p in 0..ports {
        let name = known
            .get(p)
            .map_or_else(|| format!("tcp/{}", 1000 + p * 37), |s| s.to_string());
        let mut points = Vec::new();
        for i in 0..n {
            let t = T0 + i * bin;
            let day = (t - T0) as f64 / 86_400.0;
            let level = match p {
                0 => 30.0 + 200_000.0 * logistic(day, 1.7, 4.0) * daily(t),
                1 => 5.0 + 40_000.0 * logistic(day, 2.9, 5.0),
                2 => 300.0,
                3 => 40.0,
                _ => 50.0 / (p as f64),
            } * bin as f64
                / 300.0;
            // Quiet ports are empty in most bins.
            if rng.next() < (level / 3.0).min(1.0) {
                points.push((t, rng.around(level.max(1.0), 0.3).max(1.0)));
            }
        }
        rows.push(Series::new(name, points));
    }
    Heatmap {
        title: "Packets per destination port".into(),
        subtitle: Some(format!(
            "sensor tokyo-1, {days} days from 2003-08-11 (synthetic)"
        )),
        bin_seconds: bin,
        rows,
    }
}
