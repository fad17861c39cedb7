//! Differential test against etherparse over the shared pcap corpus.
//!
//! Compared: source and destination address, transport kind and ports (ICMP
//! type and code), for every frame etherparse slices completely. Allowed,
//! documented differences:
//! - etherparse does not slice the transport of any fragment; we decode
//!   first fragments (they carry the ports) and mark later ones `Other`.
//! - etherparse also decodes IGMP and IPv4 AH; we report those `Other`.
//! - `SlicedPacket` rejects snaplen-cut frames, which we decode on purpose;
//!   those are compared with etherparse's `LaxSlicedPacket` instead, on what
//!   it could slice. Frames we reject that etherparse accepts only partly are
//!   counted.

use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

use super::*;

/// This crate's directory, read at run time: cargo sets `CARGO_MANIFEST_DIR` when it runs a
/// test, and a build cache shared between checkouts (as `.ci/run` uses) can hold a test binary
/// compiled in another checkout, whose compile-time path may be gone.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

#[derive(Debug, PartialEq, Eq)]
enum L4 {
    Tcp(u16, u16),
    Udp(u16, u16),
    Icmp(u8, u8),
    Other,
}

#[derive(Default, Debug)]
struct Stats {
    frames: usize,
    compared: usize,
    not_ip_both: usize,
    fragments: usize,
    only_ours: usize,
    lax_compared: usize,
    only_theirs: usize,
    unsupported_link: usize,
}

fn theirs(link: LinkType, frame: &[u8]) -> Option<SlicedPacket<'_>> {
    let r = match link {
        LinkType::Ethernet => SlicedPacket::from_ethernet(frame),
        LinkType::LinuxSll => SlicedPacket::from_linux_sll(frame),
        LinkType::LinuxSll2 => {
            let (hdr, rest) = frame.split_first_chunk::<20>()?;
            SlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([hdr[0], hdr[1]])), rest)
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => SlicedPacket::from_ip(frame),
        LinkType::Null | LinkType::Loop => SlicedPacket::from_ip(frame.get(4..)?),
    };
    r.ok()
}

fn theirs_lax(link: LinkType, frame: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    let ether = |off: usize| {
        let t = frame.get(off..off + 2)?;
        Some(LaxSlicedPacket::from_ether_type(
            EtherType(u16::from_be_bytes([t[0], t[1]])),
            frame.get(off + 2..)?,
        ))
    };
    match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(frame).ok(),
        LinkType::LinuxSll => ether(14),
        LinkType::LinuxSll2 => {
            let (hdr, rest) = frame.split_first_chunk::<20>()?;
            Some(LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([hdr[0], hdr[1]])),
                rest,
            ))
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => LaxSlicedPacket::from_ip(frame).ok(),
        LinkType::Null | LinkType::Loop => LaxSlicedPacket::from_ip(frame.get(4..)?).ok(),
    }
}

fn l4(t: &Option<TransportSlice<'_>>) -> Option<L4> {
    Some(match t.as_ref()? {
        TransportSlice::Tcp(t) => L4::Tcp(t.source_port(), t.destination_port()),
        TransportSlice::Udp(u) => L4::Udp(u.source_port(), u.destination_port()),
        TransportSlice::Icmpv4(i) => L4::Icmp(i.type_u8(), i.code_u8()),
        TransportSlice::Icmpv6(i) => L4::Icmp(i.type_u8(), i.code_u8()),
        _ => L4::Other,
    })
}

fn ours_l4(t: &Transport<'_>) -> L4 {
    match t {
        Transport::Tcp(t) => L4::Tcp(t.src_port(), t.dst_port()),
        Transport::Udp(u) => L4::Udp(u.src_port(), u.dst_port()),
        Transport::Icmp(i) => L4::Icmp(i.kind(), i.code()),
        Transport::Other => L4::Other,
    }
}

/// A frame the strict slicer rejected but we decoded: compare with the lax
/// slicer on whatever it managed to slice.
fn compare_lax(
    file: &Path,
    index: usize,
    link: LinkType,
    frame: &[u8],
    p: &Packet<'_>,
    st: &mut Stats,
    bad: &mut Vec<String>,
) {
    let Some(s) = theirs_lax(link, frame) else {
        return;
    };
    let (src, dst, fragmented) = match &s.net {
        Some(LaxNetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.is_payload_fragmented(),
        ),
        Some(LaxNetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.is_payload_fragmented(),
        ),
        _ => return,
    };
    if (p.src, p.dst) != (src, dst) {
        bad.push(format!(
            "{}#{index}: addresses {:?} vs lax etherparse {:?}",
            file.display(),
            (p.src, p.dst),
            (src, dst)
        ));
        return;
    }
    if let (false, Some(want)) = (fragmented, l4(&s.transport)) {
        let got = ours_l4(&p.transport);
        if got != want && want != L4::Other {
            bad.push(format!(
                "{}#{index}: {got:?} vs lax etherparse {want:?}",
                file.display()
            ));
            return;
        }
    }
    st.lax_compared += 1;
}

fn compare(
    file: &Path,
    index: usize,
    link: LinkType,
    frame: &[u8],
    st: &mut Stats,
    bad: &mut Vec<String>,
) {
    st.frames += 1;
    let ours = decode(link, frame);
    let Some(s) = theirs(link, frame) else {
        if let Ok(Decoded::Ip(p)) = &ours {
            st.only_ours += 1;
            compare_lax(file, index, link, frame, p, st, bad);
        }
        return;
    };
    let (src, dst, fragmented) = match &s.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.is_payload_fragmented(),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.is_payload_fragmented(),
        ),
        _ => {
            match ours {
                Ok(Decoded::NotIp { .. }) => st.not_ip_both += 1,
                // etherparse gives up on links it does not know (e.g. > 3 VLAN tags).
                _ => st.only_ours += 1,
            }
            return;
        }
    };
    let p = match ours {
        Ok(Decoded::Ip(p)) => p,
        other => {
            if s.transport.is_some() {
                bad.push(format!(
                    "{}#{index}: etherparse decodes fully, we say {other:?}",
                    file.display()
                ));
            } else {
                st.only_theirs += 1;
            }
            return;
        }
    };
    if (p.src, p.dst) != (src, dst) {
        bad.push(format!(
            "{}#{index}: addresses {:?} vs etherparse {:?}",
            file.display(),
            (p.src, p.dst),
            (src, dst)
        ));
        return;
    }
    let want = l4(&s.transport).unwrap_or(L4::Other);
    let got = ours_l4(&p.transport);
    if fragmented {
        st.fragments += 1;
        if p.fragment == Fragment::Whole {
            bad.push(format!(
                "{}#{index}: etherparse says fragment, we say whole",
                file.display()
            ));
        }
        return;
    }
    let igmp_or_ah =
        matches!(s.transport, Some(TransportSlice::Igmp(_))) || (p.version == 4 && p.proto == 51);
    if got != want && !(igmp_or_ah && got == L4::Other) {
        bad.push(format!(
            "{}#{index}: {got:?} vs etherparse {want:?}",
            file.display()
        ));
        return;
    }
    st.compared += 1;
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng" | "cap" | "trace")
        ) {
            out.push(p);
        }
    }
}

fn check_file(path: &Path, st: &mut Stats, bad: &mut Vec<String>) {
    let Ok(file) = File::open(path) else { return };
    let mut reader = match create_reader(1 << 20, file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: not pcap/pcapng ({e:?}), skipped", path.display());
            return;
        }
    };
    let mut legacy: Option<i32> = None;
    let mut interfaces: Vec<i32> = Vec::new();
    let mut index = 0usize;
    let mut stalls = 0;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalls = 0;
                let frame = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = Some(h.network.0);
                        None
                    }
                    PcapBlockOwned::Legacy(b) => legacy.map(|l| (l, b.data)),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(idb.linktype.0);
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => interfaces
                        .get(epb.if_id as usize)
                        .map(|l| (*l, epb.data.get(..epb.caplen as usize).unwrap_or(epb.data))),
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => interfaces
                        .first()
                        .map(|l| (*l, spb.data.get(..spb.origlen as usize).unwrap_or(spb.data))),
                    _ => None,
                };
                if let Some((code, data)) = frame {
                    match u32::try_from(code).ok().and_then(LinkType::from_linktype) {
                        Some(link) => compare(path, index, link, data, st, bad),
                        None => st.unsupported_link += 1,
                    }
                    index += 1;
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                stalls += 1;
                if stalls > 3 || reader.refill().is_err() {
                    eprintln!("{}: truncated capture after frame {index}", path.display());
                    break;
                }
            }
            Err(e) => {
                eprintln!("{}: stopped at frame {index}: {e:?}", path.display());
                break;
            }
        }
    }
}

#[test]
fn agrees_with_etherparse_on_testdata() {
    let dir = &crate_dir().join("../../../shared/testdata");
    if !dir.is_dir() {
        eprintln!(
            "skipping: ../shared/testdata not present ({})",
            dir.display()
        );
        return;
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let (mut st, mut bad) = (Stats::default(), Vec::new());
    for f in &files {
        check_file(f, &mut st, &mut bad);
    }
    eprintln!("{} files: {st:?}", files.len());
    for m in bad.iter().take(50) {
        eprintln!("MISMATCH {m}");
    }
    assert!(bad.is_empty(), "{} mismatches with etherparse", bad.len());
    assert!(st.compared > 0 || files.is_empty());
}
