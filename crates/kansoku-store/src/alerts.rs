//! The `alerts` table: outbreak alerts as ingest computes them, in one Parquet file
//! (`STORE/alerts.parquet`) replaced atomically, since alerts are derived from the other
//! tables and re-derived when new data changes them.

use std::fs::{self, File};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use crate::query::Query;
use crate::{Store, StoreError};

/// File name of the alerts table under the store root.
pub const ALERTS_FILE: &str = "alerts.parquet";

/// One alert, as stored and printed.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    /// Start of the bin where the alert was raised, Unix seconds.
    pub at_s: i64,
    /// Start of the first bin of the rise (or fall) that led to it.
    pub first_bin_s: i64,
    /// `port` or `signature`.
    pub scope: String,
    /// `tcp/135`, `blaster`, ...
    pub target: String,
    /// `onset`, `surge` or `decline`.
    pub kind: String,
    /// Distinct sources in the alert's bin, the baseline for that bin, and the CUSUM score.
    pub observed: f64,
    pub baseline: f64,
    pub score: f64,
}

pub fn alerts_schema() -> SchemaRef {
    let utc = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("at", utc(), false),
        Field::new("first_bin", utc(), false),
        Field::new("scope", DataType::Utf8, false),
        Field::new("target", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("observed", DataType::Float64, false),
        Field::new("baseline", DataType::Float64, false),
        Field::new("score", DataType::Float64, false),
    ]))
}

/// Alerts as a batch, in the order given.
pub fn alerts_batch(rows: &[AlertRow]) -> Result<RecordBatch, StoreError> {
    let n = rows.len();
    let mut at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut first = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut scope = StringBuilder::new();
    let mut target = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut observed = Float64Builder::with_capacity(n);
    let mut baseline = Float64Builder::with_capacity(n);
    let mut score = Float64Builder::with_capacity(n);
    for r in rows {
        at.append_value(r.at_s.saturating_mul(1_000_000));
        first.append_value(r.first_bin_s.saturating_mul(1_000_000));
        scope.append_value(&r.scope);
        target.append_value(&r.target);
        kind.append_value(&r.kind);
        observed.append_value(r.observed);
        baseline.append_value(r.baseline);
        score.append_value(r.score);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(at.finish()),
        Arc::new(first.finish()),
        Arc::new(scope.finish()),
        Arc::new(target.finish()),
        Arc::new(kind.finish()),
        Arc::new(observed.finish()),
        Arc::new(baseline.finish()),
        Arc::new(score.finish()),
    ];
    Ok(RecordBatch::try_new(alerts_schema(), columns)?)
}

impl Store {
    /// Replace the alerts table: written to a temporary file, synced, then renamed over the
    /// old one, so a reader sees the old table or the new one, never half of either.
    pub fn replace_alerts(&self, rows: &[AlertRow]) -> Result<(), StoreError> {
        let path = self.root().join(ALERTS_FILE);
        let tmp = self.root().join(format!(".{ALERTS_FILE}.tmp"));
        let file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let mut writer = ArrowWriter::try_new(file, alerts_schema(), None)?;
        writer.write(&alerts_batch(rows)?)?;
        let file = writer.into_inner()?;
        file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        Ok(())
    }
}

/// The stored alerts raised in `[from_s, to_s)` (Unix seconds; open-ended where `None`),
/// ordered by time, scope, target and kind.
pub fn read_alerts(
    store: &Store,
    from_s: Option<i64>,
    to_s: Option<i64>,
) -> Result<Vec<AlertRow>, StoreError> {
    let mut clauses = Vec::new();
    if let Some(from) = from_s {
        clauses.push(format!("at >= to_timestamp_seconds({from})"));
    }
    if let Some(to) = to_s {
        clauses.push(format!("at < to_timestamp_seconds({to})"));
    }
    let filter = crate::series::where_clause(&clauses);
    let batches = Query::new(store)?.sql(&format!(
        "SELECT at, first_bin, scope, target, kind, observed, baseline, score FROM alerts \
         {filter} ORDER BY at, scope, target, kind"
    ))?;
    let mut rows = Vec::new();
    for b in &batches {
        let unexpected = || StoreError::Query("alerts table: unexpected column type".into());
        let ts = |i: usize| {
            b.column(i)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .ok_or_else(unexpected)
        };
        let text = |i: usize| crate::series::strings(b, i);
        let number = |i: usize| {
            b.column(i)
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(unexpected)
        };
        let (at, first) = (ts(0)?, ts(1)?);
        let (scope, target, kind) = (text(2)?, text(3)?, text(4)?);
        let (observed, baseline, score) = (number(5)?, number(6)?, number(7)?);
        for i in 0..b.num_rows() {
            rows.push(AlertRow {
                at_s: at.value(i).div_euclid(1_000_000),
                first_bin_s: first.value(i).div_euclid(1_000_000),
                scope: scope.value(i).to_owned(),
                target: target.value(i).to_owned(),
                kind: kind.value(i).to_owned(),
                observed: observed.value(i),
                baseline: baseline.value(i),
                score: score.value(i),
            });
        }
    }
    Ok(rows)
}
