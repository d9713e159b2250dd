//! Templates: the seam between pygen and its template languages, and where templates come
//! from (inline `#...`, a file, an `http(s)://` URL).
//!
//! A [`Dialect`] compiles a template's text into a [`Compiled`] template, which renders a
//! [`Snapshot`] of the model and says which parts of it it reads; errors carry the template
//! name, line and column ([`Error::Syntax`], [`Error::Render`]). The Jinja dialect
//! ([`jinja::Jinja`], docker-pygen's language) is the default; another dialect plugs in beside
//! it by implementing the two traits, without touching the Docker client, the model, the
//! output, the timer or the actions. [`Template`] is what the rest of pygen holds: a loaded,
//! compiled template of any dialect.

pub(crate) mod engine;
mod fetch;
pub mod go;
pub mod jinja;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use engine::{Compiled, Dialect, EngineError, Error, Item, Unit};

use crate::model::Snapshot;

/// Where a template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The template text itself (`--template '#...'`).
    Inline(String),
    /// A template file; includes resolve relative to its folder.
    File(PathBuf),
    /// An `http://` or `https://` URL, fetched at load time.
    Url(String),
}

impl Source {
    /// Classifies a `--template` value: `#` starts an inline template (the `#` dropped, the
    /// rest trimmed); `http://` or `https://` (any case, any host, `localhost` included)
    /// is a URL; anything else is a file path.
    pub fn parse(value: &str) -> Source {
        if let Some(text) = value.strip_prefix('#') {
            return Source::Inline(text.trim().to_owned());
        }
        let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::Url(value.to_owned())
        } else {
            Source::File(PathBuf::from(value))
        }
    }
}

/// How templates are fetched from URLs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Skip TLS certificate verification (`--no-ssl-check`).
    pub no_ssl_check: bool,
    /// Limit for the whole download.
    pub timeout: Duration,
}

impl Default for LoadOptions {
    /// Verification on; 60 s, docker-pygen's timeout.
    fn default() -> LoadOptions {
        LoadOptions {
            no_ssl_check: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A loaded, compiled template, of the Jinja dialect unless loaded with another.
#[derive(Debug)]
pub struct Template {
    /// The dialect's compiled template.
    compiled: Box<dyn Compiled>,
    /// Where it came from, for logs.
    description: String,
}

impl Template {
    /// Loads and compiles a Jinja template. A file is read now and its includes on first use;
    /// a URL is fetched now with `options`.
    pub async fn load(source: &Source, options: &LoadOptions) -> Result<Template, Error> {
        Template::load_in(&jinja::Jinja, source, options).await
    }

    /// Loads a template like [`Template::load`] and compiles it with `dialect`.
    pub async fn load_in(
        dialect: &dyn Dialect,
        source: &Source,
        options: &LoadOptions,
    ) -> Result<Template, Error> {
        let unit = match source {
            Source::Inline(text) => Unit {
                name: "inline".to_owned(),
                description: "inline template".to_owned(),
                text: text.clone(),
                folder: None,
            },
            Source::Url(url) => Unit {
                name: url.clone(),
                description: url.clone(),
                text: fetch::fetch(url, options).await?,
                folder: None,
            },
            Source::File(path) => {
                let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let text =
                    tokio::fs::read_to_string(&path)
                        .await
                        .map_err(|source| Error::Read {
                            path: path.clone(),
                            source,
                        })?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                Unit {
                    name,
                    description: path.display().to_string(),
                    text,
                    folder: path.parent().map(Path::to_path_buf),
                }
            }
        };
        Template::compile(dialect, unit)
    }

    /// A Jinja template from text, named `name` in error messages; it cannot include others.
    pub fn from_text(name: &str, text: String) -> Result<Template, Error> {
        Template::compile(
            &jinja::Jinja,
            Unit {
                name: name.to_owned(),
                description: name.to_owned(),
                text,
                folder: None,
            },
        )
    }

    /// Compiles `unit` with `dialect`.
    pub fn compile(dialect: &dyn Dialect, unit: Unit) -> Result<Template, Error> {
        let description = unit.description.clone();
        Ok(Template {
            compiled: dialect.compile(unit)?,
            description,
        })
    }

    /// Renders a snapshot of the model.
    pub fn render_snapshot(&self, snapshot: &Snapshot) -> Result<String, Error> {
        self.compiled.render(snapshot)
    }

    /// Renders one item's file (`per_item`, see [`Compiled::render_item`]).
    pub fn render_item(&self, snapshot: &Snapshot, item: &Item) -> Result<String, Error> {
        self.compiled.render_item(snapshot, item)
    }

    /// The files the template was read from so far (main file and loaded includes).
    pub fn files(&self) -> Vec<PathBuf> {
        self.compiled.files()
    }

    /// Whether the template may read context variable `name` (see [`Compiled::reads`]).
    pub fn uses_variable(&self, name: &str) -> bool {
        self.compiled.reads(name)
    }

    /// Where the template came from: the file path, the URL, or `inline template`.
    pub fn source_description(&self) -> &str {
        &self.description
    }

    /// The dialect's compiled template.
    pub fn compiled(&self) -> &dyn Compiled {
        &*self.compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::jinja::JinjaTemplate;
    use minijinja::context;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::Arc;

    /// A test file under `tests/`.
    fn data(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(path)
    }

    fn snapshot(name: &str) -> Snapshot {
        let json =
            std::fs::read_to_string(data(&format!("data/{name}"))).expect("test data exists");
        Snapshot::from_dump(&json).expect("test data is a valid dump")
    }

    /// The Jinja template behind `template`, to render it with a context of the test's own.
    fn jinja(template: &Template) -> &JinjaTemplate {
        template
            .compiled()
            .as_any()
            .downcast_ref::<JinjaTemplate>()
            .expect("a Jinja template")
    }

    async fn load(value: &str) -> Result<Template, Error> {
        Template::load(&Source::parse(value), &LoadOptions::default()).await
    }

    #[test]
    fn templates_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Template>();
        assert_send_sync::<Error>();
        assert_send_sync::<Snapshot>();
    }

    #[test]
    fn read_config_works_with_any_context() {
        let template = Template::from_text("t", "{{ read_config('NOPE_X', default='d') }}".into())
            .expect("compiles");
        assert_eq!(jinja(&template).render(context! {}).expect("renders"), "d");
    }

    #[test]
    fn source_kinds() {
        assert_eq!(
            Source::parse("# {{ x }} \n"),
            Source::Inline("{{ x }}".into())
        );
        assert_eq!(Source::parse("#"), Source::Inline(String::new()));
        assert_eq!(
            Source::parse("https://example.com/t"),
            Source::Url("https://example.com/t".into())
        );
        // Any host, any case (docker-pygen wanted a dot in the host, B21).
        assert_eq!(
            Source::parse("HTTP://localhost:8080/t"),
            Source::Url("HTTP://localhost:8080/t".into())
        );
        assert_eq!(Source::parse("http:/x"), Source::File("http:/x".into()));
        assert_eq!(
            Source::parse("templates/a.tmpl"),
            Source::File("templates/a.tmpl".into())
        );
        assert_eq!(
            Source::parse("/etc/a.tmpl"),
            Source::File("/etc/a.tmpl".into())
        );
    }

    #[tokio::test]
    async fn inline_template() {
        let template = load("#{{ who }} {{ what }} use inline templates")
            .await
            .expect("loads");
        assert_eq!(template.source_description(), "inline template");
        let render = |who: &str, what: &str| {
            jinja(&template)
                .render(context! { who, what })
                .expect("renders")
        };
        assert_eq!(render("You", "can"), "You can use inline templates");
        assert_eq!(render("I", "could"), "I could use inline templates");
    }

    #[tokio::test]
    async fn template_from_relative_and_absolute_file() {
        // Tests run in the package folder, so this path is relative to it.
        for path in [
            "tests/data/templates/hello.txt".to_owned(),
            data("data/templates/hello.txt").display().to_string(),
        ] {
            let template = load(&path).await.expect("loads");
            assert!(Path::new(template.source_description()).is_absolute());
            assert_eq!(
                jinja(&template)
                    .render(context! { name => "world" })
                    .expect("renders"),
                "Hello world!"
            );
            assert_eq!(
                jinja(&template)
                    .render(context! { name => "Jinja2" })
                    .expect("renders"),
                "Hello Jinja2!"
            );
        }
    }

    #[tokio::test]
    async fn missing_template_file_names_the_path() {
        let err = load("missing/template.file")
            .await
            .expect_err("no such file");
        assert!(matches!(err, Error::Read { .. }));
        let text = err.to_string();
        assert!(text.starts_with("cannot read template /"), "{text}");
        assert!(
            text.contains("missing/template.file: No such file or directory"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn includes_resolve_in_the_template_folder_and_reload() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write(
            "main.tmpl",
            "{% include 'parts/head.txt' %}|{% from 'macros.j2' import hi %}{{ hi(name) }}",
        );
        write("parts/head.txt", "head v1");
        write("macros.j2", "{% macro hi(n) %}hi {{ n }}{% endmacro %}");
        write("../outside.txt", "secret");
        let main = dir.path().join("main.tmpl").display().to_string();
        let template = load(&main).await.expect("loads");
        assert_eq!(
            jinja(&template)
                .render(context! { name => "x" })
                .expect("renders"),
            "head v1|hi x"
        );

        // A new load re-reads the main template and its includes alike.
        write("parts/head.txt", "head v2");
        write("main.tmpl", "{% include 'parts/head.txt' %}!");
        let template = load(&main).await.expect("reloads");
        assert_eq!(
            jinja(&template).render(context! {}).expect("renders"),
            "head v2!"
        );

        // Names cannot leave the folder.
        write("main.tmpl", "{% include '../outside.txt' %}");
        let template = load(&main).await.expect("loads");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("outside the folder");
        assert_eq!(
            err.to_string(),
            "main.tmpl:1:4: template not found: tried to include non-existing template '../outside.txt'"
        );
    }

    #[tokio::test]
    async fn errors_in_includes_name_the_include() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("main.tmpl"),
            "line 1\n{% include 'inc.txt' %}",
        )
        .expect("write");
        std::fs::write(dir.path().join("inc.txt"), "ok\n  {{ x.y.z }}").expect("write");
        let template = load(&dir.path().join("main.tmpl").display().to_string())
            .await
            .expect("loads");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("x is undefined");
        assert_eq!(
            err.to_string(),
            "inc.txt:2:6: undefined value: `x` is undefined"
        );
        std::fs::write(dir.path().join("inc.txt"), "ok\n{% if %}").expect("write");
        let template = load(&dir.path().join("main.tmpl").display().to_string())
            .await
            .expect("loads");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("syntax error in the include");
        assert!(matches!(err, Error::Syntax { .. }));
        assert!(err.to_string().starts_with("inc.txt:2:"), "{err}");
    }

    #[test]
    fn syntax_and_render_errors_are_located() {
        let err = Template::from_text("t", "line1\n  {{ 1 + }}".into()).expect_err("bad syntax");
        assert!(matches!(
            err,
            Error::Syntax {
                line: Some(2),
                column: Some(10),
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "t:2:10: syntax error: unexpected end of variable block"
        );

        let template = Template::from_text(
            "t",
            "a\n{% for x in [1] %}\n {{ x|nofilter }}{% endfor %}".into(),
        )
        .expect("compiles: filters are looked up when used");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("unknown filter");
        assert!(matches!(err, Error::Render { .. }));
        assert_eq!(
            err.to_string(),
            "t:3:7: unknown filter: filter nofilter is unknown"
        );

        let template = Template::from_text("inline", "{% include 'x' %}".into()).expect("compiles");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("inline templates cannot include");
        assert!(
            err.to_string()
                .contains("only file templates can include other templates"),
            "{err}"
        );
    }

    #[test]
    fn uses_variable() {
        let template = Template::from_text(
            "t",
            "{% for c in all_containers %}{{ c.name }}{% endfor %}".into(),
        )
        .expect("compiles");
        assert!(template.uses_variable("all_containers"));
        assert!(!template.uses_variable("containers"));
        let template =
            Template::from_text("t", "{% set all_containers = [] %}{{ containers }}".into())
                .expect("compiles");
        assert!(!template.uses_variable("all_containers"));
        assert!(template.uses_variable("containers"));
        for text in [
            "{% include 'x' %}",
            "{%- import 'm' as m %}",
            "{% from 'm' import a %}",
            "{% extends 'b' %}",
        ] {
            let template = Template::from_text("t", text.into()).expect("compiles");
            assert!(template.uses_variable("all_containers"), "{text}");
        }
    }

    // --- docker-pygen's tests/test_generator.py, over recorded containers ---

    #[tokio::test]
    async fn generate() {
        let template = load(
            "#
            {% for container in containers %}
            running: {{ container.name }} ID={{ container.short_id }}
              {% for key, value in container.env.items() %}
              env: {{ key }}=>{{ value }}
              {% endfor %}
            {% endfor %}",
        )
        .await
        .expect("loads");
        let snapshot = snapshot("generator.json");
        let content = template.render_snapshot(&snapshot).expect("renders");
        for c in &snapshot.containers {
            assert!(
                content.contains(&format!("running: {} ID={}", c.name(), c.short_id())),
                "{content}"
            );
        }
        assert!(content.contains("env: GENERATOR=>pygen"), "{content}");
    }

    #[tokio::test]
    async fn generate_with_groups() {
        let template = load(
            "#
            {% for key, containers in containers|groupby('labels.application') %}
            group: {{ key }}
              {% for container in containers %}
              instance: {{ container.labels.instance }}
              {% endfor %}
            {% endfor %}",
        )
        .await
        .expect("loads");
        let content = template
            .render_snapshot(&snapshot("generator.json"))
            .expect("renders");
        assert!(content.contains("group: web"), "{content}");
        assert!(content.contains("group: db"), "{content}");
        for num in 1..=3 {
            assert!(
                content.contains(&format!("instance: {num:03}")),
                "{content}"
            );
        }
    }

    #[tokio::test]
    async fn nginx_template() {
        let template = load("tests/data/templates/nginx.example")
            .await
            .expect("loads");
        let snapshot = snapshot("nginx-seven.json");
        let content = template.render_snapshot(&snapshot).expect("renders");
        for num in 1..=5 {
            assert!(
                content.contains(&format!("# pygen-test-nginx-{num}")),
                "{content}"
            );
        }
        assert!(!content.contains("pygen-test-nginx-6"), "{content}");
        assert!(!content.contains("pygen-test-nginx-7"), "{content}");
        assert!(!content.contains("stopped"), "{content}");
        for upstream in [
            "test.site.com___",
            "www.site.com___",
            "api.site.com___rest",
            "api.site.com___stream",
        ] {
            assert!(
                content.contains(&format!("upstream {upstream} ")),
                "{content}"
            );
            assert!(
                content.contains(&format!("proxy_pass http://{upstream};")),
                "{content}"
            );
        }
        assert!(!content.contains("upstream api.site.com___ "), "{content}");
        for location in ["location / ", "location /rest ", "location /stream "] {
            assert!(content.contains(location), "{content}");
        }
        for c in snapshot
            .containers
            .iter()
            .filter(|c| c.name() <= "pygen-test-nginx-5")
        {
            let ip = c.networks[0].ip_address.as_deref().unwrap_or_default();
            let port = c.tcp_ports[0];
            assert!(
                content.contains(&format!("server {ip}:{port};")),
                "{content}"
            );
        }
    }

    #[tokio::test]
    async fn render_snapshot_builds_all_containers_only_when_used() {
        let snapshot = snapshot("nginx-seven.json");
        let template = load("#{{ containers|length }}/{{ all_containers|length }}")
            .await
            .expect("loads");
        assert_eq!(template.render_snapshot(&snapshot).expect("renders"), "7/8");
        let template = load("#{{ containers|length }}/{{ all_containers is defined }}")
            .await
            .expect("loads");
        assert_eq!(
            template.render_snapshot(&snapshot).expect("renders"),
            "7/True"
        );
        let template = load("#{{ containers|length }}").await.expect("loads");
        assert!(!template.uses_variable("all_containers"));
    }

    // --- URL templates, against a local server ---

    /// Answers one HTTP/1.1 request on `stream` from `routes` (path → status, body).
    fn answer(mut stream: impl Read + Write, routes: &[(&str, u16, &str)]) {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let request = String::from_utf8_lossy(&request);
        let path = request.split_whitespace().nth(1).unwrap_or("/");
        let (status, body) = routes
            .iter()
            .find(|(p, _, _)| *p == path)
            .map(|(_, s, b)| (*s, *b))
            .unwrap_or((404, "not found"));
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes());
        let _ = stream.flush();
    }

    const ROUTES: &[(&str, u16, &str)] = &[
        ("/hello.txt", 200, "Hello {{ name }}!\n"),
        ("/include.txt", 200, "{% include 'hello.txt' %}"),
        ("/error", 500, "boom"),
    ];

    /// An HTTP server on 127.0.0.1:0 serving [`ROUTES`].
    fn http_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local address");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || answer(stream, ROUTES));
            }
        });
        addr
    }

    /// An HTTPS server with the self-signed certificate of `tests/data/tls`.
    fn https_server() -> SocketAddr {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let cert = CertificateDer::from(include_bytes!("../../tests/data/tls/cert.der").to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            include_bytes!("../../tests/data/tls/key.der").to_vec(),
        ));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("the test certificate and key match");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local address");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    answer(&mut tls, ROUTES);
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn template_from_url() {
        let addr = http_server();
        let url = format!("http://localhost:{}/hello.txt", addr.port());
        let template = load(&url).await.expect("fetches");
        assert_eq!(template.source_description(), url);
        assert_eq!(
            jinja(&template)
                .render(context! { name => "world" })
                .expect("renders"),
            "Hello world!"
        );
        assert_eq!(
            jinja(&template)
                .render(context! { name => "Jinja2" })
                .expect("renders"),
            "Hello Jinja2!"
        );
    }

    #[tokio::test]
    async fn url_errors_name_the_url() {
        let addr = http_server();
        let url = format!("http://127.0.0.1:{}/error", addr.port());
        let err = load(&url).await.expect_err("status 500");
        assert_eq!(
            err.to_string(),
            format!("cannot fetch template {url}: HTTP status 500")
        );
        let url = format!("http://127.0.0.1:{}/missing", addr.port());
        assert!(matches!(
            load(&url).await,
            Err(Error::Status { status: 404, .. })
        ));

        let url = format!("http://127.0.0.1:{}/include.txt", addr.port());
        let template = load(&url).await.expect("fetches");
        let err = jinja(&template)
            .render(context! {})
            .expect_err("URL templates cannot include");
        assert!(
            err.to_string()
                .contains("only file templates can include other templates"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unreachable_url() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local address");
        drop(listener);
        let url = format!("http://127.0.0.1:{}/t", addr.port());
        let err = load(&url).await.expect_err("nothing listens");
        assert!(matches!(err, Error::Fetch { .. }));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot fetch template {url}: ")),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }

    #[tokio::test]
    async fn url_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local address");
        // Accept and never answer.
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        let url = format!("http://127.0.0.1:{}/slow", addr.port());
        let options = LoadOptions {
            no_ssl_check: false,
            timeout: Duration::from_millis(200),
        };
        let err = Template::load(&Source::Url(url.clone()), &options)
            .await
            .expect_err("times out");
        assert_eq!(
            err.to_string(),
            format!("cannot fetch template {url}: timed out after 200ms")
        );
    }

    #[tokio::test]
    async fn https_certificates_are_checked_unless_disabled() {
        let addr = https_server();
        let url = format!("https://localhost:{}/hello.txt", addr.port());
        let checked = LoadOptions::default();
        let err = Template::load(&Source::Url(url.clone()), &checked)
            .await
            .expect_err("self-signed");
        assert!(matches!(err, Error::Fetch { .. }), "{err}");
        assert!(
            err.to_string().to_lowercase().contains("certificate"),
            "{err}"
        );

        let unchecked = LoadOptions {
            no_ssl_check: true,
            ..LoadOptions::default()
        };
        let template = Template::load(&Source::Url(url), &unchecked)
            .await
            .expect("--no-ssl-check accepts it");
        assert_eq!(
            jinja(&template)
                .render(context! { name => "TLS" })
                .expect("renders"),
            "Hello TLS!"
        );
    }
}
