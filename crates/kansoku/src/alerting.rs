//! Outbreak alerts over a store: series from the store, detection from kansoku-analyse, rows
//! for the `alerts` table. Shared by `kansoku alerts` (a batch scan of any range) and
//! `kansoku ingest` (which refreshes the table for the time its new data covers).

use anyhow::Result;
use kansoku_aggregate::PortName;
use kansoku_analyse::alerts::{AlertConfig, can_alert, detect, learning_bins};
use kansoku_store::{AlertRow, Scope, ScopeFilter, SeriesSet, Store, read_alerts};

use crate::time::rfc3339;

const DAY_S: i64 = 86_400;

/// How far before the first alert to report the detector must start reading: the baseline's
/// history plus a day for a rise already under way.
pub fn lookback_s(config: &AlertConfig) -> i64 {
    (i64::from(config.history_days) + 1) * DAY_S
}

/// What the detector found over a range, and where it could not look.
pub struct Alerts {
    /// Alerts ordered by time, scope and target.
    pub rows: Vec<AlertRow>,
    /// When the range begins before the detector had a baseline: the time its data begins and
    /// the time the first baseline exists (Unix seconds). A rise already under way then, as
    /// in a store that starts in the middle of an outbreak, raises nothing.
    pub learning: Option<(i64, i64)>,
}

impl Alerts {
    /// A line for the operator when part of the range had no baseline.
    pub fn learning_note(&self) -> Option<String> {
        let (data_s, until_s) = self.learning?;
        Some(format!(
            "no alert can be raised before {}: a baseline needs {:.0} hours of data and the \
             data begins at {} (an outbreak already under way then raises no onset; ingest \
             earlier captures to give it a baseline)",
            rfc3339(until_s.saturating_mul(1_000_000_000)),
            (until_s - data_s) as f64 / 3600.0,
            rfc3339(data_s.saturating_mul(1_000_000_000)),
        ))
    }
}

/// Alerts raised in `[from_s, to_s)` (Unix seconds; the whole store if `None`) on the scopes
/// `filter` selects.
pub fn compute(
    store: &Store,
    filter: &ScopeFilter,
    from_s: Option<i64>,
    to_s: Option<i64>,
    config: &AlertConfig,
) -> Result<Alerts> {
    let read_from = from_s.map(|f| f - lookback_s(config));
    let set = SeriesSet::distinct_sources(store, filter, read_from, to_s)?;
    let bin = i64::from(set.bin_seconds);
    // The detector sees nothing before the series' first bin, whatever the store holds.
    let baseline_from_s = set.start_s + learning_bins(set.bin_seconds) as i64 * bin;
    let learning = (set.bins > 0
        && baseline_from_s > from_s.unwrap_or(set.start_s)
        && to_s.is_none_or(|to| to > set.start_s))
    .then_some((set.start_s, baseline_from_s));
    let mut rows = Vec::new();
    for (scope, sparse) in &set.series {
        if !can_alert(sparse.max(), config) {
            continue;
        }
        let values = sparse.dense(set.bins);
        let (kind, target) = match scope {
            Scope::Port { proto, port } => ("port", PortName(*proto, *port).to_string()),
            Scope::Signature(name) => ("signature", name.clone()),
        };
        for alert in detect(&values, set.bin_seconds, config) {
            let at_s = set.start_s + alert.bin as i64 * bin;
            if from_s.is_some_and(|f| at_s < f) {
                continue;
            }
            rows.push(AlertRow {
                at_s,
                first_bin_s: set.start_s + alert.first_bin as i64 * bin,
                scope: kind.to_owned(),
                target: target.clone(),
                kind: alert.kind.as_str().to_owned(),
                observed: alert.observed,
                baseline: (alert.baseline * 1000.0).round() / 1000.0,
                score: (alert.score * 100.0).round() / 100.0,
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.at_s, &a.scope, &a.target, &a.kind).cmp(&(b.at_s, &b.scope, &b.target, &b.kind))
    });
    Ok(Alerts { rows, learning })
}

/// After an ingest whose data starts at `since_s`: recompute the alerts from there on and
/// keep the stored ones raised before. Returns what was found since `since_s`.
pub fn refresh(store: &Store, since_s: i64, config: &AlertConfig) -> Result<Alerts> {
    let mut rows = read_alerts(store, None, Some(since_s))?;
    let fresh = compute(store, &ScopeFilter::All, Some(since_s), None, config)?;
    rows.extend(fresh.rows.iter().cloned());
    store.replace_alerts(&rows)?;
    Ok(fresh)
}
