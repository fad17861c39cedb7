//! Sequential scanning as a telescope sees it.
//!
//! Blaster and Welchia pick a start address and walk upward one address at a time. Only
//! the part of the walk inside the telescope is captured, so the simulator models just
//! that: a source shows up in *runs*, each a stretch of consecutive telescope addresses
//! probed at the host's pace, until the walk is interrupted (the host reboots, which
//! Blaster itself provokes by crashing the RPC service, or goes offline) and later
//! re-enters the telescope.
//!
//! A run starts either at the telescope's lower edge (a walk arriving from the addresses
//! below, as Blaster's "local /16" start often does; 40%) or at a /24 boundary inside it
//! (Blaster's random start is `A.B.C.0`; 60%).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Env;
use crate::random::{exponential, log_uniform};

/// How a worm paces its probes: bursts of `batch` probes a few hundred microseconds
/// apart, then a pause (Blaster connects to 20 addresses, then waits for answers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    pub batch: u32,
    /// Gap between probes in a burst, microseconds, uniform in `[lo, hi)`.
    pub intra_us: (u64, u64),
    /// Mean pause after a burst, microseconds (each pause varies by ±15%).
    pub pause_us: f64,
}

/// How long runs are and how often a walk re-enters the telescope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs {
    /// Probes per run, log-uniform in `[lo, hi)`.
    pub length: (f64, f64),
    /// Mean time from the end of one run to the start of the next, microseconds.
    pub gap_us: f64,
}

/// The telescope part of one host's sequential walk.
#[derive(Debug)]
pub(crate) struct Walk {
    pacing: Pacing,
    runs: Runs,
    /// When the next probe is due; `u64::MAX` once the walk has ended.
    next_us: u64,
    /// Offset of the next destination inside the telescope.
    offset: u64,
    /// Probes left in the current run.
    left: u64,
    /// Probes sent in the current burst.
    in_batch: u32,
}

impl Walk {
    /// A walk whose first run starts at `first_us`.
    pub(crate) fn new(
        first_us: u64,
        pacing: Pacing,
        runs: Runs,
        env: &Env,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut w = Self {
            pacing,
            runs,
            next_us: u64::MAX,
            offset: 0,
            left: 0,
            in_batch: 0,
        };
        w.start_run(first_us, env, rng);
        w
    }

    fn start_run(&mut self, at: u64, env: &Env, rng: &mut ChaCha8Rng) {
        if at >= env.end_us {
            self.next_us = u64::MAX;
            return;
        }
        let size = env.telescope.size();
        self.offset = if rng.random_bool(0.4) {
            0
        } else {
            rng.random_range(0..size.div_ceil(256)) * 256
        };
        let length = log_uniform(rng, self.runs.length.0, self.runs.length.1) as u64;
        self.left = length.clamp(1, size - self.offset);
        self.in_batch = 0;
        self.next_us = at;
    }

    /// When the next probe is due (`u64::MAX` when the walk has ended).
    pub(crate) fn next_us(&self) -> u64 {
        self.next_us
    }

    /// Takes the destination of the probe due at [`Self::next_us`] and schedules the next.
    pub(crate) fn step(&mut self, env: &Env, rng: &mut ChaCha8Rng) -> u32 {
        let now = self.next_us;
        let dst = env.telescope.base().wrapping_add(self.offset as u32);
        self.offset += 1;
        self.left -= 1;
        self.in_batch += 1;
        if self.left == 0 {
            let gap = exponential(rng, self.runs.gap_us) as u64;
            self.start_run(now.saturating_add(gap.max(1)), env, rng);
        } else if self.in_batch == self.pacing.batch {
            self.in_batch = 0;
            self.next_us = now + (self.pacing.pause_us * rng.random_range(0.85..1.15)) as u64;
        } else {
            let (lo, hi) = self.pacing.intra_us;
            self.next_us = now + rng.random_range(lo..hi);
        }
        dst
    }
}
