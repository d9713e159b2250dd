//! The small byte scanners `time.Parse` is built from (Go's `getnum`, `lookup`, `skip`,
//! `parseNanoseconds` and the zone-name rules), and Go's `time.quote` for error text.

use std::fmt::Write as _;

use super::is_digit_at;

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
pub(super) type ZoneParts<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], usize);

/// Reads a one- or two-digit number; `fixed` demands two digits.
pub(super) fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
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
pub(super) fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
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
pub(super) fn lookup_name<'a>(
    names: &[&str],
    s: &'a [u8],
    short: bool,
) -> Option<(usize, &'a [u8])> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if short { &name[..3] } else { name };
        let len = name.len();
        (s.len() >= len && s[..len].eq_ignore_ascii_case(name.as_bytes())).then(|| (i, &s[len..]))
    })
}

pub(super) fn parse_nanos(value: &[u8], nbytes: usize) -> Result<i64, ()> {
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
pub(super) fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
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
pub(super) fn zone_name_len(value: &[u8]) -> Option<usize> {
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

pub(super) fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}
