//! docker-gen's dialect: nginx-proxy-style Go templates rendered as docker-gen 0.17 renders them.
//! This folder owns the template data ([`data`]: the container list with `.Env` and `.Docker`,
//! every `RuntimeContainer` field) and docker-gen's function map layered over sprig's (one file
//! per family), and [`render_docker_gen`], the one call that parses, executes and removes blank
//! lines. The Go engine itself is the `gotmpl` crate.
//!
//! Deliberate differences from docker-gen: `keys`, `groupByKeys` and `intersect` return sorted
//! lists (docker-gen's order is Go's random map order), and `exists`, `include` and `dir` read
//! below a root folder given by the caller.
//!
//! Layout: `data` (the records), `context` (the records built from the daemon's JSON or a
//! snapshot), `reflect` (field paths), then the function families `groupby`,
//! `wheres`, `sort`, `strings`, `collections`, `files`, `yaml` (with `yaml_emit`, `toYaml`'s
//! writer, and `yaml_style`, how it writes a string).

pub mod context;
pub mod data;
mod dialect;

mod collections;
mod files;
mod groupby;
mod reflect;
mod sort;
mod strings;
mod wheres;
mod yaml;
mod yaml_emit;
mod yaml_style;

use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Template, Value};

pub use data::Context;
pub use dialect::{GoDialect, GoSet, render_context};

/// Errors of rendering a docker-gen template. Every variant depends on the template or the data
/// only, so none is fatal to the process: the next render with fixed input may pass.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template does not parse; the message carries Go's `template: NAME:LINE: ...` text.
    #[error("{0}")]
    Parse(#[source] gotmpl::Error),
    /// Execution failed; the message is Go's `template: NAME:LINE:COL: executing ...` text.
    #[error("{0}")]
    Execute(#[source] gotmpl::Error),
    /// The context JSON is not docker-gen's context shape.
    #[error("invalid docker-gen context: {0}")]
    Context(#[source] serde_json::Error),
}

/// How one docker-gen template renders.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The template's name in Go's messages: docker-gen uses the file's base name.
    pub name: String,
    /// Keep whitespace-only lines (`-keep-blank-lines`); by default they are removed.
    pub keep_blank_lines: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            name: "template".to_string(),
            keep_blank_lines: false,
        }
    }
}

impl Context {
    /// Reads docker-gen's context JSON: `{"Env": {...}, "Docker": {...}, "Containers": [...]}`
    /// with containers in the `RuntimeContainer` shape.
    pub fn from_json(text: &str) -> Result<Context, Error> {
        serde_json::from_str(text).map_err(Error::Context)
    }
}

/// Renders `template` over `context` as docker-gen does, with `exists`, `include` and `dir`
/// reading below `root`.
pub fn render_docker_gen(
    template: &str,
    context: &Context,
    root: &Path,
    options: &RenderOptions,
) -> Result<String, Error> {
    render_docker_gen_with(template, &[], context, root, options)
}

/// [`render_docker_gen`] with more template files in the set, as docker-gen's `template =
/// "a.tmpl;b.tmpl"`: each `(name, text)` of `others` is parsed as the template `name` (Go's
/// `ParseFiles` names them by base name), and `template` is the one executed.
pub fn render_docker_gen_with(
    template: &str,
    others: &[(String, String)],
    context: &Context,
    root: &Path,
    options: &RenderOptions,
) -> Result<String, Error> {
    let parsed = Parsed::parse(template, others, root, &options.name)?;
    parsed.execute(context, options.keep_blank_lines)
}

/// A parsed docker-gen template set, ready to execute any number of times (docker-gen parses
/// at every render; a caller may keep this while the files are unchanged). `Send + Sync`, cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct Parsed {
    template: Arc<Template>,
}

impl Parsed {
    /// Parses `template` (named `name` in Go's messages) and `others` as in
    /// [`render_docker_gen_with`], with `exists`, `include` and `dir` reading below `root`.
    pub fn parse(
        template: &str,
        others: &[(String, String)],
        root: &Path,
        name: &str,
    ) -> Result<Parsed, Error> {
        // `eval` runs a template of the set it belongs to: it reaches the parsed set through
        // this slot, filled once parsing is done. A weak reference, so the set does not own
        // itself.
        let slot: Arc<OnceLock<Weak<Template>>> = Arc::new(OnceLock::new());
        let mut tmpl = Template::new(name).funcs(functions(root, Arc::clone(&slot)));
        tmpl.parse(template).map_err(Error::Parse)?;
        for (name, text) in others {
            tmpl.parse_named(name, text).map_err(Error::Parse)?;
        }
        let tmpl = Arc::new(tmpl);
        // The slot was created above and is set only here.
        let _ = slot.set(Arc::downgrade(&tmpl));
        Ok(Parsed { template: tmpl })
    }

    /// Executes the set over `context`; whitespace-only lines are removed unless
    /// `keep_blank_lines`. The template data is built afresh for each call, so what one
    /// execution does to it (sprig's `set`) never reaches the next.
    pub fn execute(&self, context: &Context, keep_blank_lines: bool) -> Result<String, Error> {
        let out = self
            .template
            .execute(&context.to_value())
            .map_err(Error::Execute)?;
        Ok(if keep_blank_lines {
            out
        } else {
            remove_blank_lines(&out)
        })
    }
}

/// docker-gen's function map: sprig's functions, overridden and extended by docker-gen's own.
pub fn functions(root: &Path, eval_slot: Arc<OnceLock<Weak<Template>>>) -> FuncMap {
    let sprig = gotmpl::sprig::funcs();
    let mut m = FuncMap::new();
    for (alias, name) in [
        ("sprigCoalesce", "coalesce"),
        ("sprigContains", "contains"),
        ("sprigDir", "dir"),
        ("sprigReplace", "replace"),
        ("sprigSplit", "split"),
        ("sprigSplitn", "splitn"),
        ("json", "mustToJson"),
        ("parseJson", "mustFromJson"),
        ("sha1", "sha1sum"),
    ] {
        if let Some(f) = sprig.get(name) {
            m.insert_function(alias, f.clone());
        }
    }
    groupby::register(&mut m);
    wheres::register(&mut m);
    sort::register(&mut m);
    strings::register(&mut m);
    collections::register(&mut m);
    files::register(&mut m, root);
    yaml::register(&mut m);
    m.insert(
        "eval",
        Signature::variadic(&[Param::String], Param::Any),
        move |a| {
            let name = a[0].as_str().unwrap_or_default();
            let data = match &a[1..] {
                [] => Value::Nil,
                [d] => d.clone(),
                _ => return Err(FuncError::new("too many arguments")),
            };
            let tmpl = eval_slot
                .get()
                .and_then(Weak::upgrade)
                .ok_or_else(|| FuncError::new("eval outside of a template"))?;
            let mut out = String::new();
            tmpl.execute_template_to(&mut out, name, &data)
                .map_err(|e| FuncError::new(e.to_string()))?;
            Ok(Value::from(out))
        },
    );
    let mut all = sprig;
    all.extend(m);
    all
}

/// docker-gen's `removeBlankLines`: drops every line made only of whitespace, with its newline.
pub fn remove_blank_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !line.chars().all(char::is_whitespace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_go_unless_kept() {
        assert_eq!(remove_blank_lines("a\n  \n\t\nb\n \n"), "a\nb\n");
        assert_eq!(remove_blank_lines("a\n  "), "a\n");
        assert_eq!(remove_blank_lines("a\nb"), "a\nb");
    }

    #[test]
    fn root_is_the_container_list_with_env_and_docker() {
        let ctx = Context::from_json(
            r#"{"Env":{"E":"v"},"Docker":{"CurrentContainerID":"c1"},"Containers":[
                {"ID":"c1","Name":"/one","Env":{"VIRTUAL_HOST":"a"}},{"ID":"c2","Name":"two"}]}"#,
        )
        .expect("a context");
        let tmpl = r#"{{ $.Env.E }} {{ .Docker.CurrentContainerID }} {{ .CurrentContainer.Name }}
{{ range where $ "ID" "c2" }}{{ .Name }}{{ end }} {{ groupByKeys $ "Env.VIRTUAL_HOST" }}
{{ len $ }} {{ range $ }}{{ .Name }}{{ end }} {{ (index $ 1).ID }}
{{ define "x" }}[{{ . }}]{{ end }}{{ eval "x" 1 }}{{ json (list 1) }}{{ sprigReplace "a" "b" "aa" }}{{ replace "aa" "a" "c" 1 }}

end"#;
        let out = render_docker_gen(tmpl, &ctx, Path::new("/"), &RenderOptions::default())
            .expect("renders");
        assert_eq!(out, "v c1 one\ntwo [a]\n2 onetwo c2\n[1][1]bbca\nend");
        let err = render_docker_gen(
            "{{ eval \"x\" 1 2 }}",
            &ctx,
            Path::new("/"),
            &RenderOptions::default(),
        )
        .expect_err("too many");
        assert!(
            err.to_string()
                .ends_with("error calling eval: too many arguments"),
            "{err}"
        );
    }
}
