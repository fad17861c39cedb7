//! Render both charts to SVG and PNG and check what a reader would: the SVG is well-formed
//! XML with the title and every series named, the PNG has the chart's size and a picture on
//! it; and no input, however odd, makes rendering fail or panic.

mod support;

use kansoku_chart::{
    ChartError, Format, Heatmap, MAX_SERIES, ObservationChart, Series, render_heatmap,
    render_observation,
};
use support::synthetic::{self, T0};

/// Text contents of the SVG's `<text>` elements with the given class.
fn texts(svg: &str, class: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some(class))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

fn svg_of_observation(chart: &ObservationChart) -> String {
    String::from_utf8(render_observation(chart, Format::Svg).unwrap()).unwrap()
}

fn svg_of_heatmap(map: &Heatmap) -> String {
    String::from_utf8(render_heatmap(map, Format::Svg).unwrap()).unwrap()
}

/// Decoded PNG: width, height and RGBA pixels.
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Share of pixels that are not white, and the number of distinct colours.
fn ink(pixels: &[u8]) -> (f64, usize) {
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for p in pixels.chunks_exact(4) {
        colours.insert([p[0], p[1], p[2], p[3]]);
        if p[..3] != [255, 255, 255] {
            inked += 1;
        }
    }
    (inked as f64 / (pixels.len() / 4) as f64, colours.len())
}

fn both_formats_render(chart: &ObservationChart) {
    let svg = svg_of_observation(chart);
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let (w, h, pixels) = decode(&render_observation(chart, Format::Png).unwrap());
    assert_eq!((w, h), (1200, 720));
    assert!(ink(&pixels).0 > 0.001);
}

#[test]
fn observation_svg_names_the_title_and_every_series() {
    let chart = synthetic::outbreak(3, 300, 4, 7);
    let svg = svg_of_observation(&chart);
    assert_eq!(texts(&svg, "title"), std::slice::from_ref(&chart.title));
    assert_eq!(texts(&svg, "subtitle"), [chart.subtitle.clone().unwrap()]);
    let legend = texts(&svg, "legend");
    for s in chart.packets.iter().chain(&chart.sources) {
        assert!(
            legend.contains(&s.name),
            "{} missing from {legend:?}",
            s.name
        );
    }
    // One drawn shape per series.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let drawn: Vec<_> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-series"))
        .collect();
    assert_eq!(drawn.len(), chart.packets.len() + chart.sources.len());
    let titles = texts(&svg, "y-title");
    assert_eq!(titles, ["packets per 5 min", "distinct sources per 5 min"]);
    assert_eq!(
        texts(&svg, "x-title"),
        ["2003-08-11 00:00 – 2003-08-14 00:00 UTC, bins of 5 min"]
    );
}

#[test]
fn observation_png_has_the_chart_size_and_a_picture() {
    let chart = synthetic::outbreak(3, 300, 4, 7);
    let (w, h, pixels) = decode(&render_observation(&chart, Format::Png).unwrap());
    assert_eq!((w, h), (1200, 720));
    let (inked, colours) = ink(&pixels);
    assert!(inked > 0.08, "only {inked:.3} of the picture is drawn");
    assert!(colours > 50, "{colours} colours");
    // The blaster blue is there.
    assert!(pixels.chunks_exact(4).any(|p| p[..3] == [0x4e, 0x79, 0xa7]));
}

#[test]
fn heatmap_svg_names_the_title_and_every_row() {
    let map = synthetic::port_heatmap(3, 300, 10, 5);
    let svg = svg_of_heatmap(&map);
    assert_eq!(texts(&svg, "title"), std::slice::from_ref(&map.title));
    let labels = texts(&svg, "legend");
    let names: Vec<_> = map.rows.iter().map(|r| r.name.clone()).collect();
    assert_eq!(labels, names);
    assert_eq!(texts(&svg, "colour-unit"), ["packets per 5 min"]);
}

#[test]
fn heatmap_png_has_the_chart_size_and_a_picture() {
    let map = synthetic::port_heatmap(3, 300, 10, 5);
    let (w, h, pixels) = decode(&render_heatmap(&map, Format::Png).unwrap());
    assert_eq!(w, 1200);
    assert!((300..900).contains(&h), "height {h}");
    let (inked, colours) = ink(&pixels);
    assert!(inked > 0.3, "only {inked:.3} of the picture is drawn");
    assert!(colours > 50);
}

#[test]
fn renders_are_deterministic() {
    let chart = synthetic::outbreak(2, 300, 3, 1);
    assert_eq!(
        render_observation(&chart, Format::Png).unwrap(),
        render_observation(&chart, Format::Png).unwrap()
    );
    let map = synthetic::port_heatmap(2, 300, 4, 1);
    assert_eq!(
        render_heatmap(&map, Format::Svg).unwrap(),
        render_heatmap(&map, Format::Svg).unwrap()
    );
}

#[test]
fn missing_bins_are_drawn_as_zero_not_bridged() {
    // Bins 0..10 and 20..30 of 5 minutes; 10..20 missing.
    let points: Vec<_> = (0..10)
        .chain(20..30)
        .map(|i| (T0 + i * 300, 100.0))
        .collect();
    let chart = ObservationChart {
        title: "gap".into(),
        bin_seconds: 300,
        packets: vec![Series::new("a", points.clone())],
        sources: vec![Series::new("s", points)],
        ..Default::default()
    };
    let svg = svg_of_observation(&chart);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let d = |name: &str| {
        doc.descendants()
            .find(|n| n.attribute("data-series") == Some(name))
            .and_then(|n| n.attribute("d"))
            .unwrap()
            .to_string()
    };
    // The area starts on the baseline ("M x base"), rises, and must come back to the
    // baseline inside the chart (the gap) before it rises again.
    let area = d("a");
    let base = area[1..]
        .split(['V', 'H', 'Z'])
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap();
    let drops = area.matches(&format!("V{base}H")).count();
    assert_eq!(drops, 1, "{area}");
    let line = d("s");
    let segments = line.matches('V').count();
    assert_eq!(segments, 2, "down into the gap and back up: {line}");
}

#[test]
fn time_ticks_follow_the_span() {
    let chart = |hours: i64, bin: i64| ObservationChart {
        title: "t".into(),
        bin_seconds: bin,
        packets: vec![Series::new(
            "a",
            (0..hours * 3600 / bin)
                .map(|i| (T0 + i * bin, 1.0))
                .collect(),
        )],
        ..Default::default()
    };
    let hour = texts(&svg_of_observation(&chart(1, 60)), "x-tick");
    assert!(hour.contains(&"00:10".to_string()), "{hour:?}");
    let days = texts(&svg_of_observation(&chart(72, 300)), "x-tick");
    assert!(days.contains(&"12:00".to_string()), "{days:?}");
    let context = texts(&svg_of_observation(&chart(72, 300)), "x-context");
    assert!(context.contains(&"Aug 12".to_string()), "{context:?}");
    let months = texts(&svg_of_observation(&chart(24 * 90, 86_400)), "x-tick");
    assert!(
        months.iter().any(|l| l == "Sep" || l == "Sep 1"),
        "{months:?}"
    );
}

#[test]
fn value_ticks_use_si_prefixes() {
    let chart = ObservationChart {
        title: "si".into(),
        bin_seconds: 300,
        packets: vec![Series::new(
            "a",
            vec![(T0, 9_300.0), (T0 + 300, 2_000_000.0)],
        )],
        sources: vec![Series::new("s", vec![(T0, 12_000.0)])],
        ..Default::default()
    };
    let ticks = texts(&svg_of_observation(&chart), "y-tick");
    assert!(ticks.contains(&"2M".to_string()), "{ticks:?}");
    assert!(ticks.contains(&"10k".to_string()), "{ticks:?}");
}

#[test]
fn too_many_signatures_merge_into_other() {
    let packets: Vec<Series> = (0..12)
        .map(|i| Series::new(format!("sig-{i}"), vec![(T0, 10.0 + i as f64)]))
        .collect();
    let chart = ObservationChart {
        title: "many".into(),
        bin_seconds: 300,
        packets,
        ..Default::default()
    };
    let legend = texts(&svg_of_observation(&chart), "legend");
    assert_eq!(legend.len(), MAX_SERIES);
    assert_eq!(legend.last().unwrap(), "other");
    assert_eq!(
        legend[0], "sig-5",
        "the biggest stay, in the caller's order: {legend:?}"
    );
    both_formats_render(&chart);
}

#[test]
fn no_data_is_a_chart_that_says_so() {
    let empty = ObservationChart {
        title: "TCP 9999".into(),
        bin_seconds: 300,
        ..Default::default()
    };
    assert!(empty.is_empty());
    let svg = svg_of_observation(&empty);
    assert_eq!(texts(&svg, "no-data"), ["no data"]);
    assert_eq!(texts(&svg, "title"), ["TCP 9999"]);
    both_formats_render(&empty);

    let hollow = ObservationChart {
        packets: vec![Series::new("a", vec![])],
        sources: vec![Series::new("s", vec![])],
        ..empty
    };
    assert!(hollow.is_empty());
    assert_eq!(texts(&svg_of_observation(&hollow), "no-data"), ["no data"]);

    let map = Heatmap {
        title: "ports".into(),
        bin_seconds: 300,
        ..Default::default()
    };
    assert!(map.is_empty());
    assert_eq!(texts(&svg_of_heatmap(&map), "no-data"), ["no data"]);
    let (w, _, pixels) = decode(&render_heatmap(&map, Format::Png).unwrap());
    assert_eq!(w, 1200);
    assert!(ink(&pixels).0 > 0.001);
}

#[test]
fn a_bin_width_that_is_not_positive_is_an_error() {
    for bin in [0, -300, i64::MIN] {
        let chart = ObservationChart {
            bin_seconds: bin,
            ..Default::default()
        };
        let err = render_observation(&chart, Format::Svg).unwrap_err();
        assert!(matches!(err, ChartError::InvalidBin(b) if b == bin));
        assert!(err.to_string().contains("positive"));
        let map = Heatmap {
            bin_seconds: bin,
            ..Default::default()
        };
        assert!(matches!(
            render_heatmap(&map, Format::Png),
            Err(ChartError::InvalidBin(_))
        ));
    }
}

/// Inputs that must render without error or panic, in both formats and both charts.
fn odd_inputs() -> Vec<(&'static str, Vec<Series>)> {
    let mut rng = synthetic::Rng::new(3);
    let scattered: Vec<(i64, f64)> = (0..100_000)
        .map(|_| {
            (
                T0 + (rng.next() * 2.0 * 365.0 * 86_400.0) as i64,
                rng.next() * 1e6,
            )
        })
        .collect();
    let dense: Vec<(i64, f64)> = (0..100_000)
        .map(|i| (T0 + i * 300, (i % 977) as f64))
        .collect();
    vec![
        ("single point", vec![Series::new("a", vec![(T0, 5.0)])]),
        ("single zero", vec![Series::new("a", vec![(T0, 0.0)])]),
        (
            "all zero",
            vec![Series::new(
                "a",
                (0..50).map(|i| (T0 + i * 300, 0.0)).collect(),
            )],
        ),
        (
            "non-finite and negative",
            vec![Series::new(
                "a",
                vec![
                    (T0, f64::NAN),
                    (T0 + 300, -5.0),
                    (T0 + 600, f64::INFINITY),
                    (T0 + 900, f64::NEG_INFINITY),
                ],
            )],
        ),
        (
            "huge",
            vec![
                Series::new("a", vec![(T0, f64::MAX), (T0 + 300, 1e300)]),
                Series::new("b", vec![(T0, f64::MAX)]),
            ],
        ),
        (
            "tiny",
            vec![Series::new("a", vec![(T0, 1e-300), (T0 + 300, 0.25)])],
        ),
        (
            "unsorted duplicates",
            vec![Series::new(
                "a",
                vec![(T0 + 600, 1.0), (T0, 2.0), (T0 + 600, 3.0), (T0 + 7, 1.0)],
            )],
        ),
        (
            "extreme times",
            vec![Series::new(
                "a",
                vec![(i64::MIN, 1.0), (0, 2.0), (i64::MAX, 3.0)],
            )],
        ),
        (
            "before the epoch",
            vec![Series::new(
                "a",
                vec![(-86_400 * 365 * 100, 4.0), (-86_400 * 365 * 100 + 300, 1.0)],
            )],
        ),
        ("100k scattered points", vec![Series::new("a", scattered)]),
        ("100k dense points", vec![Series::new("a", dense)]),
        (
            "hostile names",
            vec![
                Series::new(
                    "<script>alert(1)</script>&\"'\u{0}\u{1b}[31m",
                    vec![(T0, 1.0)],
                ),
                Series::new("", vec![(T0, 1.0)]),
                Series::new("x".repeat(10_000), vec![(T0, 1.0)]),
                Series::new("観測 ☃ \u{202e}rtl", vec![(T0, 1.0)]),
            ],
        ),
        (
            "other twice",
            vec![
                Series::new("other", vec![(T0, 1.0)]),
                Series::new("other", vec![(T0, 2.0)]),
            ],
        ),
        (
            "many series",
            (0..300)
                .map(|i| Series::new(format!("s{i}"), vec![(T0 + i * 300, i as f64)]))
                .collect(),
        ),
    ]
}

#[test]
fn odd_inputs_render_as_observation_charts() {
    for (what, series) in odd_inputs() {
        // Both panels, packets only, sources only. Rasterising is the slow part in a debug
        // build and the same for every layout, so only the first is also made a PNG.
        for (i, (packets, sources)) in [
            (series.clone(), series.clone()),
            (series.clone(), vec![]),
            (vec![], series.clone()),
        ]
        .into_iter()
        .enumerate()
        {
            let chart = ObservationChart {
                title: format!("odd: {what}"),
                subtitle: Some(what.into()),
                bin_seconds: 300,
                packets,
                sources,
            };
            let svg = svg_of_observation(&chart);
            assert_eq!(
                texts(&svg, "title"),
                std::slice::from_ref(&chart.title),
                "{what}"
            );
            if i == 0 {
                let png = render_observation(&chart, Format::Png)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(decode(&png).0, 1200, "{what}");
            }
        }
    }
}

#[test]
fn odd_inputs_render_as_heatmaps() {
    for (what, rows) in odd_inputs() {
        let map = Heatmap {
            title: format!("odd: {what}"),
            subtitle: None,
            bin_seconds: 300,
            rows,
        };
        let svg = svg_of_heatmap(&map);
        assert_eq!(
            texts(&svg, "title"),
            std::slice::from_ref(&map.title),
            "{what}"
        );
        let png = render_heatmap(&map, Format::Png).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(decode(&png).0, 1200, "{what}");
    }
}

#[test]
fn odd_bin_widths_render() {
    for bin in [1, 7, 86_400 * 365, i64::MAX] {
        let chart = ObservationChart {
            title: format!("bin {bin}"),
            bin_seconds: bin,
            packets: vec![Series::new("a", vec![(T0, 1.0), (T0 + 3600, 2.0)])],
            sources: vec![Series::new("s", vec![(T0, 1.0)])],
            ..Default::default()
        };
        both_formats_render(&chart);
        let map = Heatmap {
            title: "h".into(),
            subtitle: None,
            bin_seconds: bin,
            rows: chart.packets.clone(),
        };
        render_heatmap(&map, Format::Png).unwrap();
    }
}

#[test]
fn long_spans_say_which_bins_are_drawn() {
    // 70 days of 5-minute bins are drawn as 10-minute bins; the axes say so.
    let chart = ObservationChart {
        title: "long".into(),
        bin_seconds: 300,
        packets: vec![Series::new(
            "a",
            (0..70 * 288).map(|i| (T0 + i * 300, 1.0)).collect(),
        )],
        sources: vec![Series::new(
            "s",
            (0..70 * 288).map(|i| (T0 + i * 300, 1.0)).collect(),
        )],
        ..Default::default()
    };
    let svg = svg_of_observation(&chart);
    assert_eq!(
        texts(&svg, "y-title"),
        ["packets per 10 min", "distinct sources per 5 min"]
    );
    let x_title = texts(&svg, "x-title");
    assert!(
        x_title[0].ends_with("bins of 10 min (distinct sources: busiest 5 min in each)"),
        "{x_title:?}"
    );
}

/// Random charts: any number of series, times anywhere in `i64`, any `f64` values. Only the
/// SVG is made for most of them (rasterising in a debug build is slow); a few become PNGs.
#[test]
fn random_inputs_never_fail() {
    let mut rng = synthetic::Rng::new(42);
    let specials = [
        f64::NAN,
        f64::INFINITY,
        -1.0,
        0.0,
        5e-324,
        1e308,
        f64::MAX,
        0.5,
        3.0,
    ];
    for round in 0..100 {
        let mut series = || -> Vec<Series> {
            let n = (rng.next() * 12.0) as usize;
            (0..n)
                .map(|k| {
                    let len = (rng.next() * 40.0) as usize;
                    let wide = rng.next() < 0.2;
                    let points = (0..len)
                        .map(|_| {
                            let t = if wide {
                                ((rng.next() - 0.5) * 1.8e19) as i64
                            } else {
                                T0 + (rng.next() * 86_400.0 * 3.0) as i64
                            };
                            let v = if rng.next() < 0.2 {
                                specials
                                    [(rng.next() * specials.len() as f64) as usize % specials.len()]
                            } else {
                                rng.next() * 10f64.powf(rng.next() * 12.0)
                            };
                            (t, v)
                        })
                        .collect();
                    Series::new(format!("s{k}"), points)
                })
                .collect()
        };
        let bins = [1, 60, 300, 3600, 86_400, 1 << 40];
        let bin = bins[round % bins.len()];
        let chart = ObservationChart {
            title: format!("random {round}"),
            subtitle: None,
            bin_seconds: bin,
            packets: series(),
            sources: series(),
        };
        let map = Heatmap {
            title: format!("random {round}"),
            subtitle: None,
            bin_seconds: bin,
            rows: series(),
        };
        let svg = svg_of_observation(&chart);
        assert_eq!(texts(&svg, "title").len(), 1, "round {round}");
        let svg = svg_of_heatmap(&map);
        assert_eq!(texts(&svg, "title").len(), 1, "round {round}");
        if round % 50 == 0 {
            decode(&render_observation(&chart, Format::Png).unwrap());
            decode(&render_heatmap(&map, Format::Png).unwrap());
        }
    }
}
