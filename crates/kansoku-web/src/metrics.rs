//! Prometheus metrics: requests and their latency per route, and the store's ingest totals
//! per sensor (read from the manifest when scraped).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::data::blocking;
use crate::view::View;
use crate::{AppState, WebError};

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, u16), RouteStats>>,
}

#[derive(Default)]
struct RouteStats {
    count: u64,
    sum_s: f64,
    /// Requests at or under each bound of `BUCKETS`.
    buckets: [u64; BUCKETS.len()],
}

impl Metrics {
    fn observe(&self, route: String, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry((route, status)).or_default();
        stats.count += 1;
        stats.sum_s += seconds;
        for (bound, n) in BUCKETS.iter().zip(&mut stats.buckets) {
            if seconds <= *bound {
                *n += 1;
            }
        }
    }
}

/// Middleware: times every request under its route pattern (`/port/{proto}/{port}`, never
/// the raw path, so the label set stays small).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`, in the Prometheus text exposition format. The per-sensor ingest counters
/// are for operators only: exact frame counts, current to the last ingest, would let anyone
/// probe a candidate sensor address and watch its counter move.
pub async fn render(State(state): State<AppState>, view: View) -> Result<Response, WebError> {
    let dir = state.store_dir.clone();
    let sensors = blocking(move || {
        let mut sensors: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        if !view.is_operator() {
            return Ok(sensors);
        }
        let store = kansoku_store::Store::open(&dir)?;
        for e in &store.manifest().entries {
            let s = sensors.entry(e.sensor.clone()).or_default();
            s.0 += e.frames;
            s.1 += e.malformed.values().sum::<u64>();
            s.2 += 1;
        }
        Ok(sensors)
    })
    .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP kansoku_ingested_frames_total Frames ingested into the store."
    );
    let _ = writeln!(out, "# TYPE kansoku_ingested_frames_total counter");
    for (sensor, (frames, _, _)) in &sensors {
        let _ = writeln!(
            out,
            "kansoku_ingested_frames_total{{sensor=\"{}\"}} {frames}",
            escape(sensor)
        );
    }
    let _ = writeln!(
        out,
        "# HELP kansoku_malformed_frames_total Frames dropped as malformed."
    );
    let _ = writeln!(out, "# TYPE kansoku_malformed_frames_total counter");
    for (sensor, (_, malformed, _)) in &sensors {
        let _ = writeln!(
            out,
            "kansoku_malformed_frames_total{{sensor=\"{}\"}} {malformed}",
            escape(sensor)
        );
    }
    let _ = writeln!(
        out,
        "# HELP kansoku_ingested_inputs_total Captures committed to the store."
    );
    let _ = writeln!(out, "# TYPE kansoku_ingested_inputs_total counter");
    for (sensor, (_, _, inputs)) in &sensors {
        let _ = writeln!(
            out,
            "kansoku_ingested_inputs_total{{sensor=\"{}\"}} {inputs}",
            escape(sensor)
        );
    }
    let _ = writeln!(
        out,
        "# HELP kansoku_http_request_duration_seconds Time to answer a request."
    );
    let _ = writeln!(
        out,
        "# TYPE kansoku_http_request_duration_seconds histogram"
    );
    let routes = state
        .metrics
        .routes
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    for ((route, status), stats) in routes.iter() {
        let labels = format!("route=\"{}\",status=\"{status}\"", escape(route));
        for (bound, n) in BUCKETS.iter().zip(&stats.buckets) {
            let _ = writeln!(
                out,
                "kansoku_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "kansoku_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            stats.count
        );
        let _ = writeln!(
            out,
            "kansoku_http_request_duration_seconds_sum{{{labels}}} {}",
            stats.sum_s
        );
        let _ = writeln!(
            out,
            "kansoku_http_request_duration_seconds_count{{{labels}}} {}",
            stats.count
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// A label value with `\`, `"` and newlines escaped, as the exposition format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
