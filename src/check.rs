//! `pygen check --config FILE`: the config file validated and every template in it loaded and
//! compiled, without the Docker daemon, for CI pipelines and before a reload. Every problem is
//! listed, one per line: `FILE:LINE: KEY: message` for the config file,
//! `FILE: template "NAME": TEMPLATE:LINE:COL: message` for a template.
//!
//! A Jinja template is compiled as the generator compiles it (its includes are read on first
//! render, so an include is not checked); a Go template (`dialect = "go"`) is parsed with
//! docker-gen's function map, which is what compiling it means in Go.

use std::path::Path;

use crate::config::{Config, Dialect, TemplateSpec};
use crate::report::describe;
use crate::template::{self, LoadOptions, Source, Template};

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Every problem, one line each, in file order.
    pub problems: Vec<String>,
    /// How many templates the file holds (0 when the file itself has problems).
    pub templates: usize,
}

/// Checks the config file at `path` and every template it names. Template URLs are fetched
/// (with the file's `template_timeout` and `no_ssl_check`); the daemon is not contacted.
pub async fn check(path: &Path) -> Report {
    let config = match Config::from_file(path) {
        Ok(config) => config,
        Err(problems) => {
            return Report {
                problems: problems.iter().map(|p| describe(p)).collect(),
                templates: 0,
            };
        }
    };
    let options = LoadOptions {
        no_ssl_check: config.no_ssl_check,
        timeout: config.template_timeout,
    };
    let mut report = Report {
        problems: Vec::new(),
        templates: config.templates.len(),
    };
    for spec in &config.templates {
        if let Err(err) = compile(spec, &options).await {
            report.problems.push(format!(
                "{}: template {:?}: {}",
                path.display(),
                spec.name,
                describe(&err)
            ));
        }
    }
    report
}

/// Loads and compiles one template in its dialect.
async fn compile(spec: &TemplateSpec, options: &LoadOptions) -> Result<(), template::Error> {
    let source = Source::parse(&spec.source);
    match spec.dialect {
        Dialect::Jinja => Template::load(&source, options).await.map(drop),
        Dialect::Go => Template::load_in(&template::go::GoDialect, &source, options)
            .await
            .map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn go_templates_are_parsed_with_docker_gen_s_functions() {
        let options = LoadOptions::default();
        let good = Source::Inline(
            "{{ range $h, $c := groupByMulti $ \"Env.VIRTUAL_HOST\" \",\" }}{{ $h }}{{ end }}"
                .into(),
        );
        assert!(
            Template::load_in(&template::go::GoDialect, &good, &options)
                .await
                .is_ok()
        );
        let bad = Source::Inline("line one\n{{ nosuchfunction . }}".into());
        let err = Template::load_in(&template::go::GoDialect, &bad, &options)
            .await
            .expect_err("unknown function");
        let message = err.to_string();
        assert!(message.starts_with("inline:2: "), "{message}");
        assert!(message.contains("nosuchfunction"), "{message}");
    }
}
