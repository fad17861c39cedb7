//! The compact per-packet record that flows from decode/classify into aggregation.
//!
//! Decoding yields borrowed views; aggregation may run on another thread, so the few fields
//! it needs are copied into this fixed-size, allocation-free record (64 bytes) and shipped in
//! reused batches.

use std::net::{IpAddr, Ipv6Addr};

use kansoku_classify::{Label, Rank, RuleId, SignatureId};
use kansoku_packet::decode::Packet;

/// An address as one integer: IPv4 as an IPv4-mapped IPv6 address, so both families share
/// one hash-set key type without an enum tag.
pub type Addr = u128;

/// Pack an address into an [`Addr`].
#[inline]
pub fn addr(ip: IpAddr) -> Addr {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The text form of an [`Addr`] (IPv4 in dotted form).
pub fn addr_to_ip(a: Addr) -> IpAddr {
    Ipv6Addr::from(a).to_canonical()
}

/// What aggregation needs of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRecord {
    pub ts_ns: i64,
    pub src: Addr,
    pub dst: Addr,
    /// IP length (IPv4 total length, IPv6 payload length + 40): the size on the wire,
    /// independent of the link layer and of the capture's snapshot length.
    pub bytes: u32,
    pub signature: SignatureId,
    /// The rule that matched, if any: the evidence behind `signature`.
    pub rule: Option<RuleId>,
    /// What the signature says about the source (see [`Rank`]).
    pub rank: Rank,
    /// Destination port; ICMP and ICMPv6 carry `type * 256 + code`, other protocols 0.
    pub dst_port: u16,
    /// IANA protocol number.
    pub proto: u8,
    pub ttl: u8,
}

impl PacketRecord {
    #[inline]
    pub fn new(ts_ns: i64, packet: &Packet<'_>, label: Label) -> Self {
        Self {
            ts_ns,
            src: addr(packet.src),
            dst: addr(packet.dst),
            bytes: packet.ip_len,
            signature: label.signature,
            rule: label.rule,
            rank: label.rank,
            dst_port: packet.dst_port(),
            proto: packet.proto,
            ttl: packet.ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_stays_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::PacketRecord>(), 64);
    }
}
