//! `scan --live` end to end under Wine: the Windows build of kansoku-check runs in a fresh Wine
//! prefix, first on the clean system (Wine's own `dllhost.exe` and `svchost.exe` in system32
//! must not be flagged), then with Blaster and Welchia indicators planted: a running
//! `system32\msblast.exe` holding the mutex `BILLY` (a benign stand-in, `tests/wine/holder.c`),
//! its Run value, Blaster B's RunOnce value in the user's hive, Welchia's file and its
//! `RpcPatch` service, and an XP SP1 OS description with an MS03-026 update marker.
//!
//! Wine is not Windows: this proves the FFI code (registry API, ToolHelp, `OpenMutexW`, IP
//! Helper, file reads) works against a real implementation of those APIs, not that every
//! Windows version answers alike. Wine 8 reports listening sockets without their owning
//! process (pid 0), so the TCP 4444 attribution cannot be checked here.
//!
//! Needs 64-bit Wine (Debian's `wine64`), the MinGW-w64 compiler and the Rust target x86_64-pc-windows-gnu;
//! without them the test prints a visible "skipped:" line. `.ci/run` installs all three.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TARGET: &str = "x86_64-pc-windows-gnu";
const MINGW: &str = "x86_64-w64-mingw32-gcc";

/// Writes a skip notice straight to standard error (the harness captures `eprintln!`).
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: live_scan_under_wine: {why}");
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program).arg(arg).output().is_ok()
}

fn rust_target_installed() -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .is_dir()
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the Windows executable in its own target directory (the outer `cargo test` may hold
/// the lock on the usual one).
fn build_windows_exe() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wine-build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "-p",
            "kansoku-check",
            "--locked",
            "--target",
            TARGET,
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(crate_dir())
        .output()
        .expect("cargo runs");
    ok(&out, "cargo build --target x86_64-pc-windows-gnu");
    target_dir.join(TARGET).join("debug/kansoku-check.exe")
}

/// This crate's directory, read at run time: a test binary from a shared build cache may
/// have been compiled in another checkout, whose compile-time path may be gone.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Compiles a helper from `tests/wine` with MinGW into `out`.
fn mingw(out: &Path, args: &[&str]) {
    let sources = crate_dir().join("tests/wine");
    let result = Command::new(MINGW)
        .args(["-O2", "-o"])
        .arg(out)
        .args(args)
        .current_dir(sources)
        .output()
        .expect("the MinGW compiler runs");
    ok(&result, MINGW);
}

/// A Wine prefix of its own, torn down (wineserver killed) when dropped.
struct Prefix {
    dir: tempfile::TempDir,
    held: Vec<Child>,
}

impl Prefix {
    fn new() -> Self {
        let prefix = Self {
            dir: tempfile::tempdir().unwrap(),
            held: Vec::new(),
        };
        ok(&prefix.wine(&["wineboot", "--init"]), "wineboot");
        prefix
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("wine");
        cmd.args(args)
            .env("WINEPREFIX", self.dir.path())
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer prompts in a headless run.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        cmd
    }

    fn wine(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("wine runs")
    }

    fn c_drive(&self, path: &str) -> PathBuf {
        self.dir.path().join("drive_c").join(path)
    }

    /// Imports registry settings (REGEDIT4 text) with Wine's own regedit.
    fn import(&self, reg: &str) {
        let file = self.dir.path().join("import.reg");
        std::fs::write(&file, reg).unwrap();
        ok(
            &self.wine(&["regedit", "/S", &wine_path(&file)]),
            "regedit /S",
        );
    }

    /// Starts `exe` (a path inside the prefix) and waits until it has written `ready`.
    fn start(&mut self, exe: &str, args: &[&str], ready: &Path) {
        let mut all = vec![exe];
        all.extend_from_slice(args);
        let child = self
            .command(&all)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wine starts");
        self.held.push(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "{exe} never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `kansoku-check scan --live --format json`: exit code and report.
    fn scan(&self, exe: &Path) -> (i32, serde_json::Value) {
        let out = self.wine(&[exe.to_str().unwrap(), "scan", "--live", "--format", "json"]);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = Command::new("wineserver")
            .arg("-k")
            .env("WINEPREFIX", self.dir.path())
            .status();
        for child in &mut self.held {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Unix path as Wine programs see it: on drive Z:, the Unix root.
fn wine_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// The rule ids of the findings of a report, each with its location kind.
fn findings(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let kind = f["location"]["kind"].as_str().unwrap().to_owned();
            f["rule_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |id| (id.as_str().unwrap().to_owned(), kind.clone()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn live_scan_under_wine() {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return skipped("needs Linux on x86-64");
    }
    if !runs("wine", "--version") {
        return skipped("Wine is not installed (apt-get install wine64)");
    }
    if !runs(MINGW, "--version") {
        return skipped("the MinGW-w64 compiler is missing (apt-get install gcc-mingw-w64-x86-64)");
    }
    if !rust_target_installed() {
        return skipped("the Rust target x86_64-pc-windows-gnu is missing (rustup target add)");
    }

    let exe = build_windows_exe();
    let tools = tempfile::tempdir().unwrap();
    // Next to the executable, where Windows looks for a DLL first.
    mingw(
        &exe.with_file_name("bcryptprimitives.dll"),
        &[
            "-shared",
            "bcryptprimitives.c",
            "bcryptprimitives.def",
            "-ladvapi32",
        ],
    );
    let holder = tools.path().join("holder.exe");
    mingw(&holder, &["holder.c", "-lws2_32"]);

    let mut prefix = Prefix::new();

    // A clean system: nothing found, Wine's genuine system32 programs left alone.
    assert!(prefix.c_drive("windows/system32/dllhost.exe").is_file());
    let (code, report) = prefix.scan(&exe);
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(
        findings(&report),
        Vec::<(String, String)>::new(),
        "{report:#}"
    );
    assert_eq!((code, report["status"].as_str()), (0, Some("clean")));

    // Blaster A running from system32 with its mutex, started by its Run value; Blaster B's
    // RunOnce value in the user's hive; Welchia's file and service; an XP SP1 description
    // with the KB823980 marker.
    std::fs::copy(&holder, prefix.c_drive("windows/system32/msblast.exe")).unwrap();
    let wins = prefix.c_drive("windows/system32/wins");
    std::fs::create_dir_all(&wins).unwrap();
    let mut dummy = vec![0u8; 10_240];
    dummy[..25].copy_from_slice(b"KANSOKU TEST DUMMY WELCHI");
    std::fs::write(wins.join("dllhost.exe"), dummy).unwrap();
    prefix.import(
        r#"REGEDIT4

[HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run]
"windows auto update"="msblast.exe"

[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\RunOnce]
"windows auto update"="penis32.exe"

[HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\RpcPatch]
"ImagePath"="%SystemRoot%\\system32\\wins\\dllhost.exe"
"DisplayName"="WINS Client"

[HKEY_LOCAL_MACHINE\Software\Microsoft\Windows NT\CurrentVersion]
"ProductName"="Microsoft Windows XP"
"CurrentVersion"="5.1"
"CurrentBuildNumber"="2600"
"CSDVersion"="Service Pack 1"

[HKEY_LOCAL_MACHINE\Software\Microsoft\Updates\Windows XP\SP2\KB823980]
"Description"="Security Update for Windows XP (KB823980)"
"#,
    );
    let ready = tools.path().join("ready");
    prefix.start(
        r"C:\windows\system32\msblast.exe",
        &["BILLY", "0", &wine_path(&ready)],
        &ready,
    );

    let (code, report) = prefix.scan(&exe);
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let expected: Vec<(String, String)> = [
        ("BLASTER-A-FILE", "file"),
        ("BLASTER-A-FILE", "process"),
        ("BLASTER-A-MUTEX", "mutex"),
        ("BLASTER-A-RUN", "run_value"),
        ("BLASTER-B-RUN", "run_value"),
        ("WELCHIA-FILE-DLLHOST", "file"),
        ("WELCHIA-SVC-RPCPATCH", "service"),
    ]
    .iter()
    .map(|(id, kind)| (id.to_string(), kind.to_string()))
    .collect();
    assert_eq!(findings(&report), expected, "{report:#}");
    assert_eq!((code, report["status"].as_str()), (1, Some("infected")));

    let all = report["findings"].as_array().unwrap();
    let file = all
        .iter()
        .find(|f| f["location"]["kind"] == "file" && f["rule_ids"][0] == "BLASTER-A-FILE")
        .unwrap();
    assert_eq!(
        file["location"]["path"].as_str(),
        Some(r"C:\windows\system32\msblast.exe")
    );
    assert!(!file["location"]["modified"].as_str().unwrap().is_empty());
    // Blaster B's value was planted in the user's hive, which a live system loads under HKU.
    let user_run = all
        .iter()
        .find(|f| f["rule_ids"][0] == "BLASTER-B-RUN")
        .unwrap();
    let hive = user_run["location"]["hive"].as_str().unwrap();
    assert!(hive.starts_with(r"HKU\S-1-5-"), "{hive}");
    let process = all
        .iter()
        .find(|f| f["location"]["kind"] == "process")
        .unwrap();
    assert_eq!(
        process["location"]["path"].as_str(),
        Some(r"C:\windows\system32\msblast.exe")
    );

    // Wine's rpcrt4.dll claims XP SP2's version (5.1.2600.2180): a fixed file plus the marker.
    let patch = &report["patch"];
    assert_eq!(patch["verdict"], "patched", "{patch:#}");
    assert_eq!(patch["os"]["service_pack"], "Service Pack 1");
    assert_eq!(
        patch["markers"],
        serde_json::json!([r"Microsoft\Updates\Windows XP\SP2\KB823980"])
    );
}
