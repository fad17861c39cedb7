//! End-to-end tests of the `kansoku` binary: simulate → ingest → query, against the
//! simulator's ground truth, and the bad-input contract (message, offset, manifest, exit code).

mod common;

use common::crate_dir;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn kansoku() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kansoku"))
}

fn run(args: &[&str]) -> Output {
    kansoku().args(args).output().expect("kansoku runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A small simulated capture (one day) and its truth.
fn simulate(dir: &Path, seed: u64) -> (PathBuf, Value) {
    let pcap = dir.join(format!("sim-{seed}.pcap"));
    let truth = dir.join(format!("truth-{seed}.json"));
    let seed = seed.to_string();
    let out = run(&[
        "simulate",
        "-o",
        p(&pcap),
        "--truth",
        p(&truth),
        "--seed",
        &seed,
        "--days",
        "1",
        "--scale",
        "0.2",
    ]);
    assert!(out.status.success(), "simulate failed: {}", stderr(&out));
    let truth = serde_json::from_slice(&fs::read(&truth).unwrap()).unwrap();
    (pcap, truth)
}

fn sql(store: &Path, query: &str) -> Vec<Value> {
    let out = run(&["sql", "--store", p(store), "--format", "json", query]);
    assert!(out.status.success(), "sql failed: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("sql --format json prints a JSON array")
}

fn manifest(store: &Path) -> Value {
    serde_json::from_slice(&fs::read(store.join("manifest.json")).unwrap()).unwrap()
}

fn total_packets(store: &Path) -> u64 {
    let rows = sql(store, "SELECT sum(packets) AS n FROM observations");
    rows[0]["n"].as_u64().unwrap_or(0)
}

#[test]
fn ingested_counts_equal_the_simulator_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, truth) = simulate(dir.path(), 3);
    let store = dir.path().join("store");
    let out = run(&["ingest", "--store", p(&store), "--threads", "1", p(&pcap)]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut expected_total = 0;
    for source in truth["sources"].as_array().unwrap() {
        let src = source["src"].as_str().unwrap().to_owned();
        for hour in source["hourly"].as_array().unwrap() {
            let n = hour[1].as_u64().unwrap();
            // The truth's hours are RFC 3339 without fractional seconds.
            let h = hour[0].as_str().unwrap().trim_end_matches('Z').to_owned();
            expected.insert((src.clone(), h[..19].to_owned()), n);
            expected_total += n;
        }
    }
    assert!(expected_total > 10_000, "simulation too small to mean much");
    assert_eq!(total_packets(&store), expected_total);

    let rows = sql(
        &store,
        "SELECT src, to_char(hour, '%Y-%m-%dT%H:%M:%S') AS hour, sum(packets) AS n \
         FROM sources GROUP BY src, hour",
    );
    let got: BTreeMap<(String, String), u64> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["src"].as_str().unwrap().to_owned(),
                    r["hour"].as_str().unwrap().to_owned(),
                ),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "source-hours differ in number");
    assert_eq!(
        got, expected,
        "per source and hour packet counts differ from the truth"
    );

    // Distinct sources over the whole capture equal the truth's source count, and the merged
    // HLL sketches estimate it within a few standard errors (1.6 % at lg_k 12).
    let truth_sources = truth["sources"].as_array().unwrap().len() as f64;
    let rows = sql(&store, "SELECT count(DISTINCT src) AS n FROM sources");
    assert_eq!(rows[0]["n"].as_u64().unwrap() as f64, truth_sources);
    let rows = sql(
        &store,
        "SELECT hll_count(sources_hll) AS n FROM observations",
    );
    let estimate = rows[0]["n"].as_u64().unwrap() as f64;
    assert!(
        (estimate - truth_sources).abs() / truth_sources < 0.06,
        "hll_count {estimate} vs {truth_sources}"
    );
}

#[test]
fn thread_count_does_not_change_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 5);
    let dump = |threads: &str| {
        let store = dir.path().join(format!("store-{threads}"));
        let out = run(&[
            "ingest",
            "--store",
            p(&store),
            "--threads",
            threads,
            p(&pcap),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let obs = sql(
            &store,
            "SELECT bin_start, proto, dst_port, signature, packets, bytes, sources, \
             destinations FROM observations ORDER BY bin_start, proto, dst_port, signature",
        );
        let src = sql(
            &store,
            "SELECT * FROM sources ORDER BY hour, src, signature",
        );
        (obs, src)
    };
    let one = dump("1");
    let two = dump("2");
    assert!(one.0.len() > 100);
    assert_eq!(one, two);
}

#[test]
fn the_same_content_is_never_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 7);
    let store = dir.path().join("store");
    assert!(
        run(&["ingest", "--store", p(&store), p(&pcap)])
            .status
            .success()
    );
    let before = total_packets(&store);

    let again = run(&["ingest", "--store", p(&store), p(&pcap)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("refused"), "{}", stderr(&again));

    // A compressed copy under another name is the same content.
    let gz = dir.path().join("copy.pcap.gz");
    let mut enc =
        flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(&fs::read(&pcap).unwrap()).unwrap();
    enc.finish().unwrap();
    let compressed = run(&["ingest", "--store", p(&store), p(&gz)]);
    assert_eq!(compressed.status.code(), Some(1), "{}", stderr(&compressed));

    let skipped = run(&[
        "ingest",
        "--store",
        p(&store),
        "--skip-known",
        p(&gz),
        p(&pcap),
    ]);
    assert!(skipped.status.success(), "{}", stderr(&skipped));
    assert!(stderr(&skipped).contains("0 committed, 2 skipped"));
    assert_eq!(total_packets(&store), before);
    assert_eq!(manifest(&store)["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn stdin_and_directories_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 11);
    let store_a = dir.path().join("a");
    let mut child = kansoku()
        .args(["ingest", "--store", p(&store_a), "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(&pcap).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let store_b = dir.path().join("b");
    let captures = dir.path().join("captures/nested");
    fs::create_dir_all(&captures).unwrap();
    fs::copy(&pcap, captures.join("x.pcap")).unwrap();
    fs::write(dir.path().join("captures/notes.txt"), "not a capture").unwrap();
    let out = run(&[
        "ingest",
        "--store",
        p(&store_b),
        p(&dir.path().join("captures")),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("notes.txt: not a capture"));

    assert!(total_packets(&store_a) > 0);
    assert_eq!(total_packets(&store_a), total_packets(&store_b));
    assert_eq!(manifest(&store_a)["entries"][0]["input"], "<stdin>");
}

#[test]
fn a_truncated_capture_keeps_what_was_read_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 13);
    let bytes = fs::read(&pcap).unwrap();
    let cut = dir.path().join("cut.pcap");
    // Cut in the middle of the file, almost surely inside a record.
    fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();

    let store = dir.path().join("store");
    let out = run(&["ingest", "--store", p(&store), p(&cut)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cut.pcap: byte offset"), "{err}");
    assert!(err.contains("truncated"), "{err}");

    let m = manifest(&store);
    let entry = &m["entries"][0];
    let fault = &entry["faults"][0];
    assert_eq!(fault["code"], "truncated");
    assert_eq!(fault["fatal"], true);
    let offset = fault["offset"].as_u64().unwrap();
    assert!(offset <= bytes.len() as u64 / 2 + 7 && offset > bytes.len() as u64 / 3);
    // Every complete record before the cut is stored.
    let frames = entry["frames"].as_u64().unwrap();
    assert!(frames > 1000);
    assert_eq!(total_packets(&store), entry["ip_packets"].as_u64().unwrap());
    assert_eq!(entry["bytes_read"].as_u64().unwrap(), offset);

    let kept = run(&[
        "ingest",
        "--store",
        p(&dir.path().join("s2")),
        "--keep-going",
        p(&cut),
    ]);
    assert_eq!(kept.status.code(), Some(0), "{}", stderr(&kept));
}

#[test]
fn an_unreadable_input_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = simulate(dir.path(), 17);
    let (b, _) = simulate(dir.path(), 19);
    let missing = dir.path().join("missing.pcap");
    let store = dir.path().join("store");
    let out = run(&["ingest", "--store", p(&store), p(&a), p(&missing), p(&b)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("missing.pcap: cannot read"),
        "{}",
        stderr(&out)
    );
    let m = manifest(&store);
    let entries = m["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["faults"][0]["code"], "io");
    assert!(entries[1]["content_hash"].is_null());
    assert!(entries[0]["ip_packets"].as_u64().unwrap() > 0);
    assert!(entries[2]["ip_packets"].as_u64().unwrap() > 0);
}

#[test]
fn empty_and_foreign_files_are_refused_with_their_offset() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.pcap");
    fs::write(&text, b"this is not a capture at all").unwrap();
    let store = dir.path().join("store");
    let out = run(&["ingest", "--store", p(&store), p(&empty), p(&text)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("empty.pcap: byte offset 0: the input is empty"),
        "{err}"
    );
    assert!(
        err.contains("notes.pcap: byte offset 0: not a pcap or pcapng"),
        "{err}"
    );
    let codes: Vec<Value> = manifest(&store)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["faults"][0]["code"].clone())
        .collect();
    assert_eq!(codes, ["empty", "bad_magic"]);
}

#[test]
fn a_crash_before_commit_leaves_the_store_readable_and_the_input_unmarked() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = simulate(dir.path(), 23);
    let (second, _) = simulate(dir.path(), 29);
    let store = dir.path().join("store");
    assert!(
        run(&["ingest", "--store", p(&store), p(&first)])
            .status
            .success()
    );
    let committed = total_packets(&store);

    let crashed = kansoku()
        .args(["ingest", "--store", p(&store), p(&second)])
        .env("KANSOKU_FAILPOINT_BEFORE_COMMIT", "1")
        .output()
        .unwrap();
    assert!(
        !crashed.status.success(),
        "the failpoint must abort the process"
    );
    assert_eq!(
        total_packets(&store),
        committed,
        "a crashed ingest became visible"
    );
    assert_eq!(manifest(&store)["entries"].as_array().unwrap().len(), 1);

    let retried = run(&["ingest", "--store", p(&store), p(&second)]);
    assert!(retried.status.success(), "{}", stderr(&retried));
    let fresh = dir.path().join("fresh");
    assert!(
        run(&["ingest", "--store", p(&fresh), p(&second)])
            .status
            .success()
    );
    assert_eq!(total_packets(&store), committed + total_packets(&fresh));
    assert!(!store.join(".staging").exists());
}

/// An ingest keeps only its newest days' files open, so memory does not grow with the days
/// in its input; a packet that arrives after its day was closed goes into a second file of
/// that day, and every count still adds up.
#[test]
fn a_late_packet_for_a_closed_day_lands_in_a_second_file_of_that_day() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("days.pcap");
    let args = ["simulate", "-o", p(&pcap), "--days", "4", "--scale", "0.05"];
    assert!(run(&args).status.success());
    // Append a copy of the first record (classic pcap, little-endian, as the simulator
    // writes): a day-one packet after three more days.
    let mut bytes = fs::read(&pcap).unwrap();
    assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1]);
    let caplen = u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
    let first = bytes[24..24 + 16 + caplen].to_vec();
    bytes.extend_from_slice(&first);
    let late = dir.path().join("late.pcap");
    fs::write(&late, &bytes).unwrap();

    let (in_order, with_late) = (dir.path().join("a"), dir.path().join("b"));
    assert!(
        run(&["ingest", "--store", p(&in_order), p(&pcap)])
            .status
            .success()
    );
    let out = run(&["ingest", "--keep-going", "--store", p(&with_late), p(&late)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("earlier than an earlier record"), "{said}");
    assert_eq!(total_packets(&with_late), total_packets(&in_order) + 1);

    let files: Vec<String> = manifest(&with_late)["entries"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let first_day = files
        .iter()
        .filter(|f| f.starts_with("observations/"))
        .min()
        .unwrap()
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    let parts: Vec<&String> = files.iter().filter(|f| f.starts_with(&first_day)).collect();
    assert_eq!(parts.len(), 2, "{files:?}");
    assert!(parts.iter().any(|f| f.ends_with(".1.parquet")), "{files:?}");
    for file in &files {
        assert!(with_late.join(file).is_file(), "{file} listed and present");
    }
}

/// A capture copied while still being written is ingested with a fault; its complete copy
/// then counts only the records after what the first one counted, so the store holds each
/// packet once. Copying it again is refused as known.
#[test]
fn a_complete_copy_after_a_truncated_one_counts_each_packet_once() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 41);
    let bytes = fs::read(&pcap).unwrap();
    let partial = dir.path().join("partial.pcap");
    fs::write(&partial, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let (store, whole_only) = (dir.path().join("store"), dir.path().join("whole-only"));

    let out = run(&["ingest", "--store", p(&store), p(&partial)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let counted = total_packets(&store);
    let out = run(&["ingest", "--store", p(&store), p(&pcap)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("counting only the records after them"),
        "{}",
        stderr(&out)
    );
    assert!(
        run(&["ingest", "--store", p(&whole_only), p(&pcap)])
            .status
            .success()
    );
    assert!(counted > 0 && counted < total_packets(&whole_only));
    assert_eq!(total_packets(&store), total_packets(&whole_only));

    let entries = manifest(&store)["entries"].as_array().unwrap().clone();
    let offset = entries[0]["bytes_read"].as_u64().unwrap();
    assert!(entries[0]["counted_hash"].is_string());
    assert!(entries[0]["counted_head_hash"].is_string());
    assert_eq!(entries[1]["resumes"]["ingest"], entries[0]["id"]);
    assert_eq!(entries[1]["resumes"]["offset"].as_u64(), Some(offset));
    let out = run(&["ingest", "--store", p(&store), p(&pcap)]);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));

    // A file that is no capture counted nothing: a later capture is not its continuation.
    let (notes, other) = (dir.path().join("notes.txt"), dir.path().join("other"));
    fs::write(&notes, "not a capture\n").unwrap();
    let out = run(&["ingest", "--store", p(&other), p(&notes)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(&["ingest", "--store", p(&other), p(&pcap)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("counted"), "{}", stderr(&out));
    assert_eq!(total_packets(&other), total_packets(&whole_only));
}

/// A period outside the data (2013 typed for 2003) and a misspelt signature give empty
/// answers; each command says why on stderr rather than let them read as a quiet network.
#[test]
fn empty_answers_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let empty = run(&["report", "--store", p(&store)]);
    assert!(!empty.status.success(), "no store yet: {}", stderr(&empty));
    let (pcap, _) = simulate(dir.path(), 43);
    assert!(
        run(&["ingest", "--store", p(&store), p(&pcap)])
            .status
            .success()
    );
    let outside = "nothing in the period asked for: the store's data runs from 2003-";
    for command in ["report", "alerts"] {
        let out = run(&[command, "--store", p(&store), "--from", "2013-08-11"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(outside),
            "{command}: {}",
            stderr(&out)
        );
        let out = run(&[command, "--store", p(&store)]);
        assert!(
            !stderr(&out).contains("nothing in"),
            "{command}: {}",
            stderr(&out)
        );
    }
    let svg = dir.path().join("c.svg");
    let out = run(&[
        "chart",
        "--store",
        p(&store),
        "--signature",
        "welchai",
        "-o",
        p(&svg),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing seen on welchai in the period"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "chart",
        "--store",
        p(&store),
        "--port",
        "tcp/135",
        "-o",
        p(&svg),
    ]);
    assert!(!stderr(&out).contains("nothing"), "{}", stderr(&out));
}

/// `kansoku sql ... | head`: when the reader has had enough, kansoku ends like a Unix filter
/// (SIGPIPE), without a panic message or an error of its own.
#[cfg(unix)]
#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let (pcap, _) = simulate(dir.path(), 44);
    let store = dir.path().join("store");
    assert!(
        run(&["ingest", "--store", p(&store), p(&pcap)])
            .status
            .success()
    );
    let mut child = kansoku()
        .args(["sql", "--store", p(&store), "SELECT * FROM observations"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is closed here; the rest of the table (megabytes) cannot be written.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.signal(),
        Some(13),
        "{:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn report_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, truth) = simulate(dir.path(), 31);
    let store = dir.path().join("store");
    assert!(
        run(&["ingest", "--store", p(&store), p(&pcap)])
            .status
            .success()
    );

    let out = run(&["report", "--store", p(&store), "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let truth_total: u64 = truth["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(
        report["summary"][0]["packets"].as_u64().unwrap(),
        truth_total
    );
    assert_eq!(report["top_ports"][0]["port"], "tcp/135");
    assert_eq!(report["decode"][0]["outcome"], "inputs");

    let out = run(&[
        "report",
        "--store",
        p(&store),
        "--format",
        "csv",
        "--top",
        "3",
    ]);
    let csv = stdout(&out);
    assert!(csv.starts_with("# summary\n"), "{csv}");
    // --top bounds every ranked section.
    let section = |name: &str| {
        let start = csv.find(&format!("# {name}\n")).unwrap();
        let rest = &csv[start..];
        let end = rest[1..].find("\n# ").map_or(rest.len(), |i| i + 1);
        rest[..end].lines().count() - 2
    };
    for name in ["protocols", "top_ports", "signatures", "top_sources"] {
        assert!(section(name) <= 3, "{name}: {csv}");
    }
    assert!(section("top_ports") == 3, "{csv}");
    assert!(csv.contains("\n# top_ports\nport,packets,bytes"), "{csv}");

    let out = run(&["report", "--store", p(&store)]);
    assert!(stdout(&out).contains("| tcp/135"));

    // A query error names the problem once, not once per nesting level.
    let out = run(&["sql", "--store", p(&store), "SELECT nope FROM observations"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).matches("No field named nope").count(),
        1,
        "{}",
        stderr(&out)
    );

    // A window before the capture has no packets.
    let out = run(&[
        "report",
        "--store",
        p(&store),
        "--format",
        "json",
        "--to",
        "2003-08-11 00:00",
    ]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(report["summary"][0]["packets"].is_null());
    // ...and its decode health speaks for no input.
    assert_eq!(report["decode"][0]["outcome"], "inputs");
    assert_eq!(report["decode"][0]["frames"], 0, "{}", report["decode"]);

    // Ten minutes inside an hour still count the sources active in them (source rows are
    // hourly), and no more than the whole hour has.
    let window = |from: &str, to: &str| {
        let out = run(&[
            "report",
            "--store",
            p(&store),
            "--format",
            "json",
            "--from",
            from,
            "--to",
            to,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        report["summary"][0]["sources"].as_u64().unwrap()
    };
    let ten_minutes = window("2003-08-11 20:40", "2003-08-11 20:50");
    let hour = window("2003-08-11 20:00", "2003-08-11 21:00");
    assert!(
        ten_minutes > 0 && ten_minutes <= hour,
        "{ten_minutes} of {hour}"
    );

    // A period that ends before it starts is a usage error, not an empty report.
    let out = run(&[
        "report",
        "--store",
        p(&store),
        "--from",
        "2003-08-12",
        "--to",
        "2003-08-11",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not before --to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_with_2_and_store_errors_with_1() {
    assert_eq!(run(&["ingest"]).status.code(), Some(2));
    assert_eq!(
        run(&["report", "--format", "xml", "--store", "x"])
            .status
            .code(),
        Some(2)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["report", "--store", p(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a kansoku store"),
        "{}",
        stderr(&out)
    );
    let out = run(&["ingest", "--store", p(dir.path()), "--bin", "7m", "x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not divide an hour"));
    let out = run(&[
        "ingest",
        "--store",
        p(dir.path()),
        "--threads",
        "0",
        "x.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The demo prints the report, the alerts and the estimate, writes the chart, then serves
/// the dashboard (with the sample advisory) until it is told to stop, and cleans up.
#[test]
fn demo_prints_the_analysis_writes_the_chart_and_serves_the_dashboard() {
    use std::io::{BufRead, BufReader, Read};

    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("demo.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kansoku"))
        .args([
            "demo",
            "--chart",
            chart.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut text = String::new();
    let address = loop {
        let Some(line) = lines.next() else {
            let _ = child.kill();
            panic!("the demo ended without serving: {text}");
        };
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if let Some(rest) = line.strip_prefix("dashboard: http://") {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    let http_get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let overview = http_get("/api/v1/overview");
    let advisory = http_get("/advisories/ms03-026-blaster");
    // SIGTERM, as a service manager stops it: the demo finishes and removes its store.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");

    assert!(text.contains("top ports"), "{text}");
    assert!(text.contains("| tcp/135"), "{text}");
    let alerts = &text[text.find("outbreak alerts").expect("an alerts section")..];
    let rows: Vec<&str> = alerts.lines().filter(|l| l.starts_with("| 2003")).collect();
    assert!(
        rows.iter().any(|r| r.starts_with("| 2003-08-11T")
            && r.contains(" blaster ")
            && r.contains(" onset ")),
        "Blaster's onset on 2003-08-11 is alerted: {alerts}"
    );
    assert!(
        rows.iter()
            .all(|r| r.starts_with("| 2003-08-11T") || r.starts_with("| 2003-08-12T")),
        "nothing is alerted on the two quiet days: {alerts}"
    );
    let estimate = &text[text
        .find("infected population")
        .expect("an estimate section")..];
    assert!(
        estimate.contains("infected by the end: at least ")
            && estimate.contains("uniform random scanning: does not hold"),
        "Blaster scans sequentially, so the estimate gives the seen hosts and says why it \
         extrapolates no further: {estimate}"
    );
    let png = fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(text.contains("operator login: demo / "), "{text}");
    assert!(
        overview.starts_with("HTTP/1.1 200") && overview.contains("\"tcp/135\""),
        "{overview}"
    );
    assert!(
        advisory.starts_with("HTTP/1.1 200") && advisory.contains("MS03-026"),
        "{advisory}"
    );
}

/// Every capture of ../shared/testdata ingests, and exits non-zero exactly for the captures
/// whose content has a fault (here: timestamps stepping back by more than a second).
#[test]
fn every_shared_capture_ingests_as_its_content_warrants() {
    let testdata = crate_dir().join("../../../shared/testdata");
    if !testdata.is_dir() {
        eprintln!("skipping: ../shared/testdata not present");
        return;
    }
    let faulty = [
        "chrissanders_packets/blaster.pcap",
        "ncsa_bro-simple-scan/445_scan.pcap",
        "ncsa_bro-simple-scan/multiport_scan.pcap",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    let mut stack = vec![testdata.clone()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "hives" {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            seen += 1;
            let rel = path
                .strip_prefix(&testdata)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let store = dir.path().join(format!("s{seen}"));
            let out = run(&["ingest", "--store", p(&store), p(&path)]);
            let expect_fault = faulty.contains(&rel.as_str());
            assert_eq!(
                out.status.code(),
                Some(i32::from(expect_fault)),
                "{rel}: {}",
                stderr(&out)
            );
            let entry = &manifest(&store)["entries"][0];
            assert_eq!(
                entry["frames"].as_u64().unwrap(),
                entry["ip_packets"].as_u64().unwrap()
                    + entry["not_ip"].as_u64().unwrap()
                    + entry["unknown_link"].as_u64().unwrap()
                    + entry["malformed"]
                        .as_object()
                        .unwrap()
                        .values()
                        .map(|v| v.as_u64().unwrap())
                        .sum::<u64>(),
                "{rel}: every frame is accounted for"
            );
        }
    }
    assert!(seen >= 30, "expected the shared captures, found {seen}");
}
