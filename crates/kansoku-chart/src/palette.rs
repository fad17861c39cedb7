//! Colours. Series get the Tableau 10 qualitative palette (distinct hues of similar weight,
//! chosen with colour-vision deficiencies in mind); its grey is kept for the merged "other"
//! series so that it never looks like a signature. The heatmap uses viridis, a perceptually
//! uniform scale that stays readable in greyscale, reversed so that quiet cells are pale and
//! busy ones dark.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for SVG attributes.
    pub(crate) fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The named series colours, in order (Tableau 10 without its grey).
pub(crate) const SERIES: [Rgb; 9] = [
    Rgb(0x4e, 0x79, 0xa7), // blue
    Rgb(0xf2, 0x8e, 0x2b), // orange
    Rgb(0xe1, 0x57, 0x59), // red
    Rgb(0x76, 0xb7, 0xb2), // teal
    Rgb(0x59, 0xa1, 0x4f), // green
    Rgb(0xed, 0xc9, 0x48), // yellow
    Rgb(0xb0, 0x7a, 0xa1), // purple
    Rgb(0xff, 0x9d, 0xa7), // pink
    Rgb(0x9c, 0x75, 0x5f), // brown
];

/// The merged remainder ("other").
pub(crate) const OTHER: Rgb = Rgb(0xba, 0xb0, 0xac);

/// A line that belongs to no packet series (for example all distinct sources together).
pub(crate) const NEUTRAL_LINE: Rgb = Rgb(0x33, 0x33, 0x33);

/// Axes, tick labels and text.
pub(crate) const INK: &str = "#333333";
/// Secondary text (subtitle, legend totals).
pub(crate) const MUTED: &str = "#6b6b6b";
/// Grid lines.
pub(crate) const GRID: &str = "#e6e6e6";
/// Grid lines on calendar boundaries (midnight).
pub(crate) const GRID_MAJOR: &str = "#c8c8c8";
/// Heatmap cells with no packets.
pub(crate) const EMPTY_CELL: Rgb = Rgb(0xf4, 0xf4, 0xf4);

/// Viridis sampled at nine evenly spaced points (from matplotlib's table).
const VIRIDIS: [Rgb; 9] = [
    Rgb(0x44, 0x01, 0x54),
    Rgb(0x47, 0x2c, 0x7a),
    Rgb(0x3b, 0x51, 0x8b),
    Rgb(0x2c, 0x71, 0x8e),
    Rgb(0x21, 0x90, 0x8d),
    Rgb(0x27, 0xad, 0x81),
    Rgb(0x5c, 0xc8, 0x63),
    Rgb(0xaa, 0xdc, 0x32),
    Rgb(0xfd, 0xe7, 0x25),
];

/// The heat colour of `t` in [0, 1] (0 = quietest non-empty cell, 1 = busiest): reversed
/// viridis, pale yellow to deep purple. Out-of-range and NaN inputs are clamped.
pub(crate) fn heat(t: f64) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = (1.0 - t) * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * f).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_ends_and_clamps() {
        assert_eq!(heat(0.0), VIRIDIS[8]);
        assert_eq!(heat(1.0), VIRIDIS[0]);
        assert_eq!(heat(-3.0), heat(0.0));
        assert_eq!(heat(f64::NAN), heat(0.0));
        assert_eq!(heat(7.0), heat(1.0));
        assert_eq!(Rgb(1, 2, 255).hex(), "#0102ff");
    }

    #[test]
    fn series_colours_are_distinct_from_other() {
        assert!(!SERIES.contains(&OTHER));
        let mut seen = SERIES.to_vec();
        seen.dedup();
        assert_eq!(seen.len(), SERIES.len());
    }
}
