//! pcapng: a sequence of blocks, each `type, total length, body, total length`. A Section
//! Header Block sets the byte order and resets the interfaces; Interface Description Blocks
//! give each interface its link type, snapshot length and timestamp resolution; packets come
//! in Enhanced, Simple or (obsolete) Packet Blocks. Every other block type is skipped, as the
//! format requires. Reference: draft-ietf-opsawg-pcapng.

use super::endian::Endian;
use crate::decode::LinkType;

pub const SHB: u32 = 0x0A0D_0D0A;
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
pub const IDB: u32 = 1;
pub const OBSOLETE_PACKET_BLOCK: u32 = 2;
pub const SPB: u32 = 3;
pub const EPB: u32 = 6;

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// A link type as a reader sees it: decodable, or a code kansoku does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Known(LinkType),
    Unknown(u32),
}

impl Link {
    pub fn from_code(code: u32) -> Self {
        LinkType::from_linktype(code).map_or(Link::Unknown(code), Link::Known)
    }
}

/// Timestamp units of one interface, turned into nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Units of 10^-n seconds.
    Decimal(u8),
    /// Units of 2^-n seconds.
    Binary(u8),
}

impl Resolution {
    fn from_option(byte: u8) -> Self {
        if byte & 0x80 == 0 {
            Resolution::Decimal(byte)
        } else {
            Resolution::Binary(byte & 0x7f)
        }
    }

    /// Convert a raw timestamp to nanoseconds, saturating instead of overflowing on absurd
    /// values (garbage in a timestamp must not panic).
    #[inline]
    pub fn to_nanos(self, ts: u64) -> i64 {
        let ns: u128 = match self {
            Resolution::Decimal(9) => u128::from(ts),
            Resolution::Decimal(n) if n < 9 => u128::from(ts) * 10u128.pow(u32::from(9 - n)),
            Resolution::Decimal(n) => u128::from(ts) / 10u128.pow(u32::from(n.min(38) - 9)),
            Resolution::Binary(n) => {
                let n = u32::from(n.min(127));
                (u128::from(ts) * 1_000_000_000) >> n
            }
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

/// What an Interface Description Block says about its interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    pub link: Link,
    pub snaplen: u32,
    pub resolution: Resolution,
    /// `if_tsoffset`: seconds to add to every timestamp of this interface.
    pub offset_ns: i64,
}

impl Interface {
    /// Parse an IDB body (the block without its 8-byte head and 4-byte trailer).
    pub fn parse(endian: Endian, body: &[u8]) -> Option<Self> {
        if body.len() < 8 {
            return None;
        }
        let mut iface = Interface {
            link: Link::from_code(u32::from(endian.u16(body, 0))),
            snaplen: endian.u32(body, 4),
            resolution: Resolution::Decimal(6),
            offset_ns: 0,
        };
        let mut opts = &body[8..];
        while opts.len() >= 4 {
            let code = endian.u16(opts, 0);
            let len = usize::from(endian.u16(opts, 2));
            let value = opts.get(4..4 + len)?;
            match code {
                OPT_END => break,
                OPT_IF_TSRESOL if len >= 1 => iface.resolution = Resolution::from_option(value[0]),
                OPT_IF_TSOFFSET if len >= 8 => {
                    let secs = endian.u64(value, 0) as i64;
                    iface.offset_ns = secs.saturating_mul(1_000_000_000);
                }
                _ => {}
            }
            let padded = (4 + len + 3) & !3;
            opts = opts.get(padded..).unwrap_or(&[]);
        }
        Some(iface)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(Resolution::Decimal(6).to_nanos(1_500_000), 1_500_000_000);
        assert_eq!(Resolution::Decimal(9).to_nanos(7), 7);
        assert_eq!(Resolution::Decimal(12).to_nanos(7_000), 7);
        assert_eq!(Resolution::Binary(10).to_nanos(1024), 1_000_000_000);
        assert_eq!(Resolution::Decimal(0).to_nanos(u64::MAX), i64::MAX);
        assert_eq!(Resolution::Decimal(200).to_nanos(u64::MAX), 0);
        assert_eq!(Resolution::from_option(0x8a), Resolution::Binary(10));
    }

    #[test]
    fn idb_options() {
        // linktype 1, snaplen 96, if_tsresol=9, if_tsoffset=10 s, end
        let mut body = vec![1, 0, 0, 0, 96, 0, 0, 0];
        body.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]);
        body.extend_from_slice(&[14, 0, 8, 0, 10, 0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]);
        let iface = Interface::parse(Endian::Little, &body).unwrap();
        assert_eq!(iface.link, Link::Known(LinkType::Ethernet));
        assert_eq!(iface.snaplen, 96);
        assert_eq!(iface.resolution, Resolution::Decimal(9));
        assert_eq!(iface.offset_ns, 10_000_000_000);
        // an option running past the body is refused, not read out of bounds
        let mut bad = vec![1, 0, 0, 0, 96, 0, 0, 0];
        bad.extend_from_slice(&[9, 0, 200, 0, 9]);
        assert!(Interface::parse(Endian::Little, &bad).is_none());
    }
}
