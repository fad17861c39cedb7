//! `kansoku report`: what a darknet saw, in the sections an operator reads first.
//!
//! Every section is a SQL query over the stored tables (so anyone can reproduce or extend it
//! with `kansoku sql`), except the decode health sections, which come from the manifest.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::query::{OutputFormat, Query, write_batches};
use crate::{ManifestEntry, Store, StoreError};

/// What to report on.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Inclusive lower bound, RFC 3339 UTC.
    pub from: Option<String>,
    /// Exclusive upper bound, RFC 3339 UTC.
    pub to: Option<String>,
    /// Rows in each ranked section (protocols, top ports, signatures, top sources).
    pub top: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            top: 10,
        }
    }
}

/// Which backscatter vectors are attacks, and how to extrapolate them.
#[derive(Clone, Debug)]
pub struct BackscatterOptions {
    pub from: Option<String>,
    pub to: Option<String>,
    /// An attack has at least this many answers...
    pub min_packets: u64,
    /// ...over at least this many seconds...
    pub min_duration_s: u64,
    /// ...and at least this many answers in some 60-second window.
    pub min_per_minute: u64,
    /// IPv4 addresses the telescope monitors: attack rates are extrapolated by 2^32 over it
    /// (spoofed sources uniform over IPv4). `None`: observed rates only.
    pub telescope_addresses: Option<u64>,
}

impl Default for BackscatterOptions {
    /// corsaro's dos plugin thresholds: 25 packets, 60 seconds, 30 packets per minute.
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            min_packets: 25,
            min_duration_s: 60,
            min_per_minute: 30,
            telescope_addresses: None,
        }
    }
}

/// A computed report: named sections of rows.
pub struct Report {
    pub sections: Vec<(&'static str, Vec<RecordBatch>)>,
}

/// SQL that names a protocol number the way reports print it.
const PROTO_NAME: &str = "CASE proto WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' \
                          WHEN 58 THEN 'icmp6' ELSE concat('proto-', CAST(proto AS VARCHAR)) END";

impl Report {
    pub fn compute(store: &Store, options: &ReportOptions) -> Result<Self, StoreError> {
        let query = Query::new(store)?;
        // Observation rows are chosen by their bin. Source rows cover an hour each: one
        // counts if the source's activity in that hour (first to last packet) meets the
        // window, so a window of ten minutes still finds the sources active in it. For
        // windows of whole hours this is the same as selecting rows by `hour`.
        let window = |first: &str, last: &str| {
            let mut clauses = Vec::new();
            if let Some(from) = &options.from {
                clauses.push(format!("{last} >= '{from}'"));
            }
            if let Some(to) = &options.to {
                clauses.push(format!("{first} < '{to}'"));
            }
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            }
        };
        let obs = window("bin_start", "bin_start");
        let src = window("first_seen", "last_seen");
        let top = options.top;
        let bin = store.meta().bin_seconds;
        let port = format!(
            "CASE WHEN proto IN (1, 58) THEN concat({PROTO_NAME}, '/', CAST(dst_port / 256 AS \
             VARCHAR), '.', CAST(dst_port % 256 AS VARCHAR)) WHEN proto IN (6, 17) THEN \
             concat({PROTO_NAME}, '/', CAST(dst_port AS VARCHAR)) ELSE {PROTO_NAME} END"
        );
        let sections: Vec<(&'static str, String)> = vec![
            (
                "summary",
                format!(
                    "SELECT min(bin_start) AS first_bin, \
                     max(bin_start) + INTERVAL '{bin} seconds' AS end, \
                     sum(packets) AS packets, sum(bytes) AS bytes, \
                     (SELECT count(DISTINCT src) FROM sources {src}) AS sources \
                     FROM observations {obs}"
                ),
            ),
            (
                "protocols",
                format!(
                    "SELECT {PROTO_NAME} AS protocol, sum(packets) AS packets, \
                     sum(bytes) AS bytes, hll_count(sources_hll) AS sources_est, \
                     max(sources) AS peak_sources_per_bin \
                     FROM observations {obs} GROUP BY proto ORDER BY packets DESC, proto LIMIT {top}"
                ),
            ),
            (
                "top_ports",
                format!(
                    "SELECT {port} AS port, sum(packets) AS packets, sum(bytes) AS bytes, \
                     hll_count(sources_hll) AS sources_est, max(sources) AS peak_sources_per_bin, \
                     max(destinations) AS peak_destinations_per_bin \
                     FROM observations {obs} GROUP BY proto, dst_port \
                     ORDER BY packets DESC, proto, dst_port LIMIT {top}"
                ),
            ),
            (
                "signatures",
                format!(
                    "SELECT signature, sum(packets) AS packets, count(DISTINCT src) AS sources \
                     FROM sources {src} GROUP BY signature ORDER BY packets DESC, signature \
                     LIMIT {top}"
                ),
            ),
            (
                "top_sources",
                format!(
                    "SELECT src, signature, sum(packets) AS packets, sum(bytes) AS bytes, \
                     min(first_seen) AS first_seen, max(last_seen) AS last_seen, \
                     count(*) AS hours_active, max(ports) AS peak_ports_per_hour \
                     FROM sources {src} GROUP BY src, signature \
                     ORDER BY packets DESC, src LIMIT {top}"
                ),
            ),
        ];
        let mut report = Report {
            sections: Vec::new(),
        };
        for (name, sql) in sections {
            report.sections.push((name, query.sql(&sql)?));
        }
        let inputs = inputs_in(store, options);
        report
            .sections
            .push(("decode", vec![decode_health(&inputs)?]));
        report
            .sections
            .push(("malformed", vec![malformed(&inputs)?]));
        Ok(report)
    }

    /// The DoS attacks the `backscatter` table shows (Moore, Voelker, Savage 2001): vectors
    /// over the thresholds, with the victim's attack rate extrapolated from the telescope's
    /// share of IPv4 when its size is given.
    pub fn backscatter(store: &Store, options: &BackscatterOptions) -> Result<Self, StoreError> {
        let mut clauses = vec![
            format!("packets >= {}", options.min_packets),
            format!(
                "CAST(last_seen AS BIGINT) - CAST(first_seen AS BIGINT) >= {}",
                options.min_duration_s.saturating_mul(1_000_000)
            ),
            format!("peak_per_minute >= {}", options.min_per_minute),
        ];
        if let Some(from) = &options.from {
            clauses.push(format!("last_seen >= '{from}'"));
        }
        if let Some(to) = &options.to {
            clauses.push(format!("first_seen < '{to}'"));
        }
        let extrapolated = match options.telescope_addresses {
            Some(n) if n > 0 => {
                let scale = 4_294_967_296.0 / n as f64;
                format!(
                    ", round(peak_per_minute / 60.0 * {scale}) AS attack_peak_pps_est, \
                     round(packets * {scale}) AS attack_packets_est"
                )
            }
            _ => String::new(),
        };
        let sql = format!(
            "SELECT victim, {PROTO_NAME} AS protocol, ports, first_seen, last_seen, \
             (CAST(last_seen AS BIGINT) - CAST(first_seen AS BIGINT)) / 1000000 AS duration_s, \
             packets, peak_per_minute{extrapolated} \
             FROM backscatter WHERE {} ORDER BY first_seen, victim",
            clauses.join(" AND ")
        );
        let batches = Query::new(store)?.sql(&sql)?;
        Ok(Report {
            sections: vec![("backscatter_attacks", batches)],
        })
    }

    /// Print every section in one format: a titled table each, one JSON object keyed by
    /// section, or CSV blocks each preceded by a `# section` line.
    pub fn write(&self, out: &mut dyn Write, format: OutputFormat) -> Result<(), StoreError> {
        let io = |e| StoreError::Io {
            path: "<output>".into(),
            source: e,
        };
        if format == OutputFormat::Json {
            write!(out, "{{").map_err(io)?;
        }
        for (i, (name, batches)) in self.sections.iter().enumerate() {
            match format {
                OutputFormat::Table => writeln!(out, "{}", name.replace('_', " ")).map_err(io)?,
                OutputFormat::Csv if i > 0 => writeln!(out, "\n# {name}").map_err(io)?,
                OutputFormat::Csv => writeln!(out, "# {name}").map_err(io)?,
                OutputFormat::Json if i > 0 => write!(out, ",\"{name}\":").map_err(io)?,
                OutputFormat::Json => write!(out, "\"{name}\":").map_err(io)?,
            }
            let mut section = Vec::new();
            write_batches(&mut section, batches, format)?;
            if format == OutputFormat::Json {
                // One line per report: drop the array's trailing newline.
                while section.last() == Some(&b'\n') {
                    section.pop();
                }
            }
            out.write_all(&section).map_err(io)?;
        }
        if format == OutputFormat::Json {
            writeln!(out, "}}").map_err(io)?;
        }
        Ok(())
    }
}

/// The inputs the decode sections speak for: all of them, or with a period those whose frames
/// (first to last) meet it. Frames are counted per input, not per bin, so an input that
/// straddles the period is counted whole.
fn inputs_in<'s>(store: &'s Store, options: &ReportOptions) -> Vec<&'s ManifestEntry> {
    let at = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let (from, to) = (at(&options.from), at(&options.to));
    store
        .manifest()
        .entries
        .iter()
        .filter(|e| {
            if from.is_none() && to.is_none() {
                return true;
            }
            let (Some(first), Some(last)) = (at(&e.first_ts), at(&e.last_ts)) else {
                return false;
            };
            from.is_none_or(|f| last >= f) && to.is_none_or(|t| first < t)
        })
        .collect()
}

/// Frames per outcome, over the given inputs.
fn decode_health(entries: &[&ManifestEntry]) -> Result<RecordBatch, StoreError> {
    let sum = |f: fn(&ManifestEntry) -> u64| entries.iter().map(|e| f(e)).sum::<u64>();
    let rows = [
        ("inputs", entries.len() as u64),
        (
            "inputs_with_faults",
            entries.iter().filter(|e| !e.faults.is_empty()).count() as u64,
        ),
        ("frames", sum(|e| e.frames)),
        ("ip_packets", sum(|e| e.ip_packets)),
        ("not_ip", sum(|e| e.not_ip)),
        ("unknown_link", sum(|e| e.unknown_link)),
        ("malformed", sum(|e| e.malformed.values().sum())),
    ];
    counts_batch("outcome", rows.iter().map(|(k, v)| (k.to_string(), *v)))
}

/// Malformed frames by reason, over the given inputs.
fn malformed(entries: &[&ManifestEntry]) -> Result<RecordBatch, StoreError> {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for e in entries {
        for (reason, n) in &e.malformed {
            *totals.entry(reason.clone()).or_insert(0) += n;
        }
    }
    counts_batch("reason", totals.into_iter())
}

fn counts_batch(
    key: &str,
    rows: impl Iterator<Item = (String, u64)>,
) -> Result<RecordBatch, StoreError> {
    let (keys, values): (Vec<String>, Vec<u64>) = rows.unzip();
    let schema = Arc::new(Schema::new(vec![
        Field::new(key, DataType::Utf8, false),
        Field::new("frames", DataType::UInt64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(keys)),
        Arc::new(UInt64Array::from(values)),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}
