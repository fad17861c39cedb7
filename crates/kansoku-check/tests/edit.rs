//! Offline hive edits, checked three ways: this crate's reader, nt-hive (`verify`), and
//! libhivex (`hivexregedit --export` of the whole hive, `hivexget`).
mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Reg, RegValue, base_system, hivex_export, hivex_ready, hivexget, welchia_services};
use kansoku_check::hive::Hive;
use kansoku_check::hive::edit::{Edit, apply, filetime_now};
use kansoku_check::hive::verify::{dump, verify};

/// A whole-hive export split into sections: lower-cased key header -> value lines.
fn sections(export: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in export.lines() {
        if line.starts_with('[') {
            cur = Some(line.to_lowercase());
            out.insert(line.to_lowercase(), Vec::new());
        } else if let (Some(c), false) = (&cur, line.is_empty()) {
            out.get_mut(c).unwrap().push(line.to_string());
        }
    }
    out
}

fn edit_file(path: &Path, edits: &[Edit]) -> (Vec<u8>, Vec<u8>) {
    let before = std::fs::read(path).unwrap();
    let hive = Hive::from_bytes(before.clone()).unwrap();
    let after = apply(&hive, edits, filetime_now()).unwrap();
    verify(&before, &after, edits).unwrap();
    std::fs::write(path, &after).unwrap();
    (before, after)
}

fn software() -> Reg {
    let mut reg = common::base_software()
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "a first",
            "one.exe",
        )
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "windows auto update",
            "msblast.exe",
        )
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "z last",
            "three.exe",
        )
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "only",
            "msblast.exe",
        );
    // A long value (hivex stores even values over 16344 bytes in one cell, which nt-hive
    // rejects, so this stays below that; `db` big data is not covered by these fixtures).
    reg = reg.sz("Big", "blob", &"b".repeat(8_000));
    for i in 0..30 {
        reg = reg.sz(&format!("Many\\K{i:02}"), "v", &"y".repeat(i));
    }
    reg
}

#[test]
fn deleting_a_value_changes_that_value_only() {
    if !hivex_ready("deleting_a_value_changes_that_value_only") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    software().build(&path);
    let before_export = sections(&hivex_export(&path, "\\").unwrap());
    let edits = [
        Edit::DeleteValue {
            key: "Microsoft\\Windows\\CurrentVersion\\Run".into(),
            value: "Windows Auto Update".into(),
        },
        // The last value of a key: its value list is freed.
        Edit::DeleteValue {
            key: "microsoft\\windows\\currentversion\\runonce".into(),
            value: "only".into(),
        },
    ];
    let (before, after) = edit_file(&path, &edits);
    assert_eq!(before.len(), after.len());

    // libhivex: exactly those two lines are gone from the whole-hive export.
    let mut want = before_export.clone();
    let run = "[\\microsoft\\windows\\currentversion\\run]";
    want.get_mut(run)
        .unwrap()
        .retain(|l| !l.starts_with("\"windows auto update\""));
    want.get_mut("[\\microsoft\\windows\\currentversion\\runonce]")
        .unwrap()
        .clear();
    assert_eq!(sections(&hivex_export(&path, "\\").unwrap()), want);
    let key = "\\Microsoft\\Windows\\CurrentVersion\\Run";
    assert_eq!(hivexget(&path, key, "windows auto update"), None);
    assert_eq!(hivexget(&path, key, "a first").as_deref(), Some("one.exe"));
    assert_eq!(hivexget(&path, key, "z last").as_deref(), Some("three.exe"));

    // This crate's reader agrees, and the base block is consistent and newer.
    let h = Hive::open(&path).unwrap();
    assert_eq!(
        h.key("Microsoft\\Windows\\CurrentVersion\\Run")
            .unwrap()
            .unwrap()
            .values()
            .unwrap()
            .len(),
        3
    );
    let old = Hive::from_bytes(before).unwrap().base();
    assert_eq!(h.base().primary_seq, old.primary_seq + 1);
    assert_eq!(h.base().primary_seq, h.base().secondary_seq);
    // No worm data left readable in freed cells.
    let utf16: Vec<u8> = "msblast.exe"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(!after.windows(utf16.len()).any(|w| w == utf16.as_slice()));
}

#[test]
fn deleting_a_service_subtree_in_two_control_sets() {
    if !hivex_ready("deleting_a_service_subtree_in_two_control_sets") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SYSTEM");
    let mut reg = welchia_services(
        welchia_services(base_system(), "ControlSet001"),
        "ControlSet002",
    );
    reg = reg
        .key(
            "ControlSet001\\Services\\RpcPatch\\Enum",
            &[
                ("Count", RegValue::Dword(1)),
                ("0", RegValue::Sz("Root\\LEGACY_RPCPATCH\\0000".into())),
            ],
        )
        .key("ControlSet001\\Services\\RpcPatch\\Security", &[])
        .key(
            "ControlSet001\\Services\\Zzz",
            &[("Start", RegValue::Dword(4))],
        );
    reg.build(&path);
    let before_export = sections(&hivex_export(&path, "\\").unwrap());
    let edits: Vec<Edit> = ["ControlSet001", "ControlSet002"]
        .iter()
        .flat_map(|cs| {
            ["RpcPatch", "RpcTftpd"].map(|s| Edit::DeleteKey {
                key: format!("{cs}\\Services\\{s}"),
            })
        })
        .collect();
    edit_file(&path, &edits);
    let mut want = before_export;
    want.retain(|k, _| !k.contains("\\rpcpatch") && !k.contains("\\rpctftpd"));
    assert_eq!(sections(&hivex_export(&path, "\\").unwrap()), want);
    assert!(hivex_export(&path, "\\ControlSet001\\Services\\RpcPatch").is_none());
    assert_eq!(
        hivexget(&path, "\\ControlSet001\\Services\\Zzz", "Start").as_deref(),
        Some("4")
    );
    assert!(
        Hive::open(&path)
            .unwrap()
            .key("ControlSet002\\Services\\Tcpip")
            .unwrap()
            .is_some()
    );
}

#[test]
fn every_single_deletion_verifies_independently() {
    if !hivex_ready("every_single_deletion_verifies_independently") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    software().build(&path);
    let bytes = std::fs::read(&path).unwrap();
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let tree = dump(&bytes).unwrap();
    let mut n = 0;
    for (key, values) in &tree {
        if !key.is_empty() {
            let edits = [Edit::DeleteKey { key: key.clone() }];
            let after = apply(&hive, &edits, 1).unwrap();
            verify(&bytes, &after, &edits).unwrap_or_else(|e| panic!("delete {key}: {e}"));
            n += 1;
        }
        for value in values.keys() {
            let edits = [Edit::DeleteValue {
                key: key.clone(),
                value: value.clone(),
            }];
            let after = apply(&hive, &edits, 1).unwrap();
            verify(&bytes, &after, &edits).unwrap_or_else(|e| panic!("delete {key} {value}: {e}"));
            n += 1;
        }
    }
    assert!(n > 60, "only {n} deletions tried");
}

#[test]
fn verification_catches_an_unplanned_difference_and_missing_targets_fail() {
    if !hivex_ready("verification_catches_an_unplanned_difference") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    software().build(&path);
    let bytes = std::fs::read(&path).unwrap();
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let planned = [Edit::DeleteValue {
        key: "Microsoft\\Windows\\CurrentVersion\\Run".into(),
        value: "windows auto update".into(),
    }];
    let mut more = planned.to_vec();
    more.push(Edit::DeleteKey {
        key: "Many\\K07".into(),
    });
    let after = apply(&hive, &more, 1).unwrap();
    let err = verify(&bytes, &after, &planned).unwrap_err();
    assert!(err.contains("key many\\k07 is missing"), "{err}");
    // The plan names something the hive does not have.
    assert!(apply(&hive, &[Edit::DeleteKey { key: "Nope".into() }], 1).is_err());
    assert!(
        apply(
            &hive,
            &[Edit::DeleteValue {
                key: "Many".into(),
                value: "x".into()
            }],
            1
        )
        .is_err()
    );
    assert!(apply(&hive, &[Edit::DeleteKey { key: "".into() }], 1).is_err());
}

#[test]
fn keys_listed_twice_are_refused_not_walked_exponentially() {
    if !hivex_ready("keys_listed_twice_are_refused_not_walked_exponentially") {
        return;
    }
    // A chain a\a\...\a, each level also holding a leaf "z"; then every "z" entry is made to
    // point at the "a" beside it: 2^depth paths through 2*depth cells.
    let depth = 28;
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    let mut reg = Reg::new();
    for d in 1..=depth {
        let chain = vec!["a"; d].join("\\");
        reg = reg.key(&chain, &[]).key(&format!("{chain}\\z"), &[]);
    }
    reg.build(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let mut patches = Vec::new();
    for d in 1..depth {
        let key = hive.key(&vec!["a"; d].join("\\")).unwrap().unwrap();
        let kids = key.subkeys().unwrap();
        assert_eq!(
            kids.iter().map(|k| k.name()).collect::<Vec<_>>(),
            ["a", "z"]
        );
        let nk = 4096 + key.offset() as usize + 4;
        let list = u32::from_le_bytes(bytes[nk + 0x1c..nk + 0x20].try_into().unwrap()) as usize;
        let entries = 4096 + list + 4 + 4;
        patches.push((entries + 8, kids[0].offset()));
    }
    for (at, off) in patches {
        bytes[at..at + 4].copy_from_slice(&off.to_le_bytes());
    }
    let sum = kansoku_check::hive::base::checksum(&bytes).unwrap();
    bytes[0x1fc..0x200].copy_from_slice(&sum.to_le_bytes());

    let started = std::time::Instant::now();
    let err = dump(&bytes).unwrap_err();
    assert!(err.contains("referenced twice"), "{err}");
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let err = kansoku_check::hive::regexport::export_text(&hive, "HKLM\\SOFTWARE", "a", true)
        .unwrap_err();
    // This crate's reader already refuses a list that names one key twice.
    assert!(err.to_string().contains("listed twice"), "{err}");
    assert!(apply(&hive, &[Edit::DeleteKey { key: "a".into() }], 1).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// Found by the `hive` fuzz target: a security cell whose list links point outside the
/// hive made the editor write out of bounds (a panic); it must be an error.
#[test]
fn damaged_security_list_is_an_error_not_a_panic() {
    if !hivex_ready("damaged_security_list_is_an_error_not_a_panic") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SOFTWARE");
    software().build(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let hive = Hive::from_bytes(bytes.clone()).unwrap();
    let key = hive.key("Many\\K07").unwrap().unwrap();
    let nk = 4096 + key.offset() as usize + 4;
    let sk = u32::from_le_bytes(bytes[nk + 0x2c..nk + 0x30].try_into().unwrap()) as usize;
    let sk_data = 4096 + sk + 4;
    assert_eq!(&bytes[sk_data..sk_data + 2], b"sk");
    // Only reference left, and both list links far outside the file.
    bytes[sk_data + 4..sk_data + 8].copy_from_slice(&0x7000_0000u32.to_le_bytes());
    bytes[sk_data + 8..sk_data + 12].copy_from_slice(&0x7000_0008u32.to_le_bytes());
    bytes[sk_data + 12..sk_data + 16].copy_from_slice(&1u32.to_le_bytes());
    let sum = kansoku_check::hive::base::checksum(&bytes).unwrap();
    bytes[0x1fc..0x200].copy_from_slice(&sum.to_le_bytes());
    let hive = Hive::from_bytes(bytes).unwrap();
    let err = apply(
        &hive,
        &[Edit::DeleteKey {
            key: "Many\\K07".into(),
        }],
        1,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cell at 0x70000000"), "{err}");
}

/// The `.reg` export that `apply` keeps of a deleted key is complete: libhivex merges it
/// back into the cleaned hive and the subtree is as it was.
#[test]
fn reg_export_restores_the_deleted_subtree_with_libhivex() {
    if !hivex_ready("reg_export_restores_the_deleted_subtree_with_libhivex") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("SYSTEM");
    welchia_services(base_system(), "ControlSet001")
        .key(
            "ControlSet001\\Services\\RpcPatch\\Enum",
            &[
                ("Count", RegValue::Dword(1)),
                ("0", RegValue::Sz("Root\\LEGACY_RPCPATCH\\0000".into())),
            ],
        )
        .build(&path);
    let original = hivex_export(&path, "\\ControlSet001\\Services\\RpcPatch").unwrap();
    let hive = Hive::open(&path).unwrap();
    let reg = kansoku_check::hive::regexport::export_text(
        &hive,
        "HKEY_LOCAL_MACHINE\\SYSTEM",
        "ControlSet001\\Services\\RpcPatch",
        true,
    )
    .unwrap();
    // What apply writes is UTF-16LE with a BOM, as regedit does; hivexregedit reads UTF-8.
    let encoded = kansoku_check::hive::regexport::encode(&reg);
    assert_eq!(&encoded[..2], &[0xff, 0xfe]);
    let units: Vec<u16> = encoded[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap().replace("\r\n", "\n");
    edit_file(
        &path,
        &[Edit::DeleteKey {
            key: "ControlSet001\\Services\\RpcPatch".into(),
        }],
    );
    assert!(hivex_export(&path, "\\ControlSet001\\Services\\RpcPatch").is_none());
    let reg_file = t.path().join("rpcpatch.reg");
    std::fs::write(&reg_file, text).unwrap();
    let out = std::process::Command::new("hivexregedit")
        .args(["--merge", "--prefix", "HKEY_LOCAL_MACHINE\\SYSTEM"])
        .arg(&path)
        .arg(&reg_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        hivex_export(&path, "\\ControlSet001\\Services\\RpcPatch").unwrap(),
        original
    );
}
