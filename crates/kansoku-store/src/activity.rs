//! The store read behind owner reports: per source and signature, the sums an owner needs
//! to act on (first and last seen, packets, evidence), and the source's final label. Shared
//! by `kansoku owners` and the owner API of `kansoku serve`.

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use kansoku_analyse::owners::Activity;

use crate::{Query, Store, StoreError};

/// Which rows of `sources` count.
#[derive(Clone, Debug, Default)]
pub struct ActivityFilter {
    /// From this time (inclusive), a SQL timestamp literal such as `2003-08-11T00:00:00Z`.
    pub from: Option<String>,
    /// Until this time (exclusive).
    pub to: Option<String>,
    /// Only these signatures; all when empty.
    pub signatures: Vec<String>,
}

/// SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Per (source, signature) over the period: the sums an owner report needs, and the
/// source's final label over all its signatures (as `kansoku evaluate` defines it).
fn activity_sql(filter: &ActivityFilter) -> String {
    let mut window = Vec::new();
    if let Some(from) = &filter.from {
        window.push(format!("last_seen >= {}", quote(from)));
    }
    if let Some(to) = &filter.to {
        window.push(format!("first_seen < {}", quote(to)));
    }
    let window = if window.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", window.join(" AND "))
    };
    let only = if filter.signatures.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = filter.signatures.iter().map(|s| quote(s)).collect();
        format!("WHERE s.signature IN ({})", names.join(", "))
    };
    format!(
        "WITH s AS (SELECT * FROM sources {window}), \
         l AS (SELECT src, last_value(label ORDER BY hour, last_seen) AS label FROM s GROUP BY src) \
         SELECT s.src, s.signature, l.label, \
         CAST(min(s.first_seen) AS BIGINT) AS first_us, CAST(max(s.last_seen) AS BIGINT) AS last_us, \
         CAST(count(DISTINCT s.hour) AS BIGINT) AS hours, CAST(sum(s.packets) AS BIGINT) AS packets, \
         CAST(sum(s.bytes) AS BIGINT) AS bytes, CAST(max(s.destinations) AS BIGINT) AS destinations, \
         string_agg(s.rules, ' ') AS rules, string_agg(s.top_ports, ' ') AS top_ports \
         FROM s JOIN l ON s.src = l.src {only} \
         GROUP BY s.src, s.signature, l.label"
    )
}

fn strings(batch: &RecordBatch, i: usize) -> Result<StringArray, StoreError> {
    let cast = arrow::compute::cast(batch.column(i), &DataType::Utf8)?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| StoreError::Query(format!("sources query: column {i} is not text")))
}

fn numbers(batch: &RecordBatch, i: usize) -> Result<Int64Array, StoreError> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .ok_or_else(|| StoreError::Query(format!("sources query: column {i} is not BIGINT")))
}

/// Every (source, signature) of the store that passes `filter`.
pub fn read_activity(store: &Store, filter: &ActivityFilter) -> Result<Vec<Activity>, StoreError> {
    let batches = Query::new(store)?.sql(&activity_sql(filter))?;
    let mut rows = Vec::new();
    for b in &batches {
        let (src, signature, label) = (strings(b, 0)?, strings(b, 1)?, strings(b, 2)?);
        let (first, last, hours) = (numbers(b, 3)?, numbers(b, 4)?, numbers(b, 5)?);
        let (packets, bytes, destinations) = (numbers(b, 6)?, numbers(b, 7)?, numbers(b, 8)?);
        let (rules, ports) = (strings(b, 9)?, strings(b, 10)?);
        let text = |a: &StringArray, i| {
            if a.is_null(i) {
                String::new()
            } else {
                a.value(i).to_owned()
            }
        };
        let count = |a: &Int64Array, i| u64::try_from(a.value(i)).unwrap_or(0);
        for i in 0..b.num_rows() {
            rows.push(Activity {
                src: text(&src, i),
                signature: text(&signature, i),
                label: text(&label, i),
                first_seen_us: first.value(i),
                last_seen_us: last.value(i),
                hours: count(&hours, i),
                packets: count(&packets, i),
                bytes: count(&bytes, i),
                max_destinations: count(&destinations, i),
                rules: text(&rules, i),
                top_ports: text(&ports, i),
            });
        }
    }
    Ok(rows)
}
