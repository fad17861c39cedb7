//! Advisories: Markdown files with TOML front matter in one directory (`--advisories DIR`),
//! `DIR/<id>.en.md` and/or `DIR/<id>.ja.md`, each with an append-only revision log.
//!
//! Loading an advisory is also how edits made on disk enter the history: a file whose text
//! differs from its newest revision gets a revision by `file` before it is shown, so the
//! public "last updated" date never lags the text. [`save`] is the web editor's way in.
//! Everything here is blocking file IO; handlers call it through `blocking()`.

pub(crate) mod edit;
mod front_matter;
mod render;
mod revisions;
pub(crate) mod web;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use front_matter::{FrontMatter, Published, parse as parse_file};
pub use render::{ChartSubject, ChartTag, Lang, date, date_time, markdown, reader_lang};
pub use revisions::{DISK_EDITOR, Revision, sha256_hex};

use crate::WebError;
use revisions::io_error;

/// One language's text of an advisory, as it is on disk now.
#[derive(Clone, Debug)]
pub struct Document {
    pub lang: Lang,
    /// The file name inside the directory (`ms03-026-blaster.en.md`).
    pub file: String,
    pub front: FrontMatter,
    /// The Markdown after the front matter.
    pub body: String,
    /// The file's revisions, oldest first; never empty after a load.
    pub revisions: Vec<Revision>,
}

/// An advisory: its English and/or Japanese text (English first).
#[derive(Clone, Debug)]
pub struct Advisory {
    pub id: String,
    pub documents: Vec<Document>,
}

/// A revision of either file, numbered within the advisory.
#[derive(Clone, Debug)]
pub struct HistoryEntry<'a> {
    /// 1-based, oldest first, over both files merged by time: `/advisories/{id}/revisions/{n}`.
    pub n: usize,
    pub lang: Lang,
    pub file: &'a str,
    pub revision: &'a Revision,
}

impl Advisory {
    /// The text in `lang`, or the other one.
    pub fn document(&self, lang: Lang) -> &Document {
        self.documents
            .iter()
            .find(|d| d.lang == lang)
            .unwrap_or(&self.documents[0])
    }

    /// First published: the earliest `published` of its files.
    pub fn published(&self) -> &Published {
        self.documents
            .iter()
            .map(|d| &d.front.published)
            .min_by_key(|p| p.at)
            .unwrap_or(&self.documents[0].front.published)
    }

    /// Last updated: the time of the newest revision of either file.
    pub fn last_updated(&self) -> DateTime<Utc> {
        self.history()
            .last()
            .map_or(self.published().at, |e| e.revision.time())
    }

    /// Every revision of both files, oldest first, numbered.
    pub fn history(&self) -> Vec<HistoryEntry<'_>> {
        let mut all: Vec<(Lang, &str, usize, &Revision)> = self
            .documents
            .iter()
            .flat_map(|d| {
                d.revisions
                    .iter()
                    .enumerate()
                    .map(move |(i, r)| (d.lang, d.file.as_str(), i, r))
            })
            .collect();
        all.sort_by_key(|&(lang, _, i, r)| (r.time(), lang, i));
        all.into_iter()
            .enumerate()
            .map(|(n, (lang, file, _, revision))| HistoryEntry {
                n: n + 1,
                lang,
                file,
                revision,
            })
            .collect()
    }

    /// Signatures and ports named by either file, each once.
    pub fn subjects(&self) -> (Vec<String>, Vec<String>) {
        let mut signatures = BTreeSet::new();
        let mut ports = BTreeSet::new();
        for d in &self.documents {
            signatures.extend(d.front.signatures.iter().cloned());
            ports.extend(d.front.ports.iter().cloned());
        }
        (
            signatures.into_iter().collect(),
            ports.into_iter().collect(),
        )
    }
}

/// An id names files, so it is kept to a safe file-name alphabet (no `/`, no leading `.`).
pub fn check_id(id: &str) -> Result<(), WebError> {
    let ok = id.len() <= 100
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WebError::NotFound(format!(
            "`{id}` is not an advisory id (letters, digits, `-`, `_`, `.`)"
        )))
    }
}

/// The file name of one language's text.
pub fn file_name(id: &str, lang: Lang) -> String {
    format!("{id}.{}.md", lang.as_str())
}

/// The ids of every advisory in `dir`, sorted.
pub fn ids(dir: &Path) -> Result<Vec<String>, WebError> {
    let entries = fs::read_dir(dir).map_err(|e| io_error(dir, &e))?;
    let mut ids = BTreeSet::new();
    for entry in entries {
        let name = entry.map_err(|e| io_error(dir, &e))?.file_name();
        let Some(name) = name.to_str() else { continue };
        let id = Lang::ALL
            .iter()
            .find_map(|l| name.strip_suffix(&format!(".{}.md", l.as_str())));
        if let Some(id) = id.filter(|id| check_id(id).is_ok()) {
            ids.insert(id.to_owned());
        }
    }
    Ok(ids.into_iter().collect())
}

/// Loads an advisory, first recording any edit made on disk since its last revision.
pub fn load(dir: &Path, id: &str) -> Result<Advisory, WebError> {
    load_at(dir, id, Utc::now())
}

fn load_at(dir: &Path, id: &str, now: DateTime<Utc>) -> Result<Advisory, WebError> {
    check_id(id)?;
    let mut documents = Vec::new();
    for lang in Lang::ALL {
        if let Some(document) = load_document(dir, id, lang, now)? {
            documents.push(document);
        }
    }
    if documents.is_empty() {
        return Err(WebError::NotFound(format!("no advisory `{id}`")));
    }
    Ok(Advisory {
        id: id.to_owned(),
        documents,
    })
}

/// One language's file with its log, or `None` when that language has no file.
fn load_document(
    dir: &Path,
    id: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<Option<Document>, WebError> {
    let file = file_name(id, lang);
    let path = dir.join(&file);
    // Read under the lock: a text read before a concurrent save() and compared after it
    // would be recorded as an edit on disk, undoing the save in the history.
    let guard = revisions::lock();
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&path, &e)),
    };
    let (front, body) = front_matter::parse(&file, &text)?;
    let revisions = revisions::record_disk_edit(dir, &file, &text, now)?;
    drop(guard);
    Ok(Some(Document {
        lang,
        file,
        front,
        body: body.to_owned(),
        revisions,
    }))
}

/// One row of the list: the advisory, or why it could not be read.
pub type ListRow = Result<Advisory, (String, WebError)>;

/// Every advisory in `dir`, newest published first; one that fails to load is a row of its
/// own (and a logged warning) so it cannot take the list down.
pub fn list(dir: &Path) -> Result<Vec<ListRow>, WebError> {
    let mut rows: Vec<ListRow> = ids(dir)?
        .into_iter()
        .map(|id| {
            load(dir, &id).map_err(|e| {
                eprintln!("kansoku serve: warning: advisory {id}: {e}");
                (id, e)
            })
        })
        .collect();
    rows.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => b.published().at.cmp(&a.published().at),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(a), Err(b)) => a.0.cmp(&b.0),
    });
    Ok(rows)
}

/// Replaces one language's text of an advisory (creating it if new) and records the
/// revision: what the authenticated web editor calls.
///
/// The front matter is validated first (a bad one is a 400 naming what is wrong and nothing
/// is written). An edit made on disk since the last revision is recorded before this one so
/// it is not attributed to `who`. The file is replaced atomically (temporary file in the
/// same directory, fsync, rename, fsync of the directory), then the revision is appended; a
/// crash between the two leaves the new text, which the next load records as by `file`.
pub fn save(
    dir: &Path,
    id: &str,
    lang: Lang,
    new_text: &str,
    who: &str,
    summary: &str,
) -> Result<Revision, WebError> {
    save_at(dir, id, lang, new_text, who, summary, Utc::now())
}

fn save_at(
    dir: &Path,
    id: &str,
    lang: Lang,
    new_text: &str,
    who: &str,
    summary: &str,
    now: DateTime<Utc>,
) -> Result<Revision, WebError> {
    check_id(id).map_err(|e| WebError::BadRequest(e.to_string()))?;
    if who.trim().is_empty() || summary.trim().is_empty() {
        return Err(WebError::BadRequest(
            "a saved revision needs who made it and a summary".into(),
        ));
    }
    let file = file_name(id, lang);
    front_matter::parse(&file, new_text).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let path = dir.join(&file);
    let _guard = revisions::lock();
    match fs::read_to_string(&path) {
        Ok(old) => {
            revisions::record_disk_edit(dir, &file, &old, now)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&path, &e)),
    }
    write_atomically(dir, &file, new_text)?;
    let revision = Revision::new(now, who, summary, new_text);
    revisions::append(dir, &file, &revision)?;
    Ok(revision)
}

/// Writes `dir/file` so a reader or a crash sees the old text or the new, never a mix.
fn write_atomically(dir: &Path, file: &str, text: &str) -> Result<(), WebError> {
    let target = dir.join(file);
    let temp = temp_path(dir, file);
    let written = fs::File::create_new(&temp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&temp, &target));
    if let Err(e) = written {
        fs::remove_file(&temp).ok();
        return Err(io_error(&target, &e));
    }
    revisions::sync_dir(dir);
    Ok(())
}

/// A hidden name, so a leftover temporary file is never listed as an advisory.
fn temp_path(dir: &Path, file: &str) -> PathBuf {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    dir.join(format!(".{file}.{}.{nanos}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests;
