//! A Windows worm that random-scans TCP 445 through the host's own TCP stack (Sasser,
//! Conficker): connect() SYNs with the Windows 2000/XP layout, retransmitted at +3 s and
//! +9 s, to destinations drawn by the worm's address generator.
//!
//! The host-wide counters move with every connection the telescope does not see: the IP ID
//! (one per packet, three packets per unanswered connection) and the ephemeral source port
//! (1025..5000, one per connection), so consecutive telescope SYNs from one host show large,
//! time-proportional jumps in both rather than steps of one.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::random_scan::{RandomScan, uniform_hit};
use super::retransmit::Retransmits;
use super::windows::{self, SynStack};
use super::{Behaviour, Env, Source, infected_hosts};
use crate::net::AddressPool;
use crate::random::log_uniform;

pub(crate) const PORT: u16 = 445;
/// Windows 2000/XP ephemeral ports.
const EPHEMERAL: (u16, u16) = (1025, 5000);

/// How a worm picks destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Targets {
    /// Uniform over all of IPv4.
    Uniform,
    /// Conficker A/B: the PRNG yields 15-bit values, two of which form an address's 16-bit
    /// halves; stored little-endian, the always-zero bit 15 of each half becomes the top bit
    /// of the 2nd and 4th octets, so only a quarter of IPv4 (2^30 addresses) is ever probed.
    Conficker,
}

/// Address bits Conficker's generator never sets.
const CONFICKER_ZERO: u32 = 0x0080_0080;

impl Targets {
    /// The fraction of the generator's addresses that fall in the telescope.
    fn hit(self, env: &Env) -> f64 {
        match self {
            Targets::Uniform => uniform_hit(env),
            Targets::Conficker => {
                let t = env.telescope;
                let host_mask = (t.size() - 1) as u32;
                if t.base() & CONFICKER_ZERO != 0 {
                    return 0.0;
                }
                let forced = (CONFICKER_ZERO & host_mask).count_ones();
                (t.size() >> forced) as f64 / 2f64.powi(30)
            }
        }
    }

    /// A destination inside the telescope (uniform over the ones the generator can reach).
    fn pick(self, env: &Env, rng: &mut ChaCha8Rng) -> u32 {
        let dst = env.telescope.random(rng);
        match self {
            Targets::Uniform => dst,
            // Clearing host bits keeps the address inside the telescope and maps the same
            // number of addresses onto each reachable one.
            Targets::Conficker => dst & !(CONFICKER_ZERO & (env.telescope.size() - 1) as u32),
        }
    }
}

/// What distinguishes one such worm from another.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// Distinct infected hosts at scale 1 (along the standard logistic curve).
    pub hosts: f64,
    /// Connection attempts per second per host, log-uniform.
    pub pps: (f64, f64),
    /// Share of attempts that go to addresses drawn by `targets` (the rest stay local).
    pub random_share: f64,
    pub targets: Targets,
    /// Mean time a host keeps scanning, microseconds.
    pub life_us: f64,
}

/// One infected Windows host.
#[derive(Debug)]
pub(crate) struct WindowsScanner {
    targets: Targets,
    scan: RandomScan,
    retransmit: Retransmits,
    stack: SynStack,
    ip_id: u16,
    sport: u16,
    /// Time of the previous packet and of the previous new connection.
    last_packet_us: u64,
    last_connect_us: u64,
}

impl WindowsScanner {
    fn new(infected_us: u64, p: &Profile, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        let pps = log_uniform(rng, p.pps.0, p.pps.1);
        let hit = p.random_share * p.targets.hit(env);
        Self {
            targets: p.targets,
            scan: RandomScan::new(infected_us, pps, hit, p.life_us, env, rng),
            retransmit: Retransmits::new(rng.random_range(0..15_000)),
            stack: SynStack::new(rng, 0.7),
            ip_id: rng.random(),
            sport: rng.random_range(EPHEMERAL.0..=EPHEMERAL.1),
            last_packet_us: infected_us,
            last_connect_us: infected_us,
        }
    }

    /// When its first telescope packet is due (`u64::MAX` if it never reaches it).
    fn first_us(&self) -> u64 {
        self.scan.next_us()
    }

    pub(crate) fn emit(
        &mut self,
        addr: u32,
        now: u64,
        env: &Env,
        rng: &mut ChaCha8Rng,
        frame: &mut Vec<u8>,
    ) -> Option<u64> {
        let probe = if let Some(p) = self.retransmit.take(now) {
            p
        } else {
            debug_assert_eq!(self.scan.next_us(), now);
            let dst = self.targets.pick(env, rng);
            let span = u64::from(EPHEMERAL.1 - EPHEMERAL.0) + 1;
            let unseen = self.scan.sent_between(self.last_connect_us, now);
            let offset = (u64::from(self.sport - EPHEMERAL.0) + unseen + 1) % span;
            self.sport = EPHEMERAL.0 + offset as u16;
            self.last_connect_us = now;
            self.scan.advance(rng);
            self.retransmit.sent(now, dst, self.sport, rng.random())
        };
        // Three packets per unseen connection.
        let unseen = 3 * self.scan.sent_between(self.last_packet_us, now);
        self.ip_id = windows::next_ip_id(self.ip_id, unseen);
        self.last_packet_us = now;
        self.stack.syn(frame, addr, self.ip_id, &probe, PORT);
        self.retransmit.next_with(self.scan.next_us())
    }
}

/// The infected hosts of a worm with profile `p`, as sources whose behaviour `label` makes
/// from their scanner (it names the worm in the truth). All hosts are modelled before any
/// address is drawn; that order of random draws is part of the output.
pub(crate) fn spawn(
    p: &Profile,
    label: fn(WindowsScanner) -> Behaviour,
    env: &Env,
    pool: &mut AddressPool,
    rng: &mut ChaCha8Rng,
) -> Vec<Source> {
    let scanners: Vec<_> = infected_hosts(p.hosts, env, rng)
        .into_iter()
        .map(|infected| (infected, WindowsScanner::new(infected, p, env, rng)))
        .collect();
    scanners
        .into_iter()
        .map(|(infected, s)| Source::infected(pool.draw(rng), infected, s.first_us(), label(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Prefix;

    fn env(addr: [u8; 4], len: u8) -> Env {
        Env {
            telescope: Prefix::new(addr, len).unwrap(),
            start_us: 0,
            end_us: 1,
            scale: 1.0,
        }
    }

    #[test]
    fn conficker_reaches_half_of_a_low_16() {
        let e = env([198, 18, 0, 0], 16);
        assert_eq!(Targets::Conficker.hit(&e), 32_768.0 / 2f64.powi(30));
        assert_eq!(Targets::Conficker.hit(&env([198, 200, 0, 0], 16)), 0.0);
        assert_eq!(Targets::Conficker.hit(&env([10, 0, 0, 0], 8)), 1.0 / 256.0);
        assert_eq!(Targets::Uniform.hit(&e), 1.0 / 65_536.0);
    }
}
