//! The port heatmap: one row per port, one column per bin, packets as colour on a logarithmic
//! scale (darkness ~ orders of magnitude; a worm's port is thousands of times busier than the
//! background, and a linear scale would show only it). Empty cells are light grey, never a
//! colour of the scale, so "nothing" and "a little" stay distinct.
//!
//! Bins are widened until there is at most one per pixel column (sums of packets), since
//! narrower cells cannot be seen; the colour legend names the width drawn.

use crate::axes::{self, LABEL_SIZE, PAD, TICK_SIZE, TIME_AXIS_HEIGHT, TimeScale};
use crate::bins::{self, Grid, Layer, Merge};
use crate::palette::{self, INK, MUTED};
use crate::svg::{Anchor, Svg, TextStyle};
use crate::time_axis::format_duration;
use crate::value_axis::si;
use crate::{ChartError, Heatmap, MAX_HEATMAP_ROWS, font};

pub(crate) const WIDTH: f64 = 1200.0;
const ROW_MIN: f64 = 12.0;
const ROW_MAX: f64 = 26.0;
/// The rows share about this much height before they shrink to `ROW_MIN`.
const ROWS_HEIGHT: f64 = 460.0;
const LABEL_MAX: f64 = 180.0;
const BAR_WIDTH: f64 = 16.0;
const BAR_LABELS: f64 = 44.0;
/// Colour levels of the scale (cells with the same level merge into one rectangle).
const LEVELS: usize = 256;

pub(crate) fn svg(map: &Heatmap) -> Result<String, ChartError> {
    if map.bin_seconds <= 0 {
        return Err(ChartError::InvalidBin(map.bin_seconds));
    }
    let x_right = WIDTH - PAD - BAR_LABELS - 6.0 - BAR_WIDTH;
    let n_rows = map.rows.len().clamp(1, MAX_HEATMAP_ROWS);
    let row_h = (ROWS_HEIGHT / n_rows as f64)
        .clamp(ROW_MIN, ROW_MAX)
        .floor();
    let plot_h = row_h * n_rows as f64;
    let bar_h = plot_h.clamp(120.0, 280.0);

    // Label column from the row names; estimate the totals column from the widest total.
    let label_w = map
        .rows
        .iter()
        .map(|r| font::text_width(&r.name, LABEL_SIZE).min(LABEL_MAX))
        .fold(font::text_width("other", LABEL_SIZE), f64::max);
    let x0 = (PAD + label_w + 10.0).round();
    let totals_w = font::text_width("999.9M", TICK_SIZE) + 10.0;
    let x1 = (x_right - 28.0 - totals_w).round();

    let grid = Grid::covering(&map.rows, map.bin_seconds, (x1 - x0).max(1.0) as usize);
    let top = axes::header_height(map.subtitle.as_deref());
    // The colour bar and its "0" swatch (28 px) may reach below short heatmaps.
    let height = (top + (plot_h + TIME_AXIS_HEIGHT).max(bar_h + 28.0) + PAD).round();
    let mut svg = Svg::new(WIDTH, height);
    axes::header(&mut svg, WIDTH, &map.title, map.subtitle.as_deref());
    let bin_words = format_duration(map.bin_seconds);

    let Some(grid) = grid else {
        let y1 = height - PAD - TIME_AXIS_HEIGHT;
        axes::frame(&mut svg, x0, x1, top, y1);
        axes::no_data(&mut svg, x0, x1, top, y1);
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
        return Ok(svg.finish());
    };

    let layers: Vec<Layer> = map
        .rows
        .iter()
        .map(|s| Layer {
            name: if s.name.trim().is_empty() {
                "(unnamed)".into()
            } else {
                s.name.clone()
            },
            values: grid.dense(s, Merge::Sum),
            other: s.name == bins::OTHER,
        })
        .collect();
    let rows = bins::limit(layers, MAX_HEATMAP_ROWS);
    let colours = LogColours::new(&rows);
    let scale = TimeScale {
        t0: grid.time(0),
        t1: grid.time(grid.len),
        x0,
        x1,
    };
    // Cell edges on whole pixels: with crisp edges, columns then tile the row exactly.
    let xs: Vec<f64> = (0..=grid.len)
        .map(|i| scale.x(grid.time(i)).round())
        .collect();
    let y1 = top + row_h * rows.len() as f64;

    svg.rect(x0, top, x1 - x0, y1 - top, &palette::EMPTY_CELL.hex());
    svg.open_group(r#"class="cells" shape-rendering="crispEdges""#);
    for (r, row) in rows.iter().enumerate() {
        let y = top + row_h * r as f64;
        draw_row(&mut svg, &row.values, &xs, y, row_h - 1.0, &colours);
    }
    svg.close_group();

    // Labels shrink with the rows, down to 9 px, so neighbours never overlap.
    let label_size = (row_h - 1.0).clamp(9.0, LABEL_SIZE);
    let label = TextStyle {
        anchor: Anchor::End,
        class: Some("legend"),
        ..TextStyle::plain(label_size)
    };
    let total = TextStyle {
        fill: MUTED,
        ..TextStyle::plain(label_size.min(TICK_SIZE))
    };
    let text_dy = (row_h - 1.0) / 2.0 + label_size / 3.0;
    for (r, row) in rows.iter().enumerate() {
        let y = top + row_h * r as f64 + text_dy;
        let name = font::truncate(&row.name, label_size, LABEL_MAX);
        svg.text(x0 - 8.0, y, label, &name);
        svg.text(x1 + 8.0, y, total, &si(row.values.iter().sum()));
    }
    let heading = TextStyle {
        fill: MUTED,
        ..TextStyle::plain(TICK_SIZE)
    };
    svg.text(x1 + 8.0, top - 6.0, heading, "total");

    let ticks = scale.ticks();
    let title = axes::time_title(scale.t0, scale.t1, &format_duration(grid.width()));
    axes::time_labels(&mut svg, &scale, &ticks, y1, &title);
    svg.line(x0, axes::crisp(y1), x1, axes::crisp(y1), INK, 1.0);

    let unit = format!("packets per {}", format_duration(grid.width()));
    draw_colour_bar(&mut svg, &colours, x_right, top, bar_h, &unit);
    Ok(svg.finish())
}

/// The log colour scale of one heatmap: from the quietest non-empty cell (or 1 packet, if
/// that is lower) to the busiest.
struct LogColours {
    lo: f64,
    hi: f64,
    hex: Vec<String>,
}

impl LogColours {
    fn new(rows: &[Layer]) -> LogColours {
        let positive = rows
            .iter()
            .flat_map(|r| r.values.iter().copied())
            .filter(|&v| v > 0.0);
        let (min, max) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let lo = if min.is_finite() { min.min(1.0) } else { 1.0 };
        let hi = if max > lo { max } else { lo * 10.0 };
        let hex = (0..LEVELS)
            .map(|q| palette::heat(q as f64 / (LEVELS - 1) as f64).hex())
            .collect();
        LogColours { lo, hi, hex }
    }

    /// Position of `v` on the scale, 0 (lo) to 1 (hi).
    fn fraction(&self, v: f64) -> f64 {
        ((v / self.lo).ln() / (self.hi / self.lo).ln()).clamp(0.0, 1.0)
    }

    /// The colour level of a cell, or `None` for an empty cell.
    fn level(&self, v: f64) -> Option<usize> {
        (v > 0.0).then(|| (self.fraction(v) * (LEVELS - 1) as f64).round() as usize)
    }
}

/// One row of cells; neighbouring cells of the same colour become one rectangle.
fn draw_row(svg: &mut Svg, values: &[f64], xs: &[f64], y: f64, h: f64, colours: &LogColours) {
    let mut i = 0;
    while i < values.len() {
        let Some(level) = colours.level(values[i]) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < values.len() && colours.level(values[j]) == Some(level) {
            j += 1;
        }
        svg.rect(xs[i], y, xs[j] - xs[i], h, &colours.hex[level]);
        i = j;
    }
}

/// The colour legend: a vertical bar from the busiest (top) to the quietest level, labelled
/// at powers of ten, with the empty-cell swatch ("0") under it and the unit above.
fn draw_colour_bar(svg: &mut Svg, colours: &LogColours, x: f64, top: f64, h: f64, unit: &str) {
    let title = TextStyle {
        anchor: Anchor::End,
        class: Some("colour-unit"),
        ..TextStyle::plain(TICK_SIZE)
    };
    svg.text(WIDTH - PAD, top - 6.0, title, unit);
    let slices = 64;
    let slice_h = h / slices as f64;
    svg.open_group(r#"shape-rendering="crispEdges""#);
    for k in 0..slices {
        let t = 1.0 - (k as f64 + 0.5) / slices as f64;
        let y = top + k as f64 * slice_h;
        svg.rect(
            x,
            y.floor(),
            BAR_WIDTH,
            slice_h.ceil() + 1.0,
            &palette::heat(t).hex(),
        );
    }
    svg.close_group();
    let label = TextStyle::plain(TICK_SIZE);
    let (lo_exp, hi_exp) = (
        colours.lo.log10().ceil() as i32,
        colours.hi.log10().floor() as i32,
    );
    let decades = (hi_exp - lo_exp).max(0) + 1;
    let every = ((decades + 5) / 6).max(1);
    let mut e = lo_exp;
    while e <= hi_exp {
        let v = 10f64.powi(e);
        let y = top + (1.0 - colours.fraction(v)) * h;
        svg.line(x + BAR_WIDTH, y, x + BAR_WIDTH + 4.0, y, INK, 1.0);
        svg.text(x + BAR_WIDTH + 6.0, y + 4.0, label, &si(v));
        e += every;
    }
    let zero_y = top + h + 12.0;
    svg.rect(x, zero_y, BAR_WIDTH, 12.0, &palette::EMPTY_CELL.hex());
    svg.text(x + BAR_WIDTH + 6.0, zero_y + 10.0, label, "0");
}
