//! sprig's defaults and flow functions: `default` and `empty` (sprig's emptiness: nil, false,
//! zero, empty strings/lists/maps; structs never), `coalesce`, `all`, `any`, `ternary` (the
//! condition comes last, for pipelines), `fail`, and `deepCopy`.

use super::{FuncError, MAX_DEPTH, Value, boolean, is_empty, text};
use crate::funcs::{FuncMap, Param, Signature};

/// A copy sharing nothing with `v`: lists and maps are rebuilt all the way down (past
/// `MAX_DEPTH`, which only cyclic data reaches, the rest is shared).
pub(super) fn deep_copy(v: &Value) -> Value {
    deep_copy_at(v, 0)
}

fn deep_copy_at(v: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return v.clone();
    }
    match v {
        Value::List(l) => Value::list(
            l.borrow()
                .iter()
                .map(|e| deep_copy_at(e, depth + 1))
                .collect(),
        ),
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, e)| (k.clone(), deep_copy_at(e, depth + 1)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, Bool};
    m.insert("default", Signature::variadic(&[Any], Any), |a| {
        Ok(match a.get(1) {
            Some(given) if !is_empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    m.insert("empty", Signature::fixed(&[Any]), |a| {
        Ok(Value::Bool(is_empty(&a[0])))
    });
    m.insert("coalesce", Signature::variadic(&[], Any), |a| {
        Ok(a.iter()
            .find(|v| !is_empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    m.insert("all", Signature::variadic(&[], Any), |a| {
        Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))
    });
    m.insert("any", Signature::variadic(&[], Any), |a| {
        Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))
    });
    m.insert("ternary", Signature::fixed(&[Any, Any, Bool]), |a| {
        Ok(if boolean(&a[2]) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    m.insert("fail", Signature::fixed(&[Param::String]), |a| {
        Err(FuncError(text(&a[0]).to_owned()))
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        m.insert(name, Signature::fixed(&[Any]), |a| {
            if a[0].is_nil() {
                return Err(FuncError::new(
                    "reflect: call of reflect.Value.Type on zero Value",
                ));
            }
            Ok(deep_copy(&a[0]))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_copy_shares_nothing() {
        let inner = Value::list(vec![Value::Int(1)]);
        let outer = Value::list(vec![inner.clone()]);
        let copy = deep_copy(&outer);
        if let Value::List(l) = &inner {
            l.borrow_mut().push(Value::Int(2));
        }
        let Value::List(c) = copy else {
            panic!("a list")
        };
        let first = c.borrow()[0].clone();
        let Value::List(f) = first else {
            panic!("a list")
        };
        assert_eq!(f.borrow().len(), 1);
    }
}
