//! Random scanning as a telescope sees it.
//!
//! A host that picks each destination at random from a space of `S` addresses hits a
//! telescope holding `T` of them with probability `T / S` per probe, so the telescope sees a
//! thinned Poisson process at `pps * T / S`: a host probing 200 addresses a second shows up
//! in a /16 about once every 5.5 minutes. Hosts stop after a random lifetime (patched,
//! cleaned, rebooted or taken offline), which is what makes outbreak populations decay.

use rand_chacha::ChaCha8Rng;

use super::Env;
use crate::random::exponential;
use crate::time::MICROS;

/// When a random-scanning host's probes reach the telescope.
#[derive(Debug)]
pub(crate) struct RandomScan {
    /// Time of the next telescope probe; `u64::MAX` once the host has stopped.
    next_us: u64,
    /// The host stops scanning at this time.
    until_us: u64,
    mean_gap_us: f64,
    /// Probes the host sends per second, everywhere.
    pps: f64,
}

impl RandomScan {
    /// A host infected at `infected_us` that sends `pps` probes per second, of which a
    /// fraction `hit` reaches the telescope, for a lifetime of mean `life_us`.
    pub(crate) fn new(
        infected_us: u64,
        pps: f64,
        hit: f64,
        life_us: f64,
        env: &Env,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let until_us = infected_us
            .saturating_add(exponential(rng, life_us) as u64)
            .min(env.end_us);
        let mut s = Self {
            next_us: infected_us,
            until_us,
            mean_gap_us: if hit > 0.0 {
                MICROS as f64 / (pps * hit)
            } else {
                f64::INFINITY
            },
            pps,
        };
        s.advance(rng);
        s
    }

    /// When the next telescope probe is due (`u64::MAX` when there is none).
    pub(crate) fn next_us(&self) -> u64 {
        self.next_us
    }

    /// Schedules the probe after the one due at [`Self::next_us`].
    pub(crate) fn advance(&mut self, rng: &mut ChaCha8Rng) {
        let gap = exponential(rng, self.mean_gap_us);
        let next = self.next_us as f64 + gap.max(1.0);
        self.next_us = if next < self.until_us as f64 {
            next as u64
        } else {
            u64::MAX
        };
    }

    /// How many probes the host sent between two instants, everywhere (for host-wide
    /// counters such as the IP ID and the ephemeral port, which advance with every probe
    /// the telescope does not see).
    pub(crate) fn sent_between(&self, from_us: u64, to_us: u64) -> u64 {
        (to_us.saturating_sub(from_us) as f64 * self.pps / MICROS as f64) as u64
    }
}

/// The fraction of a uniformly random IPv4 address stream that lands in the telescope.
pub(crate) fn uniform_hit(env: &Env) -> f64 {
    env.telescope.size() as f64 / 2f64.powi(32)
}
