//! The revision log of one advisory file: `DIR/.revisions/<file>.jsonl`, one JSON object per
//! line, appended to and never rewritten, so the history the public sees cannot be edited
//! away by a later save. Each line keeps the whole text, so any old revision can be shown.
//!
//! Appends are durable (one `write` of a whole line, then `fsync`) and are serialised within
//! the process by a lock, so two readers who load a file edited on disk at the same moment
//! record the edit once.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::WebError;

/// The directory, inside the advisories directory, that holds the logs.
pub const DIR_NAME: &str = ".revisions";

/// Who a revision found on load is attributed to: the file was changed outside the web UI.
pub const DISK_EDITOR: &str = "file";

/// One revision of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// When it was recorded, RFC 3339 UTC.
    pub at: String,
    pub who: String,
    pub summary: String,
    /// SHA-256 of `text`, lowercase hex: how a load tells whether the file changed.
    pub sha256: String,
    /// The whole file as it was.
    pub text: String,
}

impl Revision {
    pub fn new(at: DateTime<Utc>, who: &str, summary: &str, text: &str) -> Self {
        Revision {
            at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            who: who.to_owned(),
            summary: summary.to_owned(),
            sha256: sha256_hex(text),
            text: text.to_owned(),
        }
    }

    /// `at` as a time; lines whose `at` does not parse are dropped on read, so this holds.
    pub fn time(&self) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&self.at).map_or(DateTime::UNIX_EPOCH, |t| t.to_utc())
    }
}

/// Serialises every check-then-append on logs in this process.
static LOG_LOCK: Mutex<()> = Mutex::new(());

/// Takes the log lock; a panic elsewhere while holding it leaves no torn state (appends are
/// whole lines), so a poisoned lock is still usable.
pub fn lock() -> MutexGuard<'static, ()> {
    LOG_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the log of `file` (a file name such as `ms03-026-blaster.en.md`) lives.
pub fn log_path(dir: &Path, file: &str) -> PathBuf {
    dir.join(DIR_NAME).join(format!("{file}.jsonl"))
}

/// The revisions of `file`, oldest first; none when it has no log yet. A line that does not
/// parse (a write torn by a crash) is skipped with a warning rather than hiding the rest.
pub fn read(dir: &Path, file: &str) -> Result<Vec<Revision>, WebError> {
    let path = log_path(dir, file);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(&path, &e)),
    };
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .filter_map(|(i, line)| parse_line(&path, i + 1, line))
        .collect())
}

fn parse_line(path: &Path, number: usize, line: &str) -> Option<Revision> {
    let parsed = serde_json::from_str::<Revision>(line)
        .map_err(|e| e.to_string())
        .and_then(|r| {
            DateTime::parse_from_rfc3339(&r.at)
                .map(|_| r)
                .map_err(|e| format!("`at`: {e}"))
        });
    match parsed {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!(
                "kansoku serve: warning: {} line {number} skipped: {e}",
                path.display()
            );
            None
        }
    }
}

/// Appends one revision durably. The caller holds [`lock`].
pub fn append(dir: &Path, file: &str, revision: &Revision) -> Result<(), WebError> {
    let path = log_path(dir, file);
    let parent = dir.join(DIR_NAME);
    fs::create_dir_all(&parent).map_err(|e| io_error(&parent, &e))?;
    let created = !path.exists();
    let mut log = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| io_error(&path, &e))?;
    let mut line = serde_json::to_string(revision).map_err(|e| io_error(&path, &e))?;
    line.push('\n');
    // A crash mid-write can leave a last line without its newline; start on a fresh line
    // so the torn line stays one skippable line instead of corrupting this one.
    if !ends_with_newline(&mut log).map_err(|e| io_error(&path, &e))? {
        line.insert(0, '\n');
    }
    log.write_all(line.as_bytes())
        .and_then(|()| log.sync_all())
        .map_err(|e| io_error(&path, &e))?;
    if created {
        sync_dir(&parent);
    }
    Ok(())
}

/// True for an empty file or one whose last byte is `\n`.
fn ends_with_newline(file: &mut File) -> std::io::Result<bool> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Makes a new directory entry (a created log, a renamed file) survive a crash.
pub fn sync_dir(dir: &Path) {
    // Directories cannot be opened for syncing on every platform; where they cannot, the
    // rename or create is still atomic, only its durability is the platform's.
    if let Ok(handle) = File::open(dir) {
        handle.sync_all().ok();
    }
}

/// Records `text` as a new revision by [`DISK_EDITOR`] when it differs from the newest
/// revision in the log (or the log is empty), and returns the whole log. The caller holds
/// [`lock`].
pub fn record_disk_edit(
    dir: &Path,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Revision>, WebError> {
    let mut log = read(dir, file)?;
    let unchanged = log.last().is_some_and(|r| r.sha256 == sha256_hex(text));
    if !unchanged {
        let summary = if log.is_empty() {
            "first seen on disk"
        } else {
            "edited on disk"
        };
        let revision = Revision::new(now, DISK_EDITOR, summary, text);
        append(dir, file, &revision)?;
        log.push(revision);
    }
    Ok(log)
}

pub fn io_error(path: &Path, e: &dyn std::fmt::Display) -> WebError {
    WebError::Internal(format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn sha256_is_the_standard_digest() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn disk_edits_are_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let _guard = lock();
        let first = record_disk_edit(dir.path(), "a.en.md", "one", at("2003-08-12T00:00:00Z"));
        assert_eq!(first.unwrap().len(), 1);
        let again = record_disk_edit(dir.path(), "a.en.md", "one", at("2003-08-13T00:00:00Z"));
        assert_eq!(again.unwrap().len(), 1);
        let edited =
            record_disk_edit(dir.path(), "a.en.md", "two", at("2003-08-14T00:00:00Z")).unwrap();
        assert_eq!(edited.len(), 2);
        assert_eq!(edited[1].who, DISK_EDITOR);
        assert_eq!(edited[1].summary, "edited on disk");
        assert_eq!(edited[1].at, "2003-08-14T00:00:00Z");
        assert_eq!(read(dir.path(), "a.en.md").unwrap(), edited);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_append_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let _guard = lock();
        let r = Revision::new(at("2003-08-12T00:00:00Z"), "op", "first", "one");
        append(dir.path(), "a.en.md", &r).unwrap();
        let path = log_path(dir.path(), "a.en.md");
        let mut log = OpenOptions::new().append(true).open(&path).unwrap();
        log.write_all(b"{\"at\":\"2003-08-1").unwrap();
        assert_eq!(read(dir.path(), "a.en.md").unwrap().len(), 1);
        let r2 = Revision::new(at("2003-08-13T00:00:00Z"), "op", "second", "two");
        append(dir.path(), "a.en.md", &r2).unwrap();
        assert_eq!(read(dir.path(), "a.en.md").unwrap(), vec![r, r2]);
    }
}
