//! docker-gen's sorting helpers: `sortStringsAsc`/`sortStringsDesc` and
//! `sortObjectsByKeysAsc`/`sortObjectsByKeysDesc` (a stable sort by the value at a field path,
//! compared as integers when both sides are integers and as strings otherwise).

use std::cmp::Ordering;

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

use super::reflect::{array_values, deep_get};

/// The string docker-gen compares for a path's value: ints, floats, bools, strings and times in
/// their plain forms, anything else (and nil) as "".
fn sort_key(v: Option<Value>) -> String {
    match v {
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Uint(u)) => u.to_string(),
        Some(Value::Float(f)) => gotmpl::fmt::format_float(f, 'f', None),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::String(s)) => s.to_string(),
        Some(Value::Time(t)) => {
            let c = gotmpl::Time::utc(t.secs, 0).civil();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            )
        }
        _ => String::new(),
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// `sortObjectsByKeys{Asc,Desc} items path`.
pub fn sort_objects(
    func: &str,
    entries: &Value,
    key: &str,
    desc: bool,
) -> Result<Value, FuncError> {
    let items = array_values(func, entries)?;
    let mut keyed: Vec<(String, Value)> = items
        .into_iter()
        .map(|v| (sort_key(deep_get(&v, key)), v))
        .collect();
    // Go's sort.Stable over sort.Reverse keeps equal items in input order, as this does.
    keyed.sort_by(|(a, _), (b, _)| if desc { compare(b, a) } else { compare(a, b) });
    Ok(Value::list(keyed.into_iter().map(|(_, v)| v).collect()))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .borrow()
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Registers the sorting family.
pub fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str};
    m.insert(
        "sortStringsAsc",
        Signature::fixed(&[Param::StringList]),
        |a| {
            let mut s = strings(&a[0]);
            s.sort();
            Ok(Value::list(s.into_iter().map(Value::from).collect()))
        },
    );
    m.insert(
        "sortStringsDesc",
        Signature::fixed(&[Param::StringList]),
        |a| {
            let mut s = strings(&a[0]);
            s.sort_by(|x, y| y.cmp(x));
            Ok(Value::list(s.into_iter().map(Value::from).collect()))
        },
    );
    m.insert("sortObjectsByKeysAsc", Signature::fixed(&[Any, Str]), |a| {
        sort_objects(
            "sortObjectsByKeysAsc",
            &a[0],
            a[1].as_str().unwrap_or_default(),
            false,
        )
    });
    m.insert(
        "sortObjectsByKeysDesc",
        Signature::fixed(&[Any, Str]),
        |a| {
            sort_objects(
                "sortObjectsByKeysDesc",
                &a[0],
                a[1].as_str().unwrap_or_default(),
                true,
            )
        },
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn row(port: &str, name: &str) -> Value {
        let mut m = BTreeMap::new();
        m.insert("Port".to_string(), Value::str(port));
        m.insert("Name".to_string(), Value::str(name));
        Value::map(m)
    }

    fn names(v: &Value) -> String {
        let Value::List(l) = v else {
            return String::new();
        };
        l.borrow()
            .iter()
            .filter_map(|x| deep_get(x, "Name").and_then(|n| n.as_str().map(String::from)))
            .collect()
    }

    #[test]
    fn numbers_compare_as_numbers_and_ties_keep_order() {
        let rows = Value::list(vec![
            row("443", "a"),
            row("80", "b"),
            row("x", "c"),
            row("80", "d"),
        ]);
        let asc = sort_objects("t", &rows, "Port", false).expect("a list");
        assert_eq!(names(&asc), "bdac");
        let desc = sort_objects("t", &rows, "Port", true).expect("a list");
        assert_eq!(names(&desc), "cabd");
    }
}
