//! Shared fixture builders for the integration tests: real hives made by libhivex
//! (`hivexregedit --merge` onto the shared minimal base hive) and an independent reader
//! (`hivexget`). When the base hive or the tools are missing, tests print a visible
//! "skipped:" line and return; `.ci/run` installs the tools so CI never skips.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared 8 KiB base hive (never copied into the repository).
pub fn minimal_hive() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/hives/minimal")
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// True when hives can be built here; otherwise prints why the calling test is skipped.
pub fn hivex_ready(test: &str) -> bool {
    if !minimal_hive().is_file() {
        eprintln!(
            "skipped: {test}: base hive {} is missing",
            minimal_hive().display()
        );
        return false;
    }
    if !tool("hivexregedit") || !tool("hivexget") {
        eprintln!(
            "skipped: {test}: hivexregedit/hivexget not installed (apt-get install libhivex-bin libwin-hivex-perl)"
        );
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
