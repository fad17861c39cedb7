//! The dashboard and JSON API (`kansoku serve`, crate kansoku-web) over a store of a simulated
//! Blaster outbreak: every endpoint, its errors, and the server process itself.

mod common;

use common::{blaster_store, p, run, run_failing, set_cookie, simulate_blaster};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kansoku_web::auth::{CSRF_COOKIE, SESSION_COOKIE};
use serde_json::Value;
use tower::ServiceExt;

/// One store for every test: two quiet days, then a day of Blaster, from sensor `tokyo`.
fn store() -> &'static Path {
    static STORE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, store) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = blaster_store(dir.path());
        (dir, store)
    });
    store
}

fn sql(query: &str) -> Vec<Value> {
    let out = run(&["sql", "--store", p(store()), "--format", "json", query]);
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// An application over the shared store with an operator logged in through the real
/// login form, and the cookies of that session. Operators see every count, so the figures
/// compare with SQL; `public_get` shows what everyone else sees.
fn operator_app() -> &'static (axum::Router, String) {
    static APP: OnceLock<(axum::Router, String)> = OnceLock::new();
    APP.get_or_init(|| {
        // Its own runtime on its own thread: the caller is inside a test's runtime.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                kansoku_web::auth::set_operator(store(), "tester", "a long test password").unwrap();
                let app = kansoku_web::app(kansoku_web::Config::new(store().to_path_buf()));
                let cookies = log_in(&app).await;
                (app, cookies)
            })
        })
        .join()
        .unwrap()
    })
}

async fn answer(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

/// Logs in as `tester` (password "a long test password") through the login form; returns
/// the cookies of the session.
async fn log_in(app: &axum::Router) -> String {
    let (_, headers, _) = send(app, get_request("/login")).await;
    let csrf = set_cookie(&headers, CSRF_COOKIE);
    let token = csrf.split_once('=').unwrap().1.to_owned();
    let body = format!("csrf={token}&name=tester&password=a+long+test+password");
    let (status, headers, _) = send(app, form_post("/login", &csrf, &body)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = set_cookie(&headers, SESSION_COOKIE);
    format!("{csrf}; {session}")
}

/// `uri` through `app`, as the public.
async fn get_from(app: &axum::Router, uri: &str) -> Answer {
    answer(app, get_request(uri)).await
}

/// `uri` as an operator sees it.
async fn get(uri: &str) -> Answer {
    let (app, cookies) = operator_app();
    let request = Request::get(uri)
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap();
    answer(app, request).await
}

/// `uri` as the public sees it, under `policy`.
async fn public_get(uri: &str, policy: kansoku_web::PublicPolicy) -> Answer {
    let app = kansoku_web::app(kansoku_web::Config {
        public: policy,
        ..kansoku_web::Config::new(store().to_path_buf())
    });
    answer(&app, get_request(uri)).await
}

async fn get_ok(uri: &str) -> Answer {
    let answer = get(uri).await;
    assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
    answer
}

fn names(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn overview_api_ranks_blaster_first_and_counts_what_was_ingested() {
    let o = get_ok("/api/v1/overview").await.json();
    assert_eq!(names(&o["ports"])[0], "tcp/135", "{o}");
    assert!(names(&o["signatures"]).contains(&"blaster"), "{o}");
    let packets: u64 = sql(
        "SELECT sum(packets) AS n FROM observations WHERE dst_port = 135 AND proto = 6",
    )[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(o["ports"][0]["packets"].as_u64(), Some(packets));
    let sensors = o["sensors"].as_array().unwrap();
    assert_eq!(sensors.len(), 1);
    assert_eq!(sensors[0]["sensor"], "tokyo");
    assert!(sensors[0]["frames"].as_u64().unwrap() >= packets);
    assert!(
        o["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["target"] == "blaster" && a["kind"] == "onset"),
        "{o}"
    );
    // The last day is Blaster's; the quiet days before it are the baseline.
    let now = o["sources"]["sources"].as_f64().unwrap();
    let baseline = o["sources"]["baseline"].as_f64().unwrap();
    assert!(now > 2.0 * baseline, "{now} vs {baseline}");
    // The whole store's period starts without a baseline; the overview says until when, and
    // a period from then on has nothing to say.
    let first = sql("SELECT min(bin_start) AS t FROM observations")[0]["t"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = chrono::DateTime::parse_from_rfc3339(&first).unwrap();
    let alerts_from = o["alerts_from"].as_str().unwrap_or_else(|| panic!("{o}"));
    let alerts_from = chrono::DateTime::parse_from_rfc3339(alerts_from).unwrap();
    assert_eq!((alerts_from - first).num_hours(), 26);
    let later = get_ok(&format!(
        "/api/v1/overview?from={}",
        alerts_from.format("%Y-%m-%dT%H:%M:%SZ")
    ))
    .await
    .json();
    assert!(later["alerts_from"].is_null(), "{later}");
    let page = get_ok("/").await.text();
    assert!(page.contains("No alert can be raised before"), "{page}");
}

#[tokio::test]
async fn overview_page_links_ports_and_signatures_and_draws_sparklines() {
    let a = get_ok("/").await;
    assert!(
        a.content_type.starts_with("text/html"),
        "{}",
        a.content_type
    );
    let html = a.text();
    for needle in [
        "Top ports",
        "href=\"/port/tcp/135\"",
        "href=\"/signature/blaster\"",
        "<svg",
        "tokyo",
        "name=\"from\"",
    ] {
        assert!(html.contains(needle), "overview lacks {needle}");
    }
    // The period picker's values come back into the links.
    let html = get_ok("/?from=2003-08-11&bin=1h").await.text();
    assert!(html.contains("href=\"/port/tcp/135?from=2003-08-11&amp;bin=1h\""));
}

#[tokio::test]
async fn period_filters_the_overview() {
    let quiet = get_ok("/api/v1/overview?to=2003-08-11").await.json();
    assert!(
        !names(&quiet["signatures"]).contains(&"blaster"),
        "no Blaster before the outbreak: {quiet}"
    );
    assert_eq!(quiet["period"]["to"], "2003-08-11T00:00:00Z");
    let hourly = get_ok("/api/v1/overview?bin=1h").await.json();
    assert_eq!(hourly["period"]["bin_seconds"], 3600);
}

#[tokio::test]
async fn port_api_stacks_by_signature_and_matches_the_store() {
    let d = get_ok("/api/v1/ports/tcp/135?bin=1h").await.json();
    assert_eq!(d["name"], "tcp/135");
    let total: u64 = sql(
        "SELECT sum(packets) AS n FROM observations WHERE dst_port = 135 AND proto = 6",
    )[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(d["packets"].as_u64(), Some(total));
    let stacks = d["stacks"].as_array().unwrap();
    let blaster = stacks.iter().find(|s| s["name"] == "blaster").expect("{d}");
    let summed: f64 = blaster["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .sum();
    assert_eq!(summed as u64, blaster["packets"].as_u64().unwrap());
    // Hourly bins: every bin start is on the hour.
    assert!(
        blaster["series"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p[0].as_i64().unwrap() % 3600 == 0)
    );
    assert!(!d["sources"].as_array().unwrap().is_empty());
    assert!(!d["networks"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn signature_api_and_page_show_the_rules_and_the_chart() {
    let d = get_ok("/api/v1/signatures/blaster").await.json();
    let rules = d["rules"].as_array().unwrap();
    assert!(!rules.is_empty(), "{d}");
    assert!(
        d["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "tcp/135")
    );
    let html = get_ok("/signature/blaster").await.text();
    assert!(html.contains("Rules that matched"));
    assert!(html.contains(rules[0]["rule"].as_str().unwrap()));
    assert!(html.contains("<svg"), "the chart is inline SVG");
    assert!(html.contains("href=\"/chart/signature/blaster.png\""));
    let html = get_ok("/port/tcp/135").await.text();
    assert!(html.contains("Top sources"), "operators see hosts");
    assert!(html.contains("href=\"/signature/blaster\""));
}

#[tokio::test]
async fn charts_are_served_as_svg_and_png() {
    let svg = get_ok("/chart/port/tcp/135.svg").await;
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.text().contains("<svg") && svg.text().contains("tcp/135"));
    // A worm the store has not seen: an empty chart that says so (advisories embed charts).
    let none = get_ok("/chart/signature/welchia.svg").await;
    assert!(
        none.text().contains("nothing seen on welchia"),
        "{}",
        none.text()
    );
    let png = get_ok("/chart/signature/blaster.png?bin=1d").await;
    assert_eq!(png.content_type, "image/png");
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
}

#[tokio::test]
async fn alerts_api_lists_stored_alerts_in_the_period() {
    let all = get_ok("/api/v1/alerts").await.json();
    let stored = sql("SELECT count(*) AS n FROM alerts")[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(all.as_array().unwrap().len() as u64, stored);
    assert!(stored > 0);
    let before = get_ok("/api/v1/alerts?to=2003-08-11").await.json();
    assert_eq!(before.as_array().unwrap().len(), 0, "{before}");
}

#[tokio::test]
async fn bad_parameters_get_a_sentence_and_the_right_status() {
    for (uri, status, says) in [
        ("/api/v1/overview?from=yesterday", 400, "is not a time"),
        ("/api/v1/overview?bin=7m", 400, "not one of 5m, 1h, 1d"),
        (
            "/api/v1/overview?from=2003-08-12&to=2003-08-11",
            400,
            "before",
        ),
        ("/api/v1/ports/sctp/1", 400, "sctp"),
        ("/api/v1/ports/tcp/70000", 400, "70000"),
        ("/port/tcp/nope", 400, "nope"),
        ("/api/v1/signatures/no-such-worm", 404, "nothing seen"),
        ("/chart/port/tcp/135.gif", 404, ".svg or NAME.png"),
    ] {
        let a = get(uri).await;
        assert_eq!(a.status.as_u16(), status, "{uri}: {}", a.text());
        let error = a.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{uri}: {error}");
    }
    assert_eq!(get("/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn healthz_and_metrics() {
    assert_eq!(get_ok("/healthz").await.text(), "ok\n");
    let app = kansoku_web::app(kansoku_web::Config::new(store().to_path_buf()));
    // Metrics are per application: request twice through the same one.
    let request = |uri: &str| get_request(uri);
    let r = app
        .clone()
        .oneshot(request("/api/v1/alerts"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.oneshot(request("/metrics")).await.unwrap();
    let text = String::from_utf8(
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    // Exact per-sensor counters could map the sensors: operators only.
    assert!(!text.contains("kansoku_ingested_frames_total{"), "{text}");
    let operator = get_ok("/metrics").await.text();
    assert!(
        operator.contains("kansoku_ingested_frames_total{sensor=\"tokyo\"}"),
        "{operator}"
    );
    assert!(
        text.contains(
            "kansoku_http_request_duration_seconds_count{route=\"/api/v1/alerts\",status=\"200\"} 1"
        ),
        "{text}"
    );
    let missing = kansoku_web::app(kansoku_web::Config::new(PathBuf::from(
        "/nonexistent/kansoku-store",
    )))
    .oneshot(request("/healthz"))
    .await
    .unwrap();
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(missing.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("internal error"), "{body}");
    assert!(
        !body.contains("/nonexistent"),
        "server paths stay in the log: {body}"
    );
}

/// Every answer forbids scripts, frames and outside resources, and no shared cache may keep
/// it (what it shows depends on the session).
#[tokio::test]
async fn answers_carry_the_security_headers() {
    let app = kansoku_web::app(kansoku_web::Config::new(store().to_path_buf()));
    for uri in ["/", "/api/v1/overview", "/nonexistent"] {
        let (_, headers, _) = send(&app, get_request(uri)).await;
        let value = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert!(
            value(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"),
            "{uri}: {headers:?}"
        );
        assert_eq!(value(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(value(header::CACHE_CONTROL), "private, no-store", "{uri}");
        assert_eq!(value(header::VARY), "Cookie", "{uri}");
    }
}

/// The real server process: binds a free port, prints its address, answers on it.
#[test]
fn serve_listens_and_prints_its_address() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kansoku"))
        .args(["serve", "--store", p(store()), "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");

    let out = Command::new(env!("CARGO_BIN_EXE_kansoku"))
        .args(["serve", "--store", "/nonexistent/kansoku-store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/kansoku-store"));
}

/// A request through a fresh application over `store` (the per-client limits and sessions
/// live in the application, so tests that need them share one `Router`).
async fn send(
    app: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get_request(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn json_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn form_post(uri: &str, cookies: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn from_client(mut request: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    let peer = std::net::SocketAddr::from((ip, 40000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    request
}

const REPORT: &str = r#"{"signature":"blaster","date":"2003-08-12","os":"Windows XP","text":"reboots every minute","contact":"taro@example.jp"}"#;

#[tokio::test]
async fn reports_are_stored_counted_publicly_and_shown_whole_only_to_operators() {
    let dir = tempfile::tempdir().unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    let (status, _, body) = send(&app, json_post("/api/v1/reports", REPORT)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(id["id"], 1);
    let welchia = REPORT.replace("blaster", "welchia");
    assert_eq!(
        send(&app, json_post("/api/v1/reports", &welchia)).await.0,
        StatusCode::CREATED
    );
    // Durable: a new application over the same directory sees both.
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    let (status, _, daily) = send(&app, get_request("/api/v1/reports/daily")).await;
    assert_eq!(status, StatusCode::OK);
    let daily: Value = serde_json::from_str(&daily).unwrap();
    assert_eq!(
        daily,
        serde_json::json!([
            {"date": "2003-08-12", "signature": "blaster", "reports": 1},
            {"date": "2003-08-12", "signature": "welchia", "reports": 1}
        ])
    );
    let (_, _, page) = send(&app, get_request("/reports")).await;
    assert!(page.contains("<svg") && page.contains("welchia"));
    assert!(
        !page.contains("taro@example.jp"),
        "no contact on the public page"
    );
    let (status, _, _) = send(&app, get_request("/api/v1/reports")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the reports are for operators"
    );
}

#[tokio::test]
async fn malformed_and_oversized_reports_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    for (body, status, says) in [
        (REPORT.replace("blaster", "codered"), 400, "signature"),
        (
            REPORT.replace("2003-08-12", "2003-13-01"),
            400,
            "YYYY-MM-DD",
        ),
        (REPORT.replace("2003-08-12", "2999-01-01"), 400, "today"),
        (REPORT.replace("Windows XP", "<script>"), 400, "os"),
        (
            REPORT.replace("reboots every minute", &"x".repeat(2001)),
            400,
            "2000",
        ),
        ("{\"signature\": \"blaster\"".to_owned(), 400, ""),
        ("{\"signature\": 7}".to_owned(), 422, ""),
        (format!("{{\"text\": \"{}\"}}", "x".repeat(20_000)), 413, ""),
    ] {
        let (got, _, answer) = send(&app, json_post("/api/v1/reports", &body)).await;
        assert_eq!(
            got.as_u16(),
            status,
            "{}: {answer}",
            &body[..body.len().min(60)]
        );
        assert!(answer.contains(says), "{answer}");
    }
    let plain = Request::post("/api/v1/reports")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(REPORT))
        .unwrap();
    assert_eq!(
        send(&app, plain).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert!(
        !dir.path().join("web/reports.jsonl").exists(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn reports_are_rate_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let app = kansoku_web::app(kansoku_web::Config {
        reports_per_hour: 2,
        ..kansoku_web::Config::new(dir.path().to_path_buf())
    });
    let a = [192, 0, 2, 1];
    for _ in 0..2 {
        let r = from_client(json_post("/api/v1/reports", REPORT), a);
        assert_eq!(send(&app, r).await.0, StatusCode::CREATED);
    }
    let (status, headers, body) =
        send(&app, from_client(json_post("/api/v1/reports", REPORT), a)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 3500 && retry <= 3600, "{retry}");
    let other = from_client(json_post("/api/v1/reports", REPORT), [192, 0, 2, 2]);
    assert_eq!(
        send(&app, other).await.0,
        StatusCode::CREATED,
        "another client is not limited"
    );
}

/// Behind a trusted reverse proxy each forwarded client has its own quota; from anyone else
/// `X-Forwarded-For` is ignored, so it cannot be used to draw fresh quotas.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = [10, 0, 0, 2];
    let app = kansoku_web::app(kansoku_web::Config {
        reports_per_hour: 1,
        trusted_proxies: vec![proxy.into()],
        ..kansoku_web::Config::new(dir.path().to_path_buf())
    });
    let via = |peer: [u8; 4], forwarded: &str| {
        let mut r = from_client(json_post("/api/v1/reports", REPORT), peer);
        r.headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        r
    };
    let created = StatusCode::CREATED;
    assert_eq!(send(&app, via(proxy, "198.51.100.1")).await.0, created);
    assert_eq!(send(&app, via(proxy, "198.51.100.2")).await.0, created);
    assert_eq!(
        send(&app, via(proxy, "203.0.113.5, 198.51.100.1")).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the proxy's own entry counts, not what the client prepended"
    );
    let elsewhere = [192, 0, 2, 9];
    assert_eq!(send(&app, via(elsewhere, "198.51.100.3")).await.0, created);
    assert_eq!(
        send(&app, via(elsewhere, "198.51.100.4")).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "an untrusted peer is itself the client"
    );
}

const FORM: &str =
    "signature=welchia&date=2003-08-19&os=Windows+2000&text=ICMP+storm&contact=ops%40example.jp";

#[tokio::test]
async fn the_report_form_needs_its_csrf_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    let (status, headers, page) = send(&app, get_request("/report")).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = set_cookie(&headers, CSRF_COOKIE);
    let token = cookie.split_once('=').unwrap().1;
    assert!(page.contains(&format!("name=\"csrf\" value=\"{token}\"")));
    // No token, a wrong one, or no cookie: refused.
    for (cookies, body) in [
        (cookie.clone(), FORM.to_owned()),
        (cookie.clone(), format!("csrf={}&{FORM}", "0".repeat(32))),
        (String::new(), format!("csrf={token}&{FORM}")),
    ] {
        let (status, _, answer) = send(&app, form_post("/report", &cookies, &body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    let (status, _, answer) = send(
        &app,
        form_post("/report", &cookie, &format!("csrf={token}&{FORM}")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(answer.contains("Thank you"));
    // A mistake shows the form again with the error.
    let wrong = format!("csrf={token}&{}", FORM.replace("2003-08-19", "yesterday"));
    let (status, _, answer) = send(&app, form_post("/report", &cookie, &wrong)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.contains("is not YYYY-MM-DD") && answer.contains("<form"));
    let (_, _, daily) = send(&app, get_request("/api/v1/reports/daily")).await;
    assert!(
        daily.contains("\"reports\":1") && daily.contains("welchia"),
        "{daily}"
    );
}

#[tokio::test]
async fn operators_log_in_see_contacts_and_log_out() {
    let dir = tempfile::tempdir().unwrap();
    kansoku_web::auth::set_operator(dir.path(), "sato", "correct horse battery").unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    assert_eq!(
        send(&app, json_post("/api/v1/reports", REPORT)).await.0,
        StatusCode::CREATED
    );
    let (_, headers, _) = send(&app, get_request("/login")).await;
    let csrf = set_cookie(&headers, CSRF_COOKIE);
    let token = csrf.split_once('=').unwrap().1.to_owned();
    let login = |password: &str, with_token: bool| {
        let body = if with_token {
            format!("csrf={token}&name=sato&password={password}")
        } else {
            format!("name=sato&password={password}")
        };
        form_post("/login", &csrf, &body)
    };
    assert_eq!(
        send(&app, login("correct+horse+battery", false)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, headers, _) = send(&app, login("wrong+horse+battery", true)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers.get(header::SET_COOKIE).is_none(),
        "no session for a wrong password"
    );
    let (status, headers, _) = send(&app, login("correct+horse+battery", true)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let raw = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        raw.contains("HttpOnly") && raw.contains("Secure") && raw.contains("SameSite=Strict"),
        "{raw}"
    );
    // What the `__Host-` prefix requires, or browsers drop the cookie.
    assert!(
        raw.starts_with("__Host-") && raw.contains("Path=/;") && !raw.contains("Domain"),
        "{raw}"
    );
    let session = set_cookie(&headers, SESSION_COOKIE);
    let cookies = format!("{csrf}; {session}");
    let with = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, &cookies)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, page) = send(&app, with("/operator")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("taro@example.jp"));
    let (status, _, list) = send(&app, with("/api/v1/reports")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("\"contact\":\"taro@example.jp\""), "{list}");
    // A forged session id, and then the real one after logout, are refused.
    let forged = Request::get("/operator")
        .header(
            header::COOKIE,
            format!("{SESSION_COOKIE}={}", "ab".repeat(32)),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, forged).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(
        &app,
        form_post("/logout", &cookies, &format!("csrf={token}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&app, with("/operator")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// Removing an operator, or giving them a new password, ends their sessions at once; the
/// server needs no restart.
#[tokio::test]
async fn removing_an_operator_or_changing_the_password_ends_the_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let capture = dir.path().join("b.pcap");
    simulate_blaster(&capture, 2, 1, 1);
    run(&["ingest", "--store", p(&store), p(&capture)]);
    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    let operator_page = |cookies: &str| {
        Request::get("/operator")
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .unwrap()
    };

    let cookies = log_in(&app).await;
    assert_eq!(send(&app, operator_page(&cookies)).await.0, StatusCode::OK);
    kansoku_web::auth::set_operator(&store, "tester", "another long password").unwrap();
    assert_eq!(
        send(&app, operator_page(&cookies)).await.0,
        StatusCode::UNAUTHORIZED,
        "a new password ends the old sessions"
    );

    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let cookies = log_in(&app).await;
    assert_eq!(send(&app, operator_page(&cookies)).await.0, StatusCode::OK);
    let listed = run(&["operator", "list", "--store", p(&store)]);
    assert_eq!(String::from_utf8(listed.stdout).unwrap(), "tester\n");
    run(&["operator", "remove", "--store", p(&store), "tester"]);
    assert_eq!(
        send(&app, operator_page(&cookies)).await.0,
        StatusCode::UNAUTHORIZED,
        "a removed operator is logged out"
    );
    let overview = Request::get("/api/v1/overview")
        .header(header::COOKIE, &cookies)
        .body(Body::empty())
        .unwrap();
    let sensors = answer(&app, overview).await.json()["sensors"].clone();
    assert_eq!(sensors, serde_json::json!([]), "the public view again");
    let stderr = run_failing(&["operator", "remove", "--store", p(&store), "tester"]);
    assert!(stderr.contains("no operator named `tester`"), "{stderr}");
}

#[tokio::test]
async fn login_attempts_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(dir.path().to_path_buf()));
    let csrf = format!("{CSRF_COOKIE}={}", "a".repeat(32));
    let body = format!("csrf={}&name=sato&password=guess", "a".repeat(32));
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(
            send(&app, form_post("/login", &csrf, &body))
                .await
                .0
                .as_u16(),
        );
    }
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[10], 429);
}

/// Two owners split the address space in halves; each token sees exactly its half of the
/// hosts `kansoku owners` lists, never the other's.
#[tokio::test]
async fn owner_tokens_see_only_their_own_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("owners.csv");
    std::fs::write(
        &csv,
        "prefix,owner,contact\n0.0.0.0/1,Low Net,noc@low.example\n128.0.0.0/1,High Net,noc@high.example\n",
    )
    .unwrap();
    let token = |owner: &str| {
        let out = run(&[
            "token",
            "add",
            "--store",
            p(store()),
            "--owner",
            owner,
            "--prefixes",
            p(&csv),
        ]);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (low, high) = (token("Low Net"), token("High Net"));
    assert_eq!(low.len(), 64);
    let tokens = std::fs::read_to_string(store().join("web/tokens.json")).unwrap();
    assert!(!tokens.contains(&low), "tokens are stored hashed");

    let cli: Value = serde_json::from_slice(
        &run(&[
            "owners",
            "--store",
            p(store()),
            "--prefixes",
            p(&csv),
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let hosts_of = |doc: &Value, owner: &str| -> Vec<String> {
        doc["owners"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["name"] == owner)
            .flat_map(|o| o["hosts"].as_array().unwrap().iter())
            .map(|h| format!("{} {}", h["src"], h["signature"]))
            .collect()
    };
    let app = kansoku_web::app(kansoku_web::Config::new(store().to_path_buf()));
    let with_token = |token: &str| {
        Request::get("/api/v1/owner/hosts")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    for (owner, token, first_octets) in [("Low Net", &low, 0..128), ("High Net", &high, 128..256)] {
        let (status, _, body) = send(&app, with_token(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["schema"], "kansoku.owner-report/1");
        let owners: Vec<&Value> = doc["owners"].as_array().unwrap().iter().collect();
        assert_eq!(owners.len(), 1, "one owner per token");
        assert_eq!(owners[0]["name"], owner);
        let hosts = hosts_of(&doc, owner);
        assert!(!hosts.is_empty());
        assert_eq!(
            hosts,
            hosts_of(&cli, owner),
            "the API lists what the CLI lists"
        );
        for h in owners[0]["hosts"].as_array().unwrap() {
            let octet: u32 = h["src"]
                .as_str()
                .unwrap()
                .split('.')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(first_octets.contains(&octet), "{owner} sees {}", h["src"]);
        }
    }
    let csv_request = Request::get("/api/v1/owner/hosts?format=csv")
        .header(header::AUTHORIZATION, format!("Bearer {low}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&app, csv_request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(body.lines().count() > 1 && !body.contains("High Net"));
    // The scheme name is case-insensitive.
    let lower = Request::get("/api/v1/owner/hosts")
        .header(header::AUTHORIZATION, format!("bearer {low}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, lower).await.0, StatusCode::OK);
    for auth in [None, Some("Bearer nope".to_owned()), Some(low.clone())] {
        let mut r = Request::get("/api/v1/owner/hosts");
        if let Some(a) = &auth {
            r = r.header(header::AUTHORIZATION, a);
        }
        let (status, _, _) = send(&app, r.body(Body::empty()).unwrap()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{auth:?} without a bearer token"
        );
    }

    // Revoking High Net's tokens locks out High Net at the next request, and only High Net.
    let listed = String::from_utf8(run(&["token", "list", "--store", p(store())]).stdout).unwrap();
    assert!(
        listed.contains("High Net\t1") && listed.contains("Low Net\t1"),
        "{listed}"
    );
    let revoke_high = [
        "token",
        "revoke",
        "--store",
        p(store()),
        "--owner",
        "High Net",
    ];
    run(&revoke_high);
    assert_eq!(
        send(&app, with_token(&high)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&app, with_token(&low)).await.0, StatusCode::OK);
    let again = run_failing(&revoke_high);
    assert!(
        again.contains("no token for an owner named `High Net`"),
        "{again}"
    );
}

/// The public view holds back what could map the sensors (Shinoda et al. 2005): bins of at
/// least an hour, no count under the threshold, the newest data delayed, networks as /24.
#[tokio::test]
async fn the_public_view_is_coarse_delayed_and_thresholded() {
    let policy = kansoku_web::PublicPolicy {
        delay_s: 6 * 3600,
        min_bin_s: 3600,
        min_count: 5,
    };
    let public = public_get("/api/v1/ports/tcp/135?bin=5m", policy).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let public = public.json();
    let operator = get_ok("/api/v1/ports/tcp/135?bin=5m").await.json();
    assert_eq!(operator["period"]["bin_seconds"], 300);
    assert_eq!(
        public["period"]["bin_seconds"], 3600,
        "5 min asked, 1 h given"
    );
    let last_bin = |d: &Value| -> i64 {
        d["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_i64().unwrap())
            .max()
            .unwrap()
    };
    assert!(
        last_bin(&operator) - last_bin(&public) >= 6 * 3600 - 3600,
        "the newest six hours are held back: {} vs {}",
        last_bin(&operator),
        last_bin(&public)
    );
    for stack in public["stacks"].as_array().unwrap() {
        for point in stack["series"].as_array().unwrap() {
            assert!(point[1].as_f64().unwrap() >= 5.0, "{stack}");
        }
    }
    assert!(
        public["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p[1].as_f64().unwrap() >= 5.0)
    );
    for net in public["networks"].as_array().unwrap() {
        assert!(net["network"].as_str().unwrap().ends_with(".0/24"), "{net}");
    }
    for host in operator["networks"].as_array().unwrap() {
        assert!(
            !host["network"].as_str().unwrap().contains('/'),
            "operators see hosts: {host}"
        );
    }
    // Blaster's onset alert is public, but not the small count that raised it, and its
    // time is on the public bins.
    let alerts = public_get("/api/v1/alerts", kansoku_web::PublicPolicy::default())
        .await
        .json();
    let all = get_ok("/api/v1/alerts").await.json();
    let (alerts, all) = (alerts.as_array().unwrap(), all.as_array().unwrap());
    assert_eq!(alerts.len(), all.len());
    for (public, operator) in alerts.iter().zip(all) {
        let observed = operator["observed"].as_f64().unwrap();
        if observed < 5.0 {
            assert!(
                public["observed"].is_null() && public["baseline"].is_null(),
                "{public}"
            );
        } else {
            assert_eq!(public["observed"].as_f64(), Some(observed));
        }
        assert!(
            public["at"].as_str().unwrap().ends_with(":00:00Z"),
            "{public}"
        );
    }
    assert!(all.iter().any(|a| a["observed"].as_f64().unwrap() < 5.0));
    // Windows that cut a public bin are widened to whole bins: sliding one 5 minutes at a
    // time, or subtracting two totals, gives nothing finer than the public bins.
    let time = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let end = last_bin(&public);
    let window = |to: i64| {
        let uri = format!(
            "/api/v1/ports/tcp/135?from={}&to={}",
            time(end - 12 * 3600),
            time(to)
        );
        async move { public_get(&uri, policy).await.json() }
    };
    let (hour, more) = (window(end).await, window(end + 300).await);
    assert_eq!(hour["packets"], more["packets"], "{more}");
    assert_eq!(more["period"]["to"].as_str(), Some(time(end).as_str()));
    // A public total is the sum of the bins it shows, not of the bins it suppressed.
    let shown: f64 = more["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["series"].as_array().unwrap().iter())
        .map(|p| p[1].as_f64().unwrap())
        .sum();
    assert_eq!(more["packets"].as_f64(), Some(shown));
    // A period inside one public bin is refused, not answered empty.
    let inside = public_get(
        "/api/v1/ports/tcp/135?from=2003-08-11T16:10:00Z&to=2003-08-11T16:50:00Z",
        policy,
    )
    .await;
    assert_eq!(inside.status, StatusCode::BAD_REQUEST, "{}", inside.text());
    assert!(
        inside.text().contains("within one public bin"),
        "{}",
        inside.text()
    );
    let page = public_get("/port/tcp/135", policy).await.text();
    assert!(
        page.contains("Public view") && page.contains("held back"),
        "the page says so"
    );
    let page = get_ok("/port/tcp/135").await.text();
    assert!(page.contains("Operator view"));
}

/// Where the hand-made probes of these tests come from.
const V4_PROBER: &str = "203.0.113.9";

/// Any odd port is a `scan/...` signature, so a signature page that answered 404 for nothing
/// and 200 for one packet would tell whoever probed a candidate sensor address that the
/// sensor saw it. The public gets the same answer for both; operators still get the 404.
#[tokio::test]
async fn the_public_cannot_tell_a_signature_seen_once_from_one_never_seen() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("store");
    copy_dir(store(), &copy);
    let store = copy;
    let first = sql("SELECT min(bin_start) AS t FROM observations")[0]["t"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = chrono::DateTime::parse_from_rfc3339(&first)
        .unwrap()
        .timestamp();
    let pcap = dir.path().join("one.pcap");
    common::syn_pcap(
        &pcap,
        &[common::syn((first + 86_400) as u32, V4_PROBER, 2347)],
    );
    run(&["ingest", "--store", p(&store), p(&pcap)]);
    let (once, never) = ("scan/tcp/2347", "scan/tcp/2348");
    let public = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    let encode = |name: &str| name.replace('/', "%2F");
    for (prefix, suffix) in [
        ("/api/v1/signatures/", ""),
        ("/signature/", ""),
        ("/chart/signature/", ".svg"),
    ] {
        let seen = get_from(&public, &format!("{prefix}{}{suffix}", encode(once))).await;
        let unseen = get_from(&public, &format!("{prefix}{}{suffix}", encode(never))).await;
        assert_eq!(seen.status, StatusCode::OK, "{prefix}: {}", seen.text());
        assert_eq!(unseen.status, StatusCode::OK, "{prefix}: {}", unseen.text());
        assert_eq!(
            seen.text().replace(once, "NAME"),
            unseen.text().replace(never, "NAME"),
            "{prefix}"
        );
    }
    // Operators are told.
    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let operator = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    let cookies = log_in(&operator).await;
    let request = |name: &str| {
        Request::get(format!("/api/v1/signatures/{}", encode(name)))
            .header(header::COOKIE, cookies.clone())
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        answer(&operator, request(once)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        answer(&operator, request(never)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A store that saw one packet: the public overview neither counts its one source nor says
/// to the five minutes when the data ends (the next ingest's time); operators see both.
#[tokio::test]
async fn the_public_overview_holds_back_small_daily_counts_and_the_exact_end() {
    let dir = tempfile::tempdir().unwrap();
    let (store, pcap) = (dir.path().join("store"), dir.path().join("one.pcap"));
    // 2003-08-11 16:20:00 UTC.
    common::syn_pcap(&pcap, &[common::syn(1_060_618_800, V4_PROBER, 2347)]);
    run(&["ingest", "--store", p(&store), p(&pcap)]);
    let public = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    let o = get_from(&public, "/api/v1/overview").await.json();
    assert!(o["sources"]["sources"].is_null(), "{o}");
    assert_eq!(o["period"]["from"], "2003-08-11T16:00:00Z", "{o}");
    assert_eq!(o["period"]["to"], "2003-08-11T17:00:00Z", "{o}");
    let page = get_from(&public, "/").await.text();
    assert!(page.contains("held back"), "{page}");

    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let operator = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    let cookies = log_in(&operator).await;
    let request = Request::get("/api/v1/overview")
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap();
    let o = answer(&operator, request).await.json();
    assert_eq!(o["sources"]["sources"], 1, "{o}");
    assert_eq!(o["period"]["to"], "2003-08-11T16:25:00Z", "{o}");
}

/// Answers are cached, but an ingest beside the running server shows on the next request.
#[tokio::test]
async fn a_new_ingest_shows_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let capture = |seed: u64| {
        let pcap = dir.path().join(format!("{seed}.pcap"));
        simulate_blaster(&pcap, 2, 1, seed);
        pcap
    };
    let (first, second) = (capture(1), capture(2));
    run(&[
        "ingest",
        "--store",
        p(&store),
        "--sensor",
        "osaka",
        p(&first),
    ]);
    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let app = kansoku_web::app(kansoku_web::Config::new(store.clone()));
    // Per-sensor frame counts are shown to operators only.
    assert_eq!(
        get_from(&app, "/api/v1/overview").await.json()["sensors"],
        serde_json::json!([])
    );
    let cookies = log_in(&app).await;
    let frames = |o: Value| o["sensors"][0]["frames"].as_u64().unwrap();
    let get = |uri: &str| {
        let request = Request::get(uri)
            .header(header::COOKIE, &cookies)
            .body(Body::empty())
            .unwrap();
        answer(&app, request)
    };
    let before = frames(get("/api/v1/overview").await.json());
    assert_eq!(
        frames(get("/api/v1/overview").await.json()),
        before,
        "cached"
    );
    run(&[
        "ingest",
        "--store",
        p(&store),
        "--sensor",
        "osaka",
        p(&second),
    ]);
    let after = frames(get("/api/v1/overview").await.json());
    assert!(
        after > before,
        "{after} frames after the second ingest, {before} before"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Operators edit an advisory in the browser; the save is a revision under their name.
#[tokio::test]
async fn operators_edit_advisories_and_each_save_is_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let advisories = dir.path().join("advisories");
    copy_dir(&common::crate_dir().join("../../advisories"), &advisories);
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
    let app = kansoku_web::app(kansoku_web::Config {
        advisories: Some(advisories.clone()),
        ..kansoku_web::Config::new(store)
    });
    let edit = "/advisories/ms03-026-blaster/edit";
    let (status, _, _) = send(
        &app,
        Request::get(format!("{edit}?lang=en"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let cookies = log_in(&app).await;
    let token = cookies
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let request = Request::get(format!("{edit}?lang=en"))
        .header(header::COOKIE, &cookies)
        .body(Body::empty())
        .unwrap();
    let (status, _, form) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("+++"), "the form holds the file's text");
    let file = advisories.join("ms03-026-blaster.en.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let new_text = format!("{text}\nUpdate: reports keep arriving from universities.\n");
    let encode = |t: &str| {
        t.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let post = |csrf: &str, body_text: &str| {
        let body = format!(
            "csrf={csrf}&lang=en&summary=added+a+line&text={}",
            encode(body_text)
        );
        form_post(edit, &cookies, &body)
    };
    assert_eq!(
        send(&app, post("", &new_text)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, answer) = send(&app, post(&token, "no front matter")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer.contains("<form") && answer.contains("role=\"alert\""),
        "{answer}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "nothing saved"
    );
    let (status, _, _) = send(&app, post(&token, &new_text)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), new_text);
    let (_, _, api) = send(&app, get_request("/api/v1/advisories/ms03-026-blaster")).await;
    let api: Value = serde_json::from_str(&api).unwrap();
    let newest = &api["revisions"][0];
    assert_eq!(
        newest["who"], "operator",
        "the public is not told login names"
    );
    assert_eq!(newest["summary"], "added a line");
    let as_operator = Request::get("/api/v1/advisories/ms03-026-blaster")
        .header(header::COOKIE, &cookies)
        .body(Body::empty())
        .unwrap();
    let (_, _, api) = send(&app, as_operator).await;
    let api: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["revisions"][0]["who"], "tester");
    assert_eq!(newest["lang"], "en");
    let (_, _, page) = send(&app, get_request("/advisories/ms03-026-blaster")).await;
    assert!(page.contains("reports keep arriving from universities"));
}

/// With the telescope known, a signature page carries the population estimate, the same
/// as `kansoku estimate`; Blaster's is refused with the reason.
#[tokio::test]
async fn signature_pages_carry_the_population_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, sasser) = (dir.path().join("s.pcap"), dir.path().join("store"));
    run(&[
        "simulate",
        "-o",
        p(&pcap),
        "--scenario",
        "sasser-2004",
        "--days",
        "2",
        "--telescope",
        "198.18.0.0/16",
    ]);
    run(&["ingest", "--store", p(&sasser), p(&pcap)]);
    let cli: Value = serde_json::from_slice(
        &run(&[
            "estimate",
            "--store",
            p(&sasser),
            "--signature",
            "sasser",
            "--telescope",
            "198.18.0.0/16",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let app = kansoku_web::app(kansoku_web::Config {
        telescope_share: Some(2f64.powi(-16)),
        ..kansoku_web::Config::new(sasser)
    });
    let d = get_from(&app, "/api/v1/signatures/sasser").await.json();
    let e = &d["estimate"];
    assert!(e["infected"]["estimate"].as_f64().unwrap() > 0.0, "{e}");
    assert!(e["doubling_hours"]["high"].is_number(), "{e}");
    assert_eq!(e["sources"], cli["sources"]);
    assert_eq!(e["infected"]["estimate"], cli["at_end"]["estimate"], "{e}");
    assert_eq!(e["infected"]["low"], cli["at_end"]["low"]);
    assert_eq!(e["plateau"]["estimate"], cli["fit"]["capacity"]["estimate"]);
    assert_eq!(
        e["doubling_hours"]["high"],
        cli["fit"]["doubling_hours"]["high"]
    );
    let page = get_from(&app, "/signature/sasser").await.text();
    assert!(page.contains("Infected population") && page.contains("doubling time"));

    let blaster = kansoku_web::app(kansoku_web::Config {
        telescope_share: Some(2f64.powi(-16)),
        ..kansoku_web::Config::new(store().to_path_buf())
    });
    let d = get_from(&blaster, "/api/v1/signatures/blaster")
        .await
        .json();
    assert!(d["estimate"]["infected"].is_null(), "{}", d["estimate"]);
    assert!(d["estimate"]["sources"].as_u64().unwrap() > 0);
    let uniform = d["estimate"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "uniform random scanning")
        .unwrap();
    assert_eq!(uniform["verdict"], "does not hold");
    let port = get_ok("/api/v1/ports/tcp/135").await.json();
    assert!(port["estimate"].is_null(), "no estimate on port pages");
}
