//! Time series of distinct sources per bin, per port and per signature: what outbreak
//! detection and charts read.
//!
//! A port's bin is usually one row (one signature), whose exact count is taken as it is.
//! Where several signatures share a port's bin (a scanner and a worm on one port, a source
//! whose label changes), their sketches are merged, so a source seen under two signatures
//! counts once. Signature series merge the sources' sketches across ports, so a worm probing
//! two ports counts once.

use std::collections::BTreeMap;

use arrow::array::{Array, Int64Array, StringArray, UInt8Array, UInt16Array, UInt64Array};
use arrow::record_batch::RecordBatch;
use hashbrown::HashMap;

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

/// Series over one time range, kept sparse: a darknet sees tens of thousands of ports, most
/// of them in a handful of bins, and a month of 5-minute bins for each would take gigabytes.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSet {
    pub start_s: i64,
    pub bin_seconds: u32,
    pub bins: usize,
    pub series: Vec<(Scope, SparseSeries)>,
}

/// The bins of one series that saw traffic, as `(bin index, value)` in bin order; bin `i`
/// starts at `start_s + i * bin_seconds` of its [`SeriesSet`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseSeries {
    pub points: Vec<(usize, f64)>,
}

impl SparseSeries {
    /// The largest value (0 for a series without points).
    pub fn max(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }

    /// Sort the points by bin; whether two of them share a bin.
    fn sort_has_shared_bins(&mut self) -> bool {
        self.points.sort_unstable_by_key(|p| p.0);
        self.points.windows(2).any(|w| w[0].0 == w[1].0)
    }

    /// Sort the points by bin and add up those of the same bin, so that each bin has one
    /// point (and [`max`](Self::max) sees whole bins).
    fn merge_bins(&mut self) {
        self.points.sort_unstable_by_key(|p| p.0);
        self.points.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
    }

    /// Every bin of `0..bins`, zero where nothing was seen.
    pub fn dense(&self, bins: usize) -> Vec<f64> {
        let mut values = vec![0.0; bins];
        for &(i, v) in &self.points {
            if let Some(slot) = values.get_mut(i) {
                *slot += v;
            }
        }
        values
    }
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
        let clauses = time_clauses(from_s, to_s);
        let range_clause = |extra: &[String]| where_clause(&[clauses.as_slice(), extra].concat());
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
        let bin_of = |t: i64| Some(((t - start_s) / bin) as usize).filter(|&i| i < bins);
        // Ports first, then signatures: the order of `Scope`.
        let mut ports: HashMap<(u8, u16), SparseSeries> = HashMap::new();
        let mut signatures: BTreeMap<String, SparseSeries> = BTreeMap::new();
        if matches!(filter, ScopeFilter::All | ScopeFilter::Port { .. }) {
            let only = match filter {
                ScopeFilter::Port { proto, port } => {
                    vec![format!("proto = {proto} AND dst_port = {port}")]
                }
                _ => Vec::new(),
            };
            // The rows as stored, summed here per bin (see `merge_bins`) rather than by a
            // GROUP BY: rows are nearly unique per (bin, port) already, and the engine's hash
            // aggregation over them took about 40 % of the refresh's instructions. Gathered by
            // a hashed integer key: a darknet's tens of thousands of ports made an ordered map
            // of scopes, searched per row, half the time of an ingest's alert refresh (117 of
            // 230 ms on the bench capture).
            let batches = query.sql(&format!(
                "SELECT CAST(bin_start AS BIGINT) / 1000000, proto, dst_port, sources \
                 FROM observations {}",
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
                    if let Some(at) = bin_of(t.value(i)) {
                        let key = (proto.value(i), port.value(i));
                        let points = &mut ports.entry(key).or_default().points;
                        points.push((at, n.value(i) as f64));
                    }
                }
            }
            // Bins of several rows cannot add their exact counts (a source may be in more
            // than one): those ports are read again with their sketches merged per bin. Only
            // those: reading every row's sketch made the refresh a third slower.
            let shared: Vec<(u8, u16)> = ports
                .iter_mut()
                .filter_map(|(key, series)| series.sort_has_shared_bins().then_some(*key))
                .collect();
            if !shared.is_empty() {
                let batches = query.sql(&format!(
                    "SELECT CAST(bin_start AS BIGINT) / 1000000, proto, dst_port, \
                     hll_count(sources_hll), max(sources), count(*) FROM observations {} \
                     GROUP BY 1, 2, 3",
                    range_clause(&[only, vec![ports_clause(&shared)]].concat())
                ))?;
                for key in &shared {
                    ports.insert(*key, SparseSeries::default());
                }
                for b in &batches {
                    let (t, proto, port) = (
                        col::<Int64Array>(b, 0)?,
                        col::<UInt8Array>(b, 1)?,
                        col::<UInt16Array>(b, 2)?,
                    );
                    let (merged, largest, rows) = (
                        col::<UInt64Array>(b, 3)?,
                        col::<UInt64Array>(b, 4)?,
                        col::<Int64Array>(b, 5)?,
                    );
                    for i in 0..b.num_rows() {
                        if let (Some(at), Some(series)) = (
                            bin_of(t.value(i)),
                            ports.get_mut(&(proto.value(i), port.value(i))),
                        ) {
                            // A lone row keeps its exact count; a merge is never below the
                            // largest exact count it covers.
                            let value = if rows.value(i) == 1 {
                                largest.value(i)
                            } else {
                                merged.value(i).max(largest.value(i))
                            };
                            series.points.push((at, value as f64));
                        }
                    }
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
                    &strings(b, 1)?,
                    col::<UInt64Array>(b, 2)?,
                );
                for i in 0..b.num_rows() {
                    if let Some(at) = bin_of(t.value(i)) {
                        let name = sig.value(i);
                        let points = match signatures.get_mut(name) {
                            Some(series) => &mut series.points,
                            None => &mut signatures.entry(name.to_owned()).or_default().points,
                        };
                        points.push((at, n.value(i) as f64));
                    }
                }
            }
        }
        let mut ports: Vec<_> = ports.into_iter().collect();
        ports.sort_unstable_by_key(|(key, _)| *key);
        let ports = ports
            .into_iter()
            .map(|((proto, port), s)| (Scope::Port { proto, port }, s));
        let signatures = signatures
            .into_iter()
            .map(|(name, s)| (Scope::Signature(name), s));
        let mut series: Vec<(Scope, SparseSeries)> = ports.chain(signatures).collect();
        for (_, s) in &mut series {
            s.merge_bins();
        }
        Ok(Self {
            start_s,
            bin_seconds,
            bins,
            series,
        })
    }
}

/// `((proto = 6 AND dst_port IN (135, 4444)) OR ...)` for the given ports.
fn ports_clause(keys: &[(u8, u16)]) -> String {
    let mut by_proto: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for &(proto, port) in keys {
        by_proto.entry(proto).or_default().push(port.to_string());
    }
    let terms: Vec<String> = by_proto
        .into_iter()
        .map(|(proto, ports)| format!("(proto = {proto} AND dst_port IN ({}))", ports.join(", ")))
        .collect();
    format!("({})", terms.join(" OR "))
}

fn int_at(batches: &[RecordBatch], column: usize) -> Option<i64> {
    let b = batches.first()?;
    let a = b.column(column).as_any().downcast_ref::<Int64Array>()?;
    (!a.is_empty() && a.is_valid(0)).then(|| a.value(0))
}

/// Column `i` as plain UTF-8, whatever string layout (Utf8, Utf8View, dictionary) the engine
/// chose for it.
pub(crate) fn strings(batch: &RecordBatch, i: usize) -> Result<StringArray, StoreError> {
    let cast = arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)
        .map_err(|e| StoreError::Query(format!("column {i} of a series query: {e}")))?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| StoreError::Query(format!("column {i} of a series query is not text")))
}

pub(crate) fn col<T: 'static>(batch: &RecordBatch, i: usize) -> Result<&T, StoreError> {
    batch.column(i).as_any().downcast_ref::<T>().ok_or_else(|| {
        StoreError::Query(format!(
            "column {i} of a series query has type {}",
            batch.column(i).data_type()
        ))
    })
}

/// Named sparse series: (name, [(bin start in Unix seconds, value)]), as charts take them.
pub type NamedSeries = Vec<(String, Vec<(i64, f64)>)>;

/// What a chart shows: one port or one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartScope {
    Port { proto: u8, port: u16 },
    Signature(String),
}

/// The series of a packet observation chart, at `bin_seconds` (a multiple of the store's bin
/// gives exact bins; distinct sources merge the HLL sketches of the bins they cover).
#[derive(Clone, Debug, PartialEq)]
pub struct ObservationSeries {
    /// Packets per bin: for a port, one series per signature; for a signature, one per port.
    pub packets: NamedSeries,
    /// Distinct sources per bin (one series).
    pub sources: Vec<(i64, f64)>,
}

/// SQL naming a (proto, dst_port) pair as `tcp/135`, `icmp/8.0`.
pub(crate) const PORT_NAME: &str = "CASE WHEN proto IN (1, 58) THEN concat(CASE proto WHEN 1 THEN 'icmp' \
     ELSE 'icmp6' END, '/', CAST(dst_port / 256 AS VARCHAR), '.', CAST(dst_port % 256 AS \
     VARCHAR)) WHEN proto = 6 THEN concat('tcp/', CAST(dst_port AS VARCHAR)) WHEN proto = 17 \
     THEN concat('udp/', CAST(dst_port AS VARCHAR)) ELSE concat('proto-', CAST(proto AS \
     VARCHAR)) END";

pub(crate) fn time_clauses(from_s: Option<i64>, to_s: Option<i64>) -> Vec<String> {
    let mut clauses = Vec::new();
    if let Some(from) = from_s {
        clauses.push(format!("bin_start >= to_timestamp_seconds({from})"));
    }
    if let Some(to) = to_s {
        clauses.push(format!("bin_start < to_timestamp_seconds({to})"));
    }
    clauses
}

/// `WHERE a AND b ...`, or nothing without clauses.
pub(crate) fn where_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    }
}

/// `date_bin` of `bin_start` to `bin_seconds`, as Unix seconds.
pub(crate) fn binned(bin_seconds: u32) -> String {
    format!(
        "to_unixtime(date_bin(INTERVAL '{bin_seconds} seconds', bin_start, \
         TIMESTAMP '1970-01-01T00:00:00Z'))"
    )
}

impl ObservationSeries {
    pub fn read(
        store: &Store,
        scope: &ChartScope,
        bin_seconds: u32,
        from_s: Option<i64>,
        to_s: Option<i64>,
    ) -> Result<Self, StoreError> {
        let query = Query::new(store)?;
        let mut clauses = time_clauses(from_s, to_s);
        let stack = match scope {
            ChartScope::Port { proto, port } => {
                clauses.push(format!("proto = {proto} AND dst_port = {port}"));
                "signature".to_owned()
            }
            ChartScope::Signature(name) => {
                clauses.push(format!("signature = '{}'", name.replace('\'', "''")));
                PORT_NAME.to_owned()
            }
        };
        let filter = where_clause(&clauses);
        let t = binned(bin_seconds);
        let batches = query.sql(&format!(
            "SELECT {t} AS t, {stack} AS name, CAST(sum(packets) AS DOUBLE) FROM observations \
             {filter} GROUP BY 1, 2 ORDER BY 2, 1"
        ))?;
        let mut packets: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for b in &batches {
            let (t, name, n) = (
                col::<Int64Array>(b, 0)?,
                &strings(b, 1)?,
                col::<arrow::array::Float64Array>(b, 2)?,
            );
            for i in 0..b.num_rows() {
                packets
                    .entry(name.value(i).to_owned())
                    .or_default()
                    .push((t.value(i), n.value(i)));
            }
        }
        let batches = query.sql(&format!(
            "SELECT {t} AS t, hll_count(sources_hll) FROM observations {filter} GROUP BY 1 \
             ORDER BY 1"
        ))?;
        let mut sources = Vec::new();
        for b in &batches {
            let (t, n) = (col::<Int64Array>(b, 0)?, col::<UInt64Array>(b, 1)?);
            for i in 0..b.num_rows() {
                sources.push((t.value(i), n.value(i) as f64));
            }
        }
        // Largest stacks first, so the legend reads like the picture.
        let mut packets: NamedSeries = packets.into_iter().collect();
        packets.sort_by(|a, b| {
            let total = |s: &[(i64, f64)]| s.iter().map(|p| p.1).sum::<f64>();
            total(&b.1).total_cmp(&total(&a.1)).then(a.0.cmp(&b.0))
        });
        Ok(Self { packets, sources })
    }
}

/// The first and last bin (at `bin_seconds`, Unix seconds) holding any observation in the
/// period: what a chart of one port spans, so that the days that port was silent show as
/// zero rather than being cut off.
pub fn store_span(
    store: &Store,
    bin_seconds: u32,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Option<(i64, i64)>, StoreError> {
    let filter = where_clause(&time_clauses(from_s, to_s));
    let t = binned(bin_seconds);
    let batches = Query::new(store)?.sql(&format!(
        "SELECT min({t}), max({t}) FROM observations {filter}"
    ))?;
    Ok(int_at(&batches, 0).zip(int_at(&batches, 1)))
}

/// The sensors that observed anything, in name order: who a published chart credits.
pub fn sensors(store: &Store) -> Result<Vec<String>, StoreError> {
    let batches =
        Query::new(store)?.sql("SELECT DISTINCT sensor FROM observations ORDER BY sensor")?;
    let mut names = Vec::new();
    for b in &batches {
        let column = strings(b, 0)?;
        names.extend((0..b.num_rows()).map(|i| column.value(i).to_owned()));
    }
    Ok(names)
}

/// Packets per bin of the `top` busiest ports, busiest first: the rows of a port heatmap.
pub fn port_heatmap(
    store: &Store,
    bin_seconds: u32,
    top: usize,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<NamedSeries, StoreError> {
    let query = Query::new(store)?;
    let filter = where_clause(&time_clauses(from_s, to_s));
    let t = binned(bin_seconds);
    let batches = query.sql(&format!(
        "WITH top AS (SELECT proto, dst_port, sum(packets) AS total FROM observations {filter} \
         GROUP BY 1, 2 ORDER BY total DESC, proto, dst_port LIMIT {top}) \
         SELECT {t} AS t, {PORT_NAME} AS name, CAST(sum(o.packets) AS DOUBLE), max(top.total) \
         FROM observations o JOIN top USING (proto, dst_port) {filter} \
         GROUP BY 1, 2 ORDER BY 4 DESC, 2, 1"
    ))?;
    let mut rows: NamedSeries = Vec::new();
    for b in &batches {
        let (t, name, n) = (
            col::<Int64Array>(b, 0)?,
            &strings(b, 1)?,
            col::<arrow::array::Float64Array>(b, 2)?,
        );
        for i in 0..b.num_rows() {
            let name = name.value(i);
            match rows.last_mut() {
                Some((last, points)) if last == name => points.push((t.value(i), n.value(i))),
                _ => rows.push((name.to_owned(), vec![(t.value(i), n.value(i))])),
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::SparseSeries;

    #[test]
    fn rows_of_one_bin_add_up_to_one_point() {
        // Two signatures on one port in bins 1 and 3 (as when a source's label changes).
        let mut series = SparseSeries {
            points: vec![(3, 1.0), (1, 2.0), (3, 4.0), (1, 1.0), (2, 5.0), (0, 0.5)],
        };
        series.merge_bins();
        assert_eq!(series.points, [(0, 0.5), (1, 3.0), (2, 5.0), (3, 5.0)]);
        assert_eq!(series.max(), 5.0);
        assert_eq!(series.dense(5), [0.5, 3.0, 5.0, 5.0, 0.0]);
    }
}
