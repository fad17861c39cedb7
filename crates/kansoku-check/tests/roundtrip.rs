//! The whole remediation cycle through the binary on a realistic fixture volume:
//! scan (infected), plan, apply, scan (clean), restore every action, scan (infected again),
//! with libhivex (hivexget / hivexregedit) confirming each hive state independently.
mod common;

use std::path::Path;
use std::process::Command;

use common::{
    Image, Reg, base_software, base_system, hivex_export, hivex_ready, hivexget, welchia_services,
};

fn check(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kansoku-check"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out) = check(args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, v)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sha(p: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(p).unwrap()).to_vec()
}

const RUN: &str = "\\Microsoft\\Windows\\CurrentVersion\\Run";

fn infected_image() -> Image {
    let system = welchia_services(
        welchia_services(base_system(), "ControlSet001"),
        "ControlSet002",
    );
    let img = Image::standard(
        "WinNT",
        base_software()
            .sz(
                "Microsoft\\Windows\\CurrentVersion\\Run",
                "windows auto update",
                "msblast.exe",
            )
            .sz(
                "Microsoft\\Windows\\CurrentVersion\\Run",
                "zz legit",
                "C:\\tools\\ok.exe",
            ),
        system,
    );
    img.dummy("System32\\msblast.exe", 6176);
    img.dummy("System32\\wins\\dllhost.exe", 10240);
    img.dummy("System32\\wins\\svchost.exe", 19728);
    img.dummy("System32\\dllhost.exe", 5120);
    Reg::new()
        .sz(
            "Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "Windows Automation",
            "mslaugh.exe",
        )
        .build(&img.root().join("Documents and Settings/Alice/NTUSER.DAT"));
    img
}

#[test]
fn scan_apply_scan_restore_scan() {
    if !hivex_ready("scan_apply_scan_restore_scan") {
        return;
    }
    let img = infected_image();
    let q = tempfile::tempdir().unwrap();
    let quarantine = q.path().join("quarantine");
    let plan_path = q.path().join("plan.json");
    let root = s(img.root());
    let software = img.software_path();
    let system = img.system_path();
    let user = img.root().join("Documents and Settings/Alice/NTUSER.DAT");
    let originals: Vec<(std::path::PathBuf, Vec<u8>)> = [&software, &system, &user]
        .iter()
        .map(|p| (p.to_path_buf(), sha(p)))
        .chain(
            [
                "System32/msblast.exe",
                "System32/wins/dllhost.exe",
                "System32/wins/svchost.exe",
            ]
            .iter()
            .map(|f| (img.windows.join(f), sha(&img.windows.join(f)))),
        )
        .collect();
    let mtime = std::fs::metadata(img.windows.join("System32/msblast.exe"))
        .unwrap()
        .modified()
        .unwrap();

    // 1. Scan: infected.
    let (code, first) = json(&["scan", "--image", root, "--format", "json"]);
    assert_eq!(code, 1);
    let first_ids: Vec<String> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["rule_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(first_ids.len(), 9, "{first_ids:?}");

    // 2. Plan: nothing changes on the volume.
    let (code, _) = json(&[
        "plan",
        "--image",
        root,
        "--quarantine",
        s(&quarantine),
        "-o",
        s(&plan_path),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let actions = plan["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 9);
    for (p, h) in &originals {
        assert_eq!(&sha(p), h, "plan changed {}", p.display());
    }

    // 3. Apply: every action succeeds, the scan afterwards is clean.
    let (code, applied) = json(&["apply", "--plan", s(&plan_path), "--format", "json"]);
    assert_eq!(code, 0, "{applied:#}");
    assert_eq!(applied["status"], "remediated");
    let results = applied["actions"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    assert!(results.iter().all(|a| a["ok"] == true), "{results:#?}");
    assert!(applied["findings"].as_array().unwrap().is_empty());
    // Cleaned but not yet patched, and restore points may still hold copies.
    let advice: Vec<&str> = applied["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(advice, ["patch_first", "system_restore", "firewall"]);
    assert_eq!(results[0]["rule_ids"][0], "BLASTER-A-FILE");

    // 4. Independent confirmation of the cleaned state.
    let (code, _) = check(&["scan", "--image", root]);
    assert_eq!(code, 0);
    assert_eq!(hivexget(&software, RUN, "windows auto update"), None);
    assert_eq!(
        hivexget(&software, RUN, "zz legit").as_deref(),
        Some("C:\\tools\\ok.exe")
    );
    assert_eq!(
        hivexget(
            &user,
            "\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "Windows Automation"
        ),
        None
    );
    for cs in ["ControlSet001", "ControlSet002"] {
        for svc in ["RpcPatch", "RpcTftpd"] {
            assert!(hivex_export(&system, &format!("\\{cs}\\Services\\{svc}")).is_none());
        }
        assert_eq!(
            hivexget(&system, &format!("\\{cs}\\Services\\Tcpip"), "ImagePath").as_deref(),
            Some("system32\\DRIVERS\\tcpip.sys")
        );
    }
    assert!(!img.windows.join("System32/msblast.exe").exists());
    assert!(
        img.windows.join("System32/dllhost.exe").exists(),
        "the genuine dllhost.exe was touched"
    );
    let session_dir = std::fs::read_dir(&quarantine)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["entries"].as_array().unwrap().len(), 9);
    let log = std::fs::read_to_string(session_dir.join("log.jsonl")).unwrap();
    assert!(log.lines().count() >= 9 * 3);
    let regs: Vec<_> = std::fs::read_dir(session_dir.join("hives"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "reg"))
        .collect();
    assert_eq!(regs.len(), 6);

    // The same plan applied again finds every target gone: "already done", not a damaged
    // hive, and exit 0 since the volume scans clean. Nothing is touched.
    let state = || -> Vec<Option<Vec<u8>>> {
        originals
            .iter()
            .map(|(p, _)| std::fs::read(p).ok())
            .collect()
    };
    let cleaned = state();
    let (code, again) = json(&["apply", "--plan", s(&plan_path), "--format", "json"]);
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(again["status"], "remediated");
    for a in again["actions"].as_array().unwrap() {
        assert_eq!(a["ok"], true, "{a:#}");
        assert!(
            a["detail"].as_str().unwrap().starts_with("already done"),
            "{a:#}"
        );
    }
    assert!(cleaned == state(), "a second apply changed the volume");

    // 5. Restore: the first hive action on SYSTEM cannot be undone before the later ones.
    let ids: Vec<String> = results
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let system_actions: Vec<&String> = ids
        .iter()
        .zip(actions)
        .filter(|(_, a)| a["hive"].as_str().is_some_and(|h| h.ends_with("SYSTEM")))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(system_actions.len(), 4);
    let (code, out) = check(&["restore", system_actions[0], "--quarantine", s(&quarantine)]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("restore that first"), "{out}");
    for id in ids.iter().rev() {
        let (code, out) = check(&["restore", id, "--quarantine", s(&quarantine)]);
        assert_eq!(code, 0, "{id}: {out}");
    }
    let (code, out) = check(&["restore", &ids[0], "--quarantine", s(&quarantine)]);
    assert_eq!(code, 3);
    assert!(out.contains("already restored"), "{out}");

    // 6. Everything is back, byte for byte, and the scan sees the same infection.
    for (p, h) in &originals {
        assert_eq!(&sha(p), h, "{} differs after restore", p.display());
    }
    assert_eq!(
        std::fs::metadata(img.windows.join("System32/msblast.exe"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
    assert_eq!(
        hivexget(&software, RUN, "windows auto update").as_deref(),
        Some("msblast.exe")
    );
    assert!(hivex_export(&system, "\\ControlSet002\\Services\\RpcTftpd").is_some());
    let (code, again) = json(&["scan", "--image", root, "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(again["findings"], first["findings"]);
}

#[test]
fn quarantine_on_the_volume_is_refused() {
    if !hivex_ready("quarantine_on_the_volume_is_refused") {
        return;
    }
    let img = infected_image();
    let plan = img
        .root()
        .join("..")
        .join(format!("{}.plan.json", std::process::id()));
    let (code, out) = check(&[
        "plan",
        "--image",
        s(img.root()),
        "--quarantine",
        s(&img.root().join("Quarantine")),
        "-o",
        s(&plan),
    ]);
    assert_eq!(code, 3);
    assert!(out.contains("inside the scanned volume"), "{out}");
    assert!(!plan.exists());
}

#[test]
fn failed_actions_give_partly_remediated() {
    if !hivex_ready("failed_actions_give_partly_remediated") {
        return;
    }
    let img = infected_image();
    let q = tempfile::tempdir().unwrap();
    let plan_path = q.path().join("plan.json");
    let root = s(img.root());
    let (code, _) = check(&[
        "plan",
        "--image",
        root,
        "--quarantine",
        s(&q.path().join("q")),
        "-o",
        s(&plan_path),
    ]);
    assert_eq!(code, 1);
    // After the plan: the worm file changes, and SYSTEM gets a pending transaction log.
    img.dummy("System32\\msblast.exe", 7000);
    std::fs::write(img.windows.join("System32/CONFIG/SYSTEM.LOG1"), b"pending").unwrap();
    let system_before = sha(&img.system_path());
    let (code, v) = json(&["apply", "--plan", s(&plan_path), "--format", "json"]);
    assert_eq!(code, 2, "{v:#}");
    assert_eq!(v["status"], "partly_remediated");
    let failed: Vec<&serde_json::Value> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 5, "{failed:#?}");
    assert!(
        failed[0]["detail"]
            .as_str()
            .unwrap()
            .contains("changed since the plan")
    );
    assert!(failed[1]["detail"].as_str().unwrap().contains("dirty"));
    assert_eq!(
        sha(&img.system_path()),
        system_before,
        "a dirty hive was modified"
    );
    assert!(img.windows.join("System32/msblast.exe").exists());
    assert!(!img.windows.join("System32/wins/dllhost.exe").exists());
}
