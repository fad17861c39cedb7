//! The dashboard and JSON API (`kansoku serve`, crate kansoku-web) over a store of a simulated
//! Blaster outbreak: every endpoint, its errors, and the server process itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kansoku"))
        .args(args)
        .output()
        .expect("kansoku runs");
    assert!(
        out.status.success(),
        "kansoku {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// One store for every test: two quiet days, then a day of Blaster, from sensor `tokyo`.
fn store() -> &'static Path {
    static STORE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, store) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pcap = dir.path().join("b.pcap");
        let store = dir.path().join("store");
        run(&[
            "simulate",
            "-o",
            p(&pcap),
            "--scenario",
            "blaster-2003",
            "--days",
            "3",
            "--baseline-days",
            "2",
        ]);
        run(&[
            "ingest",
            "--store",
            p(&store),
            "--sensor",
            "tokyo",
            p(&pcap),
        ]);
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

async fn get(uri: &str) -> Answer {
    let app = kansoku_web::app(kansoku_web::Config::new(store().to_path_buf()));
    let response = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
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
    assert!(html.contains("Top source networks"));
    assert!(html.contains("href=\"/signature/blaster\""));
}

#[tokio::test]
async fn charts_are_served_as_svg_and_png() {
    let svg = get_ok("/chart/port/tcp/135.svg").await;
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.text().contains("<svg") && svg.text().contains("tcp/135"));
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
    let request = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
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
    let frames = sql("SELECT count(*) AS n FROM observations")[0]["n"].as_u64();
    assert!(frames.is_some());
    assert!(
        text.contains("kansoku_ingested_frames_total{sensor=\"tokyo\"}"),
        "{text}"
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
