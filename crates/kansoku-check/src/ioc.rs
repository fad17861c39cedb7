//! The indicator database: TOML, versioned, strict. The default database
//! (`ioc/default.toml`) is compiled in so the tool works from a USB stick with nothing else;
//! `--ioc FILE` replaces it. Unknown fields, unknown kinds, duplicate ids and dangling source
//! references are errors naming the file and line: a typo in an indicator must never silently
//! turn it off.
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

/// The database compiled into the binary.
pub const DEFAULT_TOML: &str = include_str!("../ioc/default.toml");
/// Name shown for the compiled-in database in reports and errors.
pub const DEFAULT_NAME: &str = "<built-in ioc/default.toml>";
/// The schema version this build understands.
pub const SCHEMA: u32 = 1;

/// A database that failed to load, with the file and line at fault.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct IocError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDb {
    schema: Spanned<u32>,
    version: String,
    #[serde(default)]
    source: Vec<Source>,
    #[serde(default)]
    indicator: Vec<RawIndicator>,
}

/// A cited write-up.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: Spanned<String>,
    variant: String,
    kind: Spanned<String>,
    #[serde(default)]
    backdoor: bool,
    sources: Spanned<Vec<String>>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    value_names: Vec<String>,
    #[serde(default)]
    file_names: Vec<String>,
    service: Option<String>,
    mutex: Option<String>,
}

/// What an indicator looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A file at this path below the Windows directory (backslash-separated).
    File { path: String, size: Option<u64> },
    /// A Run/RunOnce value by name, or by a file name in its data.
    RunValue {
        value_names: Vec<String>,
        file_names: Vec<String>,
    },
    /// A service key name under each listed control set.
    Service { name: String },
    /// A named mutex (live mode only).
    Mutex { name: String },
}

/// One indicator of compromise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub id: String,
    pub variant: String,
    pub backdoor: bool,
    pub evidence: Evidence,
    pub sources: Vec<String>,
}

/// A loaded, validated database.
#[derive(Debug, Clone)]
pub struct IocDb {
    /// Where it came from: a path, or [`DEFAULT_NAME`].
    pub origin: String,
    /// The database's own version string.
    pub version: String,
    /// SHA-256 of the exact TOML text, reported so a result can be tied to its rules.
    pub sha256: String,
    pub sources: Vec<Source>,
    pub indicators: Vec<Indicator>,
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

impl IocDb {
    /// The compiled-in database.
    pub fn builtin() -> Result<IocDb, IocError> {
        IocDb::parse(DEFAULT_TOML, DEFAULT_NAME)
    }

    /// Loads `path`.
    pub fn load(path: &Path) -> Result<IocDb, IocError> {
        let text = std::fs::read_to_string(path).map_err(|e| IocError {
            file: path.display().to_string(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        IocDb::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<IocDb, IocError> {
        let err = |line, message: String| IocError {
            file: origin.to_string(),
            line,
            message,
        };
        let raw: RawDb = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s)).unwrap_or(0);
            err(line, e.message().to_string())
        })?;
        if *raw.schema.get_ref() != SCHEMA {
            return Err(err(
                line_of(text, raw.schema.span()),
                format!(
                    "schema {} is not supported by this build (it reads schema {SCHEMA})",
                    raw.schema.get_ref()
                ),
            ));
        }
        let source_ids: HashSet<&str> = raw.source.iter().map(|s| s.id.as_str()).collect();
        if source_ids.len() != raw.source.len() {
            return Err(err(0, "duplicate source id".into()));
        }
        let mut seen = HashSet::new();
        let mut indicators = Vec::new();
        for r in &raw.indicator {
            let line = line_of(text, r.id.span());
            let id = r.id.get_ref();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(err(
                    line,
                    format!("id {id:?} must be upper-case letters, digits and '-'"),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(err(line, format!("duplicate indicator id {id}")));
            }
            if r.sources.get_ref().is_empty() {
                return Err(err(line, format!("{id} cites no source")));
            }
            for s in r.sources.get_ref() {
                if !source_ids.contains(s.as_str()) {
                    return Err(err(
                        line_of(text, r.sources.span()),
                        format!("{id} cites unknown source {s:?}"),
                    ));
                }
            }
            let kind_line = line_of(text, r.kind.span());
            let fields = (
                r.path.is_some() || r.size.is_some(),
                !r.value_names.is_empty() || !r.file_names.is_empty(),
                r.service.is_some(),
                r.mutex.is_some(),
            );
            let evidence = match (r.kind.get_ref().as_str(), fields) {
                ("file", (true, false, false, false)) => {
                    let path = r.path.clone().ok_or_else(|| {
                        err(kind_line, format!("{id}: a file indicator needs `path`"))
                    })?;
                    if path.split(['\\', '/']).any(|p| p == ".." || p == ".")
                        || path.starts_with(['\\', '/'])
                        || path.contains(':')
                    {
                        return Err(err(
                            kind_line,
                            format!(
                                "{id}: path {path:?} must be relative to the Windows directory without '..'"
                            ),
                        ));
                    }
                    Evidence::File { path, size: r.size }
                }
                ("run_value", (false, true, false, false)) => Evidence::RunValue {
                    value_names: r.value_names.clone(),
                    file_names: r.file_names.clone(),
                },
                ("service", (false, false, true, false)) => Evidence::Service {
                    name: r.service.clone().unwrap_or_default(),
                },
                ("mutex", (false, false, false, true)) => Evidence::Mutex {
                    name: r.mutex.clone().unwrap_or_default(),
                },
                (k @ ("file" | "run_value" | "service" | "mutex"), _) => {
                    return Err(err(
                        kind_line,
                        format!(
                            "{id}: kind {k:?} takes {}, and no fields of other kinds",
                            match k {
                                "file" => "`path` (and optionally `size`)",
                                "run_value" => "`value_names` and/or `file_names`",
                                "service" => "`service`",
                                _ => "`mutex`",
                            }
                        ),
                    ));
                }
                (k, _) => {
                    return Err(err(
                        kind_line,
                        format!(
                            "{id}: unknown kind {k:?} (expected file, run_value, service or mutex)"
                        ),
                    ));
                }
            };
            indicators.push(Indicator {
                id: id.clone(),
                variant: r.variant.clone(),
                backdoor: r.backdoor,
                evidence,
                sources: r.sources.get_ref().clone(),
            });
        }
        Ok(IocDb {
            origin: origin.to_string(),
            version: raw.version,
            sha256: hex(&Sha256::digest(text.as_bytes())),
            sources: raw.source,
            indicators,
        })
    }

    /// The indicator with this id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "schema = 1\nversion = \"t\"\n[[source]]\nid = \"s\"\ntitle = \"t\"\nurl = \"u\"\n";

    fn parse(body: &str) -> Result<IocDb, IocError> {
        IocDb::parse(&format!("{HEAD}{body}"), "test.toml")
    }

    #[test]
    fn builtin_database_covers_the_issue() {
        let db = IocDb::builtin().unwrap();
        for id in [
            "BLASTER-A-RUN",
            "BLASTER-A-FILE",
            "BLASTER-A-MUTEX",
            "BLASTER-B-RUN",
            "BLASTER-C-RUN",
            "BLASTER-C-BACKDOOR",
            "BLASTER-C-DROPPER",
            "BLASTER-D-RUN",
            "BLASTER-E-RUN",
            "BLASTER-F-RUN",
            "BLASTER-F-MUTEX",
            "WELCHIA-FILE-DLLHOST",
            "WELCHIA-FILE-SVCHOST",
            "WELCHIA-SVC-RPCPATCH",
            "WELCHIA-SVC-RPCTFTPD",
        ] {
            assert!(db.get(id).is_some(), "{id} missing");
        }
        for name in [
            "msblast.exe",
            "penis32.exe",
            "teekids.exe",
            "mspatch.exe",
            "mslaugh.exe",
            "enbiei.exe",
        ] {
            assert!(
                db.indicators.iter().any(|i| matches!(&i.evidence,
                    Evidence::File { path, .. } if path.to_lowercase().ends_with(name))),
                "{name} has no file indicator"
            );
        }
        // The mutexes a live scan looks for, each tied to the variant a write-up names.
        let mutexes: Vec<(&str, &str)> = db
            .indicators
            .iter()
            .filter_map(|i| match &i.evidence {
                Evidence::Mutex { name } => Some((name.as_str(), i.variant.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            mutexes,
            [
                ("BILLY", "W32.Blaster.Worm (A)"),
                ("muuie", "W32.Blaster.F.Worm")
            ]
        );
        assert!(
            db.get("BLASTER-F-MUTEX")
                .unwrap()
                .sources
                .contains(&"fsecure-lovsan-f".to_string())
        );
        assert!(db.get("BLASTER-C-BACKDOOR").unwrap().backdoor);
        assert!(!db.get("BLASTER-A-RUN").unwrap().backdoor);
        assert_eq!(db.sha256.len(), 64);
        assert!(db.sources.iter().all(|s| s.url.starts_with("http")));
    }

    #[test]
    fn genuine_system_files_are_not_indicators() {
        let db = IocDb::builtin().unwrap();
        for i in &db.indicators {
            if let Evidence::File { path, .. } = &i.evidence {
                let p = path.to_lowercase();
                assert_ne!(p, "system32\\dllhost.exe");
                assert_ne!(p, "system32\\svchost.exe");
                assert_ne!(p, "system32\\wins");
            }
        }
    }

    #[test]
    fn unknown_field_is_an_error_with_file_and_line() {
        let e = parse(
            "[[indicator]]\nid = \"X-1\"\nvariant = \"v\"\nkind = \"file\"\npath = 'a.exe'\nsources = [\"s\"]\ncolour = \"red\"\n",
        )
        .unwrap_err();
        assert_eq!(e.file, "test.toml");
        assert_eq!(e.line, 13, "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_line() {
        let ind = |extra: &str| {
            format!("[[indicator]]\nid = \"X-1\"\nvariant = \"v\"\nsources = [\"s\"]\n{extra}")
        };
        let e = parse(&ind("kind = \"registry\"\n")).unwrap_err();
        assert!(e.message.contains("unknown kind"), "{e}");
        assert_eq!(e.line, 11);
        let e = parse(&ind("kind = \"file\"\nservice = \"x\"\n")).unwrap_err();
        assert!(e.message.contains("takes `path`"), "{e}");
        let e = parse(&ind("kind = \"file\"\npath = '..\\x'\n")).unwrap_err();
        assert!(e.message.contains("without '..'"), "{e}");
        let e = parse(&format!(
            "{}{}",
            ind("kind = \"mutex\"\nmutex = \"m\"\n"),
            ind("kind = \"mutex\"\nmutex = \"m\"\n")
        ))
        .unwrap_err();
        assert!(e.message.contains("duplicate indicator id X-1"), "{e}");
        // HEAD has 6 lines, the first indicator 6 more: the second id is on line 14.
        assert_eq!(e.line, 14);
        let e = parse(
            "[[indicator]]\nid = \"X-1\"\nvariant = \"v\"\nsources = [\"nope\"]\nkind = \"mutex\"\nmutex = \"m\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown source \"nope\""), "{e}");
        let e = parse("[[indicator]]\nid = \"lower\"\nvariant = \"v\"\nsources = [\"s\"]\nkind = \"mutex\"\nmutex = \"m\"\n").unwrap_err();
        assert!(e.message.contains("upper-case"), "{e}");
        let e = IocDb::parse("schema = 2\nversion = \"x\"\n", "f").unwrap_err();
        assert!(e.message.contains("schema 2"), "{e}");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn hash_changes_with_content() {
        let a = parse("").unwrap();
        let b = parse("\n").unwrap();
        assert_ne!(a.sha256, b.sha256);
    }
}
