//! Outbreak alerts over a store: series from the store, detection from kansoku-analyse, rows
//! for the `alerts` table. Shared by `kansoku alerts` (a batch scan of any range) and
//! `kansoku ingest` (which refreshes the table for the time its new data covers).

use anyhow::Result;
use kansoku_aggregate::PortName;
use kansoku_analyse::alerts::{AlertConfig, can_alert, detect};
use kansoku_store::{AlertRow, Scope, ScopeFilter, SeriesSet, Store, read_alerts};

const DAY_S: i64 = 86_400;

/// How far before the first alert to report the detector must start reading: the baseline's
/// history plus a day for a rise already under way.
pub fn lookback_s(config: &AlertConfig) -> i64 {
    (i64::from(config.history_days) + 1) * DAY_S
}

/// Alerts raised in `[from_s, to_s)` (Unix seconds; the whole store if `None`) on the scopes
/// `filter` selects, ordered by time, scope and target.
pub fn compute(
    store: &Store,
    filter: &ScopeFilter,
    from_s: Option<i64>,
    to_s: Option<i64>,
    config: &AlertConfig,
) -> Result<Vec<AlertRow>> {
    let read_from = from_s.map(|f| f - lookback_s(config));
    let set = SeriesSet::distinct_sources(store, filter, read_from, to_s)?;
    let bin = i64::from(set.bin_seconds);
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
    Ok(rows)
}

/// After an ingest whose data starts at `since_s`: recompute the alerts from there on and
/// keep the stored ones raised before. Returns the alerts raised since `since_s`.
pub fn refresh(store: &Store, since_s: i64, config: &AlertConfig) -> Result<Vec<AlertRow>> {
    let mut rows = read_alerts(store, None, Some(since_s))?;
    let fresh = compute(store, &ScopeFilter::All, Some(since_s), None, config)?;
    rows.extend(fresh.iter().cloned());
    store.replace_alerts(&rows)?;
    Ok(fresh)
}
