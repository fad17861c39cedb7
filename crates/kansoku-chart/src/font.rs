//! The one typeface of every chart, embedded in the binary.
//!
//! A server that renders charts may have no fonts installed at all, so the PNG rasteriser is
//! given only this face (DejaVu Sans, the default of matplotlib and most plotting tools: wide
//! glyph coverage, clear digits). The SVG names it first in `font-family` and falls back to
//! the viewer's sans-serif. Layout (legend widths, label truncation) measures text with the
//! same face, so what is measured is what is drawn in the PNG.

use std::sync::OnceLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// The family name inside the embedded face; SVG text names it first.
pub(crate) const FAMILY: &str = "DejaVu Sans";

/// The `font-family` value written into the SVG.
pub(crate) const FONT_FAMILY_CSS: &str = "'DejaVu Sans', Verdana, Arial, sans-serif";

/// The bytes of DejaVu Sans Book (Bitstream Vera licence with DejaVu changes in the public
/// domain: free to embed and redistribute).
pub(crate) fn data() -> &'static [u8] {
    dejavu::sans::regular()
}

/// Advance widths of printable ASCII in em, computed once; other characters are looked up in
/// the font on demand.
struct Metrics {
    ascii: [f32; 128],
    fallback: f32,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut m = Metrics {
            ascii: [0.6; 128],
            fallback: 0.6,
        };
        if let Ok(font) = FontRef::new(data()) {
            let charmap = font.charmap();
            let glyphs = font.glyph_metrics(Size::new(1.0), LocationRef::default());
            for (c, slot) in m.ascii.iter_mut().enumerate() {
                if let Some(w) = charmap.map(c as u32).and_then(|g| glyphs.advance_width(g)) {
                    *slot = w;
                }
            }
            m.fallback = m.ascii[b'M' as usize];
        }
        m
    })
}

fn advance(c: char) -> f32 {
    let m = metrics();
    if (c as u32) < 128 {
        return m.ascii[c as usize];
    }
    FontRef::new(data())
        .ok()
        .and_then(|font| {
            let g = font.charmap().map(c)?;
            font.glyph_metrics(Size::new(1.0), LocationRef::default())
                .advance_width(g)
        })
        .unwrap_or(m.fallback)
}

/// Width in pixels of `text` set at `size` pixels (no kerning: a slight overestimate, which
/// is the safe side for layout).
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(|c| f64::from(advance(c))).sum::<f64>() * size
}

/// `text` cut to at most `max_width` pixels at `size`, ending in an ellipsis when cut.
pub(crate) fn truncate(text: &str, size: f64, max_width: f64) -> String {
    if text_width(text, size) <= max_width {
        return text.to_string();
    }
    let budget = max_width - text_width("…", size);
    let mut out = String::new();
    let mut width = 0.0;
    for c in text.chars() {
        let w = f64::from(advance(c)) * size;
        if width + w > budget {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_plausible() {
        let w = text_width("packets", 10.0);
        assert!(w > 30.0 && w < 60.0, "{w}");
        assert!(text_width("MMMM", 10.0) > text_width("iiii", 10.0));
        assert_eq!(text_width("", 12.0), 0.0);
        assert!(text_width("観測", 12.0) > 0.0);
    }

    #[test]
    fn truncation_fits() {
        let long = "a-very-long-signature-name-that-goes-on-and-on";
        let t = truncate(long, 12.0, 100.0);
        assert!(t.ends_with('…'));
        assert!(text_width(&t, 12.0) <= 100.0 + 0.01);
        assert_eq!(truncate("blaster", 12.0, 100.0), "blaster");
    }
}
