//! The Windows 2000/XP stack as a telescope sees it, for every worm that sends through it
//! (Blaster, Welchia, Slammer, Sasser, Conficker): the initial TTL, the host-wide IP ID
//! counter and the layout of a connect() SYN. These are facts about the operating system,
//! not the worm, so they live here once and the worm models cannot drift apart on them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::retransmit::Probe;
use crate::frame::{self, Ipv4, TCP_SYN, Tcp};

/// TCP options of a Windows 2000/XP SYN: MSS 1460, NOP, NOP, SACK permitted.
pub(crate) const SYN_OPTIONS: [u8; 8] = [0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02];

/// The TTL a Windows host's packets arrive with: initial TTL 128, minus 3 to 28 hops.
pub(crate) fn ttl(rng: &mut ChaCha8Rng) -> u8 {
    128 - rng.random_range(3..=28)
}

/// The host-wide IP ID counter for a packet the telescope sees after `unseen` others the
/// host sent elsewhere since the previous one. It never moves by a whole wrap, so two
/// consecutive IDs seen from one host always differ.
pub(crate) fn next_ip_id(id: u16, unseen: u64) -> u16 {
    id.wrapping_add(1 + (unseen % 65_535) as u16)
}

/// The SYN header fields that stay fixed for one Windows host.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SynStack {
    ttl: u8,
    window: u16,
}

impl SynStack {
    /// A host that runs XP (window 64240) with probability `xp_share`, else 2000 (65535);
    /// both were vulnerable to the worms modelled.
    pub(crate) fn new(rng: &mut ChaCha8Rng, xp_share: f64) -> Self {
        Self {
            ttl: ttl(rng),
            window: if rng.random_bool(xp_share) {
                64_240
            } else {
                65_535
            },
        }
    }

    /// Writes `probe` (a first SYN or a retransmission) from `src` to `dport` as this
    /// host's connect() SYN: IP ID `id`, DF set, no ACK, the Windows options, no payload.
    pub(crate) fn syn(&self, frame: &mut Vec<u8>, src: u32, id: u16, probe: &Probe, dport: u16) {
        let ip = Ipv4 {
            src,
            dst: probe.dst,
            id,
            ttl: self.ttl,
            df: true,
        };
        let tcp = Tcp {
            sport: probe.sport,
            dport,
            seq: probe.seq,
            ack: 0,
            flags: TCP_SYN,
            window: self.window,
            options: &SYN_OPTIONS,
        };
        frame::tcp(frame, &ip, &tcp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_id_always_moves() {
        assert_eq!(next_ip_id(7, 0), 8);
        assert_eq!(next_ip_id(u16::MAX, 0), 0);
        assert_eq!(next_ip_id(7, 65_535), 8);
        assert_eq!(next_ip_id(7, 65_534), 7u16.wrapping_add(65_535));
    }
}
