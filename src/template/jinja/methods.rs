//! Python's methods on template values (`s.split(',')`, `'{:>8}'.format(x)`,
//! `d.items()`, `xs.index(x)`), with Python's arguments, results and errors, for values
//! that are not pygen objects with methods of their own. What is not handled here goes to
//! minijinja-contrib's `pycompat`; an unknown method stays an error, as in Jinja2.
//!
//! This file dispatches by kind and holds the argument helpers and the dict and list methods;
//! string methods are in `strings` and `split`, `str.format` in `format` and `format_spec`.

use minijinja::value::{Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::percent::type_name;
use super::pyrepr::py_repr;
use super::python::{PyDict, PyList, entries, split_kwargs};

mod format;
mod format_spec;
mod split;
mod strings;

use strings::{char_range, str_method};

/// The environment's unknown-method callback.
pub(crate) fn unknown_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let handled = match value.kind() {
        ValueKind::String => str_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => map_method(value, method, args),
        ValueKind::Seq if matches!(method, "index" | "count" | "copy") => {
            Some(seq_method(value, method, args))
        }
        _ => None,
    };
    match handled {
        Some(result) => result,
        None => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// An error Python raises as `TypeError`, `ValueError`, `IndexError` or `KeyError`.
fn err(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Checks the count of positional arguments.
fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min {
        return Err(err(format!(
            "{method}() takes at least {min} argument{} ({} given)",
            if min == 1 { "" } else { "s" },
            args.len()
        )));
    }
    if args.len() > max {
        return Err(err(format!(
            "{method}() takes at most {max} argument{} ({} given)",
            if max == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

/// A string argument.
fn str_arg<'a>(method: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str().ok_or_else(|| {
        err(format!(
            "{method}() argument must be str, not {}",
            type_name(v)
        ))
    })
}

/// An optional string argument (`None` or absent means the default).
fn opt_str<'a>(method: &str, v: Option<&'a Value>) -> Result<Option<&'a str>, Error> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => str_arg(method, v).map(Some),
    }
}

/// An integer argument.
fn int_arg(v: &Value) -> Result<i64, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(i64::from(v.is_true()));
    }
    if !v.is_integer() {
        return Err(err(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(v)
        )));
    }
    i64::try_from(v.clone())
}

/// Arguments with keywords merged in by name, in the method's parameter order.
fn named(args: &[Value], names: &[&str]) -> Result<Vec<Option<Value>>, Error> {
    let (positional, kwargs) = split_kwargs(args);
    let mut out: Vec<Option<Value>> = names.iter().map(|_| None).collect();
    for (i, v) in positional.iter().enumerate() {
        match out.get_mut(i) {
            Some(slot) => *slot = Some(v.clone()),
            None => return Err(err("too many arguments")),
        }
    }
    for (k, v) in kwargs {
        let k = k.as_str().unwrap_or_default().to_owned();
        match names.iter().position(|n| *n == k) {
            Some(i) => out[i] = Some(v),
            None => return Err(err(format!("'{k}' is an invalid keyword argument"))),
        }
    }
    Ok(out)
}

/// A tuple value.
fn tuple(items: Vec<Value>) -> Value {
    Value::from_object(Tuple::from(items))
}

/// Python's dict methods on plain maps; `None` for others.
fn map_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    Some(match method {
        "copy" => arity(method, args, 0, 0).and_then(|()| Ok(PyDict::value(entries(value)?))),
        "items" => arity(method, args, 0, 0).and_then(|()| {
            Ok(Value::from(
                entries(value)?
                    .into_iter()
                    .map(|(k, v)| tuple(vec![k, v]))
                    .collect::<Vec<_>>(),
            ))
        }),
        "keys" => arity(method, args, 0, 0)
            .and_then(|()| Ok(Value::from(value.try_iter()?.collect::<Vec<_>>()))),
        "values" => arity(method, args, 0, 0).and_then(|()| {
            Ok(Value::from(
                entries(value)?
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            ))
        }),
        "get" => arity(method, args, 1, 2).and_then(|()| {
            let found = entries(value)?
                .into_iter()
                .find(|(k, _)| *k == args[0])
                .map(|(_, v)| v);
            Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::from(()))))
        }),
        _ => return None,
    })
}

/// Python's list methods on plain sequences; `None` for others.
pub(crate) fn seq_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let items = || -> Result<Vec<Value>, Error> { Ok(value.try_iter()?.collect()) };
    match method {
        "index" => {
            arity(method, args, 1, 3)?;
            let all = items()?;
            let (start, end) = char_range(all.len(), args.get(1), args.get(2))?;
            all.iter()
                .enumerate()
                .skip(start)
                .take(end.saturating_sub(start))
                .find(|(_, x)| *x == &args[0])
                .map(|(i, _)| Value::from(i))
                .ok_or_else(|| err(format!("{} is not in list", py_repr(&args[0]))))
        }
        "count" => {
            arity(method, args, 1, 1)?;
            Ok(Value::from(
                items()?.iter().filter(|x| *x == &args[0]).count(),
            ))
        }
        "copy" => {
            arity(method, args, 0, 0)?;
            Ok(PyList::value(items()?))
        }
        _ => Err(Error::new(
            ErrorKind::UnknownMethod,
            format!("{} object has no attribute '{method}'", type_name(value)),
        )),
    }
}
