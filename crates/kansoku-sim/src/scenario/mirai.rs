//! Mirai (from August 2016) as seen from a darknet: TCP SYNs to 23 and 2323.
//!
//! Header facts modelled, from the published bot source (`mirai/bot/scanner.c`, September
//! 2016) and Antonakakis et al., "Understanding the Mirai Botnet" (USENIX Security 2017),
//! whose telescope fingerprint is the sequence number: the scanner writes raw SYNs with
//! `seq = daddr`, so the TCP sequence number equals the destination address. Of every
//! batch of 160 SYNs per second, `i % 10 == 0` goes to 2323 and the rest to 23 (so 10%
//! and 90% of what a telescope sees). The 20-byte TCP header carries no options; the source
//! port (above 1023) and the window are drawn once at start-up; the IP ID is random per
//! packet; TTL 64; no DF. Destinations are uniform over IPv4 minus an exclusion list of
//! about 52 /8s' worth (loopback, private, multicast, some US government and DoD blocks).
//!
//! That list also excludes 198.18.0.0/15, the simulator's default telescope: real Mirai
//! never probes it. The simulator treats its telescope as standing for any routed darknet
//! and ignores the exclusion for the destination, keeping only its effect on the hit rate.
//!
//! Bots are small Linux devices (BusyBox) that lose the memory-resident bot on reboot and
//! are reinfected later under the same address, so each lives for hours, not days.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::random_scan::RandomScan;
use super::{Behaviour, Env, Source, due, infected_hosts, infected_sources};
use crate::frame::{self, Ipv4, TCP_SYN, Tcp};
use crate::net::AddressPool;
use crate::random::{log_uniform, plain_id};
use crate::time::MICROS;

pub(crate) const PORTS: [u16; 2] = [23, 2323];
/// Distinct bots the telescope sees at scale 1.
const HOSTS: f64 = 2500.0;
/// Addresses Mirai's generator can return: IPv4 minus about 52.3 /8s excluded.
const SPACE: f64 = 203.7 * (1u64 << 24) as f64;
/// Mean time a bot keeps scanning before its device reboots.
const LIFE_US: f64 = 12.0 * 3600.0 * MICROS as f64;

/// One infected device.
#[derive(Debug)]
pub(crate) struct Mirai {
    scan: RandomScan,
    ttl: u8,
    sport: u16,
    window: u16,
}

impl Mirai {
    fn new(infected_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        // 160 SYNs per loop iteration, at most one iteration per second; slow devices and
        // busy loops (brute-forcing open telnet ports) send fewer.
        let pps = log_uniform(rng, 60.0, 160.0);
        let hit = env.telescope.size() as f64 / SPACE;
        Self {
            scan: RandomScan::new(infected_us, pps, hit, LIFE_US, env, rng),
            ttl: 64 - rng.random_range(3..=24),
            sport: rng.random_range(1024..=65_535),
            window: rng.random(),
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
        let dst = env.telescope.random(rng);
        let dport = PORTS[usize::from(rng.random_bool(0.1))];
        let ip = Ipv4 {
            src: addr,
            dst,
            id: plain_id(rng, dst, dport, dst),
            ttl: self.ttl,
            df: false,
        };
        let tcp = Tcp {
            sport: self.sport,
            dport,
            seq: dst,
            ack: 0,
            flags: TCP_SYN,
            window: self.window,
            options: &[],
        };
        frame::tcp(frame, &ip, &tcp);
        self.scan.advance(rng);
        due(self.scan.next_us())
    }
}

/// The bots of the botnet, appearing along a logistic curve.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let infected = infected_hosts(HOSTS, env, rng);
    infected_sources(infected, pool, rng, |infected, rng| {
        let m = Mirai::new(infected, env, rng);
        (m.scan.next_us(), Behaviour::Mirai(m))
    })
}
