//! sprig's list functions over `[]interface{}`: `list`, `append`/`push`, `prepend`, `first`,
//! `rest`, `last`, `initial`, `reverse`, `uniq`, `without`, `has`, `compact`, `slice`,
//! `concat`, `chunk`, and their `must` forms. Lists are never changed in place; a non-list
//! argument is sprig's error ("Cannot find first on type int"), which the plain forms raise by
//! panicking and the `must` forms return, so both fail the template with the same text.

use super::{
    FuncError, NIL_DEREF, Value, deep_equal, int, is_empty, kind_name, list_items, to_int64,
};
use crate::funcs::{FuncMap, Param, Signature};

fn contains(haystack: &[Value], needle: &Value) -> bool {
    haystack.iter().any(|h| deep_equal(needle, h))
}

/// Registers `name` and `must<Name>` with the same body.
fn both(m: &mut FuncMap, name: &str, sig: Signature, f: fn(&[Value]) -> Result<Value, FuncError>) {
    let mut c = name.chars();
    let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
    m.insert(name, sig.clone(), f);
    m.insert(&format!("must{first}{}", c.as_str()), sig, f);
}

fn push(a: &[Value]) -> Result<Value, FuncError> {
    let mut items = list_items(&a[0], "Cannot push on type")?;
    items.push(a[1].clone());
    Ok(Value::list(items))
}

fn prepend(a: &[Value]) -> Result<Value, FuncError> {
    let mut items = list_items(&a[0], "Cannot prepend on type")?;
    items.insert(0, a[1].clone());
    Ok(Value::list(items))
}

fn first(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot find first on type")?;
    Ok(items.into_iter().next().unwrap_or(Value::Nil))
}

fn last(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot find last on type")?;
    Ok(items.into_iter().next_back().unwrap_or(Value::Nil))
}

fn rest(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot find rest on type")?;
    Ok(Value::list(items.into_iter().skip(1).collect()))
}

fn initial(a: &[Value]) -> Result<Value, FuncError> {
    let mut items = list_items(&a[0], "Cannot find initial on type")?;
    items.pop();
    Ok(Value::list(items))
}

fn reverse(a: &[Value]) -> Result<Value, FuncError> {
    let mut items = list_items(&a[0], "Cannot find reverse on type")?;
    items.reverse();
    Ok(Value::list(items))
}

fn compact(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot compact on type")?;
    Ok(Value::list(
        items.into_iter().filter(|v| !is_empty(v)).collect(),
    ))
}

fn uniq(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot find uniq on type")?;
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !contains(&out, &v) {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

fn without(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "Cannot find without on type")?;
    let omit = &a[1..];
    Ok(Value::list(
        items.into_iter().filter(|v| !contains(omit, v)).collect(),
    ))
}

fn has(a: &[Value]) -> Result<Value, FuncError> {
    if a[1].is_nil() {
        return Ok(Value::Bool(false));
    }
    let items = list_items(&a[1], "Cannot find has on type")?;
    Ok(Value::Bool(contains(&items, &a[0])))
}

fn slice(a: &[Value]) -> Result<Value, FuncError> {
    let items = list_items(&a[0], "list should be type of slice or array but")?;
    if items.is_empty() {
        return Ok(Value::Nil);
    }
    let len = items.len() as i64;
    let start = a.get(1).map_or(0, to_int64);
    let end = a.get(2).map_or(len, to_int64);
    if start < 0 || end < start || end > len {
        return Err(FuncError::new(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    Ok(Value::list(items[start as usize..end as usize].to_vec()))
}

fn chunk(a: &[Value]) -> Result<Value, FuncError> {
    let size = int(&a[0]);
    let items = list_items(&a[1], "Cannot chunk type")?;
    if size <= 0 {
        // sprig sizes its result with a float division that overflows Go's makeslice.
        return Err(FuncError::new("runtime error: makeslice: len out of range"));
    }
    if items.is_empty() {
        return Ok(Value::list(Vec::new()));
    }
    Ok(Value::list(
        items
            .chunks(size as usize)
            .map(|c| Value::list(c.to_vec()))
            .collect(),
    ))
}

fn concat(a: &[Value]) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for v in a {
        match v {
            Value::List(l) => out.extend(l.borrow().iter().cloned()),
            Value::Nil => return Err(FuncError::new(NIL_DEREF)),
            other => {
                return Err(FuncError(format!(
                    "Cannot concat type {} as list",
                    kind_name(other)
                )));
            }
        }
    }
    Ok(Value::list(out))
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, Int};
    for name in ["list", "tuple"] {
        m.insert(name, Signature::variadic(&[], Any), |a| {
            Ok(Value::list(a.to_vec()))
        });
    }
    let any2 = || Signature::fixed(&[Any, Any]);
    let any1 = || Signature::fixed(&[Any]);
    both(m, "append", any2(), push);
    both(m, "push", any2(), push);
    both(m, "prepend", any2(), prepend);
    both(m, "first", any1(), first);
    both(m, "last", any1(), last);
    both(m, "rest", any1(), rest);
    both(m, "initial", any1(), initial);
    both(m, "reverse", any1(), reverse);
    both(m, "compact", any1(), compact);
    both(m, "uniq", any1(), uniq);
    both(m, "without", Signature::variadic(&[Any], Any), without);
    both(m, "has", any2(), has);
    both(m, "slice", Signature::variadic(&[Any], Any), slice);
    both(m, "chunk", Signature::fixed(&[Int, Any]), chunk);
    m.insert("concat", Signature::variadic(&[], Any), concat);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Value {
        Value::list(v.iter().map(|i| Value::Int(*i)).collect())
    }

    fn lens(v: &Value) -> Vec<usize> {
        let Value::List(l) = v else { return vec![] };
        l.borrow()
            .iter()
            .map(|c| {
                if let Value::List(c) = c {
                    c.borrow().len()
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn chunks_and_slices() {
        let got = chunk(&[Value::Int(2), ints(&[1, 2, 3, 4, 5])]).expect("a list");
        assert_eq!(lens(&got), vec![2, 2, 1]);
        assert!(slice(&[ints(&[1, 2, 3]), Value::Int(2), Value::Int(9)]).is_err());
        assert!(matches!(slice(&[ints(&[]), Value::Int(0)]), Ok(Value::Nil)));
        assert_eq!(
            first(&[Value::Int(1)]).err(),
            Some(FuncError::new("Cannot find first on type int"))
        );
    }
}
