//! From the caller's sparse points to the dense grid of bins that is drawn.
//!
//! The store only has rows for bins where something was seen, so a quiet hour is simply
//! absent. Drawing a line straight across it would invent traffic; instead every bin between
//! the first and the last is present and a missing bin is zero. Input is taken as it comes:
//! unsorted, duplicated, unaligned (a time inside a bin counts for that bin) and with values
//! that cannot be counts (NaN, infinite, negative), which are drawn as zero.
//!
//! A span too long for its bin width (more than [`MAX_BINS`] bins, e.g. two months of
//! 5-minute bins, or a stray timestamp far from the rest) is drawn with wider display bins,
//! aligned to round durations (15 min, 1 h, 1 day...); the axis title names the width used.

use crate::Series;

/// The most bins drawn across a chart before neighbouring bins are merged. 30 days of
/// 5-minute bins (8,640) are drawn as they are.
pub(crate) const MAX_BINS: usize = 20_000;

/// Values are clamped to this so that sums and stacks of them stay finite.
const MAX_VALUE: f64 = 1e300;

/// Display bin widths preferred when bins must be merged, in seconds.
const ROUND_WIDTHS: [i64; 15] = [
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    28 * 86_400,
];

/// How the input bins that fall into one display bin are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    /// Packets: the display bin holds the total.
    Sum,
    /// Distinct sources: sources cannot be added across bins (the same host is seen in many),
    /// so the display bin holds the busiest input bin.
    Max,
}

/// The bins of a chart: display bin `i` covers `[time(i), time(i + 1))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Width of an input bin in seconds.
    bin: i64,
    /// Input bins per display bin.
    factor: i64,
    /// Index of the first display bin, in display-bin units since the epoch.
    first: i64,
    /// Number of display bins.
    pub len: usize,
}

impl Grid {
    /// The grid covering every point of `series`, or `None` when there is no point.
    /// `bin` must be positive.
    pub(crate) fn covering<'a>(
        series: impl IntoIterator<Item = &'a Series>,
        bin: i64,
        max_bins: usize,
    ) -> Option<Grid> {
        debug_assert!(bin > 0);
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for s in series {
            for &(t, _) in &s.points {
                let idx = t.div_euclid(bin);
                lo = lo.min(idx);
                hi = hi.max(idx);
            }
        }
        if lo > hi {
            return None;
        }
        let count = i128::from(hi) - i128::from(lo) + 1;
        let max_bins = max_bins.max(1) as i128;
        let factor = if count <= max_bins {
            1
        } else {
            merge_factor(bin, count, max_bins)
        };
        let first = lo.div_euclid(factor);
        let len = (hi.div_euclid(factor) - first) as usize + 1;
        Some(Grid {
            bin,
            factor,
            first,
            len,
        })
    }

    /// Width of a display bin in seconds.
    pub(crate) fn width(&self) -> i64 {
        self.bin.saturating_mul(self.factor)
    }

    /// Whether input bins were merged into wider display bins.
    pub(crate) fn merged(&self) -> bool {
        self.factor > 1
    }

    /// Start of display bin `i` (may be `len`, giving the end of the grid), saturated to the
    /// `i64` range.
    pub(crate) fn time(&self, i: usize) -> i64 {
        let t = (i128::from(self.first) + i as i128) * i128::from(self.width());
        t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn input_index(&self, t: i64) -> i64 {
        t.div_euclid(self.bin)
    }

    fn display_index(&self, input_index: i64) -> usize {
        (input_index.div_euclid(self.factor) - self.first) as usize
    }

    /// One value per display bin for `series`: points in the same input bin are added
    /// (several rows for one bin, say one per sensor), then input bins are combined into
    /// display bins by `merge`. Missing bins are zero.
    pub(crate) fn dense(&self, series: &Series, merge: Merge) -> Vec<f64> {
        let mut out = vec![0.0; self.len];
        if self.factor == 1 {
            for &(t, v) in &series.points {
                let i = self.display_index(self.input_index(t));
                if let Some(slot) = out.get_mut(i) {
                    *slot = (*slot + clean(v)).min(MAX_VALUE);
                }
            }
            return out;
        }
        let mut pairs: Vec<(i64, f64)> = series
            .points
            .iter()
            .map(|&(t, v)| (self.input_index(t), clean(v)))
            .collect();
        pairs.sort_unstable_by_key(|p| p.0);
        let mut k = 0;
        while k < pairs.len() {
            let idx = pairs[k].0;
            let mut sum = 0.0;
            while k < pairs.len() && pairs[k].0 == idx {
                sum = (sum + pairs[k].1).min(MAX_VALUE);
                k += 1;
            }
            if let Some(slot) = out.get_mut(self.display_index(idx)) {
                *slot = match merge {
                    Merge::Sum => (*slot + sum).min(MAX_VALUE),
                    Merge::Max => slot.max(sum),
                };
            }
        }
        out
    }
}

/// Input bins per display bin so that `count` bins become at most `max_bins`: a round
/// display width when one fits, else a 1-2-5 multiple.
fn merge_factor(bin: i64, count: i128, max_bins: i128) -> i64 {
    let needed = (count + max_bins - 1) / max_bins;
    for w in ROUND_WIDTHS {
        if w % bin == 0 && i128::from(w / bin) >= needed {
            return w / bin;
        }
    }
    let mut base: i128 = 1;
    loop {
        for m in [1, 2, 5] {
            if base * m >= needed {
                return i64::try_from(base * m).unwrap_or(i64::MAX);
            }
        }
        base *= 10;
    }
}

/// A value that can be drawn as a count: NaN, infinities and negatives become zero, huge
/// values are clamped so that stacking them stays finite.
pub(crate) fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v.min(MAX_VALUE)
    } else {
        0.0
    }
}

/// A series on the grid, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layer {
    pub name: String,
    pub values: Vec<f64>,
    /// The merged remainder, drawn grey and listed last.
    pub other: bool,
}

/// The name that marks the merged remainder, in the caller's series and in the legend.
pub(crate) const OTHER: &str = "other";

/// At most `max` layers: when there are more, the `max - 1` with the largest totals stay (in
/// the caller's order) and the rest are added into one "other" layer. A layer the caller
/// already named "other" always joins the remainder, so it is never shown twice.
pub(crate) fn limit(layers: Vec<Layer>, max: usize) -> Vec<Layer> {
    let max = max.max(2);
    let named = layers.iter().filter(|l| !l.other).count();
    let has_other = layers.iter().any(|l| l.other);
    let keep_named = if named + usize::from(has_other) <= max {
        named
    } else {
        max - 1
    };
    let mut by_total: Vec<(usize, f64)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.other)
        .map(|(i, l)| (i, l.values.iter().sum::<f64>()))
        .collect();
    // Stable: equal totals keep the caller's order.
    by_total.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut keep = vec![false; layers.len()];
    for &(i, _) in by_total.iter().take(keep_named) {
        keep[i] = true;
    }
    let len = layers.first().map_or(0, |l| l.values.len());
    let mut rest: Option<Layer> = None;
    let mut out = Vec::new();
    for (layer, kept) in layers.into_iter().zip(keep) {
        if kept {
            out.push(layer);
            continue;
        }
        let acc = rest.get_or_insert_with(|| Layer {
            name: OTHER.to_string(),
            values: vec![0.0; len],
            other: true,
        });
        for (a, v) in acc.values.iter_mut().zip(&layer.values) {
            *a = (*a + v).min(MAX_VALUE);
        }
    }
    out.extend(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, f64)]) -> Series {
        Series {
            name: "s".into(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn sparse_points_fill_with_zero() {
        let s = series(&[(900, 3.0), (0, 1.0), (600, f64::NAN), (610, 2.0)]);
        let g = Grid::covering([&s], 300, MAX_BINS).unwrap();
        assert_eq!(g.len, 4);
        assert_eq!(g.time(0), 0);
        assert_eq!(g.time(4), 1200);
        assert_eq!(g.dense(&s, Merge::Sum), vec![1.0, 0.0, 2.0, 3.0]);
    }

    #[test]
    fn unaligned_and_negative_times_floor_to_their_bin() {
        let s = series(&[(-1, 1.0), (299, 2.0), (-300, 4.0)]);
        let g = Grid::covering([&s], 300, MAX_BINS).unwrap();
        assert_eq!(g.time(0), -300);
        assert_eq!(g.dense(&s, Merge::Sum), vec![5.0, 2.0]);
    }

    #[test]
    fn empty_gives_no_grid() {
        assert!(Grid::covering([&series(&[])], 300, MAX_BINS).is_none());
        assert!(Grid::covering(std::iter::empty(), 300, MAX_BINS).is_none());
    }

    #[test]
    fn long_spans_merge_into_round_widths() {
        // 70 days of 5-minute bins: 20,160 bins > MAX_BINS, so 10-minute display bins.
        let n = 70 * 288;
        let s = series(&(0..n).map(|i| (i * 300, 1.0)).collect::<Vec<_>>());
        let g = Grid::covering([&s], 300, MAX_BINS).unwrap();
        assert_eq!(g.width(), 600);
        assert!(g.len <= MAX_BINS);
        let sum = g.dense(&s, Merge::Sum);
        assert!(sum.iter().all(|&v| v == 2.0));
        let max = g.dense(&s, Merge::Max);
        assert!(max.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let s = series(&[(i64::MIN, 1.0), (i64::MAX, 2.0), (0, f64::INFINITY)]);
        let g = Grid::covering([&s], 300, MAX_BINS).unwrap();
        assert!(g.len <= MAX_BINS + 1);
        let v = g.dense(&s, Merge::Sum);
        assert_eq!(v.iter().sum::<f64>(), 3.0);
        assert!(g.time(0) <= g.time(g.len));
        let g = Grid::covering([&s], i64::MAX, MAX_BINS).unwrap();
        assert!(g.len <= 4);
        assert_eq!(g.dense(&s, Merge::Sum).iter().sum::<f64>(), 3.0);
    }

    #[test]
    fn clean_values() {
        assert_eq!(clean(-1.0), 0.0);
        assert_eq!(clean(f64::NAN), 0.0);
        assert_eq!(clean(f64::INFINITY), 0.0);
        assert_eq!(clean(f64::MAX), MAX_VALUE);
        assert_eq!(clean(2.5), 2.5);
    }

    fn layer(name: &str, total: f64) -> Layer {
        Layer {
            name: name.into(),
            values: vec![total, 0.0],
            other: name == OTHER,
        }
    }

    #[test]
    fn few_layers_stay_as_they_are() {
        let out = limit(vec![layer("a", 1.0), layer("b", 5.0)], 8);
        assert_eq!(
            out.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn many_layers_keep_the_biggest_in_order_and_merge_the_rest() {
        let layers: Vec<Layer> = (0..12).map(|i| layer(&format!("s{i}"), i as f64)).collect();
        let out = limit(layers, 8);
        let names: Vec<_> = out.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["s5", "s6", "s7", "s8", "s9", "s10", "s11", "other"]);
        assert_eq!(out[7].values[0], (0..5).sum::<i32>() as f64);
        assert!(out[7].other);
    }

    #[test]
    fn an_explicit_other_joins_the_remainder_and_goes_last() {
        let out = limit(vec![layer(OTHER, 1.0), layer("a", 2.0)], 8);
        assert_eq!(
            out.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["a", "other"]
        );
        assert_eq!(out[1].values[0], 1.0);
    }
}
