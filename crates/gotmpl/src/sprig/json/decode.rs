//! `fromJson`'s parser: `json.Unmarshal` into `interface{}`, every number a float64, with the
//! syntax error texts of Go's JSON scanner.

use std::collections::BTreeMap;

use crate::sprig::MAX_DEPTH;
use crate::value::Value;

/// Go's `quoteChar` for scanner errors.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = crate::fmt::quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// A JSON parser with Go's `encoding/json` error texts.
struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

type Parsed = Result<Value, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn invalid(c: char, context: &str) -> String {
        format!("invalid character {} {context}", quote_char(c))
    }

    fn eof() -> String {
        "unexpected end of JSON input".into()
    }

    fn value(&mut self) -> Parsed {
        self.ws();
        let Some(c) = self.peek() else {
            return Err(Self::eof());
        };
        match c {
            '{' => self.object(),
            '[' => self.array(),
            '"' => self.string().map(Value::from),
            't' => self.literal("true", Value::Bool(true)),
            'f' => self.literal("false", Value::Bool(false)),
            'n' => self.literal("null", Value::Nil),
            '-' | '0'..='9' => self.number(),
            c => Err(Self::invalid(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Parsed {
        self.pos += 1;
        for expect in word.chars().skip(1) {
            // Go's scanner feeds a space at the end of input, so a cut literal fails on it.
            match self.bump() {
                None => {
                    return Err(Self::invalid(
                        ' ',
                        &format!("in literal {word} (expecting {})", quote_char(expect)),
                    ));
                }
                Some(c) if c == expect => {}
                Some(c) => {
                    return Err(Self::invalid(
                        c,
                        &format!("in literal {word} (expecting {})", quote_char(expect)),
                    ));
                }
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Parsed {
        let start = self.pos;
        let digits = |p: &mut Self| {
            while matches!(p.peek(), Some('0'..='9')) {
                p.pos += 1;
            }
        };
        if self.peek() == Some('-') {
            self.pos += 1;
            match self.peek() {
                Some('0'..='9') => {}
                Some(c) => return Err(Self::invalid(c, "in numeric literal")),
                None => return Err(Self::invalid(' ', "in numeric literal")),
            }
        }
        if self.peek() == Some('0') {
            self.pos += 1;
        } else {
            digits(self);
        }
        if self.peek() == Some('.') {
            self.pos += 1;
            match self.peek() {
                Some('0'..='9') => digits(self),
                Some(c) => {
                    return Err(Self::invalid(c, "after decimal point in numeric literal"));
                }
                None => return Err(Self::invalid(' ', "after decimal point in numeric literal")),
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            match self.peek() {
                Some('0'..='9') => digits(self),
                Some(c) => return Err(Self::invalid(c, "in exponent of numeric literal")),
                None => return Err(Self::invalid(' ', "in exponent of numeric literal")),
            }
        }
        let text = &self.s[start..self.pos];
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!(
                "json: cannot unmarshal number {text} into Go value of type float64"
            )),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            match self.bump() {
                None => return Err(Self::eof()),
                Some(c) => match c.to_digit(16) {
                    Some(d) => v = v * 16 + d,
                    None => {
                        return Err(Self::invalid(c, "in \\u hexadecimal character escape"));
                    }
                },
            }
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(Self::eof());
            };
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.bump() else {
                        return Err(Self::eof());
                    };
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.pos..].starts_with("\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{FFFD}'));
                        }
                        c => return Err(Self::invalid(c, "in string escape code")),
                    }
                }
                c if (c as u32) < 0x20 => return Err(Self::invalid(c, "in string literal")),
                c => out.push(c),
            }
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("exceeded max depth".into());
        }
        Ok(())
    }

    fn array(&mut self) -> Parsed {
        self.nest()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::list(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.bump() {
                Some(',') => {}
                Some(']') => break,
                Some(c) => return Err(Self::invalid(c, "after array element")),
                None => return Err(Self::eof()),
            }
        }
        self.depth -= 1;
        Ok(Value::list(items))
    }

    fn object(&mut self) -> Parsed {
        self.nest()?;
        self.pos += 1;
        let mut map = BTreeMap::new();
        self.ws();
        if self.peek() == Some('}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::map(map));
        }
        loop {
            self.ws();
            match self.peek() {
                Some('"') => {}
                Some(c) => {
                    return Err(Self::invalid(
                        c,
                        "looking for beginning of object key string",
                    ));
                }
                None => return Err(Self::eof()),
            }
            let key = self.string()?;
            self.ws();
            match self.bump() {
                Some(':') => {}
                Some(c) => return Err(Self::invalid(c, "after object key")),
                None => return Err(Self::eof()),
            }
            let v = self.value()?;
            map.insert(key, v);
            self.ws();
            match self.bump() {
                Some(',') => {}
                Some('}') => break,
                Some(c) => return Err(Self::invalid(c, "after object key:value pair")),
                None => return Err(Self::eof()),
            }
        }
        self.depth -= 1;
        Ok(Value::map(map))
    }
}

/// `json.Unmarshal` into `interface{}`.
pub(super) fn from_json(s: &str) -> Parsed {
    let mut p = Parser {
        s,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    match p.peek() {
        None => Ok(v),
        Some(c) => Err(Parser::invalid(c, "after top-level value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_gos() {
        assert_eq!(
            from_json("{bad").err().as_deref(),
            Some("invalid character 'b' looking for beginning of object key string")
        );
        assert_eq!(
            from_json("").err().as_deref(),
            Some("unexpected end of JSON input")
        );
        assert_eq!(
            from_json("[1,]").err().as_deref(),
            Some("invalid character ']' looking for beginning of value")
        );
        assert_eq!(
            from_json("tru").err().as_deref(),
            Some("invalid character ' ' in literal true (expecting 'e')")
        );
        assert_eq!(
            from_json("[1").err().as_deref(),
            Some("unexpected end of JSON input")
        );
        assert_eq!(
            from_json("1 2").err().as_deref(),
            Some("invalid character '2' after top-level value")
        );
        assert!(matches!(from_json(" 3 "), Ok(Value::Float(f)) if f == 3.0));
    }
}
