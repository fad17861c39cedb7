//! Sparklines: a series as a tiny inline SVG polyline, drawn by hand because a table row
//! wants 120 x 24 pixels and no axes, legend or font.

use std::fmt::Write;

/// An inline SVG of `points` (bin start, value) over `[first, last]` bins of `bin` seconds;
/// missing bins are zero.
pub fn svg(points: &[(i64, f64)], span: (i64, i64), bin: i64) -> String {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let bin = bin.max(1);
    let (first, last) = (span.0.div_euclid(bin), span.1.div_euclid(bin));
    let n = (last - first + 1).clamp(1, 2000) as usize;
    let mut values = vec![0.0f64; n];
    for &(t, v) in points {
        let i = t.div_euclid(bin) - first;
        if (0..n as i64).contains(&i) && v.is_finite() && v > 0.0 {
            values[i as usize] += v;
        }
    }
    let max = values.iter().copied().fold(0.0, f64::max).max(1.0);
    let mut path = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = if n == 1 {
            W / 2.0
        } else {
            i as f64 * W / (n - 1) as f64
        };
        let y = H - 1.0 - v / max * (H - 2.0);
        let _ = write!(path, "{}{x:.1},{y:.1}", if i == 0 { "" } else { " " });
    }
    format!(
        "<svg class=\"spark\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"trend\"><polyline fill=\"none\" stroke=\"#4e79a7\" \
         stroke-width=\"1.2\" points=\"{path}\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::svg;

    #[test]
    fn a_peak_is_drawn_at_the_top_and_silence_at_the_bottom() {
        let s = svg(&[(300, 5.0)], (0, 600), 300);
        assert!(s.contains("points=\"0.0,23.0 60.0,1.0 120.0,23.0\""), "{s}");
        let empty = svg(&[], (0, 0), 300);
        assert!(empty.contains("points=\"60.0,23.0\""), "{empty}");
    }
}
