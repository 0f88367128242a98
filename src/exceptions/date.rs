//! Calendar dates (`YYYY-MM-DD`, proleptic Gregorian, UTC) for exception
//! expiry. Days are counted from 1970-01-01 so two dates subtract exactly;
//! nothing here reads the clock except [`Date::today`].

use std::fmt;

/// A day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

/// What a valid date looks like, for error messages.
pub const EXPECTED: &str = "a date `YYYY-MM-DD` that exists, e.g. `2027-03-31`";

/// Where "today" came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Today {
    Flag,
    SourceDateEpoch,
    Clock,
}

impl Date {
    /// Parses `YYYY-MM-DD` (exactly that shape, a day that exists).
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return Err(EXPECTED.into());
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        let (y, m, d) = (num(0..4) as i64, num(5..7), num(8..10));
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return Err(EXPECTED.into());
        }
        Ok(Date {
            days: days_from_civil(y, m, d),
        })
    }

    /// The date `secs` seconds after the Unix epoch (UTC).
    pub fn from_unix(secs: i64) -> Date {
        Date {
            days: secs.div_euclid(86_400),
        }
    }

    /// Today: `SOURCE_DATE_EPOCH` (seconds, for reproducible builds) when
    /// set, else the system clock. A `--today` flag wins over both; the
    /// command line resolves that before asking here.
    pub fn today() -> Result<(Date, Today), String> {
        if let Some(v) = std::env::var_os("SOURCE_DATE_EPOCH") {
            let v = v.to_string_lossy();
            return v
                .trim()
                .parse::<i64>()
                .map(|s| (Date::from_unix(s), Today::SourceDateEpoch))
                .map_err(|_| {
                    format!("SOURCE_DATE_EPOCH is `{v}`; expected seconds since 1970-01-01")
                });
        }
        Ok((Date::clock(), Today::Clock))
    }

    /// The system clock's day.
    pub fn clock() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Date::from_unix(secs)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days - self.days
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` and `civil_from_days`: exact for every
// Gregorian date, with eras of 400 years.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_days_only() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days, 0);
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "2026-01-01T00:00:00Z",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_days_across_months_and_leap_years() {
        let a = Date::parse("2026-12-03").unwrap();
        assert_eq!(a.days_until(Date::parse("2027-01-02").unwrap()), 30);
        assert_eq!(
            Date::parse("2024-02-28")
                .unwrap()
                .days_until(Date::parse("2024-03-01").unwrap()),
            2
        );
        assert_eq!(a.days_until(Date::parse("2026-12-01").unwrap()), -2);
        // Every day of 1999-2030 round-trips through its text.
        let start = Date::parse("1999-01-01").unwrap();
        for i in 0..(32 * 366) {
            let d = Date {
                days: start.days + i,
            };
            assert_eq!(Date::parse(&d.to_string()), Ok(d));
        }
    }

    #[test]
    fn unix_seconds_give_the_utc_day() {
        assert_eq!(Date::from_unix(1_796_342_399).to_string(), "2026-12-03");
        assert_eq!(Date::from_unix(-1).to_string(), "1969-12-31");
    }
}
