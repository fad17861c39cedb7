//! SQL Slammer (Sapphire, 25 January 2003) as seen from a darknet: one UDP datagram per
//! probe to port 1434.
//!
//! Header facts modelled (Moore, Paxson, Savage, Shannon, Staniford, Weaver: "Inside the
//! Slammer Worm", IEEE Security & Privacy 2003; CAIDA's Slammer analysis; CERT CA-2003-04):
//! the whole worm is a single 376-byte UDP payload (IP total length 404) whose first byte is
//! 0x04, the SQL Server Resolution Service "unicast instance" request; sent from one socket
//! in a loop, so the ephemeral source port stays fixed per host; Windows 2000 stack (TTL
//! 128 minus hops, IP ID from the host-wide counter, no DF). Destinations come from a flawed
//! linear congruential generator that is, seen from a single telescope, effectively uniform.
//!
//! SAFETY: the real payload is exploit code and is never reproduced. Only its first byte
//! and length are kept; bytes 1..376 are a benign ASCII placeholder.
//!
//! Slammer was bandwidth-bound: hosts averaged about 4000 probes per second and the fastest
//! exceeded 26000, which in a /16 (1/65536 of IPv4) is 0.005 to 0.4 datagrams per second per
//! host. It doubled every 8.5 s and saturated within about ten minutes, so here the whole
//! logistic rise happens in the first half hour of the capture. Being memory-resident, it
//! disappeared on reboot, and ISPs filtered 1434 within hours, so hosts stop after a few
//! hours on average.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::random_scan::{RandomScan, uniform_hit};
use super::{Behaviour, Env, Source, due, infected_along, infected_sources, windows};
use crate::frame::{self, Ipv4};
use crate::net::AddressPool;
use crate::population::Logistic;
use crate::random::log_uniform;
use crate::time::MICROS;

pub(crate) const PORT: u16 = 1434;
/// The benign filler standing in for the exploit bytes.
const FILLER: &[u8] = b"kansoku-sim slammer placeholder ";
/// The UDP payload: 0x04, then the filler repeated to 376 bytes.
pub(crate) const PAYLOAD: [u8; 376] = {
    let mut p = [0u8; 376];
    p[0] = 0x04;
    let mut i = 1;
    while i < p.len() {
        p[i] = FILLER[(i - 1) % FILLER.len()];
        i += 1;
    }
    p
};
/// Distinct infected hosts the telescope sees at scale 1.
const HOSTS: f64 = 300.0;
/// Inflection of the outbreak after the capture starts, and its 5%-95% rise time.
const MIDPOINT_US: f64 = 15.0 * 60.0 * MICROS as f64;
const RISE_US: f64 = 10.0 * 60.0 * MICROS as f64;
/// Mean time a host keeps sending.
const LIFE_US: f64 = 4.0 * 3600.0 * MICROS as f64;

/// One infected SQL Server.
#[derive(Debug)]
pub(crate) struct Slammer {
    scan: RandomScan,
    ttl: u8,
    ip_id: u16,
    sport: u16,
    last_us: u64,
}

impl Slammer {
    fn new(infected_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        let pps = log_uniform(rng, 300.0, 26_000.0);
        Self {
            scan: RandomScan::new(infected_us, pps, uniform_hit(env), LIFE_US, env, rng),
            ttl: windows::ttl(rng),
            ip_id: rng.random(),
            sport: rng.random_range(1025..=5000),
            last_us: infected_us,
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
        // Nearly everything the host sends is the worm, so the ID moves by the datagrams
        // sent elsewhere since the last one seen here.
        let unseen = self.scan.sent_between(self.last_us, now);
        self.ip_id = windows::next_ip_id(self.ip_id, unseen);
        self.last_us = now;
        let ip = Ipv4 {
            src: addr,
            dst: env.telescope.random(rng),
            id: self.ip_id,
            ttl: self.ttl,
            df: false,
        };
        frame::udp(frame, &ip, self.sport, PORT, &PAYLOAD);
        self.scan.advance(rng);
        due(self.scan.next_us())
    }
}

/// The infected hosts: nearly all infected within the capture's first half hour.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let curve = Logistic::new(HOSTS * env.scale, MIDPOINT_US, RISE_US);
    let infected = infected_along(curve, env, rng);
    infected_sources(infected, pool, rng, |infected, rng| {
        let s = Slammer::new(infected, env, rng);
        (s.scan.next_us(), Behaviour::Slammer(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_placeholder_after_the_first_byte() {
        assert_eq!(PAYLOAD[0], 0x04);
        assert!(PAYLOAD[1..].starts_with(b"kansoku-sim slammer placeholder "));
        assert!(PAYLOAD[1..].iter().all(|b| FILLER.contains(b)));
    }
}
