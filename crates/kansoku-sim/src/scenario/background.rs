//! Background radiation: what every telescope receives regardless of outbreaks.
//!
//! Three populations (Pang et al., "Characteristics of Internet Background Radiation",
//! IMC 2004; Moore et al., "Inferring Internet Denial-of-Service Activity", 2001):
//! - horizontal TCP scanners sending SYNs to common service ports,
//! - UDP noise (probes and misconfiguration) to well-known UDP services,
//! - backscatter: replies of DoS victims to spoofed sources that happen to be telescope
//!   addresses (SYN-ACK, RST, ICMP destination unreachable).
//!
//! Sources arrive at a constant mean rate (times the daily rhythm), each sends a
//! heavy-tailed number of packets at its own rate to random telescope addresses.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Behaviour, Class, Env, Source};
use crate::frame::{self, Icmp, Ipv4, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_RST, TCP_SYN, Tcp};
use crate::net::AddressPool;
use crate::random::{
    ZMAP_IP_ID, diurnal, diurnal_instant, exponential, log_uniform, masscan_id, plain_id, weighted,
};
use crate::time::MICROS;

/// The benign marker carried by some UDP noise, so nobody mistakes it for real traffic.
pub(crate) const MARKER: &[u8] = b"kansoku-sim udp noise";
const ZEROS: [u8; 48] = [0; 48];

/// TCP ports of horizontal scanners and their relative popularity.
const SCAN_PORTS: &[(u16, u32)] = &[
    (22, 10),
    (23, 8),
    (80, 12),
    (443, 6),
    (445, 15),
    (1433, 8),
    (3389, 6),
    (8080, 5),
    (139, 6),
    (21, 4),
    (25, 3),
    (3306, 3),
    (5900, 3),
    (1080, 3),
    (3128, 3),
    (4899, 2),
];
/// UDP ports of background noise.
const UDP_PORTS: &[(u16, u32)] = &[
    (53, 10),
    (123, 5),
    (137, 10),
    (161, 6),
    (1900, 4),
    (5060, 5),
];
/// Services whose DoS victims answer spoofed SYNs.
const VICTIM_PORTS: &[(u16, u32)] = &[
    (80, 20),
    (443, 8),
    (25, 4),
    (53, 3),
    (22, 3),
    (6667, 6),
    (3389, 2),
    (27015, 3),
];

/// One population: how many sources per hour and how each behaves.
struct Mix {
    per_hour: f64,
    /// Packets per source, log-uniform.
    packets: (f64, f64),
    /// Packets per second per source, log-uniform.
    pps: (f64, f64),
}

const SCANNERS: Mix = Mix {
    per_hour: 20.0,
    packets: (1.0, 300.0),
    pps: (0.005, 0.5),
};
const UDP_NOISE: Mix = Mix {
    per_hour: 8.0,
    packets: (1.0, 100.0),
    pps: (0.002, 0.1),
};
const BACKSCATTER: Mix = Mix {
    per_hour: 1.5,
    packets: (10.0, 3000.0),
    pps: (0.02, 3.0),
};

/// When a background source sends: Poisson arrivals at its rate, modulated by the daily
/// rhythm, until its packet budget is spent.
#[derive(Debug)]
struct Schedule {
    left: u32,
    mean_gap_us: f64,
}

impl Schedule {
    fn new(mix: &Mix, rng: &mut ChaCha8Rng) -> Self {
        Self {
            left: log_uniform(rng, mix.packets.0, mix.packets.1) as u32,
            mean_gap_us: MICROS as f64 / log_uniform(rng, mix.pps.0, mix.pps.1),
        }
    }

    /// Counts the packet sent at `now` and returns when the next one is due.
    fn after(&mut self, now: u64, rng: &mut ChaCha8Rng) -> Option<u64> {
        self.left = self.left.saturating_sub(1);
        (self.left > 0).then(|| now + (exponential(rng, self.mean_gap_us) / diurnal(now)) as u64)
    }
}

/// How a scanner crafts its SYNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    /// The kernel's connect(): Linux options, random ephemeral port.
    Linux,
    /// ZMap (older releases): IP ID 54321, no options, window 65535.
    Zmap,
    /// Masscan: IP ID = dst ^ dport ^ seq, window 1024, no options, fixed source port.
    Masscan,
}

/// A horizontal TCP scanner. Those using ZMap or Masscan are labelled as such in the truth
/// (a tool scan is identifiable from its headers); the rest are plain `scan`.
#[derive(Debug)]
pub(crate) struct Scanner {
    schedule: Schedule,
    tool: Tool,
    /// A single target port, or `None` for a scanner cycling through common ports.
    port: Option<u16>,
    ttl: u8,
    window: u16,
    sport: u16,
    /// TCP timestamp clock offset (Linux), milliseconds.
    ts_base: u32,
}

impl Scanner {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let tool = *weighted(
            rng,
            &[(Tool::Linux, 70), (Tool::Zmap, 15), (Tool::Masscan, 15)],
        );
        let (ttl, window) = match tool {
            Tool::Linux => (
                64 - rng.random_range(0..=24),
                if rng.random_bool(0.5) { 29_200 } else { 64_240 },
            ),
            Tool::Zmap => (255 - rng.random_range(8..=30), 65_535),
            Tool::Masscan => (255 - rng.random_range(8..=30), 1024),
        };
        Self {
            schedule: Schedule::new(&SCANNERS, rng),
            tool,
            port: rng.random_bool(0.7).then(|| *weighted(rng, SCAN_PORTS)),
            ttl,
            window,
            sport: rng.random_range(40_000..60_000),
            ts_base: rng.random(),
        }
    }

    pub(crate) fn class(&self) -> Class {
        match self.tool {
            Tool::Linux => Class::Scan,
            Tool::Zmap => Class::Zmap,
            Tool::Masscan => Class::Masscan,
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
        let dst = env.telescope.random(rng);
        let dport = self.port.unwrap_or_else(|| *weighted(rng, SCAN_PORTS));
        let seq: u32 = rng.random();
        let mut options = [0u8; 20];
        let (id, df, sport, opts): (u16, bool, u16, &[u8]) = match self.tool {
            Tool::Linux => {
                // MSS 1460, SACK permitted, timestamps (val, ecr 0), NOP, window scale 7.
                let ts = self.ts_base.wrapping_add((now / 1000) as u32);
                options[..8].copy_from_slice(&[0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a]);
                options[8..12].copy_from_slice(&ts.to_be_bytes());
                options[16..].copy_from_slice(&[0x01, 0x03, 0x03, 0x07]);
                (
                    plain_id(rng, dst, dport, seq),
                    true,
                    rng.random_range(32_768..61_000),
                    &options,
                )
            }
            Tool::Zmap => (ZMAP_IP_ID, false, rng.random_range(32_768..61_000), &[]),
            Tool::Masscan => (masscan_id(dst, dport, seq), false, self.sport, &[]),
        };
        let ip = Ipv4 {
            src: addr,
            dst,
            id,
            ttl: self.ttl,
            df,
        };
        let tcp = Tcp {
            sport,
            dport,
            seq,
            ack: 0,
            flags: TCP_SYN,
            window: self.window,
            options: opts,
        };
        frame::tcp(frame, &ip, &tcp);
        self.schedule.after(now, rng)
    }
}

/// What a UDP noise source puts in its datagrams: zeros or the benign marker.
#[derive(Debug, Clone, Copy)]
enum Payload {
    Zeros(usize),
    Marker,
}

/// A source of UDP probes or misdirected UDP traffic.
#[derive(Debug)]
pub(crate) struct UdpNoise {
    schedule: Schedule,
    port: u16,
    /// Services such as NetBIOS and NTP talk from their own port.
    same_port: bool,
    payload: Payload,
    ttl: u8,
    ip_id: u16,
}

impl UdpNoise {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let port = *weighted(rng, UDP_PORTS);
        Self {
            schedule: Schedule::new(&UDP_NOISE, rng),
            port,
            same_port: matches!(port, 123 | 137 | 5060) && rng.random_bool(0.5),
            // Binary protocols get 48 zero bytes, which parse as an empty DNS/NetBIOS
            // header or an NTP packet; text protocols may carry the ASCII marker.
            payload: if matches!(port, 53 | 123 | 137) {
                Payload::Zeros(ZEROS.len())
            } else if rng.random_bool(0.5) {
                Payload::Marker
            } else {
                Payload::Zeros(*weighted(rng, &[(0, 1), (8, 2), (16, 2), (32, 2), (48, 1)]))
            },
            ttl: *weighted(rng, &[(64u8, 3), (128, 5), (255, 1)]) - rng.random_range(5..=25),
            ip_id: rng.random(),
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
        self.ip_id = self.ip_id.wrapping_add(1);
        let ip = Ipv4 {
            src: addr,
            dst: env.telescope.random(rng),
            id: self.ip_id,
            ttl: self.ttl,
            df: false,
        };
        let sport = if self.same_port {
            self.port
        } else {
            rng.random_range(1024..=65_535)
        };
        let payload = match self.payload {
            Payload::Zeros(n) => &ZEROS[..n],
            Payload::Marker => MARKER,
        };
        frame::udp(frame, &ip, sport, self.port, payload);
        self.schedule.after(now, rng)
    }
}

/// How a DoS victim answers the spoofed packets.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// An open port answering a SYN flood.
    SynAck,
    /// A closed port (or a host resetting) answering a SYN/ACK flood.
    Rst,
    /// ICMP destination unreachable with this code, quoting the flood packet's headers.
    Unreachable { code: u8, proto: u8 },
}

/// A DoS victim (or a router next to it) replying to spoofed telescope addresses.
#[derive(Debug)]
pub(crate) struct Backscatter {
    schedule: Schedule,
    reply: Reply,
    /// Victim's attacked port (the source port of its TCP replies).
    port: u16,
    ttl: u8,
    ip_id: u16,
    window: u16,
    df: bool,
    /// For errors from a router (not port unreachable): the last octet of the attacked host
    /// behind it, in the router's /24.
    victim_host: u8,
}

impl Backscatter {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let reply = match rng.random_range(0..4) {
            0 | 1 => Reply::SynAck,
            2 => Reply::Rst,
            _ => Reply::Unreachable {
                code: *weighted(rng, &[(3u8, 3), (1, 1), (13, 2)]),
                proto: if rng.random_bool(0.6) {
                    PROTO_UDP
                } else {
                    PROTO_TCP
                },
            },
        };
        Self {
            schedule: Schedule::new(&BACKSCATTER, rng),
            reply,
            port: *weighted(rng, VICTIM_PORTS),
            ttl: *weighted(rng, &[(64u8, 4), (128, 4), (255, 2)]) - rng.random_range(5..=25),
            ip_id: rng.random(),
            window: *weighted(rng, &[(8192u16, 1), (14_600, 1), (29_200, 1), (65_535, 1)]),
            df: rng.random_bool(0.7),
            victim_host: rng.random_range(1..255),
        }
    }

    /// The attacked host: the sender itself, or for an ICMP error from a router (any code
    /// but port unreachable) a fixed host behind it.
    pub(crate) fn victim(&self, sender: u32) -> u32 {
        match self.reply {
            Reply::Unreachable { code, .. } if code != 3 => {
                (sender & !0xff) | u32::from(self.victim_host)
            }
            _ => sender,
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
        self.ip_id = self.ip_id.wrapping_add(1);
        let spoofed = env.telescope.random(rng);
        let ip = Ipv4 {
            src: addr,
            dst: spoofed,
            id: self.ip_id,
            ttl: self.ttl,
            df: self.df,
        };
        let dport = rng.random_range(1024..=65_535);
        match self.reply {
            Reply::SynAck => {
                let tcp = Tcp {
                    sport: self.port,
                    dport,
                    seq: rng.random(),
                    ack: rng.random(),
                    flags: TCP_SYN | TCP_ACK,
                    window: self.window,
                    options: &[0x02, 0x04, 0x05, 0xb4],
                };
                frame::tcp(frame, &ip, &tcp);
            }
            Reply::Rst => {
                let tcp = Tcp {
                    sport: self.port,
                    dport,
                    seq: 0,
                    ack: rng.random(),
                    flags: TCP_RST | TCP_ACK,
                    window: 0,
                    options: &[],
                };
                frame::tcp(frame, &ip, &tcp);
            }
            Reply::Unreachable { code, proto } => {
                let quoted = quote(self.victim(addr), spoofed, proto, self.port, dport, rng);
                let icmp = Icmp {
                    kind: 3,
                    code,
                    rest: [0; 4],
                };
                frame::icmp(frame, &ip, &icmp, &quoted);
            }
        }
        self.schedule.after(now, rng)
    }
}

/// The IPv4 header and first 8 transport bytes of the flood packet an ICMP error quotes:
/// it came "from" the spoofed telescope address to the victim.
fn quote(
    victim: u32,
    spoofed: u32,
    proto: u8,
    port: u16,
    sport: u16,
    rng: &mut ChaCha8Rng,
) -> [u8; 28] {
    let mut transport = [0u8; 8];
    transport[..2].copy_from_slice(&sport.to_be_bytes());
    transport[2..4].copy_from_slice(&port.to_be_bytes());
    let total_len = if proto == PROTO_UDP {
        let udp_len: u16 = rng.random_range(8..1480);
        transport[4..6].copy_from_slice(&udp_len.to_be_bytes());
        transport[6..].copy_from_slice(&rng.random::<u16>().to_be_bytes());
        20 + udp_len
    } else {
        transport[4..].copy_from_slice(&rng.random::<u32>().to_be_bytes());
        40
    };
    let original = Ipv4 {
        src: spoofed,
        dst: victim,
        id: rng.random(),
        ttl: rng.random_range(20..120),
        df: false,
    };
    let mut q = [0u8; 28];
    q[..20].copy_from_slice(&frame::ipv4_header(&original, proto, total_len));
    q[20..].copy_from_slice(&transport);
    q
}

/// Creates the behaviour of one new source of a population.
type Maker = fn(&mut ChaCha8Rng) -> Behaviour;

/// Spawns the background population of the whole capture.
pub(crate) fn spawn(env: &Env, pool: &mut AddressPool, rng: &mut ChaCha8Rng) -> Vec<Source> {
    let mut sources = Vec::new();
    let make: [(&Mix, Maker); 3] = [
        (&SCANNERS, |r| Behaviour::Scan(Scanner::new(r))),
        (&UDP_NOISE, |r| Behaviour::Udp(UdpNoise::new(r))),
        (&BACKSCATTER, |r| {
            Behaviour::Backscatter(Backscatter::new(r))
        }),
    ];
    let hours = env.period_us() as f64 / (3600 * MICROS) as f64;
    for (mix, new) in make {
        let expected = mix.per_hour * hours * env.scale;
        // Round stochastically so that small scales still get their share on average.
        let count = expected.floor() as usize + usize::from(rng.random_bool(expected.fract()));
        for _ in 0..count {
            let first = diurnal_instant(rng, env.start_us, env.end_us);
            let behaviour = new(rng);
            sources.push(Source::new(pool.draw(rng), first, behaviour));
        }
    }
    sources
}
