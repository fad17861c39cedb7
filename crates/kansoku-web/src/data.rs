//! The content of each page, read from the store on the blocking pool. The HTML pages and the
//! JSON API serialise the same structs, so the API returns exactly what a page shows.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kansoku_aggregate::PortName;
use kansoku_analyse::alerts::learning_bins;
use kansoku_analyse::estimate::{Band, EstimateConfig, HOUR, estimate};
use kansoku_store::dashboard::{
    Grouping, Network, Ranked, RuleEvidence, daily_sources, ranked, signature_rules, top_networks,
};
use kansoku_store::population::{EstimateInputs, estimate_inputs};
use kansoku_store::{AlertRow, ChartScope, ObservationSeries, Store, read_alerts};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::view::View;
use crate::{Period, WebError};

/// Rows of the overview's tables and of a page's network table.
const TOP: usize = 10;

/// The overview: what the darknet saw in the period.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub period: PeriodView,
    pub ports: Vec<Ranked>,
    pub signatures: Vec<Ranked>,
    pub alerts: Vec<AlertView>,
    /// When the period begins before the detector had a baseline: the first time an alert
    /// could be raised (RFC 3339). Quiet alerts before it mean nothing.
    pub alerts_from: Option<String>,
    /// Distinct sources on the last day of the period against the days before it.
    pub sources: SourcesNow,
    pub sensors: Vec<SensorIngest>,
}

/// The period as shown: given bounds, or the data's own.
#[derive(Debug, Serialize)]
pub struct PeriodView {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Width of the sparkline and chart bins, seconds.
    pub bin_seconds: u32,
}

#[derive(Debug, Serialize)]
pub struct SourcesNow {
    /// Start of the last day with data, RFC 3339.
    pub day: Option<String>,
    /// Absent in the public view when under its threshold: a small exact count, current to
    /// the last ingest, would move with one probe from a fresh address.
    pub sources: Option<u64>,
    /// Median of the up to seven days before it; absent without history (or, in the public
    /// view, under its threshold).
    pub baseline: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct SensorIngest {
    pub sensor: String,
    pub last_ingest: String,
    pub inputs: usize,
    pub frames: u64,
    pub malformed: u64,
}

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub at: String,
    pub first_bin: String,
    pub scope: String,
    pub target: String,
    pub kind: String,
    /// Distinct sources in the alert's bin and the baseline for it; absent in the public
    /// view when below its threshold.
    pub observed: Option<f64>,
    pub baseline: Option<f64>,
    pub score: f64,
}

impl From<AlertRow> for AlertView {
    fn from(a: AlertRow) -> Self {
        AlertView {
            at: rfc3339(a.at_s),
            first_bin: rfc3339(a.first_bin_s),
            scope: a.scope,
            target: a.target,
            kind: a.kind,
            observed: Some(a.observed),
            baseline: Some(a.baseline),
            score: a.score,
        }
    }
}

/// A port's or a signature's page.
#[derive(Debug, Serialize)]
pub struct Detail {
    /// `tcp/135` or `blaster`.
    pub name: String,
    pub period: PeriodView,
    pub packets: u64,
    /// Packets per bin, stacked: by signature for a port, by port for a signature.
    pub stacks: Vec<Stack>,
    /// Distinct sources per bin (HLL sketches merged over the bin).
    pub sources: Vec<(i64, f64)>,
    /// The rules that matched (signature pages).
    pub rules: Vec<RuleEvidence>,
    pub networks: Vec<Network>,
    pub alerts: Vec<AlertView>,
    /// As for [`Overview::alerts_from`].
    pub alerts_from: Option<String>,
    /// The infected population behind a signature's sources, when the server knows the
    /// telescope (`kansoku serve --telescope`); absent on port pages.
    pub estimate: Option<EstimateView>,
}

/// A population estimate as the signature page shows it (see docs/estimate.md).
#[derive(Debug, Serialize)]
pub struct EstimateView {
    /// Sources of the signature seen in the window.
    pub sources: u64,
    /// Coverage of the bands.
    pub confidence: f64,
    /// Hosts infected by the end of the window; absent when the estimate is refused.
    pub infected: Option<BandView>,
    /// The logistic fit's plateau and early doubling time, hours.
    pub plateau: Option<BandView>,
    pub doubling_hours: Option<BandView>,
    /// Each assumption of the method and whether it holds here.
    pub assumptions: Vec<AssumptionView>,
}

#[derive(Debug, Serialize)]
pub struct BandView {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl From<&Band> for BandView {
    fn from(b: &Band) -> Self {
        BandView {
            estimate: b.estimate,
            low: b.low,
            high: b.high,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AssumptionView {
    pub name: String,
    /// `holds`, `doubtful` or `does not hold`.
    pub verdict: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Stack {
    pub name: String,
    pub packets: u64,
    pub series: Vec<(i64, f64)>,
}

pub fn rfc3339(unix_s: i64) -> String {
    chrono::DateTime::from_timestamp(unix_s, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Runs a store read on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// How long a store query waits for a slot before the request is answered 503.
const QUERY_WAIT: Duration = Duration::from_secs(10);

/// Runs a store query (a DataFusion scan: CPU-bound, tens of MiB) on the blocking pool, at
/// most one per core at a time. Varying a period defeats the answer cache, so without a limit
/// a flood of uncached requests would pile up scans without bound; here the rest wait in line
/// and, after [`QUERY_WAIT`], are told to come back (503 with `Retry-After`).
pub async fn query<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(Semaphore::new(cores.max(2)))
    });
    limited(slots, QUERY_WAIT, job).await
}

/// [`query`] with its slots and wait given. The slot is moved into the job, so a client that
/// hangs up does not free it while the scan still runs.
async fn limited<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    wait: Duration,
    job: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    let slot = tokio::time::timeout(wait, slots.clone().acquire_owned())
        .await
        .map_err(|_| WebError::Busy(Duration::from_secs(5)))?
        .map_err(|_| WebError::Internal("the query slots are closed".into()))?;
    blocking(move || {
        let _slot = slot;
        job()
    })
    .await
}

fn open(dir: &Path) -> Result<Store, WebError> {
    Ok(Store::open(dir)?)
}

/// The bin of a page: asked for, or one that draws the period in a few hundred bins.
fn bin_for(store: &Store, period: &Period, span_s: Option<(i64, i64)>, view: View) -> u32 {
    let store_bin = store.meta().bin_seconds;
    if let Some(bin) = period.bin_s {
        return bin.max(store_bin).max(view.min_bin()) / store_bin * store_bin;
    }
    let span = span_s.map_or(0, |(first, last)| last - first);
    let bin = match span {
        s if s <= 2 * 86_400 => 300,
        s if s <= 21 * 86_400 => 3600,
        _ => 86_400,
    };
    bin.max(store_bin).max(view.min_bin()) / store_bin * store_bin
}

/// The period a view may see: the public's ends `delay` before the newest data, and starts
/// and ends on its coarse bins. A window that cut a public bin would be drawn in that bin,
/// yet hold only the store's finer bins inside it: sliding it would give the fine series
/// back, and subtracting two totals the count of a single store bin.
fn visible(store: &Store, period: &Period, view: View) -> Result<Period, WebError> {
    let View::Public(policy) = view else {
        return Ok(*period);
    };
    let mut seen = *period;
    if policy.delay_s > 0 {
        let bin = store.meta().bin_seconds;
        if let Some((_, last)) = kansoku_store::store_span(store, bin, None, None)? {
            let cap = last + i64::from(bin) - policy.delay_s;
            seen.to_s = Some(period.to_s.map_or(cap, |to| to.min(cap)));
            seen.from_s = period.from_s.map(|from| from.min(cap - 1));
        }
    }
    let coarse = i64::from(policy.min_bin_s.max(1));
    seen.from_s = seen.from_s.map(|from| from.div_euclid(coarse) * coarse);
    seen.to_s = seen.to_s.map(|to| to.div_euclid(coarse) * coarse);
    if let (Some(from), Some(to)) = (seen.from_s, seen.to_s)
        && from >= to
        && period.from_s.zip(period.to_s).is_some_and(|(f, t)| f < t)
    {
        // Inside one public bin: an empty 200 would read as "nothing seen".
        return Err(WebError::BadRequest(format!(
            "the period lies within one public bin of {} s; the public sees whole bins, so \
             give a period that spans one",
            coarse
        )));
    }
    Ok(seen)
}

/// Alerts as a view sees them: the public's with times on its coarse bins and without the
/// counts under its threshold (that an alert was raised is public; the small count that
/// raised it could map a sensor).
fn alert_views(alerts: Vec<AlertRow>, view: View) -> impl DoubleEndedIterator<Item = AlertView> {
    alerts.into_iter().map(move |a| {
        let shown = view.shows(a.observed);
        let bin = i64::from(view.min_bin().max(1));
        let mut v = AlertView::from(a);
        if !view.is_operator() {
            v.at = rfc3339(seconds(&v.at).div_euclid(bin) * bin);
            v.first_bin = rfc3339(seconds(&v.first_bin).div_euclid(bin) * bin);
            if !shown {
                v.observed = None;
                v.baseline = None;
            }
        }
        v
    })
}

/// Unix seconds of an RFC 3339 time; 0 for an unreadable one (our own strings only).
pub(crate) fn seconds(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or(0, |t| t.timestamp())
}

/// The period as shown: the asked bounds, else the data's own (its last bin's end), widened
/// to the view's coarsest bin so that the public does not learn when the last ingest ended.
fn period_view(
    period: &Period,
    span: Option<(i64, i64)>,
    store_bin: u32,
    bin: u32,
    view: View,
) -> PeriodView {
    let coarse = i64::from(view.min_bin().max(1));
    PeriodView {
        from: period
            .from_s
            .or(span.map(|s| s.0.div_euclid(coarse) * coarse))
            .map(rfc3339),
        to: period
            .to_s
            .or(span.map(|s| ceil_to(s.1 + i64::from(store_bin), coarse)))
            .map(rfc3339),
        bin_seconds: bin,
    }
}

/// `t` rounded up to a multiple of `step`.
fn ceil_to(t: i64, step: i64) -> i64 {
    -(-t).div_euclid(step) * step
}

pub fn overview(dir: &Path, period: &Period, view: View) -> Result<Overview, WebError> {
    let store = open(dir)?;
    let period = &visible(&store, period, view)?;
    let span =
        kansoku_store::store_span(&store, store.meta().bin_seconds, period.from_s, period.to_s)?;
    let bin = bin_for(&store, period, span, view);
    let (from, to) = (period.from_s, period.to_s);
    let days = daily_sources(&store, from, to)?;
    let sources = match days.split_last() {
        Some((&(day, sources), before)) => {
            let mut history: Vec<u64> = before.iter().rev().take(7).map(|d| d.1).collect();
            history.sort_unstable();
            SourcesNow {
                day: Some(rfc3339(day)),
                sources: view.shows(sources as f64).then_some(sources),
                baseline: median(&history).filter(|&b| view.shows(b)),
            }
        }
        None => SourcesNow {
            day: None,
            sources: Some(0),
            baseline: None,
        },
    };
    // Exact frame counts per sensor, current to the last ingest, would let anyone probe a
    // candidate sensor address and watch its counter: operators only.
    let mut sensors: Vec<SensorIngest> = Vec::new();
    let entries = if view.is_operator() {
        store.manifest().entries.as_slice()
    } else {
        &[]
    };
    for entry in entries {
        let malformed: u64 = entry.malformed.values().sum();
        match sensors.iter_mut().find(|s| s.sensor == entry.sensor) {
            Some(s) => {
                s.last_ingest = s.last_ingest.clone().max(entry.ingested_at.clone());
                s.inputs += 1;
                s.frames += entry.frames;
                s.malformed += malformed;
            }
            None => sensors.push(SensorIngest {
                sensor: entry.sensor.clone(),
                last_ingest: entry.ingested_at.clone(),
                inputs: 1,
                frames: entry.frames,
                malformed,
            }),
        }
    }
    sensors.sort_by(|a, b| a.sensor.cmp(&b.sensor));
    Ok(Overview {
        period: period_view(period, span, store.meta().bin_seconds, bin, view),
        ports: ranked_view(ranked(&store, Grouping::Port, bin, TOP, from, to)?, view),
        signatures: ranked_view(
            ranked(&store, Grouping::Signature, bin, TOP, from, to)?,
            view,
        ),
        alerts: alert_views(read_alerts(&store, from, to)?, view)
            .rev()
            .take(50)
            .collect(),
        alerts_from: alerts_from(&store, period, view)?,
        sources,
        sensors,
    })
}

/// Ranked rows a view may see: the public's without rows of few sources and small bins,
/// and with totals of the bins it shows (an exact total beside suppressed bins would give
/// them back by subtraction).
fn ranked_view(mut rows: Vec<Ranked>, view: View) -> Vec<Ranked> {
    if view.is_operator() {
        return rows;
    }
    rows.retain(|r| view.shows(r.sources as f64));
    for r in &mut rows {
        view.suppress(&mut r.series);
        r.packets = r.series.iter().map(|p| p.1).sum::<f64>() as u64;
    }
    rows
}

fn median(sorted: &[u64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2] as f64),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// What a port or signature page shows.
pub enum Subject {
    Port(PortName),
    Signature(String),
}

impl Subject {
    /// Names the subject in cache keys: kind and name, since a signature may look like a
    /// port (`scan/tcp/445`).
    pub fn key(&self) -> String {
        match self {
            Subject::Port(p) => format!("port:{p}"),
            Subject::Signature(s) => format!("signature:{s}"),
        }
    }

    fn name(&self) -> String {
        match self {
            Subject::Port(p) => p.to_string(),
            Subject::Signature(s) => s.clone(),
        }
    }
}

pub fn detail(
    dir: &Path,
    subject: &Subject,
    period: &Period,
    view: View,
    telescope_share: Option<f64>,
) -> Result<Detail, WebError> {
    let store = open(dir)?;
    let period = &visible(&store, period, view)?;
    let (from, to) = (period.from_s, period.to_s);
    let span = kansoku_store::store_span(&store, store.meta().bin_seconds, from, to)?;
    let bin = bin_for(&store, period, span, view);
    let name = subject.name();
    let scope = match subject {
        Subject::Port(PortName(proto, port)) => ChartScope::Port {
            proto: *proto,
            port: *port,
        },
        Subject::Signature(s) => ChartScope::Signature(s.clone()),
    };
    let series = ObservationSeries::read(&store, &scope, bin, from, to)?;
    // Operators learn that nothing was seen. The public gets the same empty page whether
    // a subject had one packet or none: a 404 would tell whoever sent a probe to a candidate
    // sensor address (any odd port is a `scan/...` signature) that the sensor saw it.
    if view.is_operator()
        && series.packets.is_empty()
        && !store.manifest().entries.is_empty()
        && span.is_some()
    {
        return Err(WebError::NotFound(format!(
            "nothing seen on {name} in this period"
        )));
    }
    let mut stacks: Vec<Stack> = series
        .packets
        .into_iter()
        .map(|(name, mut series)| {
            // Totals of the bins shown only (see `ranked_view`).
            view.suppress(&mut series);
            let packets = series.iter().map(|p| p.1).sum::<f64>() as u64;
            Stack {
                name,
                packets,
                series,
            }
        })
        .collect();
    stacks.retain(|s| view.shows(s.packets as f64));
    let mut sources = series.sources;
    view.suppress(&mut sources);
    let hosts = view.is_operator();
    let (rules, networks) = match subject {
        Subject::Port(_) => (
            Vec::new(),
            top_networks(&store, None, Some(&name), hosts, TOP, from, to)?,
        ),
        Subject::Signature(s) => (
            signature_rules(&store, s, from, to)?,
            top_networks(&store, Some(s), None, hosts, TOP, from, to)?,
        ),
    };
    // A network of one or two sources could be the reader's own, probing a candidate
    // sensor address: the public sees only networks with enough sources.
    let mut networks = networks;
    networks.retain(|n| view.shows(n.sources as f64));
    let mut rules = rules;
    rules.retain(|r| view.shows(r.packets as f64));
    let alerts = alert_views(read_alerts(&store, from, to)?, view)
        .filter(|a| a.target == name)
        .collect();
    let estimate = match (subject, telescope_share) {
        (Subject::Signature(s), Some(share)) => {
            population(&store, s, period, share)?.filter(|e| view.shows(e.sources as f64))
        }
        _ => None,
    };
    Ok(Detail {
        estimate,
        period: period_view(period, span, store.meta().bin_seconds, bin, view),
        packets: stacks.iter().map(|s| s.packets).sum(),
        name,
        stacks,
        sources,
        rules,
        networks,
        alerts,
        alerts_from: alerts_from(&store, period, view)?,
    })
}

/// The first time the detector had a baseline, if the period begins before it: a day and two
/// hours after the store's first bin (`kansoku_analyse::alerts::learning_bins`), rounded up
/// to the view's coarsest bin.
fn alerts_from(store: &Store, period: &Period, view: View) -> Result<Option<String>, WebError> {
    let bin_seconds = store.meta().bin_seconds;
    let Some((first, _)) = kansoku_store::store_span(store, bin_seconds, None, None)? else {
        return Ok(None);
    };
    let baseline_from = first + learning_bins(bin_seconds) as i64 * i64::from(bin_seconds);
    let learning =
        baseline_from > period.from_s.unwrap_or(first) && period.to_s.is_none_or(|to| to > first);
    let coarse = i64::from(view.min_bin().max(1));
    Ok(learning.then(|| rfc3339(ceil_to(baseline_from, coarse))))
}

/// The population estimate of `signature` over the period (whole hours; the signature's own
/// hours where the period is open), as `kansoku estimate` computes it with its defaults.
fn population(
    store: &Store,
    signature: &str,
    period: &Period,
    share: f64,
) -> Result<Option<EstimateView>, WebError> {
    let from = period.from_s.map(|t| t.div_euclid(HOUR) * HOUR);
    let to = period.to_s.map(|t| (t + HOUR - 1).div_euclid(HOUR) * HOUR);
    let EstimateInputs { rows, ambiguous } = estimate_inputs(store, signature, from, to)?;
    let from = from.or_else(|| rows.iter().map(|o| o.hour).min());
    let to = to.or_else(|| rows.iter().map(|o| o.hour + HOUR).max());
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(None);
    };
    let config = EstimateConfig {
        share,
        from,
        to,
        confidence: 0.95,
        replicates: 200,
        seed: 1,
    };
    let e = estimate(&rows, &ambiguous, &config);
    Ok(Some(EstimateView {
        sources: e.sources,
        confidence: config.confidence,
        infected: e.at_end.as_ref().map(|h| BandView::from(&h.population)),
        plateau: e.fit.as_ref().map(|f| BandView::from(&f.capacity)),
        doubling_hours: e.fit.as_ref().map(|f| BandView::from(&f.doubling_hours)),
        assumptions: e
            .assumptions
            .iter()
            .map(|a| AssumptionView {
                name: a.name.to_owned(),
                verdict: a.verdict.to_string(),
                detail: a.detail.clone(),
            })
            .collect(),
    }))
}

/// The packet observation chart of a page's data.
pub fn chart(detail: &Detail) -> kansoku_chart::ObservationChart {
    use kansoku_chart::Series;
    let bin = i64::from(detail.period.bin_seconds).max(1);
    let seconds = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    };
    // Zero points at the period's first and last bins: a missing bin is zero to the chart,
    // so the chart spans the whole period and an outbreak rises from the quiet days.
    let mut sources = detail.sources.clone();
    if let (Some(from), Some(to)) = (seconds(&detail.period.from), seconds(&detail.period.to))
        && to > from
    {
        sources.extend([
            (from.div_euclid(bin) * bin, 0.0),
            ((to - 1).div_euclid(bin) * bin, 0.0),
        ]);
        sources.sort_by_key(|p| p.0);
    }
    kansoku_chart::ObservationChart {
        title: format!("Packet observation chart: {} (UTC)", detail.name),
        subtitle: Some(format!(
            "{} to {}",
            detail.period.from.as_deref().unwrap_or("start"),
            detail.period.to.as_deref().unwrap_or("end")
        )),
        bin_seconds: bin,
        packets: detail
            .stacks
            .iter()
            .map(|s| Series::new(s.name.clone(), s.series.clone()))
            .collect(),
        sources: vec![Series::new("distinct sources", sources)],
    }
}

/// The stored alerts raised in the period, oldest first.
pub fn alerts(dir: &Path, period: &Period, view: View) -> Result<Vec<AlertView>, WebError> {
    let store = open(dir)?;
    let period = visible(&store, period, view)?;
    Ok(alert_views(read_alerts(&store, period.from_s, period.to_s)?, view).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[tokio::test]
    async fn queries_past_the_slots_wait_then_get_busy() {
        let slots = Arc::new(Semaphore::new(1));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let running = {
            let slots = slots.clone();
            tokio::spawn(async move {
                limited(&slots, Duration::from_secs(5), move || {
                    hold.recv().ok();
                    Ok(1)
                })
                .await
            })
        };
        while slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = limited(&slots, Duration::from_millis(50), || Ok(2)).await;
        assert!(matches!(refused, Err(WebError::Busy(_))), "{refused:?}");
        assert_eq!(
            refused.unwrap_err().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 1);
        assert_eq!(
            limited(&slots, Duration::from_millis(50), || Ok(3))
                .await
                .unwrap(),
            3
        );
    }
}
