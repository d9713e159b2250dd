//! The parser: items to trees, following Go's `text/template/parse/parse.go` — pipelines,
//! declarations and assignments with Go's variable scoping checked at parse time, control
//! structures with `else if`/`else with`, `break`/`continue` inside `range`, `define`, `block`
//! and `template` — and Go's parse error texts (`template: NAME:LINE: ...`).
//!
//! This file holds the parser's state, the top level and `define`; control structures are in
//! `control`, pipelines in `pipeline`, literals in `literal`.

use std::collections::HashMap;

use crate::lex::{Item, ItemType, lex};
use crate::node::{List, Node, is_empty_tree};

mod control;
mod literal;
mod pipeline;

pub use literal::{parse_number, unquote};

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
}

/// What `text_or_action` found: a node (None for a comment), or an `{{end}}`/`{{else}}`.
pub(super) enum Parsed {
    Node(Option<Node>),
    End(Item),
    Else(Item),
}

/// How Go prints an end or else node in "unexpected ..." errors.
pub(super) fn control_text(it: &Item) -> &'static str {
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
}
