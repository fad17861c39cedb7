//! Helpers shared by the integration tests: the `kansoku` binary, paths as arguments, and
//! the simulated Blaster store the web tests read. Each test crate uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This crate's directory, read at run time: cargo sets `CARGO_MANIFEST_DIR` when it runs a
/// test, and a build cache shared between checkouts (as `.ci/run` uses) can hold a test binary
/// compiled in another checkout, whose compile-time path may be gone.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Runs `kansoku` with `args` and asserts it succeeded (its stderr in the message).
pub fn run(args: &[&str]) -> Output {
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

/// Runs `kansoku` with `args` and asserts it failed; returns its stderr.
pub fn run_failing(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kansoku"))
        .args(args)
        .output()
        .expect("kansoku runs");
    assert!(!out.status.success(), "kansoku {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Simulates two quiet days and a day of Blaster (seed 1) and ingests it as sensor `tokyo`
/// into `dir/store`; returns the store.
pub fn blaster_store(dir: &Path) -> PathBuf {
    let pcap = dir.join("b.pcap");
    let store = dir.join("store");
    simulate_blaster(&pcap, 3, 2, 1);
    run(&[
        "ingest",
        "--store",
        p(&store),
        "--sensor",
        "tokyo",
        p(&pcap),
    ]);
    store
}

/// A simulated Blaster capture: `baseline_days` quiet days, then the outbreak, `days` in all.
pub fn simulate_blaster(pcap: &Path, days: u32, baseline_days: u32, seed: u64) {
    run(&[
        "simulate",
        "-o",
        p(pcap),
        "--scenario",
        "blaster-2003",
        "--days",
        &days.to_string(),
        "--baseline-days",
        &baseline_days.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
}

/// The value `name=VALUE` that a `Set-Cookie` header of an answer sets.
pub fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}
