//! docker-gen's grouping helpers: `groupBy`, `groupByWithDefault`, `groupByKeys`, `groupByMulti`,
//! `groupByLabel` and `groupByLabelWithDefault`. Groups are maps from the value at a path to the
//! items that have it; items whose value is nil are left out. `groupByKeys` returns the keys
//! sorted (docker-gen returns Go's random map order).

use std::collections::BTreeMap;

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

use super::reflect::{array_values, deep_get};

type Groups = BTreeMap<String, Vec<Value>>;

/// Go's panic text when a group value is not a string (`value.(string)`).
fn as_group_key(v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(FuncError::new(format!(
            "interface conversion: interface {{}} is {}, not string",
            other.type_name()
        ))),
    }
}

fn group(
    func: &str,
    entries: &Value,
    get: impl Fn(&Value) -> Result<Option<Value>, FuncError>,
    mut add: impl FnMut(&mut Groups, &Value, Value) -> Result<(), FuncError>,
) -> Result<Groups, FuncError> {
    let mut groups = Groups::new();
    for item in array_values(func, entries)? {
        if let Some(value) = get(&item)? {
            add(&mut groups, &value, item)?;
        }
    }
    Ok(groups)
}

fn add_one(groups: &mut Groups, value: &Value, item: Value) -> Result<(), FuncError> {
    groups.entry(as_group_key(value)?).or_default().push(item);
    Ok(())
}

fn to_value(groups: Groups) -> Value {
    Value::map(
        groups
            .into_iter()
            .map(|(k, v)| (k, Value::list(v)))
            .collect(),
    )
}

/// `groupBy items path`.
pub fn group_by(entries: &Value, key: &str) -> Result<Value, FuncError> {
    group("groupBy", entries, |v| Ok(deep_get(v, key)), add_one).map(to_value)
}

/// The labels of a container record; anything else is docker-gen's error.
fn label_of(func: &str, item: &Value, label: &str) -> Result<Option<Value>, FuncError> {
    match item {
        Value::Record(r) if r.type_name.ends_with("RuntimeContainer") => {
            Ok(match r.field("Labels") {
                Some(Value::Map(m)) => m.borrow().get(label).cloned(),
                _ => None,
            })
        }
        other => Err(FuncError::new(format!(
            "must pass an array or slice of *RuntimeContainer to '{func}'; received {}",
            gotmpl::fmt::sprint(std::slice::from_ref(other))
        ))),
    }
}

/// Registers the grouping family.
pub fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str};
    m.insert("groupBy", Signature::fixed(&[Any, Str]), |a| {
        group_by(&a[0], a[1].as_str().unwrap_or_default())
    });
    m.insert(
        "groupByWithDefault",
        Signature::fixed(&[Any, Str, Str]),
        |a| {
            let key = a[1].as_str().unwrap_or_default();
            let default = a[2].clone();
            group(
                "groupByWithDefault",
                &a[0],
                |v| Ok(Some(deep_get(v, key).unwrap_or_else(|| default.clone()))),
                add_one,
            )
            .map(to_value)
        },
    );
    m.insert("groupByKeys", Signature::fixed(&[Any, Str]), |a| {
        let key = a[1].as_str().unwrap_or_default();
        let groups = group("groupBy", &a[0], |v| Ok(deep_get(v, key)), add_one)?;
        Ok(Value::list(groups.into_keys().map(Value::from).collect()))
    });
    m.insert("groupByMulti", Signature::fixed(&[Any, Str, Str]), |a| {
        let key = a[1].as_str().unwrap_or_default();
        let sep = a[2].as_str().unwrap_or_default();
        group(
            "groupByMulti",
            &a[0],
            |v| Ok(deep_get(v, key)),
            |groups, value, item| {
                for part in go_split(&as_group_key(value)?, sep) {
                    groups.entry(part).or_default().push(item.clone());
                }
                Ok(())
            },
        )
        .map(to_value)
    });
    m.insert("groupByLabel", Signature::fixed(&[Any, Str]), |a| {
        let label = a[1].as_str().unwrap_or_default();
        group(
            "groupByLabel",
            &a[0],
            |v| label_of("groupByLabel", v, label),
            add_one,
        )
        .map(to_value)
    });
    m.insert(
        "groupByLabelWithDefault",
        Signature::fixed(&[Any, Str, Str]),
        |a| {
            let label = a[1].as_str().unwrap_or_default();
            let default = a[2].clone();
            group(
                "groupByLabelWithDefault",
                &a[0],
                |v| {
                    Ok(Some(
                        label_of("groupByLabelWithDefault", v, label)?
                            .unwrap_or_else(|| default.clone()),
                    ))
                },
                add_one,
            )
            .map(to_value)
        },
    );
}

/// Go's `strings.Split`: an empty separator splits into characters.
pub fn go_split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use gotmpl::Record;

    use super::*;

    fn item(name: &str, host: Option<&str>) -> Value {
        let mut env = BTreeMap::new();
        if let Some(h) = host {
            env.insert("VIRTUAL_HOST".to_string(), Value::str(h));
        }
        Value::record(Record::new(
            "*context.RuntimeContainer",
            vec![
                ("Name", Value::str(name)),
                ("Env", Value::map(env)),
                ("Labels", Value::map(BTreeMap::new())),
            ],
        ))
    }

    fn render(tmpl: &str, data: Value) -> Result<String, String> {
        let mut fm = FuncMap::new();
        register(&mut fm);
        let mut t = gotmpl::Template::new("t")
            .funcs(gotmpl::sprig::funcs())
            .funcs(fm);
        t.parse(tmpl).map_err(|e| e.to_string())?;
        t.execute(&data).map_err(|e| e.to_string())
    }

    #[test]
    fn groups_skip_nil_and_split_multi_values() {
        let items = Value::list(vec![
            item("a", Some("x,y")),
            item("b", Some("y")),
            item("c", None),
        ]);
        let out = render(
            "{{ range $k, $v := groupByMulti . \"Env.VIRTUAL_HOST\" \",\" }}{{ $k }}={{ range $v }}{{ .Name }}{{ end }};{{ end }}",
            items.clone(),
        );
        assert_eq!(out.as_deref(), Ok("x=a;y=ab;"));
        let out = render("{{ groupByKeys . \"Env.VIRTUAL_HOST\" }}", items.clone());
        assert_eq!(out.as_deref(), Ok("[x,y y]"));
        let out = render(
            "{{ range $k, $v := groupByWithDefault . \"Env.VIRTUAL_HOST\" \"-\" }}{{ $k }}:{{ len $v }} {{ end }}",
            items.clone(),
        );
        assert_eq!(out.as_deref(), Ok("-:1 x,y:1 y:1 "));
        let out = render(
            "{{ range $k, $v := groupByLabelWithDefault . \"l\" \"none\" }}{{ $k }}{{ end }}",
            items,
        );
        assert_eq!(out.as_deref(), Ok("none"));
    }

    #[test]
    fn labels_need_containers() {
        let err = render(
            "{{ groupByLabel . \"l\" }}",
            Value::list(vec![Value::Int(1)]),
        )
        .expect_err("not containers");
        assert!(err.ends_with("error calling groupByLabel: must pass an array or slice of *RuntimeContainer to 'groupByLabel'; received 1"), "{err}");
    }
}
