//! The infected population behind a telescope's view of an outbreak, over time.
//!
//! A network telescope sees a random-scanning host only when one of its probes happens to
//! pick an address inside it: a host probing `r` addresses a second hits a telescope
//! holding a share `s` of IPv4 at `λ = r·s` per second, so over an active time `t` it is
//! seen with probability `1 − exp(−λt)` (Moore, Shannon, Voelker, Savage, "Network
//! Telescopes: Technical Report", CAIDA 2004; Moore, Shannon, Brown, "Code-Red: a case study
//! on the spread and victims of an Internet worm", IMW 2002). Hosts that stop early, scan
//! slowly or were infected shortly before the end of the window are never seen, so counting
//! distinct sources undercounts the population.
//!
//! Neither `λ` nor `t` of an individual host can be told from the one or two probes of the
//! hosts that matter (those close to being missed), but their distribution can: it is
//! written in how often hosts are seen once, twice, three times. If hosts stop scanning at a
//! constant hazard `h` (patched, cleaned, rebooted: the removal of the SIR epidemic model),
//! the active time is exponential and a host's probe count is geometric, `P(k) = (1−q)q^k`
//! with `q = λ/(λ+h)`: the detection probability `1 − exp(−λt)` averaged over its active
//! time. Then `f₂/f₁` estimates `q`, and the hosts seen zero times number `f₀ = f₁²/f₂`
//! (the geometric case of Good–Turing / Chao frequency estimators; Chao, "Estimating the
//! population size for capture-recapture data with unequal catchability", Biometrics 1987).
//! In its bias-corrected form, defined for `f₂ = 0`:
//!
//! `N̂ = S + f₁(f₁ − 1)/(f₂ + 1)`
//!
//! where `S` hosts were seen, `f₁` once and `f₂` twice. Hosts whose rates differ make the
//! counts a mixture of geometrics, for which this is a lower bound (Cauchy–Schwarz:
//! `f₁² ≤ f₀f₂`); Chao's `S + f₁²/(2f₂)` is the lower bound for any mixture of Poisson counts,
//! whatever the distribution of active times, and is reported with it.
//!
//! Evaluated on the probes seen up to the end of each hour, the same estimator gives the
//! population infected by then: a host infected shortly before has had little time to be
//! seen, which is the same near-zero exposure as a host that stopped early.
//!
//! The band comes from Chao's bootstrap: `N̂` hosts, `N̂ − S` of them never seen, resampled
//! with replacement (seeded, so runs repeat). Its lower edge is extended to Chao's bound, the
//! allowance for active times that are not exponential; its upper edge is at least the
//! estimate with `f₁` at its exact Poisson upper limit (resampling cannot produce singletons
//! that were never observed) and the estimate with the sources that another fingerprint
//! claimed after one or two probes (see [`estimate`]). A logistic curve
//! `N(t) = K/(1 + exp(−g(t − t₀)))` (Staniford, Paxson, Weaver, "How to 0wn the Internet in
//! Your Spare Time", USENIX Security 2002) is fitted to the hourly estimates by weighted
//! least squares (weights from the bootstrap variance) and to every bootstrap replicate,
//! which bands the plateau `K`, the growth rate `g` and the early doubling time `ln 2/g`.
//!
//! What the method assumes is checked on the data and reported as [`Assumption`]s. Sequential
//! scanners (Blaster, Welchia) reach a telescope in runs of consecutive addresses, not as
//! independent probes, so their counts say nothing about missed hosts: the estimate is
//! refused for them.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;

/// Seconds in an hour, the resolution of the store's `sources` table.
pub const HOUR: i64 = 3600;

/// How a source's new destinations advanced within an hour (the store's `scan_pattern`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One destination: says nothing about the order.
    Single,
    /// Mostly small steps above the highest address so far, as Blaster's and Welchia's walks.
    Sequential,
    /// Anything else.
    Random,
}

impl Pattern {
    /// The store's `scan_pattern` value (`single`, `sequential`, `random`).
    pub fn from_store(text: &str) -> Self {
        match text {
            "single" => Pattern::Single,
            "sequential" => Pattern::Sequential,
            _ => Pattern::Random,
        }
    }
}

/// One row of the store's `sources` table for the signature: a source in an hour.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Source address as stored (IPv4 dotted quad, or IPv6).
    pub src: String,
    /// Start of the hour, Unix seconds.
    pub hour: i64,
    /// First and last packet in the hour, Unix seconds.
    pub first_seen: f64,
    pub last_seen: f64,
    /// Probes that reached the telescope: distinct destinations in the hour. Counting
    /// destinations rather than packets folds a connect() scanner's SYN retransmissions
    /// into the probe they repeat.
    pub probes: u64,
    pub pattern: Pattern,
}

/// What to estimate over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EstimateConfig {
    /// The telescope's share of IPv4 (its addresses over 2^32).
    pub share: f64,
    /// Window `[from, to)`, Unix seconds, whole hours: observations outside are ignored.
    pub from: i64,
    pub to: i64,
    /// Coverage of the bands, e.g. 0.95.
    pub confidence: f64,
    /// Bootstrap replicates.
    pub replicates: usize,
    /// Seed of the bootstrap, so that the same data gives the same bands.
    pub seed: u64,
}

/// A point estimate with its band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// The population infected by the end of one hour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HourEstimate {
    /// Start of the hour, Unix seconds.
    pub hour: i64,
    /// Sources seen by the end of the hour, and those among them seen once and twice.
    pub seen: u64,
    pub once: u64,
    pub twice: u64,
    /// Estimated hosts infected by the end of the hour; `low` is at least `seen`.
    pub population: Band,
    /// Chao's lower bound on it, valid whatever the distribution of active times.
    pub lower_bound: f64,
}

/// The logistic curve fitted to the hourly estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Plateau K: hosts infected when the outbreak has run its course. `low` is at least
    /// the hosts seen; `high` is infinite when the series had not bent by the end of the
    /// window, so that no plateau above it is ruled out.
    pub capacity: Band,
    /// Growth rate g, per hour.
    pub growth_per_hour: Band,
    /// Doubling time of the early, exponential phase, `ln 2 / g`, in hours.
    pub doubling_hours: Band,
    /// Inflection t₀ (half of K infected), Unix seconds.
    pub midpoint: Band,
}

/// Whether an assumption of the method holds for the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    /// The estimate stands, with the caveat the detail gives.
    Doubtful,
    /// The estimate (or the part of it named) is not valid.
    Fails,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Doubtful => "doubtful",
            Verdict::Fails => "does not hold",
        })
    }
}

/// An assumption of the method with its verdict on the data and the evidence for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumption {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// The estimate for one signature.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Sources seen in the window, and the probes they sent to the telescope.
    pub sources: u64,
    pub probes: u64,
    /// Median Internet-wide probe rate (probes per second) of the sources seen at least three
    /// times: their telescope hit rate over the telescope's share.
    pub median_probe_rate: Option<f64>,
    /// The window's first hour, every hour in which the series changes and the window's
    /// last hour (an hour not listed has the values of the one before it: a window of years
    /// is not a line per hour); empty when the estimate is refused.
    pub hourly: Vec<HourEstimate>,
    /// The last hour's estimate: hosts infected by the end of the window.
    pub at_end: Option<HourEstimate>,
    /// None when refused or with fewer than [`MIN_FIT_HOSTS`] sources: too few to fit.
    pub fit: Option<Fit>,
    pub assumptions: Vec<Assumption>,
}

/// One source over the window.
struct Host {
    /// (hour index in the window, probes), ascending.
    hours: Vec<(usize, u64)>,
    first: f64,
    last: f64,
    probes: u64,
    sequential_hours: u64,
    random_hours: u64,
    addr: Option<Ipv4Addr>,
}

/// When a host is seen once and twice, as hour-index ranges `[start, end)`.
#[derive(Clone, Copy)]
struct Spans {
    first: usize,
    once: Option<(usize, usize)>,
    twice: Option<(usize, usize)>,
    /// Probes over the whole window, capped at 4 (only 1, 2 and 3 are told apart).
    total: u8,
}

impl Spans {
    fn of(host: &Host, hours: usize) -> Self {
        let mut spans = Spans {
            first: host.hours[0].0,
            once: None,
            twice: None,
            total: host.probes.min(4) as u8,
        };
        let mut seen = 0;
        for (i, &(hour, probes)) in host.hours.iter().enumerate() {
            seen += probes;
            let until = host.hours.get(i + 1).map_or(hours, |h| h.0);
            match seen {
                1 => spans.once = Some((hour, until)),
                2 => spans.twice = Some((hour, until)),
                _ => {}
            }
        }
        spans
    }

    /// The same spans with hours replaced by the indices of the steps that start there.
    fn on(&self, steps: &Steps) -> Self {
        let range = |(a, b): (usize, usize)| (steps.index(a), steps.index(b));
        Spans {
            first: steps.index(self.first),
            once: self.once.map(range),
            twice: self.twice.map(range),
            total: self.total,
        }
    }
}

/// The hours of the window at which the series can change, as steps: a host's first hour
/// and the hours its count passes one and two (at most five per host), with the window's
/// first and last hour. Between two of them every count, and so the estimate, its band and
/// every bootstrap replicate, is constant; computing, banding and fitting per step makes
/// the work follow the sources rather than the length of the window (a window of years
/// holding a handful of sources is hundreds of thousands of hours, each one refitted by
/// every replicate).
struct Steps {
    /// First hour (index in the window) of each step, ascending, from 0.
    starts: Vec<usize>,
    /// Hours in the window: the end of the last step.
    hours: usize,
}

impl Steps {
    /// The steps of `spans` (in hours) over a window of `hours` (at least one).
    fn of<'a>(spans: impl IntoIterator<Item = &'a Spans>, hours: usize) -> Self {
        let mut starts = vec![0, hours - 1];
        for s in spans {
            starts.push(s.first);
            for (a, b) in [s.once, s.twice].into_iter().flatten() {
                starts.extend([a, b]);
            }
        }
        starts.retain(|&h| h < hours);
        starts.sort_unstable();
        starts.dedup();
        Steps { starts, hours }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The step holding `hour`; the window's end maps past the last step, as the end of a
    /// span that lasts to the end of the window.
    fn index(&self, hour: usize) -> usize {
        if hour >= self.hours {
            return self.starts.len();
        }
        self.starts.partition_point(|&s| s <= hour) - 1
    }

    /// `[start, end)` of step `k`, in hours.
    fn range(&self, k: usize) -> (usize, usize) {
        let end = self.starts.get(k + 1).copied().unwrap_or(self.hours);
        (self.starts[k], end)
    }
}

/// Seen, once and twice per step, for hosts counted `weight` times each.
struct Tally {
    seen: Vec<f64>,
    once: Vec<f64>,
    twice: Vec<f64>,
    /// Hosts seen 1, 2 and 3 times over the window.
    totals: [f64; 3],
}

impl Tally {
    fn of(spans: &[Spans], weight: impl Fn(usize) -> f64, steps: usize) -> Self {
        let mut d = [
            vec![0.0; steps + 1],
            vec![0.0; steps + 1],
            vec![0.0; steps + 1],
        ];
        let mut totals = [0.0; 3];
        for (i, s) in spans.iter().enumerate() {
            let w = weight(i);
            if w == 0.0 {
                continue;
            }
            d[0][s.first] += w;
            for (k, span) in [(1, s.once), (2, s.twice)] {
                if let Some((a, b)) = span {
                    d[k][a] += w;
                    d[k][b] -= w;
                }
            }
            if (1..=3).contains(&s.total) {
                totals[usize::from(s.total) - 1] += w;
            }
        }
        let integrate = |v: &[f64]| {
            v[..steps]
                .iter()
                .scan(0.0, |acc, x| {
                    *acc += x;
                    Some(*acc)
                })
                .collect()
        };
        Tally {
            seen: integrate(&d[0]),
            once: integrate(&d[1]),
            twice: integrate(&d[2]),
            totals,
        }
    }

    /// The geometric estimate per step.
    fn population(&self) -> Vec<f64> {
        (0..self.seen.len())
            .map(|t| geometric(self.seen[t], self.once[t], self.twice[t]))
            .collect()
    }
}

/// `S + f₁(f₁ − 1)/(f₂ + 1)`: hosts seen plus those never seen when probe counts are
/// geometric (exponential active times).
pub fn geometric(seen: f64, once: f64, twice: f64) -> f64 {
    seen + (once * (once - 1.0)).max(0.0) / (twice + 1.0)
}

/// Chao's bias-corrected lower bound `S + f₁(f₁ − 1)/(2(f₂ + 1))`, valid for any mixture of
/// Poisson counts.
pub fn chao_lower_bound(seen: f64, once: f64, twice: f64) -> f64 {
    seen + (once * (once - 1.0)).max(0.0) / (2.0 * (twice + 1.0))
}

/// The exact upper confidence limit of a Poisson mean after observing `k`: the mean at
/// which `P(X <= k) = tail` (Garwood 1936), by bisection on the CDF.
pub fn poisson_upper(k: u64, tail: f64) -> f64 {
    let cdf = |mean: f64| {
        // Terms in log space, so large counts neither overflow nor underflow.
        let (mut log_term, mut sum) = (-mean, (-mean).exp());
        for i in 1..=k {
            log_term += mean.ln() - (i as f64).ln();
            sum += log_term.exp();
        }
        sum
    };
    let k = k as f64;
    let (mut lo, mut hi) = (k, k + 10.0 * k.sqrt() + 10.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// SplitMix64 (Steele, Lea, Flood, OOPSLA 2014): a small seeded generator, so bootstrap
/// bands are reproducible without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by Lemire's multiply-shift (bias below 2^-32 for the
    /// populations here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// The `p` quantile of `values` (sorted in place), by linear interpolation. Infinite values
/// (an unbounded replicate) make the quantiles they reach infinite, not NaN.
fn quantile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let x = p * (values.len() - 1) as f64;
    let (i, frac) = (x.floor() as usize, x - x.floor());
    let next = values[(i + 1).min(values.len() - 1)];
    if frac == 0.0 || next == values[i] {
        values[i]
    } else {
        values[i] + frac * (next - values[i])
    }
}

/// A logistic curve in hours from the window start.
#[derive(Clone, Copy, Debug)]
struct Curve {
    capacity: f64,
    growth: f64,
    midpoint: f64,
}

/// Growth rates the fit considers, per hour: doubling times from 30 days down to 10
/// minutes. Faster growth is a step at hourly resolution and is reported as unresolved.
const GROWTH_RANGE: (f64, f64) = (
    std::f64::consts::LN_2 / (30.0 * 24.0),
    std::f64::consts::LN_2 / (10.0 / 60.0),
);

/// Midpoints the coarse grid considers: up to two days either side of the series' steps,
/// every three hours.
const MID_REACH: f64 = 48.0;
const MID_STEP: f64 = 3.0;

/// Midpoints spread over a quiet stretch longer than twice [`MID_REACH`], where no step
/// is near: few, because the residual changes slowly there.
const GAP_MIDPOINTS: usize = 8;

/// The coarse grid's midpoints, in hours from the window start, ascending: the points of
/// the three-hour lattice from `−MID_REACH` to the window's end plus `MID_REACH` that lie
/// within `MID_REACH` of a step or of the window's end (on a series that changes every
/// hour, the whole lattice), and [`GAP_MIDPOINTS`] across each longer quiet stretch. A
/// lattice over the whole window would cost a third of its hours per growth rate, years of
/// hours for a window of years.
fn midpoint_candidates(steps: &Steps) -> Vec<f64> {
    let hours = steps.hours as f64;
    let last = ((hours + 2.0 * MID_REACH) / MID_STEP).floor() as i64;
    let reach = (MID_REACH / MID_STEP) as i64;
    let anchors: Vec<f64> = steps
        .starts
        .iter()
        .map(|&s| s as f64)
        .chain([hours])
        .collect();
    let mut lattice: Vec<i64> = anchors
        .iter()
        .flat_map(|&a| {
            let centre = ((a + MID_REACH) / MID_STEP).round() as i64;
            (centre - reach..=centre + reach).filter(move |k| (0..=last).contains(k))
        })
        .collect();
    lattice.sort_unstable();
    lattice.dedup();
    let mut mids: Vec<f64> = lattice
        .into_iter()
        .map(|k| -MID_REACH + MID_STEP * k as f64)
        .collect();
    for pair in anchors.windows(2) {
        let (from, to) = (pair[0] + MID_REACH, pair[1] - MID_REACH);
        if to > from {
            let step = (to - from) / (GAP_MIDPOINTS + 1) as f64;
            mids.extend((1..=GAP_MIDPOINTS).map(|i| from + step * i as f64));
        }
    }
    mids.sort_by(f64::total_cmp);
    mids
}

/// The logistic `1/(1 + exp(−u))`.
fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// Hours either side of the midpoint summed term by term by [`logistic_sums`].
const CORE: f64 = 32.0;

/// `Σ s(j)` and `Σ s(j)²` with `s(j) = σ(g(j − mid))` over the integers `j` in
/// `first..=last`: term by term within [`CORE`] hours of the midpoint, where the curve
/// bends, and by Euler–Maclaurin beyond, where it is saturated or, for slow growth, smooth
/// (the error is below 0.004·g² host-hours), so that a step of years costs what a step of
/// an hour does.
fn logistic_sums(g: f64, mid: f64, first: i64, last: i64) -> (f64, f64) {
    if last - first < SHORT {
        return term_by_term(g, mid, first, last);
    }
    let core = (
        first.max((mid - CORE).ceil() as i64),
        last.min((mid + CORE).floor() as i64),
    );
    if core.0 > core.1 {
        return euler_maclaurin(g, mid, first, last);
    }
    let (mut s1, mut s2) = term_by_term(g, mid, core.0, core.1);
    for (a, b) in [(first, core.0 - 1), (core.1 + 1, last)] {
        if a <= b {
            let (x1, x2) = euler_maclaurin(g, mid, a, b);
            s1 += x1;
            s2 += x2;
        }
    }
    (s1, s2)
}

/// Ranges shorter than this are summed term by term: one logistic per hour costs less than
/// the closed form (most steps of a busy window are one hour).
const SHORT: i64 = 8;

/// The sums of [`logistic_sums`] over `first..=last`, one term per hour.
fn term_by_term(g: f64, mid: f64, first: i64, last: i64) -> (f64, f64) {
    let (mut s1, mut s2) = (0.0, 0.0);
    for j in first..=last {
        let s = sigmoid(g * (j as f64 - mid));
        s1 += s;
        s2 += s * s;
    }
    (s1, s2)
}

/// The sums of [`logistic_sums`] over `first..=last` (non-empty) by Euler–Maclaurin: the
/// integrals `∫σ = softplus/g` and `∫σ² = (softplus − σ)/g`, the end terms and the
/// first-derivative correction.
fn euler_maclaurin(g: f64, mid: f64, first: i64, last: i64) -> (f64, f64) {
    let (xa, xb) = (first as f64 - mid, last as f64 - mid);
    let (sa, sb) = (sigmoid(g * xa), sigmoid(g * xb));
    // softplus(u) = max(u, 0) + ln(1 + exp(−|u|)); the linear part is taken in hours so
    // that it does not lose precision to the division by a small g.
    let tail = |x: f64| (-(g * x).abs()).exp().ln_1p();
    let int1 = (xb.max(0.0) - xa.max(0.0)) + (tail(xb) - tail(xa)) / g;
    let int2 = int1 - (sb - sa) / g;
    let d1 = |s: f64| g * s * (1.0 - s);
    let d2 = |s: f64| 2.0 * g * s * s * (1.0 - s);
    (
        int1 + (sa + sb) / 2.0 + (d1(sb) - d1(sa)) / 12.0,
        int2 + (sa * sa + sb * sb) / 2.0 + (d2(sb) - d2(sa)) / 12.0,
    )
}

/// The logistic `σ(g(t + 1 − mid))` summed over the hours of each step (`hours[k]` as
/// `first..=last`, hour `t` at `t + 1`) into `s1`; returns `Σ w·σ²` over all hours. Neither
/// depends on the series fitted, so the coarse grid computes them once per candidate for
/// the point series and every bootstrap replicate alike.
fn logistic_steps(hours: &[(i64, i64)], w: &[f64], g: f64, mid: f64, s1: &mut [f64]) -> f64 {
    let mut sss = 0.0;
    for ((&(first, last), w), s1) in hours.iter().zip(w).zip(s1) {
        // Most steps of a busy window are one hour: that logistic inline.
        let (sum, sum2) = if first == last {
            let s = 1.0 / (1.0 + (-g * (first as f64 - mid)).exp());
            (s, s * s)
        } else {
            logistic_sums(g, mid, first, last)
        };
        *s1 = sum;
        sss += w * sum2;
    }
    sss
}

/// A series to fit: `w·y` per step and `Σwy²` over the hours.
struct Weighted {
    wy: Vec<f64>,
    syy: f64,
}

impl Weighted {
    fn of(y: &[f64], w: &[f64], hours: &[(i64, i64)]) -> Self {
        let wy: Vec<f64> = w.iter().zip(y).map(|(w, y)| w * y).collect();
        let syy = wy
            .iter()
            .zip(y)
            .zip(hours)
            .map(|((wy, y), (first, last))| wy * y * (last - first + 1) as f64)
            .sum();
        Weighted { wy, syy }
    }

    /// The residual and capacity of the best curve with the logistic sums `s1` and `sss`:
    /// with the best K, the residual is Σwy² − 2K·Σwys + K²·Σws².
    fn residual(&self, s1: &[f64], sss: f64) -> (f64, f64) {
        let sys: f64 = self.wy.iter().zip(s1).map(|(wy, s)| wy * s).sum();
        let k = if sss > 0.0 { (sys / sss).max(0.0) } else { 0.0 };
        (self.syy - 2.0 * k * sys + k * k * sss, k)
    }
}

/// Weighted least-squares logistic fits to series constant over each of `steps` (the point
/// series and the bootstrap replicates): `y[k]`, with weight `w[k]` for each of its hours,
/// is the population by the end of every hour `t` of step `k`, at `t + 1` hours. For a
/// growth rate and midpoint the best capacity is linear, so a coarse grid over those two,
/// shared by all the series, then a shrinking local grid per series, finds each optimum.
fn fit_logistic(steps: &Steps, series: &[&[f64]], w: &[f64]) -> Vec<Curve> {
    let hours: Vec<(i64, i64)> = (0..steps.len())
        .map(|k| {
            let (a, b) = steps.range(k);
            (a as i64 + 1, b as i64)
        })
        .collect();
    let weighted: Vec<Weighted> = series.iter().map(|y| Weighted::of(y, w, &hours)).collect();
    let (lo, hi) = (GROWTH_RANGE.0.ln(), GROWTH_RANGE.1.ln());
    let mids = midpoint_candidates(steps);
    let mut best = vec![(f64::INFINITY, 0.0, lo, 0.0); series.len()];
    let mut s1 = vec![0.0; hours.len()];
    let g_steps = 40;
    for i in 0..=g_steps {
        let log_g = lo + (hi - lo) * i as f64 / g_steps as f64;
        for &mid in &mids {
            let sss = logistic_steps(&hours, w, log_g.exp(), mid, &mut s1);
            for (best, series) in best.iter_mut().zip(&weighted) {
                let (sse, k) = series.residual(&s1, sss);
                if sse < best.0 {
                    *best = (sse, k, log_g, mid);
                }
            }
        }
    }
    let step_g = (hi - lo) / g_steps as f64;
    best.into_iter()
        .zip(&weighted)
        .map(|(best, series)| refine(best, series, &hours, w, step_g))
        .collect()
}

/// The shrinking local grid around the coarse optimum `(residual, K, ln g, t₀)` of one
/// series, from the coarse grid's spacing `step_g` (in ln g) and [`MID_STEP`].
fn refine(
    mut best: (f64, f64, f64, f64),
    series: &Weighted,
    hours: &[(i64, i64)],
    w: &[f64],
    mut step_g: f64,
) -> Curve {
    let (lo, hi) = (GROWTH_RANGE.0.ln(), GROWTH_RANGE.1.ln());
    let mut s1 = vec![0.0; hours.len()];
    let mut step_m = MID_STEP;
    for _ in 0..8 {
        let (_, _, g0, m0) = best;
        for i in -2..=2 {
            for j in -2..=2 {
                let log_g = (g0 + f64::from(i) * step_g / 2.0).clamp(lo, hi);
                let mid = m0 + f64::from(j) * step_m / 2.0;
                let sss = logistic_steps(hours, w, log_g.exp(), mid, &mut s1);
                let (sse, k) = series.residual(&s1, sss);
                if sse < best.0 {
                    best = (sse, k, log_g, mid);
                }
            }
        }
        step_g /= 2.0;
        step_m /= 2.0;
    }
    Curve {
        capacity: best.1,
        growth: best.2.exp(),
        midpoint: best.3,
    }
}

/// Groups the observations in the window by source.
fn hosts(observations: &[Observation], config: &EstimateConfig) -> Vec<Host> {
    let mut by_src: HashMap<&str, Host> = HashMap::new();
    for o in observations {
        if o.hour < config.from || o.hour >= config.to || o.probes == 0 {
            continue;
        }
        let h = by_src.entry(&o.src).or_insert_with(|| Host {
            hours: Vec::new(),
            first: o.first_seen,
            last: o.last_seen,
            probes: 0,
            sequential_hours: 0,
            random_hours: 0,
            addr: o.src.parse().ok(),
        });
        h.hours
            .push((((o.hour - config.from) / HOUR) as usize, o.probes));
        h.first = h.first.min(o.first_seen);
        h.last = h.last.max(o.last_seen);
        h.probes += o.probes;
        match o.pattern {
            Pattern::Sequential => h.sequential_hours += 1,
            Pattern::Random => h.random_hours += 1,
            Pattern::Single => {}
        }
    }
    let mut hosts: Vec<Host> = by_src.into_values().collect();
    for h in &mut hosts {
        // Rows of several sensors in one hour add up.
        h.hours.sort_unstable();
        h.hours.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
    }
    // A fixed order makes the bootstrap independent of hashing.
    hosts.sort_by(|a, b| a.first.total_cmp(&b.first).then(a.hours.cmp(&b.hours)));
    hosts
}

/// Median Internet-wide probe rate of hosts seen at least three times: `n − 1` gaps between
/// the first and the last probe, over the telescope's share.
fn median_probe_rate(hosts: &[Host], share: f64) -> Option<f64> {
    let mut rates: Vec<f64> = hosts
        .iter()
        .filter(|h| h.probes >= 3 && h.last > h.first)
        .map(|h| (h.probes - 1) as f64 / (h.last - h.first) / share)
        .collect();
    (!rates.is_empty()).then(|| quantile(&mut rates, 0.5))
}

/// Uniform random scanning, judged by the store's per-hour scan patterns.
fn uniform_scanning(hosts: &[Host]) -> Assumption {
    let sequential: u64 = hosts.iter().map(|h| h.sequential_hours).sum();
    let random: u64 = hosts.iter().map(|h| h.random_hours).sum();
    let judged = sequential + random;
    let share = if judged > 0 {
        sequential as f64 / judged as f64
    } else {
        0.0
    };
    // The store calls a few destinations sequential when they happen to rise by small
    // steps, which random scanning does now and then; a tenth of the source-hours is a
    // minority of sources that really walk, a majority makes the signature a walker.
    let verdict = if judged == 0 {
        // No source-hour with several destinations: nothing to judge the pattern by.
        Verdict::Doubtful
    } else if share > 0.5 {
        Verdict::Fails
    } else if share > 0.1 {
        Verdict::Doubtful
    } else {
        Verdict::Holds
    };
    let detail = match verdict {
        Verdict::Doubtful if judged == 0 => "no source-hour with several destinations, so \
            nothing shows how sources pick their targets; random scanning is assumed"
            .to_owned(),
        Verdict::Fails => format!(
            "{sequential} of {judged} source-hours with several destinations walk \
             sequentially: such scanners reach the telescope in runs of consecutive \
             addresses, not independent probes, so repeat hits say nothing about missed \
             hosts; no estimate is given"
        ),
        Verdict::Doubtful => format!(
            "{sequential} of {judged} source-hours with several destinations walk \
             sequentially; the rest look random. Sequential sources are counted as if \
             random"
        ),
        Verdict::Holds => format!(
            "{sequential} of {judged} source-hours with several destinations look \
             sequential, as random scanning sometimes does by chance. \
             The population estimate uses repeat hits only, not the telescope share, so a \
             generator that favours or avoids the telescope (Conficker A/B never picks a \
             2nd or 4th octet above 127) changes the probe rates reported, not the \
             population"
        ),
    };
    Assumption {
        name: "uniform random scanning",
        verdict,
        detail,
    }
}

/// Address churn: one host behind several addresses over time (DHCP, dial-up) counts as
/// several. A telescope cannot see it directly; sources of the signature in one /24 whose
/// activity does not overlap are the trace it would leave.
fn address_churn(hosts: &[Host], scale: f64) -> Assumption {
    let mut by_net: HashMap<u32, Vec<(f64, f64)>> = HashMap::new();
    for h in hosts {
        if let Some(a) = h.addr {
            by_net
                .entry(u32::from(a) >> 8)
                .or_default()
                .push((h.first, h.last));
        }
    }
    let mut successors = 0u64;
    for spans in by_net.values_mut() {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut until = f64::NEG_INFINITY;
        for (i, &(first, last)) in spans.iter().enumerate() {
            if i > 0 && first > until {
                successors += 1;
            }
            until = until.max(last);
        }
    }
    let (verdict, detail) = if successors == 0 {
        (
            Verdict::Holds,
            "no /24 holds two sources of the signature one after the other, so there is \
             no sign of hosts changing address; distinct addresses are counted as hosts"
                .to_owned(),
        )
    } else {
        (
            Verdict::Doubtful,
            format!(
                "{successors} sources start after another source of the signature in their \
                 /24 went quiet: if these are hosts that changed address, the estimate \
                 counts each twice and is inflated by up to {:.0} hosts",
                successors as f64 * scale
            ),
        )
    };
    Assumption {
        name: "one address per host (no churn)",
        verdict,
        detail,
    }
}

/// The geometric model: exponential active times, so counts fall off geometrically and
/// `f₁f₃/f₂² = 1`. Above 1, hosts differ in rate and the estimate is a lower bound; below,
/// active times are more regular than exponential and Chao's bound is nearer the truth.
///
/// With at most one host seen once, `f₁(f₁ − 1) = 0`: no unseen host is inferred under any
/// model, the estimate is the hosts seen, and the shape of the counts does not matter (the
/// ratio would read 0, "below 1", and wrongly suggest an estimate that may be high).
fn stopping(point: f64, once: f64, replicates: &mut [f64], confidence: f64) -> Assumption {
    let tail = (1.0 - confidence) / 2.0;
    if once <= 1.0 {
        return Assumption {
            name: "hosts stop scanning at a constant rate",
            verdict: Verdict::Holds,
            detail: format!(
                "{once:.0} host(s) seen only once: no unseen host is inferred, so the estimate \
                 is the hosts seen whatever the shape of the counts"
            ),
        };
    }
    let finite: Vec<f64> = replicates
        .iter()
        .copied()
        .filter(|r| r.is_finite())
        .collect();
    let (verdict, detail) = if !point.is_finite() || finite.len() < (replicates.len() / 2).max(1) {
        (
            Verdict::Doubtful,
            "too few hosts seen once, twice and three times to test how counts fall off".to_owned(),
        )
    } else {
        let mut finite = finite;
        let (lo, hi) = (
            quantile(&mut finite, tail),
            quantile(&mut finite, 1.0 - tail),
        );
        let range = format!("f1*f3/f2^2 = {point:.2} ({lo:.2} to {hi:.2})");
        if lo > 1.0 {
            (
                Verdict::Doubtful,
                format!(
                    "{range}, above the 1 of exponential active times: hosts differ in \
                     probe rate or active time, and the estimate is then a lower bound \
                     that the band may not cover"
                ),
            )
        } else if hi < 1.0 {
            (
                Verdict::Doubtful,
                format!(
                    "{range}, below the 1 of exponential active times: hosts stop more \
                     regularly than at a constant rate, so the estimate may be high; the \
                     band's lower edge reaches Chao's bound, which holds regardless"
                ),
            )
        } else {
            (
                Verdict::Holds,
                format!(
                    "{range}, consistent with the 1 of hosts that stop scanning at a \
                     constant rate"
                ),
            )
        }
    };
    Assumption {
        name: "hosts stop scanning at a constant rate",
        verdict,
        detail,
    }
}

/// Few hits per host: the smaller the telescope, the more of the population the estimate
/// extrapolates.
fn hits_per_host(end: &HourEstimate, rate: Option<f64>, share: f64) -> Assumption {
    let unseen = 1.0 - end.seen as f64 / end.population.estimate;
    let per_hour = rate.map_or(String::new(), |r| {
        format!(
            "; the median host probes {r:.1} addresses/s, which the telescope (share \
             {share:.2e}) sees {:.2} times an hour",
            r * share * HOUR as f64
        )
    });
    let (verdict, what) = if end.twice == 0 {
        (
            Verdict::Fails,
            "no source was seen exactly twice, so the chance of missing a host cannot be \
             estimated; the estimate is little more than a guess",
        )
    } else if unseen > 0.5 {
        (
            Verdict::Doubtful,
            "most of the estimated population was never seen: the estimate rests on the \
             extrapolation more than on the count",
        )
    } else {
        (Verdict::Holds, "most of the estimated population was seen")
    };
    Assumption {
        name: "enough hits per host",
        verdict,
        detail: format!(
            "{what} ({} seen, {} once, {} twice; an estimated {:.0}% never seen{per_hour})",
            end.seen,
            end.once,
            end.twice,
            100.0 * unseen.max(0.0)
        ),
    }
}

/// Whether the classifier's labels settle which sources belong to the signature.
fn labels(ambiguous: usize, estimate: f64, with_them: f64) -> Assumption {
    let (verdict, detail) = if ambiguous == 0 {
        (
            Verdict::Holds,
            "no source on the signature's port carries another fingerprint's label on the \
             evidence of only one or two probes"
                .to_owned(),
        )
    } else {
        (
            Verdict::Doubtful,
            format!(
                "{ambiguous} sources on the signature's port carry another fingerprint's \
                 label after only one or two probes, too few to rule out this signature (a \
                 Sasser host seen only at addresses Conficker's generator can pick is \
                 labelled Conficker). If they belong here the estimate is {with_them:.0} \
                 rather than {estimate:.0}; the band's upper edge allows for it"
            ),
        )
    };
    Assumption {
        name: "labels settle membership",
        verdict,
        detail,
    }
}

/// Whether the hourly series resolves the growth and reaches the plateau.
fn growth(fit: &Fit, from: i64, to: i64) -> Assumption {
    let g = fit.growth_per_hour.estimate;
    let rise_hours = 2.0 * 9f64.ln() / g;
    let ten = fit.midpoint.estimate - rise_hours / 2.0 * HOUR as f64;
    let ninety = fit.midpoint.estimate + rise_hours / 2.0 * HOUR as f64;
    let (verdict, detail) = if ten < (from + HOUR) as f64 {
        (
            Verdict::Fails,
            "the population was past 10% of the fitted plateau by the end of the window's \
             first hour: the early growth is not in the window, so the growth rate and the \
             doubling time are not measured"
                .to_owned(),
        )
    } else if g >= GROWTH_RANGE.1 * 0.99 || rise_hours < 2.0 {
        (
            Verdict::Fails,
            format!(
                "the rise from 10% to 90% of the plateau takes {:.1} hours or less: hourly \
                 counts cannot resolve it, so the growth rate is a lower bound and the \
                 doubling time an upper bound",
                rise_hours.max(0.1)
            ),
        )
    } else if ninety > to as f64 {
        (
            Verdict::Doubtful,
            "the outbreak had not reached 90% of the fitted plateau by the end of the \
             window: the plateau is an extrapolation"
                .to_owned(),
        )
    } else {
        (
            Verdict::Holds,
            format!(
                "the rise from 10% to 90% of the plateau takes {rise_hours:.1} hours, \
                 inside the window and resolved by hourly counts"
            ),
        )
    };
    let detail = if fit.capacity.high.is_finite() {
        detail
    } else {
        format!(
            "{detail}; the plateau has no upper bound: the series had not bent by the end \
             of the window, so any plateau above it fits as well"
        )
    };
    Assumption {
        name: "logistic growth resolved in the window",
        verdict,
        detail,
    }
}

/// Chao's bootstrap: a population of `population` hosts, those beyond the `spans` seen
/// never seen, resampled with replacement (seeded, so runs repeat). Returns each
/// replicate's series (per step) and its `f₁f₃/f₂²`.
fn bootstrap(
    spans: &[Spans],
    steps: usize,
    population: f64,
    config: &EstimateConfig,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let seen = spans.len();
    let pseudo = (population.round() as usize).max(seen);
    let mut rng = SplitMix(config.seed);
    let mut series = Vec::with_capacity(config.replicates);
    let mut ratios = Vec::with_capacity(config.replicates);
    let mut weights = vec![0.0; seen];
    for _ in 0..config.replicates {
        weights.fill(0.0);
        for _ in 0..pseudo {
            let j = rng.below(pseudo);
            if j < seen {
                weights[j] += 1.0;
            }
        }
        let tally = Tally::of(spans, |i| weights[i], steps);
        let [f1, f2, f3] = tally.totals;
        ratios.push(f1 * f3 / (f2 * f2));
        series.push(tally.population());
    }
    (series, ratios)
}

/// The series with its bands, one entry per step (its first hour), and the weight of each
/// step's hours in the fit.
fn banded_series(
    steps: &Steps,
    observed: &Tally,
    point: &[f64],
    widest: &[f64],
    replicates: &[Vec<f64>],
    config: &EstimateConfig,
) -> (Vec<HourEstimate>, Vec<f64>) {
    let tail = (1.0 - config.confidence) / 2.0;
    let mut column = vec![0.0; replicates.len()];
    let mut weights = Vec::with_capacity(steps.len());
    let mut series = Vec::with_capacity(steps.len());
    // The Poisson limit costs a sum over the singletons; consecutive steps mostly share it.
    let mut f1_limit: Option<(f64, f64)> = None;
    for t in 0..steps.len() {
        for (c, r) in column.iter_mut().zip(replicates) {
            *c = r[t];
        }
        let mean = column.iter().sum::<f64>() / column.len().max(1) as f64;
        let var =
            column.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / column.len().max(1) as f64;
        // A floor of one host squared keeps empty early hours from dominating the fit.
        weights.push(1.0 / (var + 1.0));
        let (lo, hi) = if column.is_empty() {
            (point[t], point[t])
        } else {
            (
                quantile(&mut column, tail),
                quantile(&mut column, 1.0 - tail),
            )
        };
        let (s, f1, f2) = (observed.seen[t], observed.once[t], observed.twice[t]);
        let bound = chao_lower_bound(s, f1, f2);
        // Resampling cannot produce singletons that were not observed (with none, the
        // bootstrap band has no width), so the upper edge also takes the singletons at
        // their exact Poisson upper limit.
        let f1_up = match f1_limit {
            Some((k, up)) if k == f1 => up,
            _ => poisson_upper(f1 as u64, tail),
        };
        f1_limit = Some((f1, f1_up));
        let hi = hi
            .max(geometric(s - f1 + f1_up, f1_up, f2))
            .max(widest[t] + (hi - point[t]));
        series.push(HourEstimate {
            hour: config.from + steps.starts[t] as i64 * HOUR,
            seen: s as u64,
            once: f1 as u64,
            twice: f2 as u64,
            population: Band {
                estimate: point[t],
                // A replicate that drew mostly unseen hosts counts fewer than were seen;
                // the hosts seen are infected whatever the model, so they floor the band.
                low: lo.max(s).min(bound).min(point[t]),
                high: hi.max(point[t]),
            },
            lower_bound: bound,
        });
    }
    (series, weights)
}

/// Hosts the logistic fit needs: with fewer, a curve of three parameters through a
/// handful of steps is whatever the grid's edges make it (two Slammer hosts seen in two
/// hours gave a plateau of 7929 with a band up to 10^78).
pub const MIN_FIT_HOSTS: usize = 10;

/// The plateau's band. Never below the hosts seen by the end: they are infected, and the
/// plateau is where the infected end up. Unbounded above (`high` infinite, null in JSON)
/// when the curve, or more of the bootstrap curves than the band's tail, has its midpoint
/// after the window's end: the series has not bent, and any plateau above it fits as well.
fn capacity_band(curve: &Curve, fits: &[Curve], seen: f64, hours: f64, tail: f64) -> Band {
    let capacity = |c: &Curve| {
        if c.midpoint > hours {
            f64::INFINITY
        } else {
            c.capacity
        }
    };
    let estimate = curve.capacity.max(seen);
    let mut v: Vec<f64> = fits.iter().map(capacity).collect();
    let (low, high) = if v.is_empty() {
        (estimate, capacity(curve))
    } else {
        (quantile(&mut v, tail), quantile(&mut v, 1.0 - tail))
    };
    Band {
        estimate,
        low: low.max(seen).min(estimate),
        high: high.max(capacity(curve)).max(estimate),
    }
}

/// The logistic fit to the series and to every bootstrap replicate, with its bands.
fn fit_bands(
    steps: &Steps,
    point: &[f64],
    replicates: &[Vec<f64>],
    weights: &[f64],
    seen: f64,
    config: &EstimateConfig,
) -> Fit {
    let tail = (1.0 - config.confidence) / 2.0;
    let series: Vec<&[f64]> = std::iter::once(point)
        .chain(replicates.iter().map(Vec::as_slice))
        .collect();
    let mut fits = fit_logistic(steps, &series, weights);
    let curve = fits.remove(0);
    let band = |point: f64, f: &dyn Fn(&Curve) -> f64| {
        let mut v: Vec<f64> = fits.iter().map(f).collect();
        if v.is_empty() {
            return Band {
                estimate: point,
                low: point,
                high: point,
            };
        }
        Band {
            estimate: point,
            low: quantile(&mut v, tail).min(point),
            high: quantile(&mut v, 1.0 - tail).max(point),
        }
    };
    let growth_band = band(curve.growth, &|c| c.growth);
    let to_time = |hours: f64| config.from as f64 + hours * HOUR as f64;
    let midpoint = band(curve.midpoint, &|c| c.midpoint);
    Fit {
        capacity: capacity_band(&curve, &fits, seen, steps.hours as f64, tail),
        growth_per_hour: growth_band,
        doubling_hours: Band {
            estimate: std::f64::consts::LN_2 / growth_band.estimate,
            low: std::f64::consts::LN_2 / growth_band.high,
            high: std::f64::consts::LN_2 / growth_band.low,
        },
        midpoint: Band {
            estimate: to_time(midpoint.estimate),
            low: to_time(midpoint.low),
            high: to_time(midpoint.high),
        },
    }
}

/// The growth verdict when too few hosts were seen to fit the curve at all.
fn too_few_to_fit(seen: usize) -> Assumption {
    Assumption {
        name: "logistic growth resolved in the window",
        verdict: Verdict::Fails,
        detail: format!(
            "{seen} sources seen, too few to fit a logistic curve (at least \
             {MIN_FIT_HOSTS}): no plateau, growth rate or doubling time is given, and the \
             plateau has no upper bound"
        ),
    }
}

/// Estimates the infected population behind `observations` (the sources of one signature).
///
/// `ambiguous` are the observations of sources labelled as another signature on the same
/// port after only one or two probes: too little evidence to rule out that they belong to
/// this outbreak (a Sasser host seen only at addresses Conficker's generator can pick is
/// labelled Conficker). They do not enter the estimate; its upper edge allows for them.
///
/// `hourly` has one entry per hour at which the series changes, with the window's first
/// and last hour: the work is bounded by the sources, not by the length of the window.
pub fn estimate(
    observations: &[Observation],
    ambiguous: &[Observation],
    config: &EstimateConfig,
) -> Estimate {
    let hours = ((config.to - config.from) / HOUR).max(0) as usize;
    let others = hosts(ambiguous, config);
    let hosts = hosts(observations, config);
    let rate = median_probe_rate(&hosts, config.share);
    let mut assumptions = vec![uniform_scanning(&hosts)];
    let mut estimate = Estimate {
        sources: hosts.len() as u64,
        probes: hosts.iter().map(|h| h.probes).sum(),
        median_probe_rate: rate,
        hourly: Vec::new(),
        at_end: None,
        fit: None,
        assumptions: Vec::new(),
    };
    if hosts.is_empty() || hours == 0 || assumptions[0].verdict == Verdict::Fails {
        estimate.assumptions = assumptions;
        return estimate;
    }

    let in_hours: Vec<Spans> = hosts.iter().map(|h| Spans::of(h, hours)).collect();
    let others_in_hours: Vec<Spans> = others.iter().map(|h| Spans::of(h, hours)).collect();
    let steps = Steps::of(in_hours.iter().chain(&others_in_hours), hours);
    let spans: Vec<Spans> = in_hours.iter().map(|s| s.on(&steps)).collect();
    let mut with_others = spans.clone();
    with_others.extend(others_in_hours.iter().map(|s| s.on(&steps)));
    let observed = Tally::of(&spans, |_| 1.0, steps.len());
    let point = observed.population();
    let widest = Tally::of(&with_others, |_| 1.0, steps.len()).population();
    let last = steps.len() - 1;
    let (replicates, mut ratios) = bootstrap(&spans, steps.len(), point[last], config);
    let (hourly, weights) = banded_series(&steps, &observed, &point, &widest, &replicates, config);
    estimate.hourly = hourly;
    let end = estimate.hourly[last];
    estimate.at_end = Some(end);
    estimate.fit = (hosts.len() >= MIN_FIT_HOSTS).then(|| {
        fit_bands(
            &steps,
            &point,
            &replicates,
            &weights,
            end.seen as f64,
            config,
        )
    });

    let totals = observed.totals;
    let ratio = totals[0] * totals[2] / (totals[1] * totals[1]);
    assumptions.push(stopping(ratio, totals[0], &mut ratios, config.confidence));
    assumptions.push(hits_per_host(&end, rate, config.share));
    assumptions.push(address_churn(
        &hosts,
        end.population.estimate / end.seen.max(1) as f64,
    ));
    assumptions.push(match &estimate.fit {
        Some(fit) => growth(fit, config.from, config.to),
        None => too_few_to_fit(hosts.len()),
    });
    assumptions.push(labels(others.len(), point[last], widest[last]));
    estimate.assumptions = assumptions;
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exponential variate of mean `mean` from a uniform draw.
    fn exponential(rng: &mut SplitMix, mean: f64) -> f64 {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        -mean * (1.0 - u).ln()
    }

    /// A synthetic outbreak seen by a telescope: `n` hosts infected along a logistic curve
    /// over `days`, each hitting the telescope as a Poisson process at a rate log-uniform in
    /// `rates` (per hour) and stopping after an exponential time of mean `life` hours.
    /// Returns the observations and the true number infected by each hour's end.
    fn outbreak(
        n: usize,
        rates: (f64, f64),
        life: f64,
        days: i64,
        pattern: Pattern,
        seed: u64,
    ) -> (Vec<Observation>, Vec<u64>, EstimateConfig) {
        let mut rng = SplitMix(seed);
        let hours = days * 24;
        let period = hours as f64;
        let (mid, g) = (0.3 * period, 2.0 * 19f64.ln() / (0.4 * period));
        let from = 1_060_560_000;
        let mut observations = Vec::new();
        let mut infected_by = vec![0u64; hours as usize];
        for i in 1..=n {
            let a = (mid - (n as f64 / i as f64 - 1.0).ln() / g).max(0.0);
            if a >= period {
                continue;
            }
            for c in &mut infected_by[a as usize..] {
                *c += 1;
            }
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            let rate = (rates.0.ln() + u * (rates.1 / rates.0).ln()).exp();
            let stop = (a + exponential(&mut rng, life)).min(period);
            let mut t = a + exponential(&mut rng, 1.0 / rate);
            let src = format!("10.{}.{}.1", i / 256, i % 256);
            let mut hourly: Vec<(i64, u64, f64, f64)> = Vec::new();
            while t < stop {
                let hour = t as i64;
                let ts = from as f64 + t * HOUR as f64;
                match hourly.last_mut() {
                    Some(h) if h.0 == hour => {
                        h.1 += 1;
                        h.3 = ts;
                    }
                    _ => hourly.push((hour, 1, ts, ts)),
                }
                t += exponential(&mut rng, 1.0 / rate);
            }
            observations.extend(hourly.into_iter().map(|(hour, probes, first, last)| {
                Observation {
                    src: src.clone(),
                    hour: from + hour * HOUR,
                    first_seen: first,
                    last_seen: last,
                    probes,
                    pattern: if probes == 1 {
                        Pattern::Single
                    } else {
                        pattern
                    },
                }
            }));
        }
        let config = EstimateConfig {
            share: 1.0 / 65_536.0,
            from,
            to: from + hours * HOUR,
            confidence: 0.95,
            replicates: 100,
            seed: 7,
        };
        (observations, infected_by, config)
    }

    #[test]
    fn no_host_seen_once_is_no_reason_to_doubt_the_stopping_model() {
        // Every host seen at least twice: the ratio is 0, but nothing is extrapolated.
        let held = stopping(0.0, 0.0, &mut [0.0; 20], 0.95);
        assert_eq!(held.verdict, Verdict::Holds, "{}", held.detail);
        assert!(held.detail.contains("no unseen host"), "{}", held.detail);
        // With singletons, a ratio well below 1 is still a caveat.
        let doubted = stopping(0.2, 5.0, &mut [0.2; 20], 0.95);
        assert_eq!(doubted.verdict, Verdict::Doubtful, "{}", doubted.detail);
    }

    #[test]
    fn geometric_counts_give_back_the_population() {
        // Exponential active times of mean 10 h and a rate of 0.1/h: q = 0.5, so half the
        // hosts are never seen and f0 = f1²/f2 exactly in expectation.
        let (seen, once, twice) = (500.0, 250.0, 125.0);
        assert!((geometric(seen, once, twice) - 994.0).abs() < 0.1);
        assert!((chao_lower_bound(seen, once, twice) - 747.0).abs() < 0.1);
        assert_eq!(geometric(10.0, 0.0, 0.0), 10.0);
    }

    #[test]
    fn a_random_outbreak_with_many_hosts_unseen_is_estimated_within_its_band() {
        for seed in 1..=3 {
            let (obs, truth, config) = outbreak(2000, (0.02, 0.2), 30.0, 3, Pattern::Random, seed);
            let e = estimate(&obs, &[], &config);
            let end = e.at_end.unwrap();
            let true_end = *truth.last().unwrap() as f64;
            assert!(
                (end.seen as f64) < 0.8 * true_end,
                "a fifth or more must be unseen: {} of {true_end}",
                end.seen
            );
            let p = end.population;
            assert!(
                (p.estimate / true_end - 1.0).abs() < 0.15,
                "seed {seed}: {p:?} vs {true_end}"
            );
            assert!(
                p.low <= true_end && true_end <= p.high,
                "{p:?} vs {true_end}"
            );
            assert!(end.lower_bound <= p.estimate);
            // Mid-rise, most infected hosts have not been seen yet; the estimate still
            // follows the truth.
            let t = 30;
            let h = e.hourly[t];
            assert!(
                (h.population.estimate / truth[t] as f64 - 1.0).abs() < 0.25,
                "hour {t}: {h:?} vs {}",
                truth[t]
            );
            let fit = e.fit.unwrap();
            assert!(
                (fit.capacity.estimate / true_end - 1.0).abs() < 0.2,
                "{fit:?}"
            );
            // The curve's doubling time: ln 2 / (2 ln 19 / 28.8 h) = 3.4 h.
            let d = fit.doubling_hours;
            assert!(d.low <= 3.4 * 1.3 && d.high >= 3.4 / 1.3, "{d:?}");
            let verdict = |name: &str| {
                e.assumptions
                    .iter()
                    .find(|a| a.name == name)
                    .unwrap_or_else(|| panic!("{name} missing"))
                    .verdict
            };
            assert_eq!(verdict("uniform random scanning"), Verdict::Holds);
            assert_eq!(verdict("one address per host (no churn)"), Verdict::Holds);
            assert_eq!(
                verdict("logistic growth resolved in the window"),
                Verdict::Holds
            );
            // The rate: 0.02..0.2 per hour into a /16 is 0.36..3.6 probes/s everywhere.
            let r = e.median_probe_rate.unwrap();
            assert!((0.36..3.6).contains(&r), "{r}");
        }
    }

    #[test]
    fn hosts_lost_to_another_label_widen_the_upper_edge() {
        let (obs, truth, config) = outbreak(2000, (0.02, 0.2), 30.0, 3, Pattern::Random, 2);
        // Half the sources seen once or twice are labelled as something else.
        let mut totals: HashMap<&str, u64> = HashMap::new();
        for o in &obs {
            *totals.entry(&o.src).or_default() += o.probes;
        }
        let (kept, lost): (Vec<Observation>, Vec<Observation>) =
            obs.iter().cloned().partition(|o| {
                totals[o.src.as_str()] > 2 || o.src.bytes().map(u64::from).sum::<u64>() % 2 == 0
            });
        let true_end = *truth.last().unwrap() as f64;
        let alone = estimate(&kept, &[], &config);
        let e = estimate(&kept, &lost, &config);
        let (a, b) = (alone.at_end.unwrap(), e.at_end.unwrap());
        assert_eq!(a.population.estimate, b.population.estimate);
        assert!(a.population.high < true_end, "{a:?} vs {true_end}");
        assert!(b.population.high >= true_end, "{b:?} vs {true_end}");
        let labels = e
            .assumptions
            .iter()
            .find(|a| a.name == "labels settle membership");
        assert_eq!(labels.unwrap().verdict, Verdict::Doubtful);
    }

    #[test]
    fn the_same_data_gives_the_same_bands() {
        let (obs, _, config) = outbreak(500, (0.1, 1.0), 20.0, 2, Pattern::Random, 9);
        assert_eq!(estimate(&obs, &[], &config), estimate(&obs, &[], &config));
    }

    #[test]
    fn sequential_scanners_are_refused() {
        let (obs, _, config) = outbreak(500, (1.0, 5.0), 20.0, 2, Pattern::Sequential, 3);
        let e = estimate(&obs, &[], &config);
        assert!(e.at_end.is_none() && e.fit.is_none() && e.hourly.is_empty());
        let uniform = &e.assumptions[0];
        assert_eq!(uniform.name, "uniform random scanning");
        assert_eq!(uniform.verdict, Verdict::Fails);
        assert!(uniform.detail.contains("sequential"), "{}", uniform.detail);
    }

    #[test]
    fn sources_in_one_net_one_after_another_suggest_churn() {
        let (mut obs, _, config) = outbreak(300, (1.0, 5.0), 20.0, 2, Pattern::Random, 4);
        let late = Observation {
            src: "10.0.1.2".into(),
            hour: config.to - HOUR,
            first_seen: (config.to - 60) as f64,
            last_seen: (config.to - 30) as f64,
            probes: 2,
            pattern: Pattern::Random,
        };
        obs.push(late);
        let e = estimate(&obs, &[], &config);
        let churn = e
            .assumptions
            .iter()
            .find(|a| a.name.contains("churn"))
            .unwrap();
        assert_eq!(churn.verdict, Verdict::Doubtful, "{churn:?}");
    }

    #[test]
    fn a_step_at_hourly_resolution_is_reported_unresolved() {
        // Everything infected within the first hour (Slammer), seen for a day.
        let from = 1_043_452_800;
        let obs: Vec<Observation> = (0..300)
            .flat_map(|i| {
                (0..24).map(move |h| Observation {
                    src: format!("10.1.{}.{}", i / 200, i % 200),
                    hour: from + h * HOUR,
                    first_seen: (from + h * HOUR) as f64,
                    last_seen: (from + h * HOUR + 3000) as f64,
                    probes: 20,
                    pattern: Pattern::Random,
                })
            })
            .collect();
        let config = EstimateConfig {
            share: 1.0 / 65_536.0,
            from,
            to: from + 24 * HOUR,
            confidence: 0.9,
            replicates: 20,
            seed: 1,
        };
        let e = estimate(&obs, &[], &config);
        assert_eq!(e.at_end.unwrap().population.estimate, 300.0);
        let growth = e
            .assumptions
            .iter()
            .find(|a| a.name == "logistic growth resolved in the window")
            .unwrap();
        assert_eq!(growth.verdict, Verdict::Fails, "{growth:?}");
        let fit = e.fit.unwrap();
        assert!((fit.capacity.estimate - 300.0).abs() < 1.0, "{fit:?}");
    }

    /// A source-hour of `probes` probes, `hours` after `from`.
    fn row(src: &str, from: i64, hours: i64, probes: u64) -> Observation {
        let hour = from + hours * HOUR;
        Observation {
            src: src.to_owned(),
            hour,
            first_seen: (hour + 60) as f64,
            last_seen: (hour + 600) as f64,
            probes,
            pattern: if probes == 1 {
                Pattern::Single
            } else {
                Pattern::Random
            },
        }
    }

    #[test]
    fn a_window_of_years_costs_what_its_sources_cost() {
        // Twelve sources seen in a few hours of 2004 and 2017, in a window of 2000 to 2026
        // (228k hours): the operator's Sasser case, which ran for hours.
        let from = 946_684_800;
        let mut obs = Vec::new();
        for i in 0..12 {
            let src = format!("10.0.0.{i}");
            let start = if i < 9 { 38_000 + 2 * i } else { 153_000 + i };
            obs.push(row(&src, from, start, 1 + (i as u64 % 3)));
            if i % 2 == 0 {
                obs.push(row(&src, from, start + 5, 1));
            }
        }
        let config = |hours: i64| EstimateConfig {
            share: 1.0 / 65_536.0,
            from,
            to: from + hours * HOUR,
            confidence: 0.95,
            replicates: 20,
            seed: 1,
        };
        let mut ends = Vec::new();
        for hours in [160_000, 26 * 8766] {
            let config = config(hours);
            let hosts = hosts(&obs, &config);
            let spans: Vec<Spans> = hosts.iter().map(|h| Spans::of(h, hours as usize)).collect();
            let steps = Steps::of(&spans, hours as usize);
            // At most five changes per host and the window's ends; the fit's coarse grid is
            // 41 growth rates times the candidates, each scored in one pass over the steps.
            assert!(steps.len() <= 2 + 5 * hosts.len(), "{}", steps.len());
            let mids = midpoint_candidates(&steps).len();
            assert!(
                mids <= (steps.len() + 1) * (33 + 2 + GAP_MIDPOINTS),
                "{mids}"
            );
            let e = estimate(&obs, &[], &config);
            assert!(e.hourly.len() <= 2 + 5 * hosts.len(), "{}", e.hourly.len());
            assert_eq!(e.hourly[0].hour, config.from);
            assert_eq!(e.at_end.unwrap().hour, config.to - HOUR);
            assert!(e.fit.is_some());
            ends.push(e.at_end.unwrap().population);
        }
        // Quiet years at the end change nothing the sources say.
        assert_eq!(ends[0], ends[1]);
    }

    #[test]
    fn steps_give_the_hourly_series_of_every_hour() {
        // On a window where every hour changes, the steps are the hours: the estimate is
        // the one computed hour by hour.
        let (obs, _, config) = outbreak(300, (0.1, 1.0), 20.0, 2, Pattern::Random, 5);
        let e = estimate(&obs, &[], &config);
        let hours = ((config.to - config.from) / HOUR) as usize;
        let hosts = hosts(&obs, &config);
        let spans: Vec<Spans> = hosts.iter().map(|h| Spans::of(h, hours)).collect();
        let steps = Steps::of(&spans, hours);
        let by_hour = Tally::of(&spans, |_| 1.0, hours).population();
        assert_eq!(e.hourly.len(), steps.len());
        for (h, k) in e.hourly.iter().zip(0..) {
            let (a, b) = steps.range(k);
            assert_eq!(h.hour, config.from + a as i64 * HOUR);
            for (t, y) in by_hour.iter().enumerate().take(b).skip(a) {
                assert_eq!(*y, h.population.estimate, "hour {t}");
            }
        }
    }

    #[test]
    fn logistic_sums_match_the_sums_term_by_term() {
        for g in [GROWTH_RANGE.0, 0.05, 0.3, 1.0, GROWTH_RANGE.1] {
            for mid in [-40.5, 17.25, 2500.0, 9000.0] {
                for (first, last) in [(1, 1), (3, 70), (1, 5000), (4000, 20_000)] {
                    let (mut s1, mut s2) = (0.0, 0.0);
                    for j in first..=last {
                        let s = sigmoid(g * (j as f64 - mid));
                        s1 += s;
                        s2 += s * s;
                    }
                    let (e1, e2) = logistic_sums(g, mid, first, last);
                    let what = format!("g {g} mid {mid} {first}..={last}: {e1} {e2}");
                    assert!((e1 - s1).abs() < 1e-3 + 1e-9 * s1, "{what} vs {s1}");
                    assert!((e2 - s2).abs() < 1e-3 + 1e-9 * s2, "{what} vs {s2}");
                }
            }
        }
    }

    #[test]
    fn midpoints_cover_a_window_that_changes_every_hour() {
        // The lattice the fit searched before steps: −48 to the end plus 48, every 3 hours.
        let steps = Steps {
            starts: (0..72).collect(),
            hours: 72,
        };
        let lattice: Vec<f64> = (0..=56).map(|k| -48.0 + 3.0 * f64::from(k)).collect();
        assert_eq!(midpoint_candidates(&steps), lattice);
    }

    #[test]
    fn bands_never_fall_below_the_hosts_seen() {
        // The operator's Slammer case: two hosts, each seen once, in two hours.
        let from = 1_094_155_200;
        let obs = [row("24.6.1.1", from, 0, 1), row("24.6.2.2", from, 1, 1)];
        let config = EstimateConfig {
            share: 1.0 / 65_536.0,
            from,
            to: from + 2 * HOUR,
            confidence: 0.95,
            replicates: 200,
            seed: 1,
        };
        let e = estimate(&obs, &[], &config);
        for h in &e.hourly {
            assert!(h.population.low >= h.seen as f64, "{h:?}");
            assert!(h.population.high.is_finite(), "{h:?}");
        }
        assert_eq!(e.at_end.unwrap().population.low, 2.0);
        // Two hosts cannot shape a curve: no plateau rather than one up to 10^78.
        assert!(e.fit.is_none(), "{:?}", e.fit);
        let growth = e
            .assumptions
            .iter()
            .find(|a| a.name == "logistic growth resolved in the window")
            .unwrap();
        assert_eq!(growth.verdict, Verdict::Fails);
        assert!(
            growth.detail.contains("no upper bound"),
            "{}",
            growth.detail
        );
    }

    #[test]
    fn a_plateau_not_reached_has_no_upper_bound() {
        // New hosts every hour, ever more of them, each seen twice: the series is still
        // rising steeply at the end, so no plateau is bounded by it.
        let from = 1_094_155_200;
        let obs: Vec<Observation> = (0..24i64)
            .flat_map(|h| {
                let new = 1.25f64.powi(h as i32).round() as i64;
                (0..new).map(move |i| row(&format!("10.{h}.{}.1", i), from, h, 2))
            })
            .collect();
        let config = EstimateConfig {
            share: 1.0 / 65_536.0,
            from,
            to: from + 24 * HOUR,
            confidence: 0.95,
            replicates: 50,
            seed: 1,
        };
        let e = estimate(&obs, &[], &config);
        let end = e.at_end.unwrap();
        let k = e.fit.unwrap().capacity;
        assert!(k.high.is_infinite(), "{k:?}");
        assert!(
            k.low >= end.seen as f64 && k.estimate >= k.low,
            "{k:?} {end:?}"
        );
        let growth = e
            .assumptions
            .iter()
            .find(|a| a.name == "logistic growth resolved in the window")
            .unwrap();
        assert!(
            growth.detail.contains("no upper bound"),
            "{}",
            growth.detail
        );
    }

    #[test]
    fn poisson_limits_match_tables() {
        // Garwood's limits: 0 observed gives -ln(0.025) = 3.689 at 97.5%; 10 gives 18.39.
        assert!((poisson_upper(0, 0.025) - 3.689).abs() < 1e-3);
        assert!((poisson_upper(10, 0.025) - 18.39).abs() < 1e-2);
    }

    #[test]
    fn quantiles_interpolate() {
        let mut v = vec![3.0, 1.0, 2.0, 4.0];
        assert_eq!(quantile(&mut v, 0.0), 1.0);
        assert_eq!(quantile(&mut v, 1.0), 4.0);
        assert!((quantile(&mut v, 0.5) - 2.5).abs() < 1e-12);
    }
}
