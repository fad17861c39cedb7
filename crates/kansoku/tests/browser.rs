//! End to end in a real browser: `kansoku serve` over a store of a simulated Blaster outbreak,
//! driven by headless Chromium through the Chrome DevTools Protocol (CDP). The in-process
//! tests in web.rs check every answer byte by byte; only a browser shows that the pages work
//! as pages: links lead where they should, the report form posts with its CSRF cookie, the
//! chart follows, and nothing overflows a phone's width. Screenshots at a laptop's and a
//! phone's width go to `target/e2e-screenshots/` (or `$KANSOKU_E2E_SCREENSHOTS`) for a human
//! to look at.
//!
//! The CDP client is a few dozen lines over a synchronous WebSocket (tungstenite) rather than
//! a browser-automation crate: those pull in an async runtime's worth of dependencies, and
//! this test needs eight CDP methods. Without Chromium the test skips; `.ci/run` installs it.

mod common;

use common::{blaster_store, p};

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// How long any one wait may take before the test fails with a message naming what it
/// waited for. Generous: two cores, a cold Chromium and a debug build.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The day and worm the test reports, and what it types into the form.
const DAY: &str = "2003-08-12";
const WORM: &str = "blaster";

/// Chromium as Debian installs it, or whatever `chromium` is on `PATH`.
fn chromium() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|c| c.is_file())
    })
}

/// Reads the first line of a child's stderr that contains `marker`, within [`TIMEOUT`]. A
/// thread keeps draining the pipe afterwards so the child never blocks on a full pipe.
fn stderr_line(child: &mut Child, marker: &'static str, what: &str) -> String {
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent && line.contains(marker) {
                sent = tx.send(Ok(line)).is_ok();
            } else if !sent {
                seen.push_str(&line);
                seen.push('\n');
            }
        }
        if !sent {
            let _ = tx.send(Err(seen));
        }
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(line)) => line,
        Ok(Err(seen)) => panic!("{what} ended without printing {marker:?}; stderr:\n{seen}"),
        Err(_) => panic!("{what} printed no {marker:?} within {TIMEOUT:?}"),
    }
}

/// A child process killed when the test ends, by success or by panic.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `kansoku serve` on a free port of 127.0.0.1.
struct Server {
    _child: Killed,
    base: String,
}

impl Server {
    fn start(store: &Path) -> Server {
        let advisories = common::crate_dir().join("../../advisories");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kansoku"))
            .args(["serve", "--store", p(store), "--listen", "127.0.0.1:0"])
            .args(["--advisories", p(&advisories)])
            .stderr(Stdio::piped())
            .spawn()
            .expect("kansoku serve starts");
        let line = stderr_line(&mut child, "http://", "kansoku serve");
        let child = Killed(child);
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            base: format!("http://{address}"),
            _child: child,
        }
    }
}

/// Headless Chromium with a throwaway profile, and a CDP connection to its one page.
struct Browser {
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for a command's answer, kept for `wait_event`.
    events: VecDeque<Value>,
    // Dropped after the socket: the browser dies, then its profile directory goes.
    _child: Killed,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", p(profile.path())))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let line = stderr_line(&mut child, "DevTools listening on ws://", "chromium");
        let child = Killed(child);
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let host = line
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let page = Self::page_target(&host);
        let url = page["webSocketDebuggerUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("page target without a WebSocket URL: {page}"));
        let stream = TcpStream::connect(&host).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (socket, _) = tungstenite::client(url, stream)
            .unwrap_or_else(|e| panic!("CDP WebSocket handshake with {url}: {e}"));
        // Then short reads, so that `read` checks its deadline at least once a second
        // (tungstenite keeps a frame cut by a timeout and goes on with it on the next read).
        socket
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut browser = Browser {
            socket,
            next_id: 0,
            events: VecDeque::new(),
            _child: child,
            _profile: profile,
        };
        browser.call("Page.enable", json!({}));
        browser.call("Network.enable", json!({}));
        browser
    }

    /// The page target from `/json/list`; polled, since the first page may not be listed yet.
    fn page_target(host: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let mut stream = TcpStream::connect(host).unwrap();
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            write!(
                stream,
                "GET /json/list HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            // Chromium keeps the connection open whatever the request says, so the body ends
            // at its Content-Length, not at the end of the stream.
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line.trim() != "" {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().expect("a Content-Length");
                }
                line.clear();
            }
            let mut answer = vec![0; length];
            reader.read_exact(&mut answer).unwrap();
            let body = String::from_utf8(answer).expect("UTF-8 /json/list");
            let answer = &body;
            let body = body.as_str();
            let targets: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("/json/list is not JSON ({e}): {answer}"));
            if let Some(page) = targets
                .as_array()
                .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            {
                return page.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no page target in /json/list within {TIMEOUT:?}: {targets}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One message from the browser, or a panic naming `what` once the deadline passes.
    fn read(&mut self, deadline: Instant, what: &str) -> Value {
        loop {
            assert!(
                Instant::now() < deadline,
                "no {what} from chromium within {TIMEOUT:?}"
            );
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    return serde_json::from_str(text.as_str()).unwrap();
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("CDP connection failed while waiting for {what}: {e}"),
            }
        }
    }

    /// Sends a CDP command and returns its `result`; a CDP error fails the test.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("sending {method}: {e}"));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.read(deadline, &format!("answer to {method}"));
            if m["id"] == id {
                if let Some(error) = m.get("error") {
                    panic!("{method} failed: {error}");
                }
                return m["result"].clone();
            }
            if m.get("method").is_some() {
                self.events.push_back(m);
            }
        }
    }

    /// Waits for the event `method`, consuming the events before it.
    fn wait_event(&mut self, method: &str) {
        while let Some(e) = self.events.pop_front() {
            if e["method"] == method {
                return;
            }
        }
        let deadline = Instant::now() + TIMEOUT;
        while self.read(deadline, method)["method"] != method {}
    }

    /// Runs `action` (a navigation or a click) and waits until the page it leads to has
    /// loaded; events from earlier pages are dropped first so an old load does not count.
    fn load_by(&mut self, action: impl FnOnce(&mut Browser)) {
        self.events.clear();
        action(self);
        self.wait_event("Page.loadEventFired");
    }

    fn goto(&mut self, url: &str) {
        self.load_by(|b| {
            let r = b.call("Page.navigate", json!({ "url": url }));
            assert!(r.get("errorText").is_none(), "navigating to {url}: {r}");
        });
    }

    /// The value of a JavaScript expression (awaited if a promise); a thrown exception fails
    /// the test.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    fn text(&mut self, expression: &str) -> String {
        match self.eval(expression) {
            Value::String(s) => s,
            other => panic!("{expression} is not a string: {other}"),
        }
    }

    /// Emulates a screen `width` CSS pixels wide (`mobile` for a phone's viewport rules).
    fn screen(&mut self, width: u32, height: u32, scale: f64, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile }),
        );
    }

    /// A PNG of the whole page (up to a height cap), not just the viewport.
    fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().expect("content width");
        let height = size["height"].as_f64().expect("content height").min(6000.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
            }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

/// The laptop and phone screens every page is looked at on.
const SCREENS: [(&str, u32, u32, f64, bool); 2] = [
    ("laptop", 1280, 900, 1.0, false),
    ("phone", 390, 844, 2.0, true),
];

/// Screenshots of the current page at each width into `dir/NAME-SCREEN.png`, checking on the
/// way that nothing makes the page wider than the screen (a table, chart or code line that
/// overflows makes the whole page scroll sideways on a phone; wide tables and code are meant
/// to scroll inside their own box). The message names the widest culprits.
fn shoot(b: &mut Browser, dir: &Path, name: &str) {
    for (screen, width, height, scale, mobile) in SCREENS {
        b.screen(width, height, scale, mobile);
        // Shot first, so a failure below leaves the picture of what overflowed.
        b.screenshot(&dir.join(format!("{name}-{screen}.png")));
        let overflow = b.eval(
            "(() => { const w = document.documentElement.clientWidth; \
               const wide = [...document.body.querySelectorAll('*')] \
                 .filter(e => e.getBoundingClientRect().right > w + 1) \
                 .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) \
                   if (getComputedStyle(a).overflowX !== 'visible') return false; \
                   return true; }) \
                 .slice(0, 5).map(e => e.tagName + (e.className ? '.' + e.className : '') + \
                   ' ' + (e.textContent || '').trim().slice(0, 40)); \
               return [document.documentElement.scrollWidth, w, wide]; })()",
        );
        let (scroll, client) = (overflow[0].as_u64().unwrap(), overflow[1].as_u64().unwrap());
        assert!(
            scroll <= client,
            "{name} on a {screen} ({width} px) is {scroll} px wide; too wide: {}",
            overflow[2]
        );
    }
    b.screen(SCREENS[0].1, SCREENS[0].2, SCREENS[0].3, SCREENS[0].4);
}

/// Reports for `DAY` and `WORM` as the public JSON API counts them, fetched by the page.
fn api_count(b: &mut Browser) -> u64 {
    let js = format!(
        "fetch('/api/v1/reports/daily').then(r => r.json()).then(a => \
         a.filter(c => c.date === '{DAY}' && c.signature === '{WORM}') \
          .reduce((n, c) => n + c.reports, 0))"
    );
    b.eval(&js).as_u64().expect("a count")
}

/// The same count as the reports page shows it: its table row, and the chart bar's tooltip.
fn page_counts(b: &mut Browser) -> (u64, Option<String>) {
    let js = format!(
        "(() => {{ \
           const row = [...document.querySelectorAll('table tr')].find(tr => \
             tr.cells.length === 3 && tr.cells[0].textContent === '{DAY}' && \
             tr.cells[1].textContent === '{WORM}'); \
           const bar = [...document.querySelectorAll('.chart svg rect title')] \
             .map(t => t.textContent).find(t => t.startsWith('{DAY} {WORM}:')); \
           return [row ? Number(row.cells[2].textContent) : 0, bar || null]; \
         }})()"
    );
    let v = b.eval(&js);
    (v[0].as_u64().unwrap(), v[1].as_str().map(str::to_owned))
}

#[test]
fn dashboard_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        eprintln!("skipping: chromium not installed (.ci/run installs it)");
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let store = blaster_store(dir.path());
    let shots = std::env::var_os("KANSOKU_E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::crate_dir().join("../../target/e2e-screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    eprintln!("screenshots in {}", shots.display());

    let server = Server::start(&store);
    let base = server.base.clone();
    let mut b = Browser::launch(&chromium);
    b.screen(SCREENS[0].1, SCREENS[0].2, SCREENS[0].3, SCREENS[0].4);

    // The overview: the title, the port ranking and a link to Blaster's port.
    b.goto(&format!("{base}/"));
    let title = b.text("document.title");
    assert!(title.ends_with("· kansoku"), "overview title {title:?}");
    let body = b.text("document.body.innerText");
    assert!(body.contains("Top ports"), "no port ranking:\n{body}");
    let link = b.eval("!!document.querySelector('a[href^=\"/port/tcp/135\"]')");
    assert_eq!(link, json!(true), "no link to tcp/135 on the overview");
    shoot(&mut b, shots.as_path(), "overview");

    // Following the link, as a reader would, to the port page and its chart.
    b.load_by(|b| {
        b.eval("document.querySelector('a[href^=\"/port/tcp/135\"]').click()");
    });
    assert_eq!(b.text("location.pathname"), "/port/tcp/135");
    assert_eq!(
        b.text("document.querySelector('h1').textContent"),
        "Port tcp/135"
    );
    let chart = b.eval("!!document.querySelector('.chart svg')");
    assert_eq!(chart, json!(true), "no chart on the port page");
    shoot(&mut b, &shots, "port-tcp-135");

    // The counts before the report.
    b.goto(&format!("{base}/reports"));
    let (before, _) = page_counts(&mut b);
    assert_eq!(api_count(&mut b), before, "page and API disagree before");

    // The form, filled in and sent with the browser's own CSRF cookie.
    b.goto(&format!("{base}/report"));
    assert_eq!(
        b.text("document.querySelector('h1').textContent"),
        "Report an infection"
    );
    shoot(&mut b, &shots, "report-form");
    let fill = format!(
        "(() => {{ const f = document.querySelector('form.report'); \
           f.signature.value = '{WORM}'; f.date.value = '{DAY}'; f.os.value = 'Windows XP'; \
           f.text.value = 'Rebooted every minute; msblast.exe in the task list.'; \
           return [f.signature.value, f.date.value, f.os.value]; }})()"
    );
    assert_eq!(b.eval(&fill), json!([WORM, DAY, "Windows XP"]));
    b.load_by(|b| {
        b.eval("document.querySelector('form.report button[type=submit]').click()");
    });
    let thanks = b.text("document.body.innerText");
    assert!(
        b.text("document.querySelector('h1').textContent") == "Thank you",
        "the form was not accepted:\n{thanks}"
    );
    assert!(thanks.contains("daily chart"), "{thanks}");

    // The counts after: one more in the table, the chart and the API.
    b.goto(&format!("{base}/reports"));
    let (after, bar) = page_counts(&mut b);
    assert_eq!(
        after,
        before + 1,
        "the reports table did not count the report"
    );
    assert_eq!(
        bar.as_deref(),
        Some(format!("{DAY} {WORM}: {after}").as_str()),
        "the chart's bar for {DAY} does not show the new count"
    );
    assert_eq!(api_count(&mut b), after, "page and API disagree after");
    shoot(&mut b, &shots, "reports");

    // An advisory in Japanese, chosen by the browser's Accept-Language as a reader's would be.
    b.call(
        "Network.setExtraHTTPHeaders",
        json!({ "headers": { "Accept-Language": "ja,en;q=0.5" } }),
    );
    b.goto(&format!("{base}/advisories/ms03-026-blaster"));
    assert_eq!(b.text("document.documentElement.lang"), "ja");
    let h1 = b.text("document.querySelector('h1').textContent");
    assert!(
        h1.chars()
            .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || c > '\u{4e00}'),
        "the advisory title is not Japanese: {h1:?}"
    );
    // Its charts are images loaded lazily: load them all, then every one must have drawn.
    let images = b.eval(
        "(async () => { const imgs = [...document.images]; \
           imgs.forEach(i => i.loading = 'eager'); \
           await Promise.all(imgs.map(i => i.decode().catch(() => null))); \
           return Promise.all(imgs.map(i => fetch(i.src).then(r => \
             [i.getAttribute('src'), r.status, i.naturalWidth]))); })()",
    );
    let images = images.as_array().expect("a list of images");
    for image in images {
        let (src, status, width) = (&image[0], &image[1], &image[2]);
        if status == 200 {
            assert!(width.as_u64() > Some(0), "{src} loaded but did not draw");
        } else {
            // The sample advisory also charts Welchia, which this three-day store never
            // saw: the server answers 404 and the browser shows a broken image.
            eprintln!("advisory chart {src} answered {status}: no data in this store");
        }
    }
    for chart in ["/chart/port/tcp/135.svg", "/chart/signature/blaster.svg"] {
        assert!(
            images.iter().any(|i| i[0] == chart && i[1] == 200),
            "the advisory does not show {chart}: {images:?}"
        );
    }
    shoot(&mut b, &shots, "advisory-ja");

    eprintln!(
        "browser test done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
