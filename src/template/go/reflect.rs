//! docker-gen's `deepGet` and `getArrayValues`: how its helpers reach a field path inside an item
//! (`Env.VIRTUAL_HOST`, `State.Health.Status`, `Labels.a.b`) and which values count as lists.
//! Every helper family (`groupBy*`, `where*`, `sortObjectsByKeys*`) goes through these two, so
//! they agree on paths, nil and the container list.

use gotmpl::{FuncError, Value};

use super::data::CONTEXT_TYPE;

/// The value at a dot-separated `path` inside `item`, or `None` where docker-gen's `deepGet`
/// gives nil: a missing map key, an out-of-range index, a path through nil. A leading `.` is
/// ignored; a map key that is missing is retried with the following segments joined by dots, so
/// `Env.a.b` finds the key `a.b`.
pub fn deep_get(item: &Value, path: &str) -> Option<Value> {
    let path = path.strip_prefix('.').unwrap_or(path);
    if path.is_empty() {
        return (!item.is_nil()).then(|| item.clone());
    }
    let parts: Vec<&str> = path.split('.').collect();
    get_parts(item, &parts)
}

fn get_parts(item: &Value, parts: &[&str]) -> Option<Value> {
    let Some((first, rest)) = parts.split_first() else {
        return (!item.is_nil()).then(|| item.clone());
    };
    match item {
        Value::Record(r) => get_parts(r.field(first)?, rest),
        Value::Map(m) => {
            let m = m.borrow();
            // Try the longest joined key last, as docker-gen retries key "a" then "a.b"...
            for n in 1..=parts.len() {
                let key = parts[..n].join(".");
                if let Some(v) = m.get(&key) {
                    return get_parts(v, &parts[n..]);
                }
            }
            None
        }
        Value::List(l) => {
            let i: usize = first.parse().ok()?;
            let v = l.borrow().get(i).cloned()?;
            get_parts(&v, rest)
        }
        _ => None,
    }
}

/// The items of a list argument, as docker-gen's `getArrayValues`: a list, or the template's
/// root (the container list with `.Env` and `.Docker`). Anything else is the error docker-gen
/// gives for it.
pub fn array_values(func: &str, entries: &Value) -> Result<Vec<Value>, FuncError> {
    if let Some(items) = context_items(entries) {
        return Ok(items);
    }
    match entries {
        Value::List(l) => Ok(l.borrow().clone()),
        other => Err(FuncError::new(format!(
            "must pass an array or slice to '{func}'; received {}; kind {}",
            gotmpl::fmt::sprint(std::slice::from_ref(other)),
            kind_name(other)
        ))),
    }
}

/// The containers of the template's root value, if `v` is it.
pub fn context_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Record(r) if &*r.type_name == CONTEXT_TYPE => Some(
            r.items
                .as_ref()
                .map(|l| l.borrow().clone())
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

/// Go's `reflect.Kind` name of a value, as docker-gen's errors print it.
fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Record(_) | Value::Time(_) => "struct",
        Value::Duration(_) => "int64",
        Value::Func(_) => "func",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use gotmpl::Record;

    use super::*;

    fn env() -> Value {
        let mut m = BTreeMap::new();
        m.insert("a.b".to_string(), Value::str("dotted"));
        m.insert("x".to_string(), Value::str(""));
        Value::record(Record::new(
            "T",
            vec![
                ("Env", Value::map(m)),
                ("L", Value::list(vec![Value::Int(7)])),
            ],
        ))
    }

    #[test]
    fn paths_reach_fields_keys_and_indexes() {
        let item = env();
        assert_eq!(
            deep_get(&item, "Env.a.b").and_then(|v| v.as_str().map(String::from)),
            Some("dotted".into())
        );
        assert_eq!(
            deep_get(&item, ".Env.x").and_then(|v| v.as_str().map(String::from)),
            Some(String::new())
        );
        assert!(deep_get(&item, "Env.missing").is_none());
        assert!(matches!(deep_get(&item, "L.0"), Some(Value::Int(7))));
        assert!(deep_get(&item, "L.1").is_none());
        assert!(deep_get(&item, "Nope").is_none());
    }

    #[test]
    fn non_lists_are_refused_with_docker_gens_text() {
        let err = array_values("groupBy", &Value::Nil).expect_err("nil is not a list");
        assert_eq!(
            err.0,
            "must pass an array or slice to 'groupBy'; received <nil>; kind invalid"
        );
        assert_eq!(
            array_values("x", &Value::list(vec![Value::Int(1)])).map(|v| v.len()),
            Ok(1)
        );
    }
}
