//! Traffic models: who sends what to the telescope, and when.
//!
//! Each simulated host is a [`Source`] whose [`Behaviour`] writes the frame due at a given
//! time and says when its next one is due. The engine interleaves sources by time, so a
//! model only has to know its own schedule.

pub(crate) mod background;
pub(crate) mod blaster;
pub(crate) mod conficker;
pub(crate) mod masscan;
pub(crate) mod mirai;
pub(crate) mod mixed;
mod permute;
mod random_scan;
mod retransmit;
pub(crate) mod sasser;
pub(crate) mod slammer;
mod sweep;
mod walk;
pub(crate) mod welchia;
mod windows;
mod windows_scan;
pub(crate) mod zmap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::net::{AddressPool, Prefix};
use crate::population::Logistic;
use crate::time::MICROS;
use crate::truth::Tally;

/// What every model needs to know about the capture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env {
    pub telescope: Prefix,
    /// Capture start and end, Unix microseconds; packets at or after `end_us` are not captured.
    pub start_us: u64,
    pub end_us: u64,
    /// Multiplies the number of sources (and so all packet rates).
    pub scale: f64,
}

impl Env {
    pub(crate) fn period_us(&self) -> u64 {
        self.end_us - self.start_us
    }
}

/// The ground-truth class of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Blaster,
    Welchia,
    Slammer,
    Sasser,
    Conficker,
    Mirai,
    /// ZMap scans, research or otherwise (IP ID 54321).
    Zmap,
    /// Masscan scans (IP ID derived from destination, port and sequence number).
    Masscan,
    /// Other scanners, with ordinary Linux stacks.
    Scan,
    UdpNoise,
    Backscatter,
}

impl Class {
    /// Every class, in the order of [`crate::TRUTH_CLASSES`].
    #[cfg(test)]
    pub(crate) const ALL: [Class; 11] = [
        Class::Blaster,
        Class::Welchia,
        Class::Slammer,
        Class::Sasser,
        Class::Conficker,
        Class::Mirai,
        Class::Zmap,
        Class::Masscan,
        Class::Backscatter,
        Class::Scan,
        Class::UdpNoise,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Class::Blaster => "blaster",
            Class::Welchia => "welchia",
            Class::Slammer => "slammer",
            Class::Sasser => "sasser",
            Class::Conficker => "conficker",
            Class::Mirai => "mirai",
            Class::Zmap => "zmap",
            Class::Masscan => "masscan",
            Class::Scan => "scan",
            Class::UdpNoise => "udp-noise",
            Class::Backscatter => "backscatter",
        }
    }
}

/// The traffic model of one source.
pub(crate) enum Behaviour {
    Scan(background::Scanner),
    Udp(background::UdpNoise),
    Backscatter(background::Backscatter),
    Blaster(blaster::Blaster),
    Welchia(welchia::Welchia),
    Slammer(slammer::Slammer),
    Sasser(windows_scan::WindowsScanner),
    Conficker(windows_scan::WindowsScanner),
    Mirai(mirai::Mirai),
    Zmap(zmap::Zmap),
    Masscan(masscan::Masscan),
}

impl Behaviour {
    pub(crate) fn class(&self) -> Class {
        match self {
            Behaviour::Scan(s) => s.class(),
            Behaviour::Udp(_) => Class::UdpNoise,
            Behaviour::Backscatter(_) => Class::Backscatter,
            Behaviour::Blaster(_) => Class::Blaster,
            Behaviour::Welchia(_) => Class::Welchia,
            Behaviour::Slammer(_) => Class::Slammer,
            Behaviour::Sasser(_) => Class::Sasser,
            Behaviour::Conficker(_) => Class::Conficker,
            Behaviour::Mirai(_) => Class::Mirai,
            Behaviour::Zmap(_) => Class::Zmap,
            Behaviour::Masscan(_) => Class::Masscan,
        }
    }

    /// The DoS victim a backscatter source's answers are about.
    pub(crate) fn victim(&self, addr: u32) -> Option<u32> {
        match self {
            Behaviour::Backscatter(b) => Some(b.victim(addr)),
            _ => None,
        }
    }

    /// Writes the frame this source sends at `now` into `frame` and returns the time of
    /// its next frame (never earlier than `now`), or `None` when it has finished.
    pub(crate) fn emit(
        &mut self,
        addr: u32,
        now: u64,
        env: &Env,
        rng: &mut ChaCha8Rng,
        frame: &mut Vec<u8>,
    ) -> Option<u64> {
        match self {
            Behaviour::Scan(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Udp(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Backscatter(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Blaster(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Welchia(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Slammer(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Sasser(s) | Behaviour::Conficker(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Mirai(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Zmap(s) => s.emit(addr, now, env, rng, frame),
            Behaviour::Masscan(s) => s.emit(addr, now, env, rng, frame),
        }
    }
}

/// One simulated host.
pub(crate) struct Source {
    pub addr: u32,
    /// When its first frame is due (Unix microseconds).
    pub first_us: u64,
    pub behaviour: Behaviour,
    pub tally: Tally,
    /// Outbreak hosts only: when the host was infected and began to scan (Unix
    /// microseconds), whether or not any probe ever reaches the telescope. It is what the
    /// truth's infected population counts, so population estimates are checked against the
    /// simulation's own hosts rather than against the curve that placed them.
    pub infected_us: Option<u64>,
}

impl Source {
    pub(crate) fn new(addr: u32, first_us: u64, behaviour: Behaviour) -> Self {
        Self {
            addr,
            first_us,
            behaviour,
            tally: Tally::default(),
            infected_us: None,
        }
    }

    /// The source of an outbreak host infected at `infected_us`.
    pub(crate) fn infected(
        addr: u32,
        infected_us: u64,
        first_us: u64,
        behaviour: Behaviour,
    ) -> Self {
        Self {
            infected_us: Some(infected_us),
            ..Self::new(addr, first_us, behaviour)
        }
    }
}

/// The next-packet time a model reports to the engine: schedules such as
/// [`walk::Walk`] and [`random_scan::RandomScan`] mark their end with `u64::MAX`, which
/// [`Behaviour::emit`] reports as `None`.
pub(crate) fn due(next_us: u64) -> Option<u64> {
    (next_us != u64::MAX).then_some(next_us)
}

/// One source per infected host, given the hosts' infection times: `model` builds a host's
/// behaviour and says when its first packet is due, and then its address is drawn. The
/// per-host order of random draws (model, then address) is part of the output, so every
/// outbreak spawned host by host goes through here.
pub(crate) fn infected_sources(
    infected: Vec<u64>,
    pool: &mut AddressPool,
    rng: &mut ChaCha8Rng,
    mut model: impl FnMut(u64, &mut ChaCha8Rng) -> (u64, Behaviour),
) -> Vec<Source> {
    infected
        .into_iter()
        .map(|infected_us| {
            let (first_us, behaviour) = model(infected_us, rng);
            Source::infected(pool.draw(rng), infected_us, first_us, behaviour)
        })
        .collect()
}

/// First-probe times of the hosts an outbreak of `hosts` (at scale 1) infects: a host
/// starts scanning within a minute of its infection; hosts infected before the capture
/// began show up during its first hour.
pub(crate) fn infected_hosts(hosts: f64, env: &Env, rng: &mut ChaCha8Rng) -> Vec<u64> {
    let curve = Logistic::for_period(hosts * env.scale, env.period_us());
    infected_along(curve, env, rng)
}

/// First-probe times of the hosts infected along `curve` (whose capacity already includes
/// the scale), as in [`infected_hosts`].
pub(crate) fn infected_along(curve: Logistic, env: &Env, rng: &mut ChaCha8Rng) -> Vec<u64> {
    let period = env.period_us();
    curve
        .arrivals(period)
        .into_iter()
        .map(|t| {
            let delay = if t == 0 {
                rng.random_range(0..3600 * MICROS)
            } else {
                rng.random_range(0..60 * MICROS)
            };
            env.start_us + (t + delay).min(period - 1)
        })
        .collect()
}
