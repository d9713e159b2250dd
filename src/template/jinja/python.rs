//! Python's value semantics in templates, registered on the environment by [`register`]:
//! the functions the source pre-pass ([`super::rewrite`]) routes `%`, `in` and literals to,
//! Python's printing ([`super::pyrepr`]) and Python's methods ([`super::methods`]).
//!
//! List and dict literals of a template that mutates (`xs.append(x)`, `d.update(…)`) are
//! [`PyList`] and [`PyDict`]: shared, mutable values, so a change made inside a loop or an
//! `if` is seen wherever the value is, as in Jinja2.

use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{ArgType, Enumerator, Kwargs, Object, ObjectRepr, Tuple, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

mod dict;

pub(crate) use dict::PyDict;

use super::methods;
use super::percent::{py_mod, py_pow, type_name};
use super::pyrepr;
use super::rewrite::{DICT_FN, IN_FN, LIST_FN, MOD_FN};

/// Installs Python's semantics on `env`.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function(MOD_FN, |a: Value, b: Value| py_mod(&a, &b));
    env.add_function("__pygen_pow", |a: Value, b: Value| py_pow(&a, &b));
    env.add_function(IN_FN, |item: Value, container: Value| {
        py_in(&item, &container).map(Value::from)
    });
    env.add_function(LIST_FN, |v: Value| -> Result<Value, Error> {
        Ok(PyList::value(v.try_iter()?.collect()))
    });
    env.add_function(DICT_FN, |v: Value| -> Result<Value, Error> {
        Ok(PyDict::value(entries(&v)?))
    });
    env.add_function("__pygen_iter", |v: Value| -> Value {
        // minijinja iterates strings lazily, so `loop.length`, `loop.last` and
        // `loop.revindex` would be unknown; Jinja2 knows them.
        match v.as_str() {
            Some(s) if v.kind() == ValueKind::String => {
                Value::from(s.chars().map(Value::from).collect::<Vec<_>>())
            }
            _ => v,
        }
    });
    env.add_function("__pygen_varmacro", |inner: Value, names: Vec<String>| {
        Value::from_object(VarMacro { inner, names })
    });
    env.set_formatter(pyrepr::formatter);
    env.set_unknown_method_callback(methods::unknown_method);
}

/// Python's `item in container`: keys of a mapping compared exactly, items of a sequence,
/// substrings of a string; `False` for an undefined container; a type error otherwise.
pub(crate) fn py_in(item: &Value, container: &Value) -> Result<bool, Error> {
    match container.kind() {
        ValueKind::Undefined => Ok(false),
        ValueKind::String => match item.as_str() {
            Some(needle) => Ok(container.as_str().unwrap_or_default().contains(needle)),
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "'in <string>' requires string as left operand, not {}",
                    type_name(item)
                ),
            )),
        },
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable => {
            Ok(container.try_iter()?.any(|x| &x == item))
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "argument of type '{}' is not iterable",
                type_name(container)
            ),
        )),
    }
}

/// The `(key, value)` pairs of a map value, in its order.
pub(crate) fn entries(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if let Some(dict) = v.downcast_object_ref::<PyDict>() {
        return Ok(dict.lock().clone());
    }
    if v.kind() != ValueKind::Map {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot convert {} to dict", type_name(v)),
        ));
    }
    v.try_iter()?
        .map(|k| {
            let value = v.get_item(&k)?;
            Ok((k, value))
        })
        .collect()
}

/// A macro that takes extra arguments as Jinja2's do: positional ones beyond its
/// parameters go to `varargs`, unknown keyword ones to `kwargs`.
#[derive(Debug)]
struct VarMacro {
    /// The macro with `varargs` and `kwargs` as parameters.
    inner: Value,
    /// Its own parameters, in order.
    names: Vec<String>,
}

impl Object for VarMacro {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (positional, kwargs) = split_kwargs(args);
        let declared = positional.len().min(self.names.len());
        let mut call_args: Vec<Value> = positional[..declared].to_vec();
        let varargs = Value::from_object(Tuple::from(positional[declared..].to_vec()));
        let mut forwarded: Vec<(String, Value)> = Vec::new();
        let mut extra: Vec<(Value, Value)> = Vec::new();
        for (k, v) in kwargs {
            let key = k.as_str().unwrap_or_default().to_owned();
            if key == "caller" || self.names.contains(&key) {
                forwarded.push((key, v));
            } else {
                extra.push((k, v));
            }
        }
        forwarded.push(("varargs".into(), varargs));
        forwarded.push(("kwargs".into(), PyDict::value(extra)));
        call_args.push(Value::from(forwarded.into_iter().collect::<Kwargs>()));
        self.inner.call(state, &call_args)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result
    where
        Self: Sized + 'static,
    {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

/// Locks a value list; a panic elsewhere while holding it left it usable anyway.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A mutable list (a list literal of a template that mutates).
#[derive(Debug, Default)]
pub(crate) struct PyList {
    /// The items.
    items: Mutex<Vec<Value>>,
}

impl PyList {
    /// A list value of `items`.
    pub(crate) fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList {
            items: Mutex::new(items),
        })
    }

    /// The items, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        lock(&self.items)
    }
}

/// Python's index of `at` in a sequence of `len` items (negative counts from the end).
fn index(at: &Value, len: usize) -> Option<usize> {
    let i = i64::try_from(at.clone()).ok()?;
    let i = if i < 0 { i + len as i64 } else { i };
    usize::try_from(i).ok().filter(|&i| i < len)
}

/// The arguments of a method call, checked for count.
fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min || args.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "{method}() takes {min} to {max} arguments ({} given)",
                args.len()
            ),
        ));
    }
    Ok(())
}

/// An error Python raises as `ValueError`/`IndexError`/`KeyError`.
fn value_error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.lock();
        index(key, items.len()).map(|i| items[i].clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.lock().is_empty()
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&pyrepr::py_repr(&Value::from_dyn_object(self.clone())))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let none = Value::from(());
        match method {
            "append" => {
                arity(method, args, 1, 1)?;
                self.lock().push(args[0].clone());
                Ok(none)
            }
            "extend" => {
                arity(method, args, 1, 1)?;
                let new: Vec<Value> = args[0].try_iter()?.collect();
                self.lock().extend(new);
                Ok(none)
            }
            "insert" => {
                arity(method, args, 2, 2)?;
                let mut items = self.lock();
                let len = items.len() as i64;
                let at = i64::try_from(args[0].clone())?;
                let at = if at < 0 {
                    (at + len).max(0)
                } else {
                    at.min(len)
                };
                items.insert(at as usize, args[1].clone());
                Ok(none)
            }
            "pop" => {
                arity(method, args, 0, 1)?;
                let mut items = self.lock();
                let at = args.first().cloned().unwrap_or(Value::from(-1));
                match index(&at, items.len()) {
                    Some(i) => Ok(items.remove(i)),
                    None if items.is_empty() => Err(value_error("pop from empty list".into())),
                    None => Err(value_error("pop index out of range".into())),
                }
            }
            "remove" => {
                arity(method, args, 1, 1)?;
                let mut items = self.lock();
                match items.iter().position(|x| x == &args[0]) {
                    Some(i) => {
                        items.remove(i);
                        Ok(none)
                    }
                    None => Err(value_error("list.remove(x): x not in list".into())),
                }
            }
            "clear" => {
                arity(method, args, 0, 0)?;
                self.lock().clear();
                Ok(none)
            }
            "reverse" => {
                arity(method, args, 0, 0)?;
                self.lock().reverse();
                Ok(none)
            }
            "copy" => {
                arity(method, args, 0, 0)?;
                Ok(PyList::value(self.lock().clone()))
            }
            _ => {
                let plain = Value::from(self.lock().clone());
                methods::seq_method(&plain, method, args)
            }
        }
    }
}

/// Splits keyword arguments (passed by minijinja as a trailing kwargs map) off positional
/// ones.
pub(crate) fn split_kwargs(args: &[Value]) -> (&[Value], Vec<(Value, Value)>) {
    if let Some((last, rest)) = args.split_last()
        && let Ok(kwargs) = <Kwargs as ArgType>::from_value(Some(last))
    {
        let pairs = kwargs
            .args()
            .map(|k| (Value::from(k), kwargs.peek::<Value>(k).unwrap_or_default()))
            .collect();
        return (rest, pairs);
    }
    (args, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str) -> String {
        let mut env = Environment::new();
        register(&mut env);
        let source = super::super::rewrite::rewrite(template, Default::default())
            .map(|(t, _)| t)
            .unwrap_or_else(|| template.to_owned());
        env.render_str(&source, ())
            .unwrap_or_else(|e| format!("ERROR {e}"))
    }

    #[test]
    fn mutation_idioms() {
        assert_eq!(
            render(
                "{% set xs = [] %}{% for i in range(3) %}{% set _ = xs.append(i * 2) %}{% endfor %}{{ xs }}"
            ),
            "[0, 2, 4]"
        );
        assert_eq!(
            render(
                "{% set d = {'b': 1} %}{% for k in ['z', 'a'] %}{% if d.update({k: loop.index}) %}{% endif %}{% endfor %}{{ d }} {{ d.pop('b') }} {{ d|length }}"
            ),
            "{'b': 1, 'z': 1, 'a': 2} 1 2"
        );
        assert_eq!(
            render("{{ 'a' in {'a': 1} }} {{ 2 not in [1, 2] }} {{ 'b' in 'abc' }}"),
            "True False True"
        );
    }
}

#[cfg(test)]
mod located_tests {
    use crate::template::Unit;
    use crate::template::jinja::JinjaTemplate;

    fn error(text: &str) -> String {
        JinjaTemplate::compile(Unit {
            name: "t".to_owned(),
            description: "inline template".to_owned(),
            text: text.into(),
            folder: None,
        })
        .and_then(|t| t.render(minijinja::context! {}))
        .map_or_else(|e| e.to_string(), |out| format!("rendered {out}"))
    }

    #[test]
    fn errors_point_at_the_original_text() {
        let e = error("{{ '%s' % 1 }}\n  {{ 'x' ~ '%d' % 'y' }}");
        assert!(e.starts_with("t:2:12: "), "{e}");
        assert!(
            e.contains("%d format: a real number is required, not str"),
            "{e}"
        );
        let e = error("{% set xs = [] %}{% set _ = xs.append(1) %}{{ nope.x }}");
        assert!(e.starts_with("t:1:47: "), "{e}");
        let e = error("{{ 'a' in 'b' }} {{ 1 in 5 }}");
        assert!(e.starts_with("t:1:21: "), "{e}");
    }
}
