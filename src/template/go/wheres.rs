//! docker-gen's selection helpers: `where`, `whereNot`, `whereExist`, `whereNotExist`, `whereAny`,
//! `whereAll` (by a field path) and `whereLabelExists`, `whereLabelDoesNotExist`,
//! `whereLabelValueMatches` (by a container label). Each returns a new list of the items kept,
//! in their order.

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

use super::groupby::go_split;
use super::reflect::{array_values, context_items, deep_get};

fn select(
    func: &str,
    entries: &Value,
    key: &str,
    keep: impl Fn(Option<&Value>) -> Result<bool, FuncError>,
) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for item in array_values(func, entries)? {
        if keep(deep_get(&item, key).as_ref())? {
            out.push(item);
        }
    }
    Ok(Value::list(out))
}

/// Go's `reflect.DeepEqual` between a path's value (nil when absent) and the wanted value.
fn deep_equal(a: Option<&Value>, b: &Value) -> bool {
    match (a, b) {
        (None, Value::Nil) => true,
        (None, _) | (Some(_), Value::Nil) => false,
        (Some(a), b) => same(a, b),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Uint(x), Value::Uint(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Record(x), Value::Record(y)) => {
            x.type_name == y.type_name
                && x.fields.len() == y.fields.len()
                && x.fields
                    .iter()
                    .zip(y.fields.iter())
                    .all(|((n, v), (m, w))| n == m && same(v, w))
        }
        (Value::Nil, Value::Nil) => true,
        _ => false,
    }
}

/// The parts of a path's string value, for `whereAny`/`whereAll`.
fn parts(value: &Value, sep: &str) -> Result<Vec<String>, FuncError> {
    match value {
        Value::String(s) => Ok(go_split(s, sep)),
        other => Err(FuncError::new(format!(
            "interface conversion: interface {{}} is {}, not string",
            other.type_name()
        ))),
    }
}

fn strings_of(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .borrow()
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// The containers of a `context.Context` argument: the root, or a list of containers.
fn containers(func: &str, v: &Value) -> Result<Vec<Value>, FuncError> {
    if let Some(items) = context_items(v) {
        return Ok(items);
    }
    match v {
        Value::List(l) => Ok(l.borrow().clone()),
        Value::Nil => Ok(Vec::new()),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected context.Context; got {} (in {func})",
            other.type_name()
        ))),
    }
}

fn where_label(
    func: &str,
    entries: &Value,
    label: &str,
    keep: impl Fn(Option<&str>) -> bool,
) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for item in containers(func, entries)? {
        let value = match &item {
            Value::Record(r) => match r.field("Labels") {
                Some(Value::Map(m)) => m
                    .borrow()
                    .get(label)
                    .and_then(|v| v.as_str().map(String::from)),
                _ => None,
            },
            _ => None,
        };
        if keep(value.as_deref()) {
            out.push(item);
        }
    }
    Ok(Value::list(out))
}

/// Registers the selection family.
pub fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str};
    let key = |v: &Value| v.as_str().unwrap_or_default().to_string();
    m.insert("where", Signature::fixed(&[Any, Str, Any]), move |a| {
        select("where", &a[0], &key(&a[1]), |v| Ok(deep_equal(v, &a[2])))
    });
    m.insert("whereNot", Signature::fixed(&[Any, Str, Any]), move |a| {
        select("whereNot", &a[0], &key(&a[1]), |v| {
            Ok(!deep_equal(v, &a[2]))
        })
    });
    m.insert("whereExist", Signature::fixed(&[Any, Str]), move |a| {
        select("whereExist", &a[0], &key(&a[1]), |v| Ok(v.is_some()))
    });
    m.insert("whereNotExist", Signature::fixed(&[Any, Str]), move |a| {
        select("whereNotExist", &a[0], &key(&a[1]), |v| Ok(v.is_none()))
    });
    m.insert(
        "whereAny",
        Signature::fixed(&[Any, Str, Str, Param::StringList]),
        move |a| {
            let sep = key(&a[2]);
            let want = strings_of(&a[3]);
            select("whereAny", &a[0], &key(&a[1]), |v| match v {
                None => Ok(false),
                Some(v) => Ok(parts(v, &sep)?.iter().any(|p| want.contains(p))),
            })
        },
    );
    m.insert(
        "whereAll",
        Signature::fixed(&[Any, Str, Str, Param::StringList]),
        move |a| {
            let sep = key(&a[2]);
            let want = strings_of(&a[3]);
            select("whereAll", &a[0], &key(&a[1]), |v| match v {
                None => Ok(false),
                Some(v) => {
                    let got = parts(v, &sep)?;
                    Ok(super::collections::intersect(&want, &got).len() == want.len())
                }
            })
        },
    );
    m.insert(
        "whereLabelExists",
        Signature::fixed(&[Any, Str]),
        move |a| where_label("whereLabelExists", &a[0], &key(&a[1]), |v| v.is_some()),
    );
    m.insert(
        "whereLabelDoesNotExist",
        Signature::fixed(&[Any, Str]),
        move |a| {
            where_label("whereLabelDoesNotExist", &a[0], &key(&a[1]), |v| {
                v.is_none()
            })
        },
    );
    m.insert(
        "whereLabelValueMatches",
        Signature::fixed(&[Any, Str, Str]),
        move |a| {
            let pattern = key(&a[2]);
            let rx = regex::Regex::new(&pattern)
                .map_err(|e| FuncError::new(format!("error parsing regexp: {e}")))?;
            where_label("whereLabelValueMatches", &a[0], &key(&a[1]), |v| {
                v.is_some_and(|v| rx.is_match(v))
            })
        },
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use gotmpl::Record;

    use super::*;

    fn item(name: &str, port: Option<&str>, label: Option<&str>) -> Value {
        let mut env = BTreeMap::new();
        if let Some(p) = port {
            env.insert("PORTS".to_string(), Value::str(p));
        }
        let mut labels = BTreeMap::new();
        if let Some(l) = label {
            labels.insert("role".to_string(), Value::str(l));
        }
        Value::record(Record::new(
            "*context.RuntimeContainer",
            vec![
                ("Name", Value::str(name)),
                ("Env", Value::map(env)),
                ("Labels", Value::map(labels)),
            ],
        ))
    }

    fn names(tmpl: &str) -> String {
        let data = Value::list(vec![
            item("a", Some("80,443"), Some("web")),
            item("b", Some("80"), None),
            item("c", None, Some("db")),
        ]);
        let mut fm = FuncMap::new();
        register(&mut fm);
        let mut t = gotmpl::Template::new("t")
            .funcs(gotmpl::sprig::funcs())
            .funcs(fm);
        let run = t
            .parse(tmpl)
            .map_err(|e| e.to_string())
            .and_then(|()| t.execute(&data).map_err(|e| e.to_string()));
        run.unwrap_or_else(|e| e)
    }

    #[test]
    fn selections_keep_order_and_follow_nil() {
        assert_eq!(
            names("{{ range where . \"Env.PORTS\" \"80\" }}{{ .Name }}{{ end }}"),
            "b"
        );
        assert_eq!(
            names("{{ range whereNot . \"Env.PORTS\" \"80\" }}{{ .Name }}{{ end }}"),
            "ac"
        );
        assert_eq!(
            names("{{ range whereExist . \"Env.PORTS\" }}{{ .Name }}{{ end }}"),
            "ab"
        );
        assert_eq!(
            names("{{ range whereNotExist . \"Env.PORTS\" }}{{ .Name }}{{ end }}"),
            "c"
        );
        assert_eq!(
            names(
                "{{ range whereAny . \"Env.PORTS\" \",\" (list \"443\" \"22\") }}{{ .Name }}{{ end }}"
            ),
            "a"
        );
        assert_eq!(
            names(
                "{{ range whereAll . \"Env.PORTS\" \",\" (list \"443\" \"80\") }}{{ .Name }}{{ end }}"
            ),
            "a"
        );
        assert_eq!(
            names("{{ range whereLabelExists . \"role\" }}{{ .Name }}{{ end }}"),
            "ac"
        );
        assert_eq!(
            names("{{ range whereLabelDoesNotExist . \"role\" }}{{ .Name }}{{ end }}"),
            "b"
        );
        assert_eq!(
            names("{{ range whereLabelValueMatches . \"role\" \"^w\" }}{{ .Name }}{{ end }}"),
            "a"
        );
    }
}
