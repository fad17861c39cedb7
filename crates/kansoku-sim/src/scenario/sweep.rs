//! Tool scans (ZMap, Masscan): one scan probes each of its targets exactly once, in a
//! permuted order, at a constant rate, and then the operator starts another after a pause.
//!
//! A scan of the whole Internet at rate `R` reaches a telescope of `T` addresses at
//! `R * T / 2^32` probes per second, so a gigabit ZMap scan (1.4 Mpps, 45 minutes) puts
//! about 24 SYNs per second into a /16, every address exactly once. Scans that sample
//! part of the Internet (ZMap's `--max-targets`, an interrupted Masscan run) cover only a
//! prefix of the permutation.

use rand_chacha::ChaCha8Rng;

use super::Env;
use super::permute::Permutation;
use crate::random::{exponential, log_uniform};
use crate::time::MICROS;

/// When an operator whose scan ended at `now` starts the next one: after a pause of
/// log-uniform `pause_s` seconds, or `None` when that falls after the capture (the source
/// has then finished).
pub(crate) fn next_scan_at(
    now: u64,
    pause_s: (f64, f64),
    env: &Env,
    rng: &mut ChaCha8Rng,
) -> Option<u64> {
    let pause = log_uniform(rng, pause_s.0, pause_s.1) * MICROS as f64;
    let at = now.saturating_add(pause as u64);
    (at < env.end_us).then_some(at)
}

/// One scan's progress through its targets.
#[derive(Debug)]
pub(crate) struct Sweep {
    order: Permutation,
    count: u64,
    sent: u64,
    mean_gap_us: f64,
    next_us: u64,
}

impl Sweep {
    /// A scan of `count` of the `space` targets, starting at `start_us`, at `pps` telescope
    /// probes per second (arrivals jitter a little, as send queues and paths do).
    pub(crate) fn new(
        space: u64,
        count: u64,
        pps: f64,
        start_us: u64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        Self {
            order: Permutation::new(space, rng),
            count: count.clamp(1, space),
            sent: 0,
            mean_gap_us: MICROS as f64 / pps,
            next_us: start_us,
        }
    }

    /// When the next probe is due.
    pub(crate) fn next_us(&self) -> u64 {
        self.next_us
    }

    /// The target (an index into the space) of the probe due at [`Self::next_us`], and
    /// whether the scan has more; if so the next probe is scheduled.
    pub(crate) fn step(&mut self, rng: &mut ChaCha8Rng) -> (u64, bool) {
        let target = self.order.get(self.sent);
        self.sent += 1;
        let more = self.sent < self.count;
        if more {
            self.next_us += exponential(rng, self.mean_gap_us).max(1.0) as u64;
        }
        (target, more)
    }
}
