//! Shared helpers for the reader's integration tests: capture files built by hand, byte by
//! byte, so every field (endianness, magic, lengths, options) is under the test's control;
//! a reference reading of the same bytes through `pcap-parser`; and a deterministic PRNG.

#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::Path;

use kansoku_packet::source::{CaptureReader, Fault, Link, ReadSummary};

/// Byte order of a capture being written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Le,
    Be,
}

impl Order {
    pub fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
    pub fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
    pub fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Frames

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in header.chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A valid IPv4/UDP packet (no link header) whose payload carries `seq` and is
/// `seq % 23` bytes longer than the minimum, so frames differ in length as well as content.
pub fn ipv4_udp(seq: u32) -> Vec<u8> {
    let mut payload = seq.to_be_bytes().to_vec();
    payload.extend((0..(seq % 23) as u8).map(|i| i.wrapping_mul(17) ^ seq as u8));
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0, 0, 0]);
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&(seq as u16).to_be_bytes()); // identification
    p.extend_from_slice(&[0x40, 0x00, 64, 17, 0, 0]); // DF, ttl, UDP, checksum placeholder
    p.extend_from_slice(&[198, 51, 100, (seq % 250) as u8 + 1]); // source
    p.extend_from_slice(&[203, 0, 113, 7]); // destination (the darknet)
    let csum = ipv4_checksum(&p[..20]);
    p[10..12].copy_from_slice(&csum.to_be_bytes());
    p.extend_from_slice(&(40_000 + (seq % 1000) as u16).to_be_bytes());
    p.extend_from_slice(&53u16.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]); // UDP checksum optional over IPv4
    p.extend_from_slice(&payload);
    p
}

/// An Ethernet II frame around [`ipv4_udp`].
pub fn eth_udp(seq: u32) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00];
    f.extend_from_slice(&ipv4_udp(seq));
    f
}

/// A Linux cooked (SLL, linktype 113) frame around [`ipv4_udp`].
pub fn sll_udp(seq: u32) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x02, 0, 0, 0x08, 0x00];
    f.extend_from_slice(&ipv4_udp(seq));
    f
}

// ---------------------------------------------------------------------------------------------
// Classic pcap

pub const PCAP_MICROS: u32 = 0xa1b2_c3d4;
pub const PCAP_NANOS: u32 = 0xa1b2_3c4d;

/// Builds a classic pcap file.
pub struct PcapWriter {
    pub buf: Vec<u8>,
    pub order: Order,
}

impl PcapWriter {
    /// `linktype_field` is written verbatim (FCS bits included).
    pub fn new(order: Order, nanos: bool, snaplen: u32, linktype_field: u32) -> Self {
        let mut buf = Vec::new();
        buf.extend_from_slice(&order.u32(if nanos { PCAP_NANOS } else { PCAP_MICROS }));
        buf.extend_from_slice(&order.u16(2));
        buf.extend_from_slice(&order.u16(4));
        buf.extend_from_slice(&order.u32(0)); // thiszone
        buf.extend_from_slice(&order.u32(0)); // sigfigs
        buf.extend_from_slice(&order.u32(snaplen));
        buf.extend_from_slice(&order.u32(linktype_field));
        Self { buf, order }
    }

    /// A record whose caplen and orig_len are `data.len()`. Returns its offset.
    pub fn record(&mut self, secs: u32, frac: u32, data: &[u8]) -> usize {
        self.record_raw(secs, frac, data.len() as u32, data.len() as u32, data)
    }

    /// A record with every header field chosen by the caller.
    pub fn record_raw(
        &mut self,
        secs: u32,
        frac: u32,
        caplen: u32,
        orig: u32,
        data: &[u8],
    ) -> usize {
        let at = self.buf.len();
        let o = self.order;
        self.buf.extend_from_slice(&o.u32(secs));
        self.buf.extend_from_slice(&o.u32(frac));
        self.buf.extend_from_slice(&o.u32(caplen));
        self.buf.extend_from_slice(&o.u32(orig));
        self.buf.extend_from_slice(data);
        at
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }
}

// ---------------------------------------------------------------------------------------------
// pcapng

pub const SHB: u32 = 0x0A0D_0D0A;
pub const IDB: u32 = 1;
pub const OPB: u32 = 2;
pub const SPB: u32 = 3;
pub const NRB: u32 = 4;
pub const ISB: u32 = 5;
pub const EPB: u32 = 6;
pub const CUSTOM_COPY: u32 = 0x0000_0BAD;
pub const CUSTOM_NOCOPY: u32 = 0x4000_0BAD;

pub const OPT_COMMENT: u16 = 1;
pub const OPT_IF_TSRESOL: u16 = 9;
pub const OPT_IF_TSOFFSET: u16 = 14;

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// Builds a pcapng file, block by block, in the byte order of the current section.
pub struct NgWriter {
    pub buf: Vec<u8>,
    pub order: Order,
}

impl NgWriter {
    /// A new file starting with a Section Header Block in `order`.
    pub fn new(order: Order) -> Self {
        let mut w = Self {
            buf: Vec::new(),
            order,
        };
        w.shb(order);
        w
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Any block: type, length, body padded to 4, length. Returns its offset.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> usize {
        let mut body = body.to_vec();
        pad4(&mut body);
        let len = 12 + body.len() as u32;
        let at = self.buf.len();
        let o = self.order;
        self.buf.extend_from_slice(&o.u32(block_type));
        self.buf.extend_from_slice(&o.u32(len));
        self.buf.extend_from_slice(&body);
        self.buf.extend_from_slice(&o.u32(len));
        at
    }

    /// A new section (which resets the interfaces), possibly in another byte order.
    pub fn shb(&mut self, order: Order) -> usize {
        self.order = order;
        let mut body = Vec::new();
        body.extend_from_slice(&order.u32(0x1A2B_3C4D));
        body.extend_from_slice(&order.u16(1));
        body.extend_from_slice(&order.u16(0));
        body.extend_from_slice(&order.u64(u64::MAX)); // section length unknown
        // shb_userappl option, then opt_endofopt
        body.extend_from_slice(&self.option(4, b"kansoku-tests"));
        body.extend_from_slice(&order.u32(0));
        self.block(SHB, &body)
    }

    /// One option (code, length, value padded to 4).
    pub fn option(&self, code: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&self.order.u16(code));
        v.extend_from_slice(&self.order.u16(value.len() as u16));
        v.extend_from_slice(value);
        pad4(&mut v);
        v
    }

    /// `if_tsoffset` value bytes in the section's order.
    pub fn tsoffset(&self, secs: i64) -> Vec<u8> {
        self.option(OPT_IF_TSOFFSET, &self.order.u64(secs as u64))
    }

    pub fn tsresol(&self, byte: u8) -> Vec<u8> {
        self.option(OPT_IF_TSRESOL, &[byte])
    }

    /// An Interface Description Block; `options` are already encoded option bytes (an
    /// end-of-options marker is appended when any are given).
    pub fn idb(&mut self, linktype: u16, snaplen: u32, options: &[Vec<u8>]) -> usize {
        let mut body = Vec::new();
        body.extend_from_slice(&self.order.u16(linktype));
        body.extend_from_slice(&self.order.u16(0));
        body.extend_from_slice(&self.order.u32(snaplen));
        for o in options {
            body.extend_from_slice(o);
        }
        if !options.is_empty() {
            body.extend_from_slice(&self.order.u32(0));
        }
        self.block(IDB, &body)
    }

    /// An Enhanced Packet Block with caplen = orig_len = `data.len()`.
    pub fn epb(&mut self, iface: u32, ts: u64, data: &[u8]) -> usize {
        self.epb_raw(iface, ts, data.len() as u32, data.len() as u32, data, &[])
    }

    /// An Enhanced Packet Block with every field chosen by the caller; `options` are appended
    /// after the (padded) data.
    pub fn epb_raw(
        &mut self,
        iface: u32,
        ts: u64,
        caplen: u32,
        orig: u32,
        data: &[u8],
        options: &[Vec<u8>],
    ) -> usize {
        let o = self.order;
        let mut body = Vec::new();
        body.extend_from_slice(&o.u32(iface));
        body.extend_from_slice(&o.u32((ts >> 32) as u32));
        body.extend_from_slice(&o.u32(ts as u32));
        body.extend_from_slice(&o.u32(caplen));
        body.extend_from_slice(&o.u32(orig));
        body.extend_from_slice(data);
        pad4(&mut body);
        for opt in options {
            body.extend_from_slice(opt);
        }
        if !options.is_empty() {
            body.extend_from_slice(&o.u32(0));
        }
        self.block(EPB, &body)
    }

    /// A Simple Packet Block: original length and the (possibly snaplen-cut) data.
    pub fn spb(&mut self, orig: u32, data: &[u8]) -> usize {
        let mut body = Vec::new();
        body.extend_from_slice(&self.order.u32(orig));
        body.extend_from_slice(data);
        self.block(SPB, &body)
    }

    /// An obsolete Packet Block (type 2): 16-bit interface id and drops count.
    pub fn opb(&mut self, iface: u16, ts: u64, data: &[u8]) -> usize {
        let o = self.order;
        let mut body = Vec::new();
        body.extend_from_slice(&o.u16(iface));
        body.extend_from_slice(&o.u16(0)); // drops
        body.extend_from_slice(&o.u32((ts >> 32) as u32));
        body.extend_from_slice(&o.u32(ts as u32));
        body.extend_from_slice(&o.u32(data.len() as u32));
        body.extend_from_slice(&o.u32(data.len() as u32));
        body.extend_from_slice(data);
        self.block(OPB, &body)
    }

    /// A custom block (PEN then payload).
    pub fn custom(&mut self, block_type: u32, pen: u32, payload: &[u8]) -> usize {
        let mut body = self.order.u32(pen).to_vec();
        body.extend_from_slice(payload);
        self.block(block_type, &body)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// An owned copy of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub ts_ns: i64,
    pub link: Link,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

/// Everything one read produced.
#[derive(Debug)]
pub struct Outcome {
    pub frames: Vec<Got>,
    pub summary: ReadSummary,
}

impl Outcome {
    pub fn faults(&self) -> &[Fault] {
        &self.summary.faults
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.summary.faults.iter().map(|f| f.kind.code()).collect()
    }

    pub fn fatal(&self) -> Option<&Fault> {
        self.summary.faults.iter().find(|f| f.kind.is_fatal())
    }

    /// The single fault with this code (panics if absent).
    pub fn fault(&self, code: &str) -> &Fault {
        self.summary
            .faults
            .iter()
            .find(|f| f.kind.code() == code)
            .unwrap_or_else(|| panic!("no {code} fault in {:?}", self.summary.faults))
    }
}

/// Drain a reader, checking that `faults()` agrees with the summary.
pub fn drain(mut reader: CaptureReader) -> Outcome {
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame() {
        frames.push(Got {
            ts_ns: f.ts_ns,
            link: f.link,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        });
    }
    // After the end, the reader stays at the end.
    assert!(reader.next_frame().is_none());
    let live = reader.faults().to_vec();
    let summary = reader.finish().expect("finish");
    // finish() may add one fault: a stream failing while it is drained for the hash.
    assert_eq!(summary.faults[..live.len()], live[..]);
    assert!(summary.faults.len() <= live.len() + 1);
    assert_eq!(summary.frames, frames.len() as u64);
    Outcome { frames, summary }
}

/// Read bytes through the memory-mapped path (a temporary file).
pub fn read_mapped(bytes: &[u8]) -> Outcome {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    read_path(file.path())
}

pub fn read_path(path: &Path) -> Outcome {
    drain(CaptureReader::open(path).expect("open"))
}

/// Read bytes as a stream (what stdin looks like).
pub fn read_stream(bytes: &[u8]) -> Outcome {
    drain(CaptureReader::from_reader(Box::new(Cursor::new(bytes.to_vec()))).expect("from_reader"))
}

/// Read through both paths, assert they agree on everything, return one of them.
pub fn read_both(bytes: &[u8]) -> Outcome {
    let a = read_mapped(bytes);
    let b = read_stream(bytes);
    assert_eq!(a.frames, b.frames, "mapped and streamed frames differ");
    assert_eq!(a.summary.faults, b.summary.faults);
    assert_eq!(a.summary.bytes_read, b.summary.bytes_read);
    assert_eq!(a.summary.content_hash, b.summary.content_hash);
    assert_eq!(a.summary.container, b.summary.container);
    assert_eq!(a.summary.content_hash, blake3::hash(bytes));
    a
}

// ---------------------------------------------------------------------------------------------
// Reference reading through pcap-parser

/// (timestamp ns, link type code, data) for every record of a classic pcap file.
pub fn reference_pcap(bytes: &[u8]) -> Vec<(i64, u32, Vec<u8>)> {
    use pcap_parser::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};
    let (mut rest, header) = parse_pcap_header(bytes).expect("pcap-parser header");
    let frac = if header.is_nanosecond_precision() {
        1
    } else {
        1000
    };
    let link = header.network.0 as u32 & 0xffff;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let parsed = if header.is_bigendian() {
            parse_pcap_frame_be(rest)
        } else {
            parse_pcap_frame(rest)
        };
        let (r, b) = parsed.expect("pcap-parser frame");
        out.push((
            i64::from(b.ts_sec) * 1_000_000_000 + i64::from(b.ts_usec) * frac,
            link,
            b.data.to_vec(),
        ));
        rest = r;
    }
    out
}

/// (timestamp ns, link type code, data) for every EPB and SPB of a pcapng file, as
/// pcap-parser sees them (SPB data cut to min(orig_len, snaplen) by us: pcap-parser does not
/// know the snaplen at block level). Other packet block types are not reported.
pub fn reference_pcapng(bytes: &[u8]) -> Vec<(i64, u32, Vec<u8>)> {
    use pcap_parser::pcapng::Block;
    use pcap_parser::traits::PcapNGPacketBlock;
    use pcap_parser::{PcapBlockOwned, PcapNGSlice};
    struct Iface {
        link: u32,
        snaplen: u32,
        units: u64,
        offset: i64,
    }
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut out = Vec::new();
    let mut last_ts = 0i64;
    let mut big_endian = false;
    for block in PcapNGSlice::from_slice(bytes).expect("pcap-parser SHB") {
        let PcapBlockOwned::NG(block) = block.expect("pcap-parser block") else {
            panic!("legacy block in pcapng")
        };
        match block {
            Block::SectionHeader(shb) => {
                ifaces.clear();
                big_endian = shb.big_endian();
            }
            Block::InterfaceDescription(idb) => ifaces.push(Iface {
                link: idb.linktype.0 as u32,
                snaplen: idb.snaplen,
                // pcap-parser 0.17 refuses binary resolutions (it compares the whole byte,
                // flag included, with 63), so the units are computed here.
                units: if idb.if_tsresol & 0x80 == 0 {
                    10u64.pow(u32::from(idb.if_tsresol))
                } else {
                    1u64 << (idb.if_tsresol & 0x7f)
                },
                // pcap-parser 0.17 reads if_tsoffset little-endian whatever the section's
                // byte order.
                offset: if big_endian {
                    idb.ts_offset().swap_bytes()
                } else {
                    idb.ts_offset()
                },
            }),
            Block::EnhancedPacket(epb) => {
                let i = &ifaces[epb.if_id as usize];
                let ts = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                let ns =
                    (ts * 1_000_000_000 / u128::from(i.units)) as i64 + i.offset * 1_000_000_000;
                last_ts = ns;
                out.push((ns, i.link, epb.packet_data().to_vec()));
            }
            Block::SimplePacket(spb) => {
                let i = &ifaces[0];
                let mut data = spb.packet_data().to_vec();
                if i.snaplen != 0 {
                    data.truncate(i.snaplen as usize);
                }
                out.push((last_ts, i.link, data));
            }
            _ => {}
        }
    }
    out
}

/// Our frames as (timestamp, link code, data), for comparison with the references.
pub fn as_tuples(frames: &[Got]) -> Vec<(i64, u32, Vec<u8>)> {
    frames
        .iter()
        .map(|f| {
            let code = match f.link {
                Link::Known(l) => l.code(),
                Link::Unknown(c) => c,
            };
            (f.ts_ns, code, f.data.clone())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Compression

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/// xorshift64*: deterministic, seedable, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
