//! Go's `time` package, as far as templates see it: layout-string formatting
//! and parsing (`time.Format`, `time.ParseInLocation`), `time.ParseDuration`,
//! `Duration.String`, and zone lookup from the system's TZif files
//! (`time.LoadLocation`).
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

/// An instant with the zone it is shown in, as parsing returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instant {
    /// Seconds since the Unix epoch.
    pub unix: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Seconds east of UTC of the zone the instant is shown in.
    pub offset: i32,
    /// Zone abbreviation ("" prints as the numeric offset).
    pub zone: String,
}

/// Go's `time.Parse` error, printed as Go prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct ParseError {
    /// The whole layout.
    layout: String,
    /// The whole value.
    value: String,
    /// The layout element that failed.
    layout_elem: String,
    /// The rest of the value where it failed.
    value_elem: String,
    /// A specific message (e.g. ": month out of range"), or "" for the
    /// generic "cannot parse" form.
    message: String,
}

impl ParseError {
    fn text(&self) -> String {
        if self.message.is_empty() {
            format!(
                "parsing time {} as {}: cannot parse {} as {}",
                quote(&self.value),
                quote(&self.layout),
                quote(&self.value_elem),
                quote(&self.layout_elem)
            )
        } else {
            format!("parsing time {}{}", quote(&self.value), self.message)
        }
    }
}

/// Go's `time.quote`: double quotes, with bytes outside printable ASCII as `\xNN`.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        if (ch as u32) >= 0x80 || ch < ' ' {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            if ch == '"' || ch == '\\' {
                out.push('\\');
            }
            out.push(ch);
        }
    }
    out.push('"');
    out
}

/// Sign, hours, minutes, seconds of a numeric zone, and the bytes they span.
type ZoneParts<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], usize);

/// Reads a one- or two-digit number; `fixed` demands two digits.
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit_at(s, 0) {
        return None;
    }
    if !is_digit_at(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// Reads up to three digits; `fixed` demands three.
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit_at(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Matches one of `names` as a case-insensitive prefix; returns its index.
fn lookup_name<'a>(names: &[&str], s: &'a [u8], short: bool) -> Option<(usize, &'a [u8])> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if short { &name[..3] } else { name };
        let len = name.len();
        (s.len() >= len && s[..len].eq_ignore_ascii_case(name.as_bytes())).then(|| (i, &s[len..]))
    })
}

fn parse_nanos(value: &[u8], nbytes: usize) -> Result<i64, ()> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(());
    }
    let nbytes = nbytes.min(10);
    let digits = &value[1..nbytes];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let mut ns = 0i64;
    for d in digits {
        ns = ns * 10 + i64::from(d - b'0');
    }
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok(ns)
}

fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b' ').count();
    &s[n..]
}

/// Go's `skip`: consumes the literal `prefix` from `value`, where a run of
/// spaces matches any run of spaces.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|c| *c != b' ') {
                return Err(value);
            }
            prefix = skip_spaces(prefix);
            value = skip_spaces(value);
            continue;
        }
        if value.first() != Some(&p) {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

/// Go's `parseSignedOffset`: the length of a `+h`/`-hh` hour offset (at most 23) at the
/// start of `value`, or 0.
fn signed_offset_len(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'+' | b'-')) {
        return 0;
    }
    let digits = value[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let hours = std::str::from_utf8(&value[1..1 + digits])
        .ok()
        .and_then(|d| d.parse::<u64>().ok());
    match hours {
        Some(h) if h <= 23 => 1 + digits,
        _ => 0,
    }
}

/// Length of a zone abbreviation at the start of `value` (Go's `parseTimeZone`).
fn zone_name_len(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + signed_offset_len(&value[3..]));
    }
    if matches!(value[0], b'+' | b'-') {
        return Some(signed_offset_len(value)).filter(|n| *n > 0);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// Go's `time.ParseInLocation(layout, value, Local)` with the local zone UTC.
pub fn parse(layout: &str, value: &str) -> Result<Instant, ParseError> {
    let err = |layout_elem: &[u8], value_elem: &[u8], message: String| ParseError {
        layout: layout.to_owned(),
        value: value.to_owned(),
        layout_elem: lossy(layout_elem),
        value_elem: lossy(value_elem),
        message,
    };
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm_set, mut am_set) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name = String::new();
    let mut lay = layout.as_bytes();
    let mut val = value.as_bytes();
    loop {
        let chunk = next_chunk(lay);
        let (prefix, std_text, std, suffix) = match chunk {
            Some((p, std, s)) => (&lay[..p], &lay[p..s], Some(std), &lay[s..]),
            None => (lay, &lay[lay.len()..], None, &lay[lay.len()..]),
        };
        val = skip(val, prefix).map_err(|v| err(prefix, v, String::new()))?;
        let Some(std) = std else {
            if !val.is_empty() {
                return Err(err(
                    b"",
                    val,
                    format!(": extra text: {}", quote(&lossy(val))),
                ));
            }
            break;
        };
        lay = suffix;
        let mut hold = val;
        let mut range_err: Option<&str> = None;
        let mut ok = true;
        match std {
            Std::Year => {
                if val.len() < 2 || !val[..2].iter().all(u8::is_ascii_digit) {
                    ok = false;
                } else {
                    let y = i64::from(val[0] - b'0') * 10 + i64::from(val[1] - b'0');
                    year = if y >= 69 { y + 1900 } else { y + 2000 };
                    val = &val[2..];
                }
            }
            Std::LongYear => {
                if val.len() < 4 || !val[..4].iter().all(u8::is_ascii_digit) {
                    ok = false;
                } else {
                    year = std::str::from_utf8(&val[..4])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    val = &val[4..];
                }
            }
            Std::Month | Std::LongMonth => {
                match lookup_name(&LONG_MONTHS, val, std == Std::Month) {
                    Some((i, rest)) => {
                        month = i as i64 + 1;
                        val = rest;
                    }
                    None => ok = false,
                }
            }
            Std::NumMonth | Std::ZeroMonth => match getnum(val, std == Std::ZeroMonth) {
                Some((m, rest)) => {
                    month = m;
                    val = rest;
                    if !(1..=12).contains(&m) {
                        range_err = Some("month");
                    }
                }
                None => ok = false,
            },
            Std::WeekDay | Std::LongWeekDay => {
                match lookup_name(&LONG_DAYS, val, std == Std::WeekDay) {
                    Some((_, rest)) => val = rest,
                    None => ok = false,
                }
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && val.first() == Some(&b' ') {
                    val = &val[1..];
                }
                match getnum(val, std == Std::ZeroDay) {
                    Some((d, rest)) => {
                        day = d;
                        val = rest;
                    }
                    None => ok = false,
                }
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && val.first() == Some(&b' ') {
                        val = &val[1..];
                    }
                }
                match getnum3(val, std == Std::ZeroYearDay) {
                    Some((d, rest)) => {
                        yday = d;
                        val = rest;
                        if !(1..=366).contains(&d) {
                            range_err = Some("day-of-year");
                        }
                    }
                    None => ok = false,
                }
            }
            Std::Hour => match getnum(val, false) {
                Some((h, rest)) => {
                    hour = h;
                    val = rest;
                    if !(0..24).contains(&h) {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Hour12 | Std::ZeroHour12 => match getnum(val, std == Std::ZeroHour12) {
                Some((h, rest)) => {
                    hour = h;
                    val = rest;
                    if !(0..=12).contains(&h) {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Minute | Std::ZeroMinute => match getnum(val, std == Std::ZeroMinute) {
                Some((m, rest)) => {
                    min = m;
                    val = rest;
                    if !(0..60).contains(&m) {
                        range_err = Some("minute");
                    }
                }
                None => ok = false,
            },
            Std::Second | Std::ZeroSecond => match getnum(val, std == Std::ZeroSecond) {
                Some((s, rest)) => {
                    sec = s;
                    val = rest;
                    if !(0..60).contains(&s) {
                        range_err = Some("second");
                    } else if val.len() >= 2
                        && matches!(val[0], b'.' | b',')
                        && is_digit_at(val, 1)
                        && !matches!(next_chunk(lay), Some((_, Std::Frac { .. }, _)))
                    {
                        // A fraction the layout does not mention is still taken.
                        let mut n = 2;
                        while is_digit_at(val, n) {
                            n += 1;
                        }
                        match parse_nanos(val, n) {
                            Ok(ns) => nsec = ns,
                            Err(()) => ok = false,
                        }
                        val = &val[n..];
                    }
                }
                None => ok = false,
            },
            Std::Pm | Std::PmLower => {
                let (p, a) = if std == Std::Pm {
                    (b"PM", b"AM")
                } else {
                    (b"pm", b"am")
                };
                if val.len() < 2 {
                    ok = false;
                } else if &val[..2] == p {
                    pm_set = true;
                    val = &val[2..];
                } else if &val[..2] == a {
                    am_set = true;
                    val = &val[2..];
                } else {
                    // Go has already taken the two bytes when it rejects them.
                    hold = &val[2..];
                    ok = false;
                }
            }
            Std::NumTz {
                iso,
                colon,
                secs,
                short,
            } => {
                if iso && val.first() == Some(&b'Z') {
                    val = &val[1..];
                    utc = true;
                } else {
                    let parts: Option<ZoneParts<'_>> = if colon && !secs {
                        (val.len() >= 6 && val[3] == b':')
                            .then(|| (&val[..1], &val[1..3], &val[4..6], &b"00"[..], 6))
                    } else if short {
                        (val.len() >= 3).then(|| (&val[..1], &val[1..3], &b"00"[..], &b"00"[..], 3))
                    } else if colon && secs {
                        (val.len() >= 9 && val[3] == b':' && val[6] == b':')
                            .then(|| (&val[..1], &val[1..3], &val[4..6], &val[7..9], 9))
                    } else if secs {
                        (val.len() >= 7).then(|| (&val[..1], &val[1..3], &val[3..5], &val[5..7], 7))
                    } else {
                        (val.len() >= 5).then(|| (&val[..1], &val[1..3], &val[3..5], &b"00"[..], 5))
                    };
                    match parts {
                        Some((sign, hh, mm, ss, used)) => {
                            let nums = (getnum(hh, true), getnum(mm, true), getnum(ss, true));
                            match (sign[0], nums) {
                                (s @ (b'+' | b'-'), (Some((h, _)), Some((m, _)), Some((x, _)))) => {
                                    let off = (h * 60 + m) * 60 + x;
                                    zone_offset = Some(if s == b'-' { -off } else { off });
                                    val = &val[used..];
                                }
                                _ => ok = false,
                            }
                        }
                        None => ok = false,
                    }
                }
            }
            Std::Tz => {
                if val.starts_with(b"UTC") {
                    utc = true;
                    val = &val[3..];
                } else {
                    match zone_name_len(val) {
                        Some(n) => {
                            zone_name = lossy(&val[..n]);
                            val = &val[n..];
                        }
                        None => ok = false,
                    }
                }
            }
            Std::Frac { digits, trim, .. } => {
                if !trim {
                    let n = 1 + digits;
                    if val.len() < n {
                        ok = false;
                    } else {
                        match parse_nanos(val, n) {
                            Ok(ns) => nsec = ns,
                            Err(()) => ok = false,
                        }
                        val = &val[n..];
                    }
                } else if val.len() >= 2 && matches!(val[0], b'.' | b',') && is_digit_at(val, 1) {
                    let mut i = 0;
                    while is_digit_at(val, i + 1) {
                        i += 1;
                    }
                    match parse_nanos(val, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(()) => ok = false,
                    }
                    val = &val[1 + i..];
                }
            }
        }
        if let Some(what) = range_err {
            return Err(err(std_text, val, format!(": {what} out of range")));
        }
        if !ok {
            return Err(err(std_text, hold, String::new()));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    let rest = |msg: &str| err(b"", b"", msg.to_owned());
    if yday >= 0 {
        let (mut m, mut d) = (0i64, 0i64);
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(rest(": day-of-year out of range"));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(rest(": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(rest(": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    let month_u = month as u32;
    if day < 1 || day > i64::from(days_in(month_u, year)) {
        return Err(rest(": day out of range"));
    }
    let wall = days_from_civil(year, month_u, day as u32) * DAY + hour * 3600 + min * 60 + sec;
    let nanos = nsec as u32;
    if utc {
        return Ok(Instant {
            unix: wall,
            nanos,
            offset: 0,
            zone: "UTC".into(),
        });
    }
    if let Some(off) = zone_offset {
        // The local zone (UTC) is used when the offset is its own.
        let (offset, zone) = if off == 0 && zone_name.is_empty() {
            (0, "UTC".to_owned())
        } else {
            (off as i32, zone_name)
        };
        return Ok(Instant {
            unix: wall - off,
            nanos,
            offset,
            zone,
        });
    }
    if !zone_name.is_empty() {
        // An abbreviation the local zone does not know keeps the wall clock
        // and records the name with offset zero (GMT+h aside).
        // "GMT+3" names its offset; the instant still keeps the wall clock as UTC, as Go's does.
        let offset = zone_name
            .strip_prefix("GMT")
            .filter(|rest| !rest.is_empty())
            .and_then(|rest| rest.parse::<i32>().ok())
            .map_or(0, |h| h * 3600);
        return Ok(Instant {
            unix: wall,
            nanos,
            offset,
            zone: zone_name,
        });
    }
    Ok(Instant {
        unix: wall,
        nanos,
        offset: 0,
        zone: "UTC".into(),
    })
}

/// Go's `time.ParseDuration`: the duration in nanoseconds, or Go's error text.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > (1u64 << 63) / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > 1u64 << 63 {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut j = 0;
            let mut overflow = false;
            while j < s.len() && s[j].is_ascii_digit() {
                if !overflow {
                    if f > (1u64 << 63) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[j] - b'0');
                        if y > 1u64 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                j += 1;
            }
            post = j > 0;
            s = &s[j..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let u = s
            .iter()
            .take_while(|c| !(**c == b'.' || c.is_ascii_digit()))
            .count();
        if u == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let unit_text = &s[..u];
        s = &s[u..];
        let unit: u64 = match unit_text {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(&lossy(unit_text)),
                    quote(orig)
                ));
            }
        };
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1u64 << 63 {
                return Err(invalid());
            }
        }
        d += v;
        if d > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// `u / 10^prec` with the fraction printed without trailing zeros.
fn frac(u: u64, prec: u32) -> String {
    let p = 10u64.pow(prec);
    let whole = u / p;
    let f = format!("{:0width$}", u % p, width = prec as usize);
    let f = f.trim_end_matches('0');
    if f.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{f}")
    }
}

/// Go's `time.Duration.String()` of `d` nanoseconds.
pub fn format_duration(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let body = if u < 1_000_000_000 {
        match u {
            0 => return "0s".into(),
            u if u < 1_000 => format!("{u}ns"),
            u if u < 1_000_000 => format!("{}µs", frac(u, 3)),
            u => format!("{}ms", frac(u, 6)),
        }
    } else {
        let secs = u / 1_000_000_000;
        let rem = u % 1_000_000_000;
        let s = frac((secs % 60) * 1_000_000_000 + rem, 9);
        let mins = secs / 60;
        if mins == 0 {
            format!("{s}s")
        } else if mins < 60 {
            format!("{}m{s}s", mins)
        } else {
            format!("{}h{}m{s}s", mins / 60, mins % 60)
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// Go's `Duration.Round(m)` for positive `m`.
pub fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let half = |x: i64| (x as u64).wrapping_add(x as u64) < m as u64;
    let r = d % m;
    if d < 0 {
        let r = -r;
        if half(r) {
            return d + r;
        }
        d.checked_sub(m - r).unwrap_or(i64::MIN)
    } else {
        if half(r) {
            return d - r;
        }
        d.checked_add(m - r).unwrap_or(i64::MAX)
    }
}

/// A time zone: UTC, or the transitions of a TZif file.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Transition instants (Unix seconds), ascending.
    transitions: Vec<i64>,
    /// For each transition, the index into `types` in effect from then on.
    transition_types: Vec<usize>,
    /// (offset seconds east of UTC, is DST, abbreviation).
    types: Vec<(i32, bool, String)>,
}

impl Location {
    /// UTC (also the local zone of this crate).
    pub fn utc() -> Location {
        Location {
            transitions: Vec::new(),
            transition_types: Vec::new(),
            types: vec![(0, false, "UTC".into())],
        }
    }

    /// Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the local
    /// zone (UTC here), other names are read from the zoneinfo directory.
    /// None when the name is invalid or unknown.
    pub fn load(name: &str) -> Option<Location> {
        if name.is_empty() || name == "UTC" || name == "Local" {
            return Some(Location::utc());
        }
        if name.starts_with('/') || name.contains("..") || name.contains('\\') {
            return None;
        }
        let dirs = [
            std::env::var("ZONEINFO").unwrap_or_default(),
            "/usr/share/zoneinfo".to_owned(),
            "/usr/share/lib/zoneinfo".to_owned(),
            "/usr/lib/locale/TZ".to_owned(),
        ];
        dirs.iter()
            .filter(|d| !d.is_empty())
            .find_map(|d| std::fs::read(std::path::Path::new(d).join(name)).ok())
            .and_then(|bytes| Location::from_tzif(&bytes))
    }

    /// Parses a TZif file (versions 1 to 4), preferring the 64-bit data.
    pub fn from_tzif(data: &[u8]) -> Option<Location> {
        let header = |d: &[u8]| -> Option<[usize; 6]> {
            if d.len() < 44 || &d[..4] != b"TZif" {
                return None;
            }
            let mut counts = [0usize; 6];
            for (i, c) in counts.iter_mut().enumerate() {
                let at = 20 + i * 4;
                *c = u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?) as usize;
            }
            Some(counts)
        };
        let [isutc, isstd, leap, timecnt, typecnt, charcnt] = header(data)?;
        let v1_len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isutc;
        let (body, wide) = if data[4] >= b'2' {
            let second = data.get(44 + v1_len..)?;
            (second, true)
        } else {
            (data, false)
        };
        let [_, _, _, timecnt, typecnt, charcnt] = header(body)?;
        let tsize = if wide { 8 } else { 4 };
        let mut at = 44;
        let mut transitions = Vec::with_capacity(timecnt);
        for _ in 0..timecnt {
            let b = body.get(at..at + tsize)?;
            let t = if wide {
                i64::from_be_bytes(b.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(b.try_into().ok()?))
            };
            transitions.push(t);
            at += tsize;
        }
        let transition_types: Vec<usize> = body
            .get(at..at + timecnt)?
            .iter()
            .map(|b| usize::from(*b))
            .collect();
        at += timecnt;
        let mut raw_types = Vec::with_capacity(typecnt);
        for _ in 0..typecnt {
            let b = body.get(at..at + 6)?;
            let off = i32::from_be_bytes(b[..4].try_into().ok()?);
            raw_types.push((off, b[4] != 0, usize::from(b[5])));
            at += 6;
        }
        let chars = body.get(at..at + charcnt)?;
        let types = raw_types
            .into_iter()
            .map(|(off, dst, idx)| {
                let name = chars.get(idx..).unwrap_or_default();
                let end = name.iter().position(|c| *c == 0).unwrap_or(name.len());
                (off, dst, lossy(&name[..end]))
            })
            .collect::<Vec<_>>();
        if types.is_empty() || transition_types.iter().any(|t| *t >= types.len()) {
            return None;
        }
        Some(Location {
            transitions,
            transition_types,
            types,
        })
    }

    /// The offset and abbreviation in effect at `unix` seconds.
    pub fn lookup(&self, unix: i64) -> (i32, &str) {
        let idx = match self.transitions.partition_point(|t| *t <= unix) {
            0 => self.types.iter().position(|t| !t.1).unwrap_or_default(),
            n => self.transition_types[n - 1],
        };
        let (off, _, name) = &self.types[idx];
        (*off, name)
    }
}

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

    #[test]
    fn parses_like_go() {
        let p = parse("2006-01-02T15:04:05Z07:00", "2017-12-31T10:00:00+02:00").expect("valid");
        assert_eq!(
            (p.unix, p.offset, p.zone.as_str()),
            (1_514_707_200, 7200, "")
        );
        let p = parse("Jan _2 2006 3:04PM", "Dec  3 2017 11:30PM").expect("valid");
        assert_eq!(
            format(STRING_LAYOUT, p.unix, p.nanos, 0, "UTC"),
            "2017-12-03 23:30:00 +0000 UTC"
        );
        assert_eq!(
            parse("2006-01-02", "x").expect_err("bad").to_string(),
            r#"parsing time "x" as "2006-01-02": cannot parse "x" as "2006""#
        );
        assert_eq!(
            parse("2006-01-02", "2017-02-30")
                .expect_err("bad")
                .to_string(),
            r#"parsing time "2017-02-30": day out of range"#
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_duration("3µs"), Ok(3_000));
        assert_eq!(
            parse_duration("3x"),
            Err(r#"time: unknown unit "x" in duration "3x""#.into())
        );
        assert_eq!(
            parse_duration(""),
            Err(r#"time: invalid duration """#.into())
        );
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(1_500), "1.5µs");
        assert_eq!(format_duration(95_000_000_000), "1m35s");
        assert_eq!(format_duration(-86_400_000_000_000), "-24h0m0s");
        assert_eq!(format_duration(1_000_000_001), "1.000000001s");
        assert_eq!(round_duration(1_499_999_999, 1_000_000_000), 1_000_000_000);
        assert_eq!(
            round_duration(-1_500_000_000, 1_000_000_000),
            -2_000_000_000
        );
    }

    #[test]
    fn zones_from_tzif() {
        let Some(berlin) = Location::load("Europe/Berlin") else {
            // No zoneinfo on this machine: Go falls back to UTC as well.
            return;
        };
        assert_eq!(berlin.lookup(1_600_000_000), (7200, "CEST"));
        assert_eq!(berlin.lookup(1_610_000_000), (3600, "CET"));
        assert!(Location::load("Not/AZone").is_none());
        assert!(Location::load("../etc/passwd").is_none());
    }
}
