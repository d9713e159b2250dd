//! sprig's dict functions over `map[string]interface{}`: `dict`, `get`, `set` and `unset`
//! (which change the map in place and return it), `hasKey`, `pluck`, `keys`, `pick`, `omit`,
//! `values`, `dig`, and `merge`/`mergeOverwrite` with mergo's rules (maps merge recursively
//! into the destination; without overwrite only missing or empty keys are filled).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{FuncError, Value, is_empty, strval, text};
use crate::funcs::{FuncMap, Param, Signature};

type Map = Rc<RefCell<BTreeMap<String, Value>>>;

/// The map a function declared `map[string]interface{}` received.
fn map_arg(v: &Value) -> Map {
    match v {
        Value::Map(m) => m.clone(),
        _ => Rc::new(RefCell::new(BTreeMap::new())),
    }
}

/// mergo's `deepMerge` of two `map[string]interface{}`, into `dst`.
fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) {
    if Rc::ptr_eq(dst, src) || depth > 100 {
        return;
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, sv) in entries {
        if sv.is_nil() {
            if overwrite {
                dst.borrow_mut().insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.borrow().get(&k).cloned();
        if let (Value::Map(s), Some(Value::Map(d))) = (&sv, &dv) {
            merge_into(d, s, overwrite, depth + 1);
        }
        if let (Value::List(_), true) = (&sv, overwrite) {
            dst.borrow_mut().insert(k.clone(), sv.clone());
        }
        let dst_set = dv.as_ref().is_some_and(|d| !is_empty(d));
        if dst_set && matches!(sv, Value::Map(_) | Value::List(_)) {
            continue;
        }
        if overwrite || !dst_set {
            dst.borrow_mut().insert(k, sv);
        }
    }
}

fn merge(a: &[Value], overwrite: bool) -> Result<Value, FuncError> {
    let dst = map_arg(&a[0]);
    for src in &a[1..] {
        merge_into(&dst, &map_arg(src), overwrite, 0);
    }
    Ok(Value::Map(dst))
}

/// The "interface conversion" panic of a failed type assertion in `dig`.
fn conversion(v: &Value, want: &str) -> FuncError {
    let got = if v.is_nil() {
        "nil".to_owned()
    } else {
        v.type_name()
    };
    FuncError(format!(
        "interface conversion: interface {{}} is {got}, not {want}"
    ))
}

fn dig(a: &[Value]) -> Result<Value, FuncError> {
    if a.len() < 3 {
        return Err(FuncError::new("dig needs at least three arguments"));
    }
    let Value::Map(mut dict) = a[a.len() - 1].clone() else {
        return Err(conversion(&a[a.len() - 1], "map[string]interface {}"));
    };
    let default = &a[a.len() - 2];
    let keys = a[..a.len() - 2]
        .iter()
        .map(|k| {
            k.as_str()
                .map(str::to_owned)
                .ok_or_else(|| conversion(k, "string"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, k) in keys.iter().enumerate() {
        let step = dict.borrow().get(k).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        dict = match step {
            Value::Map(m) => m,
            other => return Err(conversion(&other, "map[string]interface {}")),
        };
    }
    Ok(default.clone())
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, Map as M, String as Str};
    m.insert("dict", Signature::variadic(&[], Any), |a| {
        let mut map = BTreeMap::new();
        for pair in a.chunks(2) {
            let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            map.insert(strval(&pair[0]), v);
        }
        Ok(Value::map(map))
    });
    m.insert("get", Signature::fixed(&[M, Str]), |a| {
        Ok(map_arg(&a[0])
            .borrow()
            .get(text(&a[1]))
            .cloned()
            .unwrap_or_else(|| Value::str("")))
    });
    m.insert("set", Signature::fixed(&[M, Str, Any]), |a| {
        map_arg(&a[0])
            .borrow_mut()
            .insert(text(&a[1]).to_owned(), a[2].clone());
        Ok(a[0].clone())
    });
    m.insert("unset", Signature::fixed(&[M, Str]), |a| {
        map_arg(&a[0]).borrow_mut().remove(text(&a[1]));
        Ok(a[0].clone())
    });
    m.insert("hasKey", Signature::fixed(&[M, Str]), |a| {
        Ok(Value::Bool(
            map_arg(&a[0]).borrow().contains_key(text(&a[1])),
        ))
    });
    m.insert("pluck", Signature::variadic(&[Str], M), |a| {
        let key = text(&a[0]);
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| map_arg(d).borrow().get(key).cloned())
                .collect(),
        ))
    });
    m.insert("keys", Signature::variadic(&[], M), |a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(map_arg(d).borrow().keys().map(|k| Value::str(k)));
        }
        Ok(Value::list(out))
    });
    m.insert("pick", Signature::variadic(&[M], Str), |a| {
        let src = map_arg(&a[0]);
        let src = src.borrow();
        let picked = a[1..]
            .iter()
            .filter_map(|k| src.get(text(k)).map(|v| (text(k).to_owned(), v.clone())))
            .collect();
        Ok(Value::map(picked))
    });
    m.insert("omit", Signature::variadic(&[M], Str), |a| {
        let omit: Vec<&str> = a[1..].iter().map(text).collect();
        let src = map_arg(&a[0]);
        let kept = src
            .borrow()
            .iter()
            .filter(|(k, _)| !omit.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Value::map(kept))
    });
    m.insert("values", Signature::fixed(&[M]), |a| {
        Ok(Value::list(
            map_arg(&a[0]).borrow().values().cloned().collect(),
        ))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        m.insert(name, Signature::variadic(&[M], M), move |a| {
            merge(a, overwrite)
        });
    }
    m.insert("dig", Signature::variadic(&[], Any), dig);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn get(v: &Value, k: &str) -> Option<Value> {
        let Value::Map(m) = v else { return None };
        m.borrow().get(k).cloned()
    }

    #[test]
    fn merge_fills_only_empty_keys() {
        let dst = map(&[("a", Value::Int(1)), ("e", Value::str(""))]);
        let src = map(&[
            ("a", Value::Int(2)),
            ("e", Value::str("E")),
            ("n", Value::Nil),
        ]);
        let out = merge(&[dst.clone(), src.clone()], false).expect("a map");
        assert!(matches!(get(&out, "a"), Some(Value::Int(1))));
        assert!(matches!(get(&out, "e"), Some(Value::String(s)) if &*s == "E"));
        assert!(get(&out, "n").is_none());
        let out = merge(&[dst, src], true).expect("a map");
        assert!(matches!(get(&out, "a"), Some(Value::Int(2))));
        assert!(matches!(get(&out, "n"), Some(Value::Nil)));
    }

    #[test]
    fn dig_walks_nested_maps() {
        let d = map(&[("a", map(&[("b", Value::str("x"))]))]);
        let got = dig(&[
            Value::str("a"),
            Value::str("b"),
            Value::str("def"),
            d.clone(),
        ]);
        assert!(matches!(got, Ok(Value::String(s)) if &*s == "x"));
        let got = dig(&[Value::str("z"), Value::str("def"), d]);
        assert!(matches!(got, Ok(Value::String(s)) if &*s == "def"));
    }
}
