//! nginx-proxy's "separate containers" set-up end to end, with pygen in docker-gen mode and
//! nginx-proxy's unmodified `nginx.tmpl` (`tests/data/docker-gen/nginx.tmpl`): nginx (the local
//! `pygen-test-nginx` image) reads the conf.d folder pygen writes, pygen runs
//! `-watch -notify-sighup <nginx>`, busybox httpd backends carry `VIRTUAL_HOST` (one with
//! `VIRTUAL_PORT`, one with `VIRTUAL_PATH`). Every check is an HTTP request through nginx's
//! published port with the backend's host name in the `Host` header: each reaches its backend,
//! a new backend is routed, a stopped one is gone.
//!
//! Three runs: the debug binary as `pygen docker-gen`, the same binary under the name
//! `docker-gen`, and pygen's image (`pygen:latest`, built by `scripts/build-image.sh`, which
//! `scripts/test.sh` runs first) as a container beside nginx, started by its `docker-gen` name
//! (`--entrypoint docker-gen`).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

/// The nginx image built by `scripts/build-test-images.sh`.
const NGINX_IMAGE: &str = "pygen-test-nginx";
/// pygen's image, built by `scripts/build-image.sh`.
const PYGEN_IMAGE: &str = "pygen:latest";
/// How long a change may take to show through nginx; the waits end as soon as it shows.
const SETTLE: Duration = Duration::from_secs(30);

/// nginx-proxy's template, as recorded with the fixtures.
fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/docker-gen/nginx.tmpl")
}

/// A second template file of the set (docker-gen's `a.tmpl;b.tmpl`) that redefines the
/// template's `fallback_server` block: nginx-proxy's fallback server always says `http2 on;`,
/// which the test image's nginx (Debian's 1.22) predates. The template itself is unmodified.
fn fallback_override() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/docker-gen/fallback-nginx-1.22.tmpl")
}

/// The template argument: the template and the override, docker-gen's `;` list.
fn template_arg(template: &Path, fallback: &Path) -> String {
    format!("{};{}", template.display(), fallback.display())
}

/// `GET path` through 127.0.0.1:`port` with `Host: host`: status and body, or `None` when
/// nginx does not answer (yet).
fn get(port: u16, host: &str, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// A busybox web server on `network` answering with its own name (also under `/api/`), proxied
/// for `<name>.example.test` through `VIRTUAL_HOST`, with `extra` environment variables.
fn backend(network: &TestNetwork, port: u16, extra: &[(&str, &str)]) -> TestContainer {
    let name = unique_name("dg-backend");
    let mut builder = TestContainer::builder()
        .name(&name)
        .network(network.name())
        .env("VIRTUAL_HOST", &format!("{name}.example.test"))
        .expose(&port.to_string());
    for (k, v) in extra {
        builder = builder.env(k, v);
    }
    builder
        .shell(&format!(
            "trap 'exit 0' TERM; mkdir -p /www/api && echo {name} > /www/index.html; \
             echo api-{name} > /www/api/index.html; httpd -f -p {port} -h /www & wait"
        ))
        .start()
}

fn host(backend: &TestContainer) -> String {
    format!("{}.example.test", backend.name())
}

/// The nginx side, and what the messages of a failed wait show.
struct Scene {
    nginx: TestContainer,
    conf: tempfile::TempDir,
    port: u16,
    label: String,
}

impl Scene {
    /// nginx on `network`, labelled so the template finds it (`NGINX_CONTAINER_LABEL`), reading
    /// the conf.d folder pygen writes.
    fn start(network: &TestNetwork) -> Scene {
        require_docker();
        assert!(
            docker(["image", "inspect", NGINX_IMAGE]).status.success(),
            "the image {NGINX_IMAGE} is missing: run scripts/build-test-images.sh"
        );
        let conf = tempfile::tempdir().expect("temporary folder");
        let port = free_port();
        let label = unique_name("dg-nginx-label");
        let nginx = TestContainer::builder()
            .image(NGINX_IMAGE)
            .name(&unique_name("dg-nginx"))
            .label(&label, "")
            .network(network.name())
            .publish(&format!("127.0.0.1:{port}:80"))
            .arg("--volume")
            .arg(&format!("{}:/etc/nginx/conf.d:ro", conf.path().display()))
            .command(["/usr/sbin/nginx", "-g", "daemon off;"])
            .start();
        Scene {
            nginx,
            conf,
            port,
            label,
        }
    }

    /// The environment the template reads: our nginx's label, no HTTP/2 (the test image's
    /// nginx predates `http2 on;`).
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NGINX_CONTAINER_LABEL", self.label.clone()),
            ("ENABLE_HTTP2", "false".to_owned()),
        ]
    }

    /// Waits until `GET path` for `host` answers `status` with a body holding `body`.
    fn wait_for(&self, host: &str, path: &str, status: u16, body: &str, log: &dyn Fn() -> String) {
        let mut last = None;
        let ok = wait_until(SETTLE, Duration::from_millis(100), || {
            last = get(self.port, host, path);
            last.as_ref()
                .is_some_and(|(code, text)| *code == status && text.contains(body))
        });
        if !ok {
            let nginx_log = docker(["logs", "--tail", "40", self.nginx.name()]);
            panic!(
                "{host}{path}: expected {status} with {body:?} within {SETTLE:?}, last answer \
                 {last:?}\n--- default.conf\n{}\n--- pygen\n{}\n--- nginx\n{}{}",
                std::fs::read_to_string(self.conf.path().join("default.conf")).unwrap_or_default(),
                log(),
                String::from_utf8_lossy(&nginx_log.stdout),
                String::from_utf8_lossy(&nginx_log.stderr),
            );
        }
    }

    /// The checks, with pygen running and `log` giving its output.
    fn exercise(&self, network: &TestNetwork, log: &dyn Fn() -> String) {
        let plain = backend(network, 80, &[]);
        let ported = backend(network, 8080, &[("VIRTUAL_PORT", "8080")]);
        let pathed = backend(network, 80, &[("VIRTUAL_PATH", "/api/")]);
        self.wait_for(&host(&plain), "/", 200, plain.name(), log);
        self.wait_for(&host(&ported), "/", 200, ported.name(), log);
        self.wait_for(
            &host(&pathed),
            "/api/",
            200,
            &format!("api-{}", pathed.name()),
            log,
        );

        let newcomer = backend(network, 80, &[]);
        self.wait_for(&host(&newcomer), "/", 200, newcomer.name(), log);

        plain.stop();
        self.wait_for(&host(&plain), "/", 503, "", log);
        self.wait_for(&host(&newcomer), "/", 200, newcomer.name(), log);
    }
}

/// pygen on the host, started as `program` (`pygen` with `docker-gen` first, or `docker-gen`).
fn run_on_host(program: &Path, first: Option<&str>) {
    let network = TestNetwork::new();
    let scene = Scene::start(&network);
    let dest = scene.conf.path().join("default.conf");
    let mut args: Vec<String> = first.map(str::to_owned).into_iter().collect();
    args.extend(
        [
            "-watch",
            "-notify-sighup",
            scene.nginx.name(),
            &template_arg(&template(), &fallback_override()),
            dest.to_str().expect("utf-8 path"),
        ]
        .map(str::to_owned),
    );
    let env = scene.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let process = PygenProcess::spawn_program(program, args, &env);
    assert!(
        wait_until(SETTLE, Duration::from_millis(50), || process
            .stderr()
            .contains("Watching docker events")),
        "{}",
        process.stderr()
    );
    scene.exercise(&network, &|| process.stderr());
}

#[test]
fn nginx_proxy_separate_containers_with_pygen_docker_gen() {
    run_on_host(&pygen_bin(), Some("docker-gen"));
}

#[test]
fn nginx_proxy_separate_containers_with_the_binary_named_docker_gen() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let link = dir.path().join("docker-gen");
    std::os::unix::fs::symlink(pygen_bin(), &link).expect("symlink");
    run_on_host(&link, None);
}

#[test]
fn nginx_proxy_separate_containers_with_the_image() {
    require_docker();
    assert!(
        docker(["image", "inspect", PYGEN_IMAGE]).status.success(),
        "the image {PYGEN_IMAGE} is missing: run scripts/build-image.sh (scripts/test.sh does \
         it before cargo test)"
    );
    let network = TestNetwork::new();
    let scene = Scene::start(&network);
    let socket = docker_socket_path();
    let mut builder = TestContainer::builder()
        .image(PYGEN_IMAGE)
        .name(&unique_name("dg-pygen"))
        .network(network.name())
        .arg("--volume")
        .arg(&format!("{}:/var/run/docker.sock", socket.display()))
        .arg("--volume")
        .arg(&format!(
            "{}:/etc/nginx/conf.d",
            scene.conf.path().display()
        ))
        .arg("--volume")
        .arg(&format!("{}:/app/nginx.tmpl:ro", template().display()))
        .arg("--volume")
        .arg(&format!(
            "{}:/app/fallback.tmpl:ro",
            fallback_override().display()
        ))
        // The image's `docker-gen` name (a link to /pygen, found on the default PATH), as an
        // image or script that runs docker-gen would start it.
        .arg("--entrypoint")
        .arg("docker-gen");
    for (k, v) in scene.env() {
        builder = builder.env(k, &v);
    }
    let pygen = builder
        .command([
            "-watch",
            "-notify-sighup",
            scene.nginx.name(),
            "/app/nginx.tmpl;/app/fallback.tmpl",
            "/etc/nginx/conf.d/default.conf",
        ])
        .start();
    let log = || {
        let out = docker(["logs", pygen.name()]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert!(
        wait_until(SETTLE, Duration::from_millis(100), || log()
            .contains("Watching docker events")),
        "{}",
        log()
    );
    scene.exercise(&network, &log);
}
