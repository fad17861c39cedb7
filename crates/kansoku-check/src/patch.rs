//! Patch state for MS03-026 (KB823980, "Buffer Overrun in RPC Interface"): the hole Blaster
//! and Welchia enter by. Three kinds of evidence, weighed in this order:
//!
//! 1. The OS release and service pack (SOFTWARE `Microsoft\Windows NT\CurrentVersion`):
//!    Windows XP SP2, Windows Server 2003 SP1 and every release from Vista (6.0) on ship the
//!    fix. Windows 2000 has no service pack that includes it (SP4 predates the bulletin).
//! 2. The version of `system32\rpcrt4.dll`, one of the files KB823980 replaces, against the
//!    build the update installs for that release.
//! 3. Update markers: the `KB823980` key Windows' update installer writes under
//!    `SOFTWARE\Microsoft\Updates\<product>\<level>\` (and `Windows NT\CurrentVersion\HotFix`
//!    on Windows 2000), and those of the updates that replace it: KB824146 (MS03-039, which
//!    KB823980's article names as its replacement) and KB828741 (MS04-012, the cumulative
//!    RPC/DCOM update that replaces MS03-039).
//!
//! A marker only says an installer ran; the file version says the fixed code is on disk.
//! Neither says anything about infection: Welchia installs the patch itself.
//!
//! Offline scans read the SOFTWARE hive file of the volume, live scans `HKLM\SOFTWARE`
//! through the registry API; both go through the [`Software`] trait, so the OS, the markers
//! and the verdict are found by the same code ([`check_software`]).
use std::path::Path;

use serde::Serialize;

use crate::hive::Hive;
use crate::pe::{FileVersion, file_version};
use crate::volume::Volume;

/// Updates whose installation marker counts as MS03-026 evidence, with their bulletins.
pub const MARKERS: [(&str, &str); 3] = [
    ("KB823980", "MS03-026"),
    ("KB824146", "MS03-039 (replaces MS03-026)"),
    ("KB828741", "MS04-012 (replaces MS03-039)"),
];

/// Sources for the patch logic, cited in reports.
pub const SOURCES: [&str; 4] = [
    "Microsoft Security Bulletin MS03-026, https://learn.microsoft.com/en-us/security-updates/securitybulletins/2003/ms03-026",
    "KB823980 (replaced by 824146 / MS03-039 on 2003-09-10), https://mskb.pkisolutions.com/kb/823980",
    "Microsoft Security Bulletin MS03-039, https://learn.microsoft.com/en-us/security-updates/securitybulletins/2003/ms03-039",
    "Microsoft Security Bulletin MS04-012 (cumulative RPC/DCOM update 828741), http://www.microsoft.com/technet/security/bulletin/ms04-012.mspx",
];

/// The rpcrt4.dll build KB823980 installs, per release (`CurrentVersion`) and whether a
/// service pack is installed (XP has separate gold and SP1 packages).
///
/// These builds are taken from the file tables of KB823980 as the maintainers recorded
/// them; they could not be re-checked against an archived copy of the article when this
/// was written (see docs/check.md). A file at or above the build counts as fixed.
pub fn fixed_rpcrt4(current_version: &str, service_pack: u32) -> Option<FileVersion> {
    match (current_version, service_pack) {
        ("4.0", _) => Some(FileVersion([4, 0, 1381, 7230])),
        ("5.0", _) => Some(FileVersion([5, 0, 2195, 6753])),
        ("5.1", 0) => Some(FileVersion([5, 1, 2600, 109])),
        ("5.1", _) => Some(FileVersion([5, 1, 2600, 1230])),
        ("5.2", _) => Some(FileVersion([5, 2, 3790, 59])),
        _ => None,
    }
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Patched,
    LikelyPatched,
    NotPatched,
    /// The SOFTWARE hive could not be read.
    Unknown,
}

/// The OS as the SOFTWARE hive describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsInfo {
    pub product_name: Option<String>,
    pub current_version: Option<String>,
    pub build: Option<String>,
    pub service_pack: Option<String>,
}

impl OsInfo {
    /// The service pack number from `CSDVersion` ("Service Pack 1" -> 1; none -> 0).
    pub fn service_pack_number(&self) -> u32 {
        self.service_pack
            .as_deref()
            .and_then(|s| {
                // "Service Pack 1a" is XP SP1a: take the leading digits of the number word.
                s.split_whitespace().find_map(|w| {
                    let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().ok()
                })
            })
            .unwrap_or(0)
    }

    fn version_at_least(&self, major: u32, minor: u32) -> bool {
        let Some(v) = &self.current_version else {
            return false;
        };
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (a, b) >= (major, minor)
    }
}

/// The patch assessment with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct PatchState {
    pub verdict: Verdict,
    pub os: OsInfo,
    /// Registry paths of update markers found (below the SOFTWARE hive root).
    pub markers: Vec<String>,
    pub rpcrt4_version: Option<String>,
    pub rpcrt4_fixed_version: Option<String>,
    /// Human-readable reasons for the verdict, in order of weight.
    pub evidence: Vec<String>,
}

/// Where the OS description lives, below the SOFTWARE root.
pub const CURRENT_VERSION_KEY: &str = "Microsoft\\Windows NT\\CurrentVersion";

/// Read access to a SOFTWARE registry hive: what [`os_info`] and [`markers`] need. It is
/// implemented by an offline [`Hive`] and, in live mode, by the registry API under
/// `HKLM\SOFTWARE` (`live.rs`), so both modes find the OS and the markers with the same code.
///
/// Reads that fail count as absent here; an implementation that can tell a failure from an
/// absence (the live registry) records it for the report itself.
pub trait Software {
    /// An open key.
    type Key<'a>
    where
        Self: 'a;
    /// The key at a backslash-separated `path` below the SOFTWARE root, if it exists.
    fn open(&self, path: &str) -> Option<Self::Key<'_>>;
    /// The subkeys of `key`.
    fn subkeys<'a>(&'a self, key: &Self::Key<'a>) -> Vec<Self::Key<'a>>;
    /// The name of `key` itself.
    fn name(&self, key: &Self::Key<'_>) -> String;
    /// The string value `value` of `key` (`REG_SZ`, `REG_EXPAND_SZ` unexpanded), if present.
    fn text(&self, key: &Self::Key<'_>, value: &str) -> Option<String>;
}

impl Software for Hive {
    type Key<'a> = crate::hive::Key<'a>;

    fn open(&self, path: &str) -> Option<Self::Key<'_>> {
        self.key(path).ok().flatten()
    }
    fn subkeys<'a>(&'a self, key: &Self::Key<'a>) -> Vec<Self::Key<'a>> {
        key.subkeys().unwrap_or_default()
    }
    fn name(&self, key: &Self::Key<'_>) -> String {
        key.name()
    }
    fn text(&self, key: &Self::Key<'_>, value: &str) -> Option<String> {
        key.value(value).ok().flatten()?.as_text()
    }
}

/// Reads the OS description from a SOFTWARE hive.
pub fn os_info<S: Software + ?Sized>(software: &S) -> OsInfo {
    let key = software.open(CURRENT_VERSION_KEY);
    let text = |value| key.as_ref().and_then(|k| software.text(k, value));
    OsInfo {
        product_name: text("ProductName"),
        current_version: text("CurrentVersion"),
        build: text("CurrentBuildNumber"),
        service_pack: text("CSDVersion"),
    }
}

/// Finds update markers: `Microsoft\Updates\<product>\<level>\KBnnnnnn` (or a level named
/// after the update) and `Microsoft\Windows NT\CurrentVersion\HotFix\KBnnnnnn` (Q-prefixed
/// names too). Paths are below the SOFTWARE root.
pub fn markers<S: Software + ?Sized>(software: &S) -> Vec<String> {
    let wanted: Vec<String> = MARKERS
        .iter()
        .flat_map(|(kb, _)| [kb.to_string(), format!("Q{}", &kb[2..])])
        .collect();
    let is_marker = |name: &str| wanted.iter().any(|w| w.eq_ignore_ascii_case(name));
    let mut found = Vec::new();
    // Real Updates trees hold a few thousand keys; a cap on the keys listed keeps a crafted
    // hive (the same keys listed under many parents) from making this walk quadratic.
    let mut budget: usize = 200_000;
    if let Some(updates) = software.open("Microsoft\\Updates") {
        let products = software.subkeys(&updates);
        budget = budget.saturating_sub(products.len());
        'walk: for product in &products {
            if budget == 0 {
                break;
            }
            let product_name = software.name(product);
            let levels = software.subkeys(product);
            budget = budget.saturating_sub(levels.len());
            for level in &levels {
                if budget == 0 {
                    break 'walk;
                }
                let level_name = software.name(level);
                let at = format!("Microsoft\\Updates\\{product_name}\\{level_name}");
                if is_marker(&level_name) {
                    found.push(at.clone());
                }
                let kbs = software.subkeys(level);
                budget = budget.saturating_sub(kbs.len());
                for kb in &kbs {
                    let kb_name = software.name(kb);
                    if is_marker(&kb_name) {
                        found.push(format!("{at}\\{kb_name}"));
                    }
                }
            }
        }
    }
    if let Some(hotfix) = software.open("Microsoft\\Windows NT\\CurrentVersion\\HotFix") {
        for kb in software.subkeys(&hotfix) {
            let kb_name = software.name(&kb);
            if is_marker(&kb_name) {
                found.push(format!(
                    "Microsoft\\Windows NT\\CurrentVersion\\HotFix\\{kb_name}"
                ));
            }
        }
    }
    found
}

/// Weighs the evidence into a verdict.
pub fn assess(os: OsInfo, markers: Vec<String>, rpcrt4: Result<FileVersion, String>) -> PatchState {
    let sp = os.service_pack_number();
    let cur = os.current_version.clone().unwrap_or_default();
    let fixed = fixed_rpcrt4(&cur, sp);
    let mut evidence = Vec::new();
    let describe_os = format!(
        "{} (version {}, build {}, {})",
        os.product_name.as_deref().unwrap_or("unknown product"),
        if cur.is_empty() { "unknown" } else { &cur },
        os.build.as_deref().unwrap_or("unknown"),
        os.service_pack.as_deref().unwrap_or("no service pack")
    );
    let sp_includes_fix =
        os.version_at_least(6, 0) || (cur == "5.1" && sp >= 2) || (cur == "5.2" && sp >= 1);
    let file_fixed = match (&rpcrt4, fixed) {
        (Ok(v), Some(f)) => Some(*v >= f),
        _ => None,
    };
    match &rpcrt4 {
        Ok(v) => evidence.push(match fixed {
            Some(f) => format!(
                "system32\\rpcrt4.dll is version {v}; KB823980 installs {f} on this release"
            ),
            None => format!("system32\\rpcrt4.dll is version {v}"),
        }),
        Err(e) => evidence.push(format!("system32\\rpcrt4.dll version unavailable: {e}")),
    }
    if markers.is_empty() {
        evidence.push("no KB823980, KB824146 or KB828741 update marker in SOFTWARE".into());
    } else {
        evidence.push(format!("update markers: {}", markers.join(", ")));
    }
    let verdict = if os.current_version.is_none() {
        evidence.insert(0, "the OS version is not recorded in SOFTWARE".into());
        if file_fixed == Some(true) || !markers.is_empty() {
            Verdict::LikelyPatched
        } else {
            Verdict::Unknown
        }
    } else if sp_includes_fix {
        evidence.insert(0, format!("{describe_os} includes the MS03-026 fix"));
        if file_fixed == Some(false) {
            Verdict::LikelyPatched
        } else {
            Verdict::Patched
        }
    } else {
        evidence.insert(
            0,
            format!("{describe_os} does not include the MS03-026 fix by itself"),
        );
        match (file_fixed, markers.is_empty()) {
            (Some(true), false) => Verdict::Patched,
            (Some(true), true) => Verdict::LikelyPatched,
            (Some(false), false) => {
                evidence.push(
                    "an update marker is present but rpcrt4.dll is older than the fixed build: \
                     the files were replaced after the update (reinstall it)"
                        .into(),
                );
                Verdict::NotPatched
            }
            (Some(false), true) => Verdict::NotPatched,
            (None, false) => Verdict::LikelyPatched,
            (None, true) => Verdict::NotPatched,
        }
    };
    PatchState {
        verdict,
        os,
        markers,
        rpcrt4_version: rpcrt4.ok().map(|v| v.to_string()),
        rpcrt4_fixed_version: fixed.map(|v| v.to_string()),
        evidence,
    }
}

/// The file version of `system32\rpcrt4.dll` below the Windows directory `windows`.
pub fn rpcrt4_version(volume: &Volume, windows: &Path) -> Result<FileVersion, String> {
    match volume.resolve_win(windows, "system32\\rpcrt4.dll") {
        Ok(Some(p)) => file_version(&p),
        Ok(None) => Err("the file is missing".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Assesses a system from its SOFTWARE registry and its rpcrt4.dll version: the one path
/// offline ([`check`]) and live (`live::scan_live`) scans share.
pub fn check_software<S: Software + ?Sized>(
    software: &S,
    rpcrt4: Result<FileVersion, String>,
) -> PatchState {
    assess(os_info(software), markers(software), rpcrt4)
}

/// Assesses the volume: `software` is the SOFTWARE hive if it could be read.
pub fn check(volume: &Volume, windows: &Path, software: Option<&Hive>) -> PatchState {
    let rpcrt4 = rpcrt4_version(volume, windows);
    match software {
        Some(h) => check_software(h, rpcrt4),
        None => {
            let mut s = assess(OsInfo::default(), Vec::new(), rpcrt4);
            s.evidence
                .insert(0, "the SOFTWARE hive could not be read".into());
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &str, sp: Option<&str>) -> OsInfo {
        OsInfo {
            product_name: Some("Microsoft Windows".into()),
            current_version: Some(v.into()),
            build: Some("2600".into()),
            service_pack: sp.map(Into::into),
        }
    }
    const XP_SP1_FIXED: FileVersion = FileVersion([5, 1, 2600, 1230]);
    const XP_SP1_OLD: FileVersion = FileVersion([5, 1, 2600, 1106]);
    fn kb() -> Vec<String> {
        vec!["Microsoft\\Updates\\Windows XP\\SP2\\KB823980".into()]
    }

    #[test]
    fn verdict_table() {
        let sp1 = || os("5.1", Some("Service Pack 1"));
        assert_eq!(
            assess(sp1(), kb(), Ok(XP_SP1_FIXED)).verdict,
            Verdict::Patched
        );
        assert_eq!(
            assess(sp1(), vec![], Ok(XP_SP1_FIXED)).verdict,
            Verdict::LikelyPatched
        );
        assert_eq!(
            assess(sp1(), kb(), Err("missing".into())).verdict,
            Verdict::LikelyPatched
        );
        assert_eq!(
            assess(sp1(), vec![], Ok(XP_SP1_OLD)).verdict,
            Verdict::NotPatched
        );
        assert_eq!(
            assess(sp1(), vec![], Err("x".into())).verdict,
            Verdict::NotPatched
        );
        let s = assess(sp1(), kb(), Ok(XP_SP1_OLD));
        assert_eq!(s.verdict, Verdict::NotPatched);
        assert!(s.evidence.iter().any(|e| e.contains("reinstall")));
        assert_eq!(s.rpcrt4_fixed_version.as_deref(), Some("5.1.2600.1230"));
    }

    #[test]
    fn service_packs_that_include_the_fix() {
        let v = Ok(FileVersion([5, 1, 2600, 2180]));
        assert_eq!(
            assess(os("5.1", Some("Service Pack 2")), vec![], v.clone()).verdict,
            Verdict::Patched
        );
        assert_eq!(
            assess(os("5.2", Some("Service Pack 1")), vec![], Err("x".into())).verdict,
            Verdict::Patched
        );
        assert_eq!(
            assess(os("6.1", None), vec![], Err("x".into())).verdict,
            Verdict::Patched
        );
        // Windows 2000 SP4 predates the bulletin.
        assert_eq!(
            assess(
                os("5.0", Some("Service Pack 4")),
                vec![],
                Ok(FileVersion([5, 0, 2195, 6701]))
            )
            .verdict,
            Verdict::NotPatched
        );
        assert_eq!(
            assess(
                os("5.0", Some("Service Pack 4")),
                vec![],
                Ok(FileVersion([5, 0, 2195, 6753]))
            )
            .verdict,
            Verdict::LikelyPatched
        );
        // XP gold has its own fixed build.
        assert_eq!(fixed_rpcrt4("5.1", 0), Some(FileVersion([5, 1, 2600, 109])));
    }

    #[test]
    fn service_pack_numbers() {
        assert_eq!(os("5.1", Some("Service Pack 2")).service_pack_number(), 2);
        assert_eq!(os("5.1", None).service_pack_number(), 0);
        assert_eq!(os("5.1", Some("Service Pack 1a")).service_pack_number(), 1);
    }

    #[test]
    fn unknown_os() {
        let s = assess(OsInfo::default(), vec![], Err("x".into()));
        assert_eq!(s.verdict, Verdict::Unknown);
    }
}
