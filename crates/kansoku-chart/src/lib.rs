//! Charts of what a darknet saw, rendered to SVG or PNG with no system fonts and no other
//! kansoku crate: the caller (the `kansoku chart` command, the dashboard) queries the store
//! and hands over plain time series.
//!
//! Two charts:
//! - [`ObservationChart`], the packet observation chart of an advisory: packets per bin
//!   stacked by signature (top panel) and distinct sources per bin (bottom panel, lines), on
//!   one UTC time axis;
//! - [`Heatmap`], ports (rows) over time (columns), packets per bin on a log colour scale.
//!
//! Both are drawn once as SVG; PNG is that SVG rasterised by resvg with an embedded copy of
//! DejaVu Sans, so the two formats show the same picture and a server without fonts renders
//! it too.
//!
//! What the input may be, and what is drawn:
//! - Points are sparse: every bin between the first and the last point of the chart is drawn,
//!   and a bin with no point is zero (an outage is a gap to zero, never a line across it).
//!   Points may be unsorted, repeated (added up) and unaligned (a time counts for the bin it
//!   falls in).
//! - A value that is NaN, infinite or negative is drawn as zero; huge values are clamped so
//!   that stacks stay finite. No input makes rendering panic.
//! - More than [`MAX_SERIES`] series in a panel: the `MAX_SERIES - 1` largest (by total) keep
//!   their colour and place in the legend, the rest are added into one grey series named
//!   "other" (a series the caller named "other" joins it).
//! - A span of more than 20,000 bins is drawn with wider, round display bins (sums of
//!   packets, the peak bin of distinct sources); the axis titles say so.
//! - **No data** (no series, or no point in any series) is not an error: the chart is drawn
//!   with its title and a "no data" notice, so a scheduled job always leaves a picture. A
//!   caller that prefers to fail checks [`ObservationChart::is_empty`] or
//!   [`Heatmap::is_empty`] first.
//!
//! ```
//! use kansoku_chart::{render_observation, Format, ObservationChart, Series};
//! let t0 = 1_060_560_000; // 2003-08-11 00:00 UTC
//! let chart = ObservationChart {
//!     title: "TCP 135".into(),
//!     subtitle: None,
//!     bin_seconds: 300,
//!     packets: vec![Series::new("blaster", (0..288).map(|i| (t0 + i * 300, i as f64)).collect())],
//!     sources: vec![Series::new("sources", (0..288).map(|i| (t0 + i * 300, 3.0)).collect())],
//! };
//! let svg = render_observation(&chart, Format::Svg).unwrap();
//! assert!(svg.starts_with(b"<svg"));
//! ```

mod axes;
mod bins;
mod font;
mod heatmap;
mod observation;
mod palette;
mod raster;
mod svg;
mod time_axis;
mod value_axis;

use std::path::{Path, PathBuf};

/// The most series a panel shows on their own; beyond this the smallest are merged into
/// "other" (which takes the last of these places).
pub const MAX_SERIES: usize = 8;

/// The most rows a heatmap shows on their own; beyond this the quietest are merged into
/// "other".
pub const MAX_HEATMAP_ROWS: usize = 40;

/// One time series: a value per bin, keyed by the bin's start in seconds since the Unix epoch
/// (UTC).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Shown in the legend (or as the row label of a heatmap).
    pub name: String,
    /// `(bin start, value)`, in any order; missing bins are zero.
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// A series named `name` with `(bin start, value)` points.
    pub fn new(name: impl Into<String>, points: Vec<(i64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }

    fn has_points(&self) -> bool {
        !self.points.is_empty()
    }
}

/// The packet observation chart of an advisory: packets per bin stacked by signature (top
/// panel, stacked areas) and distinct sources per bin (bottom panel, lines) on a shared UTC
/// time axis. A panel whose series list is empty is left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservationChart {
    pub title: String,
    /// A second line under the title, for example the sensor and the time range queried.
    pub subtitle: Option<String>,
    /// Width of a bin in seconds (the store's bin or a coarser query bin); must be positive.
    pub bin_seconds: i64,
    /// Packets per bin, one series per signature, stacked in this order from the bottom up
    /// and listed in this order in the legend.
    pub packets: Vec<Series>,
    /// Distinct sources per bin, one line each (a total, or one per signature: a line named
    /// like a packet series takes its colour).
    pub sources: Vec<Series>,
}

impl ObservationChart {
    /// Whether there is no point to draw (the chart would say "no data").
    pub fn is_empty(&self) -> bool {
        !self
            .packets
            .iter()
            .chain(&self.sources)
            .any(Series::has_points)
    }
}

/// A heatmap of ports (rows, in the given order from the top) over time (columns): packets
/// per bin on a logarithmic colour scale, with a colour legend. Bins are widened to at most
/// one per pixel column (the colour legend names the width).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heatmap {
    pub title: String,
    pub subtitle: Option<String>,
    /// Width of a bin in seconds; must be positive.
    pub bin_seconds: i64,
    /// One row per port (named like `tcp/135`), packets per bin.
    pub rows: Vec<Series>,
}

impl Heatmap {
    /// Whether there is no point to draw (the heatmap would say "no data").
    pub fn is_empty(&self) -> bool {
        !self.rows.iter().any(Series::has_points)
    }
}

/// The file format of a rendered chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Scalable vector graphics: small, sharp at any zoom, text selectable.
    Svg,
    /// A raster image for places that take no SVG (mail, chat, some wikis).
    Png,
}

impl Format {
    /// The format named by a file's extension (`.svg` or `.png`, any case).
    pub fn from_path(path: &Path) -> Result<Format, ChartError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(ChartError::UnknownFormat(path.to_path_buf())),
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Why a chart could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(
        "cannot tell the chart format of `{}`: name the output file with .svg or .png",
        .0.display()
    )]
    UnknownFormat(PathBuf),
    #[error("the bin width must be a positive number of seconds, not {0}")]
    InvalidBin(i64),
    /// A failure inside the renderer; not expected with any input (a bug to report).
    #[error("rendering the chart failed: {0}")]
    Render(String),
}

/// Render the observation chart as SVG text or PNG bytes.
pub fn render_observation(chart: &ObservationChart, format: Format) -> Result<Vec<u8>, ChartError> {
    encode(observation::svg(chart)?, format)
}

/// Render the port heatmap as SVG text or PNG bytes.
pub fn render_heatmap(map: &Heatmap, format: Format) -> Result<Vec<u8>, ChartError> {
    encode(heatmap::svg(map)?, format)
}

fn encode(svg: String, format: Format) -> Result<Vec<u8>, ChartError> {
    match format {
        Format::Svg => Ok(svg.into_bytes()),
        Format::Png => raster::to_png(&svg, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_paths() {
        assert_eq!(
            Format::from_path(Path::new("a/b.svg")).unwrap(),
            Format::Svg
        );
        assert_eq!(Format::from_path(Path::new("C.PNG")).unwrap(), Format::Png);
        for bad in ["chart", "chart.jpg", "svg", ".png.txt"] {
            let err = Format::from_path(Path::new(bad)).unwrap_err();
            assert!(err.to_string().contains(".svg or .png"), "{err}");
        }
        assert_eq!(Format::Png.extension(), "png");
    }
}
