//! The infected population of an outbreak: a logistic curve.
//!
//! Random-scanning worms grow like an epidemic in a fixed susceptible population
//! (Staniford, Paxson, Weaver: "How to 0wn the Internet in Your Spare Time", 2002):
//! `I(t) = K / (1 + exp(-r (t - t0)))`. The simulator lets host number `n` appear at the
//! moment `floor(I(t))` reaches `n`.

/// A logistic growth curve over a capture period (times in microseconds from its start).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logistic {
    /// Carrying capacity K: hosts that will eventually be seen.
    capacity: f64,
    /// Growth rate r, per microsecond.
    rate: f64,
    /// Inflection point t0.
    midpoint: f64,
}

impl Logistic {
    /// The curve used for outbreaks: the inflection 30% into the period and a steepness that
    /// takes the population from 5% to 95% of K within 40% of the period, so any period
    /// shows the onset, the surge and the saturation.
    pub(crate) fn for_period(capacity: f64, period_us: u64) -> Self {
        let period = period_us as f64;
        Self::new(capacity, 0.3 * period, 0.4 * period)
    }

    /// A curve with its inflection at `midpoint_us` that rises from 5% to 95% of
    /// `capacity` within `rise_us`.
    pub(crate) fn new(capacity: f64, midpoint_us: f64, rise_us: f64) -> Self {
        Self {
            capacity,
            rate: 2.0 * 19f64.ln() / rise_us,
            midpoint: midpoint_us,
        }
    }

    /// I(t).
    pub(crate) fn infected(&self, t_us: f64) -> f64 {
        self.capacity / (1.0 + (-self.rate * (t_us - self.midpoint)).exp())
    }

    /// The time at which host `n` (1-based) is infected, `I^-1(n)`, clamped to 0 for hosts
    /// infected before the capture started.
    fn arrival(&self, n: f64) -> u64 {
        let t = self.midpoint - (self.capacity / n - 1.0).ln() / self.rate;
        t.max(0.0) as u64
    }

    /// Infection times of every host that appears within the period, in order.
    pub(crate) fn arrivals(&self, period_us: u64) -> Vec<u64> {
        let total = self.infected(period_us as f64).floor() as u64;
        (1..=total)
            .map(|n| self.arrival(n as f64))
            .filter(|&t| t < period_us)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_follow_the_curve() {
        let period = 72 * 3_600_000_000u64;
        let l = Logistic::for_period(1000.0, period);
        let a = l.arrivals(period);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(a.len() >= 990 && a.len() <= 1000, "{}", a.len());
        // At the inflection half of K is infected.
        let half = a
            .iter()
            .filter(|&&t| (t as f64) <= 0.3 * period as f64)
            .count();
        assert!((495..=505).contains(&half), "{half}");
        // Hosts infected before the start appear at 0; they are few.
        let at_zero = a.iter().filter(|&&t| t == 0).count();
        assert!(at_zero > 0 && at_zero < 30, "{at_zero}");
        assert!((l.infected(0.3 * period as f64) - 500.0).abs() < 1e-6);
    }
}
