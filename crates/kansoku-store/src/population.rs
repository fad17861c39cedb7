//! The store read behind population estimates (`kansoku estimate`, the signature pages of
//! `kansoku serve`): a signature's sources hour by hour, the hosts of other worms on its port
//! whose labels rest on the least evidence, and the telescope's share of IPv4.

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use kansoku_analyse::estimate::{Observation, Pattern};
use kansoku_classify::Networks;

use crate::{Query, Store, StoreError};

/// What `kansoku_analyse::estimate::estimate` takes from the store.
#[derive(Clone, Debug, Default)]
pub struct EstimateInputs {
    /// Every source-hour of the signature's sources in the window.
    pub rows: Vec<Observation>,
    /// Source-hours of sources of another worm's label on the signature's main port, seen
    /// once or twice: the estimator weighs them as possibly the signature's.
    pub ambiguous: Vec<Observation>,
}

/// The share of the IPv4 space the telescope's prefixes cover (`198.18.0.0/16` is 2⁻¹⁶).
pub fn telescope_share(prefixes: &[String]) -> Result<f64, String> {
    let telescope = Networks::parse(&prefixes.join("\n")).map_err(|e| format!("telescope: {e}"))?;
    match telescope.ipv4_addresses() {
        0 => Err("telescope: no IPv4 addresses".into()),
        n => Ok(n as f64 / 2f64.powi(32)),
    }
}

/// The estimate's inputs for `signature` in `[from_s, to_s)` (whole hours; open where absent):
/// its IPv4 sources, the address family the telescope's share is measured in.
pub fn estimate_inputs(
    store: &Store,
    signature: &str,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<EstimateInputs, StoreError> {
    let signature = signature.replace('\'', "''");
    let port = main_port(store, &signature)?;
    let rows = observations(
        store,
        &format!("final_label = '{signature}'"),
        &port,
        from_s,
        to_s,
    )?;
    // Sources of another worm's label on the same port, seen once or twice: the hosts the
    // estimator extrapolates from are those whose labels rest on the least evidence.
    // Generic labels (scan/..., unclassified, research-scanner) come from no fingerprint.
    let ambiguous = if port.is_empty() {
        Vec::new()
    } else {
        observations(
            store,
            &format!(
                "final_label <> '{signature}' AND final_label NOT LIKE 'scan/%' AND \
                 final_label NOT IN ('unclassified', 'research-scanner') AND total <= 2 AND \
                 on_port = 1"
            ),
            &port,
            from_s,
            to_s,
        )?
    };
    Ok(EstimateInputs { rows, ambiguous })
}

/// Column `i` cast to `to` (the engine picks its own string and integer layouts).
fn column<T: Array + Clone + 'static>(
    batch: &RecordBatch,
    i: usize,
    to: &DataType,
) -> Result<T, StoreError> {
    let cast = arrow::compute::cast(batch.column(i), to)?;
    cast.as_any()
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| StoreError::Query(format!("column {i} of the sources query is not {to}")))
}

/// The rows of the `sources` table in the window of every source whose final label (the
/// `label` of its latest row, as docs/schema.md defines it) passes `which`, as
/// observations. `which` sees `final_label`, the source's probes in the window (`total`) and
/// whether any of its rows has `port` among its top ports (`on_port`). All of a source's
/// rows count, including those from before the evidence that settled its label (a Sasser
/// host whose first probes fit Conficker's pattern).
fn observations(
    store: &Store,
    which: &str,
    port: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Observation>, StoreError> {
    // IPv4 sources only: the telescope's share, and so every rate, is of the IPv4 space.
    let mut window = vec!["strpos(src, ':') = 0".to_owned()];
    if let Some(from) = from {
        window.push(format!("hour >= to_timestamp_seconds({from})"));
    }
    if let Some(to) = to {
        window.push(format!("hour < to_timestamp_seconds({to})"));
    }
    let window = window.join(" AND ");
    // Timestamps as raw microseconds, so first and last packets keep their precision.
    let sql = format!(
        "WITH final AS (SELECT src AS final_src, last_value(label ORDER BY hour, last_seen) \
         AS final_label, sum(destinations) AS total, \
         max(CASE WHEN top_ports LIKE '%{port}:%' THEN 1 ELSE 0 END) AS on_port \
         FROM sources WHERE {window} GROUP BY src) \
         SELECT src, to_unixtime(hour), arrow_cast(first_seen, 'Int64'), \
         arrow_cast(last_seen, 'Int64'), destinations, scan_pattern \
         FROM sources JOIN final ON src = final_src WHERE ({which}) AND {window}"
    );
    let batches = Query::new(store)?.sql(&sql)?;
    let mut out = Vec::new();
    for b in &batches {
        let src: StringArray = column(b, 0, &DataType::Utf8)?;
        let hour: Int64Array = column(b, 1, &DataType::Int64)?;
        let first: Int64Array = column(b, 2, &DataType::Int64)?;
        let last: Int64Array = column(b, 3, &DataType::Int64)?;
        let dests: Int64Array = column(b, 4, &DataType::Int64)?;
        let pattern: StringArray = column(b, 5, &DataType::Utf8)?;
        for i in 0..b.num_rows() {
            out.push(Observation {
                src: src.value(i).to_owned(),
                hour: hour.value(i),
                first_seen: first.value(i) as f64 / 1e6,
                last_seen: last.value(i) as f64 / 1e6,
                probes: dests.value(i).max(0) as u64,
                pattern: Pattern::from_store(pattern.value(i)),
            });
        }
    }
    Ok(out)
}

/// The port that carries most of the signature's packets, as `top_ports` names it
/// (`tcp/445`); empty if the signature has none.
fn main_port(store: &Store, signature: &str) -> Result<String, StoreError> {
    let sql = format!(
        "SELECT proto, dst_port FROM observations WHERE signature = '{signature}' \
         GROUP BY proto, dst_port ORDER BY sum(packets) DESC, proto, dst_port LIMIT 1"
    );
    let batches = Query::new(store)?.sql(&sql)?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(String::new());
    };
    let proto: Int64Array = column(b, 0, &DataType::Int64)?;
    let port: Int64Array = column(b, 1, &DataType::Int64)?;
    let (proto, port) = (proto.value(0), port.value(0));
    Ok(match proto {
        6 => format!("tcp/{port}"),
        17 => format!("udp/{port}"),
        1 => format!("icmp/{}.{}", port / 256, port % 256),
        58 => format!("icmp6/{}.{}", port / 256, port % 256),
        p => format!("proto-{p}"),
    })
}
