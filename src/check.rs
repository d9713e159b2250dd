//! `pygen check --config FILE`: the config file validated and every template in it loaded and
//! compiled, without the Docker daemon, for CI pipelines and before a reload. Every problem is
//! listed, one per line: `FILE:LINE: KEY: message` for the config file,
//! `FILE: template "NAME": TEMPLATE:LINE:COL: message` for a template.
//!
//! A Jinja template is compiled as the generator compiles it (its includes are read on first
//! render, so an include is not checked); a Go template (`dialect = "go"`) is parsed with
//! docker-gen's function map, which is what compiling it means in Go.

use std::path::Path;

use crate::config::Config;
use crate::generator::load_template;
use crate::report::describe;

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
    let mut report = Report {
        problems: Vec::new(),
        templates: config.templates.len(),
    };
    for spec in &config.templates {
        if let Err(err) = load_template(&config, spec).await {
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

#[cfg(test)]
mod tests {
    use crate::template::{self, LoadOptions, Source, Template};

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
