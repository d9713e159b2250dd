//! [`PyDict`]: the mutable dict a dict literal becomes in a template that mutates, with
//! Python's dict methods (`update`, `pop`, `setdefault`, `items`...) and insertion order.

use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Enumerator, Object, ObjectRepr, Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use crate::template::jinja::pyrepr;

use super::{arity, entries, lock, split_kwargs, value_error};

/// A mutable dict in insertion order (a dict literal of a template that mutates).
#[derive(Debug, Default)]
pub(crate) struct PyDict {
    /// The entries.
    entries: Mutex<Vec<(Value, Value)>>,
}

impl PyDict {
    /// A dict value of `entries` (later duplicates replace earlier values).
    pub(crate) fn value(entries: Vec<(Value, Value)>) -> Value {
        let dict = PyDict::default();
        {
            let mut own = dict.lock();
            for (k, v) in entries {
                set(&mut own, k, v);
            }
        }
        Value::from_object(dict)
    }

    /// The entries, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<(Value, Value)>> {
        lock(&self.entries)
    }
}

/// Sets `key` to `value`, keeping the position of an existing key.
fn set(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().iter().map(|(k, _)| k.clone()).collect())
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
            "get" => {
                arity(method, args, 1, 2)?;
                Ok(self
                    .get_value(&args[0])
                    .unwrap_or_else(|| args.get(1).cloned().unwrap_or(none)))
            }
            "items" => {
                arity(method, args, 0, 0)?;
                Ok(Value::from(
                    self.lock()
                        .iter()
                        .map(|(k, v)| Value::from_object(Tuple::from(vec![k.clone(), v.clone()])))
                        .collect::<Vec<_>>(),
                ))
            }
            "keys" => {
                arity(method, args, 0, 0)?;
                Ok(Value::from(
                    self.lock()
                        .iter()
                        .map(|(k, _)| k.clone())
                        .collect::<Vec<_>>(),
                ))
            }
            "values" => {
                arity(method, args, 0, 0)?;
                Ok(Value::from(
                    self.lock()
                        .iter()
                        .map(|(_, v)| v.clone())
                        .collect::<Vec<_>>(),
                ))
            }
            "copy" => {
                arity(method, args, 0, 0)?;
                Ok(PyDict::value(self.lock().clone()))
            }
            "update" => {
                let (positional, kwargs) = split_kwargs(args);
                arity(method, positional, 0, 1)?;
                let mut new = Vec::new();
                if let Some(other) = positional.first() {
                    if other.kind() == ValueKind::Map {
                        new = entries(other)?;
                    } else {
                        for pair in other.try_iter()? {
                            let kv: Vec<Value> = pair.try_iter()?.collect();
                            let [k, v] = <[Value; 2]>::try_from(kv).map_err(|_| {
                                value_error(
                                    "dictionary update sequence element has wrong length".into(),
                                )
                            })?;
                            new.push((k, v));
                        }
                    }
                }
                new.extend(kwargs);
                let mut own = self.lock();
                for (k, v) in new {
                    set(&mut own, k, v);
                }
                Ok(none)
            }
            "pop" => {
                arity(method, args, 1, 2)?;
                let mut own = self.lock();
                match own.iter().position(|(k, _)| *k == args[0]) {
                    Some(i) => Ok(own.remove(i).1),
                    None => args.get(1).cloned().ok_or_else(|| {
                        value_error(format!("KeyError: {}", pyrepr::py_repr(&args[0])))
                    }),
                }
            }
            "popitem" => {
                arity(method, args, 0, 0)?;
                match self.lock().pop() {
                    Some((k, v)) => Ok(Value::from_object(Tuple::from(vec![k, v]))),
                    None => Err(value_error(
                        "KeyError: 'popitem(): dictionary is empty'".into(),
                    )),
                }
            }
            "setdefault" => {
                arity(method, args, 1, 2)?;
                let mut own = self.lock();
                if let Some((_, v)) = own.iter().find(|(k, _)| *k == args[0]) {
                    return Ok(v.clone());
                }
                let v = args.get(1).cloned().unwrap_or(none);
                own.push((args[0].clone(), v.clone()));
                Ok(v)
            }
            "clear" => {
                arity(method, args, 0, 0)?;
                self.lock().clear();
                Ok(none)
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
