//! Jinja2's `tojson` and `pprint` as Python prints them: `tojson(indent=none)` is
//! `json.dumps(sort_keys=True)` (ASCII only, `\u00e9`) with `<`, `>`, `&`, `'` escaped as
//! `\u003c`… so the output is safe inside HTML; `pprint` is Python's `pprint.pformat`
//! (width 80, dict keys sorted, long containers one item a line).

use std::fmt::Write as _;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error};

use super::filters::{Args, py_cmp, type_error, type_name};
use super::filters::{float_of as f64_of_float, float_repr, repr as py_repr, str_repr};
use super::filters_seq::GroupTuple;

/// Registers `tojson` and `pprint`.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("tojson", tojson);
    env.add_filter("pprint", pprint);
}

/// What a value is to these printers.
enum Shape {
    /// A list (or an iterable printed as one).
    List(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A dict, its items sorted by key.
    Dict(Vec<(Value, Value)>),
    /// Anything printed by `repr`.
    Scalar,
}

/// Sorts dict items by key as Python's `sorted` does, falling back to the type name for keys
/// Python cannot compare (pprint's `_safe_key`).
fn sorted_items(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    let mut items = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        items.push((key, item));
    }
    items.sort_by(|(a, _), (b, _)| py_cmp(a, b).unwrap_or_else(|_| type_name(a).cmp(type_name(b))));
    Ok(items)
}

fn shape(value: &Value) -> Result<Shape, Error> {
    if let Some((grouper, list)) = GroupTuple::parts(value) {
        return Ok(Shape::Tuple(vec![grouper, list]));
    }
    Ok(match value.kind() {
        ValueKind::Seq if value.is_tuple() => Shape::Tuple(value.try_iter()?.collect()),
        ValueKind::Seq => Shape::List(value.try_iter()?.collect()),
        ValueKind::Map
            if value
                .as_object()
                .is_none_or(|o| matches!(o.repr(), minijinja::value::ObjectRepr::Map)) =>
        {
            Shape::Dict(sorted_items(value)?)
        }
        _ => Shape::Scalar,
    })
}

/// `repr(value)` with dict keys sorted (pprint's `safe_repr`).
fn sorted_repr(value: &Value) -> Result<String, Error> {
    Ok(match shape(value)? {
        Shape::List(items) => format!("[{}]", join_reprs(&items)?),
        Shape::Tuple(items) if items.len() == 1 => format!("({},)", sorted_repr(&items[0])?),
        Shape::Tuple(items) => format!("({})", join_reprs(&items)?),
        Shape::Dict(items) => {
            let mut parts = Vec::new();
            for (k, v) in &items {
                parts.push(format!("{}: {}", sorted_repr(k)?, sorted_repr(v)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
        Shape::Scalar => py_repr(value),
    })
}

fn join_reprs(items: &[Value]) -> Result<String, Error> {
    Ok(items
        .iter()
        .map(sorted_repr)
        .collect::<Result<Vec<_>, _>>()?
        .join(", "))
}

/// Python's `pprint.PrettyPrinter` with its defaults (indent 1, width 80, sorted dicts).
struct Pretty {
    /// The text written so far.
    out: String,
}

const WIDTH: usize = 80;

impl Pretty {
    fn format(
        &mut self,
        value: &Value,
        indent: usize,
        allowance: usize,
        level: usize,
    ) -> Result<(), Error> {
        let rep = sorted_repr(value)?;
        let max_width = WIDTH.saturating_sub(indent + allowance);
        if rep.chars().count() > max_width {
            match shape(value)? {
                Shape::List(items) => {
                    self.out.push('[');
                    self.items(&items, indent, allowance + 1, level + 1)?;
                    self.out.push(']');
                    return Ok(());
                }
                Shape::Tuple(items) => {
                    self.out.push('(');
                    let end = if items.len() == 1 { ",)" } else { ")" };
                    self.items(&items, indent, allowance + end.len(), level + 1)?;
                    self.out.push_str(end);
                    return Ok(());
                }
                Shape::Dict(items) => {
                    self.out.push('{');
                    self.dict_items(&items, indent, allowance + 1, level + 1)?;
                    self.out.push('}');
                    return Ok(());
                }
                Shape::Scalar => {
                    if let Some(s) = value.as_str() {
                        self.string(s, indent, allowance, level + 1);
                        return Ok(());
                    }
                }
            }
        }
        self.out.push_str(&rep);
        Ok(())
    }

    fn items(
        &mut self,
        items: &[Value],
        indent: usize,
        allowance: usize,
        level: usize,
    ) -> Result<(), Error> {
        let indent = indent + 1;
        let last = items.len().saturating_sub(1);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(",\n");
                self.out.push_str(&" ".repeat(indent));
            }
            self.format(item, indent, if i == last { allowance } else { 1 }, level)?;
        }
        Ok(())
    }

    fn dict_items(
        &mut self,
        items: &[(Value, Value)],
        indent: usize,
        allowance: usize,
        level: usize,
    ) -> Result<(), Error> {
        let indent = indent + 1;
        let last = items.len().saturating_sub(1);
        for (i, (key, item)) in items.iter().enumerate() {
            let rep = sorted_repr(key)?;
            self.out.push_str(&rep);
            self.out.push_str(": ");
            let width = rep.chars().count();
            self.format(
                item,
                indent + width + 2,
                if i == last { allowance } else { 1 },
                level,
            )?;
            if i != last {
                self.out.push_str(",\n");
                self.out.push_str(&" ".repeat(indent));
            }
        }
        Ok(())
    }

    /// A long string split at whitespace into adjacent literals, one a line.
    fn string(&mut self, s: &str, mut indent: usize, mut allowance: usize, level: usize) {
        let lines = split_keep_ends(s);
        if level == 1 {
            indent += 1;
            allowance += 1;
        }
        let max_width = WIDTH.saturating_sub(indent);
        let mut max_width1 = max_width;
        let mut chunks: Vec<String> = Vec::new();
        let count = lines.len();
        for (i, line) in lines.iter().enumerate() {
            let rep = str_repr(line);
            if i == count - 1 {
                max_width1 = max_width1.saturating_sub(allowance);
            }
            if rep.chars().count() <= max_width1 {
                chunks.push(rep);
                continue;
            }
            let parts = word_parts(line);
            let mut max_width2 = max_width;
            let mut current = String::new();
            for (j, part) in parts.iter().enumerate() {
                let candidate = format!("{current}{part}");
                if j == parts.len() - 1 && i == count - 1 {
                    max_width2 = max_width2.saturating_sub(allowance);
                }
                if str_repr(&candidate).chars().count() > max_width2 {
                    if !current.is_empty() {
                        chunks.push(str_repr(&current));
                    }
                    current = (*part).to_owned();
                } else {
                    current = candidate;
                }
            }
            if !current.is_empty() {
                chunks.push(str_repr(&current));
            }
        }
        if chunks.len() == 1 {
            self.out.push_str(&chunks[0]);
            return;
        }
        if level == 1 {
            self.out.push('(');
        }
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push_str(chunk);
        }
        if level == 1 {
            self.out.push(')');
        }
    }
}

/// Python's `s.splitlines(True)`.
fn split_keep_ends(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (at, c) = bytes[i];
        let mut end = at + c.len_utf8();
        if matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        ) {
            if c == '\r' && bytes.get(i + 1).is_some_and(|(_, n)| *n == '\n') {
                end += 1;
                i += 1;
            }
            lines.push(&s[start..end]);
            start = end;
        }
        i += 1;
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// Python's `re.findall(r'\S*\s*', line)` without the final empty match.
fn word_parts(line: &str) -> Vec<&str> {
    let space = super::filters_text::is_py_space;
    let mut parts = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let word = rest.find(space).unwrap_or(rest.len());
        let after = &rest[word..];
        let spaces = after.find(|c: char| !space(c)).unwrap_or(after.len());
        parts.push(&rest[..word + spaces]);
        rest = &after[spaces..];
    }
    parts
}

/// `pprint`: Python's `pprint.pformat(value)`.
fn pprint(value: &Value) -> Result<String, Error> {
    let mut pretty = Pretty { out: String::new() };
    pretty.format(value, 0, 0, 0)?;
    Ok(pretty.out)
}

/// Appends a JSON string literal as Python's `json.dumps` writes it (ASCII only), with the
/// HTML-sensitive characters escaped too.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\'' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// The text of a dict key as `json.dumps` converts it.
fn json_key(key: &Value) -> Result<String, Error> {
    Ok(match key.kind() {
        ValueKind::String => key.as_str().unwrap_or_default().to_owned(),
        ValueKind::None => "null".to_owned(),
        ValueKind::Bool => if key.is_true() { "true" } else { "false" }.to_owned(),
        ValueKind::Number => match f64_of_float(key) {
            Some(x) => float_repr(x),
            None => key.to_string(),
        },
        _ => {
            return Err(type_error(format!(
                "keys must be str, int, float, bool or None, not {}",
                type_name(key)
            )));
        }
    })
}

fn json_value(
    out: &mut String,
    value: &Value,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), Error> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            out.push_str(&unit.repeat(depth));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match shape(value)? {
        Shape::List(items) | Shape::Tuple(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                json_value(out, item, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
        Shape::Dict(items) => {
            if items.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            let mut keyed = Vec::new();
            for (k, v) in items {
                keyed.push((json_key(&k)?, v));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (key, item)) in keyed.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                json_string(out, key);
                out.push_str(": ");
                json_value(out, item, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push('}');
        }
        Shape::Scalar => match value.kind() {
            ValueKind::None => out.push_str("null"),
            ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
            ValueKind::String => json_string(out, value.as_str().unwrap_or_default()),
            ValueKind::Number => match f64_of_float(value) {
                Some(x) if x.is_nan() => out.push_str("NaN"),
                Some(x) if x.is_infinite() => {
                    out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
                }
                Some(x) => out.push_str(&float_repr(x)),
                None => {
                    let _ = write!(out, "{value}");
                }
            },
            ValueKind::Iterable => {
                let items: Vec<Value> = value.try_iter()?.collect();
                json_value(out, &Value::from(items), indent, depth)?;
            }
            _ => {
                return Err(type_error(format!(
                    "Object of type {} is not JSON serializable",
                    type_name(value)
                )));
            }
        },
    }
    Ok(())
}

/// `tojson(indent=none)`.
fn tojson(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("tojson", &args.into_values(), &["indent"])?;
    let indent = match args.get(0).filter(|i| !i.is_none()) {
        Some(i) if i.kind() == ValueKind::String => Some(i.as_str().unwrap_or_default().to_owned()),
        Some(_) => Some(" ".repeat(usize::try_from(args.int(0, "tojson", 0)?).unwrap_or(0))),
        None => None,
    };
    let mut out = String::new();
    json_value(&mut out, value, indent.as_deref(), 0)?;
    Ok(Value::from_safe_string(out))
}
