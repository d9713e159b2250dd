//! The lexer: turns template source into items (text, delimiters, and the words of actions),
//! each with its byte position and line, as Go's `text/template/parse/lex.go` does: trim
//! markers (`{{- ` and ` -}}`) remove the neighbouring white space, comments vanish, and the
//! first lexical error ends the item stream with an error item carrying Go's message.
//!
//! This file holds the items, the lexer's state and the states between words; the words of an
//! action (identifiers, variables, strings, numbers) are scanned in `words`.

mod words;

/// The kind of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemType {
    Error,
    Bool,
    /// A printable ASCII character inside an action that is not otherwise a token, e.g. `,`.
    Char,
    CharConstant,
    Complex,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

/// One token: its kind, byte offset in the source, text and starting line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub typ: ItemType,
    pub pos: usize,
    /// Shared, so the parser's look-ahead copies items cheaply.
    pub val: std::rc::Rc<str>,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// As Go's `item.String()` prints it in parse errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            ItemType::Eof => f.write_str("EOF"),
            ItemType::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.len() > 10 => {
                // Go's %.10q: the first ten characters, quoted, then "...".
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", crate::fmt::quote(&head))
            }
            _ => f.write_str(&crate::fmt::quote(&self.val)),
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`: `U+0021 '!'`.
fn sharp_u(c: char) -> String {
    let mut s = format!("U+{:04X}", c as u32);
    if !c.is_control() {
        s.push_str(&format!(" '{c}'"));
    }
    s
}

const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

struct Lexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i32,
    items: Vec<Item>,
}

/// Lexes `input` with the given delimiters into items ending with an Eof or an Error item.
pub fn lex(input: &str, left: &str, right: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        left: if left.is_empty() { "{{" } else { left },
        right: if right.is_empty() { "}}" } else { right },
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items: Vec::new(),
    };
    l.run();
    l.items
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn emit(&mut self, typ: ItemType) {
        let val = std::rc::Rc::from(&self.input[self.start..self.pos]);
        self.items.push(Item {
            typ,
            pos: self.start,
            val,
            line: self.start_line,
        });
        self.ignore();
    }

    fn ignore(&mut self) {
        // Newlines are counted incrementally by next(); positions moved directly are recounted.
        self.line = self.start_line + self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, msg: String) {
        self.items.push(Item {
            typ: ItemType::Error,
            pos: self.start,
            val: msg.into(),
            line: self.start_line,
        });
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn has_left_trim(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
    }

    fn has_right_trim(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
    }

    /// Whether the input at pos is the right delimiter, and whether it has a trim marker.
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if Self::has_right_trim(r) && r[2..].starts_with(self.right) {
            return (true, true);
        }
        (r.starts_with(self.right), false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(self.right),
        }
    }

    fn run(&mut self) {
        // Each step returns false when lexing has ended (EOF or an error).
        let mut inside = false;
        loop {
            let go_on = if inside {
                self.lex_inside_action(&mut inside)
            } else {
                self.lex_text(&mut inside)
            };
            if !go_on {
                return;
            }
        }
    }

    fn lex_text(&mut self, inside: &mut bool) -> bool {
        if let Some(x) = self.rest().find(self.left) {
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + self.left.len();
                let mut trim = 0;
                if Self::has_left_trim(&self.input[delim_end..]) {
                    let text = &self.input[self.start..self.pos];
                    trim = text.len() - text.trim_end_matches(is_space).len();
                }
                self.pos -= trim;
                if self.pos > self.start {
                    self.emit(ItemType::Text);
                }
                self.pos += trim;
                self.ignore();
            }
            return self.lex_left_delim(inside);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(ItemType::Text);
        }
        self.emit(ItemType::Eof);
        false
    }

    fn lex_left_delim(&mut self, inside: &mut bool) -> bool {
        self.pos += self.left.len();
        let trim = Self::has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(ItemType::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        *inside = true;
        true
    }

    fn lex_comment(&mut self) -> bool {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            self.error("unclosed comment".into());
            return false;
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            self.error("comment ends before closing delimiter".into());
            return false;
        }
        if trim {
            self.pos += 2;
        }
        self.pos += self.right.len();
        if trim {
            let r = self.rest();
            self.pos += r.len() - r.trim_start_matches(is_space).len();
        }
        self.ignore();
        true
    }

    fn lex_right_delim(&mut self, inside: &mut bool) -> bool {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += self.right.len();
        self.emit(ItemType::RightDelim);
        if trim {
            let r = self.rest();
            self.pos += r.len() - r.trim_start_matches(is_space).len();
            self.ignore();
        }
        *inside = false;
        true
    }

    fn lex_inside_action(&mut self, inside: &mut bool) -> bool {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim(inside);
            }
            self.error("unclosed left paren".into());
            return false;
        }
        let Some(c) = self.next() else {
            self.error("unclosed action".into());
            return false;
        };
        match c {
            c if is_space(c) => {
                self.backup(Some(c));
                return self.lex_space(inside);
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    self.error("expected :=".into());
                    return false;
                }
                self.emit(ItemType::Declare);
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' if !matches!(self.peek(), Some('0'..='9')) => {
                return self.lex_field_or_variable(ItemType::Field);
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup(Some(c));
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.backup(Some(c));
                return self.lex_identifier();
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                self.emit(ItemType::RightParen);
                if self.paren_depth < 0 {
                    // The parser meets the stray parenthesis first (as with Go 1.19).
                    self.error("unexpected right paren".into());
                    return false;
                }
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemType::Char),
            c => {
                self.error(format!("unrecognized character in action: {}", sharp_u(c)));
                return false;
            }
        }
        true
    }

    fn lex_space(&mut self, inside: &mut bool) -> bool {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        // A trim-marked right delimiter starts with a space: leave that space to it.
        let before = self.pos - 1;
        if Self::has_right_trim(&self.input[before..])
            && self.input[before + 2..].starts_with(self.right)
        {
            self.pos = before;
            if self.input.as_bytes()[before] == b'\n' {
                self.line -= 1;
            }
            if n == 1 {
                return self.lex_right_delim(inside);
            }
        }
        self.emit(ItemType::Space);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemType::*;

    fn kinds(src: &str) -> Vec<(ItemType, std::string::String)> {
        lex(src, "", "")
            .into_iter()
            .map(|i| (i.typ, i.val.to_string()))
            .collect()
    }

    #[test]
    fn actions_and_trim_markers() {
        let got = kinds("a  {{- .X | printf \"%d\" 1 -}}  b");
        let want = vec![
            (Text, "a".to_string()),
            (LeftDelim, "{{".into()),
            (Field, ".X".into()),
            (Space, " ".into()),
            (Pipe, "|".into()),
            (Space, " ".into()),
            (Identifier, "printf".into()),
            (Space, " ".into()),
            (String, "\"%d\"".into()),
            (Space, " ".into()),
            (Number, "1".into()),
            (RightDelim, "}}".into()),
            (Text, "b".into()),
            (Eof, "".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn comments_and_keywords() {
        let got = kinds("x{{/* c */}}{{ range $i, $v := . }}{{end}}");
        let t: Vec<ItemType> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            t,
            vec![
                Text, LeftDelim, Space, Range, Space, Variable, Char, Space, Variable, Space,
                Declare, Space, Dot, Space, RightDelim, LeftDelim, End, RightDelim, Eof
            ]
        );
    }

    #[test]
    fn errors_end_the_stream() {
        let last = |s: &str| {
            lex(s, "", "")
                .pop()
                .map(|i| i.val.to_string())
                .unwrap_or_default()
        };
        assert_eq!(last("{{ 3k }}"), "bad number syntax: \"3k\"");
        assert_eq!(last("{{ \"abc }}"), "unterminated quoted string");
        assert_eq!(last("{{ .x"), "unclosed action");
        assert_eq!(
            last("{{/* x */ }}"),
            "comment ends before closing delimiter"
        );
        assert_eq!(last("{{ ( }}"), "unclosed left paren");
    }

    #[test]
    fn custom_delimiters_and_lines() {
        let items = lex("a\n[[ .x ]]\n[[- .y -]]\n", "[[", "]]");
        let fields: Vec<(std::string::String, usize)> = items
            .iter()
            .filter(|i| i.typ == Field)
            .map(|i| (i.val.to_string(), i.line))
            .collect();
        assert_eq!(fields, vec![(".x".to_string(), 2), (".y".to_string(), 3)]);
    }
}
