//! Times and durations as operators type and read them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// RFC 3339 UTC with microseconds, e.g. `2003-08-11T16:10:00.000000Z`.
pub fn rfc3339(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parse `90s`, `5m`, `1h`, `1d` (or plain seconds) into seconds.
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u32 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30s, 5m or 1h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use s, m, h or d"
            ));
        }
    };
    n.checked_mul(unit)
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("`{text}` is not a positive duration"))
}

/// Parse a time bound: RFC 3339 (`2003-08-11T16:00:00Z`), `YYYY-MM-DD HH:MM[:SS]` (UTC) or
/// `YYYY-MM-DD` (midnight UTC). Returns it normalised to RFC 3339 UTC.
pub fn parse_time(text: &str) -> Result<String, String> {
    let text = text.trim();
    let utc = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else if let Some(t) = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    {
        // With a space or a `T` (as the web API and its docs write times), UTC.
        t.and_utc()
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
    } else {
        return Err(format!(
            "`{text}` is not a time: use 2003-08-11, `2003-08-11 16:00` (UTC) or RFC 3339"
        ));
    };
    Ok(utc.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Unix seconds of a bound normalised by [`parse_time`].
pub fn unix_seconds(rfc3339: &Option<String>) -> Option<i64> {
    rfc3339.as_deref().and_then(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.timestamp())
    })
}

/// A period whose end is not after its start selects nothing: say so instead of printing an
/// empty answer that reads as "nothing happened".
pub fn check_period(from: &Option<String>, to: &Option<String>) -> Result<(), String> {
    match (unix_seconds(from), unix_seconds(to)) {
        (Some(f), Some(t)) if f >= t => Err(format!(
            "--from {} is not before --to {}: the period is empty",
            from.as_deref().unwrap_or_default(),
            to.as_deref().unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("30"), Ok(30));
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("1d"), Ok(86_400));
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("2003-08-11"), Ok("2003-08-11T00:00:00Z".into()));
        assert_eq!(
            parse_time("2003-08-11 16:10"),
            Ok("2003-08-11T16:10:00Z".into())
        );
        assert_eq!(
            parse_time("2003-08-12T01:10:00+09:00"),
            Ok("2003-08-11T16:10:00Z".into())
        );
        assert!(parse_time("yesterday").is_err());
        for t in [
            "2003-08-11T16:10",
            "2003-08-11T16:10:00",
            "2003-08-11 16:10:00",
        ] {
            assert_eq!(parse_time(t), Ok("2003-08-11T16:10:00Z".into()), "{t}");
        }
        assert_eq!(
            rfc3339(1_060_618_200_000_000_000),
            "2003-08-11T16:10:00.000000Z"
        );
    }

    #[test]
    fn a_period_must_end_after_it_starts() {
        let at = |t: &str| Some(parse_time(t).unwrap());
        assert!(check_period(&at("2009-01-16"), &at("2009-01-17")).is_ok());
        assert!(check_period(&at("2009-01-16"), &None).is_ok());
        let err = check_period(&at("2009-01-17"), &at("2009-01-16")).unwrap_err();
        assert!(err.contains("is not before --to"), "{err}");
        assert!(check_period(&at("2009-01-16"), &at("2009-01-16")).is_err());
    }
}
