//! Link layers: Ethernet II (+ stacked VLAN tags), Linux SLL / SLL2, BSD
//! NULL / LOOP and the raw-IP link types. Their only job here is to find
//! where the IP header starts and which IP version the link claims.

use super::Malformed;

/// Link types from the pcap `LINKTYPE_` / `DLT_` registry that we decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): Ethernet II / 802.3, any number of VLAN tags.
    Ethernet,
    /// `LINKTYPE_NULL` (0): BSD loopback, 4-byte address family in the
    /// *capturing host's* byte order (so either order is accepted).
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, address family in network order.
    Loop,
    /// `LINKTYPE_RAW` (101; also `DLT_RAW` 12 and 14 as written by some
    /// BSDs): bare IPv4 or IPv6, told apart by the version nibble.
    Raw,
    /// `LINKTYPE_IPV4` (228): bare IPv4.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): bare IPv6.
    Ipv6,
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1, 16-byte header.
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2, 20-byte header.
    LinuxSll2,
}

impl LinkType {
    /// Every link type, for tests and `--help` listings.
    pub const ALL: [LinkType; 8] = [
        LinkType::Ethernet,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Raw,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
    ];

    /// Map a pcap / pcapng link-type code; `None` for link types we do not decode.
    pub fn from_linktype(code: u32) -> Option<LinkType> {
        Some(match code {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 12 and 14 are DLT_RAW on some BSDs and leak into old pcap files.
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// The canonical `LINKTYPE_` code (101 for [`LinkType::Raw`]).
    pub fn code(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
        }
    }
}

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;

/// What the link layer says follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkPayload<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    /// IPv4 or IPv6, decided by the version nibble.
    AnyIp(&'a [u8]),
    NotIp(u16),
}

/// Strip the link header of `frame`.
pub(crate) fn strip(link: LinkType, frame: &[u8]) -> Result<LinkPayload<'_>, Malformed> {
    match link {
        LinkType::Ethernet => {
            let (hdr, rest) = frame
                .split_first_chunk::<14>()
                .ok_or(Malformed::LinkTruncated)?;
            ether_payload(u16::from_be_bytes([hdr[12], hdr[13]]), rest)
        }
        LinkType::LinuxSll => {
            let (hdr, rest) = frame
                .split_first_chunk::<16>()
                .ok_or(Malformed::SllTruncated)?;
            ether_payload(u16::from_be_bytes([hdr[14], hdr[15]]), rest)
        }
        LinkType::LinuxSll2 => {
            let (hdr, rest) = frame
                .split_first_chunk::<20>()
                .ok_or(Malformed::SllTruncated)?;
            ether_payload(u16::from_be_bytes([hdr[0], hdr[1]]), rest)
        }
        LinkType::Null | LinkType::Loop => {
            let (hdr, rest) = frame
                .split_first_chunk::<4>()
                .ok_or(Malformed::NullTruncated)?;
            // NULL is host order of whoever captured, which the file does not
            // record reliably; the IP families are small numbers, so exactly
            // one order yields a known value. LOOP is specified as network
            // order, but accepting both costs nothing and forgives writers
            // that got it wrong.
            let family = match (u32::from_le_bytes(*hdr), u32::from_be_bytes(*hdr)) {
                (f, _) if is_known_family(f) => f,
                (_, f) if is_known_family(f) => f,
                _ => return Err(Malformed::UnknownAddressFamily),
            };
            Ok(if family == AF_INET {
                LinkPayload::Ipv4(rest)
            } else {
                LinkPayload::Ipv6(rest)
            })
        }
        LinkType::Raw => Ok(LinkPayload::AnyIp(frame)),
        LinkType::Ipv4 => Ok(LinkPayload::Ipv4(frame)),
        LinkType::Ipv6 => Ok(LinkPayload::Ipv6(frame)),
    }
}

const AF_INET: u32 = 2;

/// AF_INET, then AF_INET6 as numbered by Linux (10), NetBSD/OpenBSD (24),
/// FreeBSD (28) and macOS (30): a capture file does not say which OS wrote it.
fn is_known_family(f: u32) -> bool {
    matches!(f, AF_INET | 10 | 24 | 28 | 30)
}

/// Walk any number of stacked VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8 and
/// the pre-standard QinQ 0x9100), then classify the ethertype.
///
/// Also used after SLL / SLL2, whose protocol field is an ethertype and may
/// carry an un-stripped VLAN tag.
fn ether_payload(mut ethertype: u16, mut rest: &[u8]) -> Result<LinkPayload<'_>, Malformed> {
    // Each iteration consumes 4 bytes, so the loop is bounded by the frame.
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        let (tag, tail) = rest
            .split_first_chunk::<4>()
            .ok_or(Malformed::VlanTruncated)?;
        ethertype = u16::from_be_bytes([tag[2], tag[3]]);
        rest = tail;
    }
    Ok(match ethertype {
        ETHERTYPE_IPV4 => LinkPayload::Ipv4(rest),
        ETHERTYPE_IPV6 => LinkPayload::Ipv6(rest),
        // 802.3: the field is a length (LLC follows: STP, IPX, NetBIOS...).
        // Not IP, and not malformed either.
        t if t < 0x0600 => LinkPayload::NotIp(0),
        t => LinkPayload::NotIp(t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linktype_codes_round_trip() {
        for l in LinkType::ALL {
            assert_eq!(LinkType::from_linktype(l.code()), Some(l));
        }
        assert_eq!(LinkType::from_linktype(12), Some(LinkType::Raw));
        assert_eq!(LinkType::from_linktype(14), Some(LinkType::Raw));
        assert_eq!(LinkType::from_linktype(105), None);
    }

    fn eth(ethertype: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(ethertype);
        f.extend_from_slice(rest);
        f
    }

    #[test]
    fn ethernet_plain_vlan_qinq() {
        let f = eth(&[0x08, 0x00], &[0x45]);
        assert_eq!(
            strip(LinkType::Ethernet, &f),
            Ok(LinkPayload::Ipv4(&[0x45][..]))
        );
        let f = eth(&[0x81, 0x00, 0x00, 0x05, 0x86, 0xdd], &[0x60]);
        assert_eq!(
            strip(LinkType::Ethernet, &f),
            Ok(LinkPayload::Ipv6(&[0x60][..]))
        );
        let f = eth(
            &[
                0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x91, 0x00, 0, 3, 0x08, 0x00,
            ],
            &[0x45, 1],
        );
        assert_eq!(
            strip(LinkType::Ethernet, &f),
            Ok(LinkPayload::Ipv4(&[0x45, 1][..]))
        );
    }

    #[test]
    fn ethernet_not_ip_and_truncation() {
        assert_eq!(
            strip(LinkType::Ethernet, &eth(&[0x08, 0x06], &[0; 28])),
            Ok(LinkPayload::NotIp(0x0806))
        );
        // 802.3 length field (e.g. STP).
        assert_eq!(
            strip(LinkType::Ethernet, &eth(&[0x00, 0x26], &[0x42; 38])),
            Ok(LinkPayload::NotIp(0))
        );
        assert_eq!(
            strip(LinkType::Ethernet, &[0; 13]),
            Err(Malformed::LinkTruncated)
        );
        assert_eq!(
            strip(LinkType::Ethernet, &eth(&[0x81, 0x00], &[0, 1, 8])),
            Err(Malformed::VlanTruncated)
        );
        // A VLAN tag with nothing after it is not an error: empty IPv4 payload is the IP layer's problem.
        assert_eq!(
            strip(LinkType::Ethernet, &eth(&[0x81, 0x00], &[0, 1, 8, 0])),
            Ok(LinkPayload::Ipv4(&[][..]))
        );
    }

    #[test]
    fn sll_and_sll2() {
        let mut f = vec![0u8; 14];
        f.extend_from_slice(&[0x86, 0xdd, 0x60]);
        assert_eq!(
            strip(LinkType::LinuxSll, &f),
            Ok(LinkPayload::Ipv6(&[0x60][..]))
        );
        assert_eq!(
            strip(LinkType::LinuxSll, &f[..15]),
            Err(Malformed::SllTruncated)
        );
        let mut f = vec![0x08, 0x00];
        f.extend_from_slice(&[0; 18]);
        f.push(0x45);
        assert_eq!(
            strip(LinkType::LinuxSll2, &f),
            Ok(LinkPayload::Ipv4(&[0x45][..]))
        );
        assert_eq!(
            strip(LinkType::LinuxSll2, &f[..19]),
            Err(Malformed::SllTruncated)
        );
        // SLL carrying an un-stripped VLAN tag.
        let mut f = vec![0u8; 14];
        f.extend_from_slice(&[0x81, 0x00, 0, 7, 0x08, 0x00, 0x45]);
        assert_eq!(
            strip(LinkType::LinuxSll, &f),
            Ok(LinkPayload::Ipv4(&[0x45][..]))
        );
    }

    #[test]
    fn null_both_orders_and_loop() {
        for af in [2u32, 10, 24, 28, 30] {
            let want_v4 = af == 2;
            for hdr in [af.to_le_bytes(), af.to_be_bytes()] {
                for link in [LinkType::Null, LinkType::Loop] {
                    let mut f = hdr.to_vec();
                    f.push(0xaa);
                    let got = strip(link, &f).unwrap();
                    let want = if want_v4 {
                        LinkPayload::Ipv4(&[0xaa][..])
                    } else {
                        LinkPayload::Ipv6(&[0xaa][..])
                    };
                    assert_eq!(got, want, "af {af} link {link:?}");
                }
            }
        }
        assert_eq!(
            strip(LinkType::Null, &7u32.to_le_bytes()),
            Err(Malformed::UnknownAddressFamily)
        );
        assert_eq!(
            strip(LinkType::Loop, &[0, 0, 0]),
            Err(Malformed::NullTruncated)
        );
    }
}
