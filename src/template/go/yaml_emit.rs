//! `toYaml`'s writer: template values as gopkg.in/yaml.v3's `Marshal` writes them (docker-gen's
//! `toYaml` returns its output as it is, final newline included). Block style with an
//! indentation of 4 (2 for what starts on a `- ` line), map keys in yaml.v3's natural order,
//! struct records in field order under their lower-cased names, empty maps and lists as `{}` and
//! `[]`, long lines kept whole, a key of several lines or over 128 bytes in the `? key` /
//! `: value` form, and each string in the style [`super::yaml_style`] picks.

use std::cmp::Ordering;

use gotmpl::{FuncError, Value};

use super::yaml_style::{Style, is_break, is_printable, style_of};

/// yaml.v3's indentation.
const INDENT: isize = 4;
/// The longest key written as `key: value`.
const SIMPLE_KEY_MAX: usize = 128;

/// yaml.v3's order of string map keys: runs of digits compare as numbers, letters before
/// other characters.
fn key_order(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut digits = false;
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            digits = ar[i].is_numeric();
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            let a_first = if digits { al } else { bl };
            return if a_first {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let nonzero_before = ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_numeric())
                .any(|&c| c != '0');
            if nonzero_before {
                (an, bn) = (1, 1);
            }
        }
        let run = |r: &[char], n: &mut i64| {
            let mut j = i;
            while j < r.len() && r[j].is_ascii_digit() {
                *n = n
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(r[j] as u8 - b'0'));
                j += 1;
            }
            j
        };
        let (ai, bi) = (run(&ar, &mut an), run(&br, &mut bn));
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// The writer's state, as libyaml's emitter keeps it.
struct Emitter {
    out: String,
    column: usize,
    indent: isize,
    whitespace: bool,
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        text.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// Enters a nested node; returns the indentation to restore after it.
    fn increase(&mut self, flow: bool, in_sequence_item: bool) -> isize {
        let old = self.indent;
        self.indent = if old < 0 {
            if flow { INDENT } else { 0 }
        } else if in_sequence_item {
            old + 2
        } else {
            INDENT * ((old + INDENT) / INDENT)
        };
        old
    }

    fn node(&mut self, v: &Value, in_sequence_item: bool) -> Result<(), FuncError> {
        if let Value::Record(r) = v
            && let Some(items) = &r.items
        {
            // A slice type with methods marshals as its elements.
            return self.node(&Value::List(items.clone()), in_sequence_item);
        }
        let entries: Option<Vec<(String, Value)>> = match v {
            Value::Map(m) => {
                let mut e: Vec<(String, Value)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                e.sort_by(|a, b| key_order(&a.0, &b.0));
                Some(e)
            }
            // Struct fields in their order, under yaml.v3's default (lower-cased) names.
            Value::Record(r) => Some(
                r.fields
                    .iter()
                    .filter(|(k, _)| !k.is_empty())
                    .map(|(k, v)| (k.to_lowercase(), v.clone()))
                    .collect(),
            ),
            _ => None,
        };
        match (entries, v) {
            (Some(e), _) if e.is_empty() => self.flow_empty("{", "}"),
            (Some(e), _) => {
                let old = self.increase(false, in_sequence_item);
                for (key, value) in e {
                    self.write_indent();
                    if key.len() <= SIMPLE_KEY_MAX && !key.chars().any(is_break) {
                        self.string(&key, true, false);
                        self.indicator(":", false, false, false);
                    } else {
                        self.indicator("?", true, false, true);
                        self.string(&key, false, false);
                        self.write_indent();
                        self.indicator(":", true, false, true);
                    }
                    self.node(&value, false)?;
                }
                self.indent = old;
            }
            (None, Value::List(l)) if l.borrow().is_empty() => self.flow_empty("[", "]"),
            (None, Value::List(l)) => {
                let old = self.increase(false, in_sequence_item);
                for item in l.borrow().iter() {
                    self.write_indent();
                    self.indicator("-", true, false, true);
                    self.node(item, true)?;
                }
                self.indent = old;
            }
            (None, Value::Func(_)) => return Err(FuncError::new("cannot marshal type: func")),
            (None, Value::String(s)) => self.string(s, false, in_sequence_item),
            (None, Value::Duration(d)) => self.string(&d.to_string(), false, in_sequence_item),
            (None, Value::Time(t)) => {
                // yaml.v3 writes a time.Time plain, in RFC 3339 with nanoseconds.
                let text = gotmpl::timefmt::format(
                    "2006-01-02T15:04:05.999999999Z07:00",
                    t.secs,
                    t.nanos,
                    t.offset,
                    &t.zone,
                );
                let old = self.increase(true, in_sequence_item);
                self.plain(&text);
                self.indent = old;
            }
            (None, other) => {
                let text = match other {
                    Value::Nil => "null".to_owned(),
                    Value::Bool(b) => b.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Uint(u) => u.to_string(),
                    Value::Float(f) if f.is_nan() => ".nan".to_owned(),
                    Value::Float(f) if f.is_infinite() => {
                        if *f > 0.0 { ".inf" } else { "-.inf" }.to_owned()
                    }
                    Value::Float(f) => gotmpl::fmt::format_float(*f, 'g', None),
                    _ => String::new(),
                };
                let old = self.increase(true, in_sequence_item);
                self.plain(&text);
                self.indent = old;
            }
        }
        Ok(())
    }

    fn flow_empty(&mut self, open: &str, close: &str) {
        self.indicator(open, true, true, false);
        self.indicator(close, false, false, false);
    }

    fn string(&mut self, s: &str, simple_key: bool, in_sequence_item: bool) {
        let old = self.increase(true, in_sequence_item);
        match style_of(s, simple_key) {
            Style::Plain => self.plain(s),
            Style::Single => self.single(s),
            Style::Double => self.double(s),
            Style::Literal => self.literal(s),
        }
        self.indent = old;
    }

    fn plain(&mut self, s: &str) {
        if !s.is_empty() && !self.whitespace {
            self.put(' ');
        }
        s.chars().for_each(|c| self.put(c));
        if !s.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn single(&mut self, s: &str) {
        self.indicator("'", true, false, false);
        for c in s.chars() {
            if c == '\'' {
                self.put('\'');
            }
            self.put(c);
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double(&mut self, s: &str) {
        self.indicator("\"", true, false, false);
        for c in s.chars() {
            if !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                let escaped = match c {
                    '\0' => "\\0".to_owned(),
                    '\u{7}' => "\\a".to_owned(),
                    '\u{8}' => "\\b".to_owned(),
                    '\t' => "\\t".to_owned(),
                    '\n' => "\\n".to_owned(),
                    '\u{b}' => "\\v".to_owned(),
                    '\u{c}' => "\\f".to_owned(),
                    '\r' => "\\r".to_owned(),
                    '\u{1b}' => "\\e".to_owned(),
                    '"' => "\\\"".to_owned(),
                    '\\' => "\\\\".to_owned(),
                    '\u{85}' => "\\N".to_owned(),
                    '\u{a0}' => "\\_".to_owned(),
                    '\u{2028}' => "\\L".to_owned(),
                    '\u{2029}' => "\\P".to_owned(),
                    c if u32::from(c) <= 0xFF => format!("\\x{:02X}", u32::from(c)),
                    c if u32::from(c) <= 0xFFFF => format!("\\u{:04X}", u32::from(c)),
                    c => format!("\\U{:08X}", u32::from(c)),
                };
                escaped.chars().for_each(|e| self.put(e));
            } else {
                self.put(c);
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, s: &str) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.indicator(&INDENT.to_string(), false, false, false);
        }
        let n = chars.len();
        let chomp = if n == 0 || !is_break(chars[n - 1]) {
            Some("-")
        } else if n == 1 || is_break(chars[n - 2]) {
            Some("+")
        } else {
            None
        };
        if let Some(hint) = chomp {
            self.indicator(hint, false, false, false);
        }
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.put_break();
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// `v` as yaml.v3's `Marshal` writes it, final newline included.
pub fn to_yaml(v: &Value) -> Result<String, FuncError> {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        whitespace: true,
        indention: true,
    };
    e.node(v, false)?;
    // The document's end.
    e.indent = -1;
    e.write_indent();
    Ok(e.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_take_yaml_v3_styles() {
        let cases = [
            ("plain", "plain\n"),
            ("", "\"\"\n"),
            ("true", "\"true\"\n"),
            ("y", "\"y\"\n"),
            ("1_000", "\"1_000\"\n"),
            ("2001-12-14", "\"2001-12-14\"\n"),
            ("1:20", "\"1:20\"\n"),
            ("<<", "<<\n"),
            (" lead", "' lead'\n"),
            ("it's: x", "'it''s: x'\n"),
            ("tab\there", "\"tab\\there\"\n"),
            ("x\ny", "|-\n    x\n    y\n"),
            ("x\ny\n", "|\n    x\n    y\n"),
        ];
        for (s, want) in cases {
            assert_eq!(to_yaml(&Value::str(s)).expect("writes"), want, "{s:?}");
        }
    }

    #[test]
    fn natural_key_order() {
        // As Go sorted them (tests/data/docker-gen/yaml-cases.expected.json, key-order).
        let mut keys = vec![
            "a10", "a2", "b", "A", "a", "_x", "1", "10", "9", "a01", "a1", "-",
        ];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(
            keys,
            [
                "-", "_x", "1", "9", "10", "A", "a", "a1", "a01", "a2", "a10", "b"
            ]
        );
    }
}
