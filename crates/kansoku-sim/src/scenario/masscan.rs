//! Masscan scans as seen from a darknet.
//!
//! Header facts modelled (Masscan's `templ-pkt.c`, `tcp_create_packet`: `ip_id = ip_them ^
//! port_them ^ seqno`, truncated to 16 bits by the header field; its default SYN template):
//! raw SYNs with IP ID == (dst ^ dport ^ seq) & 0xffff, window 1024, no TCP options, no
//! payload, TTL 255 minus hops, one source port per scan, and a sequence number that is a
//! SYN cookie (random-looking). Masscan scans (address x port) pairs in the order of its
//! BlackRock cipher, with `address = index % addresses` and `port = index / addresses`, so a
//! telescope sees horizontal scans of one or a few ports and vertical scans of port ranges
//! interleaved in random order.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::sweep::{Sweep, next_scan_at};
use super::zmap::TOOL_PORTS;
use super::{Behaviour, Env, Source};
use crate::frame::{self, Ipv4, TCP_SYN, Tcp};
use crate::net::AddressPool;
use crate::random::{log_uniform, masscan_id, round_stochastic, weighted};

/// Scanner sources at scale 1 (at least one at any scale).
const SOURCES: f64 = 6.0;

/// The ports of one scan (`-p`).
#[derive(Debug, Clone, Copy)]
enum Ports {
    /// A short list, e.g. `-p80,443,8080`.
    List { ports: [u16; 4], len: u8 },
    /// A range `-p1-N`.
    Range { last: u16 },
}

impl Ports {
    fn random(rng: &mut ChaCha8Rng) -> Self {
        if rng.random_bool(0.8) {
            let len = *weighted(rng, &[(1u8, 7), (2, 2), (3, 1), (4, 1)]);
            let mut ports = [0; 4];
            let first = rng.random_range(0..TOOL_PORTS.len());
            for (i, p) in ports.iter_mut().take(usize::from(len)).enumerate() {
                *p = TOOL_PORTS[(first + i) % TOOL_PORTS.len()].0;
            }
            Ports::List { ports, len }
        } else {
            Ports::Range {
                last: log_uniform(rng, 16.0, 1025.0) as u16,
            }
        }
    }

    fn len(self) -> u64 {
        match self {
            Ports::List { len, .. } => u64::from(len),
            Ports::Range { last } => u64::from(last),
        }
    }

    fn get(self, i: u64) -> u16 {
        match self {
            Ports::List { ports, .. } => ports[i as usize],
            Ports::Range { .. } => 1 + i as u16,
        }
    }
}

/// One Masscan operator's sequence of scans.
#[derive(Debug)]
pub(crate) struct Masscan {
    sweep: Sweep,
    ports: Ports,
    sport: u16,
    ttl: u8,
}

impl Masscan {
    fn new(start_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        let ttl = 255 - rng.random_range(8..=30);
        let (sweep, ports, sport) = Self::scan(start_us, env, rng);
        Self {
            sweep,
            ports,
            sport,
            ttl,
        }
    }

    /// A new scan starting at `at`: ports, how much of it reaches the telescope, a speed.
    fn scan(at: u64, env: &Env, rng: &mut ChaCha8Rng) -> (Sweep, Ports, u16) {
        let ports = Ports::random(rng);
        let space = env.telescope.size() * ports.len();
        let count = log_uniform(rng, 1000.0, 30_000.0) as u64;
        let pps = log_uniform(rng, 2.0, 60.0);
        let sweep = Sweep::new(space, count, pps, at, rng);
        (sweep, ports, rng.random_range(40_000..60_000))
    }

    pub(crate) fn emit(
        &mut self,
        addr: u32,
        now: u64,
        env: &Env,
        rng: &mut ChaCha8Rng,
        frame: &mut Vec<u8>,
    ) -> Option<u64> {
        let (index, more) = self.sweep.step(rng);
        let size = env.telescope.size();
        let dst = env.telescope.base().wrapping_add((index % size) as u32);
        let dport = self.ports.get(index / size);
        let seq: u32 = rng.random();
        let ip = Ipv4 {
            src: addr,
            dst,
            id: masscan_id(dst, dport, seq),
            ttl: self.ttl,
            df: false,
        };
        let tcp = Tcp {
            sport: self.sport,
            dport,
            seq,
            ack: 0,
            flags: TCP_SYN,
            window: 1024,
            options: &[],
        };
        frame::tcp(frame, &ip, &tcp);
        if !more {
            let at = next_scan_at(now, (2.0 * 3600.0, 36.0 * 3600.0), env, rng)?;
            (self.sweep, self.ports, self.sport) = Self::scan(at, env, rng);
        }
        Some(self.sweep.next_us())
    }
}

/// The scanner sources, each starting its first scan at a random time.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let count = round_stochastic(rng, SOURCES * env.scale).max(1);
    (0..count)
        .map(|_| {
            let start = rng.random_range(env.start_us..env.end_us);
            let m = Masscan::new(start, env, rng);
            Source::new(pool.draw(rng), start, Behaviour::Masscan(m))
        })
        .collect()
}
