//! The scan engine on fixture volumes with real hives (built by libhivex).
mod common;

use common::{Image, Reg, base_software, base_system, hivex_ready, welchia_services};
use kansoku_check::ioc::IocDb;
use kansoku_check::scan::{Location, ScanResult, scan};
use kansoku_check::volume::Volume;

fn run(img: &Image) -> ScanResult {
    scan(
        &Volume::open(img.root()).unwrap(),
        &IocDb::builtin().unwrap(),
    )
}

fn ids(r: &ScanResult) -> Vec<String> {
    let mut v: Vec<String> = r.findings.iter().flat_map(|f| f.rule_ids.clone()).collect();
    v.sort();
    v
}

#[test]
fn clean_system_has_no_findings_and_is_complete() {
    if !hivex_ready("clean_system_has_no_findings_and_is_complete") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    img.dummy("System32\\dllhost.exe", 5120);
    img.dummy("system32\\svchost.exe", 14336);
    let r = run(&img);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.complete(), "{:?}", r.errors);
    assert_eq!(r.windows_dir.as_deref(), Some("WINDOWS"));
    assert_eq!(r.inputs.len(), 2);
    assert_eq!(r.not_checked, ["BLASTER-A-MUTEX", "BLASTER-F-MUTEX"]);
}

/// (variant letter, file, size, Run value name as the write-ups give it)
const BLASTER: [(&str, &str, usize, &str); 6] = [
    ("A", "msblast.exe", 6176, "windows auto update"),
    ("B", "penis32.exe", 7200, "windows auto update"),
    ("C", "teekids.exe", 5360, "Microsoft Inet xp.."),
    ("D", "mspatch.exe", 11776, "Nonton Antivirus"),
    ("E", "mslaugh.exe", 6176, "Windows Automation"),
    ("F", "enbiei.exe", 11808, "www.hidro.4t.com"),
];

#[test]
fn each_blaster_variant_is_found_by_file_and_run_value() {
    if !hivex_ready("each_blaster_variant_is_found_by_file_and_run_value") {
        return;
    }
    for (i, (letter, file, size, value)) in BLASTER.into_iter().enumerate() {
        // Alternate layouts and the case of the file name.
        let layout = if i % 2 == 0 { "WinNT" } else { "WINDOWS" };
        let stored = if i % 2 == 0 {
            file.to_uppercase()
        } else {
            file.to_string()
        };
        let img = Image::standard(
            layout,
            base_software().sz("Microsoft\\Windows\\CurrentVersion\\Run", value, &stored),
            base_system(),
        );
        img.dummy(&format!("System32\\{stored}"), size);
        let r = run(&img);
        let expected = vec![
            format!("BLASTER-{letter}-FILE"),
            format!("BLASTER-{letter}-RUN"),
        ];
        assert_eq!(ids(&r), expected, "variant {letter}");
        assert!(r.complete(), "{:?}", r.errors);
        let file_finding = r
            .findings
            .iter()
            .find(|f| matches!(f.location, Location::File { .. }))
            .unwrap();
        let Location::File {
            size: s,
            sha256,
            path,
            ..
        } = &file_finding.location
        else {
            unreachable!()
        };
        assert_eq!(*s as usize, size);
        assert_eq!(sha256.len(), 64);
        assert_eq!(path, &format!("{layout}\\System32\\{stored}"));
        assert_eq!(file_finding.backdoor, letter == "C");
    }
}

#[test]
fn blaster_c_backdoor_files_and_runonce_are_found() {
    if !hivex_ready("blaster_c_backdoor_files_and_runonce_are_found") {
        return;
    }
    let img = Image::standard(
        "WINDOWS",
        base_software().sz(
            "Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "renamed by hand",
            "C:\\WINDOWS\\system32\\root32.exe",
        ),
        base_system(),
    );
    img.dummy("system32\\index.exe", 36316);
    img.dummy("system32\\root32.exe", 19800);
    let r = run(&img);
    assert_eq!(
        ids(&r),
        ["BLASTER-C-BACKDOOR", "BLASTER-C-DROPPER", "BLASTER-C-RUN"]
    );
    assert!(r.findings.iter().all(|f| f.backdoor));
    let run = r
        .findings
        .iter()
        .find_map(|f| match &f.location {
            Location::RunValue { key, matched, .. } => Some((key.clone(), matched.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        run,
        (
            "Microsoft\\Windows\\CurrentVersion\\RunOnce".to_string(),
            "file_name".to_string()
        )
    );
}

#[test]
fn welchia_is_found_in_every_listed_control_set() {
    if !hivex_ready("welchia_is_found_in_every_listed_control_set") {
        return;
    }
    let system = welchia_services(
        welchia_services(base_system(), "ControlSet001"),
        "ControlSet002",
    );
    let img = Image::standard("WINDOWS", base_software(), system);
    img.dummy("System32\\WINS\\DllHost.exe", 10240);
    img.dummy("System32\\WINS\\svchost.exe", 19728);
    img.dummy("System32\\dllhost.exe", 5120);
    img.dummy("System32\\svchost.exe", 14336);
    let r = run(&img);
    assert_eq!(
        ids(&r),
        [
            "WELCHIA-FILE-DLLHOST",
            "WELCHIA-FILE-SVCHOST",
            "WELCHIA-SVC-RPCPATCH",
            "WELCHIA-SVC-RPCPATCH",
            "WELCHIA-SVC-RPCTFTPD",
            "WELCHIA-SVC-RPCTFTPD"
        ]
    );
    let sets: Vec<_> = r
        .findings
        .iter()
        .filter_map(|f| match &f.location {
            Location::Service {
                control_set,
                image_path,
                ..
            } => Some((control_set.clone(), image_path.clone().unwrap())),
            _ => None,
        })
        .collect();
    assert!(sets.contains(&(
        "ControlSet002".into(),
        "%SystemRoot%\\system32\\wins\\dllhost.exe".into()
    )));
}

#[test]
fn welchia_only_in_an_unlisted_control_set_is_not_reported_but_listed_one_is() {
    if !hivex_ready("welchia_only_in_an_unlisted_control_set") {
        return;
    }
    // ControlSet003 exists but Select does not list it: Windows never loads it.
    let system = welchia_services(base_system(), "ControlSet003");
    let img = Image::standard("WINDOWS", base_software(), system);
    assert!(run(&img).findings.is_empty());
    let system = welchia_services(base_system(), "ControlSet002");
    let img = Image::standard("WINDOWS", base_software(), system);
    assert_eq!(
        ids(&run(&img)),
        ["WELCHIA-SVC-RPCPATCH", "WELCHIA-SVC-RPCTFTPD"]
    );
}

#[test]
fn a_real_wins_server_is_not_flagged() {
    if !hivex_ready("a_real_wins_server_is_not_flagged") {
        return;
    }
    let system = base_system().key(
        "ControlSet001\\Services\\WINS",
        &[
            (
                "DisplayName",
                common::RegValue::Sz("Windows Internet Name Service (WINS)".into()),
            ),
            (
                "ImagePath",
                common::RegValue::ExpandSz("%SystemRoot%\\System32\\wins.exe".into()),
            ),
        ],
    );
    let img = Image::standard("WINNT", base_software(), system);
    for f in [
        "wins.mdb",
        "j50.chk",
        "j50.log",
        "winstmp.mdb",
        "res1.log",
        "res2.log",
    ] {
        img.dummy(&format!("system32\\wins\\{f}"), 4096);
    }
    std::fs::create_dir_all(img.windows.join("System32/wins/backup")).unwrap();
    img.dummy("system32\\wins.exe", 8192);
    img.dummy("system32\\dllhost.exe", 5120);
    img.dummy("system32\\svchost.exe", 14336);
    let r = run(&img);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.complete(), "{:?}", r.errors);
}

#[test]
fn user_run_keys_are_scanned() {
    if !hivex_ready("user_run_keys_are_scanned") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    Reg::new()
        .sz(
            "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "Nonton Antivirus",
            "mspatch.exe",
        )
        .build(&img.root().join("Documents and Settings/Alice/NTUSER.DAT"));
    Reg::new()
        .sz(
            "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "ok",
            "notepad.exe",
        )
        .build(&img.root().join("Documents and Settings/Bob/ntuser.dat"));
    let r = run(&img);
    assert_eq!(ids(&r), ["BLASTER-D-RUN"]);
    assert_eq!(r.inputs.len(), 4);
    match &r.findings[0].location {
        Location::RunValue { hive, .. } => {
            assert_eq!(hive, "Documents and Settings\\Alice\\NTUSER.DAT")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dirty_and_truncated_hives_make_the_scan_incomplete() {
    if !hivex_ready("dirty_and_truncated_hives_make_the_scan_incomplete") {
        return;
    }
    // Dirty: an interrupted write leaves the two sequence numbers different.
    let img = Image::standard("WINDOWS", base_software(), base_system());
    let mut d = std::fs::read(img.system_path()).unwrap();
    let seq = u32::from_le_bytes(d[4..8].try_into().unwrap()) + 1;
    d[4..8].copy_from_slice(&seq.to_le_bytes());
    let sum = kansoku_check::hive::base::checksum(&d).unwrap();
    d[0x1fc..0x200].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(img.system_path(), d).unwrap();
    let r = run(&img);
    assert!(!r.complete());
    assert!(r.errors[0].contains("dirty"), "{:?}", r.errors);
    assert!(r.errors[0].contains("SYSTEM"), "{:?}", r.errors);

    // Truncated SOFTWARE, while the Blaster file is still found.
    let img = Image::standard("WINDOWS", base_software(), base_system());
    let d = std::fs::read(img.software_path()).unwrap();
    std::fs::write(img.software_path(), &d[..d.len() - 4096]).unwrap();
    img.dummy("system32\\msblast.exe", 6176);
    let r = run(&img);
    assert!(r.infected());
    assert!(!r.complete());
    assert!(r.errors[0].contains("truncated"), "{:?}", r.errors);
}

#[cfg(unix)]
#[test]
fn worm_file_behind_an_escaping_link_is_not_read() {
    if !hivex_ready("worm_file_behind_an_escaping_link_is_not_read") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("msblast.exe"), b"host file").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("msblast.exe"),
        img.windows.join("System32/msblast.exe"),
    )
    .unwrap();
    let r = run(&img);
    assert!(r.findings.is_empty());
    assert!(
        r.errors
            .iter()
            .any(|e| e.contains("outside the scanned root")),
        "{:?}",
        r.errors
    );
}
