//! The reverse-proxy example (`examples/nginx-proxy/`) end to end on the real daemon: nginx in
//! front of a changing set of busybox web servers, configured by pygen from their
//! `virtual-host` labels and reloaded with `--signal <nginx> HUP`.
//!
//! pygen is the binary cargo built, running on the host and writing into a folder that is
//! bind-mounted into the nginx container (`pygen-test-nginx`, built by
//! `scripts/build-test-images.sh`). Every check is an HTTP request through nginx's published
//! port with the backend's host name in the `Host` header.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

/// The nginx image built by `scripts/build-test-images.sh`.
const NGINX_IMAGE: &str = "pygen-test-nginx";

/// How long a change may take to show through nginx: a render, the notification batching of
/// `--interval`, and nginx's reload. Far more than needed; the waits end as soon as it shows.
const SETTLE: Duration = Duration::from_secs(30);

/// The example's template.
fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx-proxy/nginx.tmpl")
}

/// An HTTP/1.1 `GET /` through 127.0.0.1:`port` with `Host: host`: the status code and body,
/// or `None` when the connection fails or the answer is not HTTP (nginx not ready yet).
fn get(port: u16, host: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// A busybox web server on `network` that answers every request with its own name, proxied
/// for `<name>.example.test`; `port` other than 80 is announced with the `virtual-port` label.
fn backend(network: &TestNetwork, port: u16) -> TestContainer {
    let name = unique_name("pygen-nginx-backend");
    let mut builder = TestContainer::builder()
        .name(&name)
        .network(network.name())
        .label("virtual-host", &format!("{name}.example.test"));
    if port != 80 {
        builder = builder.label("virtual-port", &port.to_string());
    }
    builder
        .shell(&format!(
            "trap 'exit 0' TERM; mkdir -p /www && echo {name} > /www/index.html; \
             httpd -f -p {port} -h /www & wait"
        ))
        .start()
}

/// nginx on `network`, published on 127.0.0.1:`port`, reading its `conf.d` from `conf`.
fn start_nginx(network: &TestNetwork, conf: &Path, port: u16) -> TestContainer {
    TestContainer::builder()
        .image(NGINX_IMAGE)
        .name(&unique_name("pygen-nginx"))
        .network(network.name())
        .publish(&format!("127.0.0.1:{port}:80"))
        .arg("--volume")
        .arg(&format!("{}:/etc/nginx/conf.d:ro", conf.display()))
        .command(["/usr/sbin/nginx", "-g", "daemon off;"])
        .start()
}

/// The host name a backend is proxied for.
fn host(backend: &TestContainer) -> String {
    format!("{}.example.test", backend.name())
}

/// What the test watches, for the messages of a failed wait.
struct Scene<'a> {
    /// pygen, for its log.
    pygen: &'a PygenProcess,
    /// nginx, for its log.
    nginx: &'a TestContainer,
    /// The folder pygen writes the configuration into.
    conf: &'a Path,
    /// nginx's port on 127.0.0.1.
    port: u16,
}

impl Scene<'_> {
    /// Waits until a request for `host` is answered with `status` and a body holding `body`;
    /// panics with the generated configuration and both logs otherwise.
    fn wait_for(&self, host: &str, status: u16, body: &str) {
        let mut last = None;
        let ok = wait_until(SETTLE, Duration::from_millis(100), || {
            last = get(self.port, host);
            last.as_ref()
                .is_some_and(|(code, text)| *code == status && text.contains(body))
        });
        if !ok {
            let nginx_log = docker(["logs", "--tail", "40", self.nginx.name()]);
            panic!(
                "{host}: expected {status} with {body:?} within {SETTLE:?}, last answer {last:?}\n\
                 --- default.conf\n{}\n--- pygen\n{}\n--- nginx\n{}{}",
                std::fs::read_to_string(self.conf.join("default.conf")).unwrap_or_default(),
                self.pygen.stderr(),
                String::from_utf8_lossy(&nginx_log.stdout),
                String::from_utf8_lossy(&nginx_log.stderr),
            );
        }
    }
}

#[test]
fn nginx_follows_the_backends_through_pygen() {
    require_docker();
    assert!(
        docker(["image", "inspect", NGINX_IMAGE]).status.success(),
        "the image {NGINX_IMAGE} is missing: run scripts/build-test-images.sh \
         (scripts/test.sh does it before cargo test)"
    );
    let network = TestNetwork::new();
    let conf = tempfile::tempdir().expect("temporary folder");
    let port = free_port();
    let nginx = start_nginx(&network, conf.path(), port);
    let backends = [
        backend(&network, 80),
        backend(&network, 80),
        backend(&network, 8080),
    ];
    // Labelled, but on a network nginx cannot reach: it must be left out.
    let outsider = TestContainer::builder()
        .label("virtual-host", "outsider.example.test")
        .start();

    // As the example's README runs it, with the proxy named by NGINX_PROXY instead of being
    // the Compose service `nginx`.
    let target = conf.path().join("default.conf");
    let mut args: Vec<std::ffi::OsString> = vec!["--template".into(), template().into()];
    args.extend(["--target".into(), target.clone().into()]);
    args.extend(["--signal", nginx.name(), "HUP"].map(Into::into));
    args.extend(["--interval", "0.5", "2", "--metrics", "0"].map(Into::into));
    let pygen = PygenProcess::spawn_with_env(args, &[("NGINX_PROXY", nginx.name())]);
    let scene = Scene {
        pygen: &pygen,
        nginx: &nginx,
        conf: conf.path(),
        port,
    };

    for backend in &backends {
        scene.wait_for(&host(backend), 200, backend.name());
    }
    // Unknown host names go to the default server.
    scene.wait_for("unknown.example.test", 503, "");

    // A fourth backend is proxied as soon as it runs.
    let fourth = backend(&network, 80);
    scene.wait_for(&host(&fourth), 200, fourth.name());

    // A stopped backend is no longer routed to; the others still are.
    let [first, stopped, third] = &backends;
    stopped.stop();
    scene.wait_for(&host(stopped), 503, "");
    for backend in [first, third, &fourth] {
        scene.wait_for(&host(backend), 200, backend.name());
    }

    let config = std::fs::read_to_string(&target).expect("pygen wrote the configuration");
    assert!(
        config.contains(&format!("server_name {};", host(first))),
        "{config}"
    );
    assert!(
        !config.contains("outsider.example.test"),
        "a container on a network nginx cannot reach was proxied:\n{config}"
    );
    drop(outsider);
}

/// The backends' commands in the example's Compose file (its `command: [...]` lines are JSON
/// arrays).
fn compose_backend_commands() -> Vec<Vec<String>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx-proxy/docker-compose.yml");
    let text = std::fs::read_to_string(&path).expect("read the Compose file");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("command: ["))
        .map(|rest| serde_json::from_str(&format!("[{rest}")).expect("a JSON array command"))
        .collect()
}

#[test]
fn the_example_backends_stop_on_sigterm() {
    require_docker();
    let commands = compose_backend_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    for command in commands {
        let backend = TestContainer::builder().command(&command).start();
        // Give the shell time to set up, then stop with a long grace: a backend that ignores
        // SIGTERM is killed after it (exit code 137); one that traps it exits 0.
        std::thread::sleep(Duration::from_millis(500));
        docker_ok(["stop", "-t", "20", backend.id()]);
        let code = &backend.inspect()["State"]["ExitCode"];
        assert_eq!(code, 0, "{command:?} exited with {code} on SIGTERM");
    }
}

/// The example's config file set-up (`pygen.toml`) with its `check`: a configuration nginx
/// would refuse (a host name with a brace) is refused by `nginx -t` before it replaces the
/// file, so nginx never sees it and keeps serving; the next good configuration goes through.
#[test]
fn a_configuration_nginx_refuses_never_reaches_nginx() {
    require_docker();
    let network = TestNetwork::new();
    let conf = tempfile::tempdir().expect("temporary folder");
    let work = tempfile::tempdir().expect("temporary folder");
    let port = free_port();
    let nginx = start_nginx(&network, conf.path(), port);
    let good = backend(&network, 80);

    // The example's pygen.toml, with this test's paths and the check's scratch file in its
    // own folder.
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx-proxy/pygen.toml"),
    )
    .expect("the example's pygen.toml");
    let target = conf.path().join("default.conf");
    let config = example
        .replace("/templates/nginx.tmpl", &template().to_string_lossy())
        .replace("/etc/nginx/conf.d/default.conf", &target.to_string_lossy())
        .replace(
            "/tmp/pygen-nginx-check.conf",
            &work.path().join("check.conf").to_string_lossy(),
        )
        .replace(
            "[\"nginx\", \"HUP\"]",
            &format!("[\"{}\", \"HUP\"]", nginx.name()),
        );
    let config_path = work.path().join("pygen.toml");
    std::fs::write(&config_path, config).expect("write the config");
    let pygen = PygenProcess::spawn_with_env(
        ["--config", config_path.to_str().unwrap_or_default()],
        &[("NGINX_PROXY", nginx.name())],
    );
    let scene = Scene {
        pygen: &pygen,
        nginx: &nginx,
        conf: conf.path(),
        port,
    };
    scene.wait_for(&host(&good), 200, good.name());

    let bad_name = unique_name("pygen-nginx-bad");
    let bad = TestContainer::builder()
        .name(&bad_name)
        .network(network.name())
        .label("virtual-host", "bad{host")
        .shell("sleep 100000")
        .start();
    let refused = wait_until(SETTLE, Duration::from_millis(100), || {
        pygen.stderr().contains("refused the new content")
    });
    assert!(refused, "no check refusal logged:\n{}", pygen.stderr());
    let written = std::fs::read_to_string(&target).expect("the configuration");
    assert!(
        !written.contains("bad{host"),
        "a configuration nginx -t refused reached nginx:\n{written}"
    );
    assert!(
        pygen.stderr().contains("[emerg]"),
        "nginx -t's own message is logged:\n{}",
        pygen.stderr()
    );
    scene.wait_for(&host(&good), 200, good.name());

    drop(bad);
    let next = backend(&network, 80);
    scene.wait_for(&host(&next), 200, next.name());
}
