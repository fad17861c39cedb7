//! Test only: a minimal MaxMind DB writer (format 2.0, IPv4 tree, 24-bit records), enough to
//! build a GeoLite2-ASN-shaped database in a test instead of shipping or downloading one.
//! Spec: https://maxmind.github.io/MaxMind-DB/ (search tree, data section, metadata).

use std::net::Ipv4Addr;

/// Data section field types (spec, "Output Data Section").
const STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

/// A control byte (type, size) and the extended-type and size bytes that follow it.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push(kind << 5 | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, STRING, s.len());
    out.extend(s.as_bytes());
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend(&bytes[skip..]);
}

/// `{autonomous_system_number, autonomous_system_organization}`, as GeoLite2-ASN stores it.
fn asn_record(asn: u32, org: &str) -> Vec<u8> {
    let mut out = Vec::new();
    control(&mut out, MAP, 2);
    string(&mut out, "autonomous_system_number");
    uint(&mut out, UINT32, u64::from(asn));
    string(&mut out, "autonomous_system_organization");
    string(&mut out, org);
    out
}

/// What a tree record points to while building.
#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// The IPv4 database mapping each (network, length) to (ASN, organization); a longer network
/// inside a shorter one overrides it, as in the real databases.
pub fn asn_database(networks: &[(Ipv4Addr, u8, u32, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for &(_, _, asn, org) in networks {
        offsets.push(data.len());
        data.extend(asn_record(asn, org));
    }
    let nets: Vec<(u32, u8, usize)> = networks
        .iter()
        .enumerate()
        .map(|(i, &(net, len, ..))| (u32::from(net), len, offsets[i]))
        .collect();
    // The record for the range of `depth` leading bits `bits`: data of the longest network
    // covering the whole range, unless a longer network lies inside (then a node).
    let mut nodes: Vec<[Record; 2]> = Vec::new();
    fn covers(net: u32, len: u8, bits: u32, depth: u8) -> bool {
        let mask = |l: u8| u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0);
        len <= depth && bits & mask(len) == net
    }
    fn inside(net: u32, len: u8, bits: u32, depth: u8) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(depth)).unwrap_or(0);
        len > depth && net & mask == bits
    }
    fn build(
        nets: &[(u32, u8, usize)],
        nodes: &mut Vec<[Record; 2]>,
        bits: u32,
        depth: u8,
    ) -> usize {
        let index = nodes.len();
        nodes.push([Record::Empty; 2]);
        for bit in 0..2u32 {
            let child = bits | bit << (31 - u32::from(depth));
            let d = depth + 1;
            let record = if nets.iter().any(|&(n, l, _)| inside(n, l, child, d)) {
                Record::Node(build(nets, nodes, child, d))
            } else {
                nets.iter()
                    .filter(|&&(n, l, _)| covers(n, l, child, d))
                    .max_by_key(|&&(_, l, _)| l)
                    .map_or(Record::Empty, |&(_, _, offset)| Record::Data(offset))
            };
            nodes[index][bit as usize] = record;
        }
        index
    }
    build(&nets, &mut nodes, 0, 0);

    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(i) => i,
                Record::Data(offset) => node_count + 16 + offset,
            };
            out.extend(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xab\xcd\xefMaxMind.com");
    control(&mut out, MAP, 9);
    string(&mut out, "binary_format_major_version");
    uint(&mut out, UINT16, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, UINT16, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, UINT64, 1_060_560_000);
    string(&mut out, "database_type");
    string(&mut out, "GeoLite2-ASN");
    string(&mut out, "description");
    control(&mut out, MAP, 1);
    string(&mut out, "en");
    string(&mut out, "kansoku test ASN database");
    string(&mut out, "ip_version");
    uint(&mut out, UINT16, 4);
    string(&mut out, "languages");
    control(&mut out, ARRAY, 1);
    string(&mut out, "en");
    string(&mut out, "node_count");
    uint(&mut out, UINT32, node_count as u64);
    string(&mut out, "record_size");
    uint(&mut out, UINT16, 24);
    out
}
