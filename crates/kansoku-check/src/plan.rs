//! The remediation plan: what `apply` will do, written out first so a person can read it
//! (dry run by default). Each action names the evidence it removes and what the target
//! looked like when the plan was made; `apply` re-checks that before touching anything.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::hive::edit::Edit;
use crate::ioc::IocDb;
use crate::scan::{Location, ScanResult};
use crate::volume::Volume;

/// Identifies the plan layout.
pub const SCHEMA: &str = "kansoku-check/plan/1";

/// What one action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    /// Move a file into the quarantine. `path` is relative to the root (Windows notation);
    /// `size` and `sha256` are what the file must still be.
    QuarantineFile {
        path: String,
        size: u64,
        sha256: String,
    },
    /// Change a hive (relative path) with one edit; `mount` is where the hive appears in a
    /// running system, used for the `.reg` backup.
    EditHive {
        hive: String,
        mount: String,
        edit: Edit,
    },
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// `A1`, `A2`, ... in execution order.
    pub id: String,
    pub rule_ids: Vec<String>,
    #[serde(flatten)]
    pub kind: ActionKind,
}

impl Action {
    /// One line saying what the action does.
    pub fn describe(&self) -> String {
        match &self.kind {
            ActionKind::QuarantineFile { path, .. } => format!("quarantine file {path}"),
            ActionKind::EditHive {
                hive,
                edit: Edit::DeleteValue { key, value },
                ..
            } => format!("delete value \"{value}\" of {key} in {hive}"),
            ActionKind::EditHive {
                hive,
                edit: Edit::DeleteKey { key },
                ..
            } => format!("delete key {key} and its subkeys in {hive}"),
        }
    }
}

/// A plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub schema: String,
    pub created_at: String,
    pub tool_version: String,
    pub ioc_sha256: String,
    /// Canonical root of the volume the plan was made for.
    pub root: String,
    /// Where `apply` puts quarantined files, backups and its log (never on the volume).
    pub quarantine: String,
    /// False when the scan behind the plan could not read everything.
    pub scan_complete: bool,
    pub actions: Vec<Action>,
}

/// Where a hive appears in a running system, by its file name.
fn mount_of(hive_rel: &str) -> String {
    let name = hive_rel.rsplit('\\').next().unwrap_or("").to_uppercase();
    match name.as_str() {
        "SOFTWARE" => "HKEY_LOCAL_MACHINE\\SOFTWARE".into(),
        "SYSTEM" => "HKEY_LOCAL_MACHINE\\SYSTEM".into(),
        "NTUSER.DAT" => "HKEY_CURRENT_USER".into(),
        other => format!("HKEY_LOCAL_MACHINE\\{other}"),
    }
}

/// Why a quarantine directory is not acceptable, if it is not.
pub fn check_quarantine(volume: &Volume, quarantine: &Path) -> Result<(), String> {
    if volume.contains(quarantine) {
        return Err(format!(
            "the quarantine {} lies inside the scanned volume {}: put it on other media",
            quarantine.display(),
            volume.root().display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // When the root is a mount point, its device is the scanned volume: refuse a
        // quarantine on the same device even through another path.
        let root = volume.root();
        let nearest = quarantine
            .ancestors()
            .find(|p| p.exists())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::path::PathBuf::from("/"));
        if let (Ok(r), Ok(parent), Ok(q)) = (
            std::fs::metadata(root),
            std::fs::metadata(root.parent().unwrap_or(root)),
            std::fs::metadata(&nearest),
        ) && r.dev() != parent.dev()
            && q.dev() == r.dev()
        {
            return Err(format!(
                "the quarantine {} is on the same device as the scanned volume {}: put it on other media",
                quarantine.display(),
                root.display()
            ));
        }
    }
    Ok(())
}

/// Builds the plan for a scan. Identical actions (two rules, one value) appear once.
pub fn make(scan: &ScanResult, db: &IocDb, quarantine: &Path) -> Plan {
    let mut actions: Vec<Action> = Vec::new();
    let mut push = |rule_ids: &[String], kind: ActionKind| {
        if let Some(a) = actions.iter_mut().find(|a| a.kind == kind) {
            for r in rule_ids {
                if !a.rule_ids.contains(r) {
                    a.rule_ids.push(r.clone());
                }
            }
            return;
        }
        actions.push(Action {
            id: String::new(),
            rule_ids: rule_ids.to_vec(),
            kind,
        });
    };
    // Files first, then registry entries, in scan order.
    for f in &scan.findings {
        if let Location::File {
            path, size, sha256, ..
        } = &f.location
        {
            push(
                &f.rule_ids,
                ActionKind::QuarantineFile {
                    path: path.clone(),
                    size: *size,
                    sha256: sha256.clone(),
                },
            );
        }
    }
    for f in &scan.findings {
        let (hive, edit) = match &f.location {
            // Running programs are not remediated here: the plan is for an offline volume.
            Location::File { .. } | Location::Process { .. } | Location::Mutex { .. } => continue,
            Location::RunValue {
                hive, key, value, ..
            } => (
                hive.clone(),
                Edit::DeleteValue {
                    key: key.clone(),
                    value: value.clone(),
                },
            ),
            Location::Service { hive, key, .. } => {
                (hive.clone(), Edit::DeleteKey { key: key.clone() })
            }
        };
        push(
            &f.rule_ids,
            ActionKind::EditHive {
                mount: mount_of(&hive),
                hive,
                edit,
            },
        );
    }
    for (i, a) in actions.iter_mut().enumerate() {
        a.id = format!("A{}", i + 1);
    }
    Plan {
        schema: SCHEMA.into(),
        created_at: crate::timefmt::now(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        ioc_sha256: db.sha256.clone(),
        root: scan.root.clone(),
        quarantine: quarantine.display().to_string(),
        scan_complete: scan.complete(),
        actions,
    }
}

impl Plan {
    /// Reads a plan file, refusing other schemas and unknown fields.
    pub fn load(path: &Path) -> Result<Plan, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read plan {}: {e}", path.display()))?;
        let plan: Plan =
            serde_json::from_str(&text).map_err(|e| format!("plan {}: {e}", path.display()))?;
        if plan.schema != SCHEMA {
            return Err(format!(
                "plan {} has schema {:?}; this build reads {SCHEMA:?}",
                path.display(),
                plan.schema
            ));
        }
        Ok(plan)
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts() {
        assert_eq!(
            mount_of("WINDOWS\\system32\\config\\software"),
            "HKEY_LOCAL_MACHINE\\SOFTWARE"
        );
        assert_eq!(
            mount_of("WINNT\\System32\\CONFIG\\SYSTEM"),
            "HKEY_LOCAL_MACHINE\\SYSTEM"
        );
        assert_eq!(
            mount_of("Documents and Settings\\a\\NTUSER.DAT"),
            "HKEY_CURRENT_USER"
        );
    }

    #[test]
    fn quarantine_inside_the_root_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let v = Volume::open(t.path()).unwrap();
        let err = check_quarantine(&v, &t.path().join("q")).unwrap_err();
        assert!(err.contains("inside the scanned volume"), "{err}");
        let other = tempfile::tempdir().unwrap();
        check_quarantine(&v, &other.path().join("q")).unwrap();
    }

    #[test]
    fn plans_round_trip_and_unknown_fields_are_refused() {
        let plan = Plan {
            schema: SCHEMA.into(),
            created_at: "t".into(),
            tool_version: "0".into(),
            ioc_sha256: "h".into(),
            root: "/r".into(),
            quarantine: "/q".into(),
            scan_complete: true,
            actions: vec![Action {
                id: "A1".into(),
                rule_ids: vec!["X".into()],
                kind: ActionKind::EditHive {
                    hive: "h".into(),
                    mount: "m".into(),
                    edit: Edit::DeleteKey { key: "k".into() },
                },
            }],
        };
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("plan.json");
        std::fs::write(&p, plan.json()).unwrap();
        assert_eq!(Plan::load(&p).unwrap(), plan);
        std::fs::write(
            &p,
            plan.json()
                .replacen("\"root\"", "\"extra\": 1, \"root\"", 1),
        )
        .unwrap();
        assert!(Plan::load(&p).unwrap_err().contains("extra"));
    }
}
