//! Jinja2's builtin filters where minijinja has none or behaves differently, registered over
//! minijinja's own by [`register`]: the one entry point `new_environment()` calls for the
//! builtin filters, tests and globals. The families live in `filters_text.rs` (strings and
//! markup), `filters_seq.rs` (lists and dicts), `filters_num.rs` (numbers) and
//! `filters_json.rs` (`tojson`, `pprint`); this file holds what they share: Jinja2's argument
//! binding (positional or keyword), attribute paths (`a.0.b`), Python's ordering.

use std::cmp::Ordering;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use super::{filters_json, filters_num, filters_seq, filters_text, globals, predicates};

/// Registers Jinja2's builtin filters, tests and globals into `env`, replacing minijinja's
/// where they differ.
pub(crate) fn register(env: &mut Environment<'static>) {
    filters_text::register(env);
    filters_seq::register(env);
    filters_num::register(env);
    filters_json::register(env);
    predicates::register(env);
    globals::register(env);
}

/// The arguments of a call, bound to Jinja2's parameter names: positional ones first, then
/// keyword ones (minijinja passes those as a trailing keyword-arguments map).
pub(crate) struct Args {
    /// One slot per parameter name, `None` when not given.
    slots: Vec<Option<Value>>,
}

impl Args {
    /// Binds `args` to `names` as Python would, refusing extra or unknown arguments.
    pub(crate) fn bind(what: &str, args: &[Value], names: &[&str]) -> Result<Args, Error> {
        let (positional, kwargs) = match args.split_last() {
            Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
            _ => (args, None),
        };
        if positional.len() > names.len() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!(
                    "{what}() takes at most {} arguments ({} given)",
                    names.len(),
                    positional.len()
                ),
            ));
        }
        let mut slots: Vec<Option<Value>> = vec![None; names.len()];
        for (slot, value) in slots.iter_mut().zip(positional) {
            *slot = Some(value.clone());
        }
        if let Some(kwargs) = kwargs {
            for key in kwargs.try_iter()? {
                let name = key.as_str().unwrap_or_default();
                let Some(at) = names.iter().position(|n| *n == name) else {
                    return Err(Error::new(
                        ErrorKind::TooManyArguments,
                        format!("{what}() got an unexpected keyword argument '{name}'"),
                    ));
                };
                if slots[at].is_some() {
                    return Err(Error::new(
                        ErrorKind::TooManyArguments,
                        format!("{what}() got multiple values for argument '{name}'"),
                    ));
                }
                slots[at] = Some(kwargs.get_item(&key)?);
            }
        }
        Ok(Args { slots })
    }

    /// The argument at `at`, if given.
    pub(crate) fn get(&self, at: usize) -> Option<&Value> {
        self.slots.get(at).and_then(Option::as_ref)
    }

    /// The argument at `at`, or `default`.
    pub(crate) fn value_or(&self, at: usize, default: Value) -> Value {
        self.get(at).cloned().unwrap_or(default)
    }

    /// The argument at `at` by Python truthiness, or `default`.
    pub(crate) fn flag(&self, at: usize, default: bool) -> bool {
        self.get(at).map_or(default, Value::is_true)
    }

    /// The argument at `at` as an integer, or `default`; a type error otherwise.
    pub(crate) fn int(&self, at: usize, what: &str, default: i64) -> Result<i64, Error> {
        match self.get(at) {
            None => Ok(default),
            Some(v) if v.kind() == ValueKind::Bool => Ok(i64::from(v.is_true())),
            Some(v) => v.as_i64().ok_or_else(|| {
                type_error(format!(
                    "{what}: '{}' object cannot be interpreted as an integer",
                    type_name(v)
                ))
            }),
        }
    }
}

/// A Python `TypeError` (the render fails, as in Jinja2).
pub(crate) fn type_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Python's name of a value's type, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if value.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// The text of a value as Jinja2's filters see it (`str(value)`); undefined is empty.
pub(crate) fn string_of(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::Invalid => Err(type_error("invalid value has no text")),
        ValueKind::Undefined => Ok(String::new()),
        ValueKind::String => Ok(value.as_str().unwrap_or_default().to_owned()),
        _ => Ok(repr(value)),
    }
}

/// The float inside a number value, if it is a float (not an integer).
pub(crate) fn float_of(value: &Value) -> Option<f64> {
    if value.is_integer() || value.kind() != ValueKind::Number {
        return None;
    }
    f64::try_from(value.clone()).ok()
}

pub(crate) use super::pyrepr::{float_repr, str_repr};

/// Python's `repr(value)` for what filters print: scalars, lists, tuples, dicts in their
/// order; other objects as the engine displays them.
pub(crate) fn repr(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".to_owned(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.to_owned(),
        ValueKind::String => str_repr(value.as_str().unwrap_or_default()),
        ValueKind::Number => float_of(value).map_or_else(|| value.to_string(), float_repr),
        ValueKind::Seq => {
            let items: Vec<String> = value
                .try_iter()
                .map(|i| i.map(|v| repr(&v)).collect())
                .unwrap_or_default();
            if value.is_tuple() || super::filters_seq::GroupTuple::parts(value).is_some() {
                if items.len() == 1 {
                    format!("({},)", items[0])
                } else {
                    format!("({})", items.join(", "))
                }
            } else {
                format!("[{}]", items.join(", "))
            }
        }
        ValueKind::Map
            if value
                .as_object()
                .is_none_or(|o| matches!(o.repr(), minijinja::value::ObjectRepr::Map)) =>
        {
            let items: Vec<String> = value
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        format!(
                            "{}: {}",
                            repr(&k),
                            repr(&value.get_item(&k).unwrap_or_default())
                        )
                    })
                    .collect()
                })
                .unwrap_or_default();
            format!("{{{}}}", items.join(", "))
        }
        _ => value.to_string(),
    }
}

/// One step of an attribute path: an index when the part is all digits, a name otherwise.
fn path_parts(attribute: &Value) -> Vec<Value> {
    if let Some(path) = attribute.as_str() {
        path.split('.')
            .map(|part| match part.parse::<i64>() {
                Ok(index) if part.bytes().all(|b| b.is_ascii_digit()) => Value::from(index),
                _ => Value::from(part),
            })
            .collect()
    } else {
        vec![attribute.clone()]
    }
}

/// Looks up one key as Jinja2's `getitem`: subscript first, then the attribute of that name.
fn get_one(value: &Value, key: &Value) -> Value {
    match value.get_item(key) {
        Ok(found) if !found.is_undefined() => found,
        _ => match key.as_str() {
            Some(name) => value.get_attr(name).unwrap_or_default(),
            None => Value::UNDEFINED,
        },
    }
}

/// Jinja2's `make_attrgetter`: follows `attribute` (`'a.0.b'` or an integer) into `item`,
/// giving `default` when the result is undefined.
#[derive(Clone)]
pub(crate) struct AttrGetter {
    /// The path, one key per step; empty means the item itself.
    parts: Vec<Value>,
    /// What an undefined result becomes, if given.
    default: Option<Value>,
    /// Whether strings are lowercased (for `case_sensitive=false`).
    ignore_case: bool,
}

impl AttrGetter {
    /// A getter for `attribute` (none: the item itself).
    pub(crate) fn new(
        attribute: Option<&Value>,
        default: Option<Value>,
        ignore_case: bool,
    ) -> Self {
        AttrGetter {
            parts: attribute
                .filter(|a| !a.is_none() && !a.is_undefined())
                .map(path_parts)
                .unwrap_or_default(),
            default,
            ignore_case,
        }
    }

    /// The value at the path in `item`.
    pub(crate) fn get(&self, item: &Value) -> Value {
        let mut value = item.clone();
        for part in &self.parts {
            value = get_one(&value, part);
            if value.is_undefined() {
                break;
            }
        }
        if value.is_undefined() {
            if let Some(default) = &self.default {
                value = default.clone();
            }
        }
        if self.ignore_case {
            lower_if_string(value)
        } else {
            value
        }
    }
}

/// Jinja2's `ignore_case`: a string lowercased, anything else unchanged. A string that is
/// lowercase already (the usual label value) is kept as it is, without a copy.
pub(crate) fn lower_if_string(value: Value) -> Value {
    match value.as_str() {
        Some(s)
            if value.kind() == ValueKind::String
                && s.is_ascii()
                && !s.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            value
        }
        Some(s) => Value::from(s.to_lowercase()),
        None => value,
    }
}

/// A number as Python compares it: integers exactly, floats as floats.
enum Num {
    /// An integer or a boolean.
    Int(i128),
    /// A float.
    Float(f64),
}

fn num_of(value: &Value) -> Option<Num> {
    match value.kind() {
        ValueKind::Bool => Some(Num::Int(i128::from(value.is_true()))),
        ValueKind::Number if value.is_integer() => i128::try_from(value.clone()).ok().map(Num::Int),
        ValueKind::Number => f64::try_from(value.clone()).ok().map(Num::Float),
        _ => None,
    }
}

/// The text of a string value (not of bytes, which `as_str` also reads).
fn text_of(value: &Value) -> Option<&str> {
    match value.kind() {
        ValueKind::String => value.as_str(),
        _ => None,
    }
}

/// Python's `a == b` for the values filters compare.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(a), Some(b)) = (text_of(a), text_of(b)) {
        return a == b;
    }
    if a.is_undefined() || b.is_undefined() {
        return a.is_undefined() && b.is_undefined();
    }
    match (num_of(a), num_of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
        (Some(x), Some(y)) => as_f64(&x) == as_f64(&y),
        (None, None) => a == b,
        _ => false,
    }
}

fn as_f64(n: &Num) -> f64 {
    match n {
        // Precision loss is Python's too when it compares an int with a float this large.
        Num::Int(i) => *i as f64,
        Num::Float(f) => *f,
    }
}

/// Python's ordering of two values (`sorted`, `min`, `max`): numbers with numbers, strings
/// by code point, sequences item by item; a `TypeError` for anything else.
pub(crate) fn py_cmp(a: &Value, b: &Value) -> Result<Ordering, Error> {
    if let (Some(x), Some(y)) = (text_of(a), text_of(b)) {
        return Ok(x.cmp(y));
    }
    if let (Some(x), Some(y)) = (num_of(a), num_of(b)) {
        return Ok(match (x, y) {
            (Num::Int(x), Num::Int(y)) => x.cmp(&y),
            (x, y) => as_f64(&x)
                .partial_cmp(&as_f64(&y))
                .unwrap_or(Ordering::Equal),
        });
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => Ok(a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default())),
        (ValueKind::Seq, ValueKind::Seq) if a.is_tuple() == b.is_tuple() => {
            let xs: Vec<Value> = a.try_iter()?.collect();
            let ys: Vec<Value> = b.try_iter()?.collect();
            for (x, y) in xs.iter().zip(&ys) {
                if !py_eq(x, y) {
                    return py_cmp(x, y);
                }
            }
            Ok(xs.len().cmp(&ys.len()))
        }
        _ => Err(type_error(format!(
            "'<' not supported between instances of '{}' and '{}'",
            type_name(a),
            type_name(b)
        ))),
    }
}

/// Sorts `items` by `key` as Python's `sorted(items, key=key, reverse=reverse)` (stable,
/// also when reversed), failing on the first pair Python cannot order.
pub(crate) fn sort_by_key(
    items: Vec<Value>,
    key: impl Fn(&Value) -> Value,
    reverse: bool,
) -> Result<Vec<Value>, Error> {
    let keyed = sort_keyed(items.into_iter().map(|i| (key(&i), i)).collect(), reverse)?;
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// Sorts `(key, item)` pairs by key as [`sort_by_key`] does, keeping the keys (each key is
/// computed once, and `groupby` groups on them).
pub(crate) fn sort_keyed(
    mut keyed: Vec<(Value, Value)>,
    reverse: bool,
) -> Result<Vec<(Value, Value)>, Error> {
    let order = |ordering: Ordering| {
        if reverse {
            ordering.reverse()
        } else {
            ordering
        }
    };
    if keyed.iter().all(|(k, _)| text_of(k).is_some()) {
        // Strings only (labels, names): Python orders them by code point, as `str::cmp` does,
        // and no pair can fail. Comparing borrowed strings spares `py_cmp`'s checks per pair.
        keyed.sort_by(|(a, _), (b, _)| {
            order(
                a.as_str()
                    .unwrap_or_default()
                    .cmp(b.as_str().unwrap_or_default()),
            )
        });
        return Ok(keyed);
    }
    let mut failure = None;
    keyed.sort_by(|(a, _), (b, _)| match py_cmp(a, b) {
        Ok(o) => order(o),
        Err(e) => {
            failure.get_or_insert(e);
            Ordering::Equal
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(keyed),
    }
}

/// The items of an iterable value (a map gives its keys, a string its characters);
/// undefined gives none; none and numbers are a `TypeError`, as in Python.
pub(crate) fn items_of(value: &Value) -> Result<Vec<Value>, Error> {
    match value.kind() {
        ValueKind::Undefined => Ok(Vec::new()),
        ValueKind::None | ValueKind::Bool | ValueKind::Number => Err(type_error(format!(
            "'{}' object is not iterable",
            type_name(value)
        ))),
        _ => Ok(value.try_iter()?.collect()),
    }
}
