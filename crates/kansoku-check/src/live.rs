//! Live mode: checking a running Windows system (issue 6: registry API, processes,
//! services, listening ports, mutexes). The platform access is the [`LiveSystem`] trait so
//! that the checking logic here is tested on any machine with a fake system.
//!
//! The Windows implementation is [`WindowsSystem`] (`live/windows.rs`, registry API,
//! ToolHelp, `OpenMutexW`, IP Helper), behind `cfg(windows)`: it is type-checked for
//! `x86_64-pc-windows-gnu` but has not run on Windows yet.
//!
//! The MS03-026 patch state is assessed as offline, by the same code (`patch::check_software`):
//! the OS description and the update markers from `HKLM\SOFTWARE` through the registry API,
//! and the version of `%SystemRoot%\system32\rpcrt4.dll` read with the crate's PE reader.
use std::cell::RefCell;
use std::path::PathBuf;

use serde::Serialize;

use crate::ioc::{Evidence, Indicator, IocDb};
use crate::patch::{PatchState, Software};
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
    /// The string value `value` (`REG_SZ`, `REG_EXPAND_SZ` unexpanded) of the key
    /// `HKLM\SOFTWARE\<key>`, read-only: `Ok(None)` when the key or the value does not exist
    /// or the value is not a string.
    fn software_text(&self, key: &str, value: &str) -> Result<Option<String>, String>;
    /// The names of the subkeys of `HKLM\SOFTWARE\<key>`, read-only: empty when the key does
    /// not exist.
    fn software_subkeys(&self, key: &str) -> Result<Vec<String>, String>;
}

/// `HKLM\SOFTWARE` of a running system as [`Software`], for the patch assessment. A key is
/// its path below `HKLM\SOFTWARE`; the registry is only asked when a key is listed or read.
/// Failures (as opposed to keys or values that do not exist) are kept for the report.
struct LiveSoftware<'s> {
    sys: &'s dyn LiveSystem,
    errors: RefCell<Vec<String>>,
}

impl LiveSoftware<'_> {
    fn failed(&self, key: &str, e: String) {
        let failure = format!("HKLM\\SOFTWARE\\{key}: {e}");
        let mut errors = self.errors.borrow_mut();
        // Each value of a key that cannot be opened fails alike: say it once.
        if !errors.contains(&failure) {
            errors.push(failure);
        }
    }
}

impl Software for LiveSoftware<'_> {
    type Key<'a>
        = String
    where
        Self: 'a;

    fn open(&self, path: &str) -> Option<String> {
        Some(path.trim_matches('\\').to_owned())
    }
    fn subkeys(&self, key: &String) -> Vec<String> {
        match self.sys.software_subkeys(key) {
            Ok(names) => names.into_iter().map(|n| format!("{key}\\{n}")).collect(),
            Err(e) => {
                self.failed(key, e);
                Vec::new()
            }
        }
    }
    fn name(&self, key: &String) -> String {
        key.rsplit('\\').next().unwrap_or_default().to_owned()
    }
    fn text(&self, key: &String, value: &str) -> Option<String> {
        self.sys.software_text(key, value).unwrap_or_else(|e| {
            self.failed(key, e);
            None
        })
    }
}

/// The MS03-026 patch state of the running system: the offline assessment, fed from
/// `HKLM\SOFTWARE` and `%SystemRoot%\system32\rpcrt4.dll`. Registry failures are named in
/// the evidence and added to `errors` (a scan that could not read them is incomplete).
fn live_patch_state(
    sys: &dyn LiveSystem,
    volume: Option<&Volume>,
    errors: &mut Vec<String>,
) -> PatchState {
    let rpcrt4 = match volume {
        Some(v) => crate::patch::rpcrt4_version(v, v.root()),
        None => Err("%SystemRoot% could not be opened".to_string()),
    };
    let software = LiveSoftware {
        sys,
        errors: RefCell::new(Vec::new()),
    };
    let mut state = crate::patch::check_software(&software, rpcrt4);
    let failures = software.errors.into_inner();
    if !failures.is_empty() {
        state.evidence.insert(
            0,
            format!(
                "HKLM\\SOFTWARE could not be read completely: {}",
                failures.join("; ")
            ),
        );
        errors.extend(failures.into_iter().map(|e| format!("patch state: {e}")));
    }
    state
}

/// A path as the user knows it: `C:\WINDOWS\...` rather than the verbatim `\\?\C:\WINDOWS\...`
/// that resolving it yields on Windows.
fn shown(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if !rest.starts_with("UNC\\") => rest.to_owned(),
        _ => text,
    }
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
    let volume = sys
        .system_root()
        .and_then(|p| Volume::open(&p).map_err(|e| e.to_string()));
    match &volume {
        Ok(volume) => {
            r.root = shown(volume.root());
            for ind in &db.indicators {
                let Evidence::File { path, .. } = &ind.evidence else {
                    continue;
                };
                match volume.resolve_win(volume.root(), path) {
                    Ok(Some(p)) if p.is_file() => {
                        let meta = match std::fs::metadata(&p) {
                            Ok(meta) => meta,
                            Err(e) => {
                                r.errors.push(format!("{}: {e}", shown(&p)));
                                continue;
                            }
                        };
                        let sha256 = crate::scan::sha256_file(&p).unwrap_or_else(|e| {
                            r.errors.push(format!("{}: {e}", shown(&p)));
                            String::new()
                        });
                        r.findings.push(finding(
                            ind,
                            Location::File {
                                path: shown(&p),
                                size: meta.len(),
                                sha256,
                                modified: meta
                                    .modified()
                                    .map(crate::timefmt::system)
                                    .unwrap_or_default(),
                            },
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => r.errors.push(format!("{}: {e}", ind.id)),
                }
            }
        }
        Err(e) => r.errors.push(format!("system root: {e}")),
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
    r.patch = Some(live_patch_state(sys, volume.as_ref().ok(), &mut r.errors));
    r
}

/// The fixture PE builder of the integration tests (an rpcrt4.dll stand-in: headers and a
/// version resource only).
#[cfg(test)]
#[path = "../tests/common/pe.rs"]
mod test_pe;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::Verdict;

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
        /// `HKLM\SOFTWARE`: string values as (key below SOFTWARE, value, data), and keys
        /// without values.
        software: Vec<(String, String, String)>,
        software_keys: Vec<String>,
        broken_software: bool,
    }

    impl Fake {
        fn all_software_keys(&self) -> impl Iterator<Item = &String> {
            self.software_keys
                .iter()
                .chain(self.software.iter().map(|(k, _, _)| k))
        }
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
        fn software_text(&self, key: &str, value: &str) -> Result<Option<String>, String> {
            if self.broken_software {
                return Err("access denied".into());
            }
            Ok(self
                .software
                .iter()
                .find(|(k, v, _)| k.eq_ignore_ascii_case(key) && v.eq_ignore_ascii_case(value))
                .map(|(_, _, data)| data.clone()))
        }
        fn software_subkeys(&self, key: &str) -> Result<Vec<String>, String> {
            if self.broken_software {
                return Err("access denied".into());
            }
            let prefix = format!("{key}\\");
            let mut names: Vec<String> = Vec::new();
            for k in self.all_software_keys() {
                let Some(rest) = k
                    .get(..prefix.len())
                    .filter(|p| p.eq_ignore_ascii_case(&prefix))
                    .and_then(|_| k.get(prefix.len()..))
                else {
                    continue;
                };
                let name = rest.split('\\').next().unwrap_or_default();
                if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.to_owned());
                }
            }
            Ok(names)
        }
    }

    /// `Microsoft\Windows NT\CurrentVersion` of a release.
    fn os_values(
        product: &str,
        version: &str,
        build: &str,
        sp: Option<&str>,
    ) -> Vec<(String, String, String)> {
        let key = crate::patch::CURRENT_VERSION_KEY;
        let mut v = vec![
            (key.into(), "ProductName".into(), product.into()),
            (key.into(), "CurrentVersion".into(), version.into()),
            (key.into(), "CurrentBuildNumber".into(), build.into()),
        ];
        if let Some(sp) = sp {
            v.push((key.into(), "CSDVersion".into(), sp.into()));
        }
        v
    }

    fn xp_sp1() -> Vec<(String, String, String)> {
        os_values(
            "Microsoft Windows XP",
            "5.1",
            "2600",
            Some("Service Pack 1"),
        )
    }

    /// Puts an rpcrt4.dll stand-in of version `v` under `%SystemRoot%\system32`.
    fn with_rpcrt4(t: &tempfile::TempDir, v: [u16; 4]) {
        std::fs::write(
            t.path().join("system32/RPCRT4.DLL"),
            super::test_pe::dll_with_version(v),
        )
        .unwrap();
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

    #[test]
    fn unpatched_xp_sp1_without_markers_and_old_rpcrt4_is_not_patched() {
        let t = windows();
        with_rpcrt4(&t, [5, 1, 2600, 1106]);
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            software: xp_sp1(),
            // Other updates are not markers.
            software_keys: vec!["Microsoft\\Updates\\Windows XP\\SP2\\KB817606".into()],
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        let p = r.patch.as_ref().unwrap();
        assert_eq!(p.verdict, Verdict::NotPatched, "{:?}", p.evidence);
        assert!(p.markers.is_empty());
        assert_eq!(p.rpcrt4_version.as_deref(), Some("5.1.2600.1106"));
        assert_eq!(p.rpcrt4_fixed_version.as_deref(), Some("5.1.2600.1230"));
        assert_eq!(p.os.service_pack.as_deref(), Some("Service Pack 1"));
        // The evidence is the offline assessment's, word for word.
        let offline = crate::patch::assess(
            p.os.clone(),
            Vec::new(),
            Ok(crate::pe::FileVersion([5, 1, 2600, 1106])),
        );
        assert_eq!(p.evidence, offline.evidence);
        assert!(r.complete(), "{:?}", r.errors);
        assert!(!r.infected());
    }

    #[test]
    fn markers_are_weighed_as_offline() {
        let db = IocDb::builtin().unwrap();
        let marker = "Microsoft\\Updates\\Windows XP\\SP2\\KB823980";
        // XP SP1 with the marker, over an rpcrt4.dll of `version`.
        let with_marker = |version| {
            let t = windows();
            with_rpcrt4(&t, version);
            let sys = Fake {
                root: Some(t.path().to_path_buf()),
                software: xp_sp1(),
                software_keys: vec![marker.into()],
                ..Fake::default()
            };
            scan_live(&sys, &db).patch.unwrap()
        };
        // A marker and the fixed file: patched.
        let p = with_marker([5, 1, 2600, 1230]);
        assert_eq!(p.verdict, Verdict::Patched, "{:?}", p.evidence);
        assert_eq!(p.markers, [marker]);

        // A marker over an older rpcrt4.dll: the files were replaced after the update.
        let p = with_marker([5, 1, 2600, 1106]);
        assert_eq!(p.verdict, Verdict::NotPatched);
        assert!(
            p.evidence.iter().any(|e| e.contains("reinstall")),
            "{:?}",
            p.evidence
        );

        // Windows 2000: a superseding update's HotFix marker (and a Q-named level marker),
        // rpcrt4.dll missing: likely patched.
        let t = windows();
        let mut software = os_values(
            "Microsoft Windows 2000",
            "5.0",
            "2195",
            Some("Service Pack 4"),
        );
        software.push((
            "Microsoft\\Windows NT\\CurrentVersion\\HotFix\\KB824146".into(),
            "Installed".into(),
            "1".into(),
        ));
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            software,
            software_keys: vec!["Microsoft\\Updates\\Windows 2000\\Q823980".into()],
            ..Fake::default()
        };
        let r = scan_live(&sys, &db);
        let p = r.patch.unwrap();
        assert_eq!(p.verdict, Verdict::LikelyPatched, "{:?}", p.evidence);
        assert_eq!(
            p.markers,
            [
                "Microsoft\\Updates\\Windows 2000\\Q823980",
                "Microsoft\\Windows NT\\CurrentVersion\\HotFix\\KB824146"
            ]
        );
        assert!(
            p.evidence.iter().any(|e| e.contains("missing")),
            "{:?}",
            p.evidence
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);

        // A release that includes the fix.
        let t = windows();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            software: os_values(
                "Microsoft Windows XP",
                "5.1",
                "2600",
                Some("Service Pack 2"),
            ),
            ..Fake::default()
        };
        assert_eq!(
            scan_live(&sys, &db).patch.unwrap().verdict,
            Verdict::Patched
        );
    }

    #[test]
    fn a_patch_marker_never_implies_clean() {
        // Welchia installs the patch itself: patched and infected at once.
        let t = windows();
        with_rpcrt4(&t, [5, 1, 2600, 1230]);
        let db = IocDb::builtin().unwrap();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            software: xp_sp1(),
            software_keys: vec!["Microsoft\\Updates\\Windows XP\\SP2\\KB823980".into()],
            services: vec![LiveService {
                name: "RpcPatch".into(),
                image_path: Some("%SystemRoot%\\system32\\wins\\dllhost.exe".into()),
                display_name: Some("WINS Client".into()),
            }],
            processes: vec![proc(
                700,
                "dllhost.exe",
                Some("C:\\WINDOWS\\system32\\wins\\dllhost.exe"),
            )],
            ..Fake::default()
        };
        let r = scan_live(&sys, &db);
        assert_eq!(r.patch.as_ref().unwrap().verdict, Verdict::Patched);
        assert!(r.infected());
        assert_eq!(ids(&r), ["WELCHIA-FILE-DLLHOST", "WELCHIA-SVC-RPCPATCH"]);
        let report = crate::report::Report::from_scan(r, &db);
        assert_eq!(report.status, crate::report::Status::Infected);
        assert!(report.advice.contains(&crate::report::Advice::Clean));
    }

    #[test]
    fn the_report_shows_the_live_patch_state_as_offline() {
        use crate::cli::Lang;
        let t = windows();
        with_rpcrt4(&t, [5, 1, 2600, 1106]);
        let db = IocDb::builtin().unwrap();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            software: xp_sp1(),
            ..Fake::default()
        };
        let report = crate::report::Report::from_scan(scan_live(&sys, &db), &db);
        let evidence = report.patch.as_ref().unwrap().evidence.clone();
        assert_eq!(report.status, crate::report::Status::Clean);
        // Not patched: the advice is to patch, as offline.
        assert!(report.advice.contains(&crate::report::Advice::PatchFirst));
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["patch"]["verdict"], "not_patched");
        assert_eq!(json["patch"]["rpcrt4_version"], "5.1.2600.1106");
        assert_eq!(json["patch"]["os"]["current_version"], "5.1");
        let text = report.summary(Lang::En, false, &db);
        assert!(
            text.contains("\nMS03-026 patch state:\n  - NOT patched\n"),
            "{text}"
        );
        let markdown = report.summary(Lang::En, true, &db);
        assert!(
            markdown.contains("\n## MS03-026 patch state\n\n- **NOT patched**\n"),
            "{markdown}"
        );
        for e in &evidence {
            assert!(
                text.contains(e.as_str()) && markdown.contains(e.as_str()),
                "{e}"
            );
        }
        let ja = report.summary(Lang::Ja, false, &db);
        assert!(ja.contains("MS03-026 の修正プログラム適用状況"), "{ja}");
    }

    #[test]
    fn an_unreadable_software_registry_makes_the_scan_incomplete() {
        let t = windows();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            broken_software: true,
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        let p = r.patch.as_ref().unwrap();
        assert_eq!(p.verdict, Verdict::Unknown);
        assert!(
            p.evidence[0].starts_with("HKLM\\SOFTWARE could not be read completely: "),
            "{:?}",
            p.evidence
        );
        assert!(!r.complete());
        // Once per key: CurrentVersion (four values), Updates, HotFix.
        assert_eq!(r.errors.len(), 3, "{:?}", r.errors);
        assert!(
            r.errors
                .iter()
                .any(|e| e.starts_with("patch state: HKLM\\SOFTWARE\\Microsoft")
                    && e.ends_with("access denied")),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn blaster_f_mutex_is_flagged() {
        let t = windows();
        let sys = Fake {
            root: Some(t.path().to_path_buf()),
            mutexes: vec!["muuie".into()],
            ..Fake::default()
        };
        let r = scan_live(&sys, &IocDb::builtin().unwrap());
        assert_eq!(ids(&r), ["BLASTER-F-MUTEX"]);
        assert_eq!(r.findings[0].variants, ["W32.Blaster.F.Worm"]);
        assert!(matches!(&r.findings[0].location, Location::Mutex { name } if name == "muuie"));
        assert!(r.infected());
    }

    #[test]
    fn verbatim_paths_are_shown_as_users_write_them() {
        use std::path::Path;
        assert_eq!(
            shown(Path::new(r"\\?\C:\WINDOWS\system32\msblast.exe")),
            r"C:\WINDOWS\system32\msblast.exe"
        );
        // A verbatim UNC path has no shorter form that means the same.
        assert_eq!(
            shown(Path::new(r"\\?\UNC\server\share\x.exe")),
            r"\\?\UNC\server\share\x.exe"
        );
        assert_eq!(
            shown(Path::new("/mnt/suspect/WINDOWS")),
            "/mnt/suspect/WINDOWS"
        );
    }
}
