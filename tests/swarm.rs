//! The Swarm half against a real daemon: services, tasks and nodes render as `docker service
//! inspect`/`docker service ps` report them, a restart through pygen force-updates a service
//! and keeps its settings, a manager and a worker process signal containers through the
//! authenticated protocol (and refuse forged, unsigned, replayed, stale and oversized
//! requests), the manager retries an absent worker, a render costs one `/tasks` call, the poll
//! sees task state changes no event reports, and the seed README's stack (pygen's own image as
//! manager service plus a global worker service, the secret as a Docker secret) signals a
//! service's task on change. The raw client those listings go through reaches a daemon over
//! TLS with the docker CLI's certificate files (the event stream too) and names a file it
//! cannot use.
//!
//! Tests that need Swarm mode make the daemon a single-node Swarm if it is not one, and the
//! test process leaves it again at exit (see `common::swarm`).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::swarm::{TestService, TestStack, ownership_labels, pygen_image, require_swarm};
use common::*;

/// How long a test waits for pygen (or Swarm) to react.
const REACT: Duration = Duration::from_secs(30);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(100);
/// The secret the tests share between managers and workers.
const SECRET: &str = "test-secret-4f1c";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Service events of one test make every pygen of the others list the Swarm again. The poll
/// test checks that nothing but its poll told pygen about a task, so it runs alone among the
/// tests that create services; those run in parallel with each other.
static SERVICES: RwLock<()> = RwLock::new(());

/// Shared access for a test that creates services.
fn services_shared() -> RwLockReadGuard<'static, ()> {
    SERVICES.read().unwrap_or_else(PoisonError::into_inner)
}

/// Exclusive access for the poll test.
fn services_alone() -> RwLockWriteGuard<'static, ()> {
    SERVICES.write().unwrap_or_else(PoisonError::into_inner)
}

/// Sends a raw HTTP/1.1 request; returns the status and body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    // A server may answer (413) and close before the whole body is written.
    let _ = stream.write_all(request.as_bytes());
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer from {addr}: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The authentication headers of the README's wire format for a request to the `role`
/// endpoint at `to`, computed here independently of pygen's code:
/// hex(HMAC-SHA256(secret, "pygen-swarm-v2\n<role>\n<to>\nPOST\n/\n<ts>\n<nonce>\n<body>")).
fn signed_headers(
    secret: &str,
    role: &str,
    to: SocketAddr,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut message =
        format!("pygen-swarm-v2\n{role}\n{to}\nPOST\n/\n{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    let tag = ring::hmac::sign(&key, &message);
    let signature: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("X-Pygen-Timestamp", timestamp.to_string()),
        ("X-Pygen-Nonce", nonce.to_owned()),
        ("X-Pygen-Signature", signature),
    ]
}

/// Request headers as name/value pairs.
type Headers = Vec<(&'static str, String)>;

/// Seconds since the epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A fresh nonce (32 hex digits).
fn nonce() -> String {
    let name = unique_name("n");
    let mut out: String = name.bytes().map(|b| format!("{:x}", b % 16)).collect();
    out.extend(std::iter::repeat_n('0', 32));
    let mut n: String = out.chars().take(32).collect();
    // Unique per call even when two names share their hex digits.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    n.replace_range(16..32, &format!("{c:016x}"));
    n
}

/// `GET /metrics` of a pygen on 127.0.0.1:`port`.
fn metrics(port: u16) -> String {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    match TcpStream::connect(addr) {
        Ok(_) => http(addr, "GET", "/metrics", &[], b"").1,
        Err(_) => String::new(),
    }
}

/// The value of the sample `series` (name with labels, exactly as exposed), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    common::watcher::metric_value(text, series)
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
fn wait_for_port(port: u16, process: &PygenProcess) {
    let ok = wait_until(REACT, Duration::from_millis(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(
        ok,
        "nothing listens on {port}; stderr:\n{}",
        process.stderr()
    );
}

/// A container that appends a line to `/tmp/got` on every SIGHUP.
fn hup_target(label: (&str, &str)) -> TestContainer {
    TestContainer::builder()
        .label(label.0, label.1)
        .shell("trap 'echo got >> /tmp/got' HUP; trap 'exit 0' TERM; while true; do sleep 1 & wait; done")
        .start()
}

/// How many lines `/tmp/got` of container `id` has.
fn got_lines(id: &str) -> usize {
    let out = docker(["exec", id, "cat", "/tmp/got"]);
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Waits until `/tmp/got` of `id` has at least `n` lines; panics with `context` otherwise.
fn wait_got(id: &str, n: usize, context: &dyn Fn() -> String) {
    let ok = wait_until(REACT, POLL, || got_lines(id) >= n);
    assert!(
        ok,
        "container {id} got {} signal(s), expected {n}\n{}",
        got_lines(id),
        context()
    );
}

/// A temporary file holding the shared secret (with the newline `echo` adds).
fn secret_file(dir: &Path) -> PathBuf {
    let path = dir.join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).expect("write the secret");
    path
}

/// The `METHOD /path` of the requests a proxy forwarded, for messages.
fn request_summary(proxy: &UnixProxy) -> String {
    proxy.requests().join("\n")
}

// ---------------------------------------------------------------------------------------------
// Template context
// ---------------------------------------------------------------------------------------------

/// The IPv4 address of `addr` without its prefix length.
fn ip(addr: &serde_json::Value) -> String {
    addr.as_str()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn services_tasks_and_nodes_render_as_docker_reports_them() {
    require_docker();
    require_swarm();
    let _shared = services_shared();
    let network = TestNetwork::with_args(&["--driver", "overlay", "--attachable"]);
    let service = TestService::builder()
        .args([
            "--replicas",
            "2",
            "--network",
            network.name(),
            "--publish",
            "target=5000",
            "--label",
            "svc.label=L1",
            "--container-label",
            "cont.label=C1",
            "--env",
            "PYGEN_ENV_KEY=env-value",
        ])
        .start();
    let global = TestService::builder()
        .args(["--mode", "global", "--network", network.name()])
        .start();
    service.wait_running(2);
    global.wait_running(1);

    let template = format!(
        r#"#{{% for s in services if s.name in ['{a}', '{g}'] %}}
S {{{{ s.id }}}} {{{{ s.short_id }}}} {{{{ s.name }}}} {{{{ s.version }}}} {{{{ s.image }}}} label={{{{ s.labels['svc.label'] }}}} ports={{{{ s.ports.tcp|join(',') }}}} ingress={{{{ s.ingress.ports.tcp|join(',') }}}} gw={{{{ s.ingress.gateway }}}} ingress_ips={{{{ s.ingress.ip_addresses|sort|join(',') }}}} by_id={{{{ services.matching(s.id)|length }}}} by_name={{{{ s.tasks.matching(s.name)|length }}}}
{{% for n in s.networks %}}N {{{{ n.id }}}} {{{{ n.name }}}} {{{{ n.gateway }}}} {{{{ n.ip_addresses|sort|join(',') }}}}
{{% endfor %}}{{% for t in s.tasks|sort(attribute='id') %}}T {{{{ t.id }}}} {{{{ t.name }}}} {{{{ t.slot }}}} {{{{ t.node_id }}}} {{{{ t.container_id }}}} {{{{ t.status }}}}/{{{{ t.desired_state }}}} {{{{ t.image }}}} {{{{ t.labels['cont.label'] }}}} {{{{ t.labels['com.docker.swarm.service.name'] }}}} {{{{ t.labels['com.docker.swarm.task.name'] == t.name }}}} {{{{ t.labels['com.docker.swarm.node.id'] == t.node_id }}}} {{{{ t.env.pygen_env_key }}}} {{{{ t.networks|map(attribute='ip_addresses')|map('join', ',')|join(';') }}}}
{{% endfor %}}{{% endfor %}}
{{% set n = nodes.matching('{host}').first_value %}}NODE {{{{ n.id }}}} {{{{ n.short_id }}}} {{{{ n.role }}}} {{{{ n.hostname }}}} {{{{ n.state }}}} {{{{ n.availability }}}} {{{{ n.engine_version }}}} {{{{ n.platform.os }}}} {{{{ n.version == n.raw.Version.Index }}}} {{{{ n.name }}}}"#,
        a = service.name(),
        g = global.name(),
        host = docker_ok(["info", "--format", "{{.Name}}"]),
    );
    let out = run_pygen(["--template", &template, "--one-shot"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pygen failed: {stderr}");
    let rendered = String::from_utf8_lossy(&out.stdout).into_owned();

    // What docker reports, in the same shape.
    let mut expected = String::new();
    for svc in [&service, &global] {
        let inspect = svc.inspect();
        let id = inspect["ID"].as_str().unwrap_or_default();
        let vip_on = |network_id: &str| {
            inspect["Endpoint"]["VirtualIPs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["NetworkID"] == network_id)
                .map(|v| ip(&v["Addr"]))
        };
        let ingress_id = docker_ok(["network", "inspect", "--format", "{{.ID}}", "ingress"]);
        let tasks = {
            let mut tasks = svc.running_task_objects();
            tasks.sort_by(|a, b| a["ID"].as_str().cmp(&b["ID"].as_str()));
            tasks
        };
        let addresses_on = |network_id: &str| {
            let mut ips: Vec<String> = tasks
                .iter()
                .flat_map(|t| {
                    t["NetworksAttachments"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter(|a| a["Network"]["ID"] == network_id)
                .flat_map(|a| a["Addresses"].as_array().cloned().unwrap_or_default())
                .map(|a| ip(&a))
                .collect();
            ips.sort();
            ips.join(",")
        };
        let published: Vec<String> = inspect["Endpoint"]["Ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["PublishedPort"].as_u64().map(|n| n.to_string()))
            .collect();
        let is_replicated = svc.id() == service.id();
        expected.push_str(&format!(
            "S {id} {} {} {} {} label={} ports={} ingress={} gw={} ingress_ips={} by_id=1 by_name={}\n",
            &id[..12],
            svc.name(),
            inspect["Version"]["Index"],
            inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].as_str().unwrap_or_default(),
            if is_replicated { "L1" } else { "" },
            if is_replicated { "5000" } else { "" },
            published.join(","),
            vip_on(&ingress_id).unwrap_or_default(),
            addresses_on(&ingress_id),
            tasks.len(),
        ));
        expected.push_str(&format!(
            "N {} {} {} {}\n",
            network.id(),
            network.name(),
            vip_on(network.id()).unwrap_or_default(),
            addresses_on(network.id())
        ));
        for t in &tasks {
            let task_id = t["ID"].as_str().unwrap_or_default();
            let node = t["NodeID"].as_str().unwrap_or_default();
            let (slot, name) = match t["Slot"].as_u64() {
                Some(slot) if slot > 0 => {
                    (slot.to_string(), format!("{}.{slot}.{task_id}", svc.name()))
                }
                _ => (
                    "None".to_owned(),
                    format!("{}.{node}.{task_id}", svc.name()),
                ),
            };
            let task_ips: Vec<String> = t["NetworksAttachments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    a["Addresses"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(ip)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            expected.push_str(&format!(
                "T {task_id} {name} {slot} {node} {} running/running {} {} {} True True {} {}\n",
                t["Status"]["ContainerStatus"]["ContainerID"]
                    .as_str()
                    .unwrap_or_default(),
                t["Spec"]["ContainerSpec"]["Image"]
                    .as_str()
                    .unwrap_or_default(),
                if is_replicated { "C1" } else { "" },
                svc.name(),
                if is_replicated { "env-value" } else { "" },
                task_ips.join(";"),
            ));
        }
    }
    let node = serde_json::from_str::<serde_json::Value>(&docker_ok(["node", "inspect", "self"]))
        .expect("docker node inspect prints JSON")[0]
        .clone();
    let node_id = node["ID"].as_str().unwrap_or_default();
    let hostname = node["Description"]["Hostname"].as_str().unwrap_or_default();
    expected.push_str(&format!(
        "NODE {node_id} {} {} {hostname} {} {} {} {} True {}",
        &node_id[..12],
        node["Spec"]["Role"].as_str().unwrap_or_default(),
        node["Status"]["State"].as_str().unwrap_or_default(),
        node["Spec"]["Availability"].as_str().unwrap_or_default(),
        node["Description"]["Engine"]["EngineVersion"]
            .as_str()
            .unwrap_or_default(),
        node["Description"]["Platform"]["OS"]
            .as_str()
            .unwrap_or_default(),
        node["Spec"]["Name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(hostname),
    ));
    // pygen lists services in the daemon's order; compare service by service, then the node.
    let split = |text: &str| {
        let (services, node) = text.rsplit_once("NODE ").unwrap_or((text, ""));
        let mut blocks: Vec<String> = format!("\n{services}")
            .split("\nS ")
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty())
            .collect();
        blocks.sort();
        (blocks, node.trim().to_owned())
    };
    let (rendered_services, rendered_node) = split(&rendered);
    let (expected_services, expected_node) = split(&expected);
    assert_eq!(
        rendered_services.len(),
        2,
        "rendered:\n{rendered}\nstderr:\n{stderr}"
    );
    assert_eq!(
        rendered_services, expected_services,
        "rendered:\n{rendered}\nexpected:\n{expected}\nstderr:\n{stderr}"
    );
    assert_eq!(rendered_node, expected_node);
}

#[test]
fn a_task_that_becomes_running_is_seen_by_the_poll() {
    require_docker();
    require_swarm();
    let _alone = services_alone();
    // Health-checked tasks stay `starting` until their first check passes; Swarm then moves
    // them to `running` without any event. With `--events none`, only Swarm events (the
    // service's creation) and the poll make pygen render here.
    let name = unique_name("pygen-svc-poll");
    let template = format!(
        "#{{% for s in services if s.name == '{name}' %}}{{% for t in s.tasks %}}[{{{{ t.status }}}}]{{% endfor %}}{{% endfor %}}."
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let start = |file: &str, poll: &str| {
        let target = dir.path().join(file);
        let process = PygenProcess::spawn([
            "--template",
            &template,
            "--target",
            target.to_str().unwrap_or_default(),
            "--events",
            "none",
            "--swarm-poll",
            poll,
            "--metrics",
            "0",
        ]);
        wait_for_file_containing(&target, ".", REACT);
        (process, target)
    };
    let (polling, polled) = start("polled", "1");
    let (quiet, unpolled) = start("unpolled", "0");

    let service = TestService::builder()
        .name(&name)
        .args([
            "--health-cmd",
            "sleep 2",
            "--health-interval",
            "1s",
            "--health-timeout",
            "5s",
        ])
        .start();
    let context = || {
        format!(
            "polled: {:?}\nunpolled: {:?}\ntasks: {:#?}\npolling stderr:\n{}\nquiet stderr:\n{}",
            std::fs::read_to_string(&polled),
            std::fs::read_to_string(&unpolled),
            service.tasks(false),
            polling.stderr(),
            quiet.stderr()
        )
    };
    // Both render at the service's creation, before its task runs.
    let rendered = wait_until(REACT, POLL, || {
        std::fs::read_to_string(&unpolled).is_ok_and(|t| t != ".")
    });
    assert!(
        rendered,
        "no render at the service's creation\n{}",
        context()
    );
    let seen = wait_until(REACT, POLL, || {
        std::fs::read_to_string(&polled).is_ok_and(|t| t.contains("[running]"))
    });
    assert!(seen, "the poll did not see the running task\n{}", context());
    // The task runs now, and nothing but a poll told the other pygen.
    assert!(
        service
            .running_task_objects()
            .iter()
            .any(|t| t["Status"]["State"] == "running"),
        "{}",
        context()
    );
    let unpolled_text = std::fs::read_to_string(&unpolled).unwrap_or_default();
    assert!(
        !unpolled_text.contains("[running]"),
        "without polling, nothing should have told pygen\n{}",
        context()
    );
}

// ---------------------------------------------------------------------------------------------
// Actions on services
// ---------------------------------------------------------------------------------------------

/// A Docker secret, removed when dropped.
struct TestSecret {
    /// The secret's name.
    name: String,
}

impl TestSecret {
    fn new(value: &str) -> TestSecret {
        let name = unique_name("pygen-secret");
        let mut child = std::process::Command::new("docker")
            .args([
                "secret",
                "create",
                "--label",
                "pygen.test=1",
                "--label",
                &format!("pygen.test.pid={}", std::process::id()),
                &name,
                "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("run docker secret create");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(value.as_bytes())
            .expect("write the secret");
        assert!(child.wait().expect("docker secret create").success());
        TestSecret { name }
    }
}

impl Drop for TestSecret {
    fn drop(&mut self) {
        docker(["secret", "rm", self.name.as_str()]);
    }
}

/// A service spec without `TaskTemplate.ForceUpdate`.
fn spec_without_force(inspect: &serde_json::Value) -> serde_json::Value {
    let mut spec = inspect["Spec"].clone();
    if let Some(template) = spec["TaskTemplate"].as_object_mut() {
        template.remove("ForceUpdate");
    }
    spec
}

#[test]
fn a_restart_through_pygen_force_updates_the_service_and_keeps_its_settings() {
    require_docker();
    require_swarm();
    let _shared = services_shared();
    let network = TestNetwork::with_args(&["--driver", "overlay", "--attachable"]);
    let secret = TestSecret::new("value");
    let service = TestService::builder()
        .args([
            "--replicas",
            "1",
            "--network",
            network.name(),
            "--publish",
            "target=5001",
            "--env",
            "A=1",
            "--label",
            "l=1",
            "--container-label",
            "c=1",
            "--constraint",
            "node.role==manager",
            "--hostname",
            "h1",
            "--user",
            "1000",
            "--workdir",
            "/tmp",
            "--restart-condition",
            "on-failure",
            "--restart-max-attempts",
            "3",
            "--limit-memory",
            "64M",
            "--reserve-cpu",
            "0.01",
            "--update-parallelism",
            "2",
            "--update-delay",
            "1s",
            "--stop-grace-period",
            "5s",
            "--mount",
            "type=tmpfs,dst=/cache",
            "--secret",
            secret.name.as_str(),
        ])
        .start();
    service.wait_running(1);
    let before = service.inspect();
    let old_tasks: Vec<String> = service
        .running_task_objects()
        .iter()
        .filter_map(|t| t["ID"].as_str().map(str::to_owned))
        .collect();

    // stdout mode: every render counts as a change, so the action always runs.
    let out = run_pygen([
        "--template",
        "#x",
        "--one-shot",
        "--restart",
        service.name(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("service restarted"), "{stderr}");

    let after = service.inspect();
    let force = |v: &serde_json::Value| {
        v["Spec"]["TaskTemplate"]["ForceUpdate"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(force(&after), (force(&before) + 1) % 100);
    assert!(
        after["Version"]["Index"].as_u64() > before["Version"]["Index"].as_u64(),
        "the version must grow"
    );
    assert_eq!(
        spec_without_force(&after),
        spec_without_force(&before),
        "the restart changed the spec"
    );
    // Swarm replaces the task.
    let replaced = wait_until(REACT, POLL, || {
        let now = service.running_task_objects();
        now.iter().any(|t| t["Status"]["State"] == "running")
            && now
                .iter()
                .all(|t| !old_tasks.iter().any(|old| t["ID"].as_str() == Some(old)))
    });
    assert!(replaced, "tasks not replaced: {:#?}", service.tasks(false));
    let history = service.tasks(false);
    assert!(
        history.iter().any(
            |t| old_tasks.iter().any(|old| t["ID"].as_str() == Some(old))
                && t["DesiredState"] == "Shutdown"
        ),
        "the old task should be shut down: {history:#?}"
    );

    // A manager does the same, and does not bother the workers when a service matched.
    let manager = Manager::start(
        &unique_name("grp"),
        free_port(),
        &["--insecure-no-auth", "--restart", service.name()],
    );
    let updated = wait_until(REACT, POLL, || {
        force(&service.inspect()) == (force(&before) + 2) % 100
    });
    assert!(updated, "{}", manager.process.stderr());
    let text = metrics(manager.metrics);
    assert_eq!(
        sample(
            &text,
            "pygen_action_execution_strategy_seconds_count{strategy=\"manager\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "pygen_actions_total{kind=\"service_update\",outcome=\"ok\"}"
        ),
        1.0,
        "{text}"
    );
    assert!(!text.contains("pygen_manager_send_total{"), "{text}");
}

/// A template that lists the tasks of the service `--restart` force-updates changes on every
/// update (the tasks are replaced): without care each update would cause the next, endlessly.
/// pygen reads the service as it was until its update ended, then takes the new tasks in
/// without acting: one update per real change.
#[test]
fn a_service_whose_tasks_the_template_lists_is_force_updated_once_per_change() {
    require_docker();
    require_swarm();
    let _shared = services_shared();
    let group = unique_name("grp");
    let service = TestService::builder()
        .args(["--replicas", "1", "--constraint", "node.role==manager"])
        .start();
    service.wait_running(1);
    let force = || {
        service.inspect()["Spec"]["TaskTemplate"]["ForceUpdate"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = force();
    let template = format!(
        "{{% for s in services if s.name == '{}' %}}{{% for t in s.tasks %}}{{{{ t.id }}}} {{{{ t.status }}}}\n{{% endfor %}}{{% endfor %}}\
         {{% for c in containers if c.labels.group == '{group}' %}}{{{{ c.name }}}}\n{{% endfor %}}",
        service.name()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let template_path = dir.path().join("tasks.tmpl");
    std::fs::write(&template_path, template).expect("write the template");
    let target = dir.path().join("target");
    let metrics_port = free_port();
    let process = PygenProcess::spawn([
        "--template",
        template_path.to_str().unwrap_or_default(),
        "--target",
        target.to_str().unwrap_or_default(),
        "--restart",
        service.name(),
        "--interval",
        "0",
        "--swarm-poll",
        "1",
        "--metrics",
        &metrics_port.to_string(),
        "--metrics-address",
        "127.0.0.1",
        "--debug",
    ]);
    let updates = || {
        sample(
            &metrics(metrics_port),
            "pygen_actions_total{kind=\"service_update\",outcome=\"ok\"}",
        )
    };
    // Its task replaced, the update over and taken in: the target lists one running task
    // that is not the first one, and pygen said it wrote that without acting.
    let settled = |number: f64| {
        let ok = wait_until(Duration::from_secs(60), POLL, || {
            let tasks = service.running_task_objects();
            let content = std::fs::read_to_string(&target).unwrap_or_default();
            updates() >= number
                && tasks.len() == 1
                && tasks.iter().all(|t| {
                    t["ID"]
                        .as_str()
                        .is_some_and(|id| content.contains(&format!("{id} running")))
                })
                && content.lines().filter(|l| l.ends_with(" running")).count() == 1
        });
        assert!(
            ok,
            "update {number} did not settle: {}\n{}",
            std::fs::read_to_string(&target).unwrap_or_default(),
            process.stderr()
        );
        // A few polls more: nothing acts again.
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(
            updates(),
            number,
            "updated again by its own update\n{}",
            process.stderr()
        );
    };
    // The first write is a change: one force-update.
    settled(1.0);
    assert_eq!(force(), (before + 1) % 100);
    // A real change: one more, and only one.
    let added = TestContainer::builder().label("group", &group).start();
    let listed = wait_until(REACT, POLL, || {
        std::fs::read_to_string(&target).is_ok_and(|c| c.contains(added.name()))
    });
    assert!(listed, "{}", process.stderr());
    settled(2.0);
    assert_eq!(force(), (before + 2) % 100);
    assert!(
        process
            .stderr()
            .contains("the target changed by pygen's own actions: no notification"),
        "the update's own change is written without acting\n{}",
        process.stderr()
    );
}

// ---------------------------------------------------------------------------------------------
// Manager and worker processes
// ---------------------------------------------------------------------------------------------

/// A manager pygen on loopback, with a target file and a metrics port.
struct Manager {
    /// The process.
    process: PygenProcess,
    /// The manager endpoint's port.
    port: u16,
    /// The metrics port.
    metrics: u16,
}

impl Manager {
    /// Starts a manager rendering the containers labelled `group=<group>`, sending actions to
    /// the worker at 127.0.0.1:`worker_port`, with extra flags; waits for its first write.
    fn start(group: &str, worker_port: u16, extra: &[&str]) -> Manager {
        Manager::start_on(free_port(), group, worker_port, extra)
    }

    /// [`Manager::start`] with the manager endpoint on `port`.
    fn start_on(port: u16, group: &str, worker_port: u16, extra: &[&str]) -> Manager {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let target = dir.join("target");
        let metrics = free_port();
        let template = format!(
            "#{{% for c in containers if c.labels.group == '{group}' %}}{{{{ c.name }}}}\n{{% endfor %}}."
        );
        let mut args: Vec<String> = [
            "--template",
            &template,
            "--target",
            target.to_str().unwrap_or_default(),
            "--swarm-manager",
            "--manager-address",
            "127.0.0.1",
            "--swarm-manager-port",
            &port.to_string(),
            "--workers",
            &format!("127.0.0.1:{worker_port}"),
            "--interval",
            "0",
            "--metrics",
            &metrics.to_string(),
            "--metrics-address",
            "127.0.0.1",
        ]
        .map(String::from)
        .to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        let process = PygenProcess::spawn(&args);
        wait_for_file_containing(&target, ".", REACT);
        Manager {
            process,
            port,
            metrics,
        }
    }

    fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }
}

/// Starts a worker listening on 127.0.0.1:`port`, reporting to 127.0.0.1:`manager_port`.
fn start_worker(
    port: u16,
    manager_port: u16,
    metrics: u16,
    extra: &[&str],
    env: &[(&str, &str)],
) -> PygenProcess {
    let mut args: Vec<String> = [
        "worker",
        "--manager",
        &format!("127.0.0.1:{manager_port}"),
        "--worker-address",
        "127.0.0.1",
        "--worker-port",
        &port.to_string(),
        "--metrics",
        &metrics.to_string(),
        "--metrics-address",
        "127.0.0.1",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    let worker = PygenProcess::spawn_with_env(&args, env);
    wait_for_port(port, &worker);
    worker
}

#[test]
fn manager_and_worker_signal_a_container_through_the_worker() {
    require_docker();
    let group = unique_name("grp");
    let target = hup_target(("group", &group));
    // Matches no service: the manager has the workers restart it.
    let restartee = TestContainer::start_default();
    let started_at = |c: &TestContainer| c.inspect()["State"]["StartedAt"].clone();
    let first_start = started_at(&restartee);
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = secret_file(dir.path());
    let worker_port = free_port();
    let worker_metrics = free_port();
    // The manager port is known before the manager starts: the worker reports to it.
    let manager_port_hint = free_port();
    let worker = start_worker(
        worker_port,
        manager_port_hint,
        worker_metrics,
        &["--events", "none"],
        &[("PYGEN_SWARM_SECRET", SECRET)],
    );
    let manager = Manager::start_on(
        manager_port_hint,
        &group,
        worker_port,
        &[
            "--swarm-secret-file",
            secret.to_str().unwrap_or_default(),
            "--signal",
            target.name(),
            "HUP",
            "--restart",
            restartee.name(),
        ],
    );
    let context = || {
        format!(
            "manager stderr:\n{}\nworker stderr:\n{}",
            manager.process.stderr(),
            worker.stderr()
        )
    };
    // The first render wrote the target: a change, so the worker signalled the container and
    // restarted the other one.
    wait_got(target.id(), 1, &context);
    let restarted = wait_until(REACT, POLL, || started_at(&restartee) != first_start);
    assert!(restarted, "not restarted through the worker\n{}", context());
    // Another change: a new container of the group.
    let _second = TestContainer::builder().label("group", &group).start();
    wait_got(target.id(), 2, &context);

    let worker_text = metrics(worker_metrics);
    assert!(
        sample(
            &worker_text,
            "pygen_worker_request_total{client=\"127.0.0.1\"}"
        ) >= 2.0,
        "{worker_text}"
    );
    let series = format!(
        "pygen_signal_action_seconds_count{{target=\"{}\",signal=\"SIGHUP\"}}",
        target.name()
    );
    assert!(
        sample(&worker_text, &series) >= 2.0,
        "{series} in:\n{worker_text}"
    );
    let manager_text = metrics(manager.metrics);
    let series =
        format!("pygen_manager_send_total{{target=\"127.0.0.1:{worker_port}\",code=\"200\"}}");
    assert!(
        sample(&manager_text, &series) >= 2.0,
        "{series} in:\n{manager_text}"
    );

    // SIGHUP makes the worker tell the manager (docker-pygen's worker crashed on it, B4);
    // with `--events none` nothing else does.
    assert_eq!(
        sample(
            &manager_text,
            "pygen_manager_request_total{client=\"127.0.0.1\"}"
        ),
        0.0
    );
    worker.signal("HUP");
    let told = wait_until(REACT, POLL, || {
        sample(
            &metrics(manager.metrics),
            "pygen_manager_request_total{client=\"127.0.0.1\"}",
        ) >= 1.0
    });
    assert!(told, "the worker did not notify the manager\n{}", context());
    let worker_text = metrics(worker_metrics);
    let series =
        format!("pygen_worker_send_total{{target=\"127.0.0.1:{manager_port_hint}\",code=\"200\"}}");
    assert!(
        sample(&worker_text, &series) >= 1.0,
        "{series} in:\n{worker_text}"
    );
}

#[test]
fn the_worker_tells_the_manager_about_watched_events() {
    require_docker();
    let group = unique_name("grp");
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = secret_file(dir.path());
    let manager = Manager::start(
        &group,
        free_port(),
        &["--swarm-secret-file", secret.to_str().unwrap_or_default()],
    );
    let worker_metrics = free_port();
    let worker = start_worker(
        free_port(),
        manager.port,
        worker_metrics,
        // The per-event line is a debug line.
        &["--events", "start", "--debug"],
        &[("PYGEN_SWARM_SECRET", SECRET)],
    );
    let _started = TestContainer::builder().label("group", &group).start();
    let told = wait_until(REACT, POLL, || {
        sample(
            &metrics(manager.metrics),
            "pygen_manager_request_total{client=\"127.0.0.1\"}",
        ) >= 1.0
    });
    assert!(
        told,
        "manager stderr:\n{}\nworker stderr:\n{}",
        manager.process.stderr(),
        worker.stderr()
    );
    assert!(
        worker.stderr().contains("Received start event from"),
        "{}",
        worker.stderr()
    );
    let series = format!(
        "pygen_worker_send_total{{target=\"127.0.0.1:{}\",code=\"200\"}}",
        manager.port
    );
    assert!(sample(&metrics(worker_metrics), &series) >= 1.0);
}

#[test]
fn forged_unsigned_replayed_stale_and_oversized_requests_run_nothing() {
    require_docker();
    let marker = unique_name("tgt");
    let target = hup_target(("pygen.target", &marker));
    let worker_port = free_port();
    let worker_metrics = free_port();
    // The worker reports to no one (`--events none`); the manager port is unused.
    let worker = start_worker(
        worker_port,
        free_port(),
        worker_metrics,
        &["--events", "none"],
        &[("PYGEN_SWARM_SECRET", SECRET)],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], worker_port).into();
    let body = format!(r#"{{"action": "signal", "args": ["{marker}", "HUP"]}}"#).into_bytes();
    let post = |headers: &[(&str, String)], body: &[u8]| http(addr, "POST", "/", headers, body).0;

    // A valid request runs once; its replay does not.
    let valid = signed_headers(SECRET, "worker", addr, now(), &nonce(), &body);
    assert_eq!(post(&valid, &body), 200);
    assert_eq!(post(&valid, &body), 401, "replayed");
    let context = || format!("worker stderr:\n{}", worker.stderr());
    wait_got(target.id(), 1, &context);

    let mut forged = signed_headers(SECRET, "worker", addr, now(), &nonce(), &body);
    forged[2].1 = "0".repeat(64);
    let other_body =
        format!(r#"{{"action": "signal", "args": ["{marker}", "KILL"]}}"#).into_bytes();
    let checks: Vec<(&str, u16, Headers, Vec<u8>)> = vec![
        ("unsigned", 401, Vec::new(), body.clone()),
        ("forged", 401, forged, body.clone()),
        (
            "another secret",
            401,
            signed_headers(
                "another-secret-4f1c",
                "worker",
                addr,
                now(),
                &nonce(),
                &body,
            ),
            body.clone(),
        ),
        (
            "signed for another body",
            401,
            signed_headers(SECRET, "worker", addr, now(), &nonce(), &body),
            other_body,
        ),
        (
            "signed for the manager",
            401,
            signed_headers(SECRET, "manager", addr, now(), &nonce(), &body),
            body.clone(),
        ),
        (
            "signed for another worker",
            401,
            signed_headers(
                SECRET,
                "worker",
                ([127, 0, 0, 2], addr.port()).into(),
                now(),
                &nonce(),
                &body,
            ),
            body.clone(),
        ),
        (
            "stale",
            401,
            signed_headers(SECRET, "worker", addr, now() - 120, &nonce(), &body),
            body.clone(),
        ),
        (
            "from the future",
            401,
            signed_headers(SECRET, "worker", addr, now() + 120, &nonce(), &body),
            body.clone(),
        ),
        (
            "bad JSON",
            400,
            signed_headers(SECRET, "worker", addr, now(), &nonce(), b"{not json"),
            b"{not json".to_vec(),
        ),
        (
            "unknown action",
            400,
            signed_headers(
                SECRET,
                "worker",
                addr,
                now(),
                &nonce(),
                br#"{"action": "exec", "args": ["x"]}"#,
            ),
            br#"{"action": "exec", "args": ["x"]}"#.to_vec(),
        ),
        (
            "empty target",
            400,
            signed_headers(
                SECRET,
                "worker",
                addr,
                now(),
                &nonce(),
                br#"{"action": "signal", "args": ["", "KILL"]}"#,
            ),
            br#"{"action": "signal", "args": ["", "KILL"]}"#.to_vec(),
        ),
    ];
    for (what, status, headers, body) in &checks {
        assert_eq!(post(headers, body), *status, "{what}");
    }
    let mut big =
        format!(r#"{{"action": "signal", "args": ["{marker}", "HUP"], "pad": ""#).into_bytes();
    big.resize(64 * 1024 + 16, b'x');
    big.extend_from_slice(b"\"}");
    assert_eq!(
        post(
            &signed_headers(SECRET, "worker", addr, now(), &nonce(), &big),
            &big
        ),
        413,
        "oversized"
    );

    // One more valid request: actions run in order, so once it has run, anything a refused
    // request had queued would have run too.
    let again = signed_headers(SECRET, "worker", addr, now(), &nonce(), &body);
    assert_eq!(post(&again, &body), 200);
    wait_got(target.id(), 2, &context);
    let done = wait_until(REACT, POLL, || {
        sample(
            &metrics(worker_metrics),
            "pygen_actions_total{kind=\"signal\",outcome=\"ok\"}",
        ) >= 2.0
    });
    assert!(done, "{}", context());
    assert_eq!(
        got_lines(target.id()),
        2,
        "a refused request ran\n{}",
        context()
    );
    assert!(target.is_running(), "a refused KILL ran");
    let text = metrics(worker_metrics);
    assert_eq!(
        sample(&text, "pygen_actions_total{kind=\"signal\",outcome=\"ok\"}"),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "pygen_worker_request_total{client=\"127.0.0.1\"}"),
        2.0,
        "only accepted requests count: {text}"
    );

    // The manager endpoint checks the same way before it renders.
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = secret_file(dir.path());
    let manager = Manager::start(
        &unique_name("grp"),
        free_port(),
        &["--swarm-secret-file", secret.to_str().unwrap_or_default()],
    );
    let post = |headers: &[(&str, String)], body: &[u8]| {
        http(manager.addr(), "POST", "/", headers, body).0
    };
    assert_eq!(post(&[], b""), 401);
    assert_eq!(
        post(
            &signed_headers(
                SECRET,
                "manager",
                manager.addr(),
                now() - 300,
                &nonce(),
                b""
            ),
            b""
        ),
        401
    );
    let big = vec![b' '; 64 * 1024 + 1];
    assert_eq!(
        post(
            &signed_headers(SECRET, "manager", manager.addr(), now(), &nonce(), &big),
            &big
        ),
        413
    );
    let ok = signed_headers(SECRET, "manager", manager.addr(), now(), &nonce(), b"");
    assert_eq!(post(&ok, b""), 200);
    assert_eq!(post(&ok, b""), 401, "replayed");
    assert_eq!(
        sample(
            &metrics(manager.metrics),
            "pygen_manager_request_total{client=\"127.0.0.1\"}"
        ),
        1.0,
        "manager stderr:\n{}",
        manager.process.stderr()
    );
}

#[test]
fn endpoints_refuse_to_start_without_a_secret_unless_told() {
    let out = run_pygen_with_env(
        [
            "worker",
            "--manager",
            "m",
            "--worker-port",
            "0",
            "--metrics",
            "0",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a shared secret is required"), "{stderr}");
    let out = run_pygen(["--template", "#x", "--swarm-manager", "--metrics", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--swarm-manager: a shared secret is required"),
        "{stderr}"
    );
    // A malformed worker address is a usage error too.
    let out = run_pygen([
        "--template",
        "#x",
        "--swarm-manager",
        "--insecure-no-auth",
        "--manager-address",
        "127.0.0.1",
        "--workers",
        "w:0",
        "--metrics",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--workers \"w:0\""), "{stderr}");
}

#[test]
fn insecure_mode_logs_a_warning() {
    require_docker();
    let port = free_port();
    let worker = start_worker(port, free_port(), 0, &["--insecure-no-auth"], &[]);
    let warned = wait_until(REACT, POLL, || {
        worker.stderr().contains("NOT authenticated")
    });
    assert!(warned, "{}", worker.stderr());
    // Unsigned requests in docker-pygen's format are taken.
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let body = br#"{"action": "restart", "args": ["pygen-no-such-container"]}"#;
    assert_eq!(http(addr, "POST", "/", &[], body).0, 200);
}

#[test]
fn the_manager_retries_a_worker_that_is_down_and_carries_on() {
    require_docker();
    let group = unique_name("grp");
    let target = hup_target(("group", &group));
    let worker_port = free_port();
    // Nothing listens on the worker port yet.
    let manager = Manager::start(
        &group,
        worker_port,
        &[
            "--insecure-no-auth",
            "--retries",
            "6",
            "--signal",
            target.name(),
            "HUP",
        ],
    );
    let retrying = wait_until(REACT, POLL, || {
        manager
            .process
            .stderr()
            .contains("cannot deliver, retrying")
    });
    assert!(retrying, "{}", manager.process.stderr());
    // The worker comes up while the manager retries.
    let worker = start_worker(
        worker_port,
        manager.port,
        0,
        &["--insecure-no-auth", "--events", "none"],
        &[],
    );
    let context = || {
        format!(
            "manager stderr:\n{}\nworker stderr:\n{}",
            manager.process.stderr(),
            worker.stderr()
        )
    };
    wait_got(target.id(), 1, &context);
    assert!(
        manager
            .process
            .stderr()
            .contains("delivered after retrying"),
        "{}",
        context()
    );

    // The worker goes away for good: the manager gives up, logs it, and carries on.
    let worker_log = worker.stderr();
    drop(worker);
    let _second = TestContainer::builder().label("group", &group).start();
    let gave_up = wait_until(Duration::from_secs(90), POLL, || {
        manager
            .process
            .stderr()
            .contains("cannot deliver, giving up")
    });
    assert!(
        gave_up,
        "manager stderr:\n{}\nfirst worker stderr:\n{worker_log}",
        manager.process.stderr()
    );
    let worker = start_worker(
        worker_port,
        manager.port,
        0,
        &["--insecure-no-auth", "--events", "none"],
        &[],
    );
    let _third = TestContainer::builder().label("group", &group).start();
    let context = || {
        format!(
            "manager stderr:\n{}\nworker stderr:\n{}",
            manager.process.stderr(),
            worker.stderr()
        )
    };
    wait_got(target.id(), 2, &context);

    let mut manager = manager;
    assert!(manager.process.is_running(), "{}", manager.process.stderr());
}

// ---------------------------------------------------------------------------------------------
// API calls per render
// ---------------------------------------------------------------------------------------------

#[test]
fn a_render_costs_one_tasks_call_and_one_info_call() {
    require_docker();
    require_swarm();
    let _shared = services_shared();
    let service = TestService::builder().args(["--replicas", "2"]).start();
    service.wait_running(2);
    let proxy = UnixProxy::start();
    let metrics_port = free_port();
    let manager_port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("target");
    // `--events none` and no poll: renders come from the start, Swarm events and manager
    // requests, each of which marks the Swarm state dirty.
    let process = PygenProcess::spawn([
        "--template",
        "#{% for s in services %}{{ s.name }}{% for t in s.tasks %} {{ t.name }}{% endfor %}\n{% endfor %}.",
        "--target",
        target.to_str().unwrap_or_default(),
        "--docker-address",
        &proxy.address(),
        "--events",
        "none",
        "--swarm-poll",
        "0",
        "--swarm-manager",
        "--insecure-no-auth",
        "--manager-address",
        "127.0.0.1",
        "--swarm-manager-port",
        &manager_port.to_string(),
        "--metrics",
        &metrics_port.to_string(),
        "--metrics-address",
        "127.0.0.1",
    ]);
    wait_for_file_containing(&target, service.name(), REACT);
    let renders = || sample(&metrics(metrics_port), "pygen_renders_total") as usize;
    let calls = |path| proxy.count_requests("GET", path);
    let context = |what: &str| {
        format!(
            "{what}: renders {}, /tasks {}, /info {}, /services {}\nrequests:\n{}\nstderr:\n{}",
            renders(),
            calls("/tasks"),
            calls("/info"),
            calls("/services"),
            request_summary(&proxy),
            process.stderr()
        )
    };
    let settled = |expected_renders: usize| {
        wait_until(REACT, POLL, || {
            let r = renders();
            r >= expected_renders && calls("/tasks") == r && calls("/info") == r
        })
    };
    assert!(settled(1), "{}", context("start"));
    for round in 0..3 {
        let before = renders();
        let (status, _) = http(([127, 0, 0, 1], manager_port).into(), "POST", "/", &[], b"");
        assert_eq!(status, 200);
        assert!(
            settled(before + 1),
            "{}",
            context(&format!("request {round}"))
        );
    }
    // A Swarm event: the service scales.
    let before = renders();
    docker_ok([
        "service",
        "scale",
        "--detach",
        &format!("{}=3", service.name()),
    ]);
    assert!(settled(before + 1), "{}", context("scale"));
    assert_eq!(calls("/tasks"), renders(), "{}", context("end"));
    assert_eq!(calls("/services"), renders(), "{}", context("end"));
}

// ---------------------------------------------------------------------------------------------
// The seed README's stack
// ---------------------------------------------------------------------------------------------

#[test]
fn the_readme_stack_signals_a_service_task_on_change() {
    require_docker();
    require_swarm();
    let _shared = services_shared();
    let image = pygen_image();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("secret.txt"), format!("{SECRET}\n")).expect("write the secret");
    let socket = docker_socket_path();
    let socket_mount = format!("{}:/var/run/docker.sock:ro", socket.display());
    let labels = ownership_labels();
    let template = "#{% for s in services %}{{ s.name }}:{% for t in s.tasks %}{{ t.status }},{% endfor %}\n{% endfor %}self={{ services.self.name }}\n";
    let compose = |stack: &str| {
        serde_json::json!({
            "version": "3.7",
            "services": {
                "manager": {
                    "image": image,
                    "command": [
                        "--template", template,
                        "--target", "/tmp/services.txt",
                        "--signal", "target", "HUP",
                        "--interval", "0",
                        "--swarm-manager",
                        "--workers", format!("tasks.{stack}_worker"),
                        "--swarm-secret-file", "/run/secrets/pygen_secret",
                    ],
                    "volumes": [socket_mount],
                    "secrets": ["pygen_secret"],
                    "labels": labels,
                    "deploy": {
                        "replicas": 1,
                        "placement": {"constraints": ["node.role == manager"]},
                        "labels": labels,
                    },
                },
                "worker": {
                    "image": image,
                    "command": [
                        "worker",
                        "--manager", format!("{stack}_manager"),
                        "--swarm-secret-file", "/run/secrets/pygen_secret",
                    ],
                    "read_only": true,
                    "volumes": [socket_mount],
                    "secrets": ["pygen_secret"],
                    "labels": labels,
                    "deploy": {"mode": "global", "labels": labels},
                },
                "target": {
                    "image": TEST_IMAGE,
                    "command": ["sh", "-c", "trap 'echo got >> /tmp/got' HUP; trap 'exit 0' TERM; while true; do sleep 1 & wait; done"],
                    "labels": labels,
                    "deploy": {"replicas": 1, "labels": labels},
                },
            },
            "secrets": {
                "pygen_secret": {"file": "./secret.txt", "labels": labels},
            },
        })
        .to_string()
    };
    // The services refer to each other by the stack's name, which the harness chooses.
    let stack = TestStack::deploy("pygstk", dir.path(), compose);
    let context = || {
        format!(
            "manager logs:\n{}\nworker logs:\n{}\nservices:\n{}",
            stack.logs("manager"),
            stack.logs("worker"),
            docker_ok(["service", "ls"])
        )
    };
    let target_containers = || -> Vec<String> {
        docker_ok([
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &format!(
                "label=com.docker.swarm.service.name={}",
                stack.service("target")
            ),
        ])
        .lines()
        .map(str::to_owned)
        .collect()
    };
    // The manager's first render (or the first that sees the target's task) signals it.
    let first = wait_until(Duration::from_secs(90), POLL, || {
        target_containers()
            .first()
            .is_some_and(|id| got_lines(id) >= 1)
    });
    assert!(first, "the target task was not signalled\n{}", context());
    let first_id = target_containers()[0].clone();
    let before = got_lines(&first_id);

    // A change: the target service scales; its new task appears in the manager's file, and
    // every target task is signalled through the worker.
    docker_ok([
        "service",
        "scale",
        "--detach",
        &format!("{}=2", stack.service("target")),
    ]);
    let both = wait_until(Duration::from_secs(90), POLL, || {
        let ids = target_containers();
        ids.len() == 2 && ids.iter().all(|id| got_lines(id) >= 1) && got_lines(&first_id) > before
    });
    assert!(both, "the scaled target was not signalled\n{}", context());

    // The manager runs in a task: `.self` finds its service (None outside a task, B13).
    let manager_container = docker_ok([
        "ps",
        "-q",
        "--filter",
        &format!(
            "label=com.docker.swarm.service.name={}",
            stack.service("manager")
        ),
    ]);
    let copy = dir.path().join("services.txt");
    let copied = wait_until(REACT, POLL, || {
        let _ = std::fs::remove_file(&copy);
        docker([
            "cp",
            &format!(
                "{}:/tmp/services.txt",
                manager_container.lines().next().unwrap_or_default()
            ),
            copy.to_str().unwrap_or_default(),
        ]);
        std::fs::read_to_string(&copy)
            .is_ok_and(|t| t.contains(&format!("{}:running,running,", stack.service("target"))))
    });
    let rendered = std::fs::read_to_string(&copy).unwrap_or_default();
    assert!(copied, "rendered:\n{rendered}\n{}", context());
    assert!(
        rendered.contains(&format!("self={}", stack.service("manager"))),
        "rendered:\n{rendered}\n{}",
        context()
    );
}

// ---------------------------------------------------------------------------------------------
// The raw client over TLS
// ---------------------------------------------------------------------------------------------

/// The daemon at 127.0.0.1:`port` over TLS, with the files `ca`, `cert` and `key` of `dir`.
fn tls_endpoint(
    dir: &Path,
    port: u16,
    [ca, cert, key]: [&str; 3],
) -> pygen::docker::connect::Endpoint {
    use pygen::docker::connect::{Endpoint, TlsFiles, Transport};
    Endpoint {
        address: format!("https://127.0.0.1:{port}"),
        transport: Transport::Tls {
            authority: format!("127.0.0.1:{port}"),
            files: TlsFiles {
                ca: dir.join(ca),
                cert: dir.join(cert),
                key: dir.join(key),
            },
        },
    }
}

#[tokio::test]
async fn the_raw_client_speaks_tls_with_the_docker_cli_certificates() {
    // The Swarm listings of a daemon reached over TLS go through the raw client: it must show
    // the client certificate and trust only the given CA. `openssl s_server -www` demands the
    // certificate and answers any GET with a status page.
    use pygen::docker::raw::{ApiVersion, RawClient};
    let dir = common::tls::certificates();
    let d = dir.path();
    let port = free_port();
    let server = PygenProcess::spawn_program(
        "openssl",
        format!(
            "s_server -accept 127.0.0.1:{port} -cert {0}/server.pem -key {0}/server-key.pem -CAfile {0}/ca.pem -Verify 1 -www",
            d.display()
        )
        .split_whitespace(),
        &[],
    );
    wait_for_file_containing(server.stdout_path(), "ACCEPT", REACT);
    let endpoint = |ca| tls_endpoint(d, port, [ca, "client.pem", "client-key.pem"]);
    let version = ApiVersion::parse("1.41").expect("a version");
    let raw = RawClient::new(&endpoint("ca.pem"), version).expect("a TLS client");
    let page = raw
        .get("/info")
        .await
        .expect("TLS with a client certificate");
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("s_server"), "{page}");

    // A CA that did not sign the server's certificate: refused.
    common::tls::make_ca(d, "other");
    let raw = RawClient::new(&endpoint("other.pem"), version).expect("a TLS client");
    assert!(
        raw.get("/info").await.is_err(),
        "an untrusted server is refused"
    );
}

#[test]
fn a_tls_file_the_raw_client_cannot_use_is_named() {
    // A wrong certificate file should say which file is wrong when pygen starts, not fail
    // every request with a handshake error.
    use pygen::docker::raw::{ApiVersion, Error, RawClient};
    let dir = common::tls::certificates();
    let d = dir.path();
    std::fs::write(
        d.join("garbled-key.pem"),
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    std::fs::write(
        d.join("truncated-key.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n",
    )
    .expect("write");
    let version = ApiVersion::parse("1.41").expect("a version");
    for (files, fault) in [
        (
            ["ca.pem", "client.pem", "truncated-key.pem"],
            "truncated-key.pem",
        ),
        (
            ["ca.pem", "client.pem", "missing-key.pem"],
            "missing-key.pem",
        ),
        (
            ["ca.pem", "client.pem", "garbled-key.pem"],
            "garbled-key.pem",
        ),
        // A certificate where the key should be: no key in it.
        (["ca.pem", "client.pem", "client.pem"], "client.pem"),
        // Another certificate's key.
        (["ca.pem", "client.pem", "server-key.pem"], "server-key.pem"),
        (["ca.pem", "missing.pem", "client-key.pem"], "missing.pem"),
        (
            ["client-key.pem", "client.pem", "client-key.pem"],
            "client-key.pem",
        ),
    ] {
        match RawClient::new(&tls_endpoint(d, 2376, files), version) {
            Err(Error::Tls { path, .. }) => assert_eq!(path, d.join(fault), "{files:?}"),
            other => panic!("{files:?}: {other:?}"),
        }
    }
}

/// Ends the process it holds when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_flows_over_tls() {
    // The event stream is an answer that never ends: each event must come out as the daemon
    // sends it. `openssl s_server` without `-www` sends what its stdin gets, the daemon's
    // chunked answer written by hand here, once the request has arrived.
    use pygen::docker::raw::{ApiVersion, RawClient};
    let dir = common::tls::certificates();
    let d = dir.path();
    let port = free_port();
    let out = d.join("s_server.out");
    let mut server = Killed(
        std::process::Command::new("openssl")
            .args(
                format!(
                    "s_server -accept 127.0.0.1:{port} -cert {0}/server.pem -key {0}/server-key.pem -CAfile {0}/ca.pem -Verify 1",
                    d.display()
                )
                .split_whitespace(),
            )
            .stdin(std::process::Stdio::piped())
            .stdout(std::fs::File::create(&out).expect("create the output file"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run openssl (apt-get install openssl)"),
    );
    wait_for_file_containing(&out, "ACCEPT", REACT);
    let version = ApiVersion::parse("1.41").expect("a version");
    let raw = RawClient::new(
        &tls_endpoint(d, port, ["ca.pem", "client.pem", "client-key.pem"]),
        version,
    )
    .expect("a TLS client");
    let opened = tokio::spawn(async move { raw.events(None, "{}").await });
    // The test body blocks its own thread only; the request runs on the runtime's workers.
    wait_for_file_containing(&out, "GET /v1.41/events", REACT);
    let chunk = |id: &str| {
        let event = format!(r#"{{"Type":"container","Action":"start","Actor":{{"ID":"{id}"}}}}"#);
        format!("{:x}\r\n{event}\r\n", event.len())
    };
    let stdin = server.0.stdin.as_mut().expect("a piped stdin");
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    stdin
        .write_all(format!("{head}{}", chunk("first")).as_bytes())
        .expect("write to s_server");
    let mut events = tokio::time::timeout(REACT, opened)
        .await
        .expect("the answer's head in time")
        .expect("the task")
        .expect("the event stream over TLS");
    let mut next_id = async || {
        let event = tokio::time::timeout(REACT, events.next())
            .await
            .expect("an event in time")
            .expect("an event, not the end")
            .expect("a readable event");
        event.actor.and_then(|actor| actor.id)
    };
    assert_eq!(next_id().await.as_deref(), Some("first"));
    // The answer is still open: a later event comes through it.
    stdin
        .write_all(chunk("second").as_bytes())
        .expect("write to s_server");
    assert_eq!(next_id().await.as_deref(), Some("second"));
}
