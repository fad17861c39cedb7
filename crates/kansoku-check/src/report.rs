//! Reports: a versioned JSON document for automation (`--format json`) and readable text
//! or Markdown summaries in English or Japanese. Every format is rendered from the same
//! [`Report`], so the summary can never say something the JSON does not.
use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::Lang;
use crate::i18n::{Msg, t};
use crate::ioc::IocDb;
use crate::patch::{PatchState, Verdict};
use crate::scan::{Finding, Input, Location, ScanResult};

/// Identifies the JSON layout; bumped on any incompatible change.
pub const SCHEMA: &str = "kansoku-check/report/1";

/// Overall status, which also decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Clean,
    Infected,
    Incomplete,
    Remediated,
    PartlyRemediated,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub origin: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub root: String,
    pub windows_dir: Option<String>,
    pub files: Vec<Input>,
}

/// One action taken by `apply` or `restore`, with its result.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ActionResult {
    /// The id `restore` takes (`SESSION/ACTION`).
    pub id: String,
    /// The rules whose evidence the action removes.
    pub rule_ids: Vec<String>,
    pub description: String,
    pub ok: bool,
    pub detail: String,
}

/// Advice items, by stable key (the texts are in `i18n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Advice {
    PatchFirst,
    Clean,
    SystemRestore,
    Rebuild,
    Firewall,
    Incomplete,
    CleanPatch,
}

impl Advice {
    fn msg(self) -> Msg {
        match self {
            Advice::PatchFirst => Msg::AdvicePatchFirst,
            Advice::Clean => Msg::AdviceClean,
            Advice::SystemRestore => Msg::AdviceSystemRestore,
            Advice::Rebuild => Msg::AdviceRebuild,
            Advice::Firewall => Msg::AdviceFirewall,
            Advice::Incomplete => Msg::AdviceIncomplete,
            Advice::CleanPatch => Msg::AdviceCleanPatch,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub generated_at: String,
    pub ioc_database: Database,
    pub inputs: Inputs,
    pub status: Status,
    pub complete: bool,
    pub findings: Vec<Finding>,
    pub not_checked: Vec<String>,
    pub patch: Option<PatchState>,
    pub actions: Vec<ActionResult>,
    pub errors: Vec<String>,
    pub advice: Vec<Advice>,
}

impl Report {
    /// A report of a scan (no actions).
    pub fn from_scan(scan: ScanResult, db: &IocDb) -> Report {
        let status = if scan.infected() {
            Status::Infected
        } else if !scan.complete() {
            Status::Incomplete
        } else {
            Status::Clean
        };
        Report::build(scan, db, status, Vec::new())
    }

    /// A report of remediation: the actions taken and the scan made afterwards.
    pub fn after_actions(scan: ScanResult, db: &IocDb, actions: Vec<ActionResult>) -> Report {
        let all_ok = actions.iter().all(|a| a.ok);
        let status = if all_ok && !scan.infected() && scan.complete() {
            Status::Remediated
        } else {
            Status::PartlyRemediated
        };
        Report::build(scan, db, status, actions)
    }

    fn build(scan: ScanResult, db: &IocDb, status: Status, actions: Vec<ActionResult>) -> Report {
        let mut advice = Vec::new();
        let unpatched = scan
            .patch
            .as_ref()
            .is_none_or(|p| p.verdict != Verdict::Patched);
        if !scan.complete() {
            advice.push(Advice::Incomplete);
        }
        let backdoor_removed = actions
            .iter()
            .flat_map(|a| &a.rule_ids)
            .any(|id| db.get(id).is_some_and(|i| i.backdoor));
        if scan.infected() {
            advice.extend([Advice::PatchFirst, Advice::SystemRestore, Advice::Clean]);
            if scan.findings.iter().any(|f| f.backdoor) || backdoor_removed {
                advice.push(Advice::Rebuild);
            }
            advice.push(Advice::Firewall);
        } else if !actions.is_empty() {
            // Cleaned: the patch and the restore points remain to be dealt with.
            advice.extend([Advice::PatchFirst, Advice::SystemRestore]);
            if backdoor_removed {
                advice.push(Advice::Rebuild);
            }
            advice.push(Advice::Firewall);
        } else if unpatched {
            advice.extend([Advice::CleanPatch, Advice::PatchFirst, Advice::Firewall]);
        }
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "kansoku-check",
                version: env!("CARGO_PKG_VERSION"),
            },
            generated_at: crate::timefmt::now(),
            ioc_database: Database {
                origin: db.origin.clone(),
                version: db.version.clone(),
                sha256: db.sha256.clone(),
            },
            inputs: Inputs {
                root: scan.root,
                windows_dir: scan.windows_dir,
                files: scan.inputs,
            },
            status,
            complete: scan.errors.is_empty(),
            findings: scan.findings,
            not_checked: scan.not_checked,
            patch: scan.patch,
            actions,
            errors: scan.errors,
            advice,
        }
    }

    /// The exit-code outcome of this report.
    pub fn outcome(&self) -> crate::outcome::Outcome {
        use crate::outcome::Outcome;
        match self.status {
            Status::Clean | Status::Remediated => Outcome::Clean,
            Status::Infected => Outcome::Infected,
            Status::Incomplete => Outcome::Error,
            Status::PartlyRemediated => Outcome::PartlyRemediated,
        }
    }

    /// Pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The readable summary; `markdown` selects Markdown over plain text.
    pub fn summary(&self, lang: Lang, markdown: bool, db: &IocDb) -> String {
        let mut o = String::new();
        let h = |o: &mut String, title: &str| {
            if markdown {
                let _ = writeln!(o, "\n## {title}\n");
            } else {
                let _ = writeln!(o, "\n{title}:");
            }
        };
        let item = if markdown { "- " } else { "  - " };
        let code = |s: &str| {
            if markdown {
                format!("`{s}`")
            } else {
                s.to_string()
            }
        };
        if markdown {
            let _ = writeln!(
                o,
                "# {} ({} {})",
                t(lang, Msg::Title),
                self.tool.name,
                self.tool.version
            );
        } else {
            let _ = writeln!(
                o,
                "{} ({} {})",
                t(lang, Msg::Title),
                self.tool.name,
                self.tool.version
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{}{}: {}",
            if markdown { "- " } else { "" },
            t(lang, Msg::Volume),
            code(&self.inputs.root)
        );
        if let Some(w) = &self.inputs.windows_dir {
            let _ = writeln!(
                o,
                "{}{}: {}",
                if markdown { "- " } else { "" },
                t(lang, Msg::WindowsDir),
                code(w)
            );
        }
        let status = match self.status {
            Status::Clean => Msg::Clean,
            Status::Infected => Msg::Infected,
            Status::Incomplete => Msg::Incomplete,
            Status::Remediated => Msg::Remediated,
            Status::PartlyRemediated => Msg::PartlyRemediated,
        };
        let strong = |s: &str| {
            if markdown {
                format!("**{s}**")
            } else {
                s.to_string()
            }
        };
        let _ = writeln!(
            o,
            "{}{}: {}",
            if markdown { "- " } else { "" },
            t(lang, Msg::Status),
            strong(t(lang, status))
        );

        h(&mut o, t(lang, Msg::Findings));
        if self.findings.is_empty() {
            let _ = writeln!(o, "{item}{}", t(lang, Msg::NoFindings));
        }
        for f in &self.findings {
            let ids = f.rule_ids.join(", ");
            let what = match &f.location {
                Location::File {
                    path, size, sha256, ..
                } => format!(
                    "{} {} ({size} bytes, SHA-256 {sha256})",
                    t(lang, Msg::File),
                    code(path)
                ),
                Location::RunValue {
                    hive,
                    key,
                    value,
                    data,
                    matched,
                } => format!(
                    "{} {} = {} ({}\\{}; {})",
                    t(lang, Msg::RunValue),
                    code(&format!("\"{value}\"")),
                    code(&format!("\"{data}\"")),
                    hive,
                    key,
                    t(
                        lang,
                        if matched == "file_name" {
                            Msg::MatchedByFile
                        } else {
                            Msg::MatchedByName
                        }
                    )
                ),
                Location::Service {
                    hive,
                    key,
                    image_path,
                    display_name,
                    ..
                } => format!(
                    "{} {} ({}; ImagePath {}; DisplayName {})",
                    t(lang, Msg::Service),
                    code(key),
                    hive,
                    image_path.as_deref().unwrap_or("-"),
                    display_name.as_deref().unwrap_or("-")
                ),
                Location::Process {
                    pid,
                    name,
                    path,
                    listening,
                } => format!(
                    "{} {} (PID {pid}; {}{})",
                    t(lang, Msg::Process),
                    code(name),
                    path.as_deref().unwrap_or("-"),
                    if listening.is_empty() {
                        String::new()
                    } else {
                        format!("; {} {}", t(lang, Msg::Listening), listening.join(", "))
                    }
                ),
                Location::Mutex { name } => format!("{} {}", t(lang, Msg::Mutex), code(name)),
            };
            let bd = if f.backdoor {
                format!(" {}", strong(t(lang, Msg::Backdoor)))
            } else {
                String::new()
            };
            let _ = writeln!(o, "{item}[{ids}] {}: {what}{bd}", f.variants.join(" / "));
        }

        if let Some(p) = &self.patch {
            h(&mut o, t(lang, Msg::Patch));
            let v = match p.verdict {
                Verdict::Patched => Msg::Patched,
                Verdict::LikelyPatched => Msg::LikelyPatched,
                Verdict::NotPatched => Msg::NotPatched,
                Verdict::Unknown => Msg::Unknown,
            };
            let _ = writeln!(o, "{item}{}", strong(t(lang, v)));
            for e in &p.evidence {
                let _ = writeln!(o, "{item}{e}");
            }
        }
        if !self.not_checked.is_empty() {
            h(&mut o, t(lang, Msg::NotChecked));
            let _ = writeln!(
                o,
                "{item}{}: {}",
                self.not_checked.join(", "),
                t(lang, Msg::NotCheckedWhy)
            );
        }
        if !self.actions.is_empty() {
            h(&mut o, t(lang, Msg::Actions));
            for a in &self.actions {
                let mark = if a.ok { "OK" } else { "FAILED" };
                let _ = writeln!(o, "{item}[{mark}] {} {}: {}", a.id, a.description, a.detail);
            }
        }
        if !self.errors.is_empty() {
            h(&mut o, t(lang, Msg::Errors));
            for e in &self.errors {
                let _ = writeln!(o, "{item}{e}");
            }
        }
        if !self.advice.is_empty() {
            h(&mut o, t(lang, Msg::Advice));
            for (i, a) in self.advice.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "{}{}. {}",
                    if markdown { "" } else { "  " },
                    i + 1,
                    t(lang, a.msg())
                );
            }
        }
        h(&mut o, t(lang, Msg::Database));
        let _ = writeln!(
            o,
            "{item}{} (version {}, SHA-256 {})",
            self.ioc_database.origin, self.ioc_database.version, self.ioc_database.sha256
        );
        let cited: Vec<&crate::ioc::Source> = db
            .sources
            .iter()
            .filter(|s| {
                self.findings.iter().any(|f| {
                    f.rule_ids
                        .iter()
                        .filter_map(|id| db.get(id))
                        .any(|i| i.sources.contains(&s.id))
                })
            })
            .collect();
        if !cited.is_empty() {
            h(&mut o, t(lang, Msg::Sources));
            for s in cited {
                let _ = writeln!(o, "{item}{}: {}", s.title, s.url);
            }
        }
        o
    }
}
