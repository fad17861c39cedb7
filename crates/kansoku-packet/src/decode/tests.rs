//! Cross-layer tests with hand-built frames. The builders are shared with the
//! fuzz test, which mutates the frames they produce.

use super::*;

pub(crate) const SRC4: [u8; 4] = [198, 51, 100, 7];
pub(crate) const DST4: [u8; 4] = [203, 0, 113, 200];
pub(crate) const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub(crate) const DST6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99,
];

pub(crate) fn tcp_syn(sport: u16, dport: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[
        0xde,
        0xad,
        0xbe,
        0xef,
        0,
        0,
        0,
        0,
        0x60,
        tcp_flags::SYN,
        0xff,
        0xff,
        0,
        0,
        0,
        0,
    ]);
    t.extend_from_slice(&[2, 4, 5, 0xb4]); // MSS option: data offset 6
    t
}

pub(crate) fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// IPv4 header with `options` (a multiple of 4 bytes), then `payload`.
pub(crate) fn ipv4(proto: u8, frag: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ihl = 5 + options.len() / 4;
    let total = (ihl * 4 + payload.len()) as u16;
    let mut p = vec![0x40 | ihl as u8, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[57, proto, 0, 0]);
    p.extend_from_slice(&SRC4);
    p.extend_from_slice(&DST4);
    p.extend_from_slice(options);
    p.extend_from_slice(payload);
    p
}

/// IPv6 header; `payload` includes any extension headers.
pub(crate) fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&SRC6);
    p.extend_from_slice(&DST6);
    p.extend_from_slice(payload);
    p
}

pub(crate) fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ip(link: LinkType, frame: &[u8]) -> Packet<'_> {
    match decode(link, frame) {
        Ok(Decoded::Ip(p)) => p,
        other => panic!("expected IP, got {other:?}"),
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}
fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::from(a)
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = ether(0x0800, &ipv4(6, 0x4000, &[], &tcp_syn(40000, 23)));
    let p = ip(LinkType::Ethernet, &f);
    assert_eq!(
        (p.src, p.dst, p.version, p.ttl),
        (v4(SRC4), v4(DST4), 4, 57)
    );
    assert_eq!(
        (p.ip_id, p.ip_len, p.dont_fragment, p.fragment),
        (0x1234, 44, true, Fragment::Whole)
    );
    assert_eq!((p.proto, p.src_port(), p.dst_port()), (6, 40000, 23));
    assert_eq!(p.ip_header.len(), 20);
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!(
        (t.flags(), t.header_len(), t.options(), t.seq()),
        (tcp_flags::SYN, 24, &[2, 4, 5, 0xb4][..], 0xdeadbeef)
    );
}

#[test]
fn raw_v4_and_v6() {
    let f = ipv4(17, 0, &[], &udp(5353, 5353, b"x"));
    for link in [LinkType::Raw, LinkType::Ipv4] {
        let p = ip(link, &f);
        assert_eq!(
            (p.version, p.proto, p.src_port(), p.dst_port()),
            (4, 17, 5353, 5353)
        );
    }
    assert_eq!(
        decode(LinkType::Ipv6, &f).err(),
        Some(Malformed::Ipv6BadVersion)
    );
    let f = ipv6(6, &tcp_syn(1, 445));
    for link in [LinkType::Raw, LinkType::Ipv6] {
        let p = ip(link, &f);
        assert_eq!(
            (p.src, p.dst, p.version, p.ttl, p.ip_len),
            (v6(SRC6), v6(DST6), 6, 64, 64)
        );
        assert_eq!((p.proto, p.dst_port(), p.ip_header.len()), (6, 445, 40));
    }
    assert_eq!(
        decode(LinkType::Ipv4, &f).err(),
        Some(Malformed::Ipv4BadVersion)
    );
    assert_eq!(
        decode(LinkType::Raw, &[0x50; 30]).err(),
        Some(Malformed::RawBadVersion)
    );
    assert_eq!(
        decode(LinkType::Raw, &[]).err(),
        Some(Malformed::LinkTruncated)
    );
}

#[test]
fn every_link_type_reaches_ip() {
    let pkt = ipv4(17, 0, &[], &udp(1, 2, &[]));
    let mut frames = vec![
        (LinkType::Ethernet, ether(0x0800, &pkt)),
        (
            LinkType::Ethernet,
            ether(0x8100, &[&[0, 1, 8, 0][..], &pkt].concat()),
        ),
        (
            LinkType::Ethernet,
            ether(0x88a8, &[&[0, 1, 0x81, 0, 0, 2, 8, 0][..], &pkt].concat()),
        ),
        (LinkType::Null, [&2u32.to_le_bytes()[..], &pkt].concat()),
        (LinkType::Null, [&2u32.to_be_bytes()[..], &pkt].concat()),
        (LinkType::Loop, [&2u32.to_be_bytes()[..], &pkt].concat()),
        (LinkType::Raw, pkt.clone()),
        (LinkType::Ipv4, pkt.clone()),
    ];
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 8, 0];
    sll.extend_from_slice(&pkt);
    frames.push((LinkType::LinuxSll, sll));
    let mut sll2 = vec![8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    sll2.extend_from_slice(&pkt);
    frames.push((LinkType::LinuxSll2, sll2));
    for (link, f) in &frames {
        let p = ip(*link, f);
        assert_eq!(
            (p.src, p.proto, p.dst_port()),
            (v4(SRC4), 17, 2),
            "{link:?}"
        );
    }
}

#[test]
fn not_ip() {
    let arp = ether(0x0806, &[0; 28]);
    assert!(matches!(
        decode(LinkType::Ethernet, &arp),
        Ok(Decoded::NotIp { ethertype: 0x0806 })
    ));
    let stp = ether(38, &[0x42, 0x42, 3, 0, 0]);
    assert!(matches!(
        decode(LinkType::Ethernet, &stp),
        Ok(Decoded::NotIp { ethertype: 0 })
    ));
    let lldp_in_vlan = ether(0x8100, &[0, 5, 0x88, 0xcc, 1, 2]);
    assert!(matches!(
        decode(LinkType::Ethernet, &lldp_in_vlan),
        Ok(Decoded::NotIp { ethertype: 0x88cc })
    ));
}

#[test]
fn ipv4_options_and_padding() {
    // Router-alert option (4 bytes); Ethernet pads to 60 bytes.
    let mut f = ether(
        0x0800,
        &ipv4(17, 0, &[0x94, 4, 0, 0], &udp(123, 123, b"ab")),
    );
    f.resize(60, 0xee);
    let p = ip(LinkType::Ethernet, &f);
    assert_eq!(p.ip_header.len(), 24);
    let Transport::Udp(u) = p.transport else {
        panic!()
    };
    assert_eq!(
        (u.dst_port(), u.length(), u.payload()),
        (123, 10, &b"ab"[..])
    );
}

#[test]
fn ipv4_bad_headers() {
    let good = ipv4(6, 0, &[], &tcp_syn(1, 2));
    let mut b = good.clone();
    b[0] = 0x44;
    assert_eq!(
        decode(LinkType::Raw, &b).err(),
        Some(Malformed::Ipv4BadHeaderLength)
    );
    let mut b = good.clone();
    b[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(
        decode(LinkType::Raw, &b).err(),
        Some(Malformed::Ipv4BadTotalLength)
    );
    let mut b = good.clone();
    b[0] = 0x46; // options announced but frame cut inside them
    assert_eq!(
        decode(LinkType::Raw, &b[..22]).err(),
        Some(Malformed::Ipv4Truncated)
    );
    // Total length shorter than the TCP header: a lie, not a snaplen cut.
    let mut b = good.clone();
    b[2..4].copy_from_slice(&42u16.to_be_bytes());
    assert_eq!(
        decode(LinkType::Raw, &b).err(),
        Some(Malformed::TcpBadDataOffset)
    );
    let mut b = good.clone();
    b[32] = 0x30;
    assert_eq!(
        decode(LinkType::Raw, &b).err(),
        Some(Malformed::TcpBadDataOffset)
    );
}

#[test]
fn snaplen_cut_is_not_malformed() {
    let mut payload = tcp_syn(5555, 80);
    payload.extend_from_slice(&[0x47; 100]);
    let f = ipv4(6, 0, &[], &payload);
    // Cut inside the TCP payload: decodes, payload is what was captured.
    let p = ip(LinkType::Raw, &f[..70]);
    assert_eq!(p.ip_len, 144);
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!((t.dst_port(), t.payload().len()), (80, 26));
    // Cut inside the TCP options or fixed header: TcpTruncated.
    assert_eq!(
        decode(LinkType::Raw, &f[..42]).err(),
        Some(Malformed::TcpTruncated)
    );
    assert_eq!(
        decode(LinkType::Raw, &f[..30]).err(),
        Some(Malformed::TcpTruncated)
    );
    // UDP cut inside its payload is fine; cut inside its header is not.
    let f = ipv4(17, 0, &[], &udp(9, 161, &[1; 50]));
    let Transport::Udp(u) = ip(LinkType::Raw, &f[..40]).transport else {
        panic!()
    };
    assert_eq!((u.length(), u.payload().len()), (58, 12));
    assert_eq!(
        decode(LinkType::Raw, &f[..27]).err(),
        Some(Malformed::UdpTruncated)
    );
}

#[test]
fn ipv4_fragments() {
    let u = udp(1000, 53, &[0; 100]); // UDP length covers the whole datagram
    let first = ipv4(17, 0x2000, &[], &u[..48]);
    let p = ip(LinkType::Raw, &first);
    assert_eq!(
        (p.fragment, p.src_port(), p.dst_port()),
        (Fragment::First, 1000, 53)
    );
    let later = ipv4(17, 6, &[], &u[48..]); // offset 48 bytes
    let p = ip(LinkType::Raw, &later);
    assert_eq!(
        (p.fragment, p.proto, p.dst_port()),
        (Fragment::Later, 17, 0)
    );
    assert!(matches!(p.transport, Transport::Other));
    // A later fragment's payload is never parsed, even if it looks broken.
    let f = ipv4(6, 0x2000 | 100, &[], &[0xff; 3]);
    let p = ip(LinkType::Raw, &f);
    assert_eq!(p.fragment, Fragment::Later);
}

/// IPv6 with hop-by-hop, destination options, fragment and AH headers.
#[test]
fn ipv6_extension_chain() {
    let hbh = [60, 0, 5, 2, 0, 0, 1, 0]; // -> dest opts, router alert
    let dst = [44, 0, 1, 4, 0, 0, 0, 0]; // -> fragment, padding
    let frag_first = [51, 0, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe]; // -> AH, offset 0, M
    let ah = [17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]; // -> UDP, 12 bytes
    let payload = [&hbh[..], &dst, &frag_first, &ah, &udp(7, 7777, b"hi")].concat();
    let f = ipv6(0, &payload);
    let p = ip(LinkType::Ipv6, &f);
    assert_eq!(
        (p.proto, p.fragment, p.ip_id),
        (17, Fragment::First, 0xcafebabe)
    );
    assert_eq!((p.src_port(), p.dst_port()), (7, 7777));

    let frag_later = [6, 0, 0x00, 0x08, 0, 0, 0, 9]; // offset 1 (8 bytes), last fragment
    let payload = [&[44u8, 0, 5, 2, 0, 0, 1, 0][..], &frag_later, &[0xff; 5]].concat();
    let f = ipv6(0, &payload);
    let p = ip(LinkType::Ipv6, &f);
    assert_eq!(
        (p.proto, p.fragment, p.ip_id, p.dst_port()),
        (6, Fragment::Later, 9, 0)
    );
    assert!(matches!(p.transport, Transport::Other));

    let f = ipv6(59, &[1, 2, 3]);
    let p = ip(LinkType::Ipv6, &f);
    assert!(matches!(p.transport, Transport::Other));
    assert_eq!(p.proto, 59);

    // Routing header claims 16 bytes but only 8 are there.
    let payload = [43u8, 1, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        decode(LinkType::Ipv6, &ipv6(43, &payload)).err(),
        Some(Malformed::Ipv6ExtensionTruncated)
    );
    assert_eq!(
        decode(LinkType::Ipv6, &ipv6(0, &[])).err(),
        Some(Malformed::Ipv6ExtensionTruncated)
    );
    assert_eq!(
        decode(LinkType::Ipv6, &ipv6(6, &[])[..39]).err(),
        Some(Malformed::Ipv6Truncated)
    );
}

#[test]
fn icmp_port_unreachable_quoting_udp() {
    let quoted = ipv4(17, 0, &[], &udp(33434, 161, &[0; 20]));
    let msg = [&[3u8, 3, 0, 0, 0, 0, 0, 0][..], &quoted[..28]].concat();
    // The error comes back from the victim: swap the outer addresses.
    let f = ether(0x0800, &ipv4(1, 0, &[], &msg));
    let p = ip(LinkType::Ethernet, &f);
    assert_eq!((p.proto, p.dst_port(), p.src_port()), (1, 3 * 256 + 3, 0));
    let Transport::Icmp(i) = p.transport else {
        panic!()
    };
    let q = i.quoted().unwrap();
    assert_eq!(
        q,
        Quoted {
            src: v4(SRC4),
            dst: v4(DST4),
            proto: 17,
            src_port: 33434,
            dst_port: 161
        }
    );
}

#[test]
fn icmpv6_dest_unreachable_quoting_tcp() {
    let quoted = ipv6(6, &tcp_syn(50000, 22));
    let msg = [&[1u8, 4, 0, 0, 0, 0, 0, 0][..], &quoted[..48]].concat();
    let f = ipv6(58, &msg);
    let p = ip(LinkType::Ipv6, &f);
    assert_eq!((p.proto, p.dst_port()), (58, 0x0104));
    let Transport::Icmp(i) = p.transport else {
        panic!()
    };
    assert!(i.is_v6());
    let q = i.quoted().unwrap();
    assert_eq!(
        q,
        Quoted {
            src: v6(SRC6),
            dst: v6(DST6),
            proto: 6,
            src_port: 50000,
            dst_port: 22
        }
    );
    assert_eq!(
        decode(LinkType::Ipv6, &ipv6(58, &[1, 4, 0])).err(),
        Some(Malformed::IcmpTruncated)
    );
}

/// Cut an Ethernet/IPv4/TCP frame at every length: shorter than the headers
/// is an error, anything longer decodes, nothing panics.
#[test]
fn truncated_at_every_position() {
    let mut seg = tcp_syn(1, 2);
    seg.extend_from_slice(&[9; 16]);
    let f = ether(
        0x8100,
        &[&[0, 1, 8, 0][..], &ipv4(6, 0, &[1, 1, 1, 0], &seg)].concat(),
    );
    let headers = 14 + 4 + 24 + 24;
    for n in 0..=f.len() {
        match decode(LinkType::Ethernet, &f[..n]) {
            Ok(Decoded::Ip(p)) => {
                assert!(n >= headers, "decoded at {n}");
                assert_eq!(p.dst_port(), 2);
            }
            Ok(Decoded::NotIp { .. }) => panic!("NotIp at {n}"),
            Err(_) => assert!(n < headers, "error at {n}"),
        }
    }
    let f6 = ipv6(
        0,
        &[&[17u8, 0, 1, 4, 0, 0, 0, 0][..], &udp(1, 2, &[3; 8])].concat(),
    );
    for n in 0..=f6.len() {
        let r = decode(LinkType::Raw, &f6[..n]);
        assert_eq!(r.is_ok(), n >= 56, "{n}: {r:?}");
    }
}
