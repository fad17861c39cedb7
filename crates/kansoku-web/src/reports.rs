//! Infection reports: the consultations and reports the 2003 advisories counted. Anyone may
//! report (a form and `POST /api/v1/reports`); the public sees daily counts per signature;
//! the reports themselves, and above all their contact field, only operators see.
//!
//! Reports live in the store directory as `web/reports.jsonl`, one JSON object per line,
//! appended and synced before the answer goes out, so an acknowledged report survives a
//! crash. A line cut short by a crash mid-write is skipped on reading (and reported on
//! standard error), never fatal.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::WebError;

/// What a reporter can name; `unknown` when they cannot tell.
pub const SIGNATURES: &[&str] = &[
    "blaster",
    "welchia",
    "slammer",
    "sasser",
    "conficker",
    "mirai",
    "unknown",
];

/// Operating systems offered by the form; the API accepts the same list.
pub const SYSTEMS: &[&str] = &[
    "Windows 2000",
    "Windows XP",
    "Windows Server 2003",
    "Windows NT 4.0",
    "other Windows",
    "other",
];

/// Limits of the text fields, in characters.
const MAX_TEXT: usize = 2000;
const MAX_CONTACT: usize = 200;

/// The first day a report can be about: the year of Slammer and Blaster.
const EARLIEST: (i32, u32, u32) = (2003, 1, 1);

/// A report as submitted, before validation.
#[derive(Debug, Default, Deserialize)]
pub struct Submission {
    pub signature: String,
    /// The day the infection was noticed, `YYYY-MM-DD`.
    pub date: String,
    pub os: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub contact: Option<String>,
}

/// A stored report. Only operators see it whole.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub id: u64,
    /// When the server received it, RFC 3339 UTC.
    pub received: String,
    pub signature: String,
    pub date: String,
    pub os: String,
    pub text: String,
    pub contact: Option<String>,
}

/// Reports per day and signature: what the public sees.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct DailyCount {
    pub date: String,
    pub signature: String,
    pub reports: u64,
}

/// Unicode's explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069): invisible, yet they reorder the text around them on display.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl Submission {
    /// Checks every field; the error names the field and what it accepts.
    pub fn validate(self, today: NaiveDate) -> Result<Submission, WebError> {
        let bad = |m: String| Err(WebError::BadRequest(m));
        let signature = self.signature.trim().to_ascii_lowercase();
        if !SIGNATURES.contains(&signature.as_str()) {
            return bad(format!(
                "signature `{}` is not one of {}",
                clip(&self.signature),
                SIGNATURES.join(", ")
            ));
        }
        let date = match NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => return bad(format!("date `{}` is not YYYY-MM-DD", clip(&self.date))),
        };
        let earliest = NaiveDate::from_ymd_opt(EARLIEST.0, EARLIEST.1, EARLIEST.2)
            .expect("a valid constant date");
        if date < earliest || date > today {
            return bad(format!("date {date} is not between {earliest} and today"));
        }
        let os = self.os.trim();
        if !SYSTEMS.contains(&os) {
            return bad(format!(
                "os `{}` is not one of {}",
                clip(os),
                SYSTEMS.join(", ")
            ));
        }
        let text = self.text.trim();
        if text.chars().count() > MAX_TEXT {
            return bad(format!("text is longer than {MAX_TEXT} characters"));
        }
        let contact = self
            .contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if contact.is_some_and(|c| c.chars().count() > MAX_CONTACT) {
            return bad(format!("contact is longer than {MAX_CONTACT} characters"));
        }
        if [text, contact.unwrap_or("")]
            .iter()
            .any(|t| t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
        {
            return bad("text and contact may not hold control characters".into());
        }
        if [text, contact.unwrap_or("")]
            .iter()
            .any(|t| t.chars().any(is_bidi_control))
        {
            // They reorder what the operator page shows ("Trojan Source", CVE-2021-42574).
            return bad("text and contact may not hold bidirectional control characters".into());
        }
        Ok(Submission {
            signature,
            date: date.to_string(),
            os: os.to_owned(),
            text: text.to_owned(),
            contact: contact.map(str::to_owned),
        })
    }
}

/// The start of a rejected value, for an error message that cannot be made huge.
fn clip(value: &str) -> String {
    value.chars().take(40).collect()
}

/// The append-only report log of one store.
#[derive(Debug)]
pub struct ReportLog {
    path: PathBuf,
}

impl ReportLog {
    pub fn new(store_dir: &Path) -> Self {
        ReportLog {
            path: store_dir.join("web").join("reports.jsonl"),
        }
    }

    /// Every readable report, oldest first.
    pub fn read(&self) -> Result<Vec<Report>, WebError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&self.path, e)),
        };
        let mut reports = Vec::new();
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| io_error(&self.path, e))?;
            match serde_json::from_str::<Report>(&line) {
                Ok(r) => reports.push(r),
                Err(e) => eprintln!(
                    "kansoku serve: {} line {}: skipped ({e})",
                    self.path.display(),
                    n + 1
                ),
            }
        }
        Ok(reports)
    }

    /// Stores a validated submission and returns it with its id. The caller serialises
    /// appends (one writer per store); the line is synced before this returns.
    pub fn append(&self, s: Submission) -> Result<Report, WebError> {
        let id = self.read()?.last().map_or(1, |r| r.id + 1);
        let report = Report {
            id,
            received: Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            signature: s.signature,
            date: s.date,
            os: s.os,
            text: s.text,
            contact: s.contact,
        };
        let dir = self.path.parent().expect("the log has a directory");
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| io_error(&self.path, e))?;
        // After a torn line, start a new one: the fragment must not swallow this report.
        let mut line = if ends_torn(&mut file).map_err(|e| io_error(&self.path, e))? {
            vec![b'\n']
        } else {
            Vec::new()
        };
        serde_json::to_writer(&mut line, &report).map_err(|e| WebError::Internal(e.to_string()))?;
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error(&self.path, e))?;
        Ok(report)
    }
}

/// Whether the file's last byte is not a newline (a write cut short).
fn ends_torn(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

fn io_error(path: &Path, e: std::io::Error) -> WebError {
    WebError::Internal(format!("{}: {e}", path.display()))
}

/// Reports per (day, signature), oldest day first.
pub fn daily_counts(reports: &[Report]) -> Vec<DailyCount> {
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for r in reports {
        *counts.entry((&r.date, &r.signature)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((date, signature), reports)| DailyCount {
            date: date.to_owned(),
            signature: signature.to_owned(),
            reports,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2003, 8, 20).unwrap()
    }

    fn submission() -> Submission {
        Submission {
            signature: "Blaster".into(),
            date: "2003-08-12".into(),
            os: "Windows XP".into(),
            text: " rebooting every minute \n".into(),
            contact: Some("  ".into()),
        }
    }

    #[test]
    fn valid_reports_are_normalised() {
        let s = submission().validate(today()).unwrap();
        assert_eq!(s.signature, "blaster");
        assert_eq!(s.text, "rebooting every minute");
        assert_eq!(s.contact, None, "a blank contact is no contact");
    }

    #[test]
    fn every_field_is_checked() {
        type Change = fn(&mut Submission);
        let cases: [(Change, &str); 8] = [
            (|s| s.signature = "codered".into(), "signature"),
            (|s| s.date = "12/08/2003".into(), "YYYY-MM-DD"),
            (|s| s.date = "2003-08-21".into(), "today"),
            (|s| s.date = "1999-01-01".into(), "between"),
            (|s| s.os = "BeOS".into(), "os"),
            (|s| s.text = "x".repeat(MAX_TEXT + 1), "text"),
            (|s| s.contact = Some("a\u{7}b".into()), "control"),
            (|s| s.text = "fine \u{202e}txt.exe".into(), "bidirectional"),
        ];
        for (change, says) in cases {
            let mut s = submission();
            change(&mut s);
            let e = s.validate(today()).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn reports_append_durably_and_count_per_day() {
        let dir = tempfile::tempdir().unwrap();
        let log = ReportLog::new(dir.path());
        assert!(log.read().unwrap().is_empty());
        let first = log.append(submission().validate(today()).unwrap()).unwrap();
        let mut s = submission();
        s.signature = "welchia".into();
        let second = log.append(s.validate(today()).unwrap()).unwrap();
        assert_eq!((first.id, second.id), (1, 2));
        // A torn last line (a crash mid-write) is skipped, not fatal.
        let path = dir.path().join("web/reports.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":3,\"recei").unwrap();
        assert_eq!(log.read().unwrap(), vec![first.clone(), second.clone()]);
        let third = log.append(submission().validate(today()).unwrap()).unwrap();
        assert_eq!(third.id, 3);
        let read = log.read().unwrap();
        assert_eq!(read, vec![first, second, third]);
        let read = &read[..2];
        let counts = daily_counts(read);
        assert_eq!(
            counts,
            vec![
                DailyCount {
                    date: "2003-08-12".into(),
                    signature: "blaster".into(),
                    reports: 1
                },
                DailyCount {
                    date: "2003-08-12".into(),
                    signature: "welchia".into(),
                    reports: 1
                },
            ]
        );
    }
}
