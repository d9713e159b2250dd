//! Go's literal syntax as the parser reads it: `strconv.Unquote` for string and character
//! literals and the number rules of `parse/node.go` (`NewNumber`: bases, underscores, runes,
//! int/float/complex).

use crate::lex::ItemType;
use crate::node::Number;

/// Go's `strconv.Unquote` for a double-quoted, back-quoted or single-quoted literal.
pub fn unquote(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let q = b[0];
    if b[b.len() - 1] != q {
        return None;
    }
    let body = &s[1..s.len() - 1];
    match q {
        b'`' => {
            if body.contains('`') {
                return None;
            }
            Some(body.replace('\r', ""))
        }
        b'"' | b'\'' => {
            let mut out: Vec<u8> = Vec::with_capacity(body.len());
            let mut rest = body;
            let mut count = 0;
            while !rest.is_empty() {
                let (bytes, tail) = unquote_char(rest, q)?;
                out.extend_from_slice(&bytes);
                rest = tail;
                count += 1;
            }
            if q == b'\'' && count != 1 {
                return None;
            }
            Some(String::from_utf8_lossy(&out).into_owned())
        }
        _ => None,
    }
}

/// One (possibly escaped) character of a quoted literal: its bytes and the rest.
fn unquote_char(s: &str, q: u8) -> Option<(Vec<u8>, &str)> {
    let c = s.chars().next()?;
    if c as u32 == u32::from(q) && q != b'`' {
        return None;
    }
    if c == '\n' {
        return None;
    }
    if c != '\\' {
        let mut buf = [0u8; 4];
        return Some((
            c.encode_utf8(&mut buf).as_bytes().to_vec(),
            &s[c.len_utf8()..],
        ));
    }
    let rest = &s[1..];
    let e = *rest.as_bytes().first()?;
    let simple = match e {
        b'a' => Some(7u8),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' => Some(b'\\'),
        b'\'' | b'"' => {
            if e != q {
                return None;
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(v) = simple {
        return Some((vec![v], &rest[1..]));
    }
    match e {
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = rest.get(1..1 + n)?;
            let v = u32::from_str_radix(hex, 16).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let tail = &rest[1 + n..];
            if e == b'x' {
                // A single byte; in a character constant it is the rune value.
                if q == b'\'' {
                    let c = char::from_u32(v)?;
                    let mut buf = [0u8; 4];
                    return Some((c.encode_utf8(&mut buf).as_bytes().to_vec(), tail));
                }
                return Some((vec![v as u8], tail));
            }
            let c = char::from_u32(v)?;
            let mut buf = [0u8; 4];
            Some((c.encode_utf8(&mut buf).as_bytes().to_vec(), tail))
        }
        b'0'..=b'7' => {
            let oct = rest.get(0..3)?;
            if !oct.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return None;
            }
            let v = u32::from_str_radix(oct, 8).ok()?;
            if v > 255 {
                return None;
            }
            Some((vec![v as u8], &rest[3..]))
        }
        _ => None,
    }
}

/// Removes Go's digit separators if they are placed legally.
fn strip_underscores(s: &str) -> Option<String> {
    if !s.contains('_') {
        return Some(s.to_string());
    }
    if s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    Some(s.replace('_', ""))
}

/// Go's `strconv.ParseInt(s, 0, 64)`-like parsing of the magnitude with sign.
fn parse_int_literal(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let body = strip_underscores(body)?;
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(&digits, radix).ok()?;
    if v > u128::from(u64::MAX) + 1 {
        return None;
    }
    let v = v as i128;
    Some(if neg { -v } else { v })
}

/// Go's `parse.newNumber`: the int, uint and float interpretations of a literal.
pub fn parse_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        int: 0,
        uint: 0,
        float: 0.0,
        is_complex: false,
    };
    match typ {
        ItemType::CharConstant => {
            let s = unquote(text).ok_or_else(|| "invalid syntax".to_string())?;
            let c = s
                .chars()
                .next()
                .ok_or_else(|| format!("malformed character constant: {text}"))?;
            let r = c as u32;
            n.is_int = true;
            n.is_uint = true;
            n.is_float = true;
            n.int = i64::from(r);
            n.uint = u64::from(r);
            n.float = f64::from(r);
            return Ok(n);
        }
        ItemType::Complex => {
            n.is_complex = true;
            return Ok(n);
        }
        _ => {}
    }
    if text.ends_with('i') {
        n.is_complex = true;
        return Ok(n);
    }
    if let Some(v) = parse_int_literal(text) {
        if (0..=i128::from(u64::MAX)).contains(&v) && !text.starts_with('-') {
            n.is_uint = true;
            n.uint = v as u64;
        }
        if (i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(&v) {
            n.is_int = true;
            n.int = v as i64;
            if v == 0 {
                n.is_uint = true;
                n.uint = 0;
            }
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else {
        let clean = strip_underscores(text).unwrap_or_default();
        let is_hex = clean
            .to_ascii_lowercase()
            .trim_start_matches(['+', '-'])
            .starts_with("0x");
        if !is_hex && let Ok(f) = clean.parse::<f64>() {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {}", crate::fmt::quote(text)));
            }
            if f.is_infinite() {
                return Err(format!(
                    "illegal number syntax: {}",
                    crate::fmt::quote(text)
                ));
            }
            n.is_float = true;
            n.float = f;
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                n.is_int = true;
                n.int = f as i64;
            }
            if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
                n.is_uint = true;
                n.uint = f as u64;
            }
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::fmt::quote(text)
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let n = parse_number("0x10", ItemType::Number).expect("valid");
        assert!(n.is_int && n.int == 16);
        let n = parse_number("1e3", ItemType::Number).expect("valid");
        assert!(n.is_float && n.is_int && n.int == 1000);
        let n = parse_number("'a'", ItemType::CharConstant).expect("valid");
        assert_eq!(n.int, 97);
        assert!(parse_number("99999999999999999999", ItemType::Number).is_err());
        assert_eq!(unquote("\"a\\tb\\x41\\u00e9\"").as_deref(), Some("a\tbAé"));
    }
}
