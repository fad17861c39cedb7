//! What can be wrong with a capture file, and where.
//!
//! A fault is either *fatal* (the record framing can no longer be trusted, so reading stops and
//! every frame before it is kept) or *recoverable* (one record is odd but the next one can still
//! be found; it is counted and reading goes on). Recoverable faults of the same kind are merged
//! into one entry that keeps the first offset and a count, so a capture with a million
//! backwards timestamps yields one line, not a million.

use std::fmt;

/// One fault in one input, located by byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Offset of the record or block where the fault was first seen (in the decompressed
    /// input for `.gz`/`.zst`/stdin).
    pub offset: u64,
    pub kind: FaultKind,
    /// How many times this kind occurred (1 for fatal faults).
    pub count: u64,
}

/// The kinds of fault, each with what a user needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The input holds no bytes at all.
    Empty,
    /// The first bytes are neither a pcap nor a pcapng header (nor gzip/zstd around one).
    BadMagic { found: [u8; 4] },
    /// The input ends inside a header, record or block.
    Truncated { needed: u64, available: u64 },
    /// A record or block length beyond any plausible capture: the framing is corrupt.
    ImplausibleLength { length: u64 },
    /// A pcapng block whose structure is inconsistent (lengths, trailer, missing header).
    BadBlock { reason: &'static str },
    /// A pcapng packet block whose fields disagree with its length; the block is skipped and
    /// the walk goes on (the block framing itself is intact).
    BadPacketBlock { reason: &'static str },
    /// A record longer than the snapshot length the file declares; the bytes are present and
    /// the frame is kept (libpcap and Wireshark do the same).
    CaplenExceedsSnaplen { caplen: u32, snaplen: u32 },
    /// A record with no captured bytes; nothing to decode.
    ZeroLength,
    /// A record whose timestamp is more than [`REORDER_TOLERANCE_NS`](super::REORDER_TOLERANCE_NS)
    /// earlier than the latest one before it; the frame is kept.
    TimeWentBackwards,
    /// A link type kansoku does not decode; its frames are counted, not decoded.
    UnknownLinkType { code: u32 },
    /// A pcapng packet referring to an interface that no Interface Description Block defined.
    UnknownInterface { id: u32 },
    /// The operating system refused to read the input.
    Io { message: String },
}

impl FaultKind {
    /// A fatal fault stops the walk: the framing after it cannot be trusted.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            FaultKind::Empty
                | FaultKind::BadMagic { .. }
                | FaultKind::Truncated { .. }
                | FaultKind::ImplausibleLength { .. }
                | FaultKind::BadBlock { .. }
                | FaultKind::Io { .. }
        )
    }

    /// A short stable name, used as the manifest's fault code.
    pub fn code(&self) -> &'static str {
        match self {
            FaultKind::Empty => "empty",
            FaultKind::BadMagic { .. } => "bad_magic",
            FaultKind::Truncated { .. } => "truncated",
            FaultKind::ImplausibleLength { .. } => "implausible_length",
            FaultKind::BadBlock { .. } => "bad_block",
            FaultKind::BadPacketBlock { .. } => "bad_packet_block",
            FaultKind::CaplenExceedsSnaplen { .. } => "caplen_exceeds_snaplen",
            FaultKind::ZeroLength => "zero_length_record",
            FaultKind::TimeWentBackwards => "time_went_backwards",
            FaultKind::UnknownLinkType { .. } => "unknown_link_type",
            FaultKind::UnknownInterface { .. } => "unknown_interface",
            FaultKind::Io { .. } => "io",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Empty => write!(f, "the input is empty: no capture header"),
            FaultKind::BadMagic { found } => write!(
                f,
                "not a pcap or pcapng capture (first bytes {:02x} {:02x} {:02x} {:02x}); \
                 gzip and zstd compressed captures are recognised by their own magic",
                found[0], found[1], found[2], found[3]
            ),
            FaultKind::Truncated { needed, available } => write!(
                f,
                "truncated: {needed} bytes needed, {available} present; the file ends mid-record \
                 (was it copied while still being written?)"
            ),
            FaultKind::ImplausibleLength { length } => {
                write!(
                    f,
                    "implausible record length {length}: the framing is corrupt"
                )
            }
            FaultKind::BadBlock { reason } => write!(f, "corrupt pcapng block: {reason}"),
            FaultKind::BadPacketBlock { reason } => {
                write!(f, "corrupt pcapng packet block, skipped: {reason}")
            }
            FaultKind::CaplenExceedsSnaplen { caplen, snaplen } => write!(
                f,
                "record of {caplen} bytes exceeds the file's snapshot length {snaplen}; kept"
            ),
            FaultKind::ZeroLength => write!(f, "zero-length record"),
            FaultKind::TimeWentBackwards => {
                write!(
                    f,
                    "timestamp more than 1 s earlier than an earlier record's; kept (clock \
                     step or concatenated captures?)"
                )
            }
            FaultKind::UnknownLinkType { code } => write!(
                f,
                "link type {code} is not decoded (supported: Ethernet, Linux SLL/SLL2, raw IP, \
                 NULL/LOOP); its frames are counted as unknown_link, not decoded"
            ),
            FaultKind::UnknownInterface { id } => {
                write!(
                    f,
                    "packet refers to undefined interface {id}; the packet is skipped"
                )
            }
            FaultKind::Io { message } => write!(f, "read error: {message}"),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte offset {}: {}", self.offset, self.kind)?;
        if self.count > 1 {
            write!(f, " ({} times, first shown)", self.count)?;
        }
        Ok(())
    }
}

/// The faults of one input, merging repeats of recoverable kinds.
#[derive(Debug, Default)]
pub struct Faults(Vec<Fault>);

impl Faults {
    pub fn record(&mut self, offset: u64, kind: FaultKind) {
        if !kind.is_fatal()
            && let Some(seen) = self.0.iter_mut().find(|f| f.kind.code() == kind.code())
        {
            seen.count += 1;
            return;
        }
        self.0.push(Fault {
            offset,
            kind,
            count: 1,
        });
    }

    pub fn as_slice(&self) -> &[Fault] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Fault> {
        self.0
    }
}
