//! The one map object behind every model object templates see (containers, services, tasks,
//! nodes): a fixed key list, values made when a template reads them, docker-pygen's lookup
//! and comparison rules. Each object kind only says which keys it has and how each is made.
//!
//! Missing attributes give `none` (printed `None`), as on docker-pygen's model objects; `in`
//! and subscripts see only real keys. Two objects of a kind are equal when their ids are, and
//! comparing with anything else (`c == none`) is simply false (docker-pygen raised, B12).

use std::cmp::Ordering;
use std::sync::Arc;

use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value};

use super::dict::{Dict, Missing, find_key};

/// What a model object shows: its keys and how each is made.
pub(crate) trait Fields: std::fmt::Debug + Send + Sync + 'static {
    /// The keys, in the order `items()` and `|tojson` show them.
    const KEYS: &'static [&'static str];
    /// The value of one of [`Fields::KEYS`]; `None` for any other key (also for one that
    /// differs only in case), which is how a lookup tells an exact key.
    fn field(&self, key: &str) -> Option<Value>;
    /// The id two objects are compared by.
    fn id(&self) -> &str;
}

/// A model object as a template map.
#[derive(Debug)]
pub(crate) struct Model<T: Fields>(pub(crate) T);

impl<T: Fields> Model<T> {
    /// The object as a template value.
    pub(crate) fn value(fields: T) -> Value {
        Value::from_object(Model(fields))
    }

    /// Exact key, then the first key equal ignoring case.
    fn lookup(&self, key: &str) -> Option<Value> {
        self.0.field(key).or_else(|| {
            let i = find_key(T::KEYS.iter().copied(), key)?;
            self.0.field(T::KEYS[i])
        })
    }
}

impl<T: Fields> Object for Model<T> {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.lookup(key).or(Some(Value::from(())))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(T::KEYS)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(T::KEYS.len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<Model<T>>()?;
        Some(self.0.id().cmp(other.0.id()))
    }
}

/// An optional string as a template value (`none` when absent).
pub(crate) fn opt_str(value: &Option<Box<str>>) -> Value {
    Value::from(value.as_deref())
}

/// `raw`: the inspect JSON as plain template values. The top level also answers keys
/// ignoring case (`raw.id` is `Id`, as docker-py's `container.id` was); deeper levels are
/// plain maps. A body that no longer parses (it was checked when stored) gives `none`.
pub(crate) fn raw_value(json: &str) -> Value {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return Value::from(());
    };
    let entries = map
        .into_iter()
        .map(|(k, v)| (Value::from(k), Value::from(minijinja::value::Serde(v))))
        .collect();
    Value::from_object(Dict::new(entries, Missing::Undefined))
}
