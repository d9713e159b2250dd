//! sprig's date functions: `now`, `date`/`dateInZone`/`htmlDate`... (Go layout strings, see
//! `timefmt`), `toDate`/`mustToDate` (Go's `time.ParseInLocation`), `dateModify` (Go
//! durations), `duration`, `durationRound`, `ago`, `unixEpoch`.
//!
//! Go's "local" zone, which `date`, `toDate` and `now` use, is UTC here, so output does not
//! depend on the host's zone (Go's expected outputs are recorded with `TZ=UTC`). A date given
//! as an int is Unix seconds; any other non-time value means "now", as in sprig.

use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{FuncError, Value, text};
use crate::funcs::{FuncMap, Param, Signature};
use crate::timefmt::{self, Location};
use crate::value::Time;

const NANOS: i128 = 1_000_000_000;

/// The current time, in the local zone (UTC).
pub(super) fn now() -> Time {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time::utc(d.as_secs() as i64, d.subsec_nanos())
}

fn total_nanos(t: &Time) -> i128 {
    i128::from(t.secs) * NANOS + i128::from(t.nanos)
}

/// `t.Add(d)`, keeping the zone.
fn add(t: &Time, d: i64) -> Time {
    let total = total_nanos(t) + i128::from(d);
    Time {
        secs: total.div_euclid(NANOS) as i64,
        nanos: total.rem_euclid(NANOS) as u32,
        offset: t.offset,
        zone: t.zone.clone(),
    }
}

/// `time.Since(t)` in nanoseconds, saturating like Go's durations.
fn since(t: &Time) -> i64 {
    let d = total_nanos(&now()) - total_nanos(t);
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// sprig's date argument: a time, Unix seconds, or (anything else) now.
fn date_arg(v: &Value) -> Time {
    match v {
        Value::Time(t) => t.clone(),
        Value::Int(secs) => Time::utc(*secs, 0),
        _ => now(),
    }
}

/// sprig's `dateInZone`: an unknown zone falls back to UTC.
fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = date_arg(date);
    let loc = Location::load(zone).unwrap_or_else(Location::utc);
    let (offset, abbrev) = loc.lookup(t.secs);
    timefmt::format(layout, t.secs, t.nanos, offset, abbrev)
}

fn to_date(layout: &str, value: &str) -> Result<Time, FuncError> {
    let p = timefmt::parse(layout, value).map_err(|e| FuncError(e.to_string()))?;
    Ok(Time {
        secs: p.unix,
        nanos: p.nanos,
        offset: p.offset,
        zone: Rc::from(p.zone.as_str()),
    })
}

/// Go's zero `time.Time`: January 1, year 1, 00:00:00 UTC.
fn zero_time() -> Time {
    Time::utc(-62_135_596_800, 0)
}

/// sprig's `durationRound`: the largest whole unit, years of 365 days and months of 30.
fn duration_round(v: &Value) -> String {
    let d: i64 = match v {
        Value::String(s) => timefmt::parse_duration(s).unwrap_or(0),
        Value::Time(t) => since(t),
        _ => 0,
    };
    let u = d.unsigned_abs();
    const HOUR: u64 = 3_600_000_000_000;
    let units: [(u64, &str); 6] = [
        (HOUR * 24 * 365, "y"),
        (HOUR * 24 * 30, "mo"),
        (HOUR * 24, "d"),
        (HOUR, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
    ];
    units.iter().find(|(size, _)| u > *size).map_or_else(
        || "0s".to_owned(),
        |(size, name)| format!("{}{name}", u / size),
    )
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str, Time as T};
    m.insert("now", Signature::fixed(&[]), |_| Ok(Value::Time(now())));
    m.insert("date", Signature::fixed(&[Str, Any]), |a| {
        Ok(Value::from(date_in_zone(text(&a[0]), &a[1], "Local")))
    });
    for name in ["dateInZone", "date_in_zone"] {
        m.insert(name, Signature::fixed(&[Str, Any, Str]), |a| {
            Ok(Value::from(date_in_zone(text(&a[0]), &a[1], text(&a[2]))))
        });
    }
    m.insert("htmlDate", Signature::fixed(&[Any]), |a| {
        Ok(Value::from(date_in_zone("2006-01-02", &a[0], "Local")))
    });
    m.insert("htmlDateInZone", Signature::fixed(&[Any, Str]), |a| {
        Ok(Value::from(date_in_zone("2006-01-02", &a[0], text(&a[1]))))
    });
    for name in ["dateModify", "date_modify"] {
        m.insert(name, Signature::fixed(&[Str, T]), |a| {
            let Value::Time(t) = &a[1] else {
                return Ok(a[1].clone());
            };
            Ok(Value::Time(match timefmt::parse_duration(text(&a[0])) {
                Ok(d) => add(t, d),
                Err(_) => t.clone(),
            }))
        });
    }
    for name in ["mustDateModify", "must_date_modify"] {
        m.insert(name, Signature::fixed(&[Str, T]), |a| {
            let Value::Time(t) = &a[1] else {
                return Ok(a[1].clone());
            };
            let d = timefmt::parse_duration(text(&a[0])).map_err(FuncError)?;
            Ok(Value::Time(add(t, d)))
        });
    }
    m.insert("ago", Signature::fixed(&[Any]), |a| {
        let d = timefmt::round_duration(since(&date_arg(&a[0])), 1_000_000_000);
        Ok(Value::from(timefmt::format_duration(d)))
    });
    m.insert("duration", Signature::fixed(&[Any]), |a| {
        let secs: i64 = match &a[0] {
            Value::String(s) => s.parse().unwrap_or(0),
            // sprig also takes an int64, which templates only get from Go code: a Go `int`
            // (and so every integer here) is 0, as in sprig.
            _ => 0,
        };
        Ok(Value::from(timefmt::format_duration(
            secs.wrapping_mul(1_000_000_000),
        )))
    });
    m.insert("durationRound", Signature::fixed(&[Any]), |a| {
        Ok(Value::from(duration_round(&a[0])))
    });
    m.insert("toDate", Signature::fixed(&[Str, Str]), |a| {
        Ok(Value::Time(
            to_date(text(&a[0]), text(&a[1])).unwrap_or_else(|_| zero_time()),
        ))
    });
    m.insert("mustToDate", Signature::fixed(&[Str, Str]), |a| {
        to_date(text(&a[0]), text(&a[1])).map(Value::Time)
    });
    m.insert("unixEpoch", Signature::fixed(&[T]), |a| {
        let secs = if let Value::Time(t) = &a[0] {
            t.secs
        } else {
            0
        };
        Ok(Value::from(secs.to_string()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_rounding() {
        let t = Value::Int(1_600_000_000);
        assert_eq!(date_in_zone("15:04 MST", &t, "UTC"), "12:26 UTC");
        assert_eq!(date_in_zone("15:04 MST", &t, "Not/AZone"), "12:26 UTC");
        assert_eq!(duration_round(&Value::str("2h10m")), "2h");
        assert_eq!(duration_round(&Value::str("-400h")), "16d");
        assert_eq!(duration_round(&Value::Int(5)), "0s");
        assert_eq!(zero_time().to_string(), "0001-01-01 00:00:00 +0000 UTC");
    }
}
