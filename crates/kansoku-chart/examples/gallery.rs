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
