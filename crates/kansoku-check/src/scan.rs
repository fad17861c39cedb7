//! The offline scan: every indicator of the database checked against a mounted volume.
//! Files are resolved through [`Volume`] (case-insensitive, confined to the root); registry
//! evidence is read from the SOFTWARE, SYSTEM and user hives with the crate's own reader.
//! A scan that could not read something it needed says so: "clean" is only reported when
//! every input was read.
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::hive::{Hive, Key, names_equal};
use crate::ioc::{Evidence, Indicator, IocDb, hex};
use crate::volume::Volume;

/// Run keys below a machine SOFTWARE hive (a user hive has them under `Software\`).
pub const RUN_KEYS: [&str; 2] = [
    "Microsoft\\Windows\\CurrentVersion\\Run",
    "Microsoft\\Windows\\CurrentVersion\\RunOnce",
];

/// One input the scan read (or failed to read).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Input {
    /// Path relative to the volume root, in Windows notation.
    pub path: String,
    pub role: String,
    /// `None` when it was read; otherwise why not.
    pub error: Option<String>,
}

/// Where an indicator was seen.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    File {
        path: String,
        size: u64,
        sha256: String,
        modified: String,
    },
    RunValue {
        hive: String,
        key: String,
        value: String,
        data: String,
        /// `file_name` when the data names a worm file, `value_name` when only the name matched.
        matched: String,
    },
    Service {
        hive: String,
        control_set: String,
        key: String,
        image_path: Option<String>,
        display_name: Option<String>,
    },
    /// A running process (live mode), with the worm ports it listens on.
    Process {
        pid: u32,
        name: String,
        path: Option<String>,
        listening: Vec<String>,
    },
    /// An existing named mutex (live mode).
    Mutex { name: String },
}

/// One piece of evidence and the indicators it matches.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub rule_ids: Vec<String>,
    pub variants: Vec<String>,
    pub backdoor: bool,
    pub location: Location,
}

/// Everything a scan saw.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    pub root: String,
    pub windows_dir: Option<String>,
    pub inputs: Vec<Input>,
    pub findings: Vec<Finding>,
    /// Indicators an offline scan cannot check (mutexes), by id.
    pub not_checked: Vec<String>,
    /// MS03-026 patch state (absent when no Windows directory was found).
    pub patch: Option<crate::patch::PatchState>,
    /// Problems that make the scan incomplete.
    pub errors: Vec<String>,
}

impl ScanResult {
    pub fn infected(&self) -> bool {
        !self.findings.is_empty()
    }
    pub fn complete(&self) -> bool {
        self.errors.is_empty()
    }
}

fn finding(indicators: &[&Indicator], location: Location) -> Finding {
    let mut variants: Vec<String> = indicators.iter().map(|i| i.variant.clone()).collect();
    variants.dedup();
    Finding {
        rule_ids: indicators.iter().map(|i| i.id.clone()).collect(),
        variants,
        backdoor: indicators.iter().any(|i| i.backdoor),
        location,
    }
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// The file names a Run value's data refers to: the last path component of each token
/// (`"C:\WINDOWS\system32\msblast.exe" /x` names `msblast.exe`).
pub fn named_files(data: &str) -> Vec<String> {
    data.split(|c: char| c == '"' || c.is_whitespace() || c == ',')
        .filter_map(|t| t.rsplit(['\\', '/']).next())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The indicators a Run value matches: those whose file names appear in its data; when none
/// do, those whose value names equal its name.
pub fn match_run_value<'d>(db: &'d IocDb, name: &str, data: &str) -> (Vec<&'d Indicator>, bool) {
    let files = named_files(data);
    let run_indicators = db.indicators.iter().filter_map(|i| match &i.evidence {
        Evidence::RunValue {
            value_names,
            file_names,
        } => Some((i, value_names, file_names)),
        _ => None,
    });
    let by_file: Vec<&Indicator> = run_indicators
        .clone()
        .filter(|(_, _, f)| f.iter().any(|f| files.contains(&f.to_lowercase())))
        .map(|(i, _, _)| i)
        .collect();
    if !by_file.is_empty() {
        return (by_file, true);
    }
    let by_name = run_indicators
        .filter(|(_, v, _)| v.iter().any(|v| names_equal(v, name)))
        .map(|(i, _, _)| i)
        .collect();
    (by_name, false)
}

/// Scans the control sets of a SYSTEM hive that `Select` lists.
pub fn control_sets(system: &Hive) -> Result<Vec<String>, String> {
    let select = system
        .key("Select")
        .map_err(|e| e.to_string())?
        .ok_or("SYSTEM has no Select key, so its control sets are unknown")?;
    let mut sets = Vec::new();
    for name in ["Current", "Default", "Failed", "LastKnownGood"] {
        if let Some(n) = select
            .value(name)
            .map_err(|e| e.to_string())?
            .and_then(|v| v.as_dword())
            .filter(|&n| n > 0 && n < 1000)
        {
            let set = format!("ControlSet{n:03}");
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    sets.sort();
    if sets.is_empty() {
        return Err("SYSTEM\\Select lists no control set".into());
    }
    Ok(sets)
}

struct Scanner<'a> {
    volume: &'a Volume,
    db: &'a IocDb,
    result: ScanResult,
}

impl Scanner<'_> {
    fn input(&mut self, path: &Path, role: &str, error: Option<String>) {
        if let Some(e) = &error {
            self.result
                .errors
                .push(format!("{}: {e}", self.volume.display(path)));
        }
        self.result.inputs.push(Input {
            path: self.volume.display(path),
            role: role.to_string(),
            error,
        });
    }

    fn open_hive(&mut self, path: &Path, role: &str) -> Option<Hive> {
        match Hive::open(path) {
            Ok(h) => {
                self.input(path, role, None);
                Some(h)
            }
            Err(e) => {
                self.input(path, role, Some(e.source.to_string()));
                None
            }
        }
    }

    fn files(&mut self, windows: &Path) {
        for ind in &self.db.indicators {
            let Evidence::File { path, .. } = &ind.evidence else {
                continue;
            };
            let found = match self.volume.resolve_win(windows, path) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    self.result.errors.push(format!("{}: {e}", ind.id));
                    continue;
                }
            };
            let meta = match std::fs::metadata(&found) {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) => {
                    self.result
                        .errors
                        .push(format!("{}: {e}", self.volume.display(&found)));
                    continue;
                }
            };
            let sha256 = match sha256_file(&found) {
                Ok(h) => h,
                Err(e) => {
                    self.result
                        .errors
                        .push(format!("{}: {e}", self.volume.display(&found)));
                    String::new()
                }
            };
            let location = Location::File {
                path: self.volume.display(&found),
                size: meta.len(),
                sha256,
                modified: meta
                    .modified()
                    .map(crate::timefmt::system)
                    .unwrap_or_default(),
            };
            self.result.findings.push(finding(&[ind], location));
        }
    }

    fn run_values(&mut self, hive: &Hive, hive_path: &Path, prefix: &str) {
        for run in RUN_KEYS {
            let key_path = format!("{prefix}{run}");
            let key = match hive.key(&key_path) {
                Ok(Some(k)) => k,
                Ok(None) => continue,
                Err(e) => {
                    self.result.errors.push(format!(
                        "{} {key_path}: {e}",
                        self.volume.display(hive_path)
                    ));
                    continue;
                }
            };
            let values = match key.values() {
                Ok(v) => v,
                Err(e) => {
                    self.result.errors.push(format!(
                        "{} {key_path}: {e}",
                        self.volume.display(hive_path)
                    ));
                    continue;
                }
            };
            for v in values {
                let data = v.as_text().unwrap_or_default();
                let (matches, by_file) = match_run_value(self.db, &v.name, &data);
                if matches.is_empty() {
                    continue;
                }
                let location = Location::RunValue {
                    hive: self.volume.display(hive_path),
                    key: key_path.clone(),
                    value: v.name.clone(),
                    data,
                    matched: if by_file { "file_name" } else { "value_name" }.into(),
                };
                self.result.findings.push(finding(&matches, location));
            }
        }
    }

    fn services(&mut self, system: &Hive, hive_path: &Path) {
        let sets = match control_sets(system) {
            Ok(s) => s,
            Err(e) => {
                self.result
                    .errors
                    .push(format!("{}: {e}", self.volume.display(hive_path)));
                return;
            }
        };
        for set in sets {
            let services = match system.key(&format!("{set}\\Services")) {
                Ok(Some(k)) => k,
                Ok(None) => {
                    self.result.errors.push(format!(
                        "{}: SYSTEM\\Select lists {set} but it has no Services key",
                        self.volume.display(hive_path)
                    ));
                    continue;
                }
                Err(e) => {
                    self.result
                        .errors
                        .push(format!("{} {set}: {e}", self.volume.display(hive_path)));
                    continue;
                }
            };
            for ind in &self.db.indicators {
                let Evidence::Service { name } = &ind.evidence else {
                    continue;
                };
                match services.subkey(name) {
                    Ok(Some(k)) => {
                        let text =
                            |k: &Key<'_>, n| k.value(n).ok().flatten().and_then(|v| v.as_text());
                        let location = Location::Service {
                            hive: self.volume.display(hive_path),
                            control_set: set.clone(),
                            key: format!("{set}\\Services\\{}", k.name()),
                            image_path: text(&k, "ImagePath"),
                            display_name: text(&k, "DisplayName"),
                        };
                        self.result.findings.push(finding(&[ind], location));
                    }
                    Ok(None) => {}
                    Err(e) => self.result.errors.push(format!(
                        "{} {set}\\Services: {e}",
                        self.volume.display(hive_path)
                    )),
                }
            }
        }
    }

    /// Each user's NTUSER.DAT under `Documents and Settings` (2000/XP/2003) or `Users`.
    fn user_hives(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for profiles in ["Documents and Settings", "Users"] {
            let Ok(Some(dir)) = self.volume.child(self.volume.root(), profiles) else {
                continue;
            };
            let Ok((entries, _refused)) = self.volume.list(&dir) else {
                continue;
            };
            for profile in entries.iter().filter(|p| p.is_dir()) {
                if let Ok(Some(h)) = self.volume.child(profile, "NTUSER.DAT")
                    && h.is_file()
                    && !out.contains(&h)
                {
                    out.push(h);
                }
            }
        }
        out
    }
}

/// Scans the volume at `volume` with `db`.
pub fn scan(volume: &Volume, db: &IocDb) -> ScanResult {
    let mut s = Scanner {
        volume,
        db,
        result: ScanResult {
            root: volume.root().display().to_string(),
            windows_dir: None,
            inputs: Vec::new(),
            findings: Vec::new(),
            not_checked: db
                .indicators
                .iter()
                .filter(|i| matches!(i.evidence, Evidence::Mutex { .. }))
                .map(|i| i.id.clone())
                .collect(),
            patch: None,
            errors: Vec::new(),
        },
    };
    let windows = match volume.windows_dir() {
        Ok(w) => w,
        Err(e) => {
            s.result.errors.push(e.to_string());
            return s.result;
        }
    };
    s.result.windows_dir = Some(volume.display(&windows));
    s.files(&windows);
    let mut software = None;
    for (name, role) in [("SOFTWARE", "software hive"), ("SYSTEM", "system hive")] {
        let path = match volume.resolve_from(&windows, &["system32", "config", name]) {
            Ok(Some(p)) => p,
            Ok(None) => {
                s.result.errors.push(format!(
                    "{}\\system32\\config\\{name} is missing",
                    volume.display(&windows)
                ));
                continue;
            }
            Err(e) => {
                s.result.errors.push(e.to_string());
                continue;
            }
        };
        if let Some(hive) = s.open_hive(&path, role) {
            if name == "SOFTWARE" {
                s.run_values(&hive, &path, "");
                software = Some(hive);
            } else {
                s.services(&hive, &path);
            }
        }
    }
    for user in s.user_hives() {
        if let Some(hive) = s.open_hive(&user, "user hive") {
            s.run_values(&hive, &user, "Software\\");
        }
    }
    s.result.patch = Some(crate::patch::check(volume, &windows, software.as_ref()));
    s.result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_taken_from_command_lines() {
        assert_eq!(named_files("msblast.exe"), ["msblast.exe"]);
        assert_eq!(
            named_files("\"C:\\WINNT\\System32\\MSBLAST.EXE\" /q"),
            ["msblast.exe", "q"]
        );
        assert!(named_files("").is_empty());
    }

    #[test]
    fn run_values_match_by_file_first_then_by_name() {
        let db = IocDb::builtin().unwrap();
        let (m, by_file) = match_run_value(&db, "windows auto update", "penis32.exe");
        assert!(by_file);
        assert_eq!(
            m.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["BLASTER-B-RUN"]
        );
        // A renamed value still matches by the file in its data.
        let (m, by_file) = match_run_value(&db, "whatever", "C:\\WINDOWS\\system32\\enbiei.exe");
        assert!(by_file);
        assert_eq!(m[0].id, "BLASTER-F-RUN");
        // The name alone matches every variant that used it.
        let (m, by_file) = match_run_value(&db, "Windows Auto Update", "other.exe");
        assert!(!by_file);
        let ids: Vec<_> = m.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["BLASTER-A-RUN", "BLASTER-B-RUN"]);
        // A legitimate Run value matches nothing.
        let (m, _) = match_run_value(&db, "SoundMAX", "C:\\Program Files\\smax4pnp.exe");
        assert!(m.is_empty());
    }
}
