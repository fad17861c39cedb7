//! `kansoku serve`: the observation system's publication. Server-rendered HTML pages that
//! work without JavaScript, a JSON API under `/api/v1` that returns what the pages show,
//! charts as SVG or PNG, advisories with their update history (`--advisories DIR`),
//! infection-report intake, operator accounts and owner tokens (`auth`), a public view that
//! does not map the sensors (`view`), `/healthz` and Prometheus `/metrics`.
//!
//! Answers computed from the store are kept until an ingest commits (`cache`), so data
//! committed beside the server shows on the next request; queries run on tokio's blocking
//! pool because the store's SQL engine drives its own runtime.

pub mod advisories;
mod api;
pub mod auth;
mod cache;
mod data;
mod error;
mod intake;
mod limits;
mod login;
mod metrics;
mod owner_api;
mod pages;
mod period;
pub mod reports;
mod sparkline;
mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};

pub use error::WebError;
pub use period::Period;
pub use view::PublicPolicy;

/// What the server serves and how: `kansoku serve`'s options.
#[derive(Clone, Debug)]
pub struct Config {
    /// The store directory.
    pub store: PathBuf,
    /// Infection reports one client may send per hour.
    pub reports_per_hour: usize,
    /// What the public view holds back.
    pub public: PublicPolicy,
    /// The telescope's share of IPv4 (`kansoku_store::population::telescope_share`): with
    /// it, signature pages show the infected-population estimate.
    pub telescope_share: Option<f64>,
    /// The advisories directory; without it the advisory routes answer 404 saying how to
    /// enable them.
    pub advisories: Option<PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: a request from one of them is
    /// counted against the address the proxy appended, not against the proxy.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Config {
    /// Serve `store` with the default limits.
    pub fn new(store: PathBuf) -> Self {
        Config {
            store,
            reports_per_hour: 10,
            public: PublicPolicy::default(),
            advisories: None,
            telescope_share: None,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The largest request body accepted: a report is a few hundred bytes, the form's text
/// field at most 2,000 characters.
const MAX_BODY: usize = 16 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    store_dir: Arc<PathBuf>,
    metrics: Arc<metrics::Metrics>,
    sessions: Arc<auth::Sessions>,
    report_limit: Arc<limits::RateLimit>,
    login_limit: Arc<limits::RateLimit>,
    /// Password checks running at once: each Argon2 hash takes 19 MiB and a blocking
    /// thread, so logins from many addresses must not pile them up.
    password_checks: Arc<tokio::sync::Semaphore>,
    /// Serialises appends to the report log.
    report_writer: Arc<Mutex<()>>,
    public: PublicPolicy,
    advisories: Option<Arc<PathBuf>>,
    caches: Arc<Caches>,
    telescope_share: Option<f64>,
    trusted_proxies: Arc<Vec<std::net::IpAddr>>,
}

/// Answers kept until the store changes (see `cache`).
#[derive(Default)]
struct Caches {
    overview: cache::Cache<data::Overview>,
    detail: cache::Cache<data::Detail>,
    chart: cache::Cache<Vec<u8>>,
}

/// The whole application.
pub fn app(config: Config) -> Router {
    let state = AppState {
        store_dir: Arc::new(config.store),
        metrics: Arc::new(metrics::Metrics::default()),
        sessions: Arc::new(auth::Sessions::default()),
        report_limit: Arc::new(limits::RateLimit::new(
            config.reports_per_hour,
            Duration::from_secs(3600),
        )),
        login_limit: Arc::new(limits::RateLimit::new(10, Duration::from_secs(900))),
        password_checks: Arc::new(tokio::sync::Semaphore::new(2)),
        report_writer: Arc::new(Mutex::new(())),
        public: config.public,
        advisories: config.advisories.map(Arc::new),
        caches: Arc::new(Caches::default()),
        telescope_share: config.telescope_share,
        trusted_proxies: Arc::new(config.trusted_proxies),
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
        .route("/report", get(intake::form).post(intake::submit_form))
        .route("/reports", get(intake::counts_page))
        .route(
            "/api/v1/reports",
            get(intake::list).post(intake::submit_json),
        )
        .route("/api/v1/reports/daily", get(intake::daily))
        .route("/api/v1/owner/hosts", get(owner_api::hosts))
        .route("/login", get(login::form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/operator", get(login::operator_page))
        .route("/advisories", get(advisories::web::list_page))
        .route("/advisories/{id}", get(advisories::web::page))
        .route(
            "/advisories/{id}/revisions/{n}",
            get(advisories::web::revision_page),
        )
        .route(
            "/advisories/{id}/edit",
            get(advisories::edit::form).post(advisories::edit::submit),
        )
        .route("/api/v1/advisories", get(advisories::web::api_list))
        .route("/api/v1/advisories/{id}", get(advisories::web::api_one))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::render))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Headers on every answer. The pages need no script, no frame and nothing from elsewhere,
/// so the policy allows none; and what a page shows depends on the session cookie (operator
/// or public view), so no shared cache may keep it.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; connect-src 'self'; img-src 'self' data:; \
             style-src 'unsafe-inline'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::VARY, "Cookie"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// Serve until `shutdown` completes, then finish the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address keys the per-client limits.
    axum::serve(
        listener,
        app(config).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
