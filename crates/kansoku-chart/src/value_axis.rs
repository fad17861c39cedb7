//! Value axes: round tick steps (1, 2, 2.5, 5 × 10ⁿ) from zero to just above the largest
//! value, labelled with SI prefixes (`1k`, `2.5M`) so that a count of millions of packets
//! stays short enough to read at a glance.

/// A linear axis from zero to `max`, with its ticks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scale {
    pub max: f64,
    pub ticks: Vec<f64>,
}

/// A scale from 0 covering `max` with about `target` intervals. Counts are whole numbers, so
/// once `max` reaches 1 the step never drops below 1 (no "0.5 packets" tick). A max that is
/// zero, negative or not finite gives the scale 0..1.
pub(crate) fn scale(max: f64, target: usize) -> Scale {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let mult = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&m| m >= norm - 1e-9)
        .unwrap_or(10.0);
    let mut step = mult * mag;
    if max >= 1.0 && step < 1.0 {
        step = 1.0;
    }
    let n = (max / step - 1e-9).ceil().max(1.0);
    // Subnormal maxima underflow `raw` to zero; never build a runaway tick list.
    if !(step.is_finite() && step > 0.0 && n <= 50.0) {
        return Scale {
            max: max.max(f64::MIN_POSITIVE),
            ticks: vec![0.0, max],
        };
    }
    let top = n * step;
    let ticks = (0..=n as usize).map(|i| i as f64 * step).collect();
    Scale { max: top, ticks }
}

const PREFIXES: [(f64, &str); 6] = [
    (1e18, "E"),
    (1e15, "P"),
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
];

/// `v` with an SI prefix and at most three significant digits: `0`, `0.25`, `950`, `1k`,
/// `12.5k`, `3.1M`; beyond the exa range, scientific notation (`2e21`).
pub(crate) fn si(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "-∞".into()
        };
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a >= 1e21 {
        let s = format!("{a:.1e}").replace(".0e", "e");
        return format!("{sign}{s}");
    }
    for (i, &(p, unit)) in PREFIXES.iter().enumerate() {
        if a >= p {
            let x = a / p;
            let digits = three_significant(x);
            // 999.96k rounds to "1000k": say "1M" instead.
            if digits == "1000" && i > 0 {
                return format!("{sign}1{}", PREFIXES[i - 1].1);
            }
            return format!("{sign}{digits}{unit}");
        }
    }
    let digits = if a >= 1.0 {
        three_significant(a)
    } else {
        trim(format!("{a:.2}"))
    };
    if digits == "1000" {
        return format!("{sign}1k");
    }
    if digits == "0" {
        return "0".into();
    }
    format!("{sign}{digits}")
}

fn three_significant(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        trim(format!("{x:.1}"))
    } else {
        trim(format!("{x:.2}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_labels() {
        let cases = [
            (0.0, "0"),
            (0.25, "0.25"),
            (1.0, "1"),
            (950.0, "950"),
            (999.9, "1k"),
            (1000.0, "1k"),
            (1500.0, "1.5k"),
            (10_000.0, "10k"),
            (12_500.0, "12.5k"),
            (250_000.0, "250k"),
            (999_999.0, "1M"),
            (3_140_000.0, "3.14M"),
            (2e9, "2G"),
            (7e18, "7E"),
            (2e21, "2e21"),
            (-1500.0, "-1.5k"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(si(v), want, "{v}");
        }
    }

    #[test]
    fn scales_are_round() {
        let s = scale(9_300.0, 5);
        assert_eq!(s.max, 10_000.0);
        assert_eq!(s.ticks, vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10_000.0]);
        let s = scale(3.0, 5);
        assert_eq!(s.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        let s = scale(1.0, 5);
        assert_eq!(s.ticks, vec![0.0, 1.0]);
        let s = scale(0.3, 5);
        assert!(s.max >= 0.3 && s.ticks.len() <= 7);
        let s = scale(12_345.0, 5);
        assert_eq!(s.max, 12_500.0);
    }

    #[test]
    fn degenerate_scales() {
        for m in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            assert_eq!(scale(m, 5).max, 1.0);
        }
        let s = scale(1e300, 5);
        assert!(s.max.is_finite() && s.max >= 1e300 && s.ticks.len() <= 7);
        let s = scale(f64::MAX / 2.0, 5);
        assert!(s.ticks.iter().all(|t| t.is_finite()));
        for tiny in [5e-324, 1e-310, 1e-300] {
            let s = scale(tiny, 5);
            assert!(s.max > 0.0 && s.ticks.len() <= 51, "{tiny}: {s:?}");
        }
    }
}
