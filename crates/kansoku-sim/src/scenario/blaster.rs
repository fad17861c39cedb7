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
use super::{Behaviour, Env, Source, infected_hosts};
use crate::frame::{self, Ipv4, TCP_SYN, Tcp};
use crate::net::AddressPool;
use crate::random::log_uniform;
use crate::time::MICROS;

/// TCP options of a Windows 2000/XP SYN: MSS 1460, NOP, NOP, SACK permitted.
pub(crate) const SYN_OPTIONS: [u8; 8] = [0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02];
pub(crate) const PORT: u16 = 135;
/// Distinct infected hosts the telescope eventually sees at scale 1.
const HOSTS: f64 = 1500.0;

/// One infected Windows host.
#[derive(Debug)]
pub(crate) struct Blaster {
    walk: Walk,
    ttl: u8,
    window: u16,
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
            ttl: 128 - rng.random_range(3..=28),
            window: if rng.random_bool(0.6) { 64_240 } else { 65_535 },
            ip_id: rng.random(),
            sport: rng.random_range(1025..=5000),
            retransmit: Retransmits::new(rng.random_range(0..15_000)),
        }
    }

    fn next_us(&self) -> Option<u64> {
        let next = self
            .retransmit
            .next_due()
            .map_or(self.walk.next_us(), |t| t.min(self.walk.next_us()));
        (next != u64::MAX).then_some(next)
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
        let ip = Ipv4 {
            src: addr,
            dst: probe.dst,
            id: self.ip_id,
            ttl: self.ttl,
            df: true,
        };
        let tcp = Tcp {
            sport: probe.sport,
            dport: PORT,
            seq: probe.seq,
            ack: 0,
            flags: TCP_SYN,
            window: self.window,
            options: &SYN_OPTIONS,
        };
        frame::tcp(frame, &ip, &tcp);
        self.next_us()
    }
}

/// The infected hosts of the outbreak, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    infected_hosts(HOSTS, env, rng)
        .into_iter()
        .map(|first| {
            let b = Blaster::new(first, env, rng);
            Source::new(pool.draw(rng), first, Behaviour::Blaster(b))
        })
        .collect()
}
