//! How `toYaml` writes one string, as gopkg.in/yaml.v3 decides it: plain when the text reads
//! back as the same string (its resolver: not a boolean, null, number, timestamp, old YAML 1.1
//! boolean or base 60 float), double-quoted when it would read as another type, single-quoted
//! when an indicator or a leading or trailing space forbids plain (libyaml's scalar analysis),
//! a literal block for several lines, double-quoted with escapes for control characters.

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What the characters of a scalar allow (libyaml's scalar analysis).
#[derive(Debug)]
struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t'))
}

pub(super) fn is_printable(c: char) -> bool {
    c == '\n'
        || (' '..='~').contains(&c)
        || ('\u{A0}'..='\u{D7FF}').contains(&c)
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading, mut trailing_space, mut trailing_break) = (false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut preceded_by_ws, mut previous_space, mut previous_break) = (true, false, false);
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = i + 1 >= chars.len() || is_blank(chars.get(i + 1).copied());
        let last = i + 1 == chars.len();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else if (c == ':' && followed_by_ws) || (c == '#' && preceded_by_ws) {
            block_indicators = true;
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(c) {
            breaks = true;
            leading |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c) || c == '\0';
    }
    let mut a = Analysis {
        multiline: breaks,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading || trailing_space || trailing_break || breaks || block_indicators {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space || space_break || tabs || special {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.block = false;
    }
    a
}

/// Go's `strconv.ParseInt`/`ParseUint` with base 0 (a sign, `0x`, `0o`, `0b` or a leading `0`).
fn is_go_int(s: &str) -> bool {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u128::from_str_radix(digits, radix) {
        Ok(v) if negative => v <= 1u128 << 63,
        Ok(v) => v <= u128::from(u64::MAX),
        Err(_) => false,
    }
}

/// yaml.v3's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// yaml.v3's timestamps: `YYYY-M-D`, optionally followed by a time (see `parseTimestamp`).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let num = |t: &str, max: usize| {
        !t.is_empty() && t.len() <= max && t.bytes().all(|c| c.is_ascii_digit())
    };
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((b[i], &s[i + 1..]))),
        None => (s, None),
    };
    let mut parts = date[5..].split('-');
    let (Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if !num(m, 2) || !num(d, 2) {
        return false;
    }
    // time.Parse checks the ranges: a month of the year, a day of that month.
    let (year, month, day): (u32, u32, u32) = (
        date[..4].parse().unwrap_or_default(),
        m.parse().unwrap_or_default(),
        d.parse().unwrap_or_default(),
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let Some((sep, time)) = time else {
        return true;
    };
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let clock = clock
        .split_once('.')
        .map_or(clock, |(c, frac)| if num(frac, 9) { c } else { "" });
    let mut hms = clock.split(':');
    let below = |t: &str, n: u32| t.parse::<u32>().is_ok_and(|v| v < n);
    let clock_ok = matches!((hms.next(), hms.next(), hms.next(), hms.next()),
        (Some(h), Some(mi), Some(se), None) if num(h, 2) && num(mi, 2) && num(se, 2)
            && below(h, 24) && below(mi, 60) && below(se, 60));
    let zone_ok = match (sep, zone) {
        (b' ', None) => true,
        (b' ', Some(_)) => false,
        (_, Some("Z")) => true,
        (_, Some(z)) => z.len() == 6 && num(&z[1..3], 2) && &z[3..4] == ":" && num(&z[4..], 2),
        (_, None) => false,
    };
    clock_ok && zone_ok
}

/// Whether yaml.v3 reads `s`, unquoted, as a string (and not as an old YAML 1.1 boolean or a
/// base 60 float, which it quotes too).
fn reads_as_string(s: &str) -> bool {
    const OLD_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
        "OFF",
    ];
    const SPECIAL: [&str; 23] = [
        "true", "True", "TRUE", "false", "False", "FALSE", "", "~", "null", "Null", "NULL", ".nan",
        ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
        "-.INF",
    ];
    if OLD_BOOLS.contains(&s) || is_base60(s) {
        return false;
    }
    let Some(first) = s.bytes().next() else {
        return false;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            !SPECIAL.contains(&s)
        }
        b'.' => !SPECIAL.contains(&s) && s.parse::<f64>().is_err(),
        b'+' | b'-' | b'0'..=b'9' => {
            if SPECIAL.contains(&s) || is_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            !(is_go_int(&plain) || is_yaml_float(&plain))
        }
        _ => true,
    }
}

/// yaml.v3's base 60 floats (`1:20`), which it quotes for YAML 1.1 readers.
fn is_base60(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let Some((head, rest)) = body.split_once(':') else {
        return false;
    };
    let digits_ = |t: &str| t.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !head.starts_with(|c: char| c.is_ascii_digit()) || !digits_(head) {
        return false;
    }
    let (groups, frac) = match rest.split_once('.') {
        Some((g, f)) => (g, Some(f)),
        None => (rest, None),
    };
    groups.split(':').all(|g| {
        let b = g.as_bytes();
        match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        }
    }) && frac.is_none_or(digits_)
}

pub(super) fn style_of(s: &str, simple_key: bool) -> Style {
    let requested = if s.contains('\n') {
        Style::Literal
    } else if reads_as_string(s) {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}
