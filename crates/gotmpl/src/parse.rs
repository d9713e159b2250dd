//! The parser: items to trees, following Go's `text/template/parse/parse.go` — pipelines,
//! declarations and assignments with Go's variable scoping checked at parse time, control
//! structures with `else if`/`else with`, `break`/`continue` inside `range`, `define`, `block`
//! and `template` — and Go's parse error texts (`template: NAME:LINE: ...`).

use std::collections::HashMap;

use crate::lex::{Item, ItemType, lex};
use crate::node::{Arg, Branch, Command, List, Node, Number, Pipe, is_empty_tree};

/// A parsed template body.
#[derive(Debug, Clone)]
pub struct Tree {
    pub name: String,
    /// The name of the source the tree was parsed from (used in error locations).
    pub parse_name: String,
    /// The full source text, to turn byte positions into line and column.
    pub text: std::sync::Arc<str>,
    pub root: List,
}

/// A parse error, as Go prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Nesting deeper than this is refused (Go's limit is 10000; a Rust stack is smaller).
pub const MAX_PARSE_DEPTH: usize = 100;

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    items: Vec<Item>,
    idx: usize,
    max_read: usize,
    parse_name: &'a str,
    text: std::sync::Arc<str>,
    has_func: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    depth: usize,
    trees: &'a mut HashMap<String, Tree>,
}

/// Parses `text` as the template `name` plus the templates it defines; returns every tree by
/// name (the top-level one included).
pub fn parse(
    name: &str,
    text: &str,
    left: &str,
    right: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> PResult<HashMap<String, Tree>> {
    let mut trees = HashMap::new();
    let shared: std::sync::Arc<str> = std::sync::Arc::from(text);
    let mut p = Parser {
        items: lex(text, left, right),
        idx: 0,
        max_read: 0,
        parse_name: name,
        text: shared,
        has_func,
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
        depth: 0,
        trees: &mut trees,
    };
    let root = p.parse_top()?;
    let top = Tree {
        name: name.to_string(),
        parse_name: name.to_string(),
        text: p.text.clone(),
        root,
    };
    p.add(top)?;
    Ok(trees)
}

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

impl Parser<'_> {
    fn errorf(&self, msg: impl std::fmt::Display) -> ParseError {
        let line = self.items.get(self.max_read).map_or(1, |i| i.line);
        ParseError(format!("template: {}:{}: {}", self.parse_name, line, msg))
    }

    fn next(&mut self) -> Item {
        let i = self.idx.min(self.items.len() - 1);
        if i > self.max_read {
            self.max_read = i;
        }
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        self.items[i].clone()
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn peek(&mut self) -> Item {
        let it = self.next();
        self.backup();
        it
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.typ != ItemType::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn expect(&mut self, typ: ItemType, context: &str) -> PResult<Item> {
        let it = self.next_non_space();
        if it.typ != typ {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    fn unexpected(&self, it: &Item, context: &str) -> ParseError {
        if it.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != it.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if it.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{it}{extra}"));
        }
        self.errorf(format!("unexpected {it} in {context}"))
    }

    fn add(&mut self, tree: Tree) -> PResult<()> {
        match self.trees.get(&tree.name) {
            Some(old) if !is_empty_tree(&old.root) => {
                if !is_empty_tree(&tree.root) {
                    return Err(self.errorf(format!(
                        "template: multiple definition of template {}",
                        crate::fmt::quote(&tree.name)
                    )));
                }
                Ok(())
            }
            _ => {
                self.trees.insert(tree.name.clone(), tree);
                Ok(())
            }
        }
    }

    fn parse_top(&mut self) -> PResult<List> {
        let mut root = List {
            pos: self.peek().pos,
            nodes: Vec::new(),
        };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim_idx = self.idx;
                self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = delim_idx;
            }
            match self.text_or_action()? {
                Parsed::End(it) | Parsed::Else(it) => {
                    return Err(self.errorf(format!("unexpected {}", control_text(&it))));
                }
                Parsed::Node(Some(n)) => root.nodes.push(n),
                Parsed::Node(None) => {}
            }
        }
        Ok(root)
    }

    /// `{{define "name"}} ... {{end}}`, after the `define` keyword.
    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let name_item = self.next_non_space();
        if !matches!(name_item.typ, ItemType::String | ItemType::RawString) {
            return Err(self.unexpected(&name_item, context));
        }
        let name = unquote(&name_item.val).ok_or_else(|| self.errorf("invalid syntax"))?;
        self.expect(ItemType::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if let Parsed::Else(it) = end {
            return Err(self.errorf(format!("unexpected {} in {context}", control_text(&it))));
        }
        let tree = Tree {
            name,
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root: list,
        };
        self.add(tree)
    }

    /// Nodes up to an `{{end}}` or `{{else}}`, which is returned too.
    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        let mut list = List {
            pos: self.peek_non_space().pos,
            nodes: Vec::new(),
        };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                p @ (Parsed::End(_) | Parsed::Else(_)) => return Ok((list, p)),
                Parsed::Node(Some(n)) => list.nodes.push(n),
                Parsed::Node(None) => {}
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.typ {
            ItemType::Text => Ok(Parsed::Node(Some(Node::Text {
                pos: it.pos,
                text: it.val.to_string(),
            }))),
            ItemType::LeftDelim => {
                self.depth += 1;
                if self.depth > MAX_PARSE_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                let r = self.action();
                self.depth -= 1;
                r
            }
            _ => Err(self.unexpected(&it, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.typ {
            ItemType::Block => return self.block_control().map(|n| Parsed::Node(Some(n))),
            ItemType::Break => return self.break_control(&it, true).map(|n| Parsed::Node(Some(n))),
            ItemType::Continue => {
                return self
                    .break_control(&it, false)
                    .map(|n| Parsed::Node(Some(n)));
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End(it));
            }
            ItemType::If => return self.if_control().map(|n| Parsed::Node(Some(n))),
            ItemType::Range => return self.range_control().map(|n| Parsed::Node(Some(n))),
            ItemType::Template => return self.template_control().map(|n| Parsed::Node(Some(n))),
            ItemType::With => return self.with_control().map(|n| Parsed::Node(Some(n))),
            _ => {}
        }
        self.backup();
        let tok = self.peek();
        let saved_action_line = self.action_line;
        self.action_line = tok.line;
        let pipe = self.pipeline("command", ItemType::RightDelim);
        self.action_line = saved_action_line;
        let pipe = pipe?;
        Ok(Parsed::Node(Some(Node::Action {
            pos: tok.pos,
            line: tok.line,
            pipe,
        })))
    }

    fn break_control(&mut self, it: &Item, is_break: bool) -> PResult<Node> {
        let word = if is_break {
            "{{break}}"
        } else {
            "{{continue}}"
        };
        let tok = self.next_non_space();
        if tok.typ != ItemType::RightDelim {
            return Err(self.unexpected(&tok, word));
        }
        if self.range_depth == 0 {
            return Err(self.errorf(format!("{word} outside {{{{range}}}}")));
        }
        Ok(if is_break {
            Node::Break {
                pos: it.pos,
                line: it.line,
            }
        } else {
            Node::Continue {
                pos: it.pos,
                line: it.line,
            }
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if matches!(peek.typ, ItemType::If | ItemType::With) {
            // `{{else if ...` / `{{else with ...`: the keyword is left for the caller.
            return Ok(Parsed::Else(peek));
        }
        let tok = self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else(Item {
            typ: ItemType::Else,
            ..tok
        }))
    }

    /// `if`, `range` and `with`: pipeline, list, optional else list.
    fn parse_control(&mut self, context: &str) -> PResult<Branch> {
        let vars_len = self.vars.len();
        let r = self.parse_control_inner(context);
        self.vars.truncate(vars_len);
        r
    }

    fn parse_control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let Parsed::Else(tok) = next {
            let chained = (context == "if" && tok.typ == ItemType::If)
                || (context == "with" && tok.typ == ItemType::With);
            if chained {
                // `{{else if}}` is `{{else}}{{if}}...{{end}}{{end}}` sharing one `{{end}}`.
                self.next_non_space();
                let inner = if context == "if" {
                    self.if_control()?
                } else {
                    self.with_control()?
                };
                else_list = Some(List {
                    pos: tok.pos,
                    nodes: vec![inner],
                });
            } else if tok.typ == ItemType::With && context == "if" {
                // `{{else with}}` in an if: Go 1.19's error text.
                return Err(self.unexpected(&tok, "else"));
            } else if tok.typ != ItemType::Else {
                // `{{else if}}` in a range: the keyword is left for the list, which rejects it.
                return Err(self.errorf(format!("unexpected {tok} in input")));
            } else {
                let (l, end) = self.item_list()?;
                if let Parsed::Else(e) = end {
                    return Err(self.errorf(format!("expected end; found {}", control_text(&e))));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            pos: pipe.pos,
            line: pipe.line,
            pipe,
            list,
            else_list,
        })
    }

    fn if_control(&mut self) -> PResult<Node> {
        self.parse_control("if").map(Node::If)
    }

    fn range_control(&mut self) -> PResult<Node> {
        self.parse_control("range").map(Node::Range)
    }

    fn with_control(&mut self) -> PResult<Node> {
        self.parse_control("with").map(Node::With)
    }

    fn template_name(&mut self, tok: &Item, context: &str) -> PResult<String> {
        match tok.typ {
            ItemType::String | ItemType::RawString => {
                unquote(&tok.val).ok_or_else(|| self.errorf("invalid syntax"))
            }
            _ => Err(self.unexpected(tok, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, context)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: tok.pos,
            line: tok.line,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, context)?;
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let r = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let (list, end) = r?;
        if let Parsed::Else(e) = end {
            return Err(self.errorf(format!("unexpected {} in {context}", control_text(&e))));
        }
        let tree = Tree {
            name: name.clone(),
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root: list,
        };
        self.add(tree)?;
        Ok(Node::Template {
            pos: tok.pos,
            line: tok.line,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let first = self.peek_non_space();
        let mut pipe = Pipe {
            pos: first.pos,
            line: first.line,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations or assignments.
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            let v_idx = self.idx;
            let v = self.next_non_space();
            let after = self.peek();
            let nxt = self.peek_non_space();
            match nxt.typ {
                ItemType::Assign | ItemType::Declare => {
                    pipe.is_assign = nxt.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push((v.pos, v.val.to_string()));
                    self.vars.push(v.val.to_string());
                }
                ItemType::Char if &*nxt.val == "," => {
                    self.next_non_space();
                    pipe.decl.push((v.pos, v.val.to_string()));
                    self.vars.push(v.val.to_string());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after;
                    self.idx = v_idx;
                }
            }
            break;
        }
        loop {
            let tok = self.next_non_space();
            if tok.typ == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match tok.typ {
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let tok = self.next();
            match tok.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&tok, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().typ == ItemType::Field {
            let f = self.next();
            fields.push(f.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { pos, mut idents } => {
                idents.extend(fields);
                let _ = pos;
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                let text = crate::fmt::quote(&node.to_string());
                return Err(self.errorf(format!("unexpected . after term {text}")));
            }
            other => Arg::Chain {
                pos: chain_pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space();
        let pos = tok.pos;
        Ok(Some(match tok.typ {
            ItemType::Identifier => {
                if !(self.has_func)(&tok.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::fmt::quote(&tok.val)
                    )));
                }
                Arg::Identifier {
                    pos,
                    name: tok.val.to_string(),
                }
            }
            ItemType::Dot => Arg::Dot { pos },
            ItemType::Nil => Arg::Nil { pos },
            ItemType::Variable => {
                let idents: Vec<String> = tok.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::fmt::quote(&idents[0])
                    )));
                }
                Arg::Variable { pos, idents }
            }
            ItemType::Field => Arg::Field {
                pos,
                idents: vec![tok.val[1..].to_string()],
            },
            ItemType::Bool => Arg::Bool {
                pos,
                val: &*tok.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let num = parse_number(&tok.val, tok.typ).map_err(|e| self.errorf(e))?;
                Arg::Number { pos, num }
            }
            ItemType::LeftParen => {
                self.depth += 1;
                if self.depth > MAX_PARSE_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                let p = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.depth -= 1;
                Arg::Pipe(Box::new(p?))
            }
            ItemType::String | ItemType::RawString => {
                let text = unquote(&tok.val).ok_or_else(|| self.errorf("invalid syntax"))?;
                Arg::String {
                    pos,
                    quoted: tok.val.to_string(),
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// What `text_or_action` found: a node (None for a comment), or an `{{end}}`/`{{else}}`.
enum Parsed {
    Node(Option<Node>),
    End(Item),
    Else(Item),
}

/// How Go prints an end or else node in "unexpected ..." errors.
fn control_text(it: &Item) -> &'static str {
    match it.typ {
        ItemType::End => "{{end}}",
        _ => "{{else}}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funcs(name: &str) -> bool {
        matches!(name, "printf" | "len" | "eq")
    }

    fn parse_err(src: &str) -> String {
        match parse("t", src, "", "", &funcs) {
            Ok(_) => "ok".into(),
            Err(e) => e.0,
        }
    }

    #[test]
    fn trees_print_back_as_source() {
        let trees = parse(
            "t",
            "a{{ $x := .A.B | printf \"%v\" }}{{ if eq $x 1 }}y{{ else if .C }}z{{ end }}{{ range $i, $e := . }}{{ (len $e).X }}{{ end }}",
            "",
            "",
            &funcs,
        )
        .expect("valid template");
        let t = &trees["t"];
        assert_eq!(
            t.root.to_string(),
            "a{{$x := .A.B | printf \"%v\"}}{{if eq $x 1}}y{{else}}{{if .C}}z{{end}}{{end}}{{range $i, $e := .}}{{(len $e).X}}{{end}}"
        );
    }

    #[test]
    fn parse_errors_have_go_text() {
        assert_eq!(
            parse_err("{{ if }}x{{ end }}"),
            "template: t:1: missing value for if"
        );
        assert_eq!(
            parse_err("{{ nosuch 1 }}"),
            "template: t:1: function \"nosuch\" not defined"
        );
        assert_eq!(
            parse_err("{{ range .x }}x"),
            "template: t:1: unexpected EOF"
        );
        assert_eq!(
            parse_err("\n{{ $y }}"),
            "template: t:2: undefined variable \"$y\""
        );
        assert_eq!(
            parse_err("{{ break }}"),
            "template: t:1: {{break}} outside {{range}}"
        );
        assert_eq!(parse_err("{{ end }}"), "template: t:1: unexpected {{end}}");
        assert_eq!(
            parse_err("{{ 1 | 2 }}"),
            "template: t:1: non executable command in pipeline stage 2"
        );
        assert_eq!(
            parse_err("{{ \"a\".x }}"),
            "template: t:1: unexpected . after term \"\\\"a\\\"\""
        );
        assert_eq!(
            parse_err("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}"),
            "template: t:1: template: multiple definition of template \"a\""
        );
        assert_eq!(
            parse_err("{{ .x\n\n 3k }}"),
            "template: t:3: bad number syntax: \"3k\" in action started at t:1"
        );
    }

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
