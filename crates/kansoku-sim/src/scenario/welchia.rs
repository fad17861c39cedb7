//! W32/Welchia (Nachi, August 2003) as seen from a darknet: ICMP echo sweeps.
//!
//! Welchia pings each candidate before attacking it (Symantec W32.Welchia.Worm; CERT
//! IN-2003-01 follow-ups): ICMP echo request, IP total length 92, 64 bytes of 0xAA payload,
//! from a Windows stack (TTL 128 minus hops, incrementing IP ID), sweeping addresses
//! sequentially. Only hosts that answer get the TCP 135 follow-up, and nothing in a darknet
//! answers, so the telescope sees only the sweep.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::walk::{Pacing, Runs, Walk};
use super::{Behaviour, Env, Source, due, infected_hosts, infected_sources, windows};
use crate::frame::{self, Icmp, Ipv4};
use crate::net::AddressPool;
use crate::random::log_uniform;
use crate::time::MICROS;

/// The echo payload Welchia sends.
pub(crate) const PAYLOAD: [u8; 64] = [0xaa; 64];
/// Distinct infected hosts the telescope eventually sees at scale 1.
const HOSTS: f64 = 1200.0;

/// One infected host.
#[derive(Debug)]
pub(crate) struct Welchia {
    walk: Walk,
    ttl: u8,
    ip_id: u16,
    echo_id: u16,
    echo_seq: u16,
}

impl Welchia {
    fn new(first_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        // Bursts of 10 pings a few milliseconds apart; hosts sweep at roughly 20-100/s.
        let pacing = Pacing {
            batch: 10,
            intra_us: (500, 3000),
            pause_us: log_uniform(rng, 0.08, 0.45) * MICROS as f64,
        };
        let runs = Runs {
            length: (32.0, 320.0),
            gap_us: 30.0 * 3600.0 * MICROS as f64,
        };
        Self {
            walk: Walk::new(first_us, pacing, runs, env, rng),
            ttl: windows::ttl(rng),
            ip_id: rng.random(),
            echo_id: rng.random_range(0x0100..0x0400),
            echo_seq: rng.random(),
        }
    }

    pub(crate) fn emit(
        &mut self,
        addr: u32,
        _now: u64,
        env: &Env,
        rng: &mut ChaCha8Rng,
        frame: &mut Vec<u8>,
    ) -> Option<u64> {
        let dst = self.walk.step(env, rng);
        self.ip_id = self.ip_id.wrapping_add(1);
        self.echo_seq = self.echo_seq.wrapping_add(1);
        let ip = Ipv4 {
            src: addr,
            dst,
            id: self.ip_id,
            ttl: self.ttl,
            df: false,
        };
        let mut rest = [0u8; 4];
        rest[..2].copy_from_slice(&self.echo_id.to_be_bytes());
        rest[2..].copy_from_slice(&self.echo_seq.to_be_bytes());
        let echo = Icmp {
            kind: 8,
            code: 0,
            rest,
        };
        frame::icmp(frame, &ip, &echo, &PAYLOAD);
        due(self.walk.next_us())
    }
}

/// The infected hosts of the outbreak, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let infected = infected_hosts(HOSTS, env, rng);
    infected_sources(infected, pool, rng, |first, rng| {
        (first, Behaviour::Welchia(Welchia::new(first, env, rng)))
    })
}
