//! The rows aggregation produces: one type per stored table (DESIGN §3).

use std::fmt;
use std::net::IpAddr;

use kansoku_classify::{RuleId, SignatureId, write_port_key};

/// One row of the `observations` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservationRow {
    pub bin_start_ns: i64,
    pub proto: u8,
    /// TCP/UDP destination port; ICMP/ICMPv6 `type * 256 + code`; 0 for other protocols.
    pub dst_port: u16,
    pub signature: SignatureId,
    pub packets: u64,
    pub bytes: u64,
    /// Distinct sources, exact within this row.
    pub sources: u64,
    /// Apache DataSketches HLL (lg_k 12, HLL_4) of the sources' text form.
    pub sources_hll: Vec<u8>,
    /// Distinct destinations, exact within this row.
    pub destinations: u64,
}

/// One row of the `sources` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    pub hour_ns: i64,
    pub src: IpAddr,
    /// The signature of the packets this row counts.
    pub signature: SignatureId,
    /// The source's label at the end of this hour: the signature of its latest packet. A
    /// source whose label became more certain has rows for earlier signatures too; every row
    /// of the hour carries the same label.
    pub label: SignatureId,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub packets: u64,
    pub bytes: u64,
    pub destinations: u64,
    /// Distinct (protocol, destination port) pairs.
    pub ports: u64,
    /// The most-hit ports, most packets first.
    pub top_ports: Vec<PortCount>,
    /// The rules that matched, most packets first: the evidence behind `signature` (empty
    /// for generic signatures).
    pub rules: Vec<RuleCount>,
    pub ttl_min: u8,
    pub ttl_max: u8,
    /// How new destinations followed each other.
    pub pattern: ScanPattern,
    /// Many addresses, many ports, or both.
    pub shape: ScanShape,
    /// When Threshold Random Walk declared the source a scanner (its 4th distinct
    /// destination this hour), if it did.
    pub scanner_at_ns: Option<i64>,
}

/// Order of a source's destinations within an hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanPattern {
    /// One destination.
    Single,
    /// Most new destinations a small step above the highest so far (Blaster, Welchia).
    Sequential,
    /// Most new destinations anywhere (Slammer, Mirai, ZMap's permutation).
    Random,
}

/// Horizontal (one port, many addresses), vertical (one address, many ports) or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanShape {
    Single,
    Horizontal,
    Vertical,
    Both,
}

impl ScanPattern {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanPattern::Single => "single",
            ScanPattern::Sequential => "sequential",
            ScanPattern::Random => "random",
        }
    }
}

impl ScanShape {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanShape::Single => "single",
            ScanShape::Horizontal => "horizontal",
            ScanShape::Vertical => "vertical",
            ScanShape::Both => "both",
        }
    }
}

/// Packets of one source that one rule matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: RuleId,
    pub packets: u64,
}

/// Packets one source sent to one (protocol, port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortCount {
    pub proto: u8,
    pub port: u16,
    pub packets: u64,
}

impl PortCount {
    /// From the `proto << 16 | port` packing used on the hot path.
    pub(crate) fn new(packed: u32, packets: u64) -> Self {
        Self {
            proto: (packed >> 16) as u8,
            port: packed as u16,
            packets,
        }
    }
}

impl fmt::Display for PortCount {
    /// `tcp/135`, `udp/1434`, `icmp/8.0` (type.code), `proto-47`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", PortName(self.proto, self.port))
    }
}

/// A (protocol, port) pair in the form operators write it: `tcp/135`, `icmp/8.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortName(pub u8, pub u16);

impl fmt::Display for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PortName(proto, port) = *self;
        match proto {
            6 => write!(f, "tcp/{port}"),
            17 => write!(f, "udp/{port}"),
            1 => write!(f, "icmp/{}.{}", port >> 8, port & 0xff),
            58 => write!(f, "icmp6/{}.{}", port >> 8, port & 0xff),
            p => write!(f, "proto-{p}"),
        }
    }
}

impl PortName {
    /// Append the displayed text to `out`, without `fmt`: the store writes a few per source
    /// row.
    pub fn write_to(self, out: &mut String) {
        let PortName(proto, port) = self;
        let (name, icmp) = match proto {
            6 => ("tcp/", false),
            17 => ("udp/", false),
            1 => ("icmp/", true),
            58 => ("icmp6/", true),
            p => {
                out.push_str("proto-");
                out.push_str(itoa::Buffer::new().format(p));
                return;
            }
        };
        out.push_str(name);
        write_port_key(port, icmp, out);
    }
}

/// Parses what [`PortName`] displays: `tcp/135`, `udp/1434`, `icmp/8.0` (type.code; a bare
/// type means code 0), `icmp6/128.0`, as operators type them.
impl std::str::FromStr for PortName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a port like tcp/135, udp/1434 or icmp/8.0");
        let (proto, port) = text.split_once('/').ok_or_else(bad)?;
        let proto = match proto {
            "tcp" => 6,
            "udp" => 17,
            "icmp" => 1,
            "icmp6" => 58,
            _ => return Err(bad()),
        };
        let port = if proto == 1 || proto == 58 {
            let (t, c) = port.split_once('.').unwrap_or((port, "0"));
            let (t, c): (u8, u8) = (t.parse().map_err(|_| bad())?, c.parse().map_err(|_| bad())?);
            u16::from_be_bytes([t, c])
        } else {
            port.parse().map_err(|_| bad())?
        };
        Ok(PortName(proto, port))
    }
}

/// IANA protocol number to the name reports use.
pub fn proto_name(proto: u8) -> String {
    match proto {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmp6".into(),
        p => format!("proto-{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::PortName;

    #[test]
    fn port_names_parse_as_operators_write_them_and_round_trip() {
        for (text, name) in [
            ("tcp/135", PortName(6, 135)),
            ("udp/1434", PortName(17, 1434)),
            ("icmp/8.0", PortName(1, 0x0800)),
            ("icmp6/128.0", PortName(58, 0x8000)),
        ] {
            assert_eq!(text.parse::<PortName>(), Ok(name));
            assert_eq!(name.to_string(), text);
        }
        assert_eq!("icmp/8".parse::<PortName>(), Ok(PortName(1, 0x0800)));
        for bad in ["tcp/99999", "sctp/1", "135", "icmp/300.0", "tcp/"] {
            assert!(bad.parse::<PortName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn written_port_names_match_display() {
        let mut text = String::new();
        for proto in [6, 17, 1, 58, 0, 47, 255] {
            for port in 0..=u16::MAX {
                let name = PortName(proto, port);
                text.clear();
                name.write_to(&mut text);
                assert_eq!(text, name.to_string());
            }
        }
    }
}
