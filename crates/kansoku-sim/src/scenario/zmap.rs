//! ZMap scans (research and tool scanners) as seen from a darknet.
//!
//! Header facts modelled (Durumeric, Wustrow, Halderman: "ZMap: Fast Internet-wide
//! Scanning and its Security Applications", USENIX Security 2013; ZMap's `probe_modules`
//! before release 2.1.0, which set `ip_id = 54321`): raw SYNs with IP ID 54321, TTL 255
//! minus hops, window 65535, no TCP options (older releases), no payload, a source port
//! from the default range 32768..61000 and a sequence number that carries the validation
//! cookie (random-looking). One port per scan; each address exactly once per scan, in the
//! order of a random cyclic group; bursts of tens of SYNs per second into a /16.
//!
//! Half of the sources sit in the simulator's research networks
//! ([`crate::research_scanner_networks`]), as scanning projects announce theirs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::sweep::{Sweep, next_scan_at};
use super::{Behaviour, Env, Source};
use crate::frame::{self, Ipv4, TCP_SYN, Tcp};
use crate::net::AddressPool;
use crate::random::{ZMAP_IP_ID, log_uniform, round_stochastic, weighted};

/// Ports research scanners survey, with relative popularity.
pub(crate) const TOOL_PORTS: &[(u16, u32)] = &[
    (443, 12),
    (80, 12),
    (22, 8),
    (8080, 6),
    (23, 5),
    (3389, 4),
    (21, 3),
    (25, 3),
    (8443, 3),
    (5900, 2),
    (6379, 2),
    (9200, 2),
    (3306, 2),
    (27017, 1),
];
/// Scanner sources at scale 1 (at least one at any scale).
const SOURCES: f64 = 6.0;

/// One ZMap operator's sequence of scans.
#[derive(Debug)]
pub(crate) struct Zmap {
    sweep: Sweep,
    port: u16,
    ttl: u8,
}

impl Zmap {
    fn new(start_us: u64, env: &Env, rng: &mut ChaCha8Rng) -> Self {
        let ttl = 255 - rng.random_range(8..=30);
        let (sweep, port) = Self::scan(start_us, env, rng);
        Self { sweep, port, ttl }
    }

    /// A new scan starting at `at`: a port, a sample of the Internet, a speed.
    fn scan(at: u64, env: &Env, rng: &mut ChaCha8Rng) -> (Sweep, u16) {
        let port = *weighted(rng, TOOL_PORTS);
        let size = env.telescope.size();
        let coverage = log_uniform(rng, 0.02, 0.6);
        // How long a full Internet pass would take at this operator's rate.
        let full_s = log_uniform(rng, 45.0 * 60.0, 8.0 * 3600.0);
        let count = (coverage * size as f64).ceil() as u64;
        (Sweep::new(size, count, size as f64 / full_s, at, rng), port)
    }

    pub(crate) fn emit(
        &mut self,
        addr: u32,
        now: u64,
        env: &Env,
        rng: &mut ChaCha8Rng,
        frame: &mut Vec<u8>,
    ) -> Option<u64> {
        let (offset, more) = self.sweep.step(rng);
        let ip = Ipv4 {
            src: addr,
            dst: env.telescope.base().wrapping_add(offset as u32),
            id: ZMAP_IP_ID,
            ttl: self.ttl,
            df: false,
        };
        let tcp = Tcp {
            sport: rng.random_range(32_768..61_000),
            dport: self.port,
            seq: rng.random(),
            ack: 0,
            flags: TCP_SYN,
            window: 65_535,
            options: &[],
        };
        frame::tcp(frame, &ip, &tcp);
        if !more {
            let at = next_scan_at(now, (4.0 * 3600.0, 48.0 * 3600.0), env, rng)?;
            (self.sweep, self.port) = Self::scan(at, env, rng);
        }
        Some(self.sweep.next_us())
    }
}

/// The scanner sources, each starting its first scan at a random time.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let count = round_stochastic(rng, SOURCES * env.scale).max(1);
    (0..count)
        .map(|i| {
            let start = rng.random_range(env.start_us..env.end_us);
            let z = Zmap::new(start, env, rng);
            let addr = if i % 2 == 0 {
                pool.draw_research(rng)
            } else {
                pool.draw(rng)
            };
            Source::new(addr, start, Behaviour::Zmap(z))
        })
        .collect()
}
