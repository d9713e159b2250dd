//! Go's `time` package, as far as templates see it: layout-string formatting
//! and parsing (`time.Format`, `time.ParseInLocation`), `time.ParseDuration`,
//! `Duration.String`, and zone lookup from the system's TZif files
//! (`time.LoadLocation`).
//!
//! This file holds the layout chunks and formatting; parsing, durations and zones are in the
//! submodules of the same names.
//!
//! Templates written for Go spell dates with Go's reference-time layouts
//! (`2006-01-02 15:04:05`), and sprig's `date`, `toDate`, `dateModify`,
//! `duration` and `ago` print exactly what Go prints, so these follow Go's
//! algorithms rather than strftime.
//!
//! The "local" zone is UTC: output then does not depend on the host's zone
//! (Go's own expected outputs are recorded with `TZ=UTC`). Named zones are read
//! from `/usr/share/zoneinfo` (or `$ZONEINFO`); past the last transition in
//! the file the last zone stays in effect (Debian's files list transitions up
//! to 2037).

use std::fmt::Write as _;

mod duration;
mod parse;
mod scan;
mod zone;

pub use duration::{format_duration, parse_duration, round_duration};
pub use parse::{Instant, ParseError, parse};
pub use scan::quote;
pub use zone::Location;

/// Seconds in a day.
const DAY: i64 = 86_400;

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Days before each month in a non-leap year (index 12 is the year's length).
const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/// One element of a layout string, as Go's `nextStdChunk` classifies it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm,
    PmLower,
    /// `MST`
    Tz,
    /// Numeric zones: `Z` says ISO 8601 (`Z` for UTC), `colon` and `secs`
    /// say which parts follow the hours, `short` is hours only.
    NumTz {
        iso: bool,
        colon: bool,
        secs: bool,
        short: bool,
    },
    /// `.000` / `,999`: separator, digit count, whether trailing zeros trim.
    Frac {
        sep: u8,
        digits: usize,
        trim: bool,
    },
}

fn starts_with_lower(s: &[u8]) -> bool {
    s.first().is_some_and(|c| c.is_ascii_lowercase())
}

fn is_digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Splits `layout` into (literal prefix, element, rest), or None when no
/// element remains.
fn next_chunk(layout: &[u8]) -> Option<(usize, Std, usize)> {
    let l = layout;
    let n = l.len();
    let has = |i: usize, s: &str| l[i..].starts_with(s.as_bytes());
    for i in 0..n {
        let found = match l[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    Some((Std::LongMonth, 7))
                } else if !starts_with_lower(&l[i + 3..]) {
                    Some((Std::Month, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "Mon") => {
                if has(i, "Monday") {
                    Some((Std::LongWeekDay, 6))
                } else if !starts_with_lower(&l[i + 3..]) {
                    Some((Std::WeekDay, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "MST") => Some((Std::Tz, 3)),
            b'0' if i + 1 < n && (b'1'..=b'6').contains(&l[i + 1]) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(l[i + 1] - b'1')];
                Some((std, 2))
            }
            b'0' if has(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if has(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if has(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if has(i, "_2") => {
                if has(i + 1, "2006") {
                    // "_2006" is a literal underscore followed by the year.
                    return Some((i + 1, Std::LongYear, i + 5));
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if has(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if has(i, "PM") => Some((Std::Pm, 2)),
            b'p' if has(i, "pm") => Some((Std::PmLower, 2)),
            c @ (b'-' | b'Z') => {
                let iso = c == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                forms.iter().find(|f| has(i + 1, f.0)).map(|f| {
                    (
                        Std::NumTz {
                            iso,
                            colon: f.1,
                            secs: f.2,
                            short: f.3,
                        },
                        f.0.len() + 1,
                    )
                })
            }
            c @ (b'.' | b',') if i + 1 < n && (l[i + 1] == b'0' || l[i + 1] == b'9') => {
                let ch = l[i + 1];
                let mut j = i + 1;
                while j < n && l[j] == ch {
                    j += 1;
                }
                if is_digit_at(l, j) {
                    None
                } else {
                    return Some((
                        i,
                        Std::Frac {
                            sep: c,
                            digits: j - (i + 1),
                            trim: ch == b'9',
                        },
                        j,
                    ));
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return Some((i, std, i + len));
        }
    }
    None
}

/// A calendar date and clock time, as a zone shows an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 2006 (may be 0 or negative).
    pub year: i64,
    /// Month 1..=12.
    pub month: u32,
    /// Day of month 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub min: u32,
    /// Second 0..=59.
    pub sec: u32,
    /// Weekday, 0 = Sunday.
    pub weekday: u32,
    /// Day of the year, 1..=366.
    pub yday: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: u32, year: i64) -> u32 {
    if month == 2 && is_leap(year) {
        return 29;
    }
    let m = month as usize;
    (DAYS_BEFORE[m] - DAYS_BEFORE[m - 1]) as u32
}

/// The calendar fields of `unix` seconds shifted by `offset` seconds.
pub fn civil(unix: i64, offset: i32) -> Civil {
    let local = unix.saturating_add(i64::from(offset));
    let days = local.div_euclid(DAY);
    let secs = local.rem_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let yday = (days - days_from_civil(year, 1, 1) + 1) as u32;
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        min: (secs % 3600 / 60) as u32,
        sec: (secs % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        yday,
    }
}

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
        let _ = write!(out, "{:0width$}", -v);
    } else {
        let _ = write!(out, "{v:0width$}");
    }
}

/// Formats an instant (`unix` seconds, `nanos`, seen at `offset` seconds east
/// of UTC in a zone abbreviated `zone`) with a Go layout string.
pub fn format(layout: &str, unix: i64, nanos: u32, offset: i32, zone: &str) -> String {
    let c = civil(unix, offset);
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout.as_bytes();
    while let Some((p, std, s)) = next_chunk(rest) {
        out.push_str(&String::from_utf8_lossy(&rest[..p]));
        rest = &rest[s..];
        match std {
            Std::Year => pad(&mut out, c.year.rem_euclid(100), 2),
            Std::LongYear => pad(&mut out, c.year, 4),
            Std::Month => out.push_str(&LONG_MONTHS[c.month as usize - 1][..3]),
            Std::LongMonth => out.push_str(LONG_MONTHS[c.month as usize - 1]),
            Std::NumMonth => pad(&mut out, c.month.into(), 0),
            Std::ZeroMonth => pad(&mut out, c.month.into(), 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[c.weekday as usize][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[c.weekday as usize]),
            Std::Day => pad(&mut out, c.day.into(), 0),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                pad(&mut out, c.day.into(), 0);
            }
            Std::ZeroDay => pad(&mut out, c.day.into(), 2),
            Std::UnderYearDay => {
                let _ = write!(out, "{:>3}", c.yday);
            }
            Std::ZeroYearDay => pad(&mut out, c.yday.into(), 3),
            Std::Hour => pad(&mut out, c.hour.into(), 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let h = match c.hour % 12 {
                    0 => 12,
                    h => h,
                };
                pad(&mut out, h.into(), if std == Std::Hour12 { 0 } else { 2 });
            }
            Std::Minute => pad(&mut out, c.min.into(), 0),
            Std::ZeroMinute => pad(&mut out, c.min.into(), 2),
            Std::Second => pad(&mut out, c.sec.into(), 0),
            Std::ZeroSecond => pad(&mut out, c.sec.into(), 2),
            Std::Pm => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Std::PmLower => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            Std::NumTz {
                iso,
                colon,
                secs,
                short,
            } => {
                if iso && offset == 0 {
                    out.push('Z');
                    continue;
                }
                let mut zone_min = offset / 60;
                let mut abs = offset;
                if zone_min < 0 {
                    out.push('-');
                    zone_min = -zone_min;
                    abs = -abs;
                } else {
                    out.push('+');
                }
                pad(&mut out, (zone_min / 60).into(), 2);
                if colon {
                    out.push(':');
                }
                if !short {
                    pad(&mut out, (zone_min % 60).into(), 2);
                }
                if secs {
                    if colon {
                        out.push(':');
                    }
                    pad(&mut out, (abs % 60).into(), 2);
                }
            }
            Std::Tz => {
                if zone.is_empty() {
                    let mut zone_min = offset / 60;
                    if zone_min < 0 {
                        out.push('-');
                        zone_min = -zone_min;
                    } else {
                        out.push('+');
                    }
                    pad(&mut out, (zone_min / 60).into(), 2);
                    pad(&mut out, (zone_min % 60).into(), 2);
                } else {
                    out.push_str(zone);
                }
            }
            Std::Frac { sep, digits, trim } => format_nanos(&mut out, nanos, sep, digits, trim),
        }
    }
    out.push_str(&String::from_utf8_lossy(rest));
    out
}

fn format_nanos(out: &mut String, nanos: u32, sep: u8, digits: usize, trim: bool) {
    let all = format!("{nanos:09}");
    let mut n = digits.min(9);
    if trim {
        while n > 0 && all.as_bytes()[n - 1] == b'0' {
            n -= 1;
        }
        if n == 0 {
            return;
        }
    }
    out.push(char::from(sep));
    out.push_str(&all[..n]);
}

/// Go's `time.Time.String()` layout (without the monotonic clock reading).
pub const STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-800_000i64, -1, 0, 1, 59, 10_956, 18_000, 2_932_896] {
            let c = civil(days * DAY, 0);
            assert_eq!(days_from_civil(c.year, c.month, c.day), days, "{c:?}");
        }
        let c = civil(1_600_000_000, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.weekday),
            (2020, 9, 13, 12, 0)
        );
    }

    #[test]
    fn formats_the_reference_layouts() {
        // Mon Jan 2 15:04:05 MST 2006 is 1136239445 in -0700.
        let t = 1_136_239_445;
        let f = |l: &str| format(l, t, 123_456_789, -7 * 3600, "MST");
        assert_eq!(
            f("Mon Jan _2 15:04:05 MST 2006"),
            "Mon Jan  2 15:04:05 MST 2006"
        );
        assert_eq!(
            f("2006-01-02T15:04:05.000Z07:00"),
            "2006-01-02T15:04:05.123-07:00"
        );
        assert_eq!(f("3:04PM .999999 ,9 002"), "3:04PM .123456 ,1 002");
        assert_eq!(
            format(STRING_LAYOUT, 0, 0, 0, "UTC"),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(format("MST", 0, 0, 5 * 3600 + 1800, ""), "+0530");
    }
}
