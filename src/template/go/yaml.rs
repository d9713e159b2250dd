//! docker-gen's YAML helpers: `fromYaml`/`mustFromYaml` (a YAML document to maps, lists and
//! scalars, as gopkg.in/yaml.v3 decodes into `interface{}`) and `toYaml`/`mustToYaml` (values to
//! YAML as yaml.v3 writes them, final newline included: [`super::yaml_emit`]). `fromYaml` gives
//! nil for text that is not YAML; the `must` forms fail instead. Both are checked against Go
//! (`tests/data/docker-gen/yaml-cases.json`, recorded by `scripts/record-go-cases.sh`).

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};
use yaml_rust2::{Yaml, YamlLoader};

use super::yaml_emit::to_yaml;

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
            "a:\n    k: \"true\"\nb:\n    - 1\n    - x\n"
        );
    }
}
