//! Tests of the integration-test harness itself (`tests/common`) and of the Docker connection,
//! against the real daemon: if these fail, every other integration test is suspect.

mod common;

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::*;
use pygen::docker::connect::{Env, Transport, build, connect, connect_negotiated, plan};
use pygen::docker::raw::ApiVersion;

const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

#[tokio::test]
async fn connects_to_the_daemon_by_default_and_by_unix_address() {
    require_docker();
    let default_socket = format!("unix://{}", docker_socket_path().display());
    for address in [None, Some(default_socket.as_str())] {
        let docker = connect_negotiated(address)
            .await
            .unwrap_or_else(|e| panic!("connect({address:?}): {e:#?}"));
        docker
            .get("/_ping")
            .await
            .unwrap_or_else(|e| panic!("ping through {address:?}: {e}"));
        let version = docker
            .get("/version")
            .await
            .unwrap_or_else(|e| panic!("version through {address:?}: {e}"));
        let version: serde_json::Value =
            serde_json::from_slice(&version).expect("the daemon answers JSON");
        assert!(
            version["ApiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("1.")),
            "{version:?}"
        );
        assert!(docker.version() <= ApiVersion::NEWEST);
    }
}

#[tokio::test]
async fn connect_then_negotiate_gives_a_working_client() {
    require_docker();
    let docker = connect(None)
        .expect("the default socket exists")
        .negotiate()
        .await
        .expect("the daemon answers /version");
    let info = docker.get("/info").await.expect("the daemon answers /info");
    let info: serde_json::Value = serde_json::from_slice(&info).expect("the daemon answers JSON");
    assert!(info["ID"].as_str().is_some_and(|id| !id.is_empty()));
}

#[test]
fn a_missing_socket_is_reported_with_its_address() {
    let err = connect(Some("unix:///nonexistent/pygen-test.sock")).expect_err("no socket there");
    assert!(
        err.to_string().contains("/nonexistent/pygen-test.sock"),
        "{err}"
    );
}

#[tokio::test]
async fn tls_with_client_certificates_from_the_cert_path() {
    // The server side is `openssl s_server`, which demands a client certificate signed by the
    // CA and answers any request with a status page: enough to prove the handshake.
    let server_dir = common::tls::certificates();
    // The client's folder, laid out like ~/.docker.
    let cert_path = tempfile::tempdir().expect("temporary folder");
    for (from, to) in [
        ("ca.pem", "ca.pem"),
        ("client.pem", "cert.pem"),
        ("client-key.pem", "key.pem"),
    ] {
        std::fs::copy(server_dir.path().join(from), cert_path.path().join(to))
            .expect("copy a certificate file");
    }
    let port = free_port();
    let dir = server_dir.path().display();
    let server = PygenProcess::spawn_program(
        "openssl",
        format!(
            "s_server -accept 127.0.0.1:{port} -cert {dir}/server.pem -key {dir}/server-key.pem \
             -CAfile {dir}/ca.pem -Verify 1 -www"
        )
        .split_whitespace(),
        &[],
    );
    wait_for_file_containing(server.stdout_path(), "ACCEPT", WAIT);

    let env = Env {
        tls_verify: Some("1".into()),
        cert_path: Some(cert_path.path().to_string_lossy().into_owned()),
        ..Env::default()
    };
    let address = format!("tcp://127.0.0.1:{port}");
    let endpoint = plan(Some(&address), &env).expect("a TLS plan");
    assert!(
        matches!(endpoint.transport, Transport::Tls { .. }),
        "{endpoint:?}"
    );
    let docker = build(&endpoint).expect("a TLS client");
    docker
        .get("/_ping")
        .await
        .expect("TLS handshake with a client certificate");

    // A client that trusts another CA refuses the server.
    let other_ca = tempfile::tempdir().expect("temporary folder");
    common::tls::make_ca(other_ca.path(), "ca");
    std::fs::copy(
        other_ca.path().join("ca.pem"),
        cert_path.path().join("ca.pem"),
    )
    .expect("replace the CA");
    let docker = build(&endpoint).expect("a TLS client");
    assert!(
        docker.get("/_ping").await.is_err(),
        "an untrusted server is refused"
    );
}

#[test]
fn container_builder_options_show_in_inspect() {
    require_docker();
    let first = TestNetwork::new();
    let second = TestNetwork::new();
    let host_port = free_port();
    let container = TestContainer::builder()
        .label("virtual-host", "smoke.example")
        .label("empty", "")
        .env("PYGEN_TARGET", "smoke")
        .expose("8080")
        .publish(&format!("127.0.0.1:{host_port}:80"))
        .network(first.name())
        .network(second.name())
        .health_check("test -d /tmp", Duration::from_millis(500))
        .start();

    let inspect = container.inspect();
    let labels = &inspect["Config"]["Labels"];
    assert_eq!(labels["virtual-host"], "smoke.example");
    assert_eq!(labels["empty"], "");
    assert_eq!(labels["pygen.test"], "1");
    assert_eq!(labels["pygen.test.pid"], std::process::id().to_string());
    let env = inspect["Config"]["Env"].as_array().expect("Env is a list");
    assert!(env.iter().any(|e| e == "PYGEN_TARGET=smoke"), "{env:?}");
    let exposed = &inspect["Config"]["ExposedPorts"];
    assert!(exposed.get("8080/tcp").is_some(), "{exposed}");
    assert!(exposed.get("80/tcp").is_some(), "{exposed}");
    assert_eq!(
        inspect["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
        host_port.to_string()
    );
    assert_eq!(
        inspect["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test -d /tmp"])
    );
    assert_eq!(inspect["Name"], format!("/{}", container.name()));
    assert!(container.ip_address(first.name()).is_some());
    assert!(container.ip_address(second.name()).is_some());
    assert!(container.ip_address("bridge").is_none());
    assert!(
        wait_until(WAIT, POLL, || container.health_status().as_deref()
            == Some("healthy")),
        "health: {:?}",
        container.health_status()
    );

    // The default command writes where a scratch image has no folder of its own.
    let out = container.exec(["sh", "-c", "echo ok > /tmp/f && cat /tmp/f"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");

    container.stop();
    assert!(!container.is_running());
    assert_eq!(container.inspect()["State"]["ExitCode"], 0);
    container.start_again();
    assert!(container.is_running());

    let id = container.id().to_owned();
    drop(container);
    assert!(
        try_inspect(&id).is_none(),
        "dropping the guard removes the container"
    );
}

#[test]
fn dropping_a_network_disconnects_its_containers() {
    require_docker();
    let network = TestNetwork::new();
    let container = TestContainer::builder().network(network.name()).start();
    let network_id = network.id().to_owned();
    drop(network);
    assert!(try_inspect(&network_id).is_none(), "network removed");
    assert!(container.is_running());
}

#[test]
fn cleanup_all_removes_leftovers_of_dead_test_processes_only() {
    require_docker();
    // A pid that is gone: a child that has exited and been reaped.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("run true");
    let dead_pid = child.id();
    child.wait().expect("reap true");

    let leftover_name = unique_name("pygen-leftover");
    docker_ok([
        "create",
        "--name",
        leftover_name.as_str(),
        "--label",
        "pygen.test=1",
        "--label",
        &format!("pygen.test.pid={dead_pid}"),
        TEST_IMAGE,
        "true",
    ]);
    let live = TestContainer::start_default();

    cleanup_all();

    let gone = try_inspect(&leftover_name).is_none();
    if !gone {
        docker(["rm", "-f", leftover_name.as_str()]);
    }
    assert!(gone, "the dead process's container was removed");
    assert!(live.is_running(), "a live test's container is kept");
}

#[test]
fn unique_names_differ() {
    let names: std::collections::HashSet<String> = (0..100).map(|_| unique_name("x")).collect();
    assert_eq!(names.len(), 100);
    let name = unique_name("pygen");
    assert!(
        name.starts_with(&format!("pygen-{}-", std::process::id())),
        "{name}"
    );
}

#[test]
fn wait_until_reports_timeouts_and_success() {
    assert!(!wait_until(
        Duration::from_millis(50),
        Duration::from_millis(10),
        || false
    ));
    let mut calls = 0;
    assert!(wait_until(WAIT, Duration::from_millis(1), || {
        calls += 1;
        calls == 3
    }));
    assert_eq!(calls, 3);
}

#[test]
fn free_port_can_be_bound() {
    let port = free_port();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
}

#[test]
fn unix_proxy_forwards_then_cuts_then_restores() {
    require_docker();
    let mut proxy = UnixProxy::start();
    assert!(proxy.address().starts_with("unix:///"));
    assert_eq!(
        unix_http_get(proxy.path(), "/_ping").expect("ping through the proxy"),
        (200, "OK".to_owned())
    );

    // A long-lived connection, like pygen's event stream.
    let mut events = UnixStream::connect(proxy.path()).expect("connect for events");
    std::io::Write::write_all(&mut events, b"GET /events HTTP/1.1\r\nHost: docker\r\n\r\n")
        .expect("send the events request");
    events
        .set_read_timeout(Some(WAIT))
        .expect("set a read timeout");
    let mut head = [0u8; 12];
    events.read_exact(&mut head).expect("events headers");
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(proxy.open_connections() >= 1);

    proxy.cut();
    assert!(!proxy.path().exists(), "the socket file is gone");
    assert!(unix_http_get(proxy.path(), "/_ping").is_err());
    // The open stream ends: a read returns end-of-file (or an error), not a timeout.
    let mut rest = Vec::new();
    match events.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the cut connection stayed open: {e}"
        ),
    }
    assert_eq!(proxy.open_connections(), 0);

    proxy.restore();
    assert_eq!(
        unix_http_get(proxy.path(), "/_ping").expect("ping after restore"),
        (200, "OK".to_owned())
    );
    assert!(proxy.accepted() >= 3);
}

#[tokio::test]
async fn the_client_works_through_the_proxy() {
    require_docker();
    let mut proxy = UnixProxy::start();
    let docker = connect_negotiated(Some(&proxy.address()))
        .await
        .expect("connect through the proxy");
    docker.get("/_ping").await.expect("ping through the proxy");
    proxy.cut();
    assert!(docker.get("/_ping").await.is_err(), "ping fails once cut");
    proxy.restore();
    docker.get("/_ping").await.expect("ping after restore");
}

#[test]
fn background_process_output_and_signals() {
    let mut process = PygenProcess::spawn_program(
        "sh",
        [
            "-c",
            "trap 'echo got-hup; exit 3' HUP; echo started; echo to-stderr >&2; \
             while :; do sleep 0.05; done",
        ],
        &[("PYGEN_SMOKE", "1")],
    );
    wait_for_file_containing(process.stdout_path(), "started", WAIT);
    wait_for_file_containing(process.stderr_path(), "to-stderr", WAIT);
    assert!(process.is_running());
    process.signal("HUP");
    let status = process.wait_exit(WAIT).expect("the shell exits on HUP");
    assert_eq!(status.code(), Some(3));
    assert!(process.stdout().contains("got-hup"));

    let mut sleeper = PygenProcess::spawn_program("sleep", ["1000"], &[]);
    let pid = sleeper.pid();
    sleeper.kill();
    assert!(!sleeper.is_running());
    drop(sleeper);
    assert!(!std::path::Path::new(&format!("/proc/{pid}/status")).exists());
}

#[test]
fn run_pygen_runs_the_built_binary() {
    assert!(pygen_bin().is_file(), "{}", pygen_bin().display());
    let output = run_pygen(["--help"]);
    assert!(
        output.status.success(),
        "pygen --help: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
