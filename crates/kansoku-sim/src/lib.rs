//! Deterministic darknet capture simulator.
//!
//! Writes what a network telescope (an unused address block, by default `198.18.0.0/16`)
//! receives over a few days: background radiation (scanners, UDP noise, DoS backscatter)
//! plus an outbreak or tool scan (see [`Scenario`]), as a classic pcap file, together with
//! a ground truth naming the class of every source (see [`TRUTH_CLASSES`]). The same
//! [`Config`] always gives the same bytes, so captures can serve as labelled test data for
//! decoders, classifiers and population estimators.
//!
//! Header level only: SYNs carry no payload and the only payload bytes are benign (zeros,
//! an ASCII marker, Welchia's 0xAA echo filler, Slammer's first byte 0x04 followed by an
//! ASCII placeholder). No exploit or worm code is modelled.
//!
//! # Model, in brief
//!
//! - Background (every scenario): TCP SYN scanners (Linux connect(), labelled `scan`; ZMap
//!   and Masscan, labelled `zmap` and `masscan`), UDP noise to 53/123/137/161/1900/5060,
//!   and DoS backscatter (SYN-ACK, RST, ICMP unreachable quoting the spoofed packet). Per
//!   hour at scale 1: 20 scanners, 8 UDP sources, 1.5 backscatter victims, each with a
//!   heavy-tailed packet count and rate, modulated by a daily rhythm.
//! - Outbreaks: hosts appear along a logistic curve (inflection 30% into the period;
//!   Slammer's within the first half hour). Blaster and Welchia show up in runs of
//!   consecutive telescope addresses (see `scenario::walk`); Slammer, Sasser, Conficker and
//!   Mirai scan at random, so each host reaches the telescope at its Internet-wide rate
//!   times the telescope's share of the addresses it picks from, until it stops.
//! - Tool scans (ZMap, Masscan): a few sources, each running scans that visit every target
//!   once in permuted order at tens of probes per second, with pauses of hours between.
//! - `mixed-darknet` runs every outbreak and tool scan at once at reduced populations.
//! - `scale` multiplies the number of sources, so per-host behaviour stays realistic while
//!   volume grows: about 0.3M-0.75M packets over 3 days at scale 1, depending on scenario.
//! - One ChaCha8 stream seeded from [`Config::seed`] drives everything, consumed in a fixed
//!   order, so output is byte-identical for the same config on the same platform (the
//!   floating-point `ln`/`exp`/`sin` of the platform's libm are used for timing draws).

mod engine;
mod frame;
mod net;
mod pcap_writer;
mod population;
mod random;
mod scenario;
mod time;
mod truth;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use truth::{Population, Truth, TruthSource};

use net::{AddressPool, Prefix, dotted};
use scenario::{
    Env, Source, background, blaster, conficker, masscan, mirai, mixed, sasser, slammer, welchia,
    zmap,
};
use time::{MICROS, rfc3339};

/// An outbreak to simulate on top of the background radiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scenario {
    /// W32/Blaster, August 2003: TCP SYNs to port 135 in sequential runs.
    #[default]
    Blaster2003,
    /// W32/Welchia (Nachi), August 2003: ICMP echo sweeps with 0xAA payload.
    Welchia2003,
    /// SQL Slammer, January 2003: single 404-byte UDP datagrams to 1434.
    Slammer2003,
    /// W32/Sasser, May 2004: Windows TCP SYNs to 445, uniformly random destinations.
    Sasser2004,
    /// Conficker A/B, from November 2008: Windows TCP SYNs to 445, 2nd and 4th octets < 128.
    Conficker2008,
    /// Mirai, from August 2016: SYNs to 23/2323 whose sequence number is the destination.
    Mirai2016,
    /// ZMap tool and research scans: IP ID 54321, each address once per scan.
    Zmap,
    /// Masscan tool scans: IP ID = dst ^ dport ^ seq, window 1024.
    Masscan,
    /// Every outbreak and tool scan above at reduced populations, over the background.
    MixedDarknet,
}

impl Scenario {
    /// Every scenario, in the order of [`Scenario::names`].
    pub const ALL: &'static [Scenario] = &[
        Scenario::Blaster2003,
        Scenario::Welchia2003,
        Scenario::Slammer2003,
        Scenario::Sasser2004,
        Scenario::Conficker2008,
        Scenario::Mirai2016,
        Scenario::Zmap,
        Scenario::Masscan,
        Scenario::MixedDarknet,
    ];

    /// The name used on the command line and in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Blaster2003 => "blaster-2003",
            Scenario::Welchia2003 => "welchia-2003",
            Scenario::Slammer2003 => "slammer-2003",
            Scenario::Sasser2004 => "sasser-2004",
            Scenario::Conficker2008 => "conficker-2008",
            Scenario::Mirai2016 => "mirai-2016",
            Scenario::Zmap => "zmap",
            Scenario::Masscan => "masscan",
            Scenario::MixedDarknet => "mixed-darknet",
        }
    }

    /// Names of every scenario, for `--help` and value parsers.
    pub fn names() -> &'static [&'static str] {
        &[
            "blaster-2003",
            "welchia-2003",
            "slammer-2003",
            "sasser-2004",
            "conficker-2008",
            "mirai-2016",
            "zmap",
            "masscan",
            "mixed-darknet",
        ]
    }

    /// A one-line description for help texts.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Blaster2003 => "W32/Blaster: TCP SYNs to 135, sequential, retransmitted",
            Scenario::Welchia2003 => "W32/Welchia: ICMP echo sweeps, 92-byte packets, 0xAA fill",
            Scenario::Slammer2003 => {
                "SQL Slammer: UDP to 1434, 376-byte payload starting 0x04 (benign filler)"
            }
            Scenario::Sasser2004 => "W32/Sasser: Windows SYNs to 445, random, retransmitted",
            Scenario::Conficker2008 => {
                "Conficker A/B: Windows SYNs to 445, 2nd and 4th octets always < 128"
            }
            Scenario::Mirai2016 => "Mirai: SYNs to 23 (90%) / 2323 (10%) with seq == destination",
            Scenario::Zmap => "ZMap scans: IP ID 54321, window 65535, each address once",
            Scenario::Masscan => "Masscan scans: IP ID = dst ^ dport ^ seq, window 1024",
            Scenario::MixedDarknet => {
                "all of the above at once over the background, every source labelled"
            }
        }
    }
}

/// Every class a source can have in the ground truth.
pub const TRUTH_CLASSES: [&str; 11] = [
    "blaster",
    "welchia",
    "slammer",
    "sasser",
    "conficker",
    "mirai",
    "zmap",
    "masscan",
    "backscatter",
    "scan",
    "udp-noise",
];

/// The /24s the simulator treats as known research scanners, in CIDR notation. Some ZMap
/// scan sources sit in them and nothing else does, so a classifier given this list as its
/// research-scanner file labels exactly those sources. Arbitrary public-looking blocks, not
/// the real networks of any project; also written to [`Truth::research_networks`].
pub fn research_scanner_networks() -> Vec<String> {
    net::RESEARCH_NETWORKS
        .iter()
        .map(|&(base, len)| format!("{}/{len}", dotted(base)))
        .collect()
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one of [`Scenario::names`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScenario(pub String);

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scenario '{}' (expected one of: {})",
            self.0,
            Scenario::names().join(", ")
        )
    }
}

impl std::error::Error for UnknownScenario {}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .iter()
            .copied()
            .find(|sc| sc.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownScenario(s.to_owned()))
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub scenario: Scenario,
    /// Seed of the single random stream; the same config gives byte-identical output.
    pub seed: u64,
    /// Capture start, Unix seconds (default 2003-08-11T00:00:00Z, the day Blaster hit).
    pub start: u64,
    /// Capture length in days (at least 1).
    pub days: u32,
    /// Days of background radiation alone before the outbreak starts (less than `days`):
    /// what outbreak detection learns its baseline from.
    pub baseline_days: u32,
    /// Telescope prefix (address, length); host bits are ignored. Length 8..=30.
    pub telescope: ([u8; 4], u8),
    /// Multiplies the number of sources, and so all packet rates. 1.0 gives roughly
    /// 300k-750k packets over 3 days; 20 gives about 10M.
    pub scale: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            scenario: Scenario::default(),
            seed: 1,
            start: 1_060_560_000,
            days: 3,
            baseline_days: 0,
            telescope: ([198, 18, 0, 0], 16),
            scale: 1.0,
        }
    }
}

/// Totals of a written capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub packets: u64,
    /// Sources that sent at least one packet.
    pub sources: usize,
    /// First and last packet timestamps, Unix microseconds (0 when there are no packets).
    pub first_ts: u64,
    pub last_ts: u64,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Validates `config` and derives the simulation environment.
fn environment(config: &Config) -> io::Result<Env> {
    let (addr, len) = config.telescope;
    let telescope = Prefix::new(addr, len)
        .filter(|p| (8..=30).contains(&p.len()))
        .ok_or_else(|| invalid(format!("telescope prefix length {len} is not in 8..=30")))?;
    if config.days == 0 {
        return Err(invalid("days must be at least 1".into()));
    }
    if config.baseline_days >= config.days {
        return Err(invalid(format!(
            "baseline days ({}) must be fewer than days ({})",
            config.baseline_days, config.days
        )));
    }
    if !(config.scale.is_finite() && config.scale > 0.0 && config.scale <= 1000.0) {
        return Err(invalid(format!(
            "scale {} is not in (0, 1000]",
            config.scale
        )));
    }
    let start_us = config
        .start
        .checked_mul(MICROS)
        .ok_or_else(|| invalid(format!("start {} is out of range", config.start)))?;
    let end_us = start_us + u64::from(config.days) * 86_400 * MICROS;
    // Classic pcap stores seconds as u32.
    if end_us / MICROS > u64::from(u32::MAX) {
        return Err(invalid("the capture must end before 2106".into()));
    }
    Ok(Env {
        telescope,
        start_us,
        end_us,
        scale: config.scale,
    })
}

/// The sources of a scenario's outbreak (everything but the background).
fn outbreak(
    scenario: Scenario,
    env: &Env,
    pool: &mut AddressPool,
    rng: &mut ChaCha8Rng,
) -> Vec<Source> {
    let spawn = match scenario {
        Scenario::Blaster2003 => blaster::spawn,
        Scenario::Welchia2003 => welchia::spawn,
        Scenario::Slammer2003 => slammer::spawn,
        Scenario::Sasser2004 => sasser::spawn,
        Scenario::Conficker2008 => conficker::spawn,
        Scenario::Mirai2016 => mirai::spawn,
        Scenario::Zmap => zmap::spawn,
        Scenario::Masscan => masscan::spawn,
        Scenario::MixedDarknet => mixed::spawn,
    };
    spawn(env, pool, rng)
}

/// Simulates the capture described by `config`, writes it to `out` as a classic pcap
/// file, and returns its totals and ground truth.
///
/// Errors: `InvalidInput` for a bad config, or whatever writing to `out` returns.
pub fn simulate<W: Write>(config: &Config, out: W) -> io::Result<(Summary, Truth)> {
    let env = environment(config)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut pool = AddressPool::new(env.telescope);
    let mut sources = background::spawn(&env, &mut pool, &mut rng);
    // The outbreak runs its course over the days after the baseline.
    let outbreak_env = Env {
        start_us: env.start_us + u64::from(config.baseline_days) * 86_400 * MICROS,
        ..env
    };
    sources.extend(outbreak(
        config.scenario,
        &outbreak_env,
        &mut pool,
        &mut rng,
    ));
    let summary = engine::run(&env, &mut sources, &mut rng, out)?;

    let mut infected: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for s in &sources {
        if let Some(t) = s.infected_us {
            let class = s.behaviour.class().as_str().to_owned();
            infected.entry(class).or_default().push(t);
        }
    }

    let mut seen: Vec<_> = sources.iter().filter(|s| s.tally.packets > 0).collect();
    seen.sort_by_key(|s| (s.tally.first_us, s.addr));
    let truth = Truth {
        scenario: config.scenario.name().to_owned(),
        seed: config.seed,
        telescope: env.telescope.to_string(),
        start: rfc3339(config.start),
        outbreak_start: rfc3339(outbreak_env.start_us / MICROS),
        research_networks: research_scanner_networks(),
        sources: seen
            .iter()
            .map(|s| {
                s.tally.to_truth(
                    dotted(s.addr),
                    s.behaviour.class().as_str(),
                    s.behaviour.victim(s.addr).map(dotted),
                )
            })
            .collect(),
        population: infected
            .into_iter()
            .map(|(class, times)| (class, Population::count(times, env.start_us, env.end_us)))
            .collect(),
    };
    Ok((summary, truth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        assert_eq!(Scenario::ALL.len(), Scenario::names().len());
        for (s, n) in Scenario::ALL.iter().zip(Scenario::names()) {
            assert_eq!(s.name(), *n);
            assert_eq!(s.to_string().parse::<Scenario>().unwrap(), *s);
        }
        let err = "nimda".parse::<Scenario>().unwrap_err();
        assert!(err.to_string().contains("blaster-2003"));
    }

    #[test]
    fn truth_classes_match_the_models() {
        let names: Vec<&str> = scenario::Class::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, TRUTH_CLASSES);
    }

    #[test]
    fn research_networks_are_public_24s() {
        let nets = research_scanner_networks();
        assert_eq!(nets.len(), 3);
        for (n, &(base, _)) in nets.iter().zip(&net::RESEARCH_NETWORKS) {
            assert!(n.ends_with(".0/24"), "{n}");
            assert!(net::is_public_unicast(base));
        }
    }

    #[test]
    fn bad_configs_are_rejected() {
        let bad = [
            Config {
                days: 0,
                ..Config::default()
            },
            Config {
                scale: 0.0,
                ..Config::default()
            },
            Config {
                scale: f64::NAN,
                ..Config::default()
            },
            Config {
                telescope: ([198, 18, 0, 0], 31),
                ..Config::default()
            },
            Config {
                start: u64::from(u32::MAX),
                ..Config::default()
            },
        ];
        for c in bad {
            let e = simulate(&c, io::sink()).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{c:?}");
        }
    }
}
