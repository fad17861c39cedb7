//! Shared fixture builders for the integration tests: real hives made by libhivex
//! (`hivexregedit --merge` onto the shared minimal base hive) and an independent reader
//! (`hivexget`). When the base hive or the tools are missing, tests print a visible
//! "skipped:" line and return; `.ci/run` installs the tools so CI never skips.
#![allow(dead_code)]

pub mod craft;
pub mod pe;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// This crate's directory, read at run time: cargo sets `CARGO_MANIFEST_DIR` when it runs a
/// test, and a build cache shared between checkouts (as `.ci/run` uses) can hold a test binary
/// compiled in another checkout, whose compile-time path may be gone.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The shared 8 KiB base hive (never copied into the repository).
pub fn minimal_hive() -> PathBuf {
    crate_dir().join("../../../shared/testdata/hives/minimal")
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// Writes a skip notice straight to the process's standard error: `eprintln!` output of a
/// passing test is captured by the test harness and would never be seen.
fn skipped(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// True when hives can be built here; otherwise prints why the calling test is skipped.
pub fn hivex_ready(test: &str) -> bool {
    if !minimal_hive().is_file() {
        skipped(&format!(
            "skipped: {test}: base hive {} is missing",
            minimal_hive().display()
        ));
        return false;
    }
    if !tool("hivexregedit") || !tool("hivexget") {
        skipped(&format!(
            "skipped: {test}: hivexregedit/hivexget not installed (apt-get install libhivex-bin libwin-hivex-perl)"
        ));
        return false;
    }
    true
}

/// A registry value for a .reg file.
#[derive(Clone, Debug)]
pub enum RegValue {
    Sz(String),
    ExpandSz(String),
    Dword(u32),
}

/// Builds a .reg file for `hivexregedit --merge`, emitting every ancestor key first
/// (hivexregedit refuses to create a key whose parent does not exist).
#[derive(Default, Clone, Debug)]
pub struct Reg {
    keys: Vec<(String, Vec<(String, RegValue)>)>,
}

fn reg_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn utf16_hex(s: &str) -> String {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Reg {
    pub fn new() -> Reg {
        Reg::default()
    }

    /// Adds `key` (backslash path below the hive root) with values.
    pub fn key(mut self, key: &str, values: &[(&str, RegValue)]) -> Reg {
        let mut path = String::new();
        for part in key.split('\\') {
            if !path.is_empty() {
                path.push('\\');
            }
            path.push_str(part);
            if !self.keys.iter().any(|(k, _)| k.eq_ignore_ascii_case(&path)) {
                self.keys.push((path.clone(), Vec::new()));
            }
        }
        let slot = self
            .keys
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .unwrap();
        slot.1
            .extend(values.iter().map(|(n, v)| (n.to_string(), v.clone())));
        self
    }

    /// Shorthand for a string value.
    pub fn sz(self, key: &str, name: &str, data: &str) -> Reg {
        self.key(key, &[(name, RegValue::Sz(data.to_string()))])
    }

    pub fn text(&self) -> String {
        let mut out = String::from("Windows Registry Editor Version 5.00\n\n");
        for (k, values) in &self.keys {
            let _ = writeln!(out, "[\\{k}]");
            for (n, v) in values {
                let name = if n.is_empty() {
                    "@".to_string()
                } else {
                    format!("\"{}\"", reg_quote(n))
                };
                let data = match v {
                    RegValue::Sz(s) => format!("\"{}\"", reg_quote(s)),
                    RegValue::ExpandSz(s) => format!("hex(2):{}", utf16_hex(s)),
                    RegValue::Dword(d) => format!("dword:{d:08x}"),
                };
                let _ = writeln!(out, "{name}={data}");
            }
            out.push('\n');
        }
        out
    }

    /// Writes a hive at `dest`: the base hive with this .reg merged in.
    pub fn build(&self, dest: &Path) {
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(minimal_hive(), dest).unwrap();
        let mut perm = std::fs::metadata(dest).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(dest, perm).unwrap();
        let reg = dest.with_extension("fixture.reg");
        std::fs::write(&reg, self.text()).unwrap();
        let out = Command::new("hivexregedit")
            .arg("--merge")
            .arg(dest)
            .arg(&reg)
            .output()
            .unwrap();
        std::fs::remove_file(&reg).unwrap();
        assert!(
            out.status.success(),
            "hivexregedit --merge failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `hivexget HIVE KEY VALUE`: the value's data as hivex prints it, or `None` when absent.
pub fn hivexget(hive: &Path, key: &str, value: &str) -> Option<String> {
    let out = Command::new("hivexget")
        .arg(hive)
        .arg(key)
        .arg(value)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// `hivexregedit --export HIVE KEY`: the subtree as .reg text, or `None` if it does not exist.
pub fn hivex_export(hive: &Path, key: &str) -> Option<String> {
    let out = Command::new("hivexregedit")
        .arg("--export")
        .arg(hive)
        .arg(key)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A fixture volume: a temporary directory laid out like a Windows system drive, with
/// deliberately mixed-case names (as an image copied through other tools often has).
pub struct Image {
    pub dir: tempfile::TempDir,
    /// The Windows directory (`WinNT` or `WINDOWS`).
    pub windows: PathBuf,
}

/// The SOFTWARE content every fixture starts from: an XP SP1 machine with one legitimate
/// Run value.
pub fn base_software() -> Reg {
    Reg::new()
        .key(
            "Microsoft\\Windows NT\\CurrentVersion",
            &[
                ("ProductName", RegValue::Sz("Microsoft Windows XP".into())),
                ("CurrentVersion", RegValue::Sz("5.1".into())),
                ("CurrentBuildNumber", RegValue::Sz("2600".into())),
                ("CSDVersion", RegValue::Sz("Service Pack 1".into())),
            ],
        )
        .sz(
            "Microsoft\\Windows\\CurrentVersion\\Run",
            "SoundMAX",
            "C:\\Program Files\\Analog Devices\\SoundMAX\\Smax4.exe /tray",
        )
        .key("Microsoft\\Windows\\CurrentVersion\\RunOnce", &[])
}

/// The SYSTEM content every fixture starts from: Select lists ControlSet001 (current,
/// default) and ControlSet002 (last known good).
pub fn base_system() -> Reg {
    let mut reg = Reg::new().key(
        "Select",
        &[
            ("Current", RegValue::Dword(1)),
            ("Default", RegValue::Dword(1)),
            ("Failed", RegValue::Dword(0)),
            ("LastKnownGood", RegValue::Dword(2)),
        ],
    );
    for set in ["ControlSet001", "ControlSet002"] {
        reg = reg
            .key(
                &format!("{set}\\Services\\Tcpip"),
                &[(
                    "ImagePath",
                    RegValue::ExpandSz("system32\\DRIVERS\\tcpip.sys".into()),
                )],
            )
            .key(
                &format!("{set}\\Services\\RpcSs"),
                &[(
                    "ImagePath",
                    RegValue::ExpandSz("%SystemRoot%\\system32\\svchost -k rpcss".into()),
                )],
            );
    }
    reg
}

/// The Welchia services, as its write-ups describe them, in one control set.
pub fn welchia_services(reg: Reg, set: &str) -> Reg {
    reg.key(
        &format!("{set}\\Services\\RpcPatch"),
        &[
            ("DisplayName", RegValue::Sz("WINS Client".into())),
            (
                "ImagePath",
                RegValue::ExpandSz("%SystemRoot%\\system32\\wins\\dllhost.exe".into()),
            ),
            ("Start", RegValue::Dword(2)),
        ],
    )
    .key(
        &format!("{set}\\Services\\RpcTftpd"),
        &[
            (
                "DisplayName",
                RegValue::Sz("Network Connections Sharing".into()),
            ),
            (
                "ImagePath",
                RegValue::ExpandSz("%SystemRoot%\\system32\\wins\\svchost.exe".into()),
            ),
            ("Start", RegValue::Dword(3)),
        ],
    )
}

impl Image {
    /// An empty volume with `windows_name` (e.g. `WinNT` or `WINDOWS`) and mixed-case
    /// `System32\CONFIG`.
    pub fn new(windows_name: &str) -> Image {
        let dir = tempfile::tempdir().unwrap();
        let windows = dir.path().join(windows_name);
        std::fs::create_dir_all(windows.join("System32/CONFIG")).unwrap();
        Image { dir, windows }
    }

    /// A volume with the base SOFTWARE and SYSTEM hives plus the given additions.
    pub fn standard(windows_name: &str, software: Reg, system: Reg) -> Image {
        let img = Image::new(windows_name);
        img.software(&software);
        img.system(&system);
        img
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn software_path(&self) -> PathBuf {
        self.windows.join("System32/CONFIG/software")
    }

    pub fn system_path(&self) -> PathBuf {
        self.windows.join("System32/CONFIG/SYSTEM")
    }

    pub fn software(&self, reg: &Reg) {
        reg.build(&self.software_path());
    }

    pub fn system(&self, reg: &Reg) {
        reg.build(&self.system_path());
    }

    /// A zero-filled dummy of `size` bytes with a synthetic marker at its start: never
    /// real worm bytes.
    pub fn dummy(&self, rel: &str, size: usize) -> PathBuf {
        // Reuse existing directories whatever their case, as Windows would: a second
        // `system32` beside `System32` is not something a real volume has.
        let parts: Vec<&str> = rel.split('\\').collect();
        let mut path = self.windows.clone();
        for (i, part) in parts.iter().enumerate() {
            let existing = std::fs::read_dir(&path).ok().and_then(|entries| {
                entries
                    .filter_map(Result::ok)
                    .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(part))
            });
            path = match existing {
                Some(e) if i + 1 < parts.len() => e.path(),
                _ => path.join(part),
            };
            if i + 1 < parts.len() {
                std::fs::create_dir_all(&path).unwrap();
            }
        }
        let mut bytes = vec![0u8; size];
        let marker = format!("KANSOKU-CHECK TEST DUMMY {rel}");
        let n = marker.len().min(size);
        bytes[..n].copy_from_slice(&marker.as_bytes()[..n]);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}
