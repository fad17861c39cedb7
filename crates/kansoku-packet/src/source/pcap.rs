//! Classic libpcap files: a 24-byte global header, then 16-byte record headers each followed
//! by the captured bytes. Both byte orders, microsecond and nanosecond variants.
//! Reference: draft-ietf-opsawg-pcap (the pcap file format).

use super::endian::Endian;

pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
pub const HEADER_LEN: usize = 24;
pub const RECORD_HEADER_LEN: usize = 16;

/// What the global header says about every record that follows.
#[derive(Clone, Copy, Debug)]
pub struct PcapHeader {
    pub endian: Endian,
    /// Multiplier from the fractional timestamp field to nanoseconds (1000 or 1).
    pub frac_to_nanos: i64,
    pub snaplen: u32,
    /// Link type, without the FCS bits the format keeps in the upper bits.
    pub linktype: u32,
}

impl PcapHeader {
    /// Parse a global header; `None` if the magic is not a classic pcap one.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Option<Self> {
        let le = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let (endian, frac_to_nanos) = match le {
            MAGIC_MICROS => (Endian::Little, 1000),
            MAGIC_NANOS => (Endian::Little, 1),
            m if m.swap_bytes() == MAGIC_MICROS => (Endian::Big, 1000),
            m if m.swap_bytes() == MAGIC_NANOS => (Endian::Big, 1),
            _ => return None,
        };
        Some(Self {
            endian,
            frac_to_nanos,
            snaplen: endian.u32(bytes, 16),
            linktype: endian.u32(bytes, 20) & 0xffff,
        })
    }
}

/// A record header's fields.
#[derive(Clone, Copy, Debug)]
pub struct RecordHeader {
    pub ts_ns: i64,
    pub caplen: u32,
    pub orig_len: u32,
}

impl RecordHeader {
    #[inline]
    pub fn parse(header: &PcapHeader, b: &[u8]) -> Self {
        let e = header.endian;
        let secs = i64::from(e.u32(b, 0));
        let frac = i64::from(e.u32(b, 4));
        Self {
            ts_ns: secs * 1_000_000_000 + frac * header.frac_to_nanos,
            caplen: e.u32(b, 8),
            orig_len: e.u32(b, 12),
        }
    }
}
