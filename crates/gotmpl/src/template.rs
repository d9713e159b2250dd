//! A template set, as Go's `text/template.Template`: one or more named trees parsed with one
//! function map, delimiters and options (`missingkey`), the first one executed by default.
//! Parsing and execution errors are returned with Go's texts.

use std::collections::HashMap;
use std::sync::Arc;

use crate::exec::{self, ExecError};
use crate::funcs::FuncMap;
use crate::node::is_empty_tree;
use crate::parse::{self, ParseError, Tree};
use crate::value::Value;

/// What a missing map key evaluates to (Go's `missingkey` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default` / `invalid`: no value, printed as `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the map element type's zero value; for the maps of this crate (Go's
    /// `map[string]interface{}`) that is also no value.
    Zero,
    /// `missingkey=error`: execution stops with an error.
    Error,
}

/// Resource bounds of one execution (Go has none but its template call depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nested `{{template}}` calls before "exceeded maximum template depth".
    pub max_depth: usize,
    /// Bytes of output before execution stops with an error; `None` for no bound.
    pub max_output: Option<usize>,
    /// Nodes walked plus range iterations before execution stops with an error (a bound on
    /// time, e.g. for `{{range 1000000000000}}{{end}}`); `None` for no bound.
    pub max_steps: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_output: None,
            max_steps: None,
        }
    }
}

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// An option string `Template::option` does not know.
    #[error("unrecognized option: {0}")]
    Option(String),
}

/// A set of named templates sharing functions, delimiters and options. `Send + Sync`: parse
/// once, execute from any thread.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    trees: HashMap<String, Arc<Tree>>,
    pub(crate) funcs: FuncMap,
    left: String,
    right: String,
    pub(crate) missing_key: MissingKey,
    pub(crate) limits: Limits,
    skip_func_check: bool,
}

impl Template {
    /// An empty set whose main template is `name`.
    pub fn new(name: &str) -> Self {
        Template {
            name: name.to_string(),
            trees: HashMap::new(),
            funcs: FuncMap::new(),
            left: String::new(),
            right: String::new(),
            missing_key: MissingKey::Default,
            limits: Limits::default(),
            skip_func_check: false,
        }
    }

    /// The main template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds functions (later ones override earlier ones with the same name). Must come before
    /// parsing, as in Go: the parser rejects unknown function names.
    pub fn funcs(mut self, funcs: FuncMap) -> Self {
        self.funcs.extend(funcs);
        self
    }

    /// Sets the action delimiters; empty strings mean the defaults `{{` and `}}`.
    pub fn delims(mut self, left: &str, right: &str) -> Self {
        self.left = left.to_string();
        self.right = right.to_string();
        self
    }

    /// Go's `Option("missingkey=...")`.
    pub fn option(mut self, opt: &str) -> Result<Self, Error> {
        self.missing_key = match opt {
            "missingkey=default" | "missingkey=invalid" => MissingKey::Default,
            "missingkey=zero" => MissingKey::Zero,
            "missingkey=error" => MissingKey::Error,
            _ => return Err(Error::Option(opt.to_string())),
        };
        Ok(self)
    }

    pub fn missing_key(mut self, mode: MissingKey) -> Self {
        self.missing_key = mode;
        self
    }

    /// Go's `parse.SkipFuncCheck` mode: unknown function names are accepted when parsing
    /// and fail only if executed (`"name" is not a defined function`).
    pub fn skip_func_check(mut self) -> Self {
        self.skip_func_check = true;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Parses `text` as the main template (plus the templates it defines).
    pub fn parse(&mut self, text: &str) -> Result<(), Error> {
        let name = self.name.clone();
        self.parse_named(&name, text)
    }

    /// Parses `text` as the template `name` of the set (plus the templates it defines), as
    /// Go's `ParseFiles` does for each file.
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let funcs = &self.funcs;
        let skip = self.skip_func_check;
        let has = |f: &str| skip || funcs.contains(f) || crate::builtins::NAMES.contains(&f);
        let trees = parse::parse(name, text, &self.left, &self.right, &has)?;
        for (n, tree) in trees {
            // Go's associate: an empty redefinition does not replace an existing body.
            if let Some(old) = self.trees.get(&n)
                && is_empty_tree(&tree.root)
                && !is_empty_tree(&old.root)
            {
                continue;
            }
            self.trees.insert(n, Arc::new(tree));
        }
        Ok(())
    }

    /// Whether the set has a template `name`.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of the set's templates, sorted.
    pub fn template_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The template `name` printed back as source (normalised: `{{.X}}` spacing, `else if`
    /// expanded), as Go's `Tree.Root.String()`.
    pub fn source_of(&self, name: &str) -> Option<String> {
        self.trees.get(name).map(|t| t.root.to_string())
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&Arc<Tree>> {
        self.trees.get(name)
    }

    /// Executes the main template over `data`.
    pub fn execute(&self, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        self.execute_to(&mut out, data)?;
        Ok(out)
    }

    /// Executes the main template over `data`, appending to `out`; on error `out` keeps what
    /// was written before it, as Go's writer does.
    pub fn execute_to(&self, out: &mut String, data: &Value) -> Result<(), Error> {
        let name = self.name.clone();
        self.execute_template_to(out, &name, data)
    }

    /// Executes the template `name` of the set over `data`, appending to `out`.
    pub fn execute_template_to(
        &self,
        out: &mut String,
        name: &str,
        data: &Value,
    ) -> Result<(), Error> {
        let Some(tree) = self.trees.get(name) else {
            if name == self.name {
                return Err(ExecError(format!(
                    "template: {}: {} is an incomplete or empty template",
                    name,
                    crate::fmt::quote(name)
                ))
                .into());
            }
            return Err(ExecError(format!(
                "template: no template {} associated with template {}",
                crate::fmt::quote(name),
                crate::fmt::quote(&self.name)
            ))
            .into());
        };
        exec::execute(self, tree, out, data).map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Template>();
    }

    #[test]
    fn several_sources_one_set() {
        let mut t = Template::new("main");
        t.parse_named("main", "[{{ template \"part\" . }}]")
            .expect("parses");
        t.parse_named("part", "{{ .x }}").expect("parses");
        let mut m = std::collections::BTreeMap::new();
        m.insert("x".to_string(), Value::Int(1));
        assert_eq!(t.execute(&Value::map(m)).expect("runs"), "[1]");
        assert_eq!(t.template_names(), vec!["main", "part"]);
    }

    #[test]
    fn custom_delimiters_and_options() {
        let mut t = Template::new("t")
            .delims("[[", "]]")
            .option("missingkey=error")
            .expect("known option");
        t.parse("{{ x }}[[ .a ]]").expect("parses");
        let err = t
            .execute(&Value::map(Default::default()))
            .expect_err("missing key");
        assert_eq!(
            err.to_string(),
            "template: t:1:10: executing \"t\" at <.a>: map has no entry for key \"a\""
        );
        assert!(Template::new("t").option("missingkey=nope").is_err());
    }

    #[test]
    fn a_record_can_also_be_a_list() {
        use crate::value::Record;
        let root = Value::record(Record::with_items(
            "context.Context",
            vec![(
                "Env",
                Value::map([("HOME".to_string(), Value::str("/root"))].into()),
            )],
            vec![Value::str("a"), Value::str("b")],
        ));
        let mut t = Template::new("t");
        t.parse("{{ .Env.HOME }} {{ len . }} {{ index . 1 }} {{ range $i, $c := . }}{{ $i }}{{ $c }}{{ end }} {{ . }}")
            .expect("parses");
        assert_eq!(t.execute(&root).expect("runs"), "/root 2 b 0a1b [a b]");
    }

    #[test]
    fn records_methods_and_call() {
        use crate::funcs::FuncError;
        use crate::value::Record;
        use std::rc::Rc;
        let greet: crate::value::FuncValue = Rc::new(|args: &[Value]| {
            let who = args.first().and_then(Value::as_str).unwrap_or("nobody");
            Ok(Value::from(format!("hi {who}")))
        });
        let fail: crate::value::FuncValue = Rc::new(|_: &[Value]| Err(FuncError::new("no")));
        let rec = Value::record(Record::new(
            "main.T",
            vec![
                ("Name", Value::str("x")),
                ("Greet", Value::Func(greet.clone())),
                ("Fail", Value::Func(fail)),
                ("F", Value::Func(greet.clone())),
            ],
        ));
        let rec_f = Value::Func(greet);
        let run = |src: &str| {
            let mut t = Template::new("t");
            t.parse(src).expect("parses");
            t.execute(&rec).map_err(|e| e.to_string())
        };
        assert_eq!(
            run("{{ .Name }} {{ .Greet \"bob\" }} {{ .Greet }}"),
            Ok("x hi bob hi nobody".into())
        );
        // A function in a map is a value (as in Go): `call` calls it.
        let mut m = std::collections::BTreeMap::new();
        m.insert("f".to_string(), rec_f.clone());
        let mut t = Template::new("t");
        t.parse("{{ call .f \"amy\" }} {{ printf \"%T\" .f | len | lt 0 }}")
            .expect("parses");
        assert_eq!(t.execute(&Value::map(m)).expect("runs"), "hi amy true");
        assert_eq!(
            run("{{ .Nope }}"),
            Err("template: t:1:3: executing \"t\" at <.Nope>: can't evaluate field Nope in type main.T".into())
        );
        assert_eq!(
            run("{{ .Name 1 }}"),
            Err("template: t:1:3: executing \"t\" at <.Name>: Name has arguments but cannot be invoked as function".into())
        );
        assert_eq!(
            run("{{ .Fail }}"),
            Err("template: t:1:3: executing \"t\" at <.Fail>: error calling Fail: no".into())
        );
        assert_eq!(
            run("{{ call .Name }}"),
            Err("template: t:1:3: executing \"t\" at <call .Name>: error calling call: non-function of type string".into())
        );
        assert_eq!(run("{{ .F }}"), Ok("hi nobody".into()),);
    }

    #[test]
    fn times_print_and_have_methods() {
        let t0 = Value::Time(crate::value::Time::utc(1_700_000_000, 5));
        let mut t = Template::new("t");
        t.parse("{{ . }}|{{ .Unix }} {{ .Year }} {{ .Month }} {{ .Weekday }}|{{ printf \"%v %s\" . . }}").expect("parses");
        assert_eq!(
            t.execute(&t0).expect("runs"),
            "2023-11-14 22:13:20.000000005 +0000 UTC|1700000000 2023 November Tuesday|2023-11-14 22:13:20.000000005 +0000 UTC 2023-11-14 22:13:20.000000005 +0000 UTC"
        );
    }
}
