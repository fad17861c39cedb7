//! Time series of distinct sources per bin, per port and per signature: what outbreak
//! detection and charts read.
//!
//! Port series add the exact per-signature counts of a bin (a source seen under two
//! signatures on one port in one bin, as when its label changes, counts twice); signature
//! series merge the sources' HLL sketches across ports, so a worm probing two ports counts
//! once.

use std::collections::BTreeMap;

use arrow::array::{Array, Int64Array, StringArray, UInt8Array, UInt16Array, UInt64Array};
use arrow::record_batch::RecordBatch;

use crate::query::Query;
use crate::{Store, StoreError};

/// What a series counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// A protocol and destination port (ICMP: type * 256 + code).
    Port { proto: u8, port: u16 },
    /// A named signature (not the generic `scan/...` ones, which port series cover).
    Signature(String),
}

/// Which series to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ScopeFilter {
    /// Every port and every named signature.
    #[default]
    All,
    Port {
        proto: u8,
        port: u16,
    },
    Signature(String),
}

/// Dense series over one time range: `values[i]` is the bin starting at
/// `start_s + i * bin_seconds`; bins without traffic are 0.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSet {
    pub start_s: i64,
    pub bin_seconds: u32,
    pub bins: usize,
    pub series: Vec<(Scope, Vec<f64>)>,
}

impl SeriesSet {
    /// Distinct sources per bin of the store's whole time range (Unix seconds `[from, to)` if
    /// given), for the scopes `filter` selects.
    pub fn distinct_sources(
        store: &Store,
        filter: &ScopeFilter,
        from_s: Option<i64>,
        to_s: Option<i64>,
    ) -> Result<Self, StoreError> {
        let bin_seconds = store.meta().bin_seconds;
        let query = Query::new(store)?;
        let mut clauses = Vec::new();
        if let Some(from) = from_s {
            clauses.push(format!("bin_start >= to_timestamp_seconds({from})"));
        }
        if let Some(to) = to_s {
            clauses.push(format!("bin_start < to_timestamp_seconds({to})"));
        }
        let range_clause = |extra: &[String]| {
            let all: Vec<&String> = clauses.iter().chain(extra).collect();
            if all.is_empty() {
                String::new()
            } else {
                format!(
                    "WHERE {}",
                    all.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" AND ")
                )
            }
        };
        let range = query.sql(&format!(
            "SELECT CAST(min(bin_start) AS BIGINT) / 1000000, CAST(max(bin_start) AS BIGINT) / \
             1000000 FROM observations {}",
            range_clause(&[])
        ))?;
        let (Some(first), Some(last)) = (int_at(&range, 0), int_at(&range, 1)) else {
            return Ok(Self {
                start_s: from_s.unwrap_or(0),
                bin_seconds,
                bins: 0,
                series: Vec::new(),
            });
        };
        let bin = i64::from(bin_seconds);
        // Never before the first data: zeros before it would read as a quiet history.
        let start_s = from_s.map_or(first, |f| f.div_euclid(bin) * bin).max(first);
        let bins = ((last - start_s) / bin + 1) as usize;
        let mut series: BTreeMap<Scope, Vec<f64>> = BTreeMap::new();
        let mut put = |scope: Scope, t: i64, value: f64| {
            let i = ((t - start_s) / bin) as usize;
            if i < bins {
                series.entry(scope).or_insert_with(|| vec![0.0; bins])[i] += value;
            }
        };
        if matches!(filter, ScopeFilter::All | ScopeFilter::Port { .. }) {
            let only = match filter {
                ScopeFilter::Port { proto, port } => {
                    vec![format!("proto = {proto} AND dst_port = {port}")]
                }
                _ => Vec::new(),
            };
            let batches = query.sql(&format!(
                "SELECT CAST(bin_start AS BIGINT) / 1000000, proto, dst_port, sum(sources) \
                 FROM observations {} GROUP BY 1, 2, 3",
                range_clause(&only)
            ))?;
            for b in &batches {
                let (t, proto, port, n) = (
                    col::<Int64Array>(b, 0)?,
                    col::<UInt8Array>(b, 1)?,
                    col::<UInt16Array>(b, 2)?,
                    col::<UInt64Array>(b, 3)?,
                );
                for i in 0..b.num_rows() {
                    let scope = Scope::Port {
                        proto: proto.value(i),
                        port: port.value(i),
                    };
                    put(scope, t.value(i), n.value(i) as f64);
                }
            }
        }
        if matches!(filter, ScopeFilter::All | ScopeFilter::Signature(_)) {
            let only = match filter {
                ScopeFilter::Signature(name) => {
                    vec![format!("signature = '{}'", name.replace('\'', "''"))]
                }
                _ => vec!["signature NOT LIKE 'scan/%' AND signature <> 'unclassified'".into()],
            };
            let batches = query.sql(&format!(
                "SELECT CAST(bin_start AS BIGINT) / 1000000, signature, hll_count(sources_hll) \
                 FROM observations {} GROUP BY 1, 2",
                range_clause(&only)
            ))?;
            for b in &batches {
                let (t, sig, n) = (
                    col::<Int64Array>(b, 0)?,
                    col::<StringArray>(b, 1)?,
                    col::<UInt64Array>(b, 2)?,
                );
                for i in 0..b.num_rows() {
                    let scope = Scope::Signature(sig.value(i).to_owned());
                    put(scope, t.value(i), n.value(i) as f64);
                }
            }
        }
        Ok(Self {
            start_s,
            bin_seconds,
            bins,
            series: series.into_iter().collect(),
        })
    }
}

fn int_at(batches: &[RecordBatch], column: usize) -> Option<i64> {
    let b = batches.first()?;
    let a = b.column(column).as_any().downcast_ref::<Int64Array>()?;
    (!a.is_empty() && a.is_valid(0)).then(|| a.value(0))
}

fn col<T: 'static>(batch: &RecordBatch, i: usize) -> Result<&T, StoreError> {
    batch.column(i).as_any().downcast_ref::<T>().ok_or_else(|| {
        StoreError::Query(format!(
            "column {i} of a series query has type {}",
            batch.column(i).data_type()
        ))
    })
}
