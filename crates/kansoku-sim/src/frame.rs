//! Builders for the frames a telescope receives: Ethernet II, IPv4, TCP, UDP and ICMP.
//!
//! Every builder clears and refills a caller-owned `Vec<u8>`, so the hot loop reuses one
//! buffer and never allocates per packet. All checksums are correct (IPv4 header, TCP/UDP
//! with the pseudo-header, ICMP), because decoders and classifiers downstream may verify
//! them. Frames shorter than the Ethernet minimum are zero-padded to 60 bytes, as a
//! receiving NIC delivers them (the FCS is not captured).

/// MAC of the telescope's capture interface (destination of every frame).
const ETH_DST: [u8; 6] = [0x00, 0x1b, 0x21, 0x5a, 0x0c, 0x01];
/// MAC of the upstream router that delivers the darknet's traffic (source of every frame).
const ETH_SRC: [u8; 6] = [0x00, 0x0c, 0xdb, 0x3e, 0x77, 0x02];
/// Minimum Ethernet frame length without the FCS.
const MIN_FRAME: usize = 60;
const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;

pub(crate) const TCP_SYN: u8 = 0x02;
pub(crate) const TCP_RST: u8 = 0x04;
pub(crate) const TCP_ACK: u8 = 0x10;

/// The IPv4 fields that vary between senders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ipv4 {
    pub src: u32,
    pub dst: u32,
    pub id: u16,
    pub ttl: u8,
    /// Don't Fragment flag.
    pub df: bool,
}

/// A TCP segment without payload (darknet traffic is handshakes and resets).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tcp<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// Raw option bytes; their length must be a multiple of 4.
    pub options: &'a [u8],
}

/// The ICMP header fields after type and code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Icmp {
    pub kind: u8,
    pub code: u8,
    /// Bytes 4..8 of the ICMP header (identifier/sequence for echo, unused for errors).
    pub rest: [u8; 4],
}

/// Adds big-endian 16-bit words of `data` to a one's-complement accumulator.
fn sum_words(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds an accumulator into the final one's-complement checksum.
fn finish(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum (RFC 1071) of `data`.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    finish(sum_words(0, data))
}

/// An IPv4 header (no options) with its checksum filled in.
pub(crate) fn ipv4_header(ip: &Ipv4, proto: u8, total_len: u16) -> [u8; IPV4_LEN] {
    let mut h = [0u8; IPV4_LEN];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[4..6].copy_from_slice(&ip.id.to_be_bytes());
    if ip.df {
        h[6] = 0x40;
    }
    h[8] = ip.ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&ip.src.to_be_bytes());
    h[16..20].copy_from_slice(&ip.dst.to_be_bytes());
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// Starts a frame: Ethernet header plus IPv4 header for `l4_len` bytes of transport.
fn begin(frame: &mut Vec<u8>, ip: &Ipv4, proto: u8, l4_len: usize) {
    frame.clear();
    frame.extend_from_slice(&ETH_DST);
    frame.extend_from_slice(&ETH_SRC);
    frame.extend_from_slice(&0x0800u16.to_be_bytes());
    // Lengths are bounded by the builders' callers (headers plus small payloads).
    let total = (IPV4_LEN + l4_len) as u16;
    frame.extend_from_slice(&ipv4_header(ip, proto, total));
}

/// Writes the transport checksum (at `offset` inside the transport header), using the
/// TCP/UDP pseudo-header when `pseudo` is set, and pads the frame to the Ethernet minimum.
fn end(frame: &mut Vec<u8>, ip: &Ipv4, proto: u8, offset: usize, pseudo: bool) {
    let l4 = ETH_LEN + IPV4_LEN;
    let mut acc = 0;
    if pseudo {
        let len = (frame.len() - l4) as u64;
        acc = u64::from(ip.src >> 16)
            + u64::from(ip.src & 0xffff)
            + u64::from(ip.dst >> 16)
            + u64::from(ip.dst & 0xffff)
            + u64::from(proto)
            + len;
    }
    let mut c = finish(sum_words(acc, &frame[l4..]));
    if proto == PROTO_UDP && c == 0 {
        // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
        c = 0xffff;
    }
    frame[l4 + offset..l4 + offset + 2].copy_from_slice(&c.to_be_bytes());
    if frame.len() < MIN_FRAME {
        frame.resize(MIN_FRAME, 0);
    }
}

/// Builds an Ethernet/IPv4/TCP frame without payload.
pub(crate) fn tcp(frame: &mut Vec<u8>, ip: &Ipv4, t: &Tcp<'_>) {
    debug_assert!(t.options.len().is_multiple_of(4) && t.options.len() <= 40);
    let hlen = 20 + t.options.len();
    begin(frame, ip, PROTO_TCP, hlen);
    frame.extend_from_slice(&t.sport.to_be_bytes());
    frame.extend_from_slice(&t.dport.to_be_bytes());
    frame.extend_from_slice(&t.seq.to_be_bytes());
    frame.extend_from_slice(&t.ack.to_be_bytes());
    frame.push(((hlen / 4) as u8) << 4);
    frame.push(t.flags);
    frame.extend_from_slice(&t.window.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    frame.extend_from_slice(t.options);
    end(frame, ip, PROTO_TCP, 16, true);
}

/// Builds an Ethernet/IPv4/UDP frame carrying `payload`.
pub(crate) fn udp(frame: &mut Vec<u8>, ip: &Ipv4, sport: u16, dport: u16, payload: &[u8]) {
    let len = 8 + payload.len();
    begin(frame, ip, PROTO_UDP, len);
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&dport.to_be_bytes());
    frame.extend_from_slice(&(len as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    end(frame, ip, PROTO_UDP, 6, true);
}

/// Builds an Ethernet/IPv4/ICMP frame whose message body is `body`.
pub(crate) fn icmp(frame: &mut Vec<u8>, ip: &Ipv4, m: &Icmp, body: &[u8]) {
    begin(frame, ip, PROTO_ICMP, 8 + body.len());
    frame.extend_from_slice(&[m.kind, m.code, 0, 0]);
    frame.extend_from_slice(&m.rest);
    frame.extend_from_slice(body);
    end(frame, ip, PROTO_ICMP, 2, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        // An odd trailing byte is padded with zero on the right.
        assert_eq!(checksum(&[0x12]), !0x1200);
    }

    #[test]
    fn ipv4_header_verifies_to_zero() {
        let ip = Ipv4 {
            src: 0x0102_0304,
            dst: 0xc612_0001,
            id: 7,
            ttl: 120,
            df: true,
        };
        let h = ipv4_header(&ip, PROTO_TCP, 48);
        assert_eq!(checksum(&h), 0);
        assert_eq!(h[6], 0x40);
    }

    #[test]
    fn short_frames_are_padded() {
        let ip = Ipv4 {
            src: 0x0102_0304,
            dst: 0xc612_0001,
            id: 1,
            ttl: 64,
            df: false,
        };
        let mut f = Vec::new();
        let t = Tcp {
            sport: 1,
            dport: 2,
            seq: 3,
            ack: 0,
            flags: TCP_RST,
            window: 0,
            options: &[],
        };
        tcp(&mut f, &ip, &t);
        assert_eq!(f.len(), MIN_FRAME);
        assert_eq!(u16::from_be_bytes([f[16], f[17]]), 40);
    }
}
