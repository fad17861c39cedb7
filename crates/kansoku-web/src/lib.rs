//! `kansoku serve`: the observation system's publication. Server-rendered HTML pages that
//! work without JavaScript, a JSON API under `/api/v1` that returns what the pages show,
//! charts as SVG or PNG, advisories with their update history (`--advisories DIR`),
//! `/healthz` and Prometheus `/metrics`.
//!
//! Every request opens the store afresh, so data committed by an ingest running beside the
//! server shows on the next request; queries run on tokio's blocking pool because the store's
//! SQL engine drives its own runtime.

pub mod advisories;
mod api;
mod data;
mod error;
mod metrics;
mod pages;
mod period;
mod sparkline;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use error::WebError;
pub use period::Period;

/// What the server serves and how: `kansoku serve`'s options.
#[derive(Clone, Debug)]
pub struct Config {
    /// The store directory.
    pub store: PathBuf,
    /// The advisories directory; without it the advisory routes answer 404 saying how to
    /// enable them.
    pub advisories: Option<PathBuf>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    store_dir: Arc<PathBuf>,
    metrics: Arc<metrics::Metrics>,
    advisories: Option<Arc<PathBuf>>,
}

/// The whole application.
pub fn app(config: Config) -> Router {
    let state = AppState {
        store_dir: Arc::new(config.store),
        metrics: Arc::new(metrics::Metrics::default()),
        advisories: config.advisories.map(Arc::new),
    };
    Router::new()
        .route("/", get(pages::overview))
        .route("/port/{proto}/{port}", get(pages::port))
        .route("/signature/{name}", get(pages::signature))
        .route("/chart/port/{proto}/{file}", get(api::port_chart))
        .route("/chart/signature/{file}", get(api::signature_chart))
        .route("/api/v1/overview", get(api::overview))
        .route("/api/v1/ports/{proto}/{port}", get(api::port))
        .route("/api/v1/signatures/{name}", get(api::signature))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/advisories", get(advisories::web::list_page))
        .route("/advisories/{id}", get(advisories::web::page))
        .route(
            "/advisories/{id}/revisions/{n}",
            get(advisories::web::revision_page),
        )
        .route("/api/v1/advisories", get(advisories::web::api_list))
        .route("/api/v1/advisories/{id}", get(advisories::web::api_one))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::render))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Serve until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    axum::serve(listener, app(config)).await
}
