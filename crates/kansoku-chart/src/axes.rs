//! The pieces both charts share: the header, the UTC time axis mapped onto a plot area, and a
//! linear value axis with its grid.

use crate::font;
use crate::palette::{GRID, GRID_MAJOR, INK, MUTED};
use crate::svg::{Anchor, Svg, TextStyle};
use crate::time_axis::{self, Tick};
use crate::value_axis::{self, Scale};

/// Outer margin of every chart.
pub(crate) const PAD: f64 = 20.0;
/// Size of tick labels.
pub(crate) const TICK_SIZE: f64 = 11.0;
/// Size of axis titles and legend entries.
pub(crate) const LABEL_SIZE: f64 = 12.0;
/// Room under a plot for two lines of time labels and the axis title.
pub(crate) const TIME_AXIS_HEIGHT: f64 = 64.0;

fn has_subtitle(subtitle: Option<&str>) -> bool {
    subtitle.is_some_and(|s| !s.trim().is_empty())
}

/// The y where the plot may start under the header.
pub(crate) fn header_height(subtitle: Option<&str>) -> f64 {
    PAD + 42.0 + if has_subtitle(subtitle) { 22.0 } else { 0.0 }
}

/// Title and optional subtitle; returns the y where the plot may start
/// ([`header_height`]).
pub(crate) fn header(svg: &mut Svg, width: f64, title: &str, subtitle: Option<&str>) -> f64 {
    let title_size = 20.0;
    let max_w = width - 2.0 * PAD;
    let title = font::truncate(title, title_size, max_w);
    svg.raw("<title>");
    let mut escaped = String::new();
    crate::svg::escape_into(&mut escaped, &title);
    svg.raw(&escaped);
    svg.raw("</title>");
    let style = TextStyle {
        class: Some("title"),
        ..TextStyle::plain(title_size)
    };
    svg.text(PAD, PAD + 16.0, style, &title);
    let mut y = PAD + 28.0;
    if let Some(sub) = subtitle.filter(|s| !s.trim().is_empty()) {
        let sub = font::truncate(sub, 13.0, max_w);
        let style = TextStyle {
            fill: MUTED,
            class: Some("subtitle"),
            ..TextStyle::plain(13.0)
        };
        svg.text(PAD, y + 12.0, style, &sub);
        y += 22.0;
    }
    y + 14.0
}

/// Maps UTC seconds onto the x pixels of a plot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeScale {
    pub t0: i64,
    pub t1: i64,
    pub x0: f64,
    pub x1: f64,
}

impl TimeScale {
    pub(crate) fn x(&self, t: i64) -> f64 {
        let span = (i128::from(self.t1) - i128::from(self.t0)).max(1) as f64;
        let off = (i128::from(t) - i128::from(self.t0)) as f64;
        self.x0 + off / span * (self.x1 - self.x0)
    }

    /// The ticks for this axis: about one per 110 pixels, so two-line labels never touch.
    pub(crate) fn ticks(&self) -> Vec<Tick> {
        let max = ((self.x1 - self.x0) / 110.0).floor().max(2.0) as usize;
        time_axis::ticks(self.t0, self.t1, max)
    }
}

/// Vertical grid lines at the time ticks across `[y0, y1]`, stronger on calendar boundaries.
pub(crate) fn time_grid(svg: &mut Svg, scale: &TimeScale, ticks: &[Tick], y0: f64, y1: f64) {
    for tick in ticks {
        let x = crisp(scale.x(tick.t));
        svg.line(
            x,
            y0,
            x,
            y1,
            if tick.major { GRID_MAJOR } else { GRID },
            1.0,
        );
    }
}

/// Tick marks and labels under a plot whose bottom edge is `y`, and the axis title under them.
pub(crate) fn time_labels(svg: &mut Svg, scale: &TimeScale, ticks: &[Tick], y: f64, title: &str) {
    let main = TextStyle {
        anchor: Anchor::Middle,
        class: Some("x-tick"),
        ..TextStyle::plain(TICK_SIZE)
    };
    let context = TextStyle {
        fill: MUTED,
        class: Some("x-context"),
        ..main
    };
    for tick in ticks {
        let x = crisp(scale.x(tick.t));
        svg.line(x, y, x, y + 4.0, INK, 1.0);
        svg.text(x, y + 16.0, main, &tick.label);
        if let Some(c) = &tick.context {
            svg.text(x, y + 30.0, context, c);
        }
    }
    let style = TextStyle {
        anchor: Anchor::Middle,
        class: Some("x-title"),
        ..TextStyle::plain(LABEL_SIZE)
    };
    svg.text((scale.x0 + scale.x1) / 2.0, y + 52.0, style, title);
}

/// "2003-08-11 00:00 – 2003-08-14 00:00 UTC, bins of 5 min" for the x axis title.
pub(crate) fn time_title(t0: i64, t1: i64, bin_words: &str) -> String {
    format!(
        "{} – {} UTC, bins of {}",
        time_axis::format_time(t0),
        time_axis::format_time(t1),
        bin_words
    )
}

/// A vertical value axis on the plot `[x0, x1] × [y0, y1]`: horizontal grid lines, SI tick
/// labels on the left and the rotated title left of them.
#[derive(Debug, Clone)]
pub(crate) struct ValueAxis {
    pub scale: Scale,
    pub y0: f64,
    pub y1: f64,
}

impl ValueAxis {
    pub(crate) fn new(max: f64, y0: f64, y1: f64) -> ValueAxis {
        let target = ((y1 - y0) / 45.0).round().clamp(2.0, 6.0) as usize;
        ValueAxis {
            scale: value_axis::scale(max, target),
            y0,
            y1,
        }
    }

    pub(crate) fn y(&self, v: f64) -> f64 {
        let f = if self.scale.max > 0.0 {
            (v / self.scale.max).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.y1 - f * (self.y1 - self.y0)
    }

    /// Width of the widest tick label.
    pub(crate) fn label_width(&self) -> f64 {
        self.scale
            .ticks
            .iter()
            .map(|&t| font::text_width(&value_axis::si(t), TICK_SIZE))
            .fold(0.0, f64::max)
    }

    pub(crate) fn draw_grid(&self, svg: &mut Svg, x0: f64, x1: f64) {
        for &t in &self.scale.ticks {
            let y = crisp(self.y(t));
            svg.line(x0, y, x1, y, GRID, 1.0);
        }
    }

    /// Tick labels right-aligned at `x0 - 6` and the title centred on the axis at `title_x`.
    pub(crate) fn draw_labels(&self, svg: &mut Svg, x0: f64, title_x: f64, title: &str) {
        let style = TextStyle {
            anchor: Anchor::End,
            class: Some("y-tick"),
            ..TextStyle::plain(TICK_SIZE)
        };
        for &t in &self.scale.ticks {
            svg.text(x0 - 6.0, self.y(t) + 4.0, style, &value_axis::si(t));
        }
        let title = font::truncate(title, LABEL_SIZE, self.y1 - self.y0);
        let style = TextStyle {
            anchor: Anchor::Middle,
            class: Some("y-title"),
            ..TextStyle::plain(LABEL_SIZE)
        };
        svg.text_vertical(title_x, (self.y0 + self.y1) / 2.0, style, &title);
    }
}

/// A 1 px line drawn on a pixel centre, so it is sharp rather than two grey pixels.
pub(crate) fn crisp(v: f64) -> f64 {
    v.floor() + 0.5
}

/// The plot frame: the left axis and the baseline.
pub(crate) fn frame(svg: &mut Svg, x0: f64, x1: f64, y0: f64, y1: f64) {
    let (l, b) = (crisp(x0), crisp(y1));
    svg.line(l, y0, l, b, INK, 1.0);
    svg.line(l, b, x1, b, INK, 1.0);
}

/// A large grey "no data" in the middle of a plot.
pub(crate) fn no_data(svg: &mut Svg, x0: f64, x1: f64, y0: f64, y1: f64) {
    let style = TextStyle {
        anchor: Anchor::Middle,
        fill: MUTED,
        class: Some("no-data"),
        ..TextStyle::plain(18.0)
    };
    svg.text((x0 + x1) / 2.0, (y0 + y1) / 2.0, style, "no data");
}
