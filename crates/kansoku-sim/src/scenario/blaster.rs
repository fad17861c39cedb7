//! W32/Blaster (MSBlast, August 2003) as seen from a darknet: TCP SYNs to port 135.
//!
//! Header facts modelled (CERT CA-2003-20; Symantec and NICTER/TSUBAME write-ups; the
//! Windows 2000/XP TCP stack): SYN with options MSS 1460, NOP, NOP, SACK-permitted; DF set;
//! initial TTL 128; window 64240 (XP) or 65535 (2000); IP ID from a host-wide counter that
//! increments per packet; ephemeral source ports 1025..5000 taken in order; sequential
//! destinations in bursts of 20; and, because nothing in a darknet answers, each SYN
//! retransmitted after 3 s and again 6 s later (+9 s) with the same port and sequence.
//! No payload is ever sent.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::retransmit::Retransmits;
use super::walk::{Pacing, Runs, Walk};
use super::windows::SynStack;
use super::{Behaviour, Env, Source, infected_hosts, infected_sources};
use crate::net::AddressPool;
use crate::random::log_uniform;
use crate::time::MICROS;

pub(crate) const PORT: u16 = 135;
/// Distinct infected hosts the telescope eventually sees at scale 1.
const HOSTS: f64 = 1500.0;

/// One infected Windows host.
#[derive(Debug)]
pub(crate) struct Blaster {
    walk: Walk,
    stack: SynStack,
    ip_id: u16,
    sport: u16,
    retransmit: Retransmits,
}

impl Blaster {
    fn new(first_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        // Bursts of 20 connects, then a pause of about 1.8 s; hosts differ in speed.
        let pacing = Pacing {
            batch: 20,
            intra_us: (50, 400),
            pause_us: log_uniform(rng, 0.6, 3.0) * MICROS as f64,
        };
        let runs = Runs {
            length: (12.0, 72.0),
            gap_us: 30.0 * 3600.0 * MICROS as f64,
        };
        Self {
            walk: Walk::new(first_us, pacing, runs, env, rng),
            stack: SynStack::new(rng, 0.6),
            ip_id: rng.random(),
            sport: rng.random_range(1025..=5000),
            retransmit: Retransmits::new(rng.random_range(0..15_000)),
        }
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
            debug_assert_eq!(self.walk.next_us(), now);
            let dst = self.walk.step(env, rng);
            self.sport = if self.sport >= 5000 {
                1025
            } else {
                self.sport + 1
            };
            self.retransmit.sent(now, dst, self.sport, rng.random())
        };
        // The counter is host-wide: other traffic of the host occasionally takes IDs too.
        let step = if rng.random_bool(0.1) {
            rng.random_range(2..6)
        } else {
            1
        };
        self.ip_id = self.ip_id.wrapping_add(step);
        self.stack.syn(frame, addr, self.ip_id, &probe, PORT);
        self.retransmit.next_with(self.walk.next_us())
    }
}

/// The infected hosts of the outbreak, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let infected = infected_hosts(HOSTS, env, rng);
    infected_sources(infected, pool, rng, |first, rng| {
        (first, Behaviour::Blaster(Blaster::new(first, env, rng)))
    })
}
