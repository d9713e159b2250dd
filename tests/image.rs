//! The `pygen:latest` image (`Dockerfile`, built by `scripts/build-image.sh`): small, FROM
//! scratch with a static binary, a health check through `pygen healthcheck`, docker-pygen's
//! `docker run` example working with it, and HTTPS templates checked against its CA bundle.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// The image under test.
const IMAGE: &str = "pygen:latest";

/// The size budget of the image.
const MAX_BYTES: u64 = 15_000_000;

/// Checks that the daemon answers and the image exists; panics with what to do otherwise.
fn require_image() {
    require_docker();
    assert!(
        docker(["image", "inspect", IMAGE]).status.success(),
        "the image {IMAGE} is missing: run scripts/build-image.sh (scripts/test.sh does it \
         before cargo test)"
    );
}

/// Runs `docker run --rm ARGS` and returns its output.
fn docker_run(args: &[&str]) -> std::process::Output {
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(args);
    docker(all)
}

#[test]
fn the_image_is_small_static_and_has_no_shell() {
    require_image();
    let image = inspect(IMAGE);
    let size = image["Size"].as_u64().expect("image size");
    assert!(size < MAX_BYTES, "{IMAGE} is {size} bytes");
    let config = &image["Config"];
    assert_eq!(config["Entrypoint"], serde_json::json!(["/pygen"]));
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "/pygen", "healthcheck"])
    );
    assert!(
        config["Env"].as_array().is_some_and(|env| env
            .iter()
            .any(|e| e == "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")),
        "{config}"
    );
    // One layer per COPY: the CA bundle, the binary and its `docker-gen` link, nothing else.
    assert_eq!(image["RootFS"]["Layers"].as_array().map(Vec::len), Some(3));
    // Tagged with the version too.
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        docker(["image", "inspect", &format!("pygen:{version}")])
            .status
            .success(),
        "pygen:{version} is missing"
    );

    let output = docker_run(&[IMAGE, "--version"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("pygen {version}"),
        "the image holds another version than this source: rebuild it with scripts/build-image.sh"
    );
    // The same image runs the worker's command line.
    let output = docker_run(&[IMAGE, "worker", "--help"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("--manager"));
    // No shell: the binary is all there is.
    let output = docker_run(&["--entrypoint", "/bin/sh", IMAGE, "-c", "true"]);
    assert!(!output.status.success(), "the image has a shell");
}

/// A named volume removed (with whatever it holds) when dropped.
struct Volume(String);

impl Volume {
    fn new() -> Volume {
        let name = unique_name("pygen-volume");
        docker_ok([
            "volume",
            "create",
            "--label",
            &format!("{TEST_LABEL}=1"),
            &name,
        ]);
        Volume(name)
    }

    /// The content of `file` in the volume, read through a busybox container.
    fn read(&self, file: &str) -> Option<String> {
        let output = docker_run(&[
            "-v",
            &format!("{}:/volume:ro", self.0),
            TEST_IMAGE,
            "cat",
            &format!("/volume/{file}"),
        ]);
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        docker(["volume", "rm", "-f", &self.0]);
    }
}

#[test]
fn docker_pygens_docker_run_example_works_with_the_image() {
    require_image();
    // docker-pygen's README example, with this image and unique names for what it acts on.
    let marker = unique_name("seed");
    let loader = TestContainer::start_default();
    let web_server = TestContainer::builder()
        .label("seed.marker", &marker)
        .shell("trap 'echo hup >> /tmp/got' HUP; trap 'exit 0' TERM; while true; do sleep 1 & wait; done")
        .start();
    let loader_started = loader.inspect()["State"]["StartedAt"].clone();
    let shared = Volume::new();
    let folder = tempfile::tempdir().expect("temporary folder");
    let template = folder.path().join("template.conf");
    // The output depends only on the signalled container, so restarting the loader does not
    // change it again.
    std::fs::write(
        &template,
        "{% for c in containers if c.labels['seed.marker'] %}\nserver {{ c.name }} {{ c.networks.first_value.ip_address }};\n{% endfor %}\n",
    )
    .expect("template written");
    let generator = TestContainer::builder()
        .image(IMAGE)
        .arg("-v")
        .arg(&format!(
            "{}:/var/run/docker.sock:ro",
            docker_socket_path().display()
        ))
        .arg("-v")
        .arg(&format!("{}:/etc/share/config", shared.0))
        .arg("-v")
        .arg(&format!("{}:/etc/share/template.conf", template.display()))
        .command([
            "--template",
            "/etc/share/template.conf",
            "--target",
            "/etc/share/config/auto.conf",
            "--restart",
            loader.name(),
            "--signal",
            web_server.name(),
            "HUP",
        ])
        .start();
    let logs = || {
        let output = docker(["logs", generator.name()]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };

    let expected = format!(
        "server {} {};",
        web_server.name(),
        web_server.ip_address("bridge").unwrap_or_default()
    );
    let mut content = None;
    let written = wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        content = shared.read("auto.conf");
        content.as_deref().is_some_and(|c| c.contains(&expected))
    });
    assert!(written, "auto.conf: {content:?}\n{}", logs());
    let signalled = wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        web_server.exec(["cat", "/tmp/got"]).status.success()
    });
    assert!(signalled, "web-server got no SIGHUP\n{}", logs());
    let restarted = wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        loader.inspect()["State"]["StartedAt"] != loader_started
    });
    assert!(restarted, "config-loader was not restarted\n{}", logs());
    // What the image's HEALTHCHECK runs, inside the running container.
    let health = docker(["exec", generator.name(), "/pygen", "healthcheck"]);
    assert!(health.status.success(), "{health:?}\n{}", logs());
}

/// An `openssl s_server -WWW` serving the files of a folder over HTTPS; killed when dropped.
struct HttpsServer {
    /// The server process.
    child: Child,
    /// Its port on 127.0.0.1.
    port: u16,
}

impl HttpsServer {
    fn start(folder: &Path, cert: &Path, key: &Path) -> HttpsServer {
        let port = free_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-WWW", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .current_dir(folder)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run openssl (apt-get install openssl): {e}"));
        let server = HttpsServer { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(
            wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
                TcpStream::connect(addr).is_ok()
            }),
            "openssl s_server did not listen on {addr}"
        );
        server
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl ARGS` in `folder`; panics when it fails.
fn openssl(folder: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(folder)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (apt-get install openssl): {e}"));
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn https_templates_are_checked_against_the_images_ca_bundle() {
    require_image();
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    // A private CA and a server certificate for 127.0.0.1 signed by it.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=pygen test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions written");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
    let www = d.join("www");
    std::fs::create_dir(&www).expect("folder created");
    std::fs::write(
        www.join("t.j2"),
        "served over https: {{ containers|length }}\n",
    )
    .expect("template written");
    std::fs::write(
        d.join("state.json"),
        r#"{"version": 1, "own_container_id": null, "containers": []}"#,
    )
    .expect("state written");
    let server = HttpsServer::start(&www, &d.join("server.pem"), &d.join("server.key"));
    let url = format!("https://127.0.0.1:{}/t.j2", server.port);
    let state_mount = format!("{}:/state.json:ro", d.join("state.json").display());
    let render = |extra_docker: &[&str], extra_pygen: &[&str]| {
        let mut args = vec!["--network", "host", "-v", state_mount.as_str()];
        args.extend_from_slice(extra_docker);
        args.extend([
            IMAGE,
            "render",
            "--state",
            "/state.json",
            "--template",
            url.as_str(),
        ]);
        args.extend_from_slice(extra_pygen);
        docker_run(&args)
    };
    let ca_mount = format!("{}:/private-ca.pem:ro", d.join("ca.pem").display());

    // The image's bundle does not hold the private CA: refused.
    let refused = render(&[], &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{refused:?}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");

    // Trusted through SSL_CERT_FILE.
    let trusted = render(
        &["-v", &ca_mount, "-e", "SSL_CERT_FILE=/private-ca.pem"],
        &[],
    );
    assert!(trusted.status.success(), "{trusted:?}");
    assert_eq!(
        String::from_utf8_lossy(&trusted.stdout),
        "served over https: 0\n"
    );

    // Trusted through a bundle mounted over the image's own.
    let bundle_mount = format!(
        "{}:/etc/ssl/certs/ca-certificates.crt:ro",
        d.join("ca.pem").display()
    );
    let default_path = render(&["-v", &bundle_mount], &[]);
    assert!(default_path.status.success(), "{default_path:?}");

    // --no-ssl-check really skips verification.
    let unchecked = render(&[], &["--no-ssl-check"]);
    assert!(unchecked.status.success(), "{unchecked:?}");
}
