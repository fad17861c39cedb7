//! Small distributions and the daily rhythm shared by all traffic models.

use rand::Rng;

use crate::time::MICROS;

/// A value whose logarithm is uniform in `[ln lo, ln hi)`: heavy-ish tails, as seen in
/// per-source packet counts and rates on real telescopes.
pub(crate) fn log_uniform<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..hi.ln())).exp()
}

/// An exponential gap with the given mean (inter-arrival time of a Poisson process).
pub(crate) fn exponential<R: Rng>(rng: &mut R, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() * mean
}

/// Relative activity at a time of day (mean 1.0): background radiation follows the
/// sources' local daytime, which for a mostly Asian/European/American mix gives a mild
/// daily swing; here it peaks at 14:00 UTC.
pub(crate) fn diurnal(ts_us: u64) -> f64 {
    let day = 86_400 * MICROS;
    let phase = (ts_us % day) as f64 / day as f64;
    1.0 + 0.35 * (std::f64::consts::TAU * (phase - 8.0 / 24.0)).sin()
}

/// Peak of [`diurnal`], for rejection sampling.
pub(crate) const DIURNAL_MAX: f64 = 1.35;

/// A start time in `[from, to)` drawn with density proportional to [`diurnal`].
pub(crate) fn diurnal_instant<R: Rng>(rng: &mut R, from: u64, to: u64) -> u64 {
    loop {
        let t = rng.random_range(from..to);
        if rng.random::<f64>() * DIURNAL_MAX < diurnal(t) {
            return t;
        }
    }
}

/// `x` rounded down or up at random, so that on average it is `x`: small scales still get
/// their share of rare sources.
pub(crate) fn round_stochastic<R: Rng>(rng: &mut R, x: f64) -> usize {
    x.floor() as usize + usize::from(rng.random_bool(x.fract()))
}

/// ZMap's fixed IP ID (releases before 2.1.0).
pub(crate) const ZMAP_IP_ID: u16 = 54_321;

/// The IP ID Masscan derives from a SYN's destination, port and sequence number.
pub(crate) fn masscan_id(dst: u32, dport: u16, seq: u32) -> u16 {
    (dst ^ u32::from(dport) ^ seq) as u16
}

/// A random IP ID for a SYN that must not look like a scanning tool's: real stacks match
/// ZMap's constant or Masscan's relation once in about 32768 packets, enough for a few
/// coincidences per capture, which would make a per-packet classifier disagree with the
/// ground truth for reasons that have nothing to do with it. Such IDs are nudged instead.
pub(crate) fn plain_id<R: Rng>(rng: &mut R, dst: u32, dport: u16, seq: u32) -> u16 {
    let mut id: u16 = rng.random();
    while id == ZMAP_IP_ID || id == masscan_id(dst, dport, seq) {
        id = id.wrapping_add(1);
    }
    id
}

/// Picks an item with probability proportional to its weight.
pub(crate) fn weighted<'a, T, R: Rng>(rng: &mut R, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn diurnal_swings_around_one() {
        let hour = 3600 * MICROS;
        assert!((diurnal(14 * hour) - DIURNAL_MAX).abs() < 1e-9);
        assert!((diurnal(2 * hour) - 0.65).abs() < 1e-9);
        let mean: f64 = (0..24).map(|h| diurnal(h * hour)).sum::<f64>() / 24.0;
        assert!((mean - 1.0).abs() < 1e-9);
    }

    #[test]
    fn distributions_stay_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let x = log_uniform(&mut rng, 2.0, 50.0);
            assert!((2.0..50.0).contains(&x));
            assert!(exponential(&mut rng, 3.0) >= 0.0);
            assert!(*weighted(&mut rng, &[(1, 0), (2, 5)]) == 2);
        }
    }
}
