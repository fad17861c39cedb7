//! The capture reader: detects the container (pcap or pcapng, optionally inside gzip or zstd)
//! and yields frames as slices of the input, recording faults instead of failing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::bytes::{ByteSource, MAX_RECORD};
use super::endian::Endian;
use super::fault::{Fault, FaultKind, Faults};
use super::pcap::{self, PcapHeader, RecordHeader};
use super::pcapng::{self, Interface, Link};

/// How far behind the latest timestamp a frame may be before it counts as a fault. Captures
/// from multi-queue NICs and merged interfaces routinely reorder frames by microseconds to
/// fractions of a second; that is normal and binning absorbs it. A larger step back means
/// clock trouble or concatenated files, which an operator should hear about.
pub const REORDER_TOLERANCE_NS: i64 = 1_000_000_000;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// One captured frame, borrowed from the reader until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Capture time, nanoseconds since the Unix epoch (UTC).
    pub ts_ns: i64,
    pub link: Link,
    /// The captured bytes (possibly fewer than `orig_len`, cut by the snapshot length).
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// How the input's bytes are packed; known once its first bytes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Pcap,
    Pcapng,
}

/// Whether the input had to be decompressed (offsets then count decompressed bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

enum State {
    /// Nothing read yet.
    Start,
    /// A classic pcap file: its header, and its one link type, looked up once.
    Pcap(PcapHeader, Link),
    Pcapng {
        endian: Endian,
        interfaces: Vec<Interface>,
    },
    /// A fatal fault or the end of the input was reached.
    Done,
}

/// What a finished read produced besides frames.
#[derive(Debug)]
pub struct ReadSummary {
    pub container: Option<Container>,
    pub compression: Compression,
    /// BLAKE3 of the whole (decompressed) input, including any part after a fatal fault.
    pub content_hash: blake3::Hash,
    /// Bytes consumed by complete records and headers.
    pub bytes_read: u64,
    pub frames: u64,
    pub faults: Vec<Fault>,
}

/// Reads frames from one pcap or pcapng input.
pub struct CaptureReader {
    bytes: ByteSource,
    compression: Compression,
    state: State,
    container: Option<Container>,
    faults: Faults,
    last_ts: i64,
    /// The latest timestamp so far: order is judged against it, not the previous frame.
    latest_ts: i64,
    frames: u64,
    /// Records starting before this offset are skipped (see [`resume_at`](Self::resume_at)).
    resume_at: u64,
}

impl CaptureReader {
    /// Open a file: memory-mapped when plain, streamed through a decompressor when its first
    /// bytes are a gzip or zstd magic (the extension is not trusted).
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        if !file.metadata()?.is_file() {
            // A pipe, FIFO or device (`<(zcat ...)`, `/dev/stdin`): it cannot be mapped (its
            // size reads as 0) nor reopened (that would be another stream), so stream it.
            return Self::from_reader(Box::new(file));
        }
        let mut head = [0u8; 4];
        let n = read_up_to(&mut file, &mut head)?;
        let compression = sniff_compression(&head[..n]);
        if compression == Compression::None {
            return Ok(Self::with_bytes(ByteSource::mapped(&file)?, compression));
        }
        Self::decompressing(buffered(path)?, compression)
    }

    /// Read from a stream such as stdin, decompressing it if its first bytes say so.
    pub fn from_reader(reader: Box<dyn Read + Send>) -> io::Result<Self> {
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        // One `fill_buf` may return fewer bytes than a magic (a pipe hands out whatever was
        // written), so gather up to 4 bytes and put them back in front of the stream.
        let mut head = [0u8; 4];
        let n = read_up_to(&mut reader, &mut head)?;
        let compression = sniff_compression(&head[..n]);
        let reader = io::Cursor::new(head[..n].to_vec()).chain(reader);
        Self::decompressing(Box::new(reader), compression)
    }

    fn decompressing(
        reader: Box<dyn BufRead + Send>,
        compression: Compression,
    ) -> io::Result<Self> {
        let stream = decompressed(reader, compression)?;
        Ok(Self::with_bytes(ByteSource::stream(stream), compression))
    }

    fn with_bytes(bytes: ByteSource, compression: Compression) -> Self {
        Self {
            bytes,
            compression,
            state: State::Start,
            container: None,
            faults: Faults::default(),
            last_ts: i64::MIN,
            latest_ts: i64::MIN,
            frames: 0,
            resume_at: 0,
        }
    }

    /// Skip the records that start before `offset` of the (decompressed) content: an earlier
    /// ingest, stopped by a fault there, counted them (see [`prefix_hashes`]). Headers and
    /// interface blocks before it are still read.
    pub fn resume_at(&mut self, offset: u64) {
        self.resume_at = offset;
    }

    /// Faults recorded so far.
    pub fn faults(&self) -> &[Fault] {
        self.faults.as_slice()
    }

    /// The next frame, or `None` at the end of the input or after a fatal fault (see
    /// [`faults`](Self::faults)). Frames on unknown link types are returned too, so the caller
    /// can count them; their [`Link`] says so.
    #[inline]
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        // Headers are parsed into plain values first, so the returned slice is the only
        // borrow of `self.bytes` that escapes.
        let at = loop {
            let at = match &self.state {
                State::Pcap(header, link) => {
                    let (header, link) = (*header, *link);
                    self.next_pcap_record(&header, link)?
                }
                State::Pcapng { .. } => self.next_pcapng_packet()?,
                State::Start => {
                    self.read_file_header();
                    continue;
                }
                State::Done => return None,
            };
            if self.bytes.offset() >= self.resume_at {
                break at;
            }
            // Counted by the earlier ingest this input resumes. Its time still counts: a
            // pcapng simple packet block has none and takes the previous packet's.
            self.latest_ts = self.latest_ts.max(at.ts_ns);
            self.last_ts = at.ts_ns;
            self.bytes.take(at.record_len);
        };
        if at.ts_ns < self.latest_ts.saturating_sub(REORDER_TOLERANCE_NS) {
            self.faults
                .record(self.bytes.offset(), FaultKind::TimeWentBackwards);
        }
        self.latest_ts = self.latest_ts.max(at.ts_ns);
        self.last_ts = at.ts_ns;
        self.frames += 1;
        let record = self.bytes.take(at.record_len);
        Some(Frame {
            ts_ns: at.ts_ns,
            link: at.link,
            data: &record[at.data_at..at.data_at + at.caplen],
            orig_len: at.orig_len,
        })
    }

    /// Consume the rest of the input for the content hash and report.
    ///
    /// A stream that fails while the rest is drained (a `.gz` cut short somewhere after the
    /// fatal fault that stopped the walk) does not lose the report: the failure is recorded as an
    /// [`FaultKind::Io`] fault (unless the walk already recorded one) and the hash covers the
    /// bytes the stream gave.
    pub fn finish(mut self) -> io::Result<ReadSummary> {
        let bytes_read = self.bytes.offset();
        let (content_hash, failure) = self.bytes.finish();
        if let Some((offset, e)) = failure {
            let seen = self
                .faults
                .as_slice()
                .iter()
                .any(|f| matches!(f.kind, FaultKind::Io { .. }));
            if !seen {
                self.faults.record(
                    offset,
                    FaultKind::Io {
                        message: e.to_string(),
                    },
                );
            }
        }
        Ok(ReadSummary {
            container: self.container,
            compression: self.compression,
            content_hash,
            bytes_read,
            frames: self.frames,
            faults: self.faults.into_vec(),
        })
    }

    fn fatal(&mut self, offset: u64, kind: FaultKind) -> Option<std::convert::Infallible> {
        self.faults.record(offset, kind);
        self.state = State::Done;
        None
    }

    /// `fill` that turns an I/O error into a fatal fault.
    fn fill(&mut self, want: usize) -> Option<usize> {
        match self.bytes.fill(want) {
            Ok(b) => Some(b.len()),
            Err(e) => {
                let offset = self.bytes.offset();
                self.fatal(
                    offset,
                    FaultKind::Io {
                        message: e.to_string(),
                    },
                );
                None
            }
        }
    }

    /// Ensure `want` bytes are available or record a truncation at the current offset.
    fn require(&mut self, want: usize) -> Option<()> {
        let have = self.fill(want)?;
        if have < want {
            let offset = self.bytes.offset();
            self.fatal(
                offset,
                FaultKind::Truncated {
                    needed: want as u64,
                    available: have as u64,
                },
            );
            return None;
        }
        Some(())
    }

    fn read_file_header(&mut self) {
        self.state = State::Done;
        let Some(have) = self.fill(pcap::HEADER_LEN) else {
            return;
        };
        if have == 0 {
            self.fatal(0, FaultKind::Empty);
            return;
        }
        let head = self.bytes.fill(0).unwrap_or(&[]);
        let mut found = [0u8; 4];
        found[..have.min(4)].copy_from_slice(&head[..have.min(4)]);
        if u32::from_le_bytes(found) == pcapng::SHB {
            self.container = Some(Container::Pcapng);
            // The SHB is read as an ordinary block, which sets the byte order.
            self.state = State::Pcapng {
                endian: Endian::Little,
                interfaces: Vec::new(),
            };
            return;
        }
        if have < pcap::HEADER_LEN {
            let is_pcap = have >= 4 && PcapHeader::parse(&pad24(head)).is_some();
            let kind = if is_pcap {
                FaultKind::Truncated {
                    needed: pcap::HEADER_LEN as u64,
                    available: have as u64,
                }
            } else {
                FaultKind::BadMagic { found }
            };
            self.fatal(0, kind);
            return;
        }
        let mut raw = [0u8; pcap::HEADER_LEN];
        raw.copy_from_slice(&head[..pcap::HEADER_LEN]);
        match PcapHeader::parse(&raw) {
            Some(header) => {
                self.bytes.take(pcap::HEADER_LEN);
                self.container = Some(Container::Pcap);
                let link = Link::from_code(header.linktype);
                if let Link::Unknown(code) = link {
                    self.faults.record(20, FaultKind::UnknownLinkType { code });
                }
                self.state = State::Pcap(header, link);
            }
            None => {
                self.fatal(0, FaultKind::BadMagic { found });
            }
        }
    }

    /// Validate the next classic-pcap record and locate its frame.
    #[inline]
    fn next_pcap_record(&mut self, header: &PcapHeader, link: Link) -> Option<Located> {
        let offset = self.bytes.offset();
        // One fill usually covers the header and the frame (always, for a mapped file).
        let head = match self.bytes.fill(pcap::RECORD_HEADER_LEN + 1536) {
            Ok(w) if w.len() >= pcap::RECORD_HEADER_LEN => {
                Ok((RecordHeader::parse(header, w), w.len()))
            }
            Ok(w) => Err(Ok(w.len())),
            Err(e) => Err(Err(e)),
        };
        let (rec, have) = match head {
            Ok(parsed) => parsed,
            Err(Ok(0)) => {
                self.state = State::Done;
                return None;
            }
            Err(Ok(available)) => {
                let needed = pcap::RECORD_HEADER_LEN as u64;
                let available = available as u64;
                self.fatal(offset, FaultKind::Truncated { needed, available })?;
                return None;
            }
            Err(Err(e)) => {
                let message = e.to_string();
                self.fatal(offset, FaultKind::Io { message })?;
                return None;
            }
        };
        let caplen = rec.caplen as usize;
        if caplen > MAX_RECORD - pcap::RECORD_HEADER_LEN {
            self.fatal(
                offset,
                FaultKind::ImplausibleLength {
                    length: rec.caplen.into(),
                },
            )?;
        }
        if pcap::RECORD_HEADER_LEN + caplen > have {
            self.require(pcap::RECORD_HEADER_LEN + caplen)?;
        }
        if rec.caplen > header.snaplen && header.snaplen != 0 {
            self.faults.record(
                offset,
                FaultKind::CaplenExceedsSnaplen {
                    caplen: rec.caplen,
                    snaplen: header.snaplen,
                },
            );
        }
        if caplen == 0 {
            self.faults.record(offset, FaultKind::ZeroLength);
        }
        Some(Located {
            ts_ns: rec.ts_ns,
            link,
            record_len: pcap::RECORD_HEADER_LEN + caplen,
            data_at: pcap::RECORD_HEADER_LEN,
            caplen,
            orig_len: rec.orig_len,
        })
    }

    /// Walk pcapng blocks up to the next packet block and locate its frame; other blocks are
    /// consumed on the way.
    fn next_pcapng_packet(&mut self) -> Option<Located> {
        loop {
            let offset = self.bytes.offset();
            if self.fill(8)? == 0 {
                self.state = State::Done;
                return None;
            }
            self.require(8)?;
            let head = self.bytes.fill(0).unwrap_or(&[]);
            let endian = if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == pcapng::SHB
            {
                self.require(12)?;
                let head = self.bytes.fill(0).unwrap_or(&[]);
                match u32::from_le_bytes([head[8], head[9], head[10], head[11]]) {
                    pcapng::BYTE_ORDER_MAGIC => Endian::Little,
                    m if m.swap_bytes() == pcapng::BYTE_ORDER_MAGIC => Endian::Big,
                    _ => match self.fatal(offset, BAD_BYTE_ORDER)? {},
                }
            } else {
                match &self.state {
                    State::Pcapng { endian, .. } => *endian,
                    _ => return None,
                }
            };
            let head = self.bytes.fill(0).unwrap_or(&[]);
            let block_type = endian.u32(head, 0);
            let block_len = endian.u32(head, 4) as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) {
                self.fatal(offset, BAD_LENGTH)?;
            }
            if block_len > MAX_RECORD {
                let length = block_len as u64;
                self.fatal(offset, FaultKind::ImplausibleLength { length })?;
            }
            self.require(block_len)?;
            let block = &self.bytes.fill(0).unwrap_or(&[])[..block_len];
            let trailer = endian.u32(block, block_len - 4) as usize;
            if trailer != block_len {
                self.fatal(offset, BAD_TRAILER)?;
            }
            let located = match block_type {
                pcapng::SHB => {
                    self.state = State::Pcapng {
                        endian,
                        interfaces: Vec::new(),
                    };
                    None
                }
                pcapng::IDB => {
                    let block = &self.bytes.fill(0).unwrap_or(&[])[..block_len];
                    let Some(iface) = Interface::parse(endian, &block[8..block_len - 4]) else {
                        match self.fatal(offset, BAD_IDB)? {}
                    };
                    if let Link::Unknown(code) = iface.link {
                        self.faults
                            .record(offset, FaultKind::UnknownLinkType { code });
                    }
                    if let State::Pcapng { interfaces, .. } = &mut self.state {
                        interfaces.push(iface);
                    }
                    None
                }
                pcapng::EPB | pcapng::OBSOLETE_PACKET_BLOCK | pcapng::SPB => {
                    self.locate_packet(offset, endian, block_type, block_len)
                }
                _ => None,
            };
            match located {
                Some(located) => return Some(located),
                None => {
                    self.bytes.take(block_len);
                }
            }
        }
    }

    /// Locate the frame inside a packet block that is available in full; `None` (with a
    /// recoverable fault) when the block is inconsistent, so the walk skips it.
    fn locate_packet(
        &mut self,
        offset: u64,
        endian: Endian,
        block_type: u32,
        block_len: usize,
    ) -> Option<Located> {
        let State::Pcapng { interfaces, .. } = &self.state else {
            return None;
        };
        let block = &self.bytes.fill(0).unwrap_or(&[])[..block_len];
        let body_end = block_len - 4;
        // (interface id, raw timestamp, captured length, original length, data offset)
        let (iface_id, ts, caplen, orig_len, data_at) = match block_type {
            pcapng::SPB if block_len >= 16 => {
                let orig = endian.u32(block, 8);
                (0, None, orig as usize, orig, 12)
            }
            pcapng::EPB if block_len >= 32 => (
                endian.u32(block, 8),
                Some(u64::from(endian.u32(block, 12)) << 32 | u64::from(endian.u32(block, 16))),
                endian.u32(block, 20) as usize,
                endian.u32(block, 24),
                28,
            ),
            pcapng::OBSOLETE_PACKET_BLOCK if block_len >= 32 => (
                u32::from(endian.u16(block, 8)),
                Some(u64::from(endian.u32(block, 12)) << 32 | u64::from(endian.u32(block, 16))),
                endian.u32(block, 20) as usize,
                endian.u32(block, 24),
                28,
            ),
            _ => {
                self.faults.record(offset, SHORT_PACKET_BLOCK);
                return None;
            }
        };
        let Some(iface) = interfaces.get(iface_id as usize).copied() else {
            self.faults
                .record(offset, FaultKind::UnknownInterface { id: iface_id });
            return None;
        };
        let caplen = match ts {
            // A Simple Packet Block has no captured length: the frame is cut by the snapshot
            // length of interface 0 and by the block itself.
            None => {
                let snap = if iface.snaplen == 0 {
                    usize::MAX
                } else {
                    iface.snaplen as usize
                };
                caplen.min(snap).min(body_end - data_at)
            }
            Some(_) if data_at + caplen > body_end => {
                self.faults.record(offset, CAPLEN_PAST_BLOCK);
                return None;
            }
            Some(_) => caplen,
        };
        if caplen == 0 {
            self.faults.record(offset, FaultKind::ZeroLength);
        }
        if iface.snaplen != 0 && caplen > iface.snaplen as usize {
            self.faults.record(
                offset,
                FaultKind::CaplenExceedsSnaplen {
                    caplen: caplen as u32,
                    snaplen: iface.snaplen,
                },
            );
        }
        // A Simple Packet Block has no timestamp either; it keeps the previous one so that
        // time-binning places it next to its neighbours.
        let ts_ns = match ts {
            Some(ts) => iface
                .resolution
                .to_nanos(ts)
                .saturating_add(iface.offset_ns),
            None => self.last_ts.max(0),
        };
        Some(Located {
            ts_ns,
            link: iface.link,
            record_len: block_len,
            data_at,
            caplen,
            orig_len,
        })
    }
}

/// Where the frame is inside the record or block at the current offset.
struct Located {
    ts_ns: i64,
    link: Link,
    /// Bytes to consume: the whole record or block.
    record_len: usize,
    data_at: usize,
    caplen: usize,
    orig_len: u32,
}

const BAD_BYTE_ORDER: FaultKind = FaultKind::BadBlock {
    reason: "section header with an invalid byte-order magic",
};
const BAD_LENGTH: FaultKind = FaultKind::BadBlock {
    reason: "block length not a multiple of 4 or below the 12-byte minimum",
};
const BAD_TRAILER: FaultKind = FaultKind::BadBlock {
    reason: "trailing block length differs from the leading one",
};
const BAD_IDB: FaultKind = FaultKind::BadBlock {
    reason: "interface description block too short or with an option running past its end",
};
const SHORT_PACKET_BLOCK: FaultKind = FaultKind::BadPacketBlock {
    reason: "packet block shorter than its fixed fields",
};
const CAPLEN_PAST_BLOCK: FaultKind = FaultKind::BadPacketBlock {
    reason: "captured length runs past the end of its block",
};

/// BLAKE3 of the first `lengths[i]` bytes of a file's (decompressed) content, for each `i`;
/// `None` where the content is shorter. One pass, as far as the longest length.
///
/// An ingest that stopped at a fatal fault keeps the hash of what it counted; a later input
/// whose content starts with those same bytes (the complete copy of a capture that was copied
/// while still being written) is resumed after them instead of counted twice.
pub fn prefix_hashes(path: &Path, lengths: &[u64]) -> io::Result<Vec<Option<blake3::Hash>>> {
    let mut head = [0u8; 4];
    let n = read_up_to(&mut File::open(path)?, &mut head)?;
    let mut stream = decompressed(buffered(path)?, sniff_compression(&head[..n]))?;
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_unstable_by_key(|&i| lengths[i]);
    let mut hashes = vec![None; lengths.len()];
    let mut hasher = blake3::Hasher::new();
    let mut hashed = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for i in order {
        while hashed < lengths[i] {
            let want = usize::try_from(lengths[i] - hashed).map_or(buf.len(), |w| w.min(buf.len()));
            let got = read_up_to(&mut stream, &mut buf[..want])?;
            if got == 0 {
                return Ok(hashes);
            }
            hasher.update(&buf[..got]);
            hashed += got as u64;
        }
        hashes[i] = Some(hasher.finalize());
    }
    Ok(hashes)
}

/// A file read through a 1 MiB buffer.
fn buffered(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(Box::new(BufReader::with_capacity(
        1 << 20,
        File::open(path)?,
    )))
}

/// The content of `reader` with its compression undone.
fn decompressed(
    reader: Box<dyn BufRead + Send>,
    compression: Compression,
) -> io::Result<Box<dyn Read + Send>> {
    Ok(match compression {
        Compression::None => reader,
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
    })
}

fn sniff_compression(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn pad24(head: &[u8]) -> [u8; pcap::HEADER_LEN] {
    let mut raw = [0u8; pcap::HEADER_LEN];
    let n = head.len().min(pcap::HEADER_LEN);
    raw[..n].copy_from_slice(&head[..n]);
    raw
}
