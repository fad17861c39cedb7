//! The packet observation chart: packets per bin stacked by signature above, distinct sources
//! per bin as lines below, one shared UTC time axis, a legend right of each panel.
//!
//! Bins are drawn as steps (flat across the bin's width) rather than as lines between bin
//! starts: each bin is a count over its interval, and a step shows an empty bin as a flat
//! zero where a line would suggest a ramp. Only when bins are narrower than a few pixels,
//! where steps and a line look alike, is the cheaper line through bin centres drawn.

use crate::axes::{self, LABEL_SIZE, PAD, TICK_SIZE, TIME_AXIS_HEIGHT, TimeScale, ValueAxis};
use crate::bins::{self, Grid, Layer, MAX_BINS, Merge};
use crate::palette::{self, MUTED, Rgb};
use crate::svg::{Anchor, PathData, Svg, TextStyle};
use crate::time_axis::format_duration;
use crate::value_axis::si;
use crate::{ChartError, MAX_SERIES, ObservationChart, Series, font};

pub(crate) const WIDTH: f64 = 1200.0;
pub(crate) const HEIGHT: f64 = 720.0;
/// Share of the panels' height given to packets when both panels are drawn.
const PACKETS_SHARE: f64 = 0.6;
const PANEL_GAP: f64 = 26.0;
const LEGEND_ROW: f64 = 18.0;
const LEGEND_NAME_MAX: f64 = 170.0;

/// A series with its colour, ready to draw.
struct Drawn {
    layer: Layer,
    colour: Rgb,
}

/// Which panel: the stacked packets or the source lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Packets,
    Sources,
}

pub(crate) fn svg(chart: &ObservationChart) -> Result<String, ChartError> {
    if chart.bin_seconds <= 0 {
        return Err(ChartError::InvalidBin(chart.bin_seconds));
    }
    let mut svg = Svg::new(WIDTH, HEIGHT);
    let top = axes::header(&mut svg, WIDTH, &chart.title, chart.subtitle.as_deref());
    let bin_words = format_duration(chart.bin_seconds);
    let grid = Grid::covering(
        chart.packets.iter().chain(&chart.sources),
        chart.bin_seconds,
        MAX_BINS,
    );
    let Some(grid) = grid else {
        draw_no_data(&mut svg, top, &bin_words);
        return Ok(svg.finish());
    };

    let packets = colour_packets(layers(&chart.packets, &grid, Merge::Sum));
    let sources = colour_sources(layers(&chart.sources, &grid, Merge::Max), &packets);
    let width_words = format_duration(grid.width());
    let packets_title = format!("packets per {width_words}");
    let sources_title = format!("distinct sources per {bin_words}");
    // Merged bins hold summed packets but the busiest input bin's sources (sources cannot
    // be added across bins); the x axis title says so.
    let bins_note = if grid.merged() && !chart.sources.is_empty() {
        format!("{width_words} (distinct sources: busiest {bin_words} in each)")
    } else {
        width_words.clone()
    };

    // Panels: both, or whichever has series (with no series at all, the packets panel).
    let mut panels: Vec<(Kind, &[Drawn], String)> = Vec::new();
    if !packets.is_empty() || sources.is_empty() {
        panels.push((Kind::Packets, &packets, packets_title));
    }
    if !sources.is_empty() {
        panels.push((Kind::Sources, &sources, sources_title));
    }

    // Horizontal layout: y labels | plot | legend.
    let legend_w = panels
        .iter()
        .map(|(k, d, _)| legend_width(*k, d))
        .fold(0.0, f64::max);
    let x1 = WIDTH - PAD - legend_w - 16.0;
    let bottom = HEIGHT - PAD - TIME_AXIS_HEIGHT;
    let available = bottom - top - PANEL_GAP * (panels.len() as f64 - 1.0);
    let mut spans = Vec::new();
    let mut y = top;
    for (i, (kind, drawn, _)) in panels.iter().enumerate() {
        let h = match panels.len() {
            1 => available,
            _ if i == 0 => available * PACKETS_SHARE,
            _ => available * (1.0 - PACKETS_SHARE),
        };
        let max = panel_max(*kind, drawn);
        spans.push(ValueAxis::new(max, y, y + h));
        y += h + PANEL_GAP;
    }
    let label_w = spans.iter().map(ValueAxis::label_width).fold(0.0, f64::max);
    let title_x = PAD + LABEL_SIZE;
    let x0 = (title_x + 10.0 + label_w + 8.0).round();
    let scale = TimeScale {
        t0: grid.time(0),
        t1: grid.time(grid.len),
        x0,
        x1,
    };
    let ticks = scale.ticks();

    for ((kind, drawn, title), axis) in panels.iter().zip(&spans) {
        axis.draw_grid(&mut svg, x0, x1);
        axes::time_grid(&mut svg, &scale, &ticks, axis.y0, axis.y1);
        match kind {
            Kind::Packets => draw_stack(&mut svg, drawn, &scale, &grid, axis),
            Kind::Sources => draw_lines(&mut svg, drawn, &scale, &grid, axis),
        }
        axes::frame(&mut svg, x0, x1, axis.y0, axis.y1);
        axis.draw_labels(&mut svg, x0, title_x, title);
        draw_legend(
            &mut svg,
            *kind,
            drawn,
            WIDTH - PAD - legend_w,
            axis.y0,
            axis.y1 - axis.y0,
        );
    }
    let last = spans.last().map_or(bottom, |a| a.y1);
    let title = axes::time_title(scale.t0, scale.t1, &bins_note);
    axes::time_labels(&mut svg, &scale, &ticks, last, &title);
    Ok(svg.finish())
}

fn layers(series: &[Series], grid: &Grid, merge: Merge) -> Vec<Layer> {
    let layers = series
        .iter()
        .map(|s| Layer {
            name: if s.name.trim().is_empty() {
                "(unnamed)".into()
            } else {
                s.name.clone()
            },
            values: grid.dense(s, merge),
            other: s.name == bins::OTHER,
        })
        .collect();
    bins::limit(layers, MAX_SERIES)
}

fn colour_packets(layers: Vec<Layer>) -> Vec<Drawn> {
    let mut next = 0;
    layers
        .into_iter()
        .map(|layer| {
            let colour = if layer.other {
                palette::OTHER
            } else {
                next += 1;
                palette::SERIES[(next - 1) % palette::SERIES.len()]
            };
            Drawn { layer, colour }
        })
        .collect()
}

/// A source line named like a packet series takes its colour, so one signature reads the same
/// in both panels; the first line of its own (typically all sources together) is dark grey;
/// further ones take the colours the packets left unused.
fn colour_sources(layers: Vec<Layer>, packets: &[Drawn]) -> Vec<Drawn> {
    let mut neutral_free = true;
    let mut free = palette::SERIES
        .iter()
        .filter(|c| !packets.iter().any(|p| p.colour == **c))
        .cycle();
    layers
        .into_iter()
        .map(|layer| {
            let colour = if let Some(p) = packets.iter().find(|p| p.layer.name == layer.name) {
                p.colour
            } else if layer.other {
                palette::OTHER
            } else if std::mem::take(&mut neutral_free) {
                palette::NEUTRAL_LINE
            } else {
                free.next().copied().unwrap_or(palette::NEUTRAL_LINE)
            };
            Drawn { layer, colour }
        })
        .collect()
}

fn panel_max(kind: Kind, drawn: &[Drawn]) -> f64 {
    let len = drawn.first().map_or(0, |d| d.layer.values.len());
    match kind {
        Kind::Packets => (0..len)
            .map(|i| drawn.iter().map(|d| d.layer.values[i]).sum::<f64>())
            .fold(0.0, f64::max),
        Kind::Sources => drawn
            .iter()
            .flat_map(|d| d.layer.values.iter().copied())
            .fold(0.0, f64::max),
    }
}

/// Stacked step areas, the first series at the bottom. Each layer is filled from the
/// baseline up to its cumulative top and drawn from the top layer down, so the later, lower
/// layers cover the part of it that belongs to them.
fn draw_stack(svg: &mut Svg, drawn: &[Drawn], scale: &TimeScale, grid: &Grid, axis: &ValueAxis) {
    let len = grid.len;
    let mut cumulative: Vec<Vec<f64>> = Vec::with_capacity(drawn.len());
    let mut acc = vec![0.0; len];
    for d in drawn {
        for (a, v) in acc.iter_mut().zip(&d.layer.values) {
            *a += v;
        }
        cumulative.push(acc.clone());
    }
    let xs: Vec<f64> = (0..=len).map(|i| scale.x(grid.time(i))).collect();
    let base = axis.y1;
    svg.open_group(r#"class="packets""#);
    for (d, tops) in drawn.iter().zip(&cumulative).rev() {
        let mut p = PathData::with_capacity(len * 12);
        p.move_to(xs[0], base);
        top_edge(&mut p, &xs, tops, axis, true);
        p.vertical_to(base);
        p.close();
        let name_attr = attr_escape(&d.layer.name);
        svg.path(
            p.as_str(),
            &d.colour.hex(),
            "none",
            0.0,
            &format!(r#"data-series="{name_attr}""#),
        );
    }
    svg.close_group();
}

/// One step line per source series, drawn in legend order.
fn draw_lines(svg: &mut Svg, drawn: &[Drawn], scale: &TimeScale, grid: &Grid, axis: &ValueAxis) {
    let xs: Vec<f64> = (0..=grid.len).map(|i| scale.x(grid.time(i))).collect();
    // Dense lines are thinner, or a noisy month of bins becomes a solid band.
    let dense = (scale.x1 - scale.x0) / (grid.len as f64) < STEP_MIN_WIDTH;
    let width = if dense { 1.0 } else { 1.5 };
    svg.open_group(r#"class="sources" fill="none" stroke-linejoin="round""#);
    for d in drawn.iter().rev() {
        let mut p = PathData::with_capacity(grid.len * 12);
        top_edge(&mut p, &xs, &d.layer.values, axis, false);
        let name_attr = attr_escape(&d.layer.name);
        svg.path(
            p.as_str(),
            "none",
            &d.colour.hex(),
            width,
            &format!(r#"data-series="{name_attr}""#),
        );
    }
    svg.close_group();
}

/// Narrower bins than this (in pixels) are drawn as a line through the bin centres instead of
/// steps: at that density the two look the same, and the line has half the vertices (a
/// month of 5-minute bins rasterises about a fifth faster).
const STEP_MIN_WIDTH: f64 = 3.0;

/// The top edge of a series. Wide bins are steps: flat over each bin, vertical between bins
/// whose values differ (equal neighbours make one longer segment). Narrow bins are a line
/// through the bin centres (an empty bin still drops to zero). With `continued`, the edge
/// continues a path already started at `(xs[0], baseline)`; otherwise it starts one.
fn top_edge(p: &mut PathData, xs: &[f64], values: &[f64], axis: &ValueAxis, continued: bool) {
    let Some(&first) = values.first() else { return };
    let n = values.len();
    let y0 = axis.y(first);
    if continued {
        p.vertical_to(y0);
    } else {
        p.move_to(xs[0], y0);
    }
    let same = |a: f64, b: f64| (a - b).abs() < 0.05;
    if (xs[n] - xs[0]) / n as f64 >= STEP_MIN_WIDTH {
        let mut y = y0;
        for (i, &v) in values.iter().enumerate().skip(1) {
            let ny = axis.y(v);
            if !same(ny, y) {
                p.horizontal_to(xs[i]);
                p.vertical_to(ny);
                y = ny;
            }
        }
    } else {
        let ys: Vec<f64> = values.iter().map(|&v| axis.y(v)).collect();
        for i in 0..n {
            // A point between two equal neighbours lies on a flat stretch: skip it.
            let inner = i > 0 && i + 1 < n;
            if inner && same(ys[i - 1], ys[i]) && same(ys[i], ys[i + 1]) {
                continue;
            }
            p.line_to((xs[i] + xs[i + 1]) / 2.0, ys[i]);
        }
    }
    p.horizontal_to(xs[n]);
}

fn legend_heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Packets => "packets (total)",
        Kind::Sources => "distinct sources (peak)",
    }
}

fn legend_value(kind: Kind, layer: &Layer) -> String {
    match kind {
        Kind::Packets => si(layer.values.iter().sum::<f64>()),
        Kind::Sources => si(layer.values.iter().copied().fold(0.0, f64::max)),
    }
}

fn legend_width(kind: Kind, drawn: &[Drawn]) -> f64 {
    let rows = drawn.iter().map(|d| {
        let name = font::text_width(&d.layer.name, LABEL_SIZE).min(LEGEND_NAME_MAX);
        20.0 + name + 10.0 + font::text_width(&legend_value(kind, &d.layer), TICK_SIZE)
    });
    let heading = font::text_width(legend_heading(kind), LABEL_SIZE);
    rows.fold(heading, f64::max).clamp(130.0, 300.0)
}

fn draw_legend(svg: &mut Svg, kind: Kind, drawn: &[Drawn], x: f64, y: f64, h: f64) {
    let width = legend_width(kind, drawn);
    let row = LEGEND_ROW
        .min((h - 20.0) / drawn.len().max(1) as f64)
        .max(11.0);
    let heading = TextStyle {
        fill: MUTED,
        ..TextStyle::plain(LABEL_SIZE)
    };
    svg.text(x, y + 10.0, heading, legend_heading(kind));
    let name_style = TextStyle {
        class: Some("legend"),
        ..TextStyle::plain(LABEL_SIZE)
    };
    let value_style = TextStyle {
        anchor: Anchor::End,
        fill: MUTED,
        ..TextStyle::plain(TICK_SIZE)
    };
    for (i, d) in drawn.iter().enumerate() {
        let cy = y + 20.0 + row * (i as f64 + 0.5);
        match kind {
            Kind::Packets => svg.rect(x, cy - 6.0, 12.0, 12.0, &d.colour.hex()),
            Kind::Sources => svg.line(x, cy, x + 14.0, cy, &d.colour.hex(), 2.5),
        }
        let name = font::truncate(&d.layer.name, LABEL_SIZE, LEGEND_NAME_MAX);
        svg.text(x + 20.0, cy + 4.0, name_style, &name);
        svg.text(
            x + width,
            cy + 4.0,
            value_style,
            &legend_value(kind, &d.layer),
        );
    }
}

fn draw_no_data(svg: &mut Svg, top: f64, bin_words: &str) {
    let (x0, x1) = (PAD + LABEL_SIZE + 50.0, WIDTH - PAD);
    let y1 = HEIGHT - PAD - TIME_AXIS_HEIGHT;
    axes::frame(svg, x0, x1, top, y1);
    axes::no_data(svg, x0, x1, top, y1);
    let style = TextStyle {
        anchor: Anchor::Middle,
        class: Some("x-title"),
        ..TextStyle::plain(LABEL_SIZE)
    };
    svg.text(
        (x0 + x1) / 2.0,
        y1 + 52.0,
        style,
        &format!("time (UTC), bins of {bin_words}"),
    );
}

/// A value for an XML attribute.
fn attr_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::svg::escape_into(&mut out, s);
    out
}
