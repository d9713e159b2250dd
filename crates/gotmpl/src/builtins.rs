//! The template language's builtin functions (`and`, `or`, `not`, `len`, `index`, `slice`,
//! `eq`...`ge`, `print`, `printf`, `println`, `html`, `js`, `urlquery`, `call`) with the
//! semantics and error texts of Go's `text/template/funcs.go`. `and`/`or` short-circuit in the
//! executor; the rest are plain functions over evaluated arguments.

use crate::fmt::{sprint, sprintf, sprintln};
use crate::funcs::FuncError;
use crate::value::Value;

/// The names of the builtins, for the parser's "function not defined" check.
pub const NAMES: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// The number of fixed parameters and whether more may follow, as Go declares each builtin.
pub fn arity(name: &str) -> (usize, bool) {
    match name {
        "and" | "or" | "call" | "index" | "slice" | "eq" | "printf" => (1, true),
        "not" | "len" => (1, false),
        "ne" | "lt" | "le" | "gt" | "ge" => (2, false),
        _ => (0, true),
    }
}

type R = Result<Value, FuncError>;

fn err(msg: impl Into<String>) -> FuncError {
    FuncError(msg.into())
}

/// Calls the builtin `name` (not `and`/`or`, which the executor evaluates lazily).
pub fn call(name: &str, args: &[Value]) -> R {
    match name {
        "call" => call_fn(args),
        "eq" => eq(&args[0], &args[1..]).map(Value::Bool),
        "ne" => ne(&args[0], &args[1]).map(Value::Bool),
        "lt" => lt(&args[0], &args[1]).map(Value::Bool),
        "le" => le(&args[0], &args[1]).map(Value::Bool),
        "gt" => le(&args[0], &args[1]).map(|b| Value::Bool(!b)),
        "ge" => lt(&args[0], &args[1]).map(|b| Value::Bool(!b)),
        "html" => Ok(Value::from(html_escape(&eval_args(args)))),
        "js" => Ok(Value::from(js_escape(&eval_args(args)))),
        "urlquery" => Ok(Value::from(query_escape(&eval_args(args)))),
        "index" => index(&args[0], &args[1..]),
        "slice" => slice(&args[0], &args[1..]),
        "len" => len(&args[0]),
        "not" => Ok(Value::Bool(!args[0].is_truthy())),
        "print" => Ok(Value::from(sprint(args))),
        "println" => Ok(Value::from(sprintln(args))),
        "printf" => {
            let f = args[0].as_str().unwrap_or_default();
            Ok(Value::from(sprintf(f, &args[1..])))
        }
        _ => Err(err(format!("{name} is not a builtin"))),
    }
}

fn call_fn(args: &[Value]) -> R {
    match &args[0] {
        Value::Nil => Err(err("call of nil")),
        Value::Func(f) => f(&args[1..]),
        other => Err(err(format!("non-function of type {}", other.type_name()))),
    }
}

/// The text of html/js/urlquery arguments: a lone string as is, else `fmt.Sprint` with nil
/// values shown as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let shown: Vec<Value> = args
        .iter()
        .map(|a| {
            if a.is_nil() {
                Value::str("<no value>")
            } else {
                a.clone()
            }
        })
        .collect();
    sprint(&shown)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if (c as u32) < 0x80 => out.push(c),
            c if !c.is_control() && !c.is_whitespace() => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, FuncError> {
    let x: i128 = match index {
        Value::Int(i) => i128::from(*i),
        Value::Uint(u) => i128::from(*u),
        Value::Duration(d) => i128::from(*d),
        Value::Nil => return Err(err("cannot index slice/array with nil")),
        other => {
            return Err(err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    if x < 0 || x > cap as i128 {
        return Err(err(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

/// Go's `index`: successive indexes into lists, strings and maps.
pub fn index(item: &Value, indexes: &[Value]) -> R {
    if item.is_nil() {
        return Err(err("index of untyped nil"));
    }
    let mut item = item.as_list_like();
    for ix in indexes {
        item = match &item.as_list_like() {
            Value::List(l) => {
                let l = l.borrow();
                let x = index_arg(ix, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    // Go's reflect panics for an index equal to the length.
                    None => return Err(err("reflect: slice index out of range")),
                }
            }
            Value::String(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(i64::from(*b)),
                    None => return Err(err("reflect: string index out of range")),
                }
            }
            Value::Map(m) => match ix {
                Value::String(k) => m.borrow().get(&**k).cloned().unwrap_or(Value::Nil),
                Value::Nil => return Err(err("value is nil; should be of type string")),
                other => {
                    return Err(err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            Value::Nil => return Err(err("index of nil pointer")),
            other => {
                return Err(err(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

/// Go's `slice`: `slice x 1 2` is `x[1:2]`.
pub fn slice(item: &Value, indexes: &[Value]) -> R {
    if item.is_nil() {
        return Err(err("slice of untyped nil"));
    }
    if indexes.len() > 3 {
        return Err(err(format!("too many slice indexes: {}", indexes.len())));
    }
    let item = &item.as_list_like();
    let len = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(err("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.borrow().len(),
        other => {
            return Err(err(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(err(format!("invalid slice index: {} > {}", idx[0], idx[1])));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(err(format!("invalid slice index: {} > {}", idx[1], idx[2])));
    }
    Ok(match item {
        Value::String(s) => {
            Value::from(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::List(l) => Value::list(l.borrow()[idx[0]..idx[1]].to_vec()),
        _ => Value::Nil,
    })
}

/// Go's `len`.
pub fn len(item: &Value) -> R {
    let n = match &item.as_list_like() {
        Value::String(s) => s.len(),
        Value::List(l) => l.borrow().len(),
        Value::Map(m) => m.borrow().len(),
        // Go's len reflects on the missing value and panics.
        Value::Nil => return Err(err("reflect: call of reflect.Value.Type on zero Value")),
        other => return Err(err(format!("len of type {}", other.type_name()))),
    };
    Ok(Value::Int(n as i64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    String,
    /// nil and every non-basic kind (lists, maps, records, times, funcs).
    Invalid,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Duration(_) => Kind::Int,
        Value::Uint(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn as_int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Duration(i) => *i,
        _ => 0,
    }
}

fn as_uint(v: &Value) -> u64 {
    match v {
        Value::Uint(u) => *u,
        _ => 0,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq arg1 arg2...`: true if arg1 equals any of the others.
pub fn eq(arg1: &Value, rest: &[Value]) -> Result<bool, FuncError> {
    if rest.is_empty() {
        return Err(err("missing argument for comparison"));
    }
    let k1 = basic_kind(arg1);
    for arg in rest {
        let k2 = basic_kind(arg);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Kind::Int, Kind::Uint) => as_int(arg1) >= 0 && as_int(arg1) as u64 == as_uint(arg),
                (Kind::Uint, Kind::Int) => as_int(arg) >= 0 && as_uint(arg1) == as_int(arg) as u64,
                _ => {
                    if !arg1.is_nil() && !arg.is_nil() {
                        return Err(err(BAD_COMPARISON));
                    }
                    false
                }
            }
        } else {
            match (arg1, arg) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::String(a), Value::String(b)) => a == b,
                (Value::Uint(a), Value::Uint(b)) => a == b,
                _ if k1 == Kind::Int => as_int(arg1) == as_int(arg),
                _ if arg1.is_nil() || arg.is_nil() => arg1.is_nil() == arg.is_nil(),
                (Value::Time(a), Value::Time(b)) => a == b,
                (Value::List(_) | Value::Map(_) | Value::Func(_), _) => {
                    return Err(err(format!(
                        "non-comparable type {}: {}",
                        sprintf("%s", std::slice::from_ref(arg1)),
                        arg1.type_name()
                    )));
                }
                (_, Value::List(_) | Value::Map(_) | Value::Func(_)) => {
                    return Err(err(format!(
                        "non-comparable type {}: {}",
                        sprintf("%s", std::slice::from_ref(arg)),
                        arg.type_name()
                    )));
                }
                (Value::Record(a), Value::Record(b)) => {
                    a.type_name == b.type_name
                        && sprintf("%#v", std::slice::from_ref(arg1))
                            == sprintf("%#v", std::slice::from_ref(arg))
                }
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `ne`.
pub fn ne(a: &Value, b: &Value) -> Result<bool, FuncError> {
    eq(a, std::slice::from_ref(b)).map(|t| !t)
}

/// Go's `lt`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let k1 = basic_kind(a);
    if k1 == Kind::Invalid {
        return Err(err(BAD_COMPARISON_TYPE));
    }
    let k2 = basic_kind(b);
    if k2 == Kind::Invalid {
        return Err(err(BAD_COMPARISON_TYPE));
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(as_int(a) < 0 || (as_int(a) as u64) < as_uint(b)),
            (Kind::Uint, Kind::Int) => Ok(as_int(b) >= 0 && as_uint(a) < as_int(b) as u64),
            _ => Err(err(BAD_COMPARISON)),
        };
    }
    Ok(match (a, b) {
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x.as_bytes() < y.as_bytes(),
        (Value::Uint(x), Value::Uint(y)) => x < y,
        (Value::Bool(_), _) => return Err(err(BAD_COMPARISON_TYPE)),
        _ => as_int(a) < as_int(b),
    })
}

/// Go's `le`.
pub fn le(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapers() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            js_escape("'\"\\<=>&\n"),
            "\\'\\\"\\\\\\u003C\\u003D\\u003E\\u0026\\u000A"
        );
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn comparisons_mix_ints_and_uints_only() {
        assert_eq!(eq(&Value::Int(1), &[Value::Uint(1)]), Ok(true));
        assert_eq!(lt(&Value::Int(-1), &Value::Uint(0)), Ok(true));
        assert_eq!(
            eq(&Value::Int(1), &[Value::Float(1.0)]),
            Err(err(BAD_COMPARISON))
        );
        assert_eq!(
            lt(&Value::Bool(true), &Value::Bool(false)),
            Err(err(BAD_COMPARISON_TYPE))
        );
        assert_eq!(eq(&Value::Nil, &[Value::str("x")]), Ok(false));
        assert_eq!(
            eq(&Value::Int(2), &[Value::Int(1), Value::Int(2)]),
            Ok(true)
        );
    }
}
