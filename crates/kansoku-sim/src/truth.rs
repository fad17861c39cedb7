//! Ground truth: what the simulator put in the capture, per source, so that ingest,
//! classification and population estimates can be checked against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::{MICROS, rfc3339, rfc3339_micros};

/// The ground truth of one simulated capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    /// Scenario name, e.g. `blaster-2003`.
    pub scenario: String,
    pub seed: u64,
    /// Telescope prefix in CIDR notation, e.g. `198.18.0.0/16`.
    pub telescope: String,
    /// Start of the capture period (RFC 3339, UTC).
    pub start: String,
    /// When the outbreak begins: the start, or later after baseline days (RFC 3339, UTC).
    /// Absent from truths written before it existed.
    #[serde(default)]
    pub outbreak_start: String,
    /// Networks (CIDR) the simulator treats as known research scanners: every source in them
    /// is class `zmap`. Absent from truths written before it existed.
    #[serde(default)]
    pub research_networks: Vec<String>,
    /// Every source that sent at least one packet, ordered by first packet (then address).
    pub sources: Vec<TruthSource>,
    /// Per outbreak class: every host the simulation infected, including those whose probes
    /// never reached the telescope. What a population estimate is checked against. Absent
    /// for scenarios without an outbreak and from truths written before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub population: BTreeMap<String, Population>,
}

/// The true infected population of one outbreak class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Population {
    /// Hosts infected by the end of the capture (a host counts from when it starts to scan).
    pub infected_at_end: u64,
    /// For every UTC hour the capture touches (hour start in RFC 3339, the hours of the
    /// store's `sources` table): hosts infected by the end of that hour, cumulative, so the last entry equals `infected_at_end`.
    pub hourly: Vec<(String, u64)>,
}

impl Population {
    /// The population of hosts infected at `infected_us` (Unix microseconds, any order),
    /// counted over the UTC hours from the one holding `start_us` to `end_us` (exclusive).
    pub(crate) fn count(mut infected_us: Vec<u64>, start_us: u64, end_us: u64) -> Self {
        infected_us.sort_unstable();
        let hour = 3600 * MICROS;
        let hourly = (start_us - start_us % hour..end_us)
            .step_by(hour as usize)
            .map(|h| {
                let by_end = infected_us.partition_point(|&t| t < h + hour) as u64;
                (rfc3339(h / MICROS), by_end)
            })
            .collect();
        Self {
            infected_at_end: infected_us.partition_point(|&t| t < end_us) as u64,
            hourly,
        }
    }
}

/// One source address in the capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthSource {
    /// Dotted-quad address.
    pub src: String,
    /// One of [`crate::TRUTH_CLASSES`]: an outbreak (`blaster`, `welchia`, `slammer`, `sasser`,
    /// `conficker`, `mirai`), a tool scan (`zmap`, `masscan`), or other background (`scan`,
    /// `udp-noise`, `backscatter`).
    pub class: String,
    /// Timestamp of its first packet (RFC 3339, UTC, microseconds).
    pub first_seen: String,
    pub packets: u64,
    /// Packets per hour (hour start in RFC 3339); hours without packets are omitted.
    pub hourly: Vec<(String, u64)>,
    /// Backscatter only: the DoS victim its answers are about (the source itself, or the host
    /// behind a router that reports ICMP errors). Absent for other classes and in truths
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim: Option<String>,
}

/// Running per-source counts, kept compact because a large run has ~10^5 sources.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub packets: u64,
    /// First packet time in Unix microseconds (meaningful when `packets > 0`).
    pub first_us: u64,
    /// (hour since the epoch, packets); hours arrive in order, as packets do.
    hourly: Vec<(u32, u32)>,
}

impl Tally {
    /// Counts a packet sent at `ts_us`; calls come in non-decreasing time order.
    pub(crate) fn record(&mut self, ts_us: u64) {
        if self.packets == 0 {
            self.first_us = ts_us;
        }
        self.packets += 1;
        let hour = (ts_us / (3600 * MICROS)) as u32;
        match self.hourly.last_mut() {
            Some((h, n)) if *h == hour => *n += 1,
            _ => self.hourly.push((hour, 1)),
        }
    }

    /// The truth record for a source with this tally.
    pub(crate) fn to_truth(&self, src: String, class: &str, victim: Option<String>) -> TruthSource {
        TruthSource {
            src,
            victim,
            class: class.to_owned(),
            first_seen: rfc3339_micros(self.first_us),
            packets: self.packets,
            hourly: self
                .hourly
                .iter()
                .map(|&(h, n)| (rfc3339(u64::from(h) * 3600), u64::from(n)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_counts_hosts_infected_by_the_end_of_each_hour() {
        let h = 3600 * MICROS;
        let base = 1_060_560_000 * MICROS;
        let p = Population::count(vec![base + h + 5, base, base + h - 1], base, base + 3 * h);
        assert_eq!(p.infected_at_end, 3);
        assert_eq!(
            p.hourly,
            vec![
                ("2003-08-11T00:00:00Z".to_owned(), 2),
                ("2003-08-11T01:00:00Z".to_owned(), 3),
                ("2003-08-11T02:00:00Z".to_owned(), 3),
            ]
        );
    }

    #[test]
    fn tally_groups_by_hour() {
        let mut t = Tally::default();
        let h = 3600 * MICROS;
        let base = 1_060_560_000 * MICROS;
        for ts in [base + 5, base + 10, base + h + 1, base + 3 * h] {
            t.record(ts);
        }
        let s = t.to_truth("1.2.3.4".into(), "scan", None);
        assert_eq!(s.packets, 4);
        assert_eq!(s.first_seen, "2003-08-11T00:00:00.000005Z");
        assert_eq!(
            s.hourly,
            vec![
                ("2003-08-11T00:00:00Z".to_owned(), 2),
                ("2003-08-11T01:00:00Z".to_owned(), 1),
                ("2003-08-11T03:00:00Z".to_owned(), 1),
            ]
        );
    }
}
