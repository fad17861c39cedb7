//! The hive reader against hives written by libhivex, including randomized truncation and
//! corruption (the reader must return errors, never panic or loop).
mod common;

use common::{Reg, RegValue, hivex_ready};
use kansoku_check::hive::{Hive, HiveError, Key};

fn sample() -> Reg {
    let mut reg = Reg::new()
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "windows auto update",
            "msblast.exe",
        )
        .key(
            "Microsoft\\Windows NT\\CurrentVersion",
            &[
                ("CurrentVersion", RegValue::Sz("5.1".into())),
                ("CSDVersion", RegValue::Sz("Service Pack 1".into())),
                ("Path", RegValue::ExpandSz("%SystemRoot%\\x".into())),
                ("Flag", RegValue::Dword(0x1234)),
            ],
        );
    // Enough subkeys to make hivex write a larger list, and a long value.
    for i in 0..40 {
        reg = reg.sz(&format!("Many\\Key{i:02}"), "v", &"x".repeat(i * 10));
    }
    reg
}

fn walk(key: &Key<'_>, depth: usize, count: &mut usize) -> Result<(), HiveError> {
    *count += 1;
    assert!(depth < 64, "walk deeper than the fixture could be: a loop");
    for v in key.values()? {
        let _ = (v.as_text(), v.as_dword());
    }
    for k in key.subkeys()? {
        let _ = k.name();
        walk(&k, depth + 1, count)?;
    }
    Ok(())
}

#[test]
fn reads_keys_and_values_written_by_hivex() {
    if !hivex_ready("reads_keys_and_values_written_by_hivex") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    sample().build(&path);
    let hive = Hive::open(&path).unwrap();
    let run = hive
        .key("microsoft\\WINDOWS\\currentversion\\run")
        .unwrap()
        .unwrap();
    assert_eq!(run.name(), "Run");
    let v = run.value("Windows Auto Update").unwrap().unwrap();
    assert_eq!(v.name, "windows auto update");
    assert_eq!(v.as_text().as_deref(), Some("msblast.exe"));
    let nt = hive
        .key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        nt.value("CSDVersion")
            .unwrap()
            .unwrap()
            .as_text()
            .as_deref(),
        Some("Service Pack 1")
    );
    assert_eq!(
        nt.value("Path").unwrap().unwrap().as_text().as_deref(),
        Some("%SystemRoot%\\x")
    );
    assert_eq!(nt.value("flag").unwrap().unwrap().as_dword(), Some(0x1234));
    assert!(nt.value("absent").unwrap().is_none());
    assert!(hive.key("Microsoft\\Nope").unwrap().is_none());
    let many = hive.key("Many").unwrap().unwrap().subkeys().unwrap();
    assert_eq!(many.len(), 40);
    let k39 = hive.key("Many\\Key39").unwrap().unwrap();
    assert_eq!(
        k39.value("v").unwrap().unwrap().as_text().unwrap().len(),
        390
    );
}

#[test]
fn pending_transaction_log_is_refused() {
    if !hivex_ready("pending_transaction_log_is_refused") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SYSTEM");
    Reg::new().sz("Select", "x", "y").build(&path);
    std::fs::write(t.path().join("system.LOG1"), b"").unwrap();
    Hive::open(&path).expect("an empty log is not pending");
    std::fs::write(t.path().join("SYSTEM.LOG2"), b"HvLE....").unwrap();
    let err = Hive::open(&path).unwrap_err();
    assert!(matches!(err.source, HiveError::Dirty(_)), "{err}");
    assert!(err.to_string().contains("SYSTEM.LOG2"), "{err}");
}

/// A tiny deterministic generator so failures reproduce without extra dependencies.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Re-signs the base block so that corruption in the bins reaches the cell parser.
fn fix_checksum(d: &mut [u8]) {
    use kansoku_check::hive::base::{CHECKSUM_OFFSET, checksum};
    let sum = checksum(d).unwrap();
    d[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn truncated_and_corrupted_hives_give_errors_not_panics() {
    if !hivex_ready("truncated_and_corrupted_hives_give_errors_not_panics") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    sample().build(&path);
    let good = std::fs::read(&path).unwrap();
    let mut full = 0;
    walk(
        &Hive::from_bytes(good.clone()).unwrap().root().unwrap(),
        0,
        &mut full,
    )
    .unwrap();
    assert!(full > 40);

    // Every truncation point on a coarse grid plus random ones.
    let mut rng = XorShift(0x6b61_6e73_6f6b_7521);
    let mut cuts: Vec<usize> = (0..good.len()).step_by(97).collect();
    cuts.extend((0..200).map(|_| rng.below(good.len())));
    for cut in cuts {
        match Hive::from_bytes(good[..cut].to_vec()) {
            Err(HiveError::Truncated(_)) => {}
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
    }

    // Random byte corruption in the bins, checksum fixed so the cells are reached.
    let mut errors = 0;
    for round in 0..3000 {
        let mut d = good.clone();
        for _ in 0..1 + rng.below(8) {
            let at = 4096 + rng.below(good.len() - 4096);
            d[at] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                2 => d[at] ^ (1 << rng.below(8)),
                _ => rng.next() as u8,
            };
        }
        fix_checksum(&mut d);
        let hive = Hive::from_bytes(d).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let mut n = 0;
        if hive.root().and_then(|r| walk(&r, 0, &mut n)).is_err() {
            errors += 1;
        }
    }
    // Most random corruptions hit something the reader checks; none may panic.
    assert!(errors > 100, "only {errors} corruptions detected");

    // Corrupting the base block itself is caught by the checksum.
    for _ in 0..200 {
        let mut d = good.clone();
        let at = rng.below(508);
        d[at] ^= 1 << rng.below(8);
        assert!(Hive::from_bytes(d).is_err());
    }
}
