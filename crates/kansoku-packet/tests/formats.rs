//! The reader on well-formed captures of every supported shape: classic pcap in both byte
//! orders and both timestamp precisions, pcapng with several interfaces, resolutions, packet
//! block types and sections, and the same bytes behind gzip, zstd and a plain stream.

mod common;

use std::io::{Cursor, Read, Write};

use common::*;
use kansoku_packet::decode::LinkType;
use kansoku_packet::source::{CaptureReader, Compression, Container, Link};

const ETH: Link = Link::Known(LinkType::Ethernet);
const RAW: Link = Link::Known(LinkType::Raw);
const SLL: Link = Link::Known(LinkType::LinuxSll);

// ---------------------------------------------------------------------------------------------
// Classic pcap

fn classic(order: Order, nanos: bool) -> (Vec<u8>, Vec<Got>) {
    let mut w = PcapWriter::new(order, nanos, 65_535, 1);
    let mut expected = Vec::new();
    for seq in 0..7u32 {
        let secs = 1_700_000_000 + seq * 3;
        let frac = if nanos {
            999_999_999 - seq
        } else {
            999_999 - seq
        };
        let data = eth_udp(seq);
        w.record(secs, frac, &data);
        let ns = i64::from(secs) * 1_000_000_000 + i64::from(frac) * if nanos { 1 } else { 1000 };
        expected.push(Got {
            ts_ns: ns,
            link: ETH,
            orig_len: data.len() as u32,
            data,
        });
    }
    (w.buf, expected)
}

#[test]
fn classic_pcap_both_orders_both_precisions() {
    for order in [Order::Le, Order::Be] {
        for nanos in [false, true] {
            let (bytes, expected) = classic(order, nanos);
            let got = read_both(&bytes);
            assert!(
                got.faults().is_empty(),
                "{order:?} {nanos}: {:?}",
                got.faults()
            );
            assert_eq!(got.frames, expected, "{order:?} nanos={nanos}");
            assert_eq!(got.summary.container, Some(Container::Pcap));
            assert_eq!(got.summary.compression, Compression::None);
            assert_eq!(got.summary.frames, 7);
            assert_eq!(got.summary.bytes_read, bytes.len() as u64);
            assert_eq!(as_tuples(&got.frames), reference_pcap(&bytes));
        }
    }
}

#[test]
fn classic_pcap_first_timestamp_values() {
    // Spot-check the arithmetic on hand-computed values rather than the generator.
    let mut w = PcapWriter::new(Order::Be, false, 65_535, 1);
    w.record(1, 1, &eth_udp(0));
    w.record(4_294_967_295, 999_999, &eth_udp(1));
    let got = read_both(&w.buf);
    assert_eq!(got.frames[0].ts_ns, 1_000_001_000);
    assert_eq!(got.frames[1].ts_ns, 4_294_967_295_999_999_000);

    let mut w = PcapWriter::new(Order::Le, true, 65_535, 1);
    w.record(2, 5, &eth_udp(0));
    let got = read_both(&w.buf);
    assert_eq!(got.frames[0].ts_ns, 2_000_000_005);
}

#[test]
fn classic_pcap_fcs_bits_in_linktype_field() {
    // FCS length 2 (16-bit words) in bits 28-31 and the P bit (26) set, link type Ethernet;
    // then the same with raw IP and SLL.
    for (field, link) in [
        (0x2400_0001u32, ETH),
        (0x2000_0065, RAW),
        (0xf7ff_0071, SLL),
        (0x0400_0001, ETH),
    ] {
        for order in [Order::Le, Order::Be] {
            let mut w = PcapWriter::new(order, false, 65_535, field);
            let mut frame = eth_udp(3);
            frame.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // the FCS itself
            w.record(10, 20, &frame);
            let got = read_both(&w.buf);
            assert!(got.faults().is_empty(), "{field:#x}: {:?}", got.faults());
            assert_eq!(got.frames.len(), 1);
            assert_eq!(got.frames[0].link, link, "{field:#x}");
            assert_eq!(got.frames[0].data, frame, "FCS bytes stay in the frame");
        }
    }
}

#[test]
fn classic_pcap_orig_len_and_other_link_types() {
    // caplen < orig_len (cut by snaplen): data is caplen bytes, orig_len reported as written.
    let mut w = PcapWriter::new(Order::Le, false, 40, 101);
    let packet = ipv4_udp(9);
    w.record_raw(5, 6, 40, packet.len() as u32, &packet[..40]);
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty(), "{:?}", got.faults());
    assert_eq!(got.frames[0].data, &packet[..40]);
    assert_eq!(got.frames[0].orig_len, packet.len() as u32);
    assert_eq!(got.frames[0].link, RAW);
}

// ---------------------------------------------------------------------------------------------
// pcapng

const T0_US: u64 = 1_700_000_000_123_456; // microseconds
const OFFSET_S: i64 = 1_000_000;
const T0_NS: u64 = 1_700_000_000_000_000_000;

/// A section with three interfaces: Ethernet at the default 10^-6, raw IPv4 at 10^-9 with a
/// 10^6 s if_tsoffset, SLL at 2^-10; packets on each in EPBs, with unknown, custom, NRB and
/// ISB blocks in between (all to be skipped).
fn three_interfaces(order: Order) -> (Vec<u8>, Vec<Got>) {
    let mut w = NgWriter::new(order);
    let mut expected = Vec::new();
    let resol9 = w.tsresol(9);
    let offset = w.tsoffset(OFFSET_S);
    let resol_bin = w.tsresol(0x8a);
    let comment = w.option(OPT_COMMENT, b"three interfaces");
    w.idb(1, 0, &[comment]);
    w.block(0x1234_5678, b"an unknown block type, skipped");
    w.idb(101, 65_535, &[resol9, offset]);
    w.custom(CUSTOM_COPY, 32_473, b"custom copyable");
    w.idb(113, 262_144, &[resol_bin]);
    w.block(NRB, &[0; 4]); // NRB with only nrb_record_end
    for seq in 0..12u32 {
        // A common clock in 0.25 s steps, written in each interface's units.
        let t_ns = T0_NS + u64::from(seq) * 250_000_000;
        match seq % 3 {
            0 => {
                let ts = t_ns / 1000;
                let data = eth_udp(seq);
                if seq == 6 {
                    // an EPB carrying options after the data
                    let opt = w.option(OPT_COMMENT, b"epb with options");
                    w.epb_raw(0, ts, data.len() as u32, data.len() as u32, &data, &[opt]);
                } else {
                    w.epb(0, ts, &data);
                }
                expected.push(Got {
                    ts_ns: t_ns as i64,
                    link: ETH,
                    orig_len: data.len() as u32,
                    data,
                });
            }
            1 => {
                // nanoseconds minus the interface offset
                let ns = t_ns + 7;
                let raw = ns - OFFSET_S as u64 * 1_000_000_000;
                let data = ipv4_udp(seq);
                w.epb(1, raw, &data);
                expected.push(Got {
                    ts_ns: ns as i64,
                    link: RAW,
                    orig_len: data.len() as u32,
                    data,
                });
            }
            _ => {
                // 2^-10 s units: a quarter second is 256 of them
                let raw =
                    (T0_NS / 1_000_000_000 + u64::from(seq / 4)) * 1024 + u64::from(seq % 4) * 256;
                let data = sll_udp(seq);
                w.epb(2, raw, &data);
                expected.push(Got {
                    ts_ns: t_ns as i64,
                    link: SLL,
                    orig_len: data.len() as u32,
                    data,
                });
            }
        }
        if seq == 4 {
            w.custom(CUSTOM_NOCOPY, 32_473, b"custom not copyable");
            w.block(ISB, &[0; 12]); // interface 0, timestamp 0
            w.block(0x8000_0001, &[1, 2, 3]); // a "local use" block type
        }
    }
    (w.buf, expected)
}

#[test]
fn pcapng_interfaces_resolutions_offsets_and_skipped_blocks() {
    for order in [Order::Le, Order::Be] {
        let (bytes, expected) = three_interfaces(order);
        let got = read_both(&bytes);
        assert!(got.faults().is_empty(), "{order:?}: {:?}", got.faults());
        assert_eq!(got.frames.len(), 12);
        assert_eq!(got.frames, expected, "{order:?}");
        assert_eq!(got.summary.container, Some(Container::Pcapng));
        assert_eq!(got.summary.bytes_read, bytes.len() as u64);
        assert_eq!(
            as_tuples(&got.frames),
            reference_pcapng(&bytes),
            "{order:?}"
        );
    }
}

#[test]
fn pcapng_resolution_arithmetic() {
    // Hand-computed timestamps for one packet per resolution.
    let mut w = NgWriter::new(Order::Le);
    let r3 = w.tsresol(3);
    let b20 = w.tsresol(0x80 | 20);
    let neg = w.tsoffset(-10);
    w.idb(1, 0, &[]); // 10^-6
    w.idb(1, 0, &[r3]); // 10^-3
    w.idb(1, 0, &[b20, neg]); // 2^-20, -10 s
    w.epb(0, 1_500_000, &eth_udp(0)); // 1.5 s
    w.epb(1, 2_500, &eth_udp(1)); // 2.5 s
    w.epb(2, 13 << 20 | 1 << 19, &eth_udp(2)); // 13.5 s - 10 s
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty(), "{:?}", got.faults());
    let ts: Vec<i64> = got.frames.iter().map(|f| f.ts_ns).collect();
    assert_eq!(ts, [1_500_000_000, 2_500_000_000, 3_500_000_000]);
}

#[test]
fn pcapng_simple_packet_blocks_cut_by_snaplen() {
    for order in [Order::Le, Order::Be] {
        let mut w = NgWriter::new(order);
        w.idb(1, 50, &[]);
        let long = eth_udp(22); // 68 bytes
        let short = eth_udp(0); // 46 bytes
        assert!(long.len() > 50 && short.len() < 50);
        // An SPB before any timestamped packet: time 0.
        w.spb(long.len() as u32, &long[..50]);
        let data = &long[..50];
        w.epb_raw(0, 2_000_000, 50, long.len() as u32, data, &[]);
        w.spb(short.len() as u32, &short);
        // A writer that ignored the snaplen: the reader still cuts at the snaplen.
        w.spb(long.len() as u32, &long);
        let got = read_both(&w.buf);
        assert!(got.faults().is_empty(), "{order:?}: {:?}", got.faults());
        let expect = [
            (0, &long[..50], long.len()),
            (2_000_000_000, &long[..50], long.len()),
            (2_000_000_000, &short[..], short.len()),
            (2_000_000_000, &long[..50], long.len()),
        ];
        assert_eq!(got.frames.len(), expect.len());
        for (f, (ts, data, orig)) in got.frames.iter().zip(expect) {
            assert_eq!(f.ts_ns, ts);
            assert_eq!(f.data, data);
            assert_eq!(f.orig_len as usize, orig);
            assert_eq!(f.link, ETH);
        }
        assert_eq!(as_tuples(&got.frames), reference_pcapng(&w.buf));
    }
}

#[test]
fn pcapng_simple_packet_block_without_snaplen_uses_orig_len() {
    // snaplen 0 means unlimited: the frame is min(orig_len, bytes in the block), so block
    // padding is not returned as data.
    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 0, &[]);
    let f = eth_udp(1); // 47 bytes: padded to 48 in the block
    assert_eq!(f.len() % 4, 3);
    w.spb(f.len() as u32, &f);
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty(), "{:?}", got.faults());
    assert_eq!(got.frames[0].data, f);
}

#[test]
fn pcapng_obsolete_packet_block() {
    for order in [Order::Le, Order::Be] {
        let mut w = NgWriter::new(order);
        let r9 = w.tsresol(9);
        w.idb(1, 0, &[]);
        w.idb(113, 0, &[r9]);
        w.opb(0, T0_US, &eth_udp(5));
        w.opb(1, 1_700_000_000_200_000_001, &sll_udp(6));
        w.epb(0, T0_US + 100_000, &eth_udp(7));
        let got = read_both(&w.buf);
        assert!(got.faults().is_empty(), "{order:?}: {:?}", got.faults());
        let expected = vec![
            Got {
                ts_ns: T0_US as i64 * 1000,
                link: ETH,
                data: eth_udp(5),
                orig_len: eth_udp(5).len() as u32,
            },
            Got {
                ts_ns: 1_700_000_000_200_000_001,
                link: SLL,
                data: sll_udp(6),
                orig_len: sll_udp(6).len() as u32,
            },
            Got {
                ts_ns: (T0_US as i64 + 100_000) * 1000,
                link: ETH,
                data: eth_udp(7),
                orig_len: eth_udp(7).len() as u32,
            },
        ];
        assert_eq!(got.frames, expected, "{order:?}");
    }
}

#[test]
fn pcapng_second_section_resets_interfaces_and_byte_order() {
    for (first, second) in [
        (Order::Le, Order::Be),
        (Order::Be, Order::Le),
        (Order::Le, Order::Le),
    ] {
        let mut w = NgWriter::new(first);
        w.idb(1, 0, &[]);
        w.idb(101, 0, &[]);
        w.epb(0, T0_US, &eth_udp(1));
        w.epb(1, T0_US + 1, &ipv4_udp(2));
        w.shb(second);
        let r9 = w.tsresol(9);
        // Interface 0 of the new section is SLL at nanoseconds.
        w.idb(113, 0, &[r9]);
        w.epb(0, (T0_US + 2) * 1000, &sll_udp(3));
        w.spb(sll_udp(4).len() as u32, &sll_udp(4));
        let clean_len = w.len();
        let got = read_both(&w.buf);
        assert!(got.faults().is_empty(), "{:?}", got.faults());
        let links: Vec<Link> = got.frames.iter().map(|f| f.link).collect();
        assert_eq!(links, [ETH, RAW, SLL, SLL]);
        let ts: Vec<i64> = got.frames.iter().map(|f| f.ts_ns).collect();
        let t = T0_US as i64 * 1000;
        assert_eq!(ts, [t, t + 1000, t + 2000, t + 2000]);
        assert_eq!(got.frames[3].data, sll_udp(4));
        assert_eq!(as_tuples(&got.frames), reference_pcapng(&w.buf));

        // Interface 1 existed only in the first section: a packet on it is skipped with a
        // recoverable fault at its block, and the walk goes on.
        let bad_at = w.epb(1, T0_US + 3, &ipv4_udp(5));
        w.epb(0, (T0_US + 4) * 1000, &sll_udp(6));
        let got = read_both(&w.buf);
        assert_eq!(got.frames.len(), 5);
        assert_eq!(got.frames[4].data, sll_udp(6));
        assert_eq!(got.codes(), ["unknown_interface"]);
        let fault = got.fault("unknown_interface");
        assert_eq!(fault.offset, bad_at as u64);
        assert!(bad_at >= clean_len);
        assert!(fault.to_string().contains(&format!("byte offset {bad_at}")));
        assert_eq!(got.summary.bytes_read, w.len() as u64);
    }
}

#[test]
fn pcapng_section_with_no_packets_and_empty_sections() {
    let mut w = NgWriter::new(Order::Le);
    w.shb(Order::Be);
    w.shb(Order::Le);
    w.idb(1, 0, &[]);
    w.shb(Order::Be);
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty());
    assert!(got.frames.is_empty());
    assert_eq!(got.summary.container, Some(Container::Pcapng));
    assert_eq!(got.summary.bytes_read, w.len() as u64);
}

// ---------------------------------------------------------------------------------------------
// Compression and streams

fn mixed_samples() -> Vec<Vec<u8>> {
    let (a, _) = classic(Order::Be, true);
    let (b, _) = three_interfaces(Order::Le);
    let (c, _) = three_interfaces(Order::Be);
    vec![a, b, c]
}

fn write_temp(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn gzip_and_zstd_give_identical_frames_and_hash() {
    for plain in mixed_samples() {
        let base = read_mapped(&plain);
        assert!(base.faults().is_empty());
        let want_hash = blake3::hash(&plain);
        assert_eq!(base.summary.content_hash, want_hash);
        for (packed, compression) in [
            (gzip(&plain), Compression::Gzip),
            (zstd(&plain), Compression::Zstd),
        ] {
            // By file, with the matching extension and with a misleading one: the magic
            // decides, not the name.
            for suffix in [".gz", ".zst", ".pcap"] {
                let file = write_temp(&packed, suffix);
                let got = read_path(file.path());
                assert_eq!(got.summary.compression, compression);
                assert_eq!(got.frames, base.frames);
                assert_eq!(got.summary.content_hash, want_hash);
                assert_eq!(got.summary.bytes_read, plain.len() as u64);
                assert_eq!(got.summary.container, base.summary.container);
                assert!(got.faults().is_empty());
            }
            // As a stream (stdin).
            let got = read_stream(&packed);
            assert_eq!(got.summary.compression, compression);
            assert_eq!(got.frames, base.frames);
            assert_eq!(got.summary.content_hash, want_hash);
            assert_eq!(got.summary.bytes_read, plain.len() as u64);
        }
        // The uncompressed stream.
        let got = read_stream(&plain);
        assert_eq!(got.summary.compression, Compression::None);
        assert_eq!(got.frames, base.frames);
        assert_eq!(got.summary.content_hash, want_hash);
    }
}

#[test]
fn concatenated_gzip_members_and_zstd_frames_are_one_input() {
    let (plain, expected) = three_interfaces(Order::Le);
    let cut = plain.len() / 3;
    let mut gz = gzip(&plain[..cut]);
    gz.extend_from_slice(&gzip(&plain[cut..]));
    let mut zs = zstd(&plain[..cut]);
    zs.extend_from_slice(&zstd(&plain[cut..]));
    for packed in [gz, zs] {
        let got = read_stream(&packed);
        assert!(got.faults().is_empty(), "{:?}", got.faults());
        assert_eq!(got.frames, expected);
        assert_eq!(got.summary.content_hash, blake3::hash(&plain));
        let file = write_temp(&packed, ".x");
        assert_eq!(read_path(file.path()).frames, expected);
    }
}

/// A reader that hands out at most `chunk` bytes per call, as a pipe may.
struct Trickle {
    inner: Cursor<Vec<u8>>,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.inner.read(&mut buf[..n])
    }
}

#[test]
fn trickling_stream_is_read_like_a_whole_one() {
    for plain in mixed_samples() {
        let base = read_mapped(&plain);
        for (bytes, compression) in [
            (plain.clone(), Compression::None),
            (gzip(&plain), Compression::Gzip),
            (zstd(&plain), Compression::Zstd),
        ] {
            for chunk in [1, 3, 7, 4096] {
                let reader = Trickle {
                    inner: Cursor::new(bytes.clone()),
                    chunk,
                };
                let got = drain(CaptureReader::from_reader(Box::new(reader)).unwrap());
                assert_eq!(got.summary.compression, compression, "chunk {chunk}");
                assert!(got.faults().is_empty(), "chunk {chunk}: {:?}", got.faults());
                assert_eq!(got.frames, base.frames, "chunk {chunk}");
                assert_eq!(got.summary.content_hash, blake3::hash(&plain));
            }
        }
    }
}

#[test]
fn large_capture_through_the_streamed_path_matches_the_mapped_one() {
    // ~22 MB of records: two refills of the 8 MiB stream buffer, records straddling each
    // refill boundary.
    const N: u32 = 300_000;
    let mut w = PcapWriter::new(Order::Le, true, 65_535, 1);
    for seq in 0..N {
        w.record(1_700_000_000 + seq / 1000, seq, &eth_udp(seq));
    }
    let plain = w.buf;
    assert!(plain.len() > 2 * (8 << 20));
    let mapped = read_mapped(&plain);
    assert!(mapped.faults().is_empty());
    assert_eq!(mapped.frames.len(), N as usize);
    let file = write_temp(&gzip(&plain), ".pcap.gz");
    let streamed = read_path(file.path());
    assert!(streamed.faults().is_empty(), "{:?}", streamed.faults());
    assert_eq!(streamed.summary.compression, Compression::Gzip);
    assert_eq!(streamed.summary.frames, u64::from(N));
    assert_eq!(streamed.summary.bytes_read, plain.len() as u64);
    assert_eq!(streamed.summary.content_hash, mapped.summary.content_hash);
    assert!(streamed.frames == mapped.frames);
    // Spot checks against the generator.
    for seq in [0, 1, 174_762, N - 1] {
        let f = &streamed.frames[seq as usize];
        assert_eq!(f.data, eth_udp(seq));
        assert_eq!(
            f.ts_ns,
            i64::from(1_700_000_000 + seq / 1000) * 1_000_000_000 + i64::from(seq)
        );
    }
}

#[test]
fn large_pcapng_through_zstd_matches_the_mapped_one() {
    const N: u32 = 120_000;
    let mut w = NgWriter::new(Order::Be);
    let r9 = w.tsresol(9);
    w.idb(1, 0, &[]);
    w.idb(101, 0, &[r9]);
    for seq in 0..N {
        if seq % 2 == 0 {
            w.epb(0, T0_US + u64::from(seq), &eth_udp(seq));
        } else {
            w.epb(1, (T0_US + u64::from(seq)) * 1000, &ipv4_udp(seq));
        }
        if seq % 10_007 == 0 {
            w.block(0x0BAD_F00D, &vec![0xab; 1000]);
        }
    }
    let plain = w.buf;
    let mapped = read_mapped(&plain);
    assert!(mapped.faults().is_empty());
    assert_eq!(mapped.frames.len(), N as usize);
    let streamed = read_stream(&zstd(&plain));
    assert!(streamed.faults().is_empty());
    assert!(streamed.frames == mapped.frames);
    assert_eq!(streamed.summary.content_hash, mapped.summary.content_hash);
}

#[test]
fn record_larger_than_the_stream_buffer() {
    // A 10 MiB record (beyond the 8 MiB stream buffer, within the 16 MiB record limit).
    let big: Vec<u8> = (0..10u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut w = PcapWriter::new(Order::Le, false, 0, 1);
    w.record(1, 0, &eth_udp(0));
    w.record(2, 0, &big);
    w.record(3, 0, &eth_udp(1));
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty(), "{:?}", got.faults());
    assert_eq!(got.frames.len(), 3);
    assert!(got.frames[1].data == big);
    let gz = read_stream(&gzip(&w.buf));
    assert!(gz.frames == got.frames);

    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 0, &[]);
    w.epb(0, 1, &big);
    w.epb(0, 2, &eth_udp(2));
    let got = read_both(&w.buf);
    assert!(got.faults().is_empty(), "{:?}", got.faults());
    assert!(got.frames[0].data == big);
    assert_eq!(got.frames[1].data, eth_udp(2));
}
