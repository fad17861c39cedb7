//! Outbreak alerts on a series of distinct sources per bin.
//!
//! The baseline of a bin copes with the daily rhythm of background radiation: the same time
//! of day (the bins within half an hour of it) on each of the previous days, up to a week, is
//! its reference, as in seasonal-naive forecasting and the historical limits method of CDC's
//! surveillance (Stroup, Williamson, Herndon, Karon, Statistics in Medicine 1989). Counts of
//! sources are modelled as negative binomial with the reference's mean and variance (Poisson
//! when the reference is not over-dispersed; darknet background comes in bursts of scanners,
//! which over-dispersion absorbs). The mean has a Jeffreys-like floor of half a source over the
//! reference, so a scope never seen before still has a (small) expected count.
//!
//! Each bin scores `-log10 P(X >= observed)` under that model, the surprise of the count.
//! Page's CUSUM (Page, "Continuous inspection schemes", Biometrika 1954) accumulates the
//! surprise beyond a reference `k`: `S = max(0, S + score - k)`, and alerts when `S >= h`.
//! One surprising bin is not enough unless very surprising; a few moderately surprising bins
//! in a row are. A bin adds only when it exceeds the baseline by `min_increase` sources, so a
//! lone scanner on an unused port raises nothing. A mirror CUSUM on `-log10 P(X <= observed)`
//! watches for declines of scopes with a baseline worth watching.
//!
//! Kinds: `onset` (rising from a baseline below one source: a new port or signature),
//! `surge` (rising from an established baseline), `decline`. An alert names the bin where
//! the CUSUM crossed `h` and the first bin of the run that led there. A scope with less than
//! a day of history has no baseline and raises nothing (the store is still learning).

use std::fmt;

/// Tuning of the detector; the defaults suit 5-minute bins of distinct sources.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlertConfig {
    /// Days of history the baseline looks back on (at most).
    pub history_days: u32,
    /// Bins on each side of the same time of day that join the reference (6: ±30 minutes of
    /// 5-minute bins).
    pub window_bins: u32,
    /// CUSUM reference k, in decimal digits of surprise: bins less surprising than
    /// `10^-k` lower the statistic.
    pub k: f64,
    /// The reference of the decline CUSUM: a count cannot fall below zero, so a fall is never
    /// as surprising as a rise can be, and declines accumulate from a lower reference.
    pub k_decline: f64,
    /// CUSUM decision threshold h, in decimal digits of accumulated surprise.
    pub h: f64,
    /// A bin adds to a rise only when it exceeds the baseline by this many sources (and to a
    /// decline only when it falls this far below it).
    pub min_increase: f64,
    /// Declines are watched only on scopes whose baseline reaches this many sources.
    pub min_decline_baseline: f64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            history_days: 7,
            window_bins: 6,
            k: 3.0,
            k_decline: 1.0,
            h: 6.0,
            min_increase: 2.0,
            min_decline_baseline: 10.0,
        }
    }
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    Onset,
    Surge,
    Decline,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Onset => "onset",
            AlertKind::Surge => "surge",
            AlertKind::Decline => "decline",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert on one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// Index of the bin where the CUSUM crossed the threshold.
    pub bin: usize,
    /// Index of the first bin of the run that led to it.
    pub first_bin: usize,
    /// Distinct sources in the alert's bin, and the baseline for it.
    pub observed: f64,
    pub baseline: f64,
    /// The CUSUM statistic when it crossed (at least `h`).
    pub score: f64,
}

/// Running sums of a series and of its squares, so any window's moments cost O(1).
struct Sums {
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Sums {
    fn new(values: &[f64]) -> Self {
        let (mut sum, mut sum_sq) = (vec![0.0], vec![0.0]);
        for v in values {
            sum.push(sum.last().unwrap_or(&0.0) + v);
            sum_sq.push(sum_sq.last().unwrap_or(&0.0) + v * v);
        }
        Self { sum, sum_sq }
    }

    /// (count, sum, sum of squares) of `values[range]`.
    fn window(&self, range: std::ops::Range<usize>) -> (usize, f64, f64) {
        (
            range.len(),
            self.sum[range.end] - self.sum[range.start],
            self.sum_sq[range.end] - self.sum_sq[range.start],
        )
    }
}

/// Mean and variance of a reference sample, from its count, sum and sum of squares.
fn moments((n, sum, sum_sq): (usize, f64, f64)) -> (f64, f64) {
    let mean = sum / n.max(1) as f64;
    (mean, (sum_sq / n.max(1) as f64 - mean * mean).max(0.0))
}

/// Bins of history a series needs before its first baseline: a day, plus the two hours of
/// guard that keep a rise under way out of the level reference. A rise that begins before then
/// (a store that starts in the middle of an outbreak) raises nothing; callers say so.
pub fn learning_bins(bin_seconds: u32) -> usize {
    history_needed(bins_per_day(bin_seconds))
}

/// A day of bins plus the guard of two hours (a twelfth of a day).
fn history_needed(per_day: usize) -> usize {
    per_day + per_day / 12
}

fn bins_per_day(bin_seconds: u32) -> usize {
    (86_400 / bin_seconds.max(1)).max(1) as usize
}

/// The expected count of bin `t` as (mean, variance), or `None` without a day of history.
///
/// Two references: the same time of day on previous days (the daily rhythm) and the 24 hours
/// before the last two (the level of a sparse scope, whose half-hour windows may all be empty
/// by chance; the two hours of guard keep a rise under way out of its own baseline). The
/// larger mean and variance are taken, so a scope is surprising only when it is surprising
/// against both.
fn baseline(sums: &Sums, t: usize, per_day: usize, config: &AlertConfig) -> Option<(f64, f64)> {
    let w = config.window_bins as usize;
    let guard = per_day / 12;
    if t < history_needed(per_day) {
        return None;
    }
    let mut seasonal = (0usize, 0.0, 0.0);
    for day in 1..=config.history_days as usize {
        let Some(centre) = t.checked_sub(day * per_day) else {
            break;
        };
        let (n, sum, sum_sq) = sums.window(centre.saturating_sub(w)..(centre + w + 1).min(t));
        seasonal = (seasonal.0 + n, seasonal.1 + sum, seasonal.2 + sum_sq);
    }
    let day = sums.window(t - guard - per_day..t - guard);
    let (seasonal_mean, seasonal_var) = moments(seasonal);
    let (day_mean, day_var) = moments(day);
    // Half a source over the whole reference: a scope never seen still expects a little.
    let floor = 0.5 / (seasonal.0 + day.0) as f64;
    let mean = seasonal_mean.max(day_mean).max(floor);
    Some((mean, seasonal_var.max(day_var).max(mean)))
}

/// Scores are capped here: beyond it a count is impossible under the baseline anyway.
const MAX_SCORE: f64 = 15.0;

/// `-log10` of the probability of at least (`upper`) or at most (`!upper`) `x` under a
/// negative binomial with this mean and variance (Poisson when they are equal).
fn surprise(x: f64, mean: f64, variance: f64, upper: bool) -> f64 {
    let x = x.round().max(0.0) as u64;
    // P(0) and the ratio P(k+1)/P(k): Poisson, or NB with r = mean^2 / (variance - mean).
    let over_dispersed = variance > mean * 1.0001;
    let r = if over_dispersed {
        mean * mean / (variance - mean)
    } else {
        0.0
    };
    let q = mean / (r + mean);
    let p0 = if over_dispersed {
        (r * (1.0 - q).ln()).exp()
    } else {
        (-mean).exp()
    };
    let ratio = |k: f64| {
        if over_dispersed {
            (k + r) / (k + 1.0) * q
        } else {
            mean / (k + 1.0)
        }
    };
    // Sum the side below the threshold: P(X < x) for the upper tail, P(X <= x) for the lower.
    let last = if upper { x } else { x + 1 };
    let (mut p, mut below) = (p0, 0.0);
    for k in 0..last {
        below += p;
        if below >= 1.0 - 1e-15 {
            below = 1.0;
            break;
        }
        p *= ratio(k as f64);
    }
    let tail = if upper { 1.0 - below } else { below };
    (-tail.max(1e-300).log10()).clamp(0.0, MAX_SCORE)
}

/// Whether a series whose largest value is `max` can raise any alert at all: a rise needs a
/// bin `min_increase` above a baseline that is never zero, a decline a baseline (a mean of
/// past values) of at least `min_decline_baseline`. Most ports a darknet sees fail this
/// screen, which spares building and scanning their dense series.
pub fn can_alert(max: f64, config: &AlertConfig) -> bool {
    max > config.min_increase || max >= config.min_decline_baseline
}

/// Alerts on a dense series of distinct sources per bin (`values[i]` is bin `i`; bins
/// without traffic are 0), in bin order. The same input always gives the same alerts.
pub fn detect(values: &[f64], bin_seconds: u32, config: &AlertConfig) -> Vec<Alert> {
    // Counts: anything else (NaN, negative) is read as no traffic.
    let values: Vec<f64> = values
        .iter()
        .map(|&v| if v.is_finite() && v > 0.0 { v } else { 0.0 })
        .collect();
    let per_day = bins_per_day(bin_seconds);
    let sums = Sums::new(&values);
    let mut alerts = Vec::new();
    // (statistic, first bin of the run, alert already raised for this run)
    let mut up = (0.0, 0usize, false);
    let mut down = (0.0, 0usize, false);
    for (t, &x) in values.iter().enumerate() {
        let Some((base, variance)) = baseline(&sums, t, per_day, config) else {
            continue;
        };
        // Rises.
        let score = if x > base {
            surprise(x, base, variance, true)
        } else {
            0.0
        };
        let step = if x - base >= config.min_increase {
            score - config.k
        } else {
            (score - config.k).min(0.0)
        };
        if up.0 == 0.0 && step > 0.0 {
            up = (0.0, t, false);
        }
        up.0 = f64::max(0.0, up.0 + step);
        if up.0 == 0.0 {
            up.2 = false;
        } else if up.0 >= config.h && !up.2 {
            up.2 = true;
            alerts.push(Alert {
                kind: if base < 1.0 {
                    AlertKind::Onset
                } else {
                    AlertKind::Surge
                },
                bin: t,
                first_bin: up.1,
                observed: x,
                baseline: base,
                score: up.0,
            });
        }
        // Declines, on scopes worth watching.
        if base < config.min_decline_baseline {
            down = (0.0, t, false);
            continue;
        }
        let score = if x < base {
            surprise(x, base, variance, false)
        } else {
            0.0
        };
        let step = if base - x >= config.min_increase {
            score - config.k_decline
        } else {
            (score - config.k_decline).min(0.0)
        };
        if down.0 == 0.0 && step > 0.0 {
            down = (0.0, t, false);
        }
        down.0 = f64::max(0.0, down.0 + step);
        if down.0 == 0.0 {
            down.2 = false;
        } else if down.0 >= config.h && !down.2 {
            down.2 = true;
            alerts.push(Alert {
                kind: AlertKind::Decline,
                bin: t,
                first_bin: down.1,
                observed: x,
                baseline: base,
                score: down.0,
            });
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: u32 = 300;
    const DAY: usize = 288;

    /// A deterministic background: a daily rhythm between 4 and 12 sources with jitter.
    fn background(days: usize) -> Vec<f64> {
        let mut state = 12345u64;
        (0..days * DAY)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let jitter = ((state >> 33) % 5) as f64 - 2.0;
                let phase = (i % DAY) as f64 / DAY as f64 * std::f64::consts::TAU;
                (8.0 + 4.0 * phase.sin() + jitter).max(0.0)
            })
            .collect()
    }

    #[test]
    fn nothing_is_raised_before_the_learning_bins_and_a_rise_right_after_is() {
        let learning = learning_bins(BIN);
        assert_eq!(learning, DAY + DAY / 12);
        let mut values = vec![0.0; learning + 20];
        // An outbreak in the last learning bins raises nothing: it has no baseline.
        for v in &mut values[learning - 10..learning] {
            *v = 40.0;
        }
        assert!(detect(&values[..learning], BIN, &AlertConfig::default()).is_empty());
        // Once a baseline exists, the same outbreak going on is seen.
        for v in &mut values[learning..] {
            *v = 40.0;
        }
        let alerts = detect(&values, BIN, &AlertConfig::default());
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(alerts[0].first_bin >= learning, "{alerts:?}");
    }

    #[test]
    fn a_quiet_background_with_a_daily_rhythm_raises_nothing() {
        let alerts = detect(&background(7), BIN, &AlertConfig::default());
        assert!(alerts.is_empty(), "{alerts:?}");
    }

    #[test]
    fn a_new_signature_is_an_onset_within_a_few_bins() {
        let mut v = vec![0.0; 3 * DAY];
        // From day 2, 2 then 4, 6, ... sources per bin.
        for (i, x) in v[2 * DAY..].iter_mut().enumerate() {
            *x = (2.0 + i as f64).min(50.0);
        }
        let alerts = detect(&v, BIN, &AlertConfig::default());
        let first = alerts[0];
        assert_eq!(first.kind, AlertKind::Onset);
        assert!(first.bin <= 2 * DAY + 4, "{first:?}");
        assert!(first.first_bin >= 2 * DAY && first.first_bin <= first.bin);
        assert!(first.score >= 5.0 && first.baseline < 0.1, "{first:?}");
        // One alert per episode, not one per bin.
        assert_eq!(
            alerts.iter().filter(|a| a.kind == AlertKind::Onset).count(),
            1
        );
    }

    #[test]
    fn a_lone_source_on_an_unused_port_raises_nothing() {
        let mut v = vec![0.0; 3 * DAY];
        for x in &mut v[2 * DAY..2 * DAY + 100] {
            *x = 2.0;
        }
        assert!(detect(&v, BIN, &AlertConfig::default()).is_empty());
    }

    #[test]
    fn surges_and_declines_of_an_established_scope() {
        let mut v = background(7);
        let base = v.clone();
        // A surge early on day 4, a decline at midday on day 6 (away from the surge in both
        // baselines).
        for x in &mut v[3 * DAY..3 * DAY + 48] {
            *x += 30.0;
        }
        for (x, b) in v[5 * DAY + 150..5 * DAY + 210]
            .iter_mut()
            .zip(&base[5 * DAY + 150..])
        {
            *x = (b - 10.0).max(0.0);
        }
        let config = AlertConfig {
            min_decline_baseline: 4.0,
            ..AlertConfig::default()
        };
        let kinds: Vec<(AlertKind, usize)> = detect(&v, BIN, &config)
            .iter()
            .map(|a| (a.kind, a.bin))
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert_eq!(kinds[0].0, AlertKind::Surge);
        assert!(kinds[0].1 < 3 * DAY + 3, "{kinds:?}");
        assert_eq!(kinds[1].0, AlertKind::Decline);
        assert!(
            (5 * DAY + 150..5 * DAY + 210).contains(&kinds[1].1),
            "{kinds:?}"
        );
    }

    #[test]
    fn no_history_no_alert_and_odd_values_do_not_panic() {
        assert!(detect(&[100.0; 200], BIN, &AlertConfig::default()).is_empty());
        let mut v = vec![f64::NAN; 2 * DAY];
        v[DAY + 5] = f64::INFINITY;
        v[DAY + 6] = -3.0;
        let _ = detect(&v, BIN, &AlertConfig::default());
        let _ = detect(&[], BIN, &AlertConfig::default());
        let _ = detect(&[1.0; 10], 0, &AlertConfig::default());
    }

    /// The screen never hides an alert: series that fail it raise nothing, however their
    /// few sources are spread over the days.
    #[test]
    fn series_failing_the_screen_raise_nothing() {
        let config = AlertConfig::default();
        let per_day = 288;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let values: Vec<f64> = (0..per_day * 6)
                .map(|_| match next() % 100 {
                    0..=89 => 0.0,
                    90..=97 => 1.0,
                    _ => config.min_increase,
                })
                .collect();
            let max = values.iter().copied().fold(0.0, f64::max);
            assert!(!can_alert(max, &config));
            assert!(detect(&values, 300, &config).is_empty());
        }
        assert!(can_alert(config.min_increase + 1.0, &config));
    }
}
