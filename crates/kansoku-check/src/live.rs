//! Live mode: checking a running Windows system (issue 6: registry API, processes,
//! services, listening ports, mutexes). The platform access is the [`LiveSystem`] trait so
//! that the checking logic here is tested on any machine with a fake system.
//!
//! The Windows implementation is [`WindowsSystem`] (`live/windows.rs`, registry API,
//! ToolHelp, `OpenMutexW`, IP Helper), behind `cfg(windows)`: it is type-checked for
//! `x86_64-pc-windows-gnu` but has not run on Windows yet. The MS03-026 patch state of a
//! running system (the same evidence as offline, read through the registry API) is not
//! assessed in live mode yet.
use std::path::PathBuf;

use serde::Serialize;

use crate::ioc::{Evidence, Indicator, IocDb};
use crate::scan::{Finding, Location, ScanResult, match_run_value};
use crate::volume::Volume;

#[cfg(windows)]
#[allow(unsafe_code)]
mod windows;
#[cfg(windows)]
pub use windows::WindowsSystem;

/// Ports the worms listen on: Blaster's remote shell (TCP 4444) and the TFTP server both
/// worms use to spread (UDP 69: Blaster's own, Welchia's renamed tftpd.exe).
pub const WORM_PORTS: [(Proto, u16); 2] = [(Proto::Tcp, 4444), (Proto::Udp, 69)];

/// File names that are also genuine Windows programs: a process with such a name is only
/// matched by its full path, never by its name alone.
const GENUINE_NAMES: [&str; 2] = ["dllhost.exe", "svchost.exe"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    Tcp,
    Udp,
}

/// A Run/RunOnce value as the registry API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRunValue {
    /// `HKLM` or `HKU\<SID>`.
    pub root: String,
    pub key: String,
    pub name: String,
    pub data: String,
}

/// A service of the current control set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveService {
    pub name: String,
    pub image_path: Option<String>,
    pub display_name: Option<String>,
}

/// A running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveProcess {
    pub pid: u32,
    pub name: String,
    /// Full image path when the system reveals it.
    pub path: Option<String>,
}

/// A listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveListener {
    pub proto: Proto,
    pub port: u16,
    pub pid: Option<u32>,
}

/// What a live check needs from the platform.
pub trait LiveSystem {
    /// `%SystemRoot%` (the Windows directory).
    fn system_root(&self) -> Result<PathBuf, String>;
    /// Run and RunOnce values of HKLM and of every loaded user hive.
    fn run_values(&self) -> Result<Vec<LiveRunValue>, String>;
    /// Services of the current control set.
    fn services(&self) -> Result<Vec<LiveService>, String>;
    fn processes(&self) -> Result<Vec<LiveProcess>, String>;
    fn mutex_exists(&self, name: &str) -> Result<bool, String>;
    fn listeners(&self) -> Result<Vec<LiveListener>, String>;
}

fn file_name(path: &str) -> String {
    path.rsplit(['\\', '/']).next().unwrap_or("").to_lowercase()
}

/// Whether a process is the program a file indicator names: by path when the path is
/// known (it must end with `\<indicator path>`), by name otherwise, except for names that
/// genuine Windows programs also carry.
pub fn process_matches(p: &LiveProcess, indicator_path: &str) -> bool {
    let want = indicator_path.to_lowercase().replace('/', "\\");
    match &p.path {
        Some(path) => path
            .to_lowercase()
            .replace('/', "\\")
            .ends_with(&format!("\\{want}")),
        None => {
            let name = file_name(&want);
            p.name.to_lowercase() == name && !GENUINE_NAMES.contains(&name.as_str())
        }
    }
}

fn finding(ind: &Indicator, location: Location) -> Finding {
    Finding {
        rule_ids: vec![ind.id.clone()],
        variants: vec![ind.variant.clone()],
        backdoor: ind.backdoor,
        location,
    }
}

/// Checks a running system against the database.
pub fn scan_live(sys: &dyn LiveSystem, db: &IocDb) -> ScanResult {
    let mut r = ScanResult {
        root: String::new(),
        windows_dir: None,
        inputs: Vec::new(),
        findings: Vec::new(),
        not_checked: Vec::new(),
        patch: None,
        errors: Vec::new(),
    };
    let listeners = sys.listeners().unwrap_or_else(|e| {
        r.errors.push(format!("listening ports: {e}"));
        Vec::new()
    });
    match sys
        .system_root()
        .map(|p| Volume::open(&p).map_err(|e| e.to_string()))
    {
        Ok(Ok(volume)) => {
            r.root = volume.root().display().to_string();
            for ind in &db.indicators {
                let Evidence::File { path, .. } = &ind.evidence else {
                    continue;
                };
                match volume.resolve_win(volume.root(), path) {
                    Ok(Some(p)) if p.is_file() => {
                        let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                        let sha256 = crate::scan::sha256_file(&p).unwrap_or_default();
                        r.findings.push(finding(
                            ind,
                            Location::File {
                                path: p.display().to_string(),
                                size,
                                sha256,
                                modified: String::new(),
                            },
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => r.errors.push(format!("{}: {e}", ind.id)),
                }
            }
        }
        Ok(Err(e)) | Err(e) => r.errors.push(format!("system root: {e}")),
    }
    match sys.run_values() {
        Ok(values) => {
            for v in values {
                let (matches, by_file) = match_run_value(db, &v.name, &v.data);
                if matches.is_empty() {
                    continue;
                }
                let mut variants: Vec<String> = matches.iter().map(|i| i.variant.clone()).collect();
                variants.dedup();
                r.findings.push(Finding {
                    rule_ids: matches.iter().map(|i| i.id.clone()).collect(),
                    variants,
                    backdoor: matches.iter().any(|i| i.backdoor),
                    location: Location::RunValue {
                        hive: v.root,
                        key: v.key,
                        value: v.name,
                        data: v.data,
                        matched: if by_file { "file_name" } else { "value_name" }.into(),
                    },
                });
            }
        }
        Err(e) => r.errors.push(format!("Run values: {e}")),
    }
    match sys.services() {
        Ok(services) => {
            for ind in &db.indicators {
                let Evidence::Service { name } = &ind.evidence else {
                    continue;
                };
                for s in services
                    .iter()
                    .filter(|s| s.name.eq_ignore_ascii_case(name))
                {
                    r.findings.push(finding(
                        ind,
                        Location::Service {
                            hive: "HKLM\\SYSTEM".into(),
                            control_set: "CurrentControlSet".into(),
                            key: format!("CurrentControlSet\\Services\\{}", s.name),
                            image_path: s.image_path.clone(),
                            display_name: s.display_name.clone(),
                        },
                    ));
                }
            }
        }
        Err(e) => r.errors.push(format!("services: {e}")),
    }
    match sys.processes() {
        Ok(processes) => {
            for ind in &db.indicators {
                let Evidence::File { path, .. } = &ind.evidence else {
                    continue;
                };
                for p in processes.iter().filter(|p| process_matches(p, path)) {
                    let listening = listeners
                        .iter()
                        .filter(|l| l.pid == Some(p.pid) && WORM_PORTS.contains(&(l.proto, l.port)))
                        .map(|l| {
                            format!(
                                "{}/{}",
                                if l.proto == Proto::Tcp { "tcp" } else { "udp" },
                                l.port
                            )
                        })
                        .collect();
                    r.findings.push(finding(
                        ind,
                        Location::Process {
                            pid: p.pid,
                            name: p.name.clone(),
                            path: p.path.clone(),
                            listening,
                        },
                    ));
                }
            }
        }
        Err(e) => r.errors.push(format!("processes: {e}")),
    }
    for ind in &db.indicators {
        let Evidence::Mutex { name } = &ind.evidence else {
            continue;
        };
        match sys.mutex_exists(name) {
            Ok(true) => r
                .findings
                .push(finding(ind, Location::Mutex { name: name.clone() })),
            Ok(false) => {}
            Err(e) => r.errors.push(format!("mutex {name}: {e}")),
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted system.
    #[derive(Default)]
    struct Fake {
        root: Option<PathBuf>,
        run: Vec<LiveRunValue>,
        services: Vec<LiveService>,
        processes: Vec<LiveProcess>,
        mutexes: Vec<String>,
        listeners: Vec<LiveListener>,
        broken_processes: bool,
    }

    impl LiveSystem for Fake {
        fn system_root(&self) -> Result<PathBuf, String> {
            self.root.clone().ok_or_else(|| "no SystemRoot".into())
        }
        fn run_values(&self) -> Result<Vec<LiveRunValue>, String> {
            Ok(self.run.clone())
        }
        fn services(&self) -> Result<Vec<LiveService>, String> {
            Ok(self.services.clone())
        }
        fn processes(&self) -> Result<Vec<LiveProcess>, String> {
            if self.broken_processes {
                return Err("access denied".into());
            }
            Ok(self.processes.clone())
        }
        fn mutex_exists(&self, name: &str) -> Result<bool, String> {
            Ok(self.mutexes.iter().any(|m| m == name))
        }
        fn listeners(&self) -> Result<Vec<LiveListener>, String> {
            Ok(self.listeners.clone())
        }
    }

    fn proc(pid: u32, name: &str, path: Option<&str>) -> LiveProcess {
        LiveProcess {
            pid,
            name: name.into(),
            path: path.map(Into::into),
        }
    }

    fn ids(r: &ScanResult) -> Vec<String> {
        let mut v: Vec<String> = r.findings.iter().flat_map(|f| f.rule_ids.clone()).collect();
        v.sort();
        v
    }

    fn windows() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("system32")).unwrap();
        t
    }

    #[test]
    fn clean_running_system() {
        let t = windows();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            run: vec![LiveRunValue {
                root: "HKLM".into(),
                key: "Software\\Microsoft\\Windows\\CurrentVersion\\Run".into(),
                name: "SoundMAX".into(),
                data: "smax4.exe".into(),
            }],
            services: vec![LiveService {
                name: "RpcSs".into(),
                image_path: None,
                display_name: None,
            }],
            processes: vec![
                proc(4, "svchost.exe", Some("C:\\WINDOWS\\system32\\svchost.exe")),
                proc(5, "svchost.exe", None),
                proc(6, "dllhost.exe", None),
            ],
            listeners: vec![LiveListener {
                proto: Proto::Tcp,
                port: 135,
                pid: Some(4),
            }],
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }

    #[test]
    fn running_blaster_and_welchia() {
        let t = windows();
        std::fs::write(
            t.path().join("system32/MSBLAST.EXE"),
            b"KANSOKU-CHECK TEST DUMMY",
        )
        .unwrap();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            run: vec![LiveRunValue {
                root: "HKLM".into(),
                key: "Software\\Microsoft\\Windows\\CurrentVersion\\Run".into(),
                name: "windows auto update".into(),
                data: "msblast.exe".into(),
            }],
            services: vec![LiveService {
                name: "RPCPATCH".into(),
                image_path: Some("%SystemRoot%\\system32\\wins\\dllhost.exe".into()),
                display_name: Some("WINS Client".into()),
            }],
            processes: vec![
                proc(100, "msblast.exe", None),
                proc(
                    200,
                    "svchost.exe",
                    Some("C:\\WINDOWS\\System32\\wins\\svchost.exe"),
                ),
                proc(
                    300,
                    "dllhost.exe",
                    Some("C:\\WINDOWS\\system32\\dllhost.exe"),
                ),
            ],
            mutexes: vec!["BILLY".into()],
            listeners: vec![
                LiveListener {
                    proto: Proto::Tcp,
                    port: 4444,
                    pid: Some(100),
                },
                LiveListener {
                    proto: Proto::Udp,
                    port: 69,
                    pid: Some(100),
                },
                LiveListener {
                    proto: Proto::Udp,
                    port: 69,
                    pid: Some(200),
                },
            ],
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        assert_eq!(
            ids(&r),
            [
                "BLASTER-A-FILE",
                "BLASTER-A-FILE",
                "BLASTER-A-MUTEX",
                "BLASTER-A-RUN",
                "WELCHIA-FILE-SVCHOST",
                "WELCHIA-SVC-RPCPATCH"
            ]
        );
        let blaster_proc = r
            .findings
            .iter()
            .find_map(|f| match &f.location {
                Location::Process {
                    pid: 100,
                    listening,
                    ..
                } => Some(listening.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(blaster_proc, ["tcp/4444", "udp/69"]);
    }

    #[test]
    fn platform_failures_make_the_scan_incomplete() {
        let sys = Fake {
            broken_processes: true,
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        assert!(!r.complete());
        assert!(r.errors.iter().any(|e| e.contains("access denied")));
        assert!(r.errors.iter().any(|e| e.contains("no SystemRoot")));
    }

    #[test]
    fn process_matching_rules() {
        assert!(process_matches(
            &proc(1, "MSBLAST.EXE", None),
            "system32\\msblast.exe"
        ));
        assert!(!process_matches(
            &proc(1, "dllhost.exe", None),
            "system32\\wins\\dllhost.exe"
        ));
        assert!(process_matches(
            &proc(
                1,
                "dllhost.exe",
                Some("C:\\WINNT\\system32\\WINS\\DLLHOST.EXE")
            ),
            "system32\\wins\\dllhost.exe"
        ));
        assert!(!process_matches(
            &proc(1, "dllhost.exe", Some("C:\\WINNT\\system32\\dllhost.exe")),
            "system32\\wins\\dllhost.exe"
        ));
        // A path that merely ends in the same letters is not the same file.
        assert!(!process_matches(
            &proc(1, "xmsblast.exe", Some("C:\\WINNT\\system32\\xmsblast.exe")),
            "system32\\msblast.exe"
        ));
    }
}
