//! Writes example charts to a directory (default /tmp/kansoku-chart-examples) to look at.
//!
//! cargo run --release -p kansoku-chart --example gallery [DIR]

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::path::PathBuf;

use kansoku_chart::{Format, ObservationChart, Series, render_heatmap, render_observation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("/tmp/kansoku-chart-examples".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
        Ok(())
    };

    let three_days = synthetic::outbreak(3, 300, 4, 7);
    for f in [Format::Svg, Format::Png] {
        write(
            &format!("observation-3d-5min.{}", f.extension()),
            render_observation(&three_days, f)?,
        )?;
    }
    let month = synthetic::outbreak(30, 300, 12, 7);
    write(
        "observation-30d-5min-12sig.png",
        render_observation(&month, Format::Png)?,
    )?;
    let hours = synthetic::outbreak(1, 300, 3, 9);
    let hours = ObservationChart {
        packets: hours
            .packets
            .into_iter()
            .map(|s| {
                Series::new(
                    s.name,
                    s.points
                        .into_iter()
                        .filter(|p| {
                            p.0 >= synthetic::T0 + 14 * 3600 && p.0 < synthetic::T0 + 20 * 3600
                        })
                        .collect(),
                )
            })
            .collect(),
        sources: vec![],
        title: "TCP 135, six hours around the onset".into(),
        subtitle: None,
        ..hours
    };
    write(
        "observation-6h-packets-only.png",
        render_observation(&hours, Format::Png)?,
    )?;
    let year = synthetic::outbreak(400, 86_400, 3, 3);
    write(
        "observation-400d-daily.png",
        render_observation(&year, Format::Png)?,
    )?;
    let empty = ObservationChart {
        title: "TCP 9999".into(),
        bin_seconds: 300,
        ..Default::default()
    };
    write(
        "observation-no-data.png",
        render_observation(&empty, Format::Png)?,
    )?;

    // Edge cases: one point; odd names, more signatures than colours and a NaN.
    let single = ObservationChart {
        title: "A single bin".into(),
        subtitle: Some("one point per series".into()),
        bin_seconds: 300,
        packets: vec![Series::new("blaster", vec![(synthetic::T0 + 3600, 1234.0)])],
        sources: vec![Series::new(
            "all sources",
            vec![(synthetic::T0 + 3600, 56.0)],
        )],
    };
    write(
        "observation-single-point.png",
        render_observation(&single, Format::Png)?,
    )?;
    let names = [
        "<script>&amp;",
        "a-signature-name-much-too-long-to-fit-in-any-legend-at-all",
        "観測 (kansoku)",
        "",
        "other",
    ];
    let odd = ObservationChart {
        title: "Odd names, NaN, and 14 signatures".into(),
        subtitle: None,
        bin_seconds: 3600,
        packets: (0..14)
            .map(|i| {
                let name = names
                    .get(i)
                    .map_or_else(|| format!("sig-{i}"), |n| n.to_string());
                let points = (0..48)
                    .map(|h| {
                        let v = if h == 20 {
                            f64::NAN
                        } else {
                            (14.0 - i as f64) * (1.0 + (h % 7) as f64)
                        };
                        (synthetic::T0 + h * 3600, v)
                    })
                    .collect();
                Series::new(name, points)
            })
            .collect(),
        sources: vec![],
    };
    write(
        "observation-odd-names.png",
        render_observation(&odd, Format::Png)?,
    )?;

    let heat = synthetic::port_heatmap(3, 300, 10, 5);
    for f in [Format::Svg, Format::Png] {
        write(
            &format!("heatmap-3d.{}", f.extension()),
            render_heatmap(&heat, f)?,
        )?;
    }
    let heat_month = synthetic::port_heatmap(30, 300, 50, 5);
    write(
        "heatmap-30d-50ports.png",
        render_heatmap(&heat_month, Format::Png)?,
    )?;

    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}
