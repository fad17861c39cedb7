//! What the dashboard's pages show, read from the store: the busiest ports and signatures with
//! their series, distinct sources per day, the evidence behind a signature and the networks
//! its sources come from. Plain data (serde), so the HTML pages and the JSON API show the same.

use std::collections::BTreeMap;
use std::net::IpAddr;

use arrow::array::{Float64Array, Int64Array, UInt64Array};
use serde::Serialize;

use crate::query::Query;
use crate::series::{PORT_NAME, binned, col, strings, time_clauses, where_clause};
use crate::{Store, StoreError};

/// How rows of `observations` are grouped into ranked series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// By protocol and destination port, named `tcp/135`.
    Port,
    /// By signature, leaving out the generic `scan/...` and `unclassified`.
    Signature,
}

/// One of the busiest ports or signatures of a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranked {
    pub name: String,
    pub packets: u64,
    /// Distinct sources over the whole period (HLL sketches merged).
    pub sources: u64,
    /// Packets per bin, `(bin start in Unix seconds, packets)`, bins without traffic absent.
    pub series: Vec<(i64, f64)>,
}

/// The `top` busiest ports or signatures of `[from_s, to_s)` by packets, with their packets
/// per `bin_seconds`.
pub fn ranked(
    store: &Store,
    grouping: Grouping,
    bin_seconds: u32,
    top: usize,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Vec<Ranked>, StoreError> {
    let mut clauses = time_clauses(from_s, to_s);
    let name = match grouping {
        Grouping::Port => PORT_NAME,
        Grouping::Signature => {
            clauses.push("signature NOT LIKE 'scan/%' AND signature <> 'unclassified'".into());
            "signature"
        }
    };
    let filter = where_clause(&clauses);
    let query = Query::new(store)?;
    let totals = query.sql(&format!(
        "SELECT {name} AS name, CAST(sum(packets) AS BIGINT), \
         CAST(hll_count(sources_hll) AS BIGINT) FROM observations {filter} \
         GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {top}"
    ))?;
    let mut rows = Vec::new();
    for b in &totals {
        let (names, packets, sources) = (
            strings(b, 0)?,
            col::<Int64Array>(b, 1)?,
            col::<Int64Array>(b, 2)?,
        );
        for i in 0..b.num_rows() {
            rows.push(Ranked {
                name: names.value(i).to_owned(),
                packets: packets.value(i).max(0) as u64,
                sources: sources.value(i).max(0) as u64,
                series: Vec::new(),
            });
        }
    }
    if rows.is_empty() {
        return Ok(rows);
    }
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("'{}'", r.name.replace('\'', "''")))
        .collect();
    let t = binned(bin_seconds);
    let batches = query.sql(&format!(
        "SELECT name, t, packets FROM (SELECT {name} AS name, {t} AS t, \
         CAST(sum(packets) AS DOUBLE) AS packets FROM observations {filter} GROUP BY 1, 2) \
         WHERE name IN ({}) ORDER BY 1, 2",
        names.join(", ")
    ))?;
    let mut series: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for b in &batches {
        let (names, t, n) = (
            strings(b, 0)?,
            col::<Int64Array>(b, 1)?,
            col::<Float64Array>(b, 2)?,
        );
        for i in 0..b.num_rows() {
            series
                .entry(names.value(i).to_owned())
                .or_default()
                .push((t.value(i), n.value(i)));
        }
    }
    for row in &mut rows {
        row.series = series.remove(&row.name).unwrap_or_default();
    }
    Ok(rows)
}

/// Distinct sources per UTC day of `[from_s, to_s)`: `(day start in Unix seconds, sources)`.
pub fn daily_sources(
    store: &Store,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Vec<(i64, u64)>, StoreError> {
    let filter = where_clause(&time_clauses(from_s, to_s));
    let t = binned(86_400);
    let batches = Query::new(store)?.sql(&format!(
        "SELECT {t} AS day, hll_count(sources_hll) FROM observations {filter} \
         GROUP BY 1 ORDER BY 1"
    ))?;
    let mut days = Vec::new();
    for b in &batches {
        let (day, n) = (col::<Int64Array>(b, 0)?, col::<UInt64Array>(b, 1)?);
        days.extend((0..b.num_rows()).map(|i| (day.value(i), n.value(i))));
    }
    Ok(days)
}

/// A rule that matched, with the packets it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleEvidence {
    pub rule: String,
    pub packets: u64,
}

/// The rules behind a signature in `[from_s, to_s)`, most packets first: the `rules`
/// evidence of its `sources` rows, added up.
pub fn signature_rules(
    store: &Store,
    signature: &str,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Vec<RuleEvidence>, StoreError> {
    let batches = Query::new(store)?.sql(&format!(
        "SELECT rules FROM sources {}",
        source_filter(Some(signature), None, from_s, to_s)
    ))?;
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for b in &batches {
        let rules = strings(b, 0)?;
        for i in 0..b.num_rows() {
            for item in rules.value(i).split_whitespace() {
                if let Some((rule, n)) = item.rsplit_once(':')
                    && let Ok(n) = n.parse::<u64>()
                {
                    *totals.entry(rule.to_owned()).or_default() += n;
                }
            }
        }
    }
    let mut rules: Vec<RuleEvidence> = totals
        .into_iter()
        .map(|(rule, packets)| RuleEvidence { rule, packets })
        .collect();
    rules.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.rule.cmp(&b.rule)));
    Ok(rules)
}

/// Sources grouped by network (IPv4 /24, IPv6 /48: what a public page may show without
/// naming hosts) or one row per host (for operators).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Network {
    pub network: String,
    pub sources: u64,
    pub packets: u64,
}

/// The `top` source networks (or hosts, with `hosts`) of a signature or a port (`tcp/135`:
/// sources with that port among their five most-hit ports of an hour) in `[from_s, to_s)`,
/// most sources first.
pub fn top_networks(
    store: &Store,
    signature: Option<&str>,
    port: Option<&str>,
    hosts: bool,
    top: usize,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Vec<Network>, StoreError> {
    let batches = Query::new(store)?.sql(&format!(
        "SELECT src, CAST(sum(packets) AS BIGINT) FROM sources {} GROUP BY src",
        source_filter(signature, port, from_s, to_s)
    ))?;
    let mut networks: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for b in &batches {
        let (src, packets) = (strings(b, 0)?, col::<Int64Array>(b, 1)?);
        for i in 0..b.num_rows() {
            let Ok(addr) = src.value(i).parse::<IpAddr>() else {
                continue;
            };
            let key = if hosts {
                addr.to_string()
            } else {
                network_of(addr)
            };
            let entry = networks.entry(key).or_default();
            entry.0 += 1;
            entry.1 += packets.value(i).max(0) as u64;
        }
    }
    let mut list: Vec<Network> = networks
        .into_iter()
        .map(|(network, (sources, packets))| Network {
            network,
            sources,
            packets,
        })
        .collect();
    list.sort_by(|a, b| {
        (b.sources, b.packets)
            .cmp(&(a.sources, a.packets))
            .then(a.network.cmp(&b.network))
    });
    list.truncate(top);
    Ok(list)
}

/// The /24 (IPv4) or /48 (IPv6) holding `addr`, as `198.51.100.0/24`.
fn network_of(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => {
            let [x, y, z, _] = a.octets();
            format!("{x}.{y}.{z}.0/24")
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

/// `WHERE` of a `sources` query: a signature, a port among the top ports, a period.
fn source_filter(
    signature: Option<&str>,
    port: Option<&str>,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> String {
    let mut clauses = Vec::new();
    if let Some(from) = from_s {
        clauses.push(format!(
            "hour >= to_timestamp_seconds({})",
            from.div_euclid(3600) * 3600
        ));
    }
    if let Some(to) = to_s {
        clauses.push(format!("hour < to_timestamp_seconds({to})"));
    }
    if let Some(name) = signature {
        clauses.push(format!("signature = '{}'", name.replace('\'', "''")));
    }
    if let Some(port) = port {
        let port = port.replace('\'', "''").replace(['%', '_'], "");
        clauses.push(format!(
            "(top_ports LIKE '{port}:%' OR top_ports LIKE '% {port}:%')"
        ));
    }
    where_clause(&clauses)
}

#[cfg(test)]
mod tests {
    use super::network_of;

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(
            network_of("198.51.100.7".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2::7".parse().unwrap()),
            "2001:db8:1::/48"
        );
    }
}
