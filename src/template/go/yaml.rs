//! docker-gen's YAML helpers: `fromYaml`/`mustFromYaml` (a YAML document to maps, lists and
//! scalars, as gopkg.in/yaml.v3 decodes into `interface{}`) and `toYaml`/`mustToYaml` (values to
//! YAML in yaml.v3's block style: 4-space indentation, map keys sorted, no trailing newline).
//! `fromYaml` gives nil for text that is not YAML; the `must` forms fail instead.

use std::collections::BTreeMap;

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The first document of `text` as template values; an empty text is nil.
pub fn from_yaml(text: &str) -> Result<Value, FuncError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| FuncError::new(format!("yaml: {e}")))?;
    Ok(docs.first().map_or(Value::Nil, to_value))
}

fn key_string(k: &Yaml) -> String {
    match k {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "<nil>".to_string(),
        other => format!("{other:?}"),
    }
}

fn to_value(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => match s.parse::<f64>() {
            Ok(f) => Value::Float(f),
            Err(_) => special_float(s).map_or_else(|| Value::str(s), Value::Float),
        },
        Yaml::Integer(i) => Value::Int(*i),
        Yaml::String(s) => Value::str(s),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::list(a.iter().map(to_value).collect()),
        Yaml::Hash(h) => Value::map(
            h.iter()
                .map(|(k, v)| (key_string(k), to_value(v)))
                .collect(),
        ),
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Nil,
    }
}

fn special_float(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => Some(f64::INFINITY),
        "-.inf" => Some(f64::NEG_INFINITY),
        ".nan" => Some(f64::NAN),
        _ => None,
    }
}

/// Whether a string must be quoted to stay a string when read back.
fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n",
    ];
    if reserved.contains(&s.to_ascii_lowercase().as_str())
        || s.parse::<f64>().is_ok()
        || special_float(s).is_some()
    {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.contains('\n')
        || s.ends_with(':')
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Nil => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => gotmpl::fmt::format_float(*f, 'g', None),
        Value::String(s) if needs_quotes(s) => quote(s),
        Value::String(s) => s.to_string(),
        Value::Time(t) => t.to_string(),
        Value::Duration(d) => d.to_string(),
        Value::List(l) if l.borrow().is_empty() => "[]".to_string(),
        Value::Map(m) if m.borrow().is_empty() => "{}".to_string(),
        _ => return None,
    })
}

fn record_map(v: &Value) -> Option<BTreeMap<String, Value>> {
    match v {
        Value::Map(m) => Some(m.borrow().clone()),
        // yaml.v3 writes struct fields under their lower-cased names.
        Value::Record(r) => Some(
            r.fields
                .iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn emit(out: &mut String, v: &Value, indent: usize) -> Result<(), FuncError> {
    let pad = " ".repeat(indent);
    if let Value::Record(r) = v
        && let Some(items) = &r.items
    {
        // A slice type with methods marshals as its elements.
        return emit(out, &Value::List(items.clone()), indent);
    }
    if let Some(m) = record_map(v).filter(|m| !m.is_empty()) {
        for (k, item) in m {
            let key = if needs_quotes(&k) { quote(&k) } else { k };
            match scalar(&item) {
                Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                None => {
                    out.push_str(&format!("{pad}{key}:\n"));
                    emit(out, &item, indent + 4)?;
                }
            }
        }
        return Ok(());
    }
    match v {
        Value::List(l) => {
            for item in l.borrow().iter() {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let mut inner = String::new();
                        emit(&mut inner, item, indent + 4)?;
                        // The first line of the nested block goes after the dash.
                        let trimmed = inner.get(indent + 4..).unwrap_or_default();
                        out.push_str(&format!("{pad}-   {trimmed}"));
                    }
                }
            }
            Ok(())
        }
        Value::Func(_) => Err(FuncError::new("cannot marshal type: func")),
        other => {
            let s = scalar(other).unwrap_or_default();
            out.push_str(&format!("{pad}{s}\n"));
            Ok(())
        }
    }
}

/// `v` as YAML without the final newline.
pub fn to_yaml(v: &Value) -> Result<String, FuncError> {
    let mut out = String::new();
    emit(&mut out, v, 0)?;
    Ok(out.strip_suffix('\n').unwrap_or(&out).to_string())
}

/// Registers the YAML family.
pub fn register(m: &mut FuncMap) {
    m.insert("fromYaml", Signature::fixed(&[Param::String]), |a| {
        Ok(from_yaml(a[0].as_str().unwrap_or_default()).unwrap_or(Value::Nil))
    });
    m.insert("mustFromYaml", Signature::fixed(&[Param::String]), |a| {
        from_yaml(a[0].as_str().unwrap_or_default())
    });
    m.insert("toYaml", Signature::fixed(&[Param::Any]), |a| {
        Ok(Value::from(to_yaml(&a[0]).unwrap_or_default()))
    });
    m.insert("mustToYaml", Signature::fixed(&[Param::Any]), |a| {
        to_yaml(&a[0]).map(Value::from)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_into_maps_lists_and_scalars() {
        let v = from_yaml(
            "a.example:\n  \"/\":\n    port: 8000\n  \"/x\":\nflag: true\nlist: [1, 2.5, s]\n",
        )
        .expect("YAML");
        assert_eq!(
            gotmpl::fmt::sprint(&[v]),
            "map[a.example:map[/:map[port:8000] /x:<nil>] flag:true list:[1 2.5 s]]"
        );
        assert!(from_yaml("this: is: not: yaml: [").is_err());
        assert!(from_yaml("").expect("empty is fine").is_nil());
    }

    #[test]
    fn yaml_writes_block_style() {
        let v = from_yaml("b: [1, x]\na: {k: \"true\"}\n").expect("YAML");
        assert_eq!(
            to_yaml(&v).expect("writes"),
            "a:\n    k: \"true\"\nb:\n    - 1\n    - x"
        );
    }
}
