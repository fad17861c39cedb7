//! DoS backscatter grouped into attack vectors, one per victim episode.
//!
//! A host flooded with packets from spoofed random sources answers each of them: SYN-ACKs or
//! RSTs from the victim itself, ICMP errors from it or a router next to it. A telescope owning
//! a share of the address space receives that share of the answers (Moore, Voelker, Savage,
//! "Inferring Internet Denial-of-Service Activity", USENIX Security 2001). Following their
//! flow-based method as corsaro's dos plugin implements it, answers are grouped per victim
//! into an attack vector that ends after [`VECTOR_TIMEOUT_NS`] without answers; the vector
//! keeps its first and last answer, packets, bytes, the attacked ports and its peak rate: the
//! most answers in any 60-second window, measured in 10-second steps.
//!
//! Which vectors are attacks (corsaro: at least 25 packets, 60 seconds and 30 packets per
//! minute) is decided when reporting, so the thresholds can change without re-ingesting.

use hashbrown::HashMap;
use kansoku_packet::decode::{Packet, Transport};

use crate::record::{Addr, addr, addr_to_ip};

/// A vector with no answer for this long has ended (corsaro's `CORSARO_DOS_VECTOR_TIMEOUT`).
pub const VECTOR_TIMEOUT_NS: i64 = 300_000_000_000;

/// Width of the peak-rate window and of its steps (corsaro: 60 s sliding by 10 s).
const STEP_NS: i64 = 10_000_000_000;
const STEPS_PER_WINDOW: usize = 6;

/// Attacked ports kept per vector; further ports are counted together.
const MAX_PORTS: usize = 8;

/// How often (in answers) ended vectors are looked for.
const SWEEP_EVERY: u64 = 1 << 14;

/// Who was attacked, as an answer shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Victim {
    pub addr: Addr,
    /// Protocol of the flood: TCP for SYN-ACK/RST answers, the quoted protocol for ICMP
    /// errors.
    pub proto: u8,
    /// The attacked port: the TCP source port of an answer, or the destination port of the
    /// flood packet an ICMP error quotes (0 if none).
    pub port: u16,
}

impl Victim {
    /// The victim a backscatter packet answers for. An ICMP error names the flood packet it
    /// quotes, whose destination is the victim (the error may come from a router next to it).
    pub fn of(packet: &Packet<'_>) -> Self {
        match &packet.transport {
            Transport::Icmp(icmp) => match icmp.quoted() {
                Some(q) => Self {
                    addr: addr(q.dst),
                    proto: q.proto,
                    port: q.dst_port,
                },
                None => Self {
                    addr: addr(packet.src),
                    proto: packet.proto,
                    port: 0,
                },
            },
            _ => Self {
                addr: addr(packet.src),
                proto: packet.proto,
                port: packet.src_port(),
            },
        }
    }
}

/// One ended attack vector: a row of the `backscatter` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttackRow {
    pub victim: std::net::IpAddr,
    pub proto: u8,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub packets: u64,
    pub bytes: u64,
    /// Most answers in any 60-second window.
    pub peak_per_minute: u64,
    /// Attacked ports with their answers, most first; port 0 collects ports beyond the
    /// first few (and ICMP errors without a quoted port).
    pub ports: Vec<(u16, u64)>,
}

struct Vector {
    proto: u8,
    first_ns: i64,
    last_ns: i64,
    packets: u64,
    bytes: u64,
    /// Answers per 10-second step of the current window, indexed by step modulo 6.
    steps: [u64; STEPS_PER_WINDOW],
    /// The step of the newest answer.
    step: i64,
    peak: u64,
    ports: Vec<(u16, u64)>,
}

impl Vector {
    fn new(v: Victim, ts_ns: i64) -> Self {
        Self {
            proto: v.proto,
            first_ns: ts_ns,
            last_ns: ts_ns,
            packets: 0,
            bytes: 0,
            steps: [0; STEPS_PER_WINDOW],
            step: ts_ns.div_euclid(STEP_NS),
            peak: 0,
            ports: Vec::new(),
        }
    }

    fn add(&mut self, v: Victim, ts_ns: i64, bytes: u32) {
        self.first_ns = self.first_ns.min(ts_ns);
        self.last_ns = self.last_ns.max(ts_ns);
        self.packets += 1;
        self.bytes += u64::from(bytes);
        let step = ts_ns.div_euclid(STEP_NS);
        if step > self.step {
            // Clear the steps that slid out of the window (all of them after a long gap).
            let passed = (step - self.step).min(STEPS_PER_WINDOW as i64);
            for s in 1..=passed {
                self.steps[(self.step + s).rem_euclid(STEPS_PER_WINDOW as i64) as usize] = 0;
            }
            self.step = step;
        }
        // An answer slightly out of order still counts in the current window.
        self.steps[self.step.rem_euclid(STEPS_PER_WINDOW as i64) as usize] += 1;
        self.peak = self.peak.max(self.steps.iter().sum());
        let port = if self.ports.iter().any(|(p, _)| *p == v.port) || self.ports.len() < MAX_PORTS {
            v.port
        } else {
            0
        };
        match self.ports.iter_mut().find(|(p, _)| *p == port) {
            Some((_, count)) => *count += 1,
            None => self.ports.push((port, 1)),
        }
    }

    fn into_row(mut self, victim: Addr) -> AttackRow {
        self.ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        AttackRow {
            victim: addr_to_ip(victim),
            proto: self.proto,
            first_seen_ns: self.first_ns,
            last_seen_ns: self.last_ns,
            packets: self.packets,
            bytes: self.bytes,
            peak_per_minute: self.peak,
            ports: self.ports,
        }
    }
}

/// Open attack vectors by victim, and the ended ones not yet taken.
#[derive(Default)]
pub struct AttackTracker {
    open: HashMap<Addr, Vector>,
    ended: Vec<AttackRow>,
    answers: u64,
}

impl AttackTracker {
    /// Count one backscatter answer seen at `ts_ns`.
    pub fn add(&mut self, ts_ns: i64, victim: Victim, bytes: u32) {
        self.answers += 1;
        if self.answers.is_multiple_of(SWEEP_EVERY) {
            self.sweep(ts_ns);
        }
        match self.open.get_mut(&victim.addr) {
            Some(vector) if ts_ns - vector.last_ns < VECTOR_TIMEOUT_NS => {
                vector.add(victim, ts_ns, bytes)
            }
            _ => {
                let mut vector = Vector::new(victim, ts_ns);
                vector.add(victim, ts_ns, bytes);
                if let Some(old) = self.open.insert(victim.addr, vector) {
                    self.ended.push(old.into_row(victim.addr));
                }
            }
        }
    }

    /// End the vectors idle for [`VECTOR_TIMEOUT_NS`] at `now_ns`, so memory follows the
    /// attacks in progress.
    fn sweep(&mut self, now_ns: i64) {
        let idle = self
            .open
            .extract_if(|_, vector| now_ns - vector.last_ns >= VECTOR_TIMEOUT_NS);
        self.ended
            .extend(idle.map(|(victim, vector)| vector.into_row(victim)));
    }

    /// Every vector, ended or still open (the input is over), ordered by first answer then
    /// victim.
    pub fn finish(mut self) -> Vec<AttackRow> {
        let mut rows = self.ended;
        rows.extend(self.open.drain().map(|(victim, v)| v.into_row(victim)));
        rows.sort_by_key(|a| (a.first_seen_ns, a.victim));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    const SEC: i64 = 1_000_000_000;

    fn victim(n: u32, port: u16) -> Victim {
        Victim {
            addr: addr(IpAddr::V4(Ipv4Addr::from(n))),
            proto: 6,
            port,
        }
    }

    #[test]
    fn answers_group_into_vectors_that_end_after_the_timeout() {
        let mut t = AttackTracker::default();
        // Victim 1: 120 answers, one per second, on port 80 (and two on 443).
        for s in 0..120 {
            t.add(s * SEC, victim(1, 80), 40);
        }
        t.add(121 * SEC, victim(1, 443), 40);
        t.add(122 * SEC, victim(1, 443), 40);
        // Quiet for longer than the timeout: a new vector.
        t.add(122 * SEC + VECTOR_TIMEOUT_NS, victim(1, 80), 40);
        // Victim 2: a burst of 90 answers within 9 seconds.
        for i in 0..90 {
            t.add(1000 * SEC + i * SEC / 10, victim(2, 22), 60);
        }
        let rows = t.finish();
        assert_eq!(rows.len(), 3, "{rows:?}");
        let first = &rows[0];
        assert_eq!(first.victim, IpAddr::V4(Ipv4Addr::from(1)));
        assert_eq!((first.packets, first.bytes), (122, 122 * 40));
        assert_eq!(first.last_seen_ns - first.first_seen_ns, 122 * SEC);
        assert_eq!(first.ports, [(80, 120), (443, 2)]);
        // One answer per second: 60 in a minute, give or take the 10-second steps.
        assert!((51..=60).contains(&first.peak_per_minute), "{first:?}");
        assert_eq!(rows[1].packets, 1);
        assert_eq!((rows[2].packets, rows[2].peak_per_minute), (90, 90));
    }

    #[test]
    fn ports_beyond_the_first_few_are_counted_together() {
        let mut t = AttackTracker::default();
        for port in 1..=20 {
            t.add(i64::from(port) * SEC, victim(7, port), 40);
        }
        let rows = t.finish();
        let ports = &rows[0].ports;
        assert_eq!(ports.len(), MAX_PORTS + 1);
        assert_eq!(ports[0], (0, 12));
        assert_eq!(ports.iter().map(|p| p.1).sum::<u64>(), 20);
    }

    #[test]
    fn idle_vectors_end_during_the_input() {
        let mut t = AttackTracker::default();
        t.add(0, victim(1, 80), 40);
        for i in 0..SWEEP_EVERY as i64 {
            t.add(VECTOR_TIMEOUT_NS + i, victim(2, 80), 40);
        }
        assert_eq!(t.open.len(), 1, "victim 1 ended at the sweep");
        assert_eq!(t.ended.len(), 1);
        assert_eq!(t.finish().len(), 2);
    }
}
