//! IPv6 header and extension-header chain.

use std::net::{IpAddr, Ipv6Addr};

use super::{Fragment, Malformed, Packet, transport};

/// Decode an IPv6 packet starting at `buf[0]`. As for IPv4, bytes past the
/// payload length are link padding and a snaplen-cut payload is not malformed.
pub(crate) fn decode(buf: &[u8]) -> Result<Packet<'_>, Malformed> {
    match buf.first() {
        None => return Err(Malformed::Ipv6Truncated),
        Some(b) if b >> 4 != 6 => return Err(Malformed::Ipv6BadVersion),
        Some(_) => {}
    }
    let (hdr, rest) = buf
        .split_first_chunk::<40>()
        .ok_or(Malformed::Ipv6Truncated)?;
    let payload_len = u16::from_be_bytes([hdr[4], hdr[5]]);
    let next = hdr[6];
    // Payload length 0 with a hop-by-hop header may be a jumbogram (RFC 2675):
    // take what was captured.
    let jumbo = payload_len == 0 && next == 0;
    let payload = if jumbo {
        rest
    } else {
        rest.get(..usize::from(payload_len)).unwrap_or(rest)
    };
    let ext = walk_extensions(next, payload)?;
    let fragment = if ext.later {
        Fragment::Later
    } else if ext.more {
        Fragment::First
    } else {
        Fragment::Whole
    };
    let declared = if jumbo || fragment == Fragment::First {
        usize::MAX
    } else {
        usize::from(payload_len).saturating_sub(ext.ext_len)
    };
    let (src, dst) = addrs(hdr);
    let transport = transport(ext.proto, ext.payload, declared, fragment)?;
    Ok(Packet {
        src,
        dst,
        version: 6,
        ttl: hdr[7],
        ip_id: ext.ip_id,
        ip_len: u32::from(payload_len) + 40,
        dont_fragment: false,
        fragment,
        proto: ext.proto,
        transport,
        ip_header: hdr,
        ports: transport.ports(),
    })
}

pub(crate) fn addrs(hdr: &[u8; 40]) -> (IpAddr, IpAddr) {
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&hdr[8..24]);
    dst.copy_from_slice(&hdr[24..40]);
    (
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
    )
}

/// Result of walking the extension-header chain.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Extensions<'a> {
    /// Upper-layer protocol (or the next header after a non-first fragment).
    pub proto: u8,
    /// Bytes after the last extension header.
    pub payload: &'a [u8],
    /// Total length of the extension headers.
    pub ext_len: usize,
    /// A fragment header with offset > 0 was seen.
    pub later: bool,
    /// A fragment header with offset 0 and M set was seen.
    pub more: bool,
    /// Fragment identification, 0 without a fragment header.
    pub ip_id: u32,
}

/// Walk Hop-by-Hop (0), Routing (43), Fragment (44), AH (51) and Destination
/// Options (60) headers. Stops at any other next-header value (59, No Next
/// Header, included) or after a non-first fragment header, whose following
/// bytes are fragment data, not headers.
pub(crate) fn walk_extensions(mut next: u8, buf: &[u8]) -> Result<Extensions<'_>, Malformed> {
    let mut off = 0usize;
    let mut more = false;
    let mut ip_id = 0;
    // Every header is at least 8 bytes, so the loop is bounded by `buf`.
    loop {
        let rest = buf.get(off..).unwrap_or_default();
        let len = match next {
            0 | 43 | 60 | 51 => {
                let h = rest
                    .first_chunk::<2>()
                    .ok_or(Malformed::Ipv6ExtensionTruncated)?;
                let len = if next == 51 {
                    // AH counts 4-byte units, minus 2.
                    (usize::from(h[1]) + 2) * 4
                } else {
                    (usize::from(h[1]) + 1) * 8
                };
                if rest.len() < len {
                    return Err(Malformed::Ipv6ExtensionTruncated);
                }
                next = h[0];
                len
            }
            44 => {
                let h = rest
                    .first_chunk::<8>()
                    .ok_or(Malformed::Ipv6ExtensionTruncated)?;
                next = h[0];
                let fo = u16::from_be_bytes([h[2], h[3]]);
                ip_id = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                if fo >> 3 != 0 {
                    let payload = rest.get(8..).unwrap_or_default();
                    return Ok(Extensions {
                        proto: next,
                        payload,
                        ext_len: off + 8,
                        later: true,
                        more: false,
                        ip_id,
                    });
                }
                more |= fo & 1 != 0;
                8
            }
            _ => {
                return Ok(Extensions {
                    proto: next,
                    payload: rest,
                    ext_len: off,
                    later: false,
                    more,
                    ip_id,
                });
            }
        };
        off += len;
    }
}
