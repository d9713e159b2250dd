//! `gotmpl TEMPLATE DATA [--missingkey MODE]`: renders a Go template file (or several,
//! `a.tmpl;b.tmpl`, the first executed) over a JSON or YAML data file to stdout with sprig's functions, as Go's text/template would; on failure it prints
//! Go's error text to stderr and exits 1. It is how the crate is tried from outside.
//!
//! Data rules (Go's `encoding/json` with `UseNumber`, then int conversion): JSON integers become
//! Go ints (uint64 above the int64 range), other numbers float64, objects maps, arrays lists,
//! null nil. YAML (files ending in `.yaml`/`.yml`) follows the same rule: integers are ints,
//! floats float64, mapping keys strings.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use gotmpl::{Template, Value};
use yaml_rust2::{Yaml, YamlLoader};

const USAGE: &str = "usage: gotmpl TEMPLATE[;TEMPLATE...] DATA [--missingkey default|zero|error]";

struct Args {
    template: String,
    data: String,
    missingkey: Option<String>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut positional = Vec::new();
    let mut missingkey = None;
    while let Some(a) = it.next() {
        if a == "--missingkey" {
            missingkey = Some(it.next().context("--missingkey needs a value")?);
        } else if let Some(v) = a.strip_prefix("--missingkey=") {
            missingkey = Some(v.to_string());
        } else if a == "-h" || a == "--help" {
            bail!("{USAGE}");
        } else if a.starts_with("--") {
            bail!("unknown option {a}\n{USAGE}");
        } else {
            positional.push(a);
        }
    }
    let [template, data] =
        <[String; 2]>::try_from(positional).map_err(|_| anyhow::anyhow!("{USAGE}"))?;
    Ok(Args {
        template,
        data,
        missingkey,
    })
}

/// YAML to a value with the same number rule as JSON.
fn from_yaml(y: Yaml) -> Value {
    match y {
        Yaml::Integer(i) => Value::Int(i),
        Yaml::Real(s) => Value::Float(
            Yaml::Real(s.clone())
                .as_f64()
                .unwrap_or_else(|| s.parse().unwrap_or(f64::NAN)),
        ),
        Yaml::String(s) => Value::from(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(a) => Value::list(a.into_iter().map(from_yaml).collect()),
        Yaml::Hash(h) => {
            let mut m = BTreeMap::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Real(s) => s,
                    Yaml::Boolean(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                m.insert(key, from_yaml(v));
            }
            Value::map(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Nil,
    }
}

fn load_data(path: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        let mut docs =
            YamlLoader::load_from_str(&text).with_context(|| format!("parsing {path}"))?;
        return Ok(if docs.is_empty() {
            Value::Nil
        } else {
            from_yaml(docs.swap_remove(0))
        });
    }
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
    Ok(Value::from(json))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let data = load_data(&args.data)?;
    // Like docker-gen, TEMPLATE may list several files separated by ';': all are parsed into
    // one set and the first is executed. Go's ParseFiles names each after its base name.
    let files: Vec<&str> = args.template.split(';').filter(|f| !f.is_empty()).collect();
    let base = |f: &str| -> String {
        std::path::Path::new(f)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(f)
            .to_string()
    };
    let main = files.first().map(|f| base(f)).context(USAGE)?;
    let mut t = Template::new(&main).funcs(gotmpl::sprig::funcs());
    if let Some(mode) = &args.missingkey {
        t = t.option(&format!("missingkey={mode}"))?;
    }
    for f in &files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
        t.parse_named(&base(f), &text)?;
    }
    let mut out = String::new();
    let result = t.execute_to(&mut out, &data);
    // Like Go writing to stdout, what was rendered before an error is still printed.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes()).context("writing stdout")?;
    stdout.flush().context("writing stdout")?;
    result?;
    Ok(())
}
