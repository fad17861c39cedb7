//! The TOML front matter at the top of an advisory file, between two `+++` lines.
//!
//! Parsing is strict (unknown keys are errors) because a misspelt key such as `publsihed`
//! would otherwise silently drop a date the public relies on; every error names the file and
//! the key so the operator can fix it without reading code.

use chrono::{DateTime, NaiveDate, Utc};
use kansoku_aggregate::PortName;

use crate::WebError;

/// The keys an advisory's front matter may hold.
const KEYS: [&str; 5] = ["title", "published", "summary", "signatures", "ports"];

/// What an advisory file says about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontMatter {
    pub title: String,
    pub published: Published,
    /// One or two sentences for lists and link previews.
    pub summary: Option<String>,
    /// Signature names the advisory is about (`blaster`), linked to their pages.
    pub signatures: Vec<String>,
    /// Ports the advisory is about (`tcp/135`), linked to their pages.
    pub ports: Vec<String>,
}

/// The first-published time as written: a date, or an RFC 3339 time.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    /// The date as the author wrote it (in the author's offset, not shifted to UTC), which
    /// is what readers expect to see.
    pub date: NaiveDate,
    /// The instant, for ordering; a bare date is midnight UTC.
    pub at: DateTime<Utc>,
    /// As written, normalised: `2003-08-12` or an RFC 3339 time.
    pub text: String,
}

/// Splits a file into its front matter (the TOML text) and its Markdown body.
pub fn split(text: &str) -> Result<(&str, &str), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = strip_fence_line(text)
        .ok_or("the file must start with a `+++` line, then TOML front matter, then `+++`")?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "+++" {
            return Ok((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    Err("the front matter is not closed: add a `+++` line after it".into())
}

/// The text after a first line that is exactly `+++`.
fn strip_fence_line(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("+++")?;
    rest.strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
}

/// Parses a whole advisory file: its front matter and its Markdown body. `file` names the
/// file in the error.
pub fn parse<'t>(file: &str, text: &'t str) -> Result<(FrontMatter, &'t str), WebError> {
    let bad = |reason: String| WebError::Advisory {
        file: file.to_owned(),
        reason,
    };
    let (toml_text, body) = split(text).map_err(bad)?;
    let front = parse_toml(toml_text).map_err(bad)?;
    Ok((front, body))
}

/// Reads the fields out of the front matter's TOML.
fn parse_toml(toml_text: &str) -> Result<FrontMatter, String> {
    let table: toml::Table = toml_text
        .parse()
        .map_err(|e: toml::de::Error| format!("the front matter is not TOML: {}", e.message()))?;
    if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key `{key}` in the front matter (known: {})",
            KEYS.join(", ")
        ));
    }
    let title = required_string(&table, "title")?;
    let published = match table.get("published") {
        None => return Err("`published` is missing: add `published = 2003-08-12`".into()),
        Some(toml::Value::String(s)) => parse_published(s)?,
        Some(toml::Value::Datetime(d)) => parse_published(&d.to_string())?,
        Some(_) => return Err("`published` must be a date such as 2003-08-12".into()),
    };
    let summary = optional_string(&table, "summary")?;
    let signatures = string_list(&table, "signatures")?;
    for name in &signatures {
        check_signature_name(name).map_err(|e| format!("`signatures`: {e}"))?;
    }
    let ports = string_list(&table, "ports")?
        .iter()
        .map(|p| canonical_port(p).map_err(|e| format!("`ports`: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(FrontMatter {
        title,
        published,
        summary,
        signatures,
        ports,
    })
}

fn required_string(table: &toml::Table, key: &str) -> Result<String, String> {
    match optional_string(table, key)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(format!("`{key}` is empty")),
        None => Err(format!("`{key}` is missing")),
    }
}

fn optional_string(table: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn string_list(table: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    let Some(value) = table.get(key) else {
        return Ok(Vec::new());
    };
    let not_list = || format!("`{key}` must be a list of strings, such as [\"a\", \"b\"]");
    value
        .as_array()
        .ok_or_else(not_list)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(not_list))
        .collect()
}

/// A date (`2003-08-12`) or an RFC 3339 time (`2003-08-12T09:00:00+09:00`).
pub fn parse_published(text: &str) -> Result<Published, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let at = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(Published {
            date,
            at,
            text: text.to_owned(),
        });
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => Ok(Published {
            date: t.date_naive(),
            at: t.with_timezone(&Utc),
            text: t.to_rfc3339(),
        }),
        Err(_) => Err(format!(
            "`published` = `{text}` is not a date: use 2003-08-12 or an RFC 3339 time with \
             its offset (2003-08-12T09:00:00+09:00)"
        )),
    }
}

/// A signature name as it may appear in a URL path segment: letters, digits, `-`, `_`, `.`.
pub fn check_signature_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "signature `{name}` is not a name (letters, digits, `-`, `_`, `.`)"
        ))
    }
}

/// A port as the dashboard names it (`tcp/135`, `icmp/8.0`), or why not.
pub fn canonical_port(text: &str) -> Result<String, String> {
    let name = text
        .parse::<PortName>()
        .map_err(|e| format!("port `{text}`: {e}"))?
        .to_string();
    // Only protocols with a `proto/port` name have a port page and chart.
    if name.contains('/') {
        Ok(name)
    } else {
        Err(format!(
            "port `{text}` has no chart: use tcp/N, udp/N, icmp/T.C"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\ntitle = \"W32/MSBlaster\"\npublished = 2003-08-12\n\
                        signatures = [\"blaster\"]\nports = [\"tcp/135\"]\n+++\n# Body\n";

    fn reason(text: &str) -> String {
        match parse("x.en.md", text) {
            Err(WebError::Advisory { file, reason }) => {
                assert_eq!(file, "x.en.md");
                reason
            }
            other => panic!("expected an advisory error, got {other:?}"),
        }
    }

    #[test]
    fn front_matter_parses_fields_and_body() {
        let (front, body) = parse("x.en.md", GOOD).unwrap();
        assert_eq!(front.title, "W32/MSBlaster");
        assert_eq!(front.published.date.to_string(), "2003-08-12");
        assert_eq!(front.published.text, "2003-08-12");
        assert_eq!(front.signatures, ["blaster"]);
        assert_eq!(front.ports, ["tcp/135"]);
        assert_eq!(front.summary, None);
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn published_accepts_strings_and_rfc3339_keeping_the_written_date() {
        let text = "+++\r\ntitle = \"t\"\r\npublished = \"2003-08-12T08:00:00+09:00\"\r\n+++\r\nb";
        let (front, body) = parse("x.ja.md", text).unwrap();
        assert_eq!(front.published.date.to_string(), "2003-08-12");
        assert_eq!(front.published.at.to_rfc3339(), "2003-08-11T23:00:00+00:00");
        assert_eq!(body, "b");
        let toml_datetime = "+++\ntitle = \"t\"\npublished = 2003-08-12T08:00:00+09:00\n+++\n";
        assert!(parse("x.ja.md", toml_datetime).is_ok());
    }

    #[test]
    fn malformed_front_matter_says_what_is_wrong() {
        assert!(reason("# no front matter").contains("must start with a `+++`"));
        assert!(reason("+++\ntitle = \"t\"\n").contains("not closed"));
        assert!(reason("+++\ntitle = \n+++\n").contains("not TOML"));
        assert!(reason("+++\npublished = 2003-08-12\n+++\n").contains("`title` is missing"));
        assert!(reason("+++\ntitle = \"t\"\n+++\n").contains("`published` is missing"));
        assert!(
            reason("+++\ntitle = \"t\"\npublished = \"12/08/2003\"\n+++\n").contains("not a date")
        );
        let typo = "+++\ntitle = \"t\"\npublished = 2003-08-12\npublsihed = 1\n+++\n";
        assert!(reason(typo).contains("unknown key `publsihed`"));
        let port = "+++\ntitle = \"t\"\npublished = 2003-08-12\nports = [\"tcp/99999\"]\n+++\n";
        assert!(reason(port).contains("tcp/99999"));
        let list = "+++\ntitle = \"t\"\npublished = 2003-08-12\nsignatures = \"blaster\"\n+++\n";
        assert!(reason(list).contains("list of strings"));
    }
}
