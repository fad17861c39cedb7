//! ICMP (IPv4, protocol 1) and ICMPv6 (protocol 58) header view, and the
//! datagram quoted inside error messages.
//!
//! Quoted headers matter to a darknet: an ICMP error arriving at unused
//! address space is backscatter, and the quoted header names the victim
//! (its address and the port the spoofed attack targeted).

use std::net::{IpAddr, Ipv4Addr};

use super::{Malformed, ipv6};

/// An ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<'a> {
    hdr: &'a [u8; 4],
    rest: &'a [u8],
    v6: bool,
}

/// The IP addresses, protocol and ports of the datagram quoted in an ICMP
/// error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoted {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    /// 0 when the quoted datagram is not TCP/UDP, a non-first fragment, or
    /// cut before its ports.
    pub src_port: u16,
    pub dst_port: u16,
}

impl<'a> Icmp<'a> {
    /// Check `buf` as an ICMP message; `v6` selects ICMPv6 type numbering
    /// (which types carry a quoted datagram).
    pub fn new_checked(buf: &'a [u8], v6: bool) -> Result<Self, Malformed> {
        let (hdr, rest) = buf
            .split_first_chunk::<4>()
            .ok_or(Malformed::IcmpTruncated)?;
        Ok(Icmp { hdr, rest, v6 })
    }

    /// ICMP type.
    pub fn kind(&self) -> u8 {
        self.hdr[0]
    }
    pub fn code(&self) -> u8 {
        self.hdr[1]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.hdr[2], self.hdr[3]])
    }
    /// True for ICMPv6.
    pub fn is_v6(&self) -> bool {
        self.v6
    }
    /// Everything after type, code and checksum.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// True for error messages, which quote the offending datagram:
    /// ICMPv4 unreachable (3), source quench (4), redirect (5), time
    /// exceeded (11), parameter problem (12); ICMPv6 types 1-4.
    pub fn is_error(&self) -> bool {
        if self.v6 {
            matches!(self.kind(), 1..=4)
        } else {
            matches!(self.kind(), 3 | 4 | 5 | 11 | 12)
        }
    }

    /// Decode the quoted IP header and the first transport bytes of an error
    /// message. Routers only have to quote 8 bytes past the IP header (RFC
    /// 792), so anything cut after the ports is fine; `None` only when this is
    /// not an error or the quoted IP header itself is incomplete.
    pub fn quoted(&self) -> Option<Quoted> {
        if !self.is_error() {
            return None;
        }
        // 4 bytes unused / pointer / gateway / MTU, then the datagram.
        quoted_ip(self.rest.get(4..)?)
    }
}

fn quoted_ip(b: &[u8]) -> Option<Quoted> {
    let (src, dst, proto, l4) = match b.first()? >> 4 {
        4 => {
            let hdr = b.first_chunk::<20>()?;
            let ihl = usize::from(hdr[0] & 0x0f) * 4;
            if ihl < 20 {
                return None;
            }
            let l4 = b.get(ihl..)?;
            let later = u16::from_be_bytes([hdr[6], hdr[7]]) & 0x1fff != 0;
            (
                IpAddr::V4(Ipv4Addr::new(hdr[12], hdr[13], hdr[14], hdr[15])),
                IpAddr::V4(Ipv4Addr::new(hdr[16], hdr[17], hdr[18], hdr[19])),
                hdr[9],
                if later { &[][..] } else { l4 },
            )
        }
        6 => {
            let (hdr, rest) = b.split_first_chunk::<40>()?;
            let (src, dst) = ipv6::addrs(hdr);
            match ipv6::walk_extensions(hdr[6], rest) {
                Ok(ext) if ext.later => (src, dst, ext.proto, &[][..]),
                Ok(ext) => (src, dst, ext.proto, ext.payload),
                // Cut inside extension headers: addresses are still useful.
                Err(_) => (src, dst, hdr[6], &[][..]),
            }
        }
        _ => return None,
    };
    let (src_port, dst_port) = match (proto, l4.first_chunk::<4>()) {
        (6 | 17, Some(p)) => (
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        ),
        _ => (0, 0),
    };
    Some(Quoted {
        src,
        dst,
        proto,
        src_port,
        dst_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_is_not_an_error() {
        let b = [8, 0, 0xf7, 0xff, 0, 1, 0, 1];
        let i = Icmp::new_checked(&b, false).unwrap();
        assert_eq!((i.kind(), i.code(), i.rest()), (8, 0, &b[4..]));
        assert_eq!(i.quoted(), None);
        assert_eq!(
            Icmp::new_checked(&b[..3], false).err(),
            Some(Malformed::IcmpTruncated)
        );
    }

    #[test]
    fn port_unreachable_quoting_udp_cut_after_ports() {
        let mut b = vec![3, 3, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 192, 0, 2, 9,
        ]);
        b.extend_from_slice(&[0x30, 0x39, 0x00, 0x35]); // 12345 -> 53, rest of UDP header cut
        let q = Icmp::new_checked(&b, false).unwrap().quoted().unwrap();
        assert_eq!(q.src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(q.dst, "192.0.2.9".parse::<IpAddr>().unwrap());
        assert_eq!((q.proto, q.src_port, q.dst_port), (17, 12345, 53));
        // Cut before the ports: still quoted, ports 0. Cut inside IP: None.
        let q = Icmp::new_checked(&b[..30], false)
            .unwrap()
            .quoted()
            .unwrap();
        assert_eq!((q.proto, q.src_port, q.dst_port), (17, 0, 0));
        assert_eq!(Icmp::new_checked(&b[..27], false).unwrap().quoted(), None);
        // Type 3 means something else for ICMPv6 (time exceeded) but is an error there too.
        assert!(Icmp::new_checked(&b, true).unwrap().quoted().is_some());
        // ICMPv6 echo request (128) is not.
        b[0] = 128;
        assert_eq!(Icmp::new_checked(&b, true).unwrap().quoted(), None);
    }
}
