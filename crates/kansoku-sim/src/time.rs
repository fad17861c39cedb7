//! RFC 3339 formatting of Unix times, so the ground truth is readable without a date crate.
//!
//! Only UTC is needed (a telescope's clock is UTC), so formatting is the civil-from-days
//! algorithm (Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms") plus padding.

/// Microseconds per second.
pub(crate) const MICROS: u64 = 1_000_000;

/// Converts days since 1970-01-01 to a (year, month, day) civil date.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Formats whole Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: u64) -> String {
    let (y, mo, d) = civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Formats Unix microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub(crate) fn rfc3339_micros(micros: u64) -> String {
    let secs = rfc3339(micros / MICROS);
    // Insert the fraction before the trailing 'Z'.
    format!("{}.{:06}Z", &secs[..secs.len() - 1], micros % MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_060_560_000), "2003-08-11T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(951_868_799), "2000-02-29T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_164_800), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn formats_micros() {
        assert_eq!(
            rfc3339_micros(1_060_560_000_000_042),
            "2003-08-11T00:00:00.000042Z"
        );
        assert_eq!(
            rfc3339_micros(1_060_617_723_123_456),
            "2003-08-11T16:02:03.123456Z"
        );
    }
}
