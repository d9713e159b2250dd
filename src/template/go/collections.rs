//! docker-gen's helpers over maps, lists and values: `coalesce` (first non-nil), `contains`
//! (map-key membership), `keys` (sorted, where docker-gen's order is random), `intersect` (sorted
//! and de-duplicated, likewise) and `when` (a ternary with the condition first).

use std::collections::BTreeSet;

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

/// The strings of `a` that are also in `b`, each once, sorted.
pub fn intersect(a: &[String], b: &[String]) -> Vec<String> {
    let b: BTreeSet<&String> = b.iter().collect();
    let both: BTreeSet<&String> = a.iter().filter(|v| b.contains(v)).collect();
    both.into_iter().cloned().collect()
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

/// Registers the collections family.
pub fn register(m: &mut FuncMap) {
    use Param::Any;
    m.insert("coalesce", Signature::variadic(&[], Any), |a| {
        Ok(a.iter()
            .find(|v| !v.is_nil())
            .cloned()
            .unwrap_or(Value::Nil))
    });
    m.insert("contains", Signature::fixed(&[Any, Any]), |a| {
        Ok(Value::Bool(match (&a[0], &a[1]) {
            (Value::Map(m), Value::String(k)) => m.borrow().contains_key(&**k),
            _ => false,
        }))
    });
    m.insert("keys", Signature::fixed(&[Any]), |a| match &a[0] {
        Value::Nil => Ok(Value::Nil),
        Value::Map(m) => Ok(Value::list(
            m.borrow().keys().map(|k| Value::from(k.as_str())).collect(),
        )),
        other => Err(FuncError::new(format!(
            "Cannot call keys on a non-map value: {}",
            gotmpl::fmt::sprint(std::slice::from_ref(other))
        ))),
    });
    m.insert(
        "intersect",
        Signature::fixed(&[Param::StringList, Param::StringList]),
        |a| {
            let both = intersect(&strings(&a[0]), &strings(&a[1]));
            Ok(Value::list(both.into_iter().map(Value::from).collect()))
        },
    );
    m.insert("when", Signature::fixed(&[Param::Bool, Any, Any]), |a| {
        Ok(if a[0].is_truthy() {
            a[1].clone()
        } else {
            a[2].clone()
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tmpl: &str) -> String {
        let mut fm = FuncMap::new();
        register(&mut fm);
        let mut t = gotmpl::Template::new("t")
            .funcs(gotmpl::sprig::funcs())
            .funcs(fm);
        let data = Value::Nil;
        let r = t
            .parse(tmpl)
            .map_err(|e| e.to_string())
            .and_then(|()| t.execute(&data).map_err(|e| e.to_string()));
        r.unwrap_or_else(|e| e)
    }

    #[test]
    fn docker_gen_meanings_override_sprig() {
        assert_eq!(run("{{ coalesce nil \"\" \"x\" | printf \"%q\" }}"), "\"\"");
        assert_eq!(
            run("{{ contains (dict \"a\" 1) \"a\" }} {{ contains (dict \"a\" 1) \"b\" }}"),
            "true false"
        );
        assert_eq!(run("{{ keys (dict \"b\" 1 \"a\" 2) }}"), "[a b]");
        assert!(
            run("{{ keys 1 }}")
                .ends_with("error calling keys: Cannot call keys on a non-map value: 1")
        );
        assert_eq!(
            run("{{ intersect (list \"c\" \"a\" \"b\" \"a\") (list \"a\" \"c\") }}"),
            "[a c]"
        );
        assert_eq!(run("{{ when true 1 2 }}{{ when false 1 2 }}"), "12");
    }
}
