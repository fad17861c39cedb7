//! Helpers shared by the capture tests: independent decoding (pcap-parser for the
//! container, etherparse for the frames) and the truth's class map.

#![allow(dead_code)]

use std::collections::BTreeMap;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use kansoku_sim::{Config, Scenario, Summary, Truth, simulate};
use pcap_parser::{
    LegacyPcapReader, Linktype, PcapBlockOwned, PcapError, traits::PcapReaderIterator,
};

pub const START: u64 = 1_060_560_000;
pub const DAY_US: u64 = 86_400_000_000;
pub const TELESCOPE: u32 = 0xc612_0000; // 198.18.0.0/16

pub fn small(scenario: Scenario, seed: u64) -> Config {
    Config {
        scenario,
        seed,
        days: 1,
        scale: 0.05,
        ..Config::default()
    }
}

pub fn run(config: &Config) -> (Vec<u8>, Summary, Truth) {
    let mut out = Vec::new();
    let (summary, truth) = simulate(config, &mut out).expect("simulate");
    (out, summary, truth)
}

/// One captured frame.
pub struct Frame {
    pub ts: u64,
    pub data: Vec<u8>,
}

/// Reads a capture with pcap-parser, checking the global header.
pub fn read_pcap(bytes: &[u8]) -> Vec<Frame> {
    let mut reader = LegacyPcapReader::new(1 << 16, bytes).expect("pcap header");
    let mut frames = Vec::new();
    let mut saw_header = false;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        assert_eq!(h.magic_number, 0xa1b2_c3d4);
                        assert_eq!((h.version_major, h.version_minor), (2, 4));
                        assert_eq!(h.network, Linktype::ETHERNET);
                        assert_eq!(h.snaplen, 65_535);
                        saw_header = true;
                    }
                    PcapBlockOwned::Legacy(b) => {
                        assert_eq!(b.caplen, b.origlen);
                        assert!(b.ts_usec < 1_000_000);
                        frames.push(Frame {
                            ts: u64::from(b.ts_sec) * 1_000_000 + u64::from(b.ts_usec),
                            data: b.data.to_vec(),
                        });
                    }
                    PcapBlockOwned::NG(_) => panic!("unexpected pcapng block"),
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("pcap error: {e:?}"),
        }
    }
    assert!(saw_header);
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian magic"
    );
    frames
}

/// Internet checksum over concatenated parts (0 when the data carries a valid checksum).
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A decoded packet with the fields the tests look at.
pub struct Pkt<'a> {
    pub ts: u64,
    pub src: u32,
    pub dst: u32,
    pub ttl: u8,
    pub df: bool,
    pub ip_id: u16,
    pub ip_len: u16,
    pub transport: TransportSlice<'a>,
}

/// Decodes a frame with etherparse and verifies every checksum.
pub fn decode(f: &Frame) -> Pkt<'_> {
    assert!(
        f.data.len() >= 60,
        "frame shorter than the Ethernet minimum"
    );
    let p = SlicedPacket::from_ethernet(&f.data).expect("etherparse");
    let Some(NetSlice::Ipv4(ip)) = p.net else {
        panic!("not IPv4")
    };
    let h = ip.header();
    assert_eq!(
        h.to_header().calc_header_checksum(),
        h.header_checksum(),
        "IPv4 checksum"
    );
    let (src, dst) = (h.source(), h.destination());
    let transport = p.transport.expect("transport header");
    match &transport {
        TransportSlice::Tcp(t) => {
            assert_eq!(t.calc_checksum_ipv4(src, dst).unwrap(), t.checksum(), "TCP");
        }
        TransportSlice::Udp(u) => {
            let c = u
                .to_header()
                .calc_checksum_ipv4_raw(src, dst, u.payload())
                .unwrap();
            assert_eq!(c, u.checksum(), "UDP");
        }
        TransportSlice::Icmpv4(i) => assert_eq!(internet_checksum(&[i.slice()]), 0, "ICMP"),
        _ => panic!("unexpected transport"),
    }
    Pkt {
        ts: f.ts,
        src: u32::from_be_bytes(src),
        dst: u32::from_be_bytes(dst),
        ttl: h.ttl(),
        df: h.dont_fragment(),
        ip_id: h.identification(),
        ip_len: h.total_len(),
        transport,
    }
}

/// Class of each source address according to the truth.
pub fn classes(truth: &Truth) -> BTreeMap<u32, String> {
    truth
        .sources
        .iter()
        .map(|s| {
            let a: std::net::Ipv4Addr = s.src.parse().unwrap();
            (u32::from(a), s.class.clone())
        })
        .collect()
}
