//! Docker's RFC 3339 times as sortable instants, for the newest-first order of containers.
//!
//! Docker trims trailing zeros of the fraction (`…29.0956Z`), so its strings do not sort as
//! text; a parsed [`Timestamp`] does.

/// An instant as (seconds since the Unix epoch, nanoseconds), for ordering only.
///
/// Docker trims trailing zeros of the fraction (`…29.0956Z`), so its strings do not sort
/// as text; this does. Unparsable or missing times sort as the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    secs: i64,
    /// Nanoseconds within the second.
    nanos: u32,
}

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub(crate) fn unix_millis(self) -> i64 {
        self.secs * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the form Docker uses.
    pub(super) fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let kept = &frac[..digits.min(9)];
            // Pad to nanoseconds: "0956" means 095_600_000 ns.
            nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                    return None;
                }
                let h: i64 = rest[1..3].parse().ok()?;
                let m: i64 = rest[4..6].parse().ok()?;
                sign * (h * 3600 + m * 60)
            }
        };
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp { secs, nanos })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_numerically_not_as_text() {
        let short = Timestamp::parse("2026-11-25T09:20:29.0956Z").expect("valid");
        let long = Timestamp::parse("2026-11-25T09:20:29.095605542Z").expect("valid");
        assert!(short < long);
        let epoch = Timestamp::parse("1970-01-01T00:00:00Z").expect("valid");
        assert_eq!(epoch, Timestamp { secs: 0, nanos: 0 });
        let offset = Timestamp::parse("1970-01-01T02:00:00+02:00").expect("valid");
        assert_eq!(offset, epoch);
        let leap = Timestamp::parse("2024-03-01T00:00:00Z").expect("valid");
        assert_eq!(leap.secs, 1_709_251_200);
        assert_eq!(Timestamp::parse("yesterday"), None);
        assert_eq!(Timestamp::parse("2024-13-01T00:00:00Z"), None);
    }
}
