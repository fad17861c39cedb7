//! The binary end to end: exit codes, report formats and languages.
mod common;

use std::process::Command;

use common::{Image, base_software, base_system, hivex_ready};

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kansoku-check"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn root(img: &Image) -> &str {
    img.root().to_str().unwrap()
}

#[test]
fn clean_volume_exits_0_with_json_report() {
    if !hivex_ready("clean_volume_exits_0_with_json_report") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    std::fs::write(
        img.windows.join("System32/rpcrt4.dll"),
        common::pe::dll_with_version([5, 1, 2600, 1230]),
    )
    .unwrap();
    let (code, out, err) = check(&["scan", "--image", root(&img), "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "kansoku-check/report/1");
    assert_eq!(v["status"], "clean");
    assert_eq!(v["tool"]["name"], "kansoku-check");
    assert_eq!(v["ioc_database"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["patch"]["verdict"], "likely_patched");
    assert_eq!(v["inputs"]["files"].as_array().unwrap().len(), 2);
    assert!(v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn infected_volume_exits_1_in_every_format_and_language() {
    if !hivex_ready("infected_volume_exits_1_in_every_format_and_language") {
        return;
    }
    let img = Image::standard(
        "WinNT",
        base_software().sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "Microsoft Inet xp..",
            "teekids.exe",
        ),
        base_system(),
    );
    img.dummy("System32\\teekids.exe", 5360);
    let (code, out, _) = check(&["scan", "--image", root(&img), "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "infected");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["rule_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
        })
        .collect();
    assert_eq!(ids, ["BLASTER-C-FILE", "BLASTER-C-RUN"]);
    let advice: Vec<&str> = v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        advice,
        [
            "patch_first",
            "system_restore",
            "clean",
            "rebuild",
            "firewall"
        ]
    );

    let (code, text, _) = check(&["scan", "--image", root(&img)]);
    assert_eq!(code, 1);
    assert!(text.contains("INFECTED"), "{text}");
    assert!(text.contains("[BLASTER-C-FILE]"), "{text}");
    assert!(text.contains("reinstall Windows"), "{text}");
    assert!(text.contains("System Restore"), "{text}");

    let (code, ja, _) = check(&["scan", "--image", root(&img), "--lang", "ja"]);
    assert_eq!(code, 1);
    assert!(ja.contains("感染"), "{ja}");
    assert!(ja.contains("システムの復元"), "{ja}");
    assert!(ja.contains("[BLASTER-C-RUN]"), "{ja}");

    let (code, md, _) = check(&[
        "scan",
        "--image",
        root(&img),
        "--format",
        "markdown",
        "--lang",
        "ja",
    ]);
    assert_eq!(code, 1);
    assert!(md.starts_with("# kansoku-check 検査報告"), "{md}");
    assert!(md.contains("## 検出された痕跡"), "{md}");
    assert!(md.contains("https://www.sophos.com/"), "{md}");
}

#[test]
fn errors_exit_3() {
    let (code, _, err) = check(&["scan", "--image", "/nonexistent/kansoku-check"]);
    assert_eq!(code, 3);
    assert!(err.contains("kansoku-check: error:"), "{err}");
    // A directory that is not a Windows volume: reported, incomplete, exit 3.
    let t = tempfile::tempdir().unwrap();
    let (code, out, _) = check(&[
        "scan",
        "--image",
        t.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "incomplete");
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains("no Windows directory")
    );
    // A broken indicator database names its file and line.
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "schema = 1\nversion = \"x\"\nbogus = 1\n").unwrap();
    let (code, _, err) = check(&[
        "scan",
        "--image",
        t.path().to_str().unwrap(),
        "--ioc",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("bad.toml:3:"), "{err}");
    // A usage error checked nothing: 3, not clap's 2 (which here means "partly remediated").
    let (code, _, err) = check(&["scan", "--image", "/", "--lang", "xx"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--lang"), "{err}");
    let (code, out, _) = check(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("scan"), "{out}");
}

#[test]
fn custom_database_replaces_the_builtin_one() {
    if !hivex_ready("custom_database_replaces_the_builtin_one") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    img.dummy("system32\\msblast.exe", 6176);
    img.dummy("system32\\synthetic-test.exe", 100);
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("custom-ioc.toml");
    std::fs::write(
        &db,
        "schema = 1\nversion = \"test\"\n[[source]]\nid = \"s\"\ntitle = \"t\"\nurl = \"https://example.invalid\"\n\
         [[indicator]]\nid = \"TEST-FILE\"\nvariant = \"synthetic\"\nkind = \"file\"\npath = 'System32\\synthetic-test.exe'\nsources = [\"s\"]\n",
    )
    .unwrap();
    let (code, out, _) = check(&[
        "scan",
        "--image",
        root(&img),
        "--ioc",
        db.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["rule_ids"][0], "TEST-FILE");
    assert_eq!(v["ioc_database"]["version"], "test");
}
