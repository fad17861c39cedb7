//! The quarantine: a directory on other media holding one folder per `apply` session, with
//! the neutered copies of quarantined files, the hive backups and `.reg` exports, a
//! manifest saying how to undo every action, and an append-only log of every step.
//!
//! A quarantined file is stored as a "neutered" container: a text header saying what it is,
//! then the original bytes XOR 0xA5. It has no executable extension, no `MZ` header, and
//! antivirus products will not delete it by accident; `restore` turns it back byte-exact.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hive::edit::Edit;

/// Header of a neutered container.
pub const MAGIC: &[u8] =
    b"KANSOKU-CHECK QUARANTINE v1: original bytes XOR 0xA5 follow; restore with kansoku-check restore\n";
const XOR: u8 = 0xa5;
/// Identifies the manifest layout.
pub const SCHEMA: &str = "kansoku-check/quarantine/1";

/// Wraps file bytes into a container.
pub fn neuter(data: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(data.iter().map(|b| b ^ XOR));
    out
}

/// Recovers the original bytes from a container.
pub fn unneuter(container: &[u8]) -> Result<Vec<u8>, String> {
    container
        .strip_prefix(MAGIC)
        .map(|body| body.iter().map(|b| b ^ XOR).collect())
        .ok_or_else(|| "not a kansoku-check quarantine container".to_string())
}

/// Writes `bytes` to `path` durably: a temporary file beside it, flushed to disk, renamed
/// over the target (atomic on one filesystem), then the directory flushed.
pub fn write_durable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.kansoku-tmp"));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Flushes a directory entry change to disk (a no-op where directories cannot be opened).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

/// A time stamp kept exactly, for restoring it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub secs: u64,
    pub nanos: u32,
}

impl Stamp {
    pub fn of(t: std::time::SystemTime) -> Option<Stamp> {
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(Stamp {
            secs: d.as_secs(),
            nanos: d.subsec_nanos(),
        })
    }
    pub fn time(self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::new(self.secs, self.nanos)
    }
}

/// What an entry changed and how to undo it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Undo {
    File {
        /// Relative to the root, Windows notation.
        original: String,
        original_abs: String,
        size: u64,
        sha256: String,
        modified: Option<Stamp>,
        accessed: Option<Stamp>,
        modified_rfc3339: String,
        /// Relative to the session directory.
        container: String,
    },
    Hive {
        hive: String,
        hive_abs: String,
        edit: Edit,
        /// Relative to the session directory.
        backup: String,
        backup_sha256: String,
        reg_export: String,
        /// SHA-256 of the hive as this action left it.
        after_sha256: String,
    },
}

/// State of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Restored,
}

/// One applied action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `SESSION/ACTION`, the id `restore` takes.
    pub id: String,
    pub action: String,
    pub rule_ids: Vec<String>,
    pub state: State,
    pub applied_at: String,
    pub restored_at: Option<String>,
    pub undo: Undo,
}

/// The manifest of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub session: String,
    pub created_at: String,
    pub root: String,
    pub plan_sha256: String,
    pub entries: Vec<Entry>,
}

/// An open session directory.
#[derive(Debug)]
pub struct Session {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

#[derive(Serialize)]
struct LogLine<'a> {
    at: String,
    action: &'a str,
    step: &'a str,
    ok: bool,
    detail: &'a str,
}

impl Session {
    /// Creates a new session directory under `quarantine`.
    pub fn create(quarantine: &Path, root: &str, plan_sha256: &str) -> io::Result<Session> {
        fs::create_dir_all(quarantine)?;
        let now = crate::timefmt::now();
        let stamp: String = now.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let mut n = 0;
        let (session, dir) = loop {
            let id = format!("{stamp}-{}-{n}", std::process::id());
            let dir = quarantine.join(&id);
            match fs::create_dir(&dir) {
                Ok(()) => break (id, dir),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(e),
            }
        };
        fs::create_dir(dir.join("files"))?;
        fs::create_dir(dir.join("hives"))?;
        let s = Session {
            dir,
            manifest: Manifest {
                schema: SCHEMA.into(),
                session,
                created_at: now,
                root: root.into(),
                plan_sha256: plan_sha256.into(),
                entries: Vec::new(),
            },
        };
        s.save()?;
        Ok(s)
    }

    /// Opens session `id` under `quarantine`.
    pub fn open(quarantine: &Path, id: &str) -> Result<Session, String> {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(format!("{id:?} is not a session id"));
        }
        let dir = quarantine.join(id);
        let text = fs::read_to_string(dir.join("manifest.json"))
            .map_err(|e| format!("session {id} in {}: {e}", quarantine.display()))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| format!("session {id} manifest: {e}"))?;
        if manifest.schema != SCHEMA {
            return Err(format!(
                "session {id} manifest has schema {:?}",
                manifest.schema
            ));
        }
        Ok(Session { dir, manifest })
    }

    /// Saves the manifest durably.
    pub fn save(&self) -> io::Result<()> {
        let text = serde_json::to_string_pretty(&self.manifest).map_err(io::Error::other)?;
        write_durable(&self.dir.join("manifest.json"), text.as_bytes())
    }

    /// Appends one line to the session log and flushes it (the log is the record of what
    /// happened even if the process dies between steps).
    pub fn log(&self, action: &str, step: &str, ok: bool, detail: &str) -> io::Result<()> {
        let line = serde_json::to_string(&LogLine {
            at: crate::timefmt::now(),
            action,
            step,
            ok,
            detail,
        })
        .map_err(io::Error::other)?;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log.jsonl"))?;
        writeln!(f, "{line}")?;
        f.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_round_trip_and_hide_the_executable_header() {
        let data = b"MZ\x90\x00 synthetic test bytes".to_vec();
        let c = neuter(&data);
        assert!(!c.windows(2).any(|w| w == b"MZ"));
        assert_eq!(unneuter(&c).unwrap(), data);
        assert!(unneuter(b"MZ").is_err());
    }

    #[test]
    fn sessions_save_reopen_and_log() {
        let q = tempfile::tempdir().unwrap();
        let s = Session::create(q.path(), "/root", "abc").unwrap();
        s.log("A1", "start", true, "x").unwrap();
        let again = Session::open(q.path(), &s.manifest.session).unwrap();
        assert_eq!(again.manifest, s.manifest);
        let log = fs::read_to_string(s.dir.join("log.jsonl")).unwrap();
        assert!(log.contains("\"step\":\"start\""));
        assert!(Session::open(q.path(), "../x").is_err());
        let s2 = Session::create(q.path(), "/root", "abc").unwrap();
        assert_ne!(s2.manifest.session, s.manifest.session);
    }

    #[test]
    fn durable_write_replaces() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        write_durable(&p, b"one").unwrap();
        write_durable(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }
}
