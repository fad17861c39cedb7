//! The reader on broken captures: every fault is located by byte offset, every frame before a
//! fatal fault is returned, recoverable faults keep (or skip) one record and go on. Ends with a
//! randomized robustness run over mutated pcap and pcapng images.

mod common;

use common::*;
use kansoku_packet::decode::LinkType;
use std::io::Write;

use kansoku_packet::source::{
    CaptureReader, Compression, Container, Fault, FaultKind, Link, prefix_hashes,
};

const ETH: Link = Link::Known(LinkType::Ethernet);

/// Assert the fault is `code` at `offset`, and that its message names the offset.
fn assert_at(fault: &Fault, code: &str, offset: usize) {
    assert_eq!(fault.kind.code(), code, "{fault:?}");
    assert_eq!(fault.offset, offset as u64, "{fault:?}");
    let msg = fault.to_string();
    assert!(
        msg.starts_with(&format!("byte offset {offset}: ")),
        "message does not name the offset: {msg}"
    );
}

/// The one fatal fault, which must be the last one recorded.
fn the_fatal(out: &Outcome) -> &Fault {
    let fatal: Vec<&Fault> = out.faults().iter().filter(|f| f.kind.is_fatal()).collect();
    assert_eq!(fatal.len(), 1, "{:?}", out.faults());
    assert!(out.faults().last().unwrap().kind.is_fatal());
    fatal[0]
}

/// A classic pcap with `n` Ethernet records one second apart; returns the bytes and the
/// offset of each record.
fn pcap_n(n: u32) -> (Vec<u8>, Vec<usize>) {
    let mut w = PcapWriter::new(Order::Le, false, 65_535, 1);
    let offsets = (0..n).map(|i| w.record(100 + i, 0, &eth_udp(i))).collect();
    (w.buf, offsets)
}

/// A pcapng with one Ethernet interface and `n` EPBs; returns the bytes and the offset of
/// each EPB.
fn pcapng_n(order: Order, n: u32) -> (Vec<u8>, Vec<usize>) {
    let mut w = NgWriter::new(order);
    w.idb(1, 0, &[]);
    let offsets = (0..n)
        .map(|i| w.epb(0, u64::from(100 + i) * 1_000_000, &eth_udp(i)))
        .collect();
    (w.buf, offsets)
}

fn check_prefix_frames(out: &Outcome, n: usize) {
    assert_eq!(out.frames.len(), n);
    for (i, f) in out.frames.iter().enumerate() {
        assert_eq!(f.data, eth_udp(i as u32));
        assert_eq!(f.ts_ns, (100 + i as i64) * 1_000_000_000);
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation

#[test]
fn pcap_truncated_mid_record() {
    let (bytes, at) = pcap_n(5);
    // Cut inside the data of record 3.
    let cut = at[3] + 16 + 10;
    let out = read_both(&bytes[..cut]);
    check_prefix_frames(&out, 3);
    let fatal = the_fatal(&out);
    assert_at(fatal, "truncated", at[3]);
    let caplen = eth_udp(3).len() as u64;
    assert_eq!(
        fatal.kind,
        FaultKind::Truncated {
            needed: 16 + caplen,
            available: 26
        }
    );
    assert_eq!(out.summary.bytes_read, at[3] as u64);
    assert_eq!(out.summary.content_hash, blake3::hash(&bytes[..cut]));
}

/// A capture copied while still being written, then copied again complete: the complete copy
/// starts with what the truncated one counted (same prefix hash), and resuming it after that
/// prefix gives exactly the records the truncated copy missed; for pcapng too, whose
/// interface block lies before the cut.
#[test]
fn a_complete_copy_resumes_after_what_a_truncated_one_counted() {
    for (bytes, at) in [pcap_n(6), pcapng_n(Order::Be, 6)] {
        let cut = at[3] + 20;
        let truncated = read_both(&bytes[..cut]);
        let counted = truncated.summary.bytes_read;
        assert_eq!(counted, at[3] as u64);

        let dir = tempfile::tempdir().unwrap();
        let (whole, gz) = (dir.path().join("whole"), dir.path().join("whole.gz"));
        std::fs::write(&whole, &bytes).unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for path in [&whole, &gz] {
            let long = bytes.len() as u64 + 1;
            let hashes = prefix_hashes(path, &[counted, long, 0]).unwrap();
            assert_eq!(hashes[0], Some(blake3::hash(&bytes[..at[3]])));
            assert_eq!(hashes[1], None, "content shorter than asked");
            assert_eq!(hashes[2], Some(blake3::hash(b"")));

            let mut reader = CaptureReader::open(path).unwrap();
            reader.resume_at(counted);
            let rest = drain(reader);
            assert!(rest.faults().is_empty(), "{:?}", rest.faults());
            let datas: Vec<Vec<u8>> = rest.frames.iter().map(|f| f.data.clone()).collect();
            assert_eq!(datas, (3..6).map(eth_udp).collect::<Vec<_>>());
            assert_eq!(rest.summary.content_hash, blake3::hash(&bytes));
        }
    }
}

/// A simple packet block has no time of its own and takes the previous packet's, also when
/// that packet was skipped because an earlier ingest counted it. (Found by fuzzing
/// `mapped_reader`: the resumed read gave the block time 0.)
#[test]
fn a_resumed_simple_packet_block_keeps_the_time_of_the_skipped_packet_before_it() {
    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 0, &[]);
    w.epb(0, 7_000_000, &eth_udp(0));
    let frame = eth_udp(1);
    let spb = w.spb(frame.len() as u32, &frame);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pcapng");
    std::fs::write(&path, &w.buf).unwrap();
    let mut reader = CaptureReader::open(&path).unwrap();
    reader.resume_at(spb as u64);
    let out = drain(reader);
    assert_eq!(out.frames.len(), 1);
    assert_eq!(out.frames[0].data, frame);
    assert_eq!(out.frames[0].ts_ns, 7_000_000_000);
}

#[test]
fn pcap_truncated_mid_record_header() {
    let (bytes, at) = pcap_n(5);
    for inside in 1..16 {
        let out = read_both(&bytes[..at[4] + inside]);
        check_prefix_frames(&out, 4);
        let fatal = the_fatal(&out);
        assert_at(fatal, "truncated", at[4]);
        assert_eq!(
            fatal.kind,
            FaultKind::Truncated {
                needed: 16,
                available: inside as u64
            }
        );
    }
    // Cut exactly at a record boundary: a clean, shorter capture.
    let out = read_both(&bytes[..at[4]]);
    check_prefix_frames(&out, 4);
    assert!(out.faults().is_empty());
}

#[test]
fn pcap_truncated_inside_global_header() {
    let (bytes, _) = pcap_n(1);
    for cut in 4..24 {
        let out = read_both(&bytes[..cut]);
        assert!(out.frames.is_empty());
        let fatal = the_fatal(&out);
        assert_at(fatal, "truncated", 0);
        assert_eq!(
            fatal.kind,
            FaultKind::Truncated {
                needed: 24,
                available: cut as u64
            }
        );
    }
    // Fewer bytes than a magic: cannot tell it is a pcap at all.
    for cut in 1..4 {
        let out = read_both(&bytes[..cut]);
        assert_at(the_fatal(&out), "bad_magic", 0);
    }
    // The header alone is a valid, empty capture.
    let out = read_both(&bytes[..24]);
    assert!(out.faults().is_empty());
    assert_eq!(out.summary.container, Some(Container::Pcap));
}

#[test]
fn pcapng_truncated_mid_block_and_mid_block_header() {
    for order in [Order::Le, Order::Be] {
        let (bytes, at) = pcapng_n(order, 4);
        for cut in [at[2] + 3, at[2] + 8, at[2] + 20, at[3] - 4] {
            let out = read_both(&bytes[..cut]);
            check_prefix_frames(&out, 2);
            let fatal = the_fatal(&out);
            assert_at(fatal, "truncated", at[2]);
            let FaultKind::Truncated { available, .. } = fatal.kind else {
                unreachable!()
            };
            assert_eq!(available, (cut - at[2]) as u64);
        }
        // Truncated inside the SHB, inside the IDB.
        for cut in [4, 11, 20] {
            let out = read_both(&bytes[..cut]);
            assert!(out.frames.is_empty());
            assert_at(the_fatal(&out), "truncated", 0);
        }
        let idb_at = at[0] - 20;
        let out = read_both(&bytes[..idb_at + 10]);
        assert_at(the_fatal(&out), "truncated", idb_at);
    }
}

#[test]
fn every_prefix_of_a_capture() {
    // Cutting a valid capture anywhere yields the frames of the complete records before the
    // cut, and a truncation at the first incomplete one (none on a record boundary).
    let (pcap, pcap_at) = pcap_n(6);
    let (ng, ng_at) = pcapng_n(Order::Be, 6);
    for (bytes, at, first) in [(pcap, pcap_at, 24), (ng, ng_at, 0)] {
        let mut ends: Vec<usize> = at[1..].to_vec();
        ends.push(bytes.len());
        for cut in first.max(4)..=bytes.len() {
            let out = read_stream(&bytes[..cut]);
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            check_prefix_frames(&out, complete);
            // pcapng: the end of the SHB is a block boundary too (the IDB ends at at[0]).
            let shb_end = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            let boundary =
                cut == bytes.len() || at.contains(&cut) || (first == 0 && cut == shb_end);
            if boundary {
                assert!(out.faults().is_empty(), "cut {cut}: {:?}", out.faults());
                assert_eq!(out.summary.bytes_read, cut as u64);
            } else {
                let fatal = the_fatal(&out);
                assert_eq!(fatal.kind.code(), "truncated", "cut {cut}");
                assert_eq!(fatal.offset, out.summary.bytes_read);
                assert!(fatal.offset as usize <= cut);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers

#[test]
fn wrong_magic() {
    let mut gif = b"GIF89a".to_vec();
    gif.resize(200, 0x55);
    let out = read_both(&gif);
    assert!(out.frames.is_empty());
    let fatal = the_fatal(&out);
    assert_at(fatal, "bad_magic", 0);
    assert_eq!(fatal.kind, FaultKind::BadMagic { found: *b"GIF8" });
    assert!(fatal.to_string().contains("47 49 46 38"), "{fatal}");
    assert_eq!(out.summary.container, None);
    assert_eq!(out.summary.bytes_read, 0);

    // The "modified" (Kuznetzov) pcap magic and a pcap magic with swapped halves.
    for magic in [0xa1b2_cd34u32, 0xc3d4_a1b2] {
        let (mut bytes, _) = pcap_n(2);
        bytes[..4].copy_from_slice(&magic.to_le_bytes());
        assert_at(the_fatal(&read_both(&bytes)), "bad_magic", 0);
    }

    // Zero bytes, and gzip around garbage.
    assert_at(the_fatal(&read_both(&[0; 64])), "bad_magic", 0);
    let out = read_stream(&gzip(&gif));
    assert_eq!(out.summary.compression, Compression::Gzip);
    assert_at(the_fatal(&out), "bad_magic", 0);
    assert_eq!(out.summary.content_hash, blake3::hash(&gif));
}

#[test]
fn pcapng_bad_byte_order_magic() {
    let (mut bytes, at) = pcapng_n(Order::Le, 2);
    bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let out = read_both(&bytes);
    assert!(out.frames.is_empty());
    assert_at(the_fatal(&out), "bad_block", 0);
    assert_eq!(out.summary.container, Some(Container::Pcapng));
    // ... and in a second section, after frames.
    let (mut bytes, _) = pcapng_n(Order::Le, 2);
    let mut w = NgWriter::new(Order::Be);
    w.buf[8..12].copy_from_slice(&[9, 9, 9, 9]);
    let second = bytes.len();
    bytes.extend_from_slice(&w.buf);
    let out = read_both(&bytes);
    check_prefix_frames(&out, 2);
    assert_at(the_fatal(&out), "bad_block", second);
    let _ = at;
}

#[test]
fn empty_input() {
    let out = read_both(&[]);
    assert!(out.frames.is_empty());
    let fatal = the_fatal(&out);
    assert_at(fatal, "empty", 0);
    assert_eq!(fatal.kind, FaultKind::Empty);
    assert_eq!(out.summary.container, None);
    assert_eq!(out.summary.bytes_read, 0);
    assert_eq!(out.summary.content_hash, blake3::hash(b""));
    // Compressed emptiness is empty too.
    for packed in [gzip(&[]), zstd(&[])] {
        let out = read_stream(&packed);
        assert_at(the_fatal(&out), "empty", 0);
        assert_ne!(out.summary.compression, Compression::None);
    }
}

// ---------------------------------------------------------------------------------------------
// Recoverable record faults

#[test]
fn caplen_beyond_snaplen_is_kept() {
    for order in [Order::Le, Order::Be] {
        let mut w = PcapWriter::new(order, false, 50, 1);
        let mut first_over = None;
        let mut over = 0;
        for seq in 0..20u32 {
            let f = eth_udp(seq);
            let at = w.record(100 + seq, 0, &f);
            if f.len() > 50 {
                over += 1;
                first_over.get_or_insert(at);
            }
        }
        let out = read_both(&w.buf);
        assert_eq!(out.frames.len(), 20);
        for (seq, f) in out.frames.iter().enumerate() {
            assert_eq!(f.data, eth_udp(seq as u32));
        }
        assert_eq!(out.faults().len(), 1);
        let fault = out.fault("caplen_exceeds_snaplen");
        assert_at(fault, "caplen_exceeds_snaplen", first_over.unwrap());
        assert_eq!(fault.count, over);
        assert!(!fault.kind.is_fatal());
        assert!(fault.to_string().contains(&format!("({over} times")));
        assert_eq!(out.summary.bytes_read, w.len() as u64);
    }

    // The same in pcapng: an EPB longer than its interface's snaplen.
    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 50, &[]);
    w.epb(0, 1, &eth_udp(0));
    let at = w.epb(0, 2, &eth_udp(22));
    w.epb(0, 3, &eth_udp(1));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 3);
    assert_eq!(out.frames[1].data, eth_udp(22));
    assert_eq!(out.codes(), ["caplen_exceeds_snaplen"]);
    assert_at(&out.faults()[0], "caplen_exceeds_snaplen", at);
}

#[test]
fn zero_length_records_are_kept_and_counted() {
    let mut w = PcapWriter::new(Order::Be, true, 65_535, 1);
    w.record(1, 0, &eth_udp(0));
    let first_zero = w.record_raw(2, 0, 0, 60, &[]);
    w.record(3, 0, &eth_udp(1));
    w.record_raw(4, 0, 0, 0, &[]);
    w.record_raw(5, 0, 0, 0, &[]);
    w.record(6, 0, &eth_udp(2));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 6);
    let lens: Vec<usize> = out.frames.iter().map(|f| f.data.len()).collect();
    assert_eq!(lens[1], 0);
    assert_eq!(lens[3..5], [0, 0]);
    assert_eq!(out.frames[1].orig_len, 60);
    assert_eq!(out.frames[5].data, eth_udp(2));
    let fault = out.fault("zero_length_record");
    assert_at(fault, "zero_length_record", first_zero);
    assert_eq!(fault.count, 3);
    assert_eq!(out.faults().len(), 1);

    // pcapng: an EPB with caplen 0, an SPB with orig_len 0.
    let mut w = NgWriter::new(Order::Be);
    w.idb(1, 0, &[]);
    let at = w.epb_raw(0, 5, 0, 0, &[], &[]);
    w.spb(0, &[]);
    w.epb(0, 6, &eth_udp(0));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 3);
    assert_at(out.fault("zero_length_record"), "zero_length_record", at);
    assert_eq!(out.fault("zero_length_record").count, 2);
}

#[test]
fn timestamps_going_backwards_are_kept_and_merged() {
    let mut w = PcapWriter::new(Order::Le, false, 65_535, 1);
    w.record(10, 0, &eth_udp(0));
    w.record(20, 0, &eth_udp(1));
    let back = w.record(15, 0, &eth_udp(2));
    w.record(30, 0, &eth_udp(3));
    w.record(30, 0, &eth_udp(4)); // equal is not backwards
    w.record(5, 999_999, &eth_udp(5));
    w.record(5, 999_998, &eth_udp(6));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 7);
    let secs: Vec<i64> = out.frames.iter().map(|f| f.ts_ns / 1_000_000_000).collect();
    assert_eq!(secs, [10, 20, 15, 30, 30, 5, 5]);
    assert_eq!(out.faults().len(), 1);
    let fault = out.fault("time_went_backwards");
    assert_at(fault, "time_went_backwards", back);
    assert_eq!(fault.count, 3);
    assert!(fault.to_string().contains("(3 times, first shown)"));
}

#[test]
fn jitter_within_a_second_is_not_a_fault() {
    let mut w = PcapWriter::new(Order::Le, false, 65_535, 1);
    w.record(10, 500_000, &eth_udp(0));
    w.record(10, 100_000, &eth_udp(1)); // 0.4 s back: reordering, not a fault
    w.record(10, 900_000, &eth_udp(2));
    w.record(9, 950_000, &eth_udp(3)); // 0.95 s behind the latest: still fine
    w.record(9, 800_000, &eth_udp(4)); // 1.1 s behind the latest: a fault
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 5);
    assert_eq!(out.fault("time_went_backwards").count, 1);
}

#[test]
fn pcap_unknown_link_type() {
    let mut w = PcapWriter::new(Order::Be, false, 65_535, 9999);
    for seq in 0..3 {
        w.record(1 + seq, 0, &eth_udp(seq));
    }
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 3);
    for (seq, f) in out.frames.iter().enumerate() {
        assert_eq!(f.link, Link::Unknown(9999));
        assert_eq!(f.data, eth_udp(seq as u32));
    }
    assert_eq!(out.faults().len(), 1);
    let fault = out.fault("unknown_link_type");
    // The link type field of the global header.
    assert_at(fault, "unknown_link_type", 20);
    assert_eq!(fault.kind, FaultKind::UnknownLinkType { code: 9999 });
    assert_eq!(fault.count, 1);
    assert!(!fault.kind.is_fatal());
    assert_eq!(out.summary.bytes_read, w.len() as u64);
}

#[test]
fn pcapng_one_unknown_interface_among_known_ones() {
    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 0, &[]);
    let unknown_at = w.idb(147, 0, &[]); // LINKTYPE_USER0
    w.idb(101, 0, &[]);
    w.epb(0, 1, &eth_udp(0));
    w.epb(1, 2, b"user-defined");
    w.epb(2, 3, &ipv4_udp(1));
    w.epb(1, 4, b"more");
    let out = read_both(&w.buf);
    let links: Vec<Link> = out.frames.iter().map(|f| f.link).collect();
    assert_eq!(
        links,
        [
            ETH,
            Link::Unknown(147),
            Link::Known(LinkType::Raw),
            Link::Unknown(147)
        ]
    );
    assert_eq!(out.frames[1].data, b"user-defined");
    assert_eq!(out.faults().len(), 1);
    let fault = out.fault("unknown_link_type");
    assert_at(fault, "unknown_link_type", unknown_at);
    assert_eq!(fault.kind, FaultKind::UnknownLinkType { code: 147 });
}

// ---------------------------------------------------------------------------------------------
// Garbage inside pcapng

#[test]
fn pcapng_trailing_length_mismatch_is_fatal_at_the_block() {
    for order in [Order::Le, Order::Be] {
        let (mut bytes, at) = pcapng_n(order, 5);
        // Break the trailer of the fourth EPB.
        let end = at[4] - 4;
        bytes[end..at[4]].copy_from_slice(&order.u32(12));
        let out = read_both(&bytes);
        check_prefix_frames(&out, 3);
        let fatal = the_fatal(&out);
        assert_at(fatal, "bad_block", at[3]);
        assert!(
            fatal.to_string().contains("trailing block length"),
            "{fatal}"
        );
        assert_eq!(out.summary.bytes_read, at[3] as u64);
    }
}

#[test]
fn pcapng_bad_block_lengths() {
    let (bytes, at) = pcapng_n(Order::Le, 3);
    for bad_len in [0u32, 4, 8, 13, 30] {
        let mut b = bytes.clone();
        b[at[1] + 4..at[1] + 8].copy_from_slice(&bad_len.to_le_bytes());
        let out = read_both(&b);
        check_prefix_frames(&out, 1);
        assert_at(the_fatal(&out), "bad_block", at[1]);
    }
    // A length beyond any plausible block.
    let mut b = bytes.clone();
    b[at[2] + 4..at[2] + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let out = read_both(&b);
    check_prefix_frames(&out, 2);
    let fatal = the_fatal(&out);
    assert_at(fatal, "implausible_length", at[2]);
    assert_eq!(
        fatal.kind,
        FaultKind::ImplausibleLength {
            length: 0xFFFF_FFF0
        }
    );
    // A length longer than the rest of the file: truncated.
    let mut b = bytes.clone();
    b[at[2] + 4..at[2] + 8].copy_from_slice(&4096u32.to_le_bytes());
    let out = read_both(&b);
    check_prefix_frames(&out, 2);
    assert_at(the_fatal(&out), "truncated", at[2]);
}

#[test]
fn pcapng_packet_block_caplen_past_its_block_is_skipped() {
    for order in [Order::Le, Order::Be] {
        let mut w = NgWriter::new(order);
        w.idb(1, 0, &[]);
        w.epb(0, 100_000_000, &eth_udp(0));
        let f = eth_udp(1);
        let bad = w.epb_raw(0, 101_000_000, 1000, 1000, &f, &[]);
        // An EPB too short for its fixed fields (block length 28 < 32).
        let short = w.block(EPB, &[0; 16]);
        // An obsolete packet block with an overlong caplen.
        let data = eth_udp(3);
        let mut body = Vec::new();
        body.extend_from_slice(&order.u16(0));
        body.extend_from_slice(&order.u16(0));
        body.extend_from_slice(&order.u32(0));
        body.extend_from_slice(&order.u32(0));
        body.extend_from_slice(&order.u32(70_000));
        body.extend_from_slice(&order.u32(70_000));
        body.extend_from_slice(&data);
        w.block(OPB, &body);
        w.epb(0, 102_000_000, &eth_udp(2));
        let out = read_both(&w.buf);
        let datas: Vec<Vec<u8>> = out.frames.iter().map(|f| f.data.clone()).collect();
        assert_eq!(datas, [eth_udp(0), eth_udp(2)]);
        assert_eq!(out.faults().len(), 1, "{:?}", out.faults());
        let fault = out.fault("bad_packet_block");
        assert_at(fault, "bad_packet_block", bad);
        assert_eq!(fault.count, 3);
        assert!(!fault.kind.is_fatal());
        assert!(short > bad);
        assert_eq!(out.summary.bytes_read, w.len() as u64);
    }
}

#[test]
fn pcapng_bad_interface_options_are_fatal_at_the_idb() {
    let mut w = NgWriter::new(Order::Le);
    w.idb(1, 0, &[]);
    w.epb(0, 1, &eth_udp(0));
    // An option claiming 200 bytes in a block that holds 4.
    let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&[2, 0, 200, 0, b'e', b't', b'h', b'0']);
    let at = w.block(IDB, &body);
    w.epb(0, 2, &eth_udp(1));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 1);
    assert_at(the_fatal(&out), "bad_block", at);
}

#[test]
fn packets_before_any_interface() {
    let mut w = NgWriter::new(Order::Be);
    let epb = w.epb(0, 1, &eth_udp(0));
    w.spb(10, &[0; 10]);
    w.opb(0, 1, &eth_udp(1));
    w.idb(1, 0, &[]);
    w.epb(0, 2, &eth_udp(2));
    let out = read_both(&w.buf);
    assert_eq!(out.frames.len(), 1);
    assert_eq!(out.frames[0].data, eth_udp(2));
    let fault = out.fault("unknown_interface");
    assert_at(fault, "unknown_interface", epb);
    assert_eq!(fault.count, 3);
}

#[test]
fn random_bytes_after_valid_blocks() {
    let mut rng = Rng::new(0x5eed);
    for order in [Order::Le, Order::Be] {
        let (bytes, _) = pcapng_n(order, 4);
        let valid = bytes.len();
        for len in 1..200 {
            let mut b = bytes.clone();
            b.extend((0..len).map(|_| rng.next() as u8));
            let out = read_both(&b);
            check_prefix_frames(&out, 4);
            let fatal = the_fatal(&out);
            assert_eq!(fatal.offset, valid as u64, "{fatal:?}");
            assert!(
                ["truncated", "bad_block", "implausible_length"].contains(&fatal.kind.code()),
                "{fatal:?}"
            );
            assert_eq!(out.summary.bytes_read, valid as u64);
        }
        // Five stray bytes: too short for a block header.
        let mut b = bytes.clone();
        b.extend_from_slice(&[1, 2, 3, 4, 5]);
        let fatal = the_fatal(&read_both(&b)).clone();
        assert_at(&fatal, "truncated", valid);
        assert_eq!(
            fatal.kind,
            FaultKind::Truncated {
                needed: 8,
                available: 5
            }
        );
    }
    // After a classic pcap: whatever the bytes, they are a record header that does not fit
    // or a record that runs past the end (or, rarely, an implausible length).
    let (bytes, _) = pcap_n(3);
    for len in 1..100 {
        let mut b = bytes.clone();
        b.extend((0..len).map(|_| rng.next() as u8));
        let out = read_both(&b);
        check_prefix_frames(&out, 3);
        let fatal = the_fatal(&out);
        assert_eq!(fatal.offset, bytes.len() as u64);
    }
}

#[test]
fn implausible_record_length() {
    for order in [Order::Le, Order::Be] {
        let mut w = PcapWriter::new(order, false, 65_535, 1);
        w.record(1, 0, &eth_udp(0));
        w.record(2, 0, &eth_udp(1));
        let at = w.record_raw(3, 0, 0xFFFF_FFF0, 0xFFFF_FFF0, &eth_udp(2));
        w.record(4, 0, &eth_udp(3));
        let out = read_both(&w.buf);
        assert_eq!(out.frames.len(), 2);
        let fatal = the_fatal(&out);
        assert_at(fatal, "implausible_length", at);
        assert_eq!(
            fatal.kind,
            FaultKind::ImplausibleLength {
                length: 0xFFFF_FFF0
            }
        );
        assert!(fatal.to_string().contains("4294967280"));
        assert_eq!(out.summary.bytes_read, at as u64);
        assert_eq!(out.summary.content_hash, blake3::hash(&w.buf));
    }
}

#[test]
fn faults_in_compressed_input_use_decompressed_offsets() {
    let (bytes, at) = pcap_n(5);
    let cut = &bytes[..at[3] + 5];
    let plain = read_mapped(cut);
    for packed in [gzip(cut), zstd(cut)] {
        let out = read_stream(&packed);
        assert_eq!(out.frames, plain.frames);
        assert_eq!(out.summary.faults, plain.summary.faults);
        assert_at(the_fatal(&out), "truncated", at[3]);
    }
}

#[test]
fn corrupt_compressed_stream_keeps_earlier_frames() {
    // A .gz cut short: the decompressor fails or ends early; frames before are returned and
    // the read reports a fatal fault.
    let (bytes, _) = pcap_n(2000);
    let gz = gzip(&bytes);
    let cut = &gz[..gz.len() / 2];
    let mut reader = kansoku_packet::source::CaptureReader::from_reader(Box::new(
        std::io::Cursor::new(cut.to_vec()),
    ))
    .unwrap();
    let mut n = 0;
    while let Some(f) = reader.next_frame() {
        assert_eq!(f.data, eth_udp(n));
        n += 1;
    }
    assert!(n > 0 && n < 2000, "{n}");
    let faults = reader.faults().to_vec();
    assert_eq!(
        faults.iter().filter(|f| f.kind.is_fatal()).count(),
        1,
        "{faults:?}"
    );
    assert!(["io", "truncated"].contains(&faults.last().unwrap().kind.code()));
    // finish() still reports (it used to fail with the decompressor's error and lose the
    // faults): one fatal fault, the frames counted, the hash over what the stream gave.
    let summary = reader
        .finish()
        .expect("finish reports a corrupt stream as a fault");
    assert_eq!(summary.faults, faults);
    assert_eq!(summary.frames, u64::from(n));
}

#[test]
fn corrupt_compressed_tail_after_a_fatal_fault_is_reported() {
    // The walk stops at an implausible record near the start; the .gz is cut short far
    // later, so the failure only shows when finish() drains the rest for the hash.
    let mut w = PcapWriter::new(Order::Le, false, 65_535, 1);
    w.record(1, 0, &eth_udp(0));
    let bad = w.record_raw(2, 0, 0xFFFF_FFF0, 0, &[]);
    for seq in 0..50_000 {
        w.record(3, seq, &eth_udp(seq));
    }
    let gz = gzip(&w.buf);
    let cut = gz[..gz.len() * 4 / 5].to_vec();
    let out = read_stream(&cut);
    assert_eq!(out.frames.len(), 1);
    assert_eq!(out.codes(), ["implausible_length", "io"]);
    assert_at(&out.faults()[0], "implausible_length", bad);
    let io = &out.faults()[1];
    assert!(
        io.offset > bad as u64 && io.offset < w.len() as u64,
        "{io:?}"
    );
    assert!(
        io.to_string()
            .starts_with(&format!("byte offset {}: read error", io.offset))
    );
}

#[cfg(unix)]
#[test]
fn named_pipe_is_streamed_not_mapped() {
    let (bytes, _) = pcap_n(50);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    for payload in [bytes.clone(), gzip(&bytes)] {
        let path = fifo.clone();
        let writer = std::thread::spawn(move || std::fs::write(path, payload).unwrap());
        let out = read_path(&fifo);
        writer.join().unwrap();
        assert!(out.faults().is_empty(), "{:?}", out.faults());
        check_prefix_frames(&out, 50);
        assert_eq!(out.summary.content_hash, blake3::hash(&bytes));
    }
}

// ---------------------------------------------------------------------------------------------
// Randomized robustness

fn robust_pcap_image() -> Vec<u8> {
    let mut w = PcapWriter::new(Order::Le, false, 96, 1);
    for seq in 0..24u32 {
        w.record(100 + seq, seq * 7, &eth_udp(seq));
    }
    w.record_raw(200, 0, 0, 0, &[]);
    w.buf
}

fn robust_pcapng_image() -> Vec<u8> {
    let mut w = NgWriter::new(Order::Le);
    let r9 = w.tsresol(9);
    let rb = w.tsresol(0x8a);
    let off = w.tsoffset(-5);
    w.idb(1, 64, &[]);
    w.idb(101, 0, &[r9, off]);
    w.idb(113, 0, &[rb]);
    for seq in 0..10u32 {
        w.epb(seq % 3, u64::from(seq) << 20, &eth_udp(seq));
        if seq % 4 == 0 {
            w.spb(70, &eth_udp(22)[..64]);
        }
    }
    w.opb(1, 12345, &ipv4_udp(3));
    w.custom(CUSTOM_COPY, 1, b"xyz");
    w.shb(Order::Be);
    w.idb(276, 0, &[]);
    w.epb(0, 99, &[0; 20]);
    w.block(0x7777, &[1, 2, 3, 4, 5]);
    w.buf
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        match rng.below(8) {
            // flip a byte
            0 | 1 => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            // overwrite an aligned u32 with a boundary value
            2 | 3 => {
                let i = rng.below(b.len()) & !3;
                let v: u32 = match rng.below(6) {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 0xFFFF_FFF0,
                    3 => rng.below(64) as u32,
                    4 => (16 << 20) + 4,
                    _ => rng.next() as u32,
                };
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                for (k, x) in bytes.iter().enumerate() {
                    if let Some(slot) = b.get_mut(i + k) {
                        *slot = *x;
                    }
                }
            }
            // truncate
            4 => b.truncate(rng.below(b.len() + 1)),
            // delete a run
            5 => {
                let i = rng.below(b.len());
                let n = rng.below(16).min(b.len() - i);
                b.drain(i..i + n);
            }
            // insert a run
            6 => {
                let i = rng.below(b.len() + 1);
                let n = rng.below(16);
                let run: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(i..i, run);
            }
            // duplicate a region elsewhere
            _ => {
                let i = rng.below(b.len());
                let n = rng.below(64).min(b.len() - i);
                let region = b[i..i + n].to_vec();
                let j = rng.below(b.len() + 1);
                b.splice(j..j, region);
            }
        }
    }
    b
}

fn check_consistent(input: &[u8], out: &Outcome) {
    let s = &out.summary;
    assert_eq!(s.frames, out.frames.len() as u64);
    assert_eq!(s.content_hash, blake3::hash(input));
    assert!(s.bytes_read <= input.len() as u64);
    let fatal: Vec<&Fault> = s.faults.iter().filter(|f| f.kind.is_fatal()).collect();
    assert!(fatal.len() <= 1, "{:?}", s.faults);
    for f in &s.faults {
        assert!(f.offset <= input.len() as u64, "{f:?}");
        assert!(f.count >= 1);
        assert!(
            f.to_string()
                .starts_with(&format!("byte offset {}: ", f.offset))
        );
    }
    // Each recoverable kind appears at most once (merged).
    let mut codes: Vec<&str> = s.faults.iter().map(|f| f.kind.code()).collect();
    codes.sort_unstable();
    let n = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), n, "{:?}", s.faults);
    match fatal.first() {
        // A clean end consumed everything.
        None => assert_eq!(s.bytes_read, input.len() as u64, "{:?}", s.faults),
        // A fatal fault stops at the record it names, the last fault recorded.
        Some(f) => {
            assert_eq!(f.offset, s.bytes_read, "{:?}", s.faults);
            assert!(s.faults.last().unwrap().kind.is_fatal());
        }
    }
    let data: u64 = out.frames.iter().map(|f| f.data.len() as u64).sum();
    assert!(data <= s.bytes_read);
    if !out.frames.is_empty() {
        assert!(s.container.is_some());
    }
}

#[test]
fn random_mutations_streamed() {
    let mut rng = Rng::new(0x006b_616e_736f_6b75);
    let bases = [robust_pcap_image(), robust_pcapng_image()];
    for base in &bases {
        check_consistent(base, &read_stream(base));
    }
    for i in 0..20_000 {
        let input = mutate(&mut rng, &bases[i % 2]);
        let out = read_stream(&input);
        check_consistent(&input, &out);
    }
}

#[test]
fn random_mutations_mapped_agree_with_streamed() {
    let mut rng = Rng::new(0xdead_beef_cafe);
    let bases = [robust_pcap_image(), robust_pcapng_image()];
    for i in 0..2_000 {
        let input = mutate(&mut rng, &bases[i % 2]);
        // read_both asserts the two paths agree on frames, faults, bytes and hash.
        let out = read_both(&input);
        check_consistent(&input, &out);
    }
}

#[test]
fn random_mutations_through_gzip() {
    let mut rng = Rng::new(42);
    let bases = [robust_pcap_image(), robust_pcapng_image()];
    for i in 0..300 {
        let input = mutate(&mut rng, &bases[i % 2]);
        let plain = read_stream(&input);
        let packed = read_stream(&gzip(&input));
        assert_eq!(packed.frames, plain.frames);
        assert_eq!(packed.summary.faults, plain.summary.faults);
        assert_eq!(packed.summary.content_hash, plain.summary.content_hash);
    }
}
