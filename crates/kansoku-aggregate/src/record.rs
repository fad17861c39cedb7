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

/// Append the text form of an address to `out`, the same bytes as its `Display`. IPv4
/// addresses, nearly all of a darknet's sources, are written by hand (`ipv4_text`, which
/// the sketches also hash straight from its buffer): `fmt` took about 3 % of a whole
/// ingest's time.
pub fn push_ip_text(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => {
            let mut buf = [0u8; 15];
            let len = ipv4_text(v4.octets(), &mut buf);
            out.push_str(std::str::from_utf8(&buf[..len]).expect("digits and dots are ASCII"));
        }
        IpAddr::V6(_) => {
            use std::fmt::Write;
            let _ = write!(out, "{ip}");
        }
    }
}

/// Each octet value's decimal digits, left-aligned, and how many there are.
const OCTET_TEXT: [([u8; 3], u8); 256] = {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut v = 0;
    while v < 256 {
        let (h, t, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        table[v] = if v >= 100 {
            ([b'0' + h, b'0' + t, b'0' + u], 3)
        } else if v >= 10 {
            ([b'0' + t, b'0' + u, 0], 2)
        } else {
            ([b'0' + u, 0, 0], 1)
        };
        v += 1;
    }
    table
};

/// Dotted-decimal text of an IPv4 address into `buf`, the same bytes as its `Display`;
/// returns the length. Digits come from a table (no division, no branch per digit): every
/// observation row's sketch hashes the text of each of its sources.
#[inline]
pub(crate) fn ipv4_text(octets: [u8; 4], buf: &mut [u8; 15]) -> usize {
    let mut len = 0;
    for (i, octet) in octets.into_iter().enumerate() {
        let (digits, n) = OCTET_TEXT[usize::from(octet)];
        // At most 12 bytes precede the last octet, so three more always fit.
        buf[len..len + 3].copy_from_slice(&digits);
        len += usize::from(n);
        if i < 3 {
            buf[len] = b'.';
            len += 1;
        }
    }
    len
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
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::push_ip_text;

    #[test]
    fn ip_text_matches_display() {
        let mut text = String::new();
        let mut check = |ip: IpAddr| {
            text.clear();
            push_ip_text(ip, &mut text);
            assert_eq!(text, ip.to_string());
        };
        let edges = [0u8, 1, 9, 10, 11, 99, 100, 101, 199, 200, 209, 250, 255];
        for a in edges {
            for b in edges {
                check(IpAddr::V4(Ipv4Addr::new(a, b, b, a)));
            }
        }
        for x in (0..u32::MAX).step_by(9_973_331) {
            check(IpAddr::V4(Ipv4Addr::from(x)));
        }
        check(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
        check(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }

    #[test]
    fn record_stays_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::PacketRecord>(), 64);
    }
}
