//! The control structures: `if`, `range` and `with` with their `else` chains, `break` and
//! `continue`, `template` and `block`.

use crate::lex::{Item, ItemType};
use crate::node::{Branch, List, Node};

use super::{PResult, Parsed, Parser, Tree, control_text, unquote};

impl Parser<'_> {
    pub(super) fn break_control(&mut self, it: &Item, is_break: bool) -> PResult<Node> {
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

    pub(super) fn else_control(&mut self) -> PResult<Parsed> {
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

    pub(super) fn if_control(&mut self) -> PResult<Node> {
        self.parse_control("if").map(Node::If)
    }

    pub(super) fn range_control(&mut self) -> PResult<Node> {
        self.parse_control("range").map(Node::Range)
    }

    pub(super) fn with_control(&mut self) -> PResult<Node> {
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

    pub(super) fn template_control(&mut self) -> PResult<Node> {
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

    pub(super) fn block_control(&mut self) -> PResult<Node> {
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
}
