//! `decode`: the first byte picks a link type from `LinkType::ALL` (low 3 bits), the rest is the
//! frame. If bit 7 of that byte is set, the frame is zero-padded to just over 64 KiB so that the
//! paths reserved for huge frames (IPv6 jumbograms, UDP length 0) are reachable despite
//! libFuzzer's 4 KiB default input size. Every accessor of a successful decode is exercised,
//! and a few invariants are checked.
#![no_main]

use std::hint::black_box;

use kansoku_packet::decode::{Decoded, LinkType, Packet, Transport, decode};
use libfuzzer_sys::fuzz_target;

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    inner.is_empty() || (i >= o && i + inner.len() <= o + outer.len())
}

fn touch(frame: &[u8], p: &Packet<'_>) {
    black_box((p.src, p.dst, p.version, p.ttl, p.ip_id, p.ip_len));
    black_box((p.dont_fragment, p.fragment, p.proto));
    assert!(p.version == 4 || p.version == 6);
    assert!(within(frame, p.ip_header), "ip_header not inside the frame");
    match p.version {
        4 => assert!(p.ip_header.len() >= 20 && p.ip_header.len() <= 60),
        _ => assert_eq!(p.ip_header.len(), 40),
    }
    black_box((p.src_port(), p.dst_port()));
    match &p.transport {
        Transport::Tcp(t) => {
            black_box((
                t.src_port(),
                t.dst_port(),
                t.seq(),
                t.ack(),
                t.flags(),
                t.window(),
            ));
            assert_eq!(t.header_len(), 20 + t.options().len());
            assert!(t.header_len() <= 60);
            assert!(within(frame, t.options()));
            assert!(within(frame, t.payload()));
            assert_eq!(p.dst_port(), t.dst_port());
            assert_eq!(p.src_port(), t.src_port());
        }
        Transport::Udp(u) => {
            black_box((u.src_port(), u.dst_port(), u.length()));
            assert!(within(frame, u.payload()));
            assert_eq!(p.dst_port(), u.dst_port());
        }
        Transport::Icmp(i) => {
            black_box((i.kind(), i.code(), i.checksum(), i.is_v6(), i.is_error()));
            assert!(within(frame, i.rest()));
            assert_eq!(i.is_v6(), p.proto == 58);
            if let Some(q) = i.quoted() {
                black_box((q.src, q.dst, q.proto, q.src_port, q.dst_port));
                assert!(i.is_error());
            }
            assert_eq!(p.dst_port(), u16::from_be_bytes([i.kind(), i.code()]));
            assert_eq!(p.src_port(), 0);
        }
        Transport::Other => {
            assert_eq!((p.src_port(), p.dst_port()), (0, 0));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let link = LinkType::ALL[usize::from(sel & 0x7f) % LinkType::ALL.len()];
    let padded;
    let frame = if sel & 0x80 != 0 {
        let mut v = Vec::with_capacity(0x1_0040);
        v.extend_from_slice(frame);
        v.resize(v.len().max(0x1_0040), 0);
        padded = v;
        &padded[..]
    } else {
        frame
    };
    // Codes must round-trip whatever the input.
    assert_eq!(LinkType::from_linktype(link.code()), Some(link));
    match decode(link, frame) {
        Ok(Decoded::Ip(p)) => touch(frame, &p),
        Ok(Decoded::NotIp { ethertype }) => {
            assert!(ethertype == 0 || ethertype >= 0x0600);
        }
        Err(m) => {
            black_box((m.as_str(), m.message(), m.to_string()));
            assert_eq!(kansoku_packet::decode::Malformed::ALL[m as usize], m);
        }
    }
});
