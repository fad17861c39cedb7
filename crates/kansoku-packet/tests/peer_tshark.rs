//! Correctness against a peer: for every capture in `../shared/testdata/`, the per-protocol
//! totals and per-destination-port packet counts computed with [`CaptureReader`] + [`decode`]
//! must equal what tshark reports for the same file.
//!
//! The expected values live in `tests/peer/expected/*.json` at the repository root. They were
//! derived once with tshark by `tests/peer/derive.sh` (the exact tshark command and the
//! semantics are documented there and in `tests/peer/README.md`); `tests/peer/check.sh`
//! re-derives some of them so that CI notices if the committed values drift from tshark.
//!
//! What is counted, per capture:
//! - `frames`: every record in the file (tshark's frame count).
//! - `protocols`: frames that decode to an IP packet, keyed by the outer IP protocol after any
//!   IPv6 extension headers (`tcp`, `udp`, `icmp`, `icmpv6`, else `other/<number>`).
//! - `ports`: for those packets, `tcp/<dst port>`, `udp/<dst port>`, `icmp/<type>.<code>`,
//!   `icmpv6/<type>.<code>` from the outer transport header only. Non-first fragments and
//!   protocols without a decoder contribute to `protocols` only.
//!
//! Besides the shared captures (skipped when `../shared/testdata` is absent), the hand-made
//! `tests/peer/captures/edge-cases.pcapng` (fragments, IPv6 extension headers, tunnels, ICMP
//! errors, malformed headers, every link type) is compared the same way and always runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kansoku_packet::decode::{Decoded, Transport, decode};
use kansoku_packet::source::{CaptureReader, Link};

/// This crate's directory, read at run time: cargo sets `CARGO_MANIFEST_DIR` when it runs a
/// test, and a build cache shared between checkouts (as `.ci/run` uses) can hold a test binary
/// compiled in another checkout, whose compile-time path may be gone.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The counts of one capture, in the shape of the expected JSON files.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    frames: u64,
    protocols: BTreeMap<String, u64>,
    ports: BTreeMap<String, u64>,
}

fn proto_name(proto: u8) -> String {
    match proto {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        n => format!("other/{n}"),
    }
}

fn count(path: &Path) -> (Counts, String) {
    let mut reader =
        CaptureReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut c = Counts::default();
    while let Some(frame) = reader.next_frame() {
        c.frames += 1;
        let Link::Known(link) = frame.link else {
            continue;
        };
        let Ok(Decoded::Ip(packet)) = decode(link, frame.data) else {
            continue;
        };
        *c.protocols.entry(proto_name(packet.proto)).or_default() += 1;
        let (port, dst_port) = match &packet.transport {
            Transport::Tcp(t) => (format!("tcp/{}", t.dst_port()), t.dst_port()),
            Transport::Udp(u) => (format!("udp/{}", u.dst_port()), u.dst_port()),
            Transport::Icmp(i) => (
                format!(
                    "{}/{}.{}",
                    if i.is_v6() { "icmpv6" } else { "icmp" },
                    i.kind(),
                    i.code()
                ),
                u16::from(i.kind()) * 256 + u16::from(i.code()),
            ),
            Transport::Other => continue,
        };
        // The single "what was probed" column of the observations table (DESIGN.md §3).
        assert_eq!(packet.dst_port(), dst_port, "{}: {port}", path.display());
        *c.ports.entry(port).or_default() += 1;
    }
    let summary = reader
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let faults = summary
        .faults
        .iter()
        .map(|f| format!("{}@{}x{}", f.kind.code(), f.offset, f.count))
        .collect::<Vec<_>>()
        .join(", ");
    (c, faults)
}

/// A capture is any file whose first bytes are a pcap (any byte order, µs or ns) or pcapng
/// magic, or gzip / zstd (which the reader and tshark both open). Everything else in testdata
/// (SOURCES.md, registry hives under `hives/`) is not one. `tests/peer/derive.sh` uses the
/// same rule.
fn is_capture(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    if f.read_exact(&mut magic).is_err() {
        return false;
    }
    matches!(
        magic,
        [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x0a, 0x0d, 0x0d, 0x0a]
            | [0x28, 0xb5, 0x2f, 0xfd]
            | [0x1f, 0x8b, _, _]
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "hives") {
                continue;
            }
            walk(&p, out);
        } else if is_capture(&p) {
            out.push(p);
        }
    }
}

/// Compare one capture with its expected file; append any difference to `report`.
fn compare(capture: &Path, rel: &str, expected_path: &Path, report: &mut String) {
    let text = fs::read_to_string(expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    let (file, expected) = parse_expected(&text).unwrap_or_else(|e| {
        panic!(
            "{}: not an expected-values file: {e}",
            expected_path.display()
        )
    });
    if file != rel {
        let _ = writeln!(
            report,
            "{}: its \"file\" is {file:?}, not {rel:?}",
            expected_path.display()
        );
        return;
    }
    let (got, faults) = count(capture);
    let diff = diff(&expected, &got);
    if !diff.is_empty() {
        let _ = writeln!(
            report,
            "{rel}: differs from tshark (expected = tshark, got = kansoku; reader faults: [{faults}])"
        );
        report.push_str(&diff);
    }
}

/// Every capture in ../shared/testdata against tests/peer/expected/<path with / as __>.json.
#[test]
fn shared_testdata_counts_match_tshark() {
    let testdata = &crate_dir().join("../../../shared/testdata");
    if !testdata.is_dir() {
        eprintln!("skipping: ../shared/testdata not present (tshark comparison needs it)");
        return;
    }
    let started = Instant::now();
    let mut captures = Vec::new();
    walk(testdata, &mut captures);
    assert!(
        !captures.is_empty(),
        "no captures found under {}",
        testdata.display()
    );

    let expected = crate_dir().join("../../tests/peer/expected");
    let mut expected_files: BTreeMap<String, PathBuf> = fs::read_dir(&expected)
        .unwrap_or_else(|e| panic!("{}: {e}", expected.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();

    let mut report = String::new();
    for capture in &captures {
        let rel = capture
            .strip_prefix(testdata)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // chrissanders_packets/blaster.pcap -> chrissanders_packets__blaster.pcap.json
        let name = format!("{}.json", rel.replace('/', "__"));
        match expected_files.remove(&name) {
            Some(expected) => compare(capture, &rel, &expected, &mut report),
            None => {
                let _ = writeln!(
                    report,
                    "{rel}: no expected values; derive them with tshark: \
                     tests/peer/derive.sh ../shared/testdata/{rel} > tests/peer/expected/{name}"
                );
            }
        }
    }
    for name in expected_files.keys() {
        let _ = writeln!(
            report,
            "tests/peer/expected/{name}: its capture is not in ../shared/testdata \
             (removed or renamed? delete or re-derive the expected file)"
        );
    }
    eprintln!(
        "compared {} captures with tshark's counts in {:.2?}",
        captures.len(),
        started.elapsed()
    );
    assert!(report.is_empty(), "\n{report}");
}

/// The hand-made captures kept in the repository (tests/peer/captures/X with X.json next to
/// it): fragments, extension headers, tunnels, malformed headers, every link type. They need
/// no shared testdata, so this always runs.
#[test]
fn repository_edge_cases_match_tshark() {
    let dir = &crate_dir().join("../../tests/peer/captures");
    let mut captures = Vec::new();
    walk(dir, &mut captures);
    assert!(!captures.is_empty(), "no captures under {}", dir.display());
    let mut report = String::new();
    for capture in &captures {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let expected = capture.with_file_name(format!("{name}.json"));
        if expected.is_file() {
            compare(capture, &name, &expected, &mut report);
        } else {
            let _ = writeln!(
                report,
                "tests/peer/captures/{name}: no expected values; derive them with tshark: \
                 tests/peer/derive.sh tests/peer/captures/{name} > tests/peer/captures/{name}.json"
            );
        }
    }
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if let Some(stem) = p.to_str().and_then(|s| s.strip_suffix(".json"))
            && !Path::new(stem).is_file()
        {
            let _ = writeln!(report, "{}: its capture is missing", p.display());
        }
    }
    assert!(report.is_empty(), "\n{report}");
}

fn diff(expected: &Counts, got: &Counts) -> String {
    let mut out = String::new();
    if expected.frames != got.frames {
        let _ = writeln!(
            out,
            "  frames: expected {} got {}",
            expected.frames, got.frames
        );
    }
    for (what, e, g) in [
        ("protocols", &expected.protocols, &got.protocols),
        ("ports", &expected.ports, &got.ports),
    ] {
        let keys: std::collections::BTreeSet<&String> = e.keys().chain(g.keys()).collect();
        for k in keys {
            let (ev, gv) = (
                e.get(k).copied().unwrap_or(0),
                g.get(k).copied().unwrap_or(0),
            );
            if ev != gv {
                let _ = writeln!(out, "  {what} {k}: expected {ev} got {gv}");
            }
        }
    }
    out
}

// A minimal reader for the expected files (flat objects of strings, integers and objects of
// integers), so that the test needs no JSON dependency.

struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(&b) = self.s.get(self.i) {
            match b {
                b'"' => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned());
                }
                b'\\' => {
                    return Err(format!(
                        "escapes are not used, found one at byte {}",
                        self.i
                    ));
                }
                _ => self.i += 1,
            }
        }
        Err("unterminated string".into())
    }
    fn number(&mut self) -> Result<u64, String> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .unwrap()
            .parse()
            .map_err(|e| format!("number at byte {start}: {e}"))
    }
    /// `{ "key": value, ... }`, calling `f` for each key with the parser at the value.
    fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, String) -> Result<(), String>,
    ) -> Result<(), String> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            f(self, key)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(format!("expected ',' or '}}' at byte {}", self.i)),
            }
        }
    }
    fn counts(&mut self) -> Result<BTreeMap<String, u64>, String> {
        let mut m = BTreeMap::new();
        self.object(|p, k| {
            let v = p.number()?;
            if m.insert(k.clone(), v).is_some() {
                return Err(format!("duplicate key {k}"));
            }
            Ok(())
        })?;
        Ok(m)
    }
}

fn parse_expected(text: &str) -> Result<(String, Counts), String> {
    let mut p = Json {
        s: text.as_bytes(),
        i: 0,
    };
    let mut file = None;
    let mut frames = None;
    let mut protocols = None;
    let mut ports = None;
    p.object(|p, k| {
        match k.as_str() {
            "file" => file = Some(p.string()?),
            "frames" => frames = Some(p.number()?),
            "protocols" => protocols = Some(p.counts()?),
            "ports" => ports = Some(p.counts()?),
            _ => return Err(format!("unknown key {k:?}")),
        }
        Ok(())
    })?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing bytes at {}", p.i));
    }
    Ok((
        file.ok_or("no \"file\"")?,
        Counts {
            frames: frames.ok_or("no \"frames\"")?,
            protocols: protocols.ok_or("no \"protocols\"")?,
            ports: ports.ok_or("no \"ports\"")?,
        },
    ))
}
