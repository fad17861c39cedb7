//! Population estimates on simulated outbreaks with known truth: the simulator records
//! every host it infected, including those whose probes never reached the telescope.

mod common;

use common::{p, run};

use serde_json::Value;

/// Simulates `scenario` on `telescope`, ingests it and estimates `signature`: the truth and
/// the estimate as JSON.
fn simulate_and_estimate(
    scenario: &str,
    signature: &str,
    seed: &str,
    days: &str,
    telescope: &str,
) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, truth, store) = (
        dir.path().join("c.pcap"),
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
        scenario,
        "--seed",
        seed,
        "--days",
        days,
        "--telescope",
        telescope,
    ]);
    run(&["ingest", "--store", p(&store), p(&pcap)]);
    let out = run(&[
        "estimate",
        "--store",
        p(&store),
        "--signature",
        signature,
        "--telescope",
        telescope,
        "--format",
        "json",
    ]);
    let truth: Value = serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap();
    (truth, serde_json::from_slice(&out.stdout).unwrap())
}

fn verdict<'a>(estimate: &'a Value, name: &str) -> &'a str {
    estimate["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no assumption {name}: {estimate}"))["verdict"]
        .as_str()
        .unwrap()
}

/// The estimate at the end is within 25% of the true infected population, the truth is in
/// the band, and the population seen is the share of it the estimate says was seen.
fn check(scenario: &str, signature: &str, seed: &str, days: &str, telescope: &str) -> f64 {
    let (truth, e) = simulate_and_estimate(scenario, signature, seed, days, telescope);
    let infected = truth["population"][signature]["infected_at_end"]
        .as_f64()
        .unwrap_or_else(|| panic!("truth has no population for {signature}"));
    let end = &e["at_end"];
    let (estimate, low, high) = (
        end["estimate"].as_f64().unwrap(),
        end["low"].as_f64().unwrap(),
        end["high"].as_f64().unwrap(),
    );
    let seen = end["seen"].as_f64().unwrap();
    eprintln!(
        "{scenario} seed {seed} on {telescope}: truth {infected}, seen {seen}, estimate \
         {estimate:.0} [{low:.0}, {high:.0}]"
    );
    let what = format!("{scenario} seed {seed} on {telescope}: {e}");
    assert!(
        (estimate / infected - 1.0).abs() <= 0.25,
        "estimate {estimate} vs truth {infected}; {what}"
    );
    assert!(
        low <= infected && infected <= high,
        "truth {infected} outside [{low}, {high}]; {what}"
    );
    assert_eq!(verdict(&e, "uniform random scanning"), "holds", "{what}");
    // The last hour of the series is the value at the end, and the series never falls.
    let hourly = e["hourly"].as_array().unwrap();
    assert_eq!(hourly.last().unwrap(), end);
    let truth_hours = truth["population"][signature]["hourly"].as_array().unwrap();
    assert_eq!(
        truth_hours.last().unwrap()[1].as_f64().unwrap(),
        infected,
        "the truth's last hour is its end"
    );
    1.0 - seen / infected
}

/// The outbreaks the /16 telescope sees nearly whole: the estimate must not invent hosts.
#[test]
fn random_scanners_on_a_16_are_estimated_within_25_percent() {
    for (scenario, signature) in [
        ("slammer-2003", "slammer"),
        ("sasser-2004", "sasser"),
        ("conficker-2008", "conficker"),
        ("mirai-2016", "mirai"),
    ] {
        check(scenario, signature, "1", "2", "198.18.0.0/16");
    }
}

/// A /20 sees a sixteenth of the probes: a fifth or more of the hosts are never seen, and
/// the estimate has to find them.
#[test]
fn random_scanners_on_a_20_are_estimated_where_many_hosts_go_unseen() {
    for (scenario, signature, seed) in [
        ("conficker-2008", "conficker", "1"),
        ("conficker-2008", "conficker", "2"),
        ("mirai-2016", "mirai", "1"),
    ] {
        let unseen = check(scenario, signature, seed, "3", "198.18.0.0/20");
        assert!(
            unseen > 0.1,
            "{scenario} seed {seed}: only {unseen:.2} unseen"
        );
    }
}

/// Blaster walks sequentially: the uniform-hit model does not hold and no estimate is given.
#[test]
fn sequential_blaster_is_refused() {
    let (_, e) = simulate_and_estimate("blaster-2003", "blaster", "1", "2", "198.18.0.0/16");
    assert_eq!(
        verdict(&e, "uniform random scanning"),
        "does not hold",
        "{e}"
    );
    assert!(e["at_end"].is_null() && e["fit"].is_null(), "{e}");
}

/// The telescope's share is of the IPv4 space: IPv6 sources are not scaled by it. A store
/// of IPv6 probes alone is refused with the reason; an IPv4 probe beside them is estimated
/// alone.
#[test]
fn only_ipv4_sources_are_estimated() {
    let dir = tempfile::tempdir().unwrap();
    let (v6, v4, store) = (
        dir.path().join("v6.pcap"),
        dir.path().join("v4.pcap"),
        dir.path().join("store"),
    );
    // 2003-08-11 16:20 UTC and later.
    let t = 1_060_618_800;
    common::syn_pcap(
        &v6,
        &[
            common::syn(t, "2001:db8:1::9", 2347),
            common::syn(t + 60, "2001:db8:2::9", 2347),
        ],
    );
    run(&["ingest", "--store", p(&store), p(&v6)]);
    let estimate = |store: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kansoku"))
            .args([
                "estimate",
                "--store",
                p(store),
                "--signature",
                "scan/tcp/2347",
            ])
            .args(["--telescope", "198.18.0.0/16", "--format", "json"])
            .output()
            .unwrap()
    };
    let out = estimate(&store);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no IPv4 sources of signature"), "{said}");

    common::syn_pcap(&v4, &[common::syn(t + 120, "203.0.113.9", 2347)]);
    run(&["ingest", "--store", p(&store), p(&v4)]);
    let out = estimate(&store);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["sources"], 1, "{e}");
}
