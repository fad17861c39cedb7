//! The period and bin a page or API call asks for: `?from=2003-08-11&to=2003-08-14&bin=1h`.
//! Times are UTC: RFC 3339, `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM` (what an HTML
//! `datetime-local` field sends).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use kansoku_aggregate::PortName;

use crate::WebError;

/// Query parameters as they arrive.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PeriodParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub bin: Option<String>,
}

/// A parsed period: Unix seconds, open-ended where absent; `bin` in seconds if asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from_s: Option<i64>,
    pub to_s: Option<i64>,
    pub bin_s: Option<u32>,
}

impl TryFrom<&PeriodParams> for Period {
    type Error = WebError;

    fn try_from(p: &PeriodParams) -> Result<Self, WebError> {
        let time = |t: &Option<String>| -> Result<Option<i64>, WebError> {
            match t.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(t) => parse_time(t).map(Some),
            }
        };
        let bin_s = match p.bin.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("5m") => Some(300),
            Some("1h") => Some(3600),
            Some("1d") => Some(86_400),
            Some(other) => {
                return Err(WebError::BadRequest(format!(
                    "bin `{other}` is not one of 5m, 1h, 1d"
                )));
            }
        };
        let period = Period {
            from_s: time(&p.from)?,
            to_s: time(&p.to)?,
            bin_s,
        };
        if let (Some(from), Some(to)) = (period.from_s, period.to_s)
            && from >= to
        {
            return Err(WebError::BadRequest("`from` must be before `to`".into()));
        }
        Ok(period)
    }
}

fn parse_time(text: &str) -> Result<i64, WebError> {
    let utc = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        t.and_utc()
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        t.and_utc()
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
    } else {
        return Err(WebError::BadRequest(format!(
            "`{text}` is not a time: use 2003-08-11, 2003-08-11T16:00 (UTC) or RFC 3339"
        )));
    };
    Ok(utc.timestamp())
}

/// The port of a URL's two path segments (`/port/tcp/135`), as (protocol number, port).
pub fn parse_port(proto: &str, port: &str) -> Result<(u8, u16), WebError> {
    let PortName(proto, port) = format!("{proto}/{port}")
        .parse::<PortName>()
        .map_err(WebError::BadRequest)?;
    Ok((proto, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(from: &str, to: &str, bin: &str) -> Result<Period, WebError> {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Period::try_from(&PeriodParams {
            from: some(from),
            to: some(to),
            bin: some(bin),
        })
    }

    #[test]
    fn periods_parse_from_forms_and_urls() {
        let p = period("2003-08-11", "2003-08-11T16:00", "1h").unwrap();
        assert_eq!(p.from_s, Some(1_060_560_000));
        assert_eq!(p.to_s, Some(1_060_560_000 + 16 * 3600));
        assert_eq!(p.bin_s, Some(3600));
        assert_eq!(period("", "", "").unwrap(), Period::default());
        assert!(period("yesterday", "", "").is_err());
        assert!(period("2003-08-12", "2003-08-11", "").is_err());
        assert!(period("", "", "7m").is_err());
    }

    #[test]
    fn ports_parse_from_path_segments() {
        assert_eq!(parse_port("tcp", "135").unwrap(), (6, 135));
        assert_eq!(parse_port("icmp", "8.0").unwrap(), (1, 0x0800));
        assert!(parse_port("tcp", "99999").is_err());
        assert!(parse_port("sctp", "1").is_err());
    }
}
