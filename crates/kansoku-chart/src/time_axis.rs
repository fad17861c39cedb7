//! UTC time ticks that follow the span: seconds and minutes over a short window, hours over
//! days, days over weeks, months over years. Ticks sit on calendar boundaries (00:00, Monday,
//! the 1st of the month, 1 January) so that a reader can count along the axis.
//!
//! Times are whole seconds since the Unix epoch, UTC; calendar arithmetic is the proleptic
//! Gregorian calendar (Howard Hinnant's `days_from_civil`), valid over all of `i64`.

const DAY: i64 = 86_400;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One labelled tick on the time axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    /// Seconds since the epoch (UTC).
    pub t: i64,
    /// The main label: a time of day, a day, a month or a year.
    pub label: String,
    /// A second line giving the wider context where it changes (the date under 00:00, the
    /// year under January), so the reader never has to guess which day a time belongs to.
    pub context: Option<String>,
    /// A calendar boundary one level above the step (midnight when ticking hours); drawn with
    /// a stronger grid line.
    pub major: bool,
}

/// The spacing between ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Seconds(i64),
    Months(i64),
    Years(i64),
}

impl Step {
    /// Approximate length in seconds, to count how many ticks a span would get.
    fn approx_seconds(self) -> f64 {
        match self {
            Step::Seconds(s) => s as f64,
            Step::Months(m) => m as f64 * 30.436_875 * DAY as f64,
            Step::Years(y) => y as f64 * 365.2425 * DAY as f64,
        }
    }
}

/// Candidate steps from the finest up; years continue 1-2-5 beyond this list.
const SECOND_STEPS: [i64; 20] = [
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    DAY,
    2 * DAY,
    7 * DAY,
];
const MONTH_STEPS: [i64; 4] = [1, 2, 3, 6];

fn choose_step(span: f64, max_ticks: usize) -> Step {
    let max_ticks = max_ticks.max(2) as f64;
    let candidates = SECOND_STEPS
        .iter()
        .map(|&s| Step::Seconds(s))
        .chain(MONTH_STEPS.iter().map(|&m| Step::Months(m)));
    for step in candidates {
        if span / step.approx_seconds() <= max_ticks {
            return step;
        }
    }
    let mut years = 1i64;
    loop {
        for mult in [1, 2, 5] {
            let step = Step::Years(years.saturating_mul(mult));
            if span / step.approx_seconds() <= max_ticks || years >= i64::MAX / 10 {
                return step;
            }
        }
        years = years.saturating_mul(10);
    }
}

/// Ticks within `[t0, t1]`, at most about `max_ticks` of them.
pub(crate) fn ticks(t0: i64, t1: i64, max_ticks: usize) -> Vec<Tick> {
    let (t0, t1) = if t0 <= t1 { (t0, t1) } else { (t1, t0) };
    let span = (i128::from(t1) - i128::from(t0)) as f64;
    let step = choose_step(span.max(1.0), max_ticks);
    let times = tick_times(t0, t1, step);
    label(&times, step)
}

fn tick_times(t0: i64, t1: i64, step: Step) -> Vec<i64> {
    // Generous bound: a chosen step never yields more than ~max_ticks ticks, but calendar
    // steps are approximate; this only guards against a runaway loop.
    const LIMIT: usize = 400;
    let (lo, hi) = (i128::from(t0), i128::from(t1));
    let mut out = Vec::new();
    match step {
        Step::Seconds(s) => {
            let s = i128::from(s);
            // Weeks start on Monday; the epoch (day 0) was a Thursday.
            let offset = if s == i128::from(7 * DAY) {
                i128::from(4 * DAY)
            } else {
                0
            };
            let mut t = (lo - offset).div_euclid(s) * s + offset;
            if t < lo {
                t += s;
            }
            while t <= hi && out.len() < LIMIT {
                out.push(t as i64);
                t += s;
            }
        }
        Step::Months(m) => {
            let (y, mo, _) = civil_from_days(t0.div_euclid(DAY));
            let mut index = i128::from(y) * 12 + i128::from(mo - 1);
            index = index.div_euclid(i128::from(m)) * i128::from(m);
            loop {
                let (y, mo) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
                let t = i128::from(days_from_civil(y as i64, mo, 1)) * i128::from(DAY);
                if t > hi || out.len() >= LIMIT {
                    break;
                }
                if t >= lo {
                    out.push(t as i64);
                }
                index += i128::from(m);
            }
        }
        Step::Years(n) => {
            let (y0, _, _) = civil_from_days(t0.div_euclid(DAY));
            let n = i128::from(n);
            let mut y = i128::from(y0).div_euclid(n) * n;
            loop {
                let t = i128::from(days_from_civil(y as i64, 1, 1)) * i128::from(DAY);
                if t > hi || out.len() >= LIMIT {
                    break;
                }
                if t >= lo {
                    out.push(t as i64);
                }
                y += n;
            }
        }
    }
    out
}

fn label(times: &[i64], step: Step) -> Vec<Tick> {
    let mut out = Vec::with_capacity(times.len());
    let mut prev: Option<(i64, u32, u32)> = None;
    for (i, &t) in times.iter().enumerate() {
        let days = t.div_euclid(DAY);
        let secs = t.rem_euclid(DAY);
        let (y, m, d) = civil_from_days(days);
        let first = i == 0;
        let tick = match step {
            Step::Seconds(s) if s < DAY => {
                let new_day = prev.is_none_or(|p| p != (y, m, d));
                let label = if s < 60 {
                    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
                } else {
                    format!("{:02}:{:02}", secs / 3600, secs / 60 % 60)
                };
                let context = (first || new_day).then(|| day_label(y, m, d, first));
                Tick {
                    t,
                    label,
                    context,
                    major: secs == 0,
                }
            }
            Step::Seconds(_) => {
                let new_year = prev.is_none_or(|p| p.0 != y);
                Tick {
                    t,
                    label: format!("{} {}", MONTHS[(m - 1) as usize], d),
                    context: (first || new_year).then(|| y.to_string()),
                    major: d == 1,
                }
            }
            Step::Months(_) => {
                let new_year = prev.is_none_or(|p| p.0 != y);
                Tick {
                    t,
                    label: MONTHS[(m - 1) as usize].to_string(),
                    context: (first || new_year).then(|| y.to_string()),
                    major: m == 1,
                }
            }
            Step::Years(_) => Tick {
                t,
                label: y.to_string(),
                context: None,
                major: false,
            },
        };
        out.push(tick);
        prev = Some((y, m, d));
    }
    out
}

fn day_label(y: i64, m: u32, d: u32, with_year: bool) -> String {
    if with_year {
        format!("{} {} {}", MONTHS[(m - 1) as usize], d, y)
    } else {
        format!("{} {}", MONTHS[(m - 1) as usize], d)
    }
}

/// `YYYY-MM-DD HH:MM` (with `:SS` when the seconds are not zero), UTC.
pub(crate) fn format_time(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY);
    if s % 60 == 0 {
        format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60)
    } else {
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

/// A bin width in words: `5 min`, `1 h`, `1 day`, `30 s`.
pub(crate) fn format_duration(secs: i64) -> String {
    if secs > 0 && secs % DAY == 0 {
        let n = secs / DAY;
        if n == 1 {
            "1 day".to_string()
        } else {
            format!("{n} days")
        }
    } else if secs > 0 && secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else if secs > 0 && secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = i128::from(z) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y as i64, m, d)
}

/// Day count since 1970-01-01 of a (year, month 1-12, day) date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = i128::from(y) - i128::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i128::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i128::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2003-08-11 00:00 UTC, the day Blaster started spreading.
    const BLASTER: i64 = 1_060_560_000;

    #[test]
    fn civil_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(BLASTER / DAY), (2003, 8, 11));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        // The extremes do not overflow.
        let _ = civil_from_days(i64::MIN / DAY - 1);
        let _ = civil_from_days(i64::MAX / DAY + 1);
    }

    #[test]
    fn hours_over_a_few_hours_with_the_date_under_the_first() {
        let t = ticks(BLASTER + 3600, BLASTER + 7 * 3600, 10);
        assert_eq!(t[0].label, "01:00");
        assert_eq!(t[0].context.as_deref(), Some("Aug 11 2003"));
        assert!(t.len() >= 4 && t.len() <= 10, "{t:?}");
        assert!(t[1..].iter().all(|t| t.context.is_none()));
    }

    #[test]
    fn five_minutes_over_an_hour() {
        let t = ticks(BLASTER, BLASTER + 3600, 12);
        assert_eq!(t[1].t - t[0].t, 300);
        assert_eq!(t[1].label, "00:05");
    }

    #[test]
    fn hours_over_days_mark_midnight() {
        let t = ticks(BLASTER, BLASTER + 3 * DAY, 12);
        assert_eq!(t[1].t - t[0].t, 6 * 3600);
        let midnights: Vec<_> = t.iter().filter(|t| t.major).collect();
        assert_eq!(midnights.len(), 4);
        assert_eq!(midnights[1].context.as_deref(), Some("Aug 12"));
    }

    #[test]
    fn days_over_a_month_weeks_on_mondays() {
        let t = ticks(BLASTER, BLASTER + 30 * DAY, 12);
        assert!(t[1].t - t[0].t >= DAY);
        assert_eq!(t[0].label, "Aug 11");
        let t = ticks(BLASTER, BLASTER + 80 * DAY, 12);
        assert_eq!(t[1].t - t[0].t, 7 * DAY);
        // 2003-08-11 was a Monday.
        assert_eq!(t[0].t, BLASTER);
    }

    #[test]
    fn months_over_a_year_and_years_over_decades() {
        let t = ticks(BLASTER, BLASTER + 365 * DAY, 12);
        assert_eq!(t[0].label, "Sep");
        assert_eq!(t[0].context.as_deref(), Some("2003"));
        assert!(
            t.iter()
                .any(|t| t.label == "Jan" && t.context.as_deref() == Some("2004"))
        );
        let t = ticks(0, 50 * 365 * DAY, 12);
        assert!(t.iter().all(|t| t.label.parse::<i64>().is_ok()), "{t:?}");
    }

    #[test]
    fn degenerate_and_extreme_spans() {
        assert!(ticks(BLASTER, BLASTER, 10).len() <= 1);
        let t = ticks(i64::MIN, i64::MAX, 10);
        assert!(!t.is_empty() && t.len() <= 20, "{}", t.len());
        assert!(ticks(5, 1, 10).len() <= 10);
    }

    #[test]
    fn durations_and_times() {
        assert_eq!(format_duration(300), "5 min");
        assert_eq!(format_duration(3600), "1 h");
        assert_eq!(format_duration(DAY), "1 day");
        assert_eq!(format_duration(7 * DAY), "7 days");
        assert_eq!(format_duration(90), "90 s");
        assert_eq!(format_time(BLASTER + 3661), "2003-08-11 01:01:01");
        assert_eq!(format_time(BLASTER), "2003-08-11 00:00");
    }
}
