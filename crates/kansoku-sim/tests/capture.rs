//! End-to-end checks of simulated captures, decoded with independent parsers
//! (pcap-parser for the container, etherparse for the frames).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{DAY_US, START, TELESCOPE, classes, decode, internet_checksum, read_pcap, run, small};
use etherparse::TransportSlice;
use kansoku_sim::{Config, Scenario, TRUTH_CLASSES, Truth};

/// The class a scenario adds to the background (the mixed scenario adds all of them).
fn outbreak_class(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Blaster2003 | Scenario::MixedDarknet => "blaster",
        Scenario::Welchia2003 => "welchia",
        Scenario::Slammer2003 => "slammer",
        Scenario::Sasser2004 => "sasser",
        Scenario::Conficker2008 => "conficker",
        Scenario::Mirai2016 => "mirai",
        Scenario::Zmap => "zmap",
        Scenario::Masscan => "masscan",
    }
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    for scenario in Scenario::ALL {
        let (a, sa, ta) = run(&small(*scenario, 7));
        let (b, sb, tb) = run(&small(*scenario, 7));
        assert!(a == b, "{scenario}: same seed must give identical bytes");
        assert_eq!(sa, sb);
        assert_eq!(ta, tb);
        let (c, _, _) = run(&small(*scenario, 8));
        assert!(a != c, "{scenario}: different seeds must differ");
    }
}

#[test]
fn capture_decodes_and_matches_truth() {
    for scenario in Scenario::ALL {
        let config = small(*scenario, 3);
        let (bytes, summary, truth) = run(&config);
        let frames = read_pcap(&bytes);
        assert_eq!(frames.len() as u64, summary.packets);
        let truth_total: u64 = truth.sources.iter().map(|s| s.packets).sum();
        assert_eq!(truth_total, summary.packets);
        assert_eq!(truth.sources.len(), summary.sources);
        assert_eq!(truth.telescope, "198.18.0.0/16");
        assert_eq!(truth.start, "2003-08-11T00:00:00Z");
        assert_eq!(truth.scenario, scenario.name());
        assert!(summary.packets > 1000, "{scenario}: {summary:?}");

        let class = classes(&truth);
        assert_eq!(
            class.len(),
            truth.sources.len(),
            "source addresses are unique"
        );
        let mut per_source: BTreeMap<u32, u64> = BTreeMap::new();
        let mut first_seen: BTreeMap<u32, u64> = BTreeMap::new();
        let mut last = 0;
        for f in &frames {
            let p = decode(f);
            assert!(p.ts >= last, "timestamps must not decrease");
            last = p.ts;
            assert!(p.ts >= START * 1_000_000 && p.ts < START * 1_000_000 + DAY_US);
            assert_eq!(
                p.dst >> 16,
                TELESCOPE >> 16,
                "destination inside the telescope"
            );
            assert_ne!(p.src >> 16, TELESCOPE >> 16);
            assert!(class.contains_key(&p.src), "source missing from truth");
            *per_source.entry(p.src).or_default() += 1;
            first_seen.entry(p.src).or_insert(p.ts);
        }
        assert_eq!(summary.first_ts, frames[0].ts);
        assert_eq!(summary.last_ts, last);
        for s in &truth.sources {
            let a = u32::from(s.src.parse::<std::net::Ipv4Addr>().unwrap());
            assert_eq!(per_source[&a], s.packets, "{}", s.src);
            assert_eq!(s.hourly.iter().map(|h| h.1).sum::<u64>(), s.packets);
            assert!(s.hourly.iter().all(|h| h.1 > 0));
            let us = first_seen[&a] % 1_000_000;
            assert!(
                s.first_seen.ends_with(&format!(".{us:06}Z")),
                "{}",
                s.first_seen
            );
        }
        let kinds: BTreeSet<&str> = truth.sources.iter().map(|s| s.class.as_str()).collect();
        assert!(kinds.iter().all(|k| TRUTH_CLASSES.contains(k)), "{kinds:?}");
        for k in [
            "backscatter",
            "scan",
            "udp-noise",
            outbreak_class(*scenario),
        ] {
            assert!(kinds.contains(k), "{scenario}: no {k} in {kinds:?}");
        }
        assert_eq!(
            truth.research_networks,
            kansoku_sim::research_scanner_networks()
        );
        // The truth serialises and reads back.
        let json = serde_json::to_string(&truth).unwrap();
        assert_eq!(serde_json::from_str::<Truth>(&json).unwrap(), truth);
    }
}

#[test]
fn blaster_syns_look_like_windows_and_retransmit() {
    let (bytes, _, truth) = run(&small(Scenario::Blaster2003, 11));
    let class = classes(&truth);
    let frames = read_pcap(&bytes);
    // (src, sport, seq) -> [(ts, ip_id)]
    let mut attempts: BTreeMap<(u32, u16, u32), Vec<(u64, u16)>> = BTreeMap::new();
    // src -> destinations of first attempts, in time order
    let mut walks: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut blaster_packets = 0;
    for f in &frames {
        let p = decode(f);
        let is_blaster = class[&p.src] == "blaster";
        let TransportSlice::Tcp(t) = &p.transport else {
            assert!(!is_blaster, "blaster sends only TCP");
            continue;
        };
        if t.destination_port() == 135 {
            assert!(is_blaster, "only blaster targets 135 in this scenario");
        }
        if !is_blaster {
            continue;
        }
        blaster_packets += 1;
        assert_eq!(t.destination_port(), 135);
        assert!(t.syn() && !t.ack() && !t.rst());
        assert_eq!(
            t.options(),
            &[0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02]
        );
        assert!(t.payload().is_empty());
        assert!(p.df, "DF set");
        assert!((100..=128).contains(&p.ttl), "TTL {}", p.ttl);
        assert!([64_240, 65_535].contains(&t.window_size()));
        assert!((1025..=5000).contains(&t.source_port()));
        let key = (p.src, t.source_port(), t.sequence_number());
        let tries = attempts.entry(key).or_default();
        if tries.is_empty() {
            walks.entry(p.src).or_default().push(p.dst);
        }
        tries.push((p.ts, p.ip_id));
    }
    assert!(blaster_packets > 1000);

    let end = (START + 86_400) * 1_000_000;
    let mut complete = 0;
    for (key, tries) in &attempts {
        let t0 = tries[0].0;
        let expect = [t0, t0 + 3_000_000, t0 + 9_000_000];
        let present: Vec<u64> = expect.iter().copied().filter(|&t| t < end).collect();
        assert!(
            (present.len().saturating_sub(1)..=present.len()).contains(&tries.len()),
            "{key:?}: {tries:?}"
        );
        for (i, &(ts, _)) in tries.iter().enumerate() {
            let d = ts.abs_diff(expect[i]);
            assert!(d <= 20_000, "{key:?}: attempt {i} off by {d} us");
        }
        for w in tries.windows(2) {
            assert!(w[1].1.wrapping_sub(w[0].1) > 0, "IP ID increments");
        }
        complete += usize::from(tries.len() == 3);
    }
    assert!(
        complete * 10 > attempts.len() * 9,
        "most SYNs are retransmitted twice"
    );

    // Destinations advance by one address at a time within runs.
    let (mut steps, mut sequential) = (0usize, 0usize);
    for dsts in walks.values() {
        for w in dsts.windows(2) {
            steps += 1;
            sequential += usize::from(w[1] == w[0] + 1);
        }
    }
    assert!(steps > 500);
    assert!(
        sequential * 100 > steps * 85,
        "{sequential}/{steps} sequential"
    );
}

#[test]
fn welchia_pings_are_92_bytes_of_0xaa() {
    let (bytes, _, truth) = run(&small(Scenario::Welchia2003, 5));
    let class = classes(&truth);
    let (mut pings, mut steps, mut sequential) = (0, 0usize, 0usize);
    let mut last_dst: BTreeMap<u32, u32> = BTreeMap::new();
    let mut ids: BTreeSet<[u8; 4]> = BTreeSet::new();
    for f in &read_pcap(&bytes) {
        let p = decode(f);
        if class[&p.src] != "welchia" {
            if let TransportSlice::Icmpv4(i) = &p.transport {
                assert_ne!(i.type_u8(), 8, "background sends no echo requests");
            }
            continue;
        }
        let TransportSlice::Icmpv4(i) = &p.transport else {
            panic!("welchia sends only ICMP in a darknet");
        };
        pings += 1;
        assert_eq!((i.type_u8(), i.code_u8()), (8, 0));
        assert_eq!(p.ip_len, 92);
        assert_eq!(i.payload(), &[0xaa; 64]);
        assert!((100..=128).contains(&p.ttl));
        ids.insert(i.bytes5to8());
        if let Some(prev) = last_dst.insert(p.src, p.dst) {
            steps += 1;
            sequential += usize::from(p.dst == prev + 1);
        }
    }
    assert!(pings > 1000);
    assert!(ids.len() * 2 > pings, "echo id/seq vary");
    assert!(
        sequential * 100 > steps * 85,
        "{sequential}/{steps} sequential"
    );
}

#[test]
fn background_is_benign_and_well_formed() {
    let (bytes, _, truth) = run(&Config {
        seed: 21,
        days: 1,
        scale: 0.2,
        ..Config::default()
    });
    let class = classes(&truth);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for f in &read_pcap(&bytes) {
        let p = decode(f);
        match (class[&p.src].as_str(), &p.transport) {
            ("scan", TransportSlice::Tcp(t)) => {
                seen.insert("linux");
                assert!(t.syn() && !t.ack() && t.payload().is_empty());
                assert_ne!(t.destination_port(), 135);
                assert_eq!(t.options().len(), 20);
                assert!((40..=64).contains(&p.ttl));
                assert!([29_200, 64_240].contains(&t.window_size()));
                assert_eq!(&t.options()[..8], &[2, 4, 5, 0xb4, 4, 2, 8, 10]);
                assert_eq!(&t.options()[16..], &[1, 3, 3, 7]);
                // Plain scanners never carry a tool's IP ID by coincidence.
                assert_ne!(p.ip_id, 54_321);
                let id = (p.dst ^ u32::from(t.destination_port()) ^ t.sequence_number()) as u16;
                assert_ne!(p.ip_id, id);
            }
            ("zmap", TransportSlice::Tcp(t)) => {
                seen.insert("zmap");
                assert!(t.syn() && !t.ack() && t.payload().is_empty());
                assert_eq!((p.ip_id, t.window_size()), (54_321, 65_535));
                assert!(t.options().is_empty());
            }
            ("masscan", TransportSlice::Tcp(t)) => {
                seen.insert("masscan");
                assert!(t.syn() && !t.ack() && t.payload().is_empty());
                let id = (p.dst ^ u32::from(t.destination_port()) ^ t.sequence_number()) as u16;
                assert_eq!(p.ip_id, id);
                assert_eq!(t.window_size(), 1024);
                assert!(t.options().is_empty());
            }
            ("udp-noise", TransportSlice::Udp(u)) => {
                seen.insert("udp");
                assert!([53, 123, 137, 161, 1900, 5060].contains(&u.destination_port()));
                let payload = u.payload();
                assert!(payload == b"kansoku-sim udp noise" || payload.iter().all(|&b| b == 0));
            }
            ("backscatter", TransportSlice::Tcp(t)) => {
                seen.insert(if t.rst() { "rst" } else { "synack" });
                assert!(t.ack() && (t.rst() || t.syn()) && t.destination_port() >= 1024);
            }
            ("backscatter", TransportSlice::Icmpv4(i)) => {
                seen.insert("unreachable");
                assert_eq!(i.type_u8(), 3);
                let quoted = i.payload();
                assert_eq!(quoted.len(), 28);
                assert_eq!(
                    internet_checksum(&[&quoted[..20]]),
                    0,
                    "quoted IPv4 checksum"
                );
                assert_eq!(
                    &quoted[12..16],
                    &p.dst.to_be_bytes(),
                    "quote is from the telescope"
                );
            }
            ("blaster", _) => {}
            (c, _) => panic!("unexpected transport for class {c}"),
        }
    }
    let all = [
        "linux",
        "zmap",
        "masscan",
        "udp",
        "rst",
        "synack",
        "unreachable",
    ];
    assert_eq!(seen, BTreeSet::from(all));
}

#[test]
fn outbreak_grows_logistically() {
    let (_, _, truth) = run(&Config {
        seed: 4,
        days: 1,
        scale: 0.1,
        ..Config::default()
    });
    // Newly infected hosts per 6-hour window, from their first-seen hour.
    let mut windows = [0usize; 4];
    for s in truth.sources.iter().filter(|s| s.class == "blaster") {
        assert!(s.first_seen.starts_with("2003-08-11T"));
        let hour: usize = s.first_seen[11..13].parse().unwrap();
        windows[hour / 6] += 1;
    }
    let total: usize = windows.iter().sum();
    assert!(total > 100, "{windows:?}");
    assert!(windows[1] > windows[0], "growth accelerates: {windows:?}");
    assert!(
        windows[1] > windows[2] && windows[2] >= windows[3],
        "then saturates: {windows:?}"
    );
    // The early phase is slow: the first hour sees only the already-infected few.
    let first_hour = truth
        .sources
        .iter()
        .filter(|s| s.class == "blaster" && s.first_seen.starts_with("2003-08-11T00"))
        .count();
    assert!(first_hour * 10 < total, "{first_hour} of {total}");
}

#[test]
fn other_telescopes_and_start_times() {
    let config = Config {
        seed: 2,
        days: 1,
        scale: 0.05,
        start: 1_061_164_800, // 2003-08-18, Welchia's first day
        telescope: ([203, 0, 113, 0], 24),
        scenario: Scenario::Welchia2003,
        baseline_days: 0,
    };
    let (bytes, summary, truth) = run(&config);
    assert_eq!(truth.telescope, "203.0.113.0/24");
    assert_eq!(truth.start, "2003-08-18T00:00:00Z");
    let frames = read_pcap(&bytes);
    assert_eq!(frames.len() as u64, summary.packets);
    for f in &frames {
        let p = decode(f);
        assert_eq!(p.dst >> 8, 0x00cb_0071, "inside 203.0.113.0/24");
        assert!(p.ts >= 1_061_164_800_000_000);
    }
}

#[test]
fn baseline_days_hold_background_only() {
    let config = Config {
        days: 2,
        baseline_days: 1,
        scale: 0.1,
        ..Config::default()
    };
    let (_, _, truth) = run(&config);
    assert_eq!(truth.outbreak_start, "2003-08-12T00:00:00Z");
    let worm = |class: &str| class == "blaster";
    let blaster: Vec<&str> = truth
        .sources
        .iter()
        .filter(|s| worm(&s.class))
        .map(|s| s.first_seen.as_str())
        .collect();
    assert!(!blaster.is_empty());
    assert!(blaster.iter().all(|t| *t >= "2003-08-12"), "{blaster:?}");
    assert!(
        truth
            .sources
            .iter()
            .any(|s| !worm(&s.class) && s.first_seen.as_str() < "2003-08-12"),
        "background runs from the start"
    );
    let bad = Config {
        baseline_days: 2,
        ..config
    };
    assert!(kansoku_sim::simulate(&bad, std::io::sink()).is_err());
}
