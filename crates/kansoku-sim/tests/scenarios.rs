//! Each signature scenario carries its header fingerprint on every packet of its class, and
//! the mixed scenario labels every source so that no fingerprint fires on another class.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Pkt, classes, decode, read_pcap, run};
use etherparse::TransportSlice;
use kansoku_sim::{Config, Scenario, TRUTH_CLASSES, Truth, research_scanner_networks};

const WINDOWS_SYN: [u8; 8] = [0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02];

fn config(scenario: Scenario, seed: u64, scale: f64) -> Config {
    Config {
        scenario,
        seed,
        days: 1,
        scale,
        ..Config::default()
    }
}

/// Runs a scenario and calls `check` on every decoded packet with its source's class.
fn each_packet(config: &Config, mut check: impl FnMut(&str, &Pkt<'_>)) -> Truth {
    let (bytes, _, truth) = run(config);
    let class = classes(&truth);
    for f in &read_pcap(&bytes) {
        let p = decode(f);
        check(class[&p.src].as_str(), &p);
    }
    truth
}

fn masscan_relation(p: &Pkt<'_>, dport: u16, seq: u32) -> bool {
    p.ip_id == (p.dst ^ u32::from(dport) ^ seq) as u16
}

/// Splits one source's packets into scans at pauses of more than an hour.
fn scans(packets: &[(u64, u32, u16)]) -> Vec<&[(u64, u32, u16)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=packets.len() {
        if i == packets.len() || packets[i].0 - packets[i - 1].0 > 3_600_000_000 {
            out.push(&packets[start..i]);
            start = i;
        }
    }
    out
}

#[test]
fn slammer_datagrams_are_404_bytes_with_placeholder_payload() {
    let filler = b"kansoku-sim slammer placeholder ";
    let mut expected = vec![0x04u8];
    expected.extend(filler.iter().cycle().take(375));
    let mut sports: BTreeMap<u32, BTreeSet<u16>> = BTreeMap::new();
    let mut n = 0;
    let mut first_hour = 0;
    each_packet(&config(Scenario::Slammer2003, 9, 0.05), |class, p| {
        let udp_1434 =
            matches!(&p.transport, TransportSlice::Udp(u) if u.destination_port() == 1434);
        if class != "slammer" {
            assert!(!udp_1434, "only slammer sends to UDP 1434");
            return;
        }
        let TransportSlice::Udp(u) = &p.transport else {
            panic!("slammer sends only UDP")
        };
        n += 1;
        first_hour += usize::from(p.ts < (common::START + 3600) * 1_000_000);
        assert!(udp_1434);
        assert_eq!(p.ip_len, 404);
        assert_eq!(u.payload().len(), 376);
        assert_eq!(
            u.payload(),
            &expected[..],
            "only the benign placeholder follows 0x04"
        );
        assert!((100..=128).contains(&p.ttl) && !p.df);
        sports.entry(p.src).or_default().insert(u.source_port());
    });
    assert!(n > 1000, "{n}");
    assert!(first_hour > 0);
    assert!(sports.values().all(|s| s.len() == 1), "one socket per host");
    assert!(sports.len() >= 5);
}

/// Checks the Windows 445 SYNs of `class` and returns (packets, dsts with last octet >= 128,
/// SYN attempts, attempts sent three times).
fn windows_445(scenario: Scenario, class_name: &str) -> (usize, usize, usize, usize) {
    let cfg = config(scenario, 13, 0.1);
    let end = (common::START + 86_400) * 1_000_000;
    let mut attempts: BTreeMap<(u32, u16, u32), Vec<u64>> = BTreeMap::new();
    let (mut n, mut high) = (0, 0);
    each_packet(&cfg, |class, p| {
        let TransportSlice::Tcp(t) = &p.transport else {
            assert_ne!(class, class_name, "only TCP");
            return;
        };
        let windows_445 = t.destination_port() == 445 && t.options() == WINDOWS_SYN;
        if class != class_name {
            assert!(!windows_445, "{class} looks like {class_name}");
            return;
        }
        n += 1;
        assert!(windows_445);
        assert!(t.syn() && !t.ack() && t.payload().is_empty());
        assert!(p.df && (100..=128).contains(&p.ttl));
        assert!([64_240, 65_535].contains(&t.window_size()));
        assert!((1025..=5000).contains(&t.source_port()));
        high += usize::from(p.dst & 0xff >= 128);
        let key = (p.src, t.source_port(), t.sequence_number());
        attempts.entry(key).or_default().push(p.ts);
    });
    let complete = attempts
        .values()
        .filter(|ts| {
            ts.len() == 3
                && ts[1].abs_diff(ts[0] + 3_000_000) <= 20_000
                && ts[2].abs_diff(ts[0] + 9_000_000) <= 20_000
        })
        .count();
    // Attempts cut short by the end of the capture are the only incomplete ones.
    let cut = attempts
        .values()
        .filter(|ts| ts[0] + 9_000_000 >= end)
        .count();
    assert!(
        complete + cut >= attempts.len(),
        "{complete} + {cut} of {}",
        attempts.len()
    );
    (n, high, attempts.len(), complete)
}

#[test]
fn sasser_syns_hit_445_everywhere() {
    let (n, high, attempts, complete) = windows_445(Scenario::Sasser2004, "sasser");
    assert!(n > 1000, "{n}");
    assert!(
        high * 4 > n,
        "uniform destinations: {high} of {n} in the upper half"
    );
    assert!(complete * 10 > attempts * 9);
}

#[test]
fn conficker_never_probes_a_last_octet_above_127() {
    let (n, high, attempts, complete) = windows_445(Scenario::Conficker2008, "conficker");
    assert!(n > 1000, "{n}");
    assert_eq!(high, 0);
    assert!(complete * 10 > attempts * 9);
}

#[test]
fn mirai_sequence_numbers_are_destinations() {
    let mut ports: BTreeMap<u16, usize> = BTreeMap::new();
    let mut per_bot: BTreeMap<u32, BTreeSet<(u16, u16)>> = BTreeMap::new();
    each_packet(&config(Scenario::Mirai2016, 17, 0.1), |class, p| {
        let TransportSlice::Tcp(t) = &p.transport else {
            assert_ne!(class, "mirai");
            return;
        };
        let seq_is_dst = t.sequence_number() == p.dst;
        if class != "mirai" {
            assert!(!seq_is_dst, "{class} has seq == dst");
            return;
        }
        assert!(seq_is_dst);
        assert!(t.syn() && !t.ack() && t.options().is_empty() && t.payload().is_empty());
        assert!(p.ttl <= 64 && !p.df);
        assert!(t.source_port() >= 1024);
        *ports.entry(t.destination_port()).or_default() += 1;
        per_bot
            .entry(p.src)
            .or_default()
            .insert((t.source_port(), t.window_size()));
    });
    assert_eq!(ports.keys().copied().collect::<Vec<_>>(), [23, 2323]);
    let n: usize = ports.values().sum();
    assert!(n > 1000, "{n}");
    let share = ports[&2323] as f64 / n as f64;
    assert!((0.07..0.13).contains(&share), "2323 share {share}");
    assert!(
        per_bot.values().all(|s| s.len() == 1),
        "port and window fixed per bot"
    );
}

#[test]
fn zmap_scans_visit_each_address_once_with_ip_id_54321() {
    let mut per_source: BTreeMap<u32, Vec<(u64, u32, u16)>> = BTreeMap::new();
    let truth = each_packet(&config(Scenario::Zmap, 19, 0.5), |class, p| {
        let TransportSlice::Tcp(t) = &p.transport else {
            assert_ne!(class, "zmap");
            return;
        };
        if class != "zmap" {
            assert_ne!(p.ip_id, 54_321, "{class} uses ZMap's IP ID");
            return;
        }
        assert_eq!(p.ip_id, 54_321);
        assert_eq!(t.window_size(), 65_535);
        assert!(t.syn() && t.options().is_empty() && t.payload().is_empty());
        per_source
            .entry(p.src)
            .or_default()
            .push((p.ts, p.dst, t.destination_port()));
    });
    let mut scanned = 0;
    for packets in per_source.values().filter(|v| v.len() > 1000) {
        for scan in scans(packets) {
            let dsts: BTreeSet<u32> = scan.iter().map(|x| x.1).collect();
            assert_eq!(dsts.len(), scan.len(), "an address twice in one scan");
            let ports: BTreeSet<u16> = scan.iter().map(|x| x.2).collect();
            assert_eq!(ports.len(), 1, "one port per scan");
            scanned += scan.len();
        }
    }
    assert!(scanned > 1000, "{scanned}");
    // Research sources: inside the listed networks, and only ZMap there.
    assert_eq!(truth.research_networks, research_scanner_networks());
    let in_research = |src: &str| {
        let a: std::net::Ipv4Addr = src.parse().unwrap();
        truth.research_networks.iter().any(|n| {
            let base: std::net::Ipv4Addr = n.trim_end_matches("/24").parse().unwrap();
            u32::from(a) >> 8 == u32::from(base) >> 8
        })
    };
    let research: Vec<_> = truth
        .sources
        .iter()
        .filter(|s| in_research(&s.src))
        .collect();
    assert!(!research.is_empty());
    assert!(research.iter().all(|s| s.class == "zmap"));
}

#[test]
fn masscan_ip_ids_follow_the_relation() {
    let mut per_source: BTreeMap<u32, Vec<(u64, u32, u16)>> = BTreeMap::new();
    each_packet(&config(Scenario::Masscan, 23, 0.5), |class, p| {
        let TransportSlice::Tcp(t) = &p.transport else {
            assert_ne!(class, "masscan");
            return;
        };
        let relation = masscan_relation(p, t.destination_port(), t.sequence_number());
        if class != "masscan" {
            assert!(
                !(relation && t.window_size() == 1024),
                "{class} looks like Masscan"
            );
            return;
        }
        assert!(relation);
        assert_eq!(t.window_size(), 1024);
        assert!(t.syn() && t.options().is_empty() && t.payload().is_empty());
        per_source
            .entry(p.src)
            .or_default()
            .push((p.ts, p.dst, t.destination_port()));
    });
    let (mut scanned, mut multi_port) = (0, 0);
    for packets in per_source.values().filter(|v| v.len() > 500) {
        for scan in scans(packets) {
            let pairs: BTreeSet<(u32, u16)> = scan.iter().map(|x| (x.1, x.2)).collect();
            assert_eq!(pairs.len(), scan.len(), "a target twice in one scan");
            let ports: BTreeSet<u16> = scan.iter().map(|x| x.2).collect();
            multi_port += usize::from(ports.len() > 1);
            scanned += scan.len();
        }
    }
    assert!(scanned > 1000, "{scanned}");
    assert!(multi_port > 0, "some scans cover several ports");
}

/// Which classes a packet's header fingerprints point to (several for shared ones).
fn fingerprints(p: &Pkt<'_>) -> Vec<&'static str> {
    let mut out = Vec::new();
    match &p.transport {
        TransportSlice::Udp(u)
            if u.destination_port() == 1434 && u.payload().len() == 376 && u.payload()[0] == 4 =>
        {
            out.push("slammer");
        }
        TransportSlice::Icmpv4(i)
            if i.type_u8() == 8 && p.ip_len == 92 && i.payload() == [0xaa; 64] =>
        {
            out.push("welchia");
        }
        TransportSlice::Tcp(t) if t.syn() && !t.ack() => {
            let (dport, seq) = (t.destination_port(), t.sequence_number());
            if seq == p.dst && (dport == 23 || dport == 2323) && t.options().is_empty() {
                out.push("mirai");
            }
            if p.ip_id == 54_321 && t.window_size() == 65_535 && t.options().is_empty() {
                out.push("zmap");
            }
            if masscan_relation(p, dport, seq) && t.window_size() == 1024 {
                out.push("masscan");
            }
            if t.options() == WINDOWS_SYN && dport == 135 {
                out.push("blaster");
            }
            if t.options() == WINDOWS_SYN && dport == 445 {
                out.push("sasser");
                out.push("conficker");
            }
        }
        _ => {}
    }
    out
}

#[test]
fn mixed_darknet_labels_every_source_and_fingerprints_agree() {
    let cfg = config(Scenario::MixedDarknet, 29, 0.1);
    let (bytes, summary, truth) = run(&cfg);
    let kinds: BTreeSet<&str> = truth.sources.iter().map(|s| s.class.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(TRUTH_CLASSES));
    let class = classes(&truth);
    assert_eq!(
        class.len(),
        truth.sources.len(),
        "each source has one class"
    );
    let mut per_source: BTreeMap<u32, u64> = BTreeMap::new();
    let mut fingerprinted: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &read_pcap(&bytes) {
        let p = decode(f);
        *per_source.entry(p.src).or_default() += 1;
        let c = class[&p.src].as_str();
        let prints = fingerprints(&p);
        if !prints.is_empty() {
            assert!(prints.contains(&c), "{c} packet matches {prints:?}");
            *fingerprinted.entry(c).or_default() += 1;
        }
    }
    for s in &truth.sources {
        let a = u32::from(s.src.parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(per_source[&a], s.packets, "{}", s.src);
    }
    assert_eq!(per_source.values().sum::<u64>(), summary.packets);
    // Every signature class is recognisable from its headers.
    for c in [
        "slammer",
        "welchia",
        "mirai",
        "zmap",
        "masscan",
        "blaster",
        "sasser",
        "conficker",
    ] {
        assert!(
            fingerprinted.get(c).is_some_and(|&n| n > 0),
            "{c}: {fingerprinted:?}"
        );
    }
    // Same config, same bytes and truth.
    let (again, _, truth_again) = run(&cfg);
    assert!(bytes == again);
    assert_eq!(truth, truth_again);
}

/// The truth's population counts every infected host, including those a small telescope
/// never saw, hour by hour, and only outbreaks have one.
#[test]
fn population_truth_counts_hosts_the_telescope_missed() {
    let small = Config {
        telescope: ([198, 18, 0, 0], 22),
        ..config(Scenario::Conficker2008, 5, 0.3)
    };
    let (_, _, truth) = run(&small);
    let seen = truth
        .sources
        .iter()
        .filter(|s| s.class == "conficker")
        .count() as u64;
    let population = &truth.population["conficker"];
    assert_eq!(truth.population.len(), 1, "{:?}", truth.population.keys());
    assert!(
        population.infected_at_end > seen + seen / 10,
        "{} infected, {seen} seen",
        population.infected_at_end
    );
    assert_eq!(population.hourly.len(), 24);
    assert!(population.hourly.windows(2).all(|w| w[0].1 <= w[1].1));
    assert_eq!(population.hourly[23].1, population.infected_at_end);
    assert_eq!(population.hourly[0].0, truth.start);
    // Every host is infected by the time it is first seen.
    let first_hour_seen = truth
        .sources
        .iter()
        .filter(|s| s.class == "conficker" && s.first_seen < population.hourly[1].0)
        .count() as u64;
    assert!(first_hour_seen <= population.hourly[0].1);

    let (_, _, zmap) = run(&config(Scenario::Zmap, 5, 0.3));
    assert!(zmap.population.is_empty());
}
