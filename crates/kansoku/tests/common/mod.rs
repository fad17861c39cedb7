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

/// One TCP SYN for [`syn_pcap`]: capture time, source address (IPv4 or IPv6), port.
pub struct Syn {
    pub unix_s: u32,
    pub src: std::net::IpAddr,
    pub port: u16,
}

pub fn syn(unix_s: u32, src: &str, port: u16) -> Syn {
    Syn {
        unix_s,
        src: src.parse().expect("an IP address"),
        port,
    }
}

/// A classic pcap (raw IP link type) of bare SYNs, each to 198.18.1.1 (or 2001:db8::1 from
/// an IPv6 source): probes no simulator scenario makes, written byte by byte.
pub fn syn_pcap(path: &Path, syns: &[Syn]) {
    let mut file = Vec::new();
    for field in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 101] {
        file.extend_from_slice(&field.to_le_bytes());
    }
    for s in syns {
        let mut tcp = Vec::new();
        tcp.extend_from_slice(&40_000u16.to_be_bytes());
        tcp.extend_from_slice(&s.port.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        let mut packet = match s.src {
            std::net::IpAddr::V4(src) => {
                let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
                ip.extend_from_slice(&src.octets());
                ip.extend_from_slice(&[198, 18, 1, 1]);
                ip
            }
            std::net::IpAddr::V6(src) => {
                let mut ip = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
                ip.extend_from_slice(&src.octets());
                ip.extend_from_slice(
                    &"2001:db8::1"
                        .parse::<std::net::Ipv6Addr>()
                        .unwrap()
                        .octets(),
                );
                ip
            }
        };
        packet.extend_from_slice(&tcp);
        let len = packet.len() as u32;
        for field in [s.unix_s, 0, len, len] {
            file.extend_from_slice(&field.to_le_bytes());
        }
        file.extend_from_slice(&packet);
    }
    std::fs::write(path, file).unwrap();
}
