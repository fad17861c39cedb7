//! The API's contract: `docs/openapi.json` against the server (crate kansoku-web) over a
//! store of a simulated Blaster outbreak. Every documented route is a route of the router
//! and back; every documented GET answers, as the public and as an operator, with a status
//! the document lists, a content type it lists and a body its schema accepts (JSON Schema
//! 2020-12, validated with boon); report submissions and their errors, and the owner API
//! with a token, likewise; and the public view is what the descriptions say it is.

mod common;

use common::{blaster_store, p, run, set_cookie};

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use kansoku_web::auth::{CSRF_COOKIE, SESSION_COOKIE};
use serde_json::Value;
use tower::ServiceExt;

/// The router's source: its `.route("...")` calls are what the server serves.
const ROUTER: &str = include_str!("../../kansoku-web/src/lib.rs");
const OPENAPI: &str = include_str!("../../../docs/openapi.json");
const OWNER_SCHEMA: &str = include_str!("../../../docs/owner-report.schema.json");
/// Where the document lives for the validator; `owner-report.schema.json` resolves beside it.
const BASE: &str = "file:///kansoku/docs/openapi.json";
const OWNER_BASE: &str = "file:///kansoku/docs/owner-report.schema.json";

fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(OPENAPI).expect("docs/openapi.json is JSON"))
}

/// A store of two quiet days and a day of Blaster (sensor `tokyo`), a copy of the sample
/// advisories, an operator, an owner token over every IPv4 address and one stored report.
struct Fixture {
    _dir: tempfile::TempDir,
    store: PathBuf,
    advisories: PathBuf,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = blaster_store(dir.path());
        let advisories = dir.path().join("advisories");
        std::fs::create_dir_all(&advisories).unwrap();
        let samples = common::crate_dir().join("../../advisories");
        for entry in std::fs::read_dir(samples).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), advisories.join(entry.file_name())).unwrap();
            }
        }
        kansoku_web::auth::set_operator(&store, "tester", "a long test password").unwrap();
        let csv = dir.path().join("owners.csv");
        std::fs::write(
            &csv,
            "prefix,owner,contact\n0.0.0.0/0,All Net,noc@all.example\n",
        )
        .unwrap();
        let out = run(&[
            "token",
            "add",
            "--store",
            p(&store),
            "--owner",
            "All Net",
            "--prefixes",
            p(&csv),
        ]);
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        // One report, so the operators' list and the daily counts are not empty.
        let report = kansoku_web::reports::Submission {
            signature: "welchia".into(),
            date: "2003-08-18".into(),
            os: "Windows 2000".into(),
            text: "ICMP storm".into(),
            contact: None,
        };
        let today = chrono::Utc::now().date_naive();
        kansoku_web::reports::ReportLog::new(&store)
            .append(report.validate(today).unwrap())
            .unwrap();
        Fixture {
            _dir: dir,
            store,
            advisories,
            token,
        }
    })
}

fn app(reports_per_hour: usize) -> axum::Router {
    let f = fixture();
    kansoku_web::app(kansoku_web::Config {
        advisories: Some(f.advisories.clone()),
        reports_per_hour,
        // The simulator's telescope, so signature answers carry an estimate to validate.
        telescope_share: Some(2f64.powi(-16)),
        ..kansoku_web::Config::new(f.store.clone())
    })
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap())
    }
}

async fn send(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Logs in as `tester` through the login form; returns the session's cookies.
async fn log_in(app: &axum::Router) -> String {
    let form = send(app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let csrf = set_cookie(&form.headers, CSRF_COOKIE);
    let token = csrf.split_once('=').unwrap().1.to_owned();
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &csrf)
        .body(Body::from(format!(
            "csrf={token}&name=tester&password=a+long+test+password"
        )))
        .unwrap();
    let answer = send(app, request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    format!("{csrf}; {}", set_cookie(&answer.headers, SESSION_COOKIE))
}

/// The routes of the router that the document must describe: the API, the chart files,
/// health and metrics (the HTML pages are not API), as path -> methods.
fn router_routes() -> BTreeMap<String, BTreeSet<String>> {
    let mut routes = BTreeMap::new();
    for call in ROUTER.split(".route(").skip(1) {
        let call = call.trim_start();
        let path = call
            .strip_prefix('"')
            .and_then(|rest| rest.split_once('"'))
            .unwrap_or_else(|| panic!("a route without a literal path: {call:.60}"))
            .0;
        // The handlers of this route: up to the next route or layer.
        let handlers = call.split(".layer(").next().unwrap();
        let methods: BTreeSet<String> = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| {
                handlers.contains(&format!(" {m}("))
                    || handlers.contains(&format!(".{m}("))
                    || handlers.contains(&format!("({m}("))
            })
            .map(str::to_owned)
            .collect();
        assert!(!methods.is_empty(), "no method for {path}");
        routes.insert(path.to_owned(), methods);
    }
    assert!(routes.len() > 20, "routes parsed: {routes:?}");
    routes
        .into_iter()
        .filter(|(path, _)| {
            path.starts_with("/api/")
                || path.starts_with("/chart/")
                || path == "/healthz"
                || path == "/metrics"
        })
        .collect()
}

fn documented_routes() -> BTreeMap<String, BTreeSet<String>> {
    doc()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .cloned()
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_served() {
    assert_eq!(doc()["openapi"], "3.1.0");
    let served = router_routes();
    let documented = documented_routes();
    for (path, methods) in &served {
        assert_eq!(
            documented.get(path),
            Some(methods),
            "{path} {methods:?} is served: docs/openapi.json must describe it"
        );
    }
    for (path, methods) in &documented {
        assert_eq!(
            served.get(path),
            Some(methods),
            "{path} {methods:?} is documented but the router does not serve it"
        );
    }
}

/// A JSON pointer's token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The document's value at `pointer`, following one `$ref` to a local component.
fn resolve(pointer: &str) -> (String, &'static Value) {
    let value = doc()
        .pointer(pointer)
        .unwrap_or_else(|| panic!("nothing at {pointer} in docs/openapi.json"));
    match value.get("$ref").and_then(Value::as_str) {
        Some(target) => {
            let target = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{pointer}: not a local $ref: {target}"));
            resolve(target)
        }
        None => (pointer.to_owned(), value),
    }
}

/// The validator over the document and the owner report schema beside it.
struct Validator {
    compiler: boon::Compiler,
    schemas: boon::Schemas,
}

impl Validator {
    fn new() -> Self {
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.enable_format_assertions();
        compiler.add_resource(BASE, doc().clone()).unwrap();
        compiler
            .add_resource(OWNER_BASE, serde_json::from_str(OWNER_SCHEMA).unwrap())
            .unwrap();
        Validator {
            compiler,
            schemas: boon::Schemas::new(),
        }
    }
}

thread_local! {
    // The compiler is not Send: one per test thread.
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new());
}

/// Validates `instance` against the schema at `schema_pointer` in docs/openapi.json.
fn validate(schema_pointer: &str, instance: &Value) -> Result<(), String> {
    VALIDATOR.with_borrow_mut(|v| v.validate(schema_pointer, instance))
}

impl Validator {
    fn validate(&mut self, schema_pointer: &str, instance: &Value) -> Result<(), String> {
        let Validator { compiler, schemas } = self;
        // The fragment is percent-decoded by the validator: encode what a URL cannot hold.
        let fragment: String = schema_pointer
            .chars()
            .map(|c| match c {
                ' ' | '"' | '<' | '>' | '`' | '{' | '}' | '%' => format!("%{:02X}", c as u32),
                c => c.to_string(),
            })
            .collect();
        let index = compiler
            .compile(&format!("{BASE}#{fragment}"), schemas)
            .map_err(|e| format!("schema at {schema_pointer} does not compile: {e:#}"))?;
        schemas
            .validate(instance, index)
            .map_err(|e| format!("{e:#}"))
    }
}

/// Checks an answer against what the operation at `op` (a pointer such as
/// `/paths/~1api~1v1~1alerts/get`) documents: its status is listed, its content type is one
/// of that response's, its declared headers are present, and a JSON or text body validates
/// against the schema. Returns the JSON body (null for other bodies).
fn conforms(op: &str, what: &str, answer: &Answer) -> Value {
    let status = answer.status.as_u16().to_string();
    let responses = doc().pointer(&format!("{op}/responses")).unwrap();
    assert!(
        responses.get(&status).is_some(),
        "{what}: status {status} is not documented at {op} (body: {:.300})",
        answer.text()
    );
    let (response, documented) = resolve(&format!("{op}/responses/{status}"));
    for name in documented["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|h| h.0)
    {
        assert!(
            answer.headers.contains_key(name.as_str()),
            "{what}: header {name} documented for {status} but not sent"
        );
    }
    let content_type = answer.content_type();
    let essence = content_type.split(';').next().unwrap().trim();
    let content = documented["content"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {response} documents no content"));
    let media = content
        .keys()
        .find(|k| k.as_str() == content_type || k.as_str() == essence)
        .unwrap_or_else(|| {
            panic!(
                "{what}: content type `{content_type}` is not among {:?} of {response}",
                content.keys().collect::<Vec<_>>()
            )
        });
    let schema = format!("{response}/content/{}/schema", escape(media));
    let instance = match essence {
        "application/json" => serde_json::from_slice(&answer.body)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {:.300}", answer.text())),
        e if e.starts_with("text/") => {
            Value::String(String::from_utf8(answer.body.clone()).expect("a UTF-8 text body"))
        }
        "image/svg+xml" => {
            let text = answer.text();
            assert!(text.contains("<svg"), "{what}: not SVG: {text:.200}");
            return Value::Null;
        }
        "image/png" => {
            assert!(
                answer.body.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{what}: not PNG"
            );
            return Value::Null;
        }
        other => panic!("{what}: no check for {other}"),
    };
    if let Err(e) = validate(&schema, &instance) {
        panic!("{what}: the answer does not follow {schema}:\n{e}\nbody: {instance:.2000}");
    }
    if essence == "application/json" {
        instance
    } else {
        Value::Null
    }
}

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Public,
    Operator,
    Owner,
}

/// The URL of the operation at `path` with its path parameters' examples, and with every
/// query parameter's example when `all_examples` (else none).
fn example_url(path: &str, op: &Value, all_examples: bool) -> String {
    let mut url = path.to_owned();
    let mut query = Vec::new();
    for (i, _) in op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let pointer = format!("/paths/{}/get/parameters/{i}", escape(path));
        let (_, param) = resolve(&pointer);
        let name = param["name"].as_str().unwrap();
        let example = param["example"].as_str();
        match param["in"].as_str().unwrap() {
            "path" => {
                let example = example
                    .unwrap_or_else(|| panic!("{path}: path parameter {name} has no example"));
                url = url.replace(&format!("{{{name}}}"), example);
            }
            "query" if all_examples => {
                if let Some(example) = example {
                    query.push(format!("{name}={example}"));
                }
            }
            _ => {}
        }
    }
    assert!(!url.contains('{'), "{path}: path parameters left in {url}");
    if query.is_empty() {
        url
    } else {
        format!("{url}?{}", query.join("&"))
    }
}

fn request(url: &str, caller: Caller, cookies: &str) -> Request<Body> {
    let mut r = Request::get(url);
    match caller {
        Caller::Public => {}
        Caller::Operator => r = r.header(header::COOKIE, cookies),
        Caller::Owner => r = r.header(header::AUTHORIZATION, format!("Bearer {}", fixture().token)),
    }
    r.body(Body::empty()).unwrap()
}

/// Each documented GET, with only its path parameters and with every example, as each
/// caller its security allows (200 expected) and as the public where it does not (401
/// expected); then with a malformed period where it documents 400.
#[tokio::test]
async fn every_documented_get_answers_as_documented() {
    let app = app(10);
    let cookies = log_in(&app).await;
    let mut checked = 0;
    let mut bodies: BTreeMap<String, Value> = BTreeMap::new();
    for (path, item) in doc()["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let pointer = format!("/paths/{}/get", escape(path));
        // The security requirements' schemes; "" for the empty one (anyone).
        let schemes: BTreeSet<&str> = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no security requirement"))
            .iter()
            .map(|s| {
                s.as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .map_or("", String::as_str)
            })
            .collect();
        let mut callers = Vec::new();
        if schemes.contains("") {
            callers.push((Caller::Public, StatusCode::OK));
        } else {
            callers.push((Caller::Public, StatusCode::UNAUTHORIZED));
        }
        if schemes.contains("session") || schemes.contains("") {
            callers.push((Caller::Operator, StatusCode::OK));
        }
        if schemes.contains("ownerToken") {
            callers.push((Caller::Owner, StatusCode::OK));
        }
        for all_examples in [false, true] {
            let url = example_url(path, op, all_examples);
            for &(caller, expected) in &callers {
                let answer = send(&app, request(&url, caller, &cookies)).await;
                let what = format!("GET {url} as {caller:?}");
                assert_eq!(answer.status, expected, "{what}: {:.300}", answer.text());
                let body = conforms(&pointer, &what, &answer);
                if expected == StatusCode::OK && !body.is_null() {
                    bodies.insert(format!("{path} {caller:?} {all_examples}"), body);
                }
                checked += 1;
            }
        }
        if op["responses"].get("400").is_some() {
            let url = format!("{}?from=yesterday", example_url(path, op, false));
            let (caller, _) = *callers.last().unwrap();
            let answer = send(&app, request(&url, caller, &cookies)).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{url}: {}",
                answer.text()
            );
            conforms(&pointer, &format!("GET {url}"), &answer);
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} requests checked");
    // The schemas were tried on data, not on empty lists.
    let nonempty = |key: &str, field: &str| {
        let body = bodies.get(key).unwrap_or_else(|| panic!("no answer {key}"));
        let value = if field.is_empty() { body } else { &body[field] };
        assert!(
            value.as_array().is_some_and(|a| !a.is_empty()),
            "{key}: {field} is empty: {body:.500}"
        );
    };
    for caller in ["Public", "Operator"] {
        nonempty(&format!("/api/v1/overview {caller} false"), "ports");
        nonempty(&format!("/api/v1/overview {caller} false"), "alerts");
        nonempty(
            &format!("/api/v1/signatures/{{name}} {caller} false"),
            "stacks",
        );
        nonempty(
            &format!("/api/v1/signatures/{{name}} {caller} false"),
            "sources",
        );
        nonempty(
            &format!("/api/v1/signatures/{{name}} {caller} false"),
            "rules",
        );
        // The public view lists only networks with enough sources; Blaster's are scattered.
        if caller == "Operator" {
            nonempty(
                &format!("/api/v1/signatures/{{name}} {caller} false"),
                "networks",
            );
        }
        nonempty(
            &format!("/api/v1/ports/{{proto}}/{{port}} {caller} true"),
            "stacks",
        );
        nonempty(&format!("/api/v1/alerts {caller} false"), "");
        nonempty(
            &format!("/api/v1/advisories/{{id}} {caller} false"),
            "revisions",
        );
        nonempty(&format!("/api/v1/advisories {caller} false"), "advisories");
        nonempty(&format!("/api/v1/reports/daily {caller} false"), "");
    }
    nonempty("/api/v1/reports Operator false", "");
    nonempty("/api/v1/owner/hosts Owner false", "owners");
    let owners = &bodies["/api/v1/owner/hosts Owner false"]["owners"];
    assert!(
        owners[0]["hosts"].as_array().is_some_and(|h| !h.is_empty()),
        "the owner of every address has hosts: {owners:.500}"
    );
}

/// The errors documented for the path-dependent answers: unknown things are 404 (ports and
/// signatures with nothing seen: to operators; the public gets an empty page that conforms).
#[tokio::test]
async fn unknown_names_are_documented_not_found() {
    let app = app(10);
    let cookies = log_in(&app).await;
    for (url, op) in [
        (
            "/api/v1/signatures/no-such-worm",
            "/paths/~1api~1v1~1signatures~1{name}/get",
        ),
        (
            "/api/v1/ports/udp/9",
            "/paths/~1api~1v1~1ports~1{proto}~1{port}/get",
        ),
    ] {
        let public = send(&app, request(url, Caller::Public, "")).await;
        assert_eq!(public.status, StatusCode::OK, "{url}: {}", public.text());
        let body = conforms(op, url, &public);
        assert_eq!(body["packets"], 0, "{url}: {body}");
        let operator = send(&app, request(url, Caller::Operator, &cookies)).await;
        assert_eq!(
            operator.status,
            StatusCode::NOT_FOUND,
            "{url}: {}",
            operator.text()
        );
        conforms(op, url, &operator);
    }
    for (url, op) in [
        (
            "/api/v1/advisories/no-such-advisory",
            "/paths/~1api~1v1~1advisories~1{id}/get",
        ),
        (
            "/chart/signature/blaster.gif",
            "/paths/~1chart~1signature~1{file}/get",
        ),
        (
            "/chart/port/tcp/135.jpeg",
            "/paths/~1chart~1port~1{proto}~1{file}/get",
        ),
    ] {
        let answer = send(&app, Request::get(url).body(Body::empty()).unwrap()).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{url}: {}",
            answer.text()
        );
        conforms(op, url, &answer);
    }
    for (url, op) in [
        (
            "/api/v1/ports/sctp/1",
            "/paths/~1api~1v1~1ports~1{proto}~1{port}/get",
        ),
        (
            "/chart/port/tcp/99999.svg",
            "/paths/~1chart~1port~1{proto}~1{file}/get",
        ),
        ("/api/v1/alerts?bin=7m", "/paths/~1api~1v1~1alerts/get"),
        (
            "/api/v1/overview?from=2003-08-12&to=2003-08-11",
            "/paths/~1api~1v1~1overview/get",
        ),
    ] {
        let answer = send(&app, Request::get(url).body(Body::empty()).unwrap()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{url}: {}",
            answer.text()
        );
        conforms(op, url, &answer);
    }
    // The charts in both formats.
    for url in [
        "/chart/port/tcp/135.png",
        "/chart/signature/blaster.png",
        "/chart/signature/no-such-worm.svg",
    ] {
        let answer = send(&app, Request::get(url).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.text());
        let op = if url.starts_with("/chart/port") {
            "/paths/~1chart~1port~1{proto}~1{file}/get"
        } else {
            "/paths/~1chart~1signature~1{file}/get"
        };
        conforms(op, url, &answer);
    }
    // The owner API: a wrong token and a wrong format.
    let op = "/paths/~1api~1v1~1owner~1hosts/get";
    let request = Request::get("/api/v1/owner/hosts")
        .header(header::AUTHORIZATION, "Bearer nope")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    conforms(op, "wrong token", &answer);
    let request = Request::get("/api/v1/owner/hosts?format=xml")
        .header(header::AUTHORIZATION, format!("Bearer {}", fixture().token))
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    conforms(op, "format=xml", &answer);
}

const SUBMIT: &str = "/paths/~1api~1v1~1reports/post";

fn post(body: &str, content_type: Option<&str>) -> Request<Body> {
    let mut r = Request::post("/api/v1/reports");
    if let Some(t) = content_type {
        r = r.header(header::CONTENT_TYPE, t);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

/// POST /api/v1/reports: the documented example is accepted (201), the malformed are
/// answered with documented statuses, and a client over its limit gets 429 with Retry-After.
#[tokio::test]
async fn report_submissions_answer_as_documented() {
    let example = doc()
        .pointer(&format!(
            "{SUBMIT}/requestBody/content/application~1json/example"
        ))
        .expect("the request body has an example");
    validate(
        &format!("{SUBMIT}/requestBody/content/application~1json/schema"),
        example,
    )
    .expect("the example follows the Submission schema");
    let app = app(2);
    let answer = send(&app, post(&example.to_string(), Some("application/json"))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let receipt = conforms(SUBMIT, "the example", &answer);
    assert!(receipt["id"].as_u64().unwrap() >= 2, "{receipt}");

    let valid = r#"{"signature":"Blaster","date":"2003-08-12","os":"Windows XP"}"#;
    let too_long = format!(
        r#"{{"signature":"blaster","date":"2003-08-12","os":"Windows XP","text":"{}"}}"#,
        "x".repeat(20_000)
    );
    let cases: [(&str, &str, Option<&str>, StatusCode); 7] = [
        (
            "not JSON",
            "{signature",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no content type",
            valid,
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "a form",
            valid,
            Some("application/x-www-form-urlencoded"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "no os",
            r#"{"signature":"blaster","date":"2003-08-12"}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an unknown worm",
            r#"{"signature":"codered","date":"2003-08-12","os":"Windows XP"}"#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a bad date",
            r#"{"signature":"blaster","date":"12/08/2003","os":"Windows XP"}"#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "over 16 KiB",
            &too_long,
            Some("application/json"),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (what, body, content_type, expected) in cases {
        let answer = send(&app, post(body, content_type)).await;
        assert_eq!(answer.status, expected, "{what}: {}", answer.text());
        conforms(SUBMIT, what, &answer);
        // What the server refuses, the schema refuses too (the framing errors aside).
        if let Ok(json) = serde_json::from_str::<Value>(body)
            && content_type == Some("application/json")
        {
            let schema = format!("{SUBMIT}/requestBody/content/application~1json/schema");
            assert!(
                validate(&schema, &json).is_err(),
                "{what}: the schema accepts it"
            );
        }
    }
    // A second accepted report reaches this client's limit of 2 an hour; the third is 429.
    let answer = send(&app, post(valid, Some("application/json"))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    conforms(SUBMIT, "case-insensitive worm", &answer);
    let answer = send(&app, post(valid, Some("application/json"))).await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.text()
    );
    conforms(SUBMIT, "over the limit", &answer);
}

/// What the document says of the public view, on the answers: bins of at least an hour,
/// alerts' small counts null, source networks as /24s; operators get 5-minute bins and
/// hosts.
#[tokio::test]
async fn the_public_view_is_as_described() {
    let app = app(10);
    let cookies = log_in(&app).await;
    let url = "/api/v1/signatures/blaster?bin=5m";
    let op = "/paths/~1api~1v1~1signatures~1{name}/get";
    let public = conforms(
        op,
        "public",
        &send(&app, request(url, Caller::Public, "")).await,
    );
    let operator = conforms(
        op,
        "operator",
        &send(&app, request(url, Caller::Operator, &cookies)).await,
    );
    assert_eq!(public["period"]["bin_seconds"], 3600, "{:.300}", public);
    assert_eq!(operator["period"]["bin_seconds"], 300, "{:.300}", operator);
    for net in public["networks"].as_array().unwrap() {
        let network = net["network"].as_str().unwrap();
        assert!(network.ends_with(".0/24"), "public: {network}");
    }
    for host in operator["networks"].as_array().unwrap() {
        let host = host["network"].as_str().unwrap();
        assert!(host.parse::<std::net::IpAddr>().is_ok(), "operator: {host}");
    }
    for points in [&public["sources"], &public["stacks"][0]["series"]] {
        for point in points.as_array().unwrap() {
            assert!(point[1].as_f64().unwrap() >= 5.0, "public: {point}");
        }
    }
    for alert in public["alerts"].as_array().unwrap() {
        let observed = alert["observed"].as_f64();
        assert!(observed.is_none_or(|n| n >= 5.0), "public: {alert}");
        assert_eq!(alert["observed"].is_null(), alert["baseline"].is_null());
    }
}
