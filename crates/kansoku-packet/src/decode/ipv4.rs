//! IPv4 header.

use std::net::{IpAddr, Ipv4Addr};

use super::{Fragment, Malformed, Packet, transport};

/// Decode an IPv4 packet starting at `buf[0]`.
///
/// `buf` may be longer than the total length (Ethernet pads frames to 60
/// bytes; the padding must not be read as payload) or shorter (the capture
/// snaplen cut the frame: common, since darknet sensors often keep only the
/// first 64-128 bytes; what was captured is still worth decoding, so this is
/// not malformed). The header checksum is not verified: a telescope counts
/// what arrives, and corrupt headers are rare enough not to matter.
#[inline(always)]
pub(crate) fn decode(buf: &[u8]) -> Result<Packet<'_>, Malformed> {
    match buf.first() {
        None => return Err(Malformed::Ipv4Truncated),
        Some(b) if b >> 4 != 4 => return Err(Malformed::Ipv4BadVersion),
        Some(_) => {}
    }
    let hdr = buf.first_chunk::<20>().ok_or(Malformed::Ipv4Truncated)?;
    let ihl = usize::from(hdr[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(Malformed::Ipv4BadHeaderLength);
    }
    let total_len = u16::from_be_bytes([hdr[2], hdr[3]]);
    let total = usize::from(total_len);
    if total < ihl {
        return Err(Malformed::Ipv4BadTotalLength);
    }
    let (ip_header, rest) = buf.split_at_checked(ihl).ok_or(Malformed::Ipv4Truncated)?;
    // Cut off link padding; keep a snaplen-cut payload as it is.
    let payload = rest.get(..total - ihl).unwrap_or(rest);

    let frag = u16::from_be_bytes([hdr[6], hdr[7]]);
    let offset = frag & 0x1fff;
    let more = frag & 0x2000 != 0;
    let fragment = if offset > 0 {
        Fragment::Later
    } else if more {
        Fragment::First
    } else {
        Fragment::Whole
    };
    let proto = hdr[9];
    // In a first fragment the transport lengths describe the reassembled
    // datagram, not this piece, so they cannot be checked against it.
    let declared = if fragment == Fragment::First {
        usize::MAX
    } else {
        total - ihl
    };
    let transport = transport(proto, payload, declared, fragment)?;
    Ok(Packet {
        src: IpAddr::V4(Ipv4Addr::new(hdr[12], hdr[13], hdr[14], hdr[15])),
        dst: IpAddr::V4(Ipv4Addr::new(hdr[16], hdr[17], hdr[18], hdr[19])),
        version: 4,
        ttl: hdr[8],
        ip_id: u32::from(u16::from_be_bytes([hdr[4], hdr[5]])),
        ip_len: u32::from(total_len),
        dont_fragment: frag & 0x4000 != 0,
        fragment,
        proto,
        transport,
        ip_header,
        ports: transport.ports(),
    })
}
