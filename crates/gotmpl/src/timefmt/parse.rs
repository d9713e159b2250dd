//! Go's `time.ParseInLocation` with the local zone UTC: walks a layout and a value side by side
//! and returns the instant, or an error worded as Go words it.

use super::scan::{
    ZoneParts, getnum, getnum3, lookup_name, lossy, parse_nanos, quote, skip, zone_name_len,
};
use super::{
    DAY, DAYS_BEFORE, LONG_DAYS, LONG_MONTHS, Std, days_from_civil, days_in, is_digit_at, is_leap,
    next_chunk,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::{STRING_LAYOUT, format};

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
}
