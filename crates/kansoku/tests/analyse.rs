//! Analysis on simulated outbreaks with known truth: outbreak alerts.

use std::path::Path;
use std::process::{Command, Output};

use chrono::DateTime;
use serde_json::Value;

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

fn seconds(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp()
}

/// Alerts as JSON objects, from the stored table (`sql`) or a batch scan (`alerts`).
fn alerts(store: &Path, batch: bool) -> Vec<Value> {
    let out = if batch {
        run(&["alerts", "--store", p(store), "--format", "json"])
    } else {
        run(&[
            "sql",
            "--store",
            p(store),
            "--format",
            "json",
            "SELECT * FROM alerts ORDER BY at, scope, target, kind",
        ])
    };
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Two days of background (the first one to learn from), then Blaster: an onset alert
/// within 30 minutes of the first Blaster packet, and no alert before the outbreak.
#[test]
fn blaster_onset_is_alerted_within_30_minutes_and_baseline_days_stay_quiet() {
    for seed in ["1", "2", "3"] {
        let dir = tempfile::tempdir().unwrap();
        let (pcap, truth, store) = (
            dir.path().join("b.pcap"),
            dir.path().join("t.json"),
            dir.path().join("store"),
        );
        run(&[
            "simulate",
            "-o",
            p(&pcap),
            "--truth",
            p(&truth),
            "--scenario",
            "blaster-2003",
            "--days",
            "3",
            "--baseline-days",
            "2",
            "--seed",
            seed,
        ]);
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap();
        let outbreak = seconds(truth["outbreak_start"].as_str().unwrap());
        let onset = truth["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["class"] == "blaster")
            .map(|s| seconds(s["first_seen"].as_str().unwrap()))
            .min()
            .unwrap();
        run(&["ingest", "--store", p(&store), p(&pcap)]);

        let stored = alerts(&store, false);
        let before: Vec<&Value> = stored
            .iter()
            .filter(|a| seconds(a["at"].as_str().unwrap()) < outbreak)
            .collect();
        assert!(
            before.is_empty(),
            "seed {seed}: alerts before the outbreak: {before:?}"
        );
        // The alert is raised at the end of its 5-minute bin.
        let raised = stored
            .iter()
            .filter(|a| a["kind"] == "onset" && a["target"] == "blaster")
            .map(|a| seconds(a["at"].as_str().unwrap()) + 300)
            .min()
            .unwrap_or_else(|| panic!("seed {seed}: no blaster onset in {stored:?}"));
        assert!(
            raised - onset <= 30 * 60,
            "seed {seed}: onset alert {} s after the first Blaster packet",
            raised - onset
        );
        // The port shows it too, and ingest's incremental alerts are the batch scan's.
        assert!(
            stored
                .iter()
                .any(|a| a["kind"] == "onset" && a["target"] == "tcp/135"),
            "seed {seed}: {stored:?}"
        );
        assert_eq!(stored, alerts(&store, true), "seed {seed}");
    }
}
