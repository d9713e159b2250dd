//! pygen's Swarm mode across real nodes: a Swarm of three Docker daemons (one manager, two
//! workers) run as containers of the host's daemon (`common::multinode`), with pygen deployed
//! as the README deploys it: the manager service on the manager node, the worker service in
//! global mode, the secret as a Docker secret. nginx is pinned to the second node and reads the
//! file the manager renders through storage shared by the nodes.
//!
//! One test builds the cluster once and runs the scenarios in sequence (the nested daemons are
//! heavy): the cross-node signal, restart by service, the loss and return of a node, a restart
//! of the manager, and forged requests from a container on the third node. It prints the time
//! from a change of the rendered file to nginx serving it on the second node, and the recovery
//! times after the node loss (figures, not assertions).
//!
//! The test is slow (a few minutes) and marked `ignore`: `scripts/test.sh` runs it with
//! `cargo test --test swarm_multinode -- --ignored --nocapture`.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::multinode::{Cluster, Node, SETTLE, SHARED_DIR};
use common::swarm::pygen_image;
use common::{TEST_IMAGE, require_docker, wait_until};

/// The secret the stack's manager and workers share.
const SECRET: &str = "multinode-secret-7d2a";
/// The port nginx publishes on its node (host mode).
const NGINX_PORT: u16 = 8080;
/// The nginx test image.
const NGINX_IMAGE: &str = "pygen-test-nginx";
/// How often the test polls the rendered file and nginx's page while timing.
const FAST_POLL: Duration = Duration::from_millis(10);
/// How often the test polls otherwise.
const POLL: Duration = Duration::from_millis(250);

/// The template the manager renders: an upstream of the backend's running tasks and a page
/// listing them (with the node each runs on) and the backend's `version` label.
const TEMPLATE: &str = r#"# rendered by pygen on the manager node
upstream backend {
{% for s in services.matching('backend') %}{% for t in s.tasks.with_status('running')|sort(attribute='id') %}    server {{ t.networks.first.ip_addresses.first }}:8080;
{% endfor %}{% endfor %}    server 127.0.0.1:9 backup;
}
server {
    listen 80;
    location = /tasks {
        default_type text/plain;
        return 200 "{% for s in services.matching('backend') %}version={{ s.labels.version }}{% for t in s.tasks.with_status('running')|sort(attribute='id') %} {{ t.id }}@{{ t.node_id }}{% endfor %}{% endfor %}\n";
    }
}
"#;

/// What nginx's page says: the backend's `version` label and its running tasks (task id, node
/// id).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    /// The backend's `version` label.
    version: String,
    /// `(task id, node id)` of each running task.
    tasks: Vec<(String, String)>,
}

impl Page {
    /// Parses the page (or the `return 200` line of the rendered file).
    fn parse(text: &str) -> Option<Page> {
        let mut words = text.split_whitespace();
        let version = words.next()?.strip_prefix("version=")?.to_owned();
        let tasks = words
            .map(|w| {
                let (task, node) = w.split_once('@')?;
                Some((task.to_owned(), node.to_owned()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Page { version, tasks })
    }

    /// The nodes running a task.
    fn nodes(&self) -> BTreeSet<&str> {
        self.tasks.iter().map(|(_, n)| n.as_str()).collect()
    }
}

/// The stack deployed on the cluster, and how the test looks at it.
struct Stack<'a> {
    /// The cluster.
    cluster: &'a Cluster,
    /// The stack name (prefix of its services).
    name: String,
}

impl Stack<'_> {
    /// Deploys the stack from the manager node.
    fn deploy<'a>(cluster: &'a Cluster, image: &str) -> Stack<'a> {
        let name = "pygen".to_owned();
        let shared = cluster.shared_dir();
        std::fs::create_dir_all(shared.join("conf")).expect("create the nginx config folder");
        std::fs::write(shared.join("nginx.tmpl"), TEMPLATE).expect("write the template");
        let dir = cluster.host_dir();
        std::fs::write(dir.join("secret.txt"), format!("{SECRET}\n")).expect("write the secret");
        let sleeper = [
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 1 & wait; done",
        ];
        let compose = serde_json::json!({
            "version": "3.8",
            "services": {
                "manager": {
                    "image": image,
                    "command": [
                        "--template", format!("{SHARED_DIR}/nginx.tmpl"),
                        "--target", format!("{SHARED_DIR}/conf/default.conf"),
                        "--signal", format!("{name}_nginx"), "HUP",
                        "--restart", format!("{name}_reloader"),
                        "--interval", "0",
                        "--swarm-manager",
                        "--workers", format!("tasks.{name}_worker"),
                        "--retries", "20",
                        "--swarm-secret-file", "/run/secrets/pygen_secret",
                        // The test reads which worker asked for an update from the manager's
                        // log: a debug line (one per forwarded event).
                        "--debug",
                    ],
                    "volumes": [
                        format!("{SHARED_DIR}:{SHARED_DIR}"),
                        "/var/run/docker.sock:/var/run/docker.sock:ro",
                    ],
                    "secrets": ["pygen_secret"],
                    // Swarm's virtual IPs need IPVS in the kernel, which not every test
                    // machine has: the workers reach the manager's task address directly.
                    "deploy": {
                        "endpoint_mode": "dnsrr",
                        "placement": {"constraints": ["node.role == manager"]},
                    },
                },
                "worker": {
                    "image": image,
                    "command": [
                        "worker",
                        "--manager", format!("{name}_manager"),
                        "--retries", "3",
                        "--swarm-secret-file", "/run/secrets/pygen_secret",
                    ],
                    "read_only": true,
                    "volumes": ["/var/run/docker.sock:/var/run/docker.sock:ro"],
                    "secrets": ["pygen_secret"],
                    "deploy": {"mode": "global"},
                },
                "nginx": {
                    "image": NGINX_IMAGE,
                    "volumes": [format!("{SHARED_DIR}/conf:/etc/nginx/conf.d:ro")],
                    "ports": [{"target": 80, "published": NGINX_PORT, "protocol": "tcp", "mode": "host"}],
                    "deploy": {"placement": {"constraints": [
                        format!("node.hostname == {}", cluster.node(1).hostname())
                    ]}},
                },
                "backend": {
                    "image": TEST_IMAGE,
                    "command": sleeper,
                    "deploy": {
                        "replicas": 1,
                        "labels": {"version": "1"},
                        "placement": {"max_replicas_per_node": 1},
                    },
                },
                "reloader": {
                    "image": TEST_IMAGE,
                    "command": sleeper,
                    "deploy": {"mode": "global"},
                },
            },
            "networks": {"default": {"driver": "overlay", "attachable": true}},
            "secrets": {"pygen_secret": {"file": "./secret.txt"}},
        });
        let file = dir.join("stack.json");
        std::fs::write(&file, compose.to_string()).expect("write the compose file");
        let out = cluster
            .manager()
            .command()
            .current_dir(dir)
            .args(["stack", "deploy", "--resolve-image", "never", "-c"])
            .arg(&file)
            .arg(&name)
            .output()
            .expect("run docker stack deploy");
        assert!(
            out.status.success(),
            "docker stack deploy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Stack { cluster, name }
    }

    /// The full name of the stack's service `service`.
    fn service(&self, service: &str) -> String {
        format!("{}_{service}", self.name)
    }

    /// The stack's network.
    fn network(&self) -> String {
        format!("{}_default", self.name)
    }

    /// The containers of `service` on `node` (running only, or all), newest first.
    fn containers(&self, node: &Node, service: &str, all: bool) -> Vec<String> {
        let filter = format!(
            "label=com.docker.swarm.service.name={}",
            self.service(service)
        );
        let mut args = vec!["ps", "-q", "--no-trunc", "--filter", filter.as_str()];
        if all {
            args.push("-a");
        }
        let out = node.docker(&args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The logs of every container (also exited ones) of `service` on `node`, oldest first.
    fn logs(&self, node: &Node, service: &str) -> String {
        let mut lines: Vec<String> = Vec::new();
        for id in self.containers(node, service, true) {
            lines.extend(container_logs(node, &id).lines().map(str::to_owned));
        }
        lines.sort();
        lines.join("\n")
    }

    /// The rendered file, as the manager wrote it.
    fn rendered(&self) -> String {
        std::fs::read_to_string(self.rendered_path()).unwrap_or_default()
    }

    /// Where the rendered file is seen from the host.
    fn rendered_path(&self) -> PathBuf {
        self.cluster.shared_dir().join("conf/default.conf")
    }

    /// The page of the rendered file (what nginx will serve once it reloads).
    fn rendered_page(&self) -> Option<Page> {
        let text = self.rendered();
        let line = text.lines().find(|l| l.contains("return 200"))?;
        let quoted = line.split('"').nth(1)?.trim_end_matches("\\n");
        Page::parse(quoted)
    }

    /// nginx's page on the second node, if it serves one.
    fn page(&self) -> Option<Page> {
        let addr = format!("{}:{NGINX_PORT}", self.cluster.node(1).ip());
        let mut stream =
            TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream
            .write_all(b"GET /tasks HTTP/1.0\r\nHost: nginx\r\n\r\n")
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200")
            .then(|| Page::parse(body))?
    }

    /// How many times node 2's worker signalled an nginx container (nginx logs its reloads
    /// only at the `notice` level, below the test image's).
    fn nginx_signals(&self) -> usize {
        let nginx = format!("container={}.", self.service("nginx"));
        self.logs(self.cluster.node(1), "worker")
            .lines()
            .filter(|l| l.contains("signalled container") && l.contains(&nginx))
            .count()
    }

    /// The address of `service`'s running task on `node` on the stack's network.
    fn task_ip(&self, node: &Node, service: &str) -> String {
        let id = self
            .containers(node, service, false)
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                panic!(
                    "no {service} task runs on {}\n{}",
                    node.hostname(),
                    self.context()
                )
            });
        node.docker_ok([
            "inspect",
            "--format",
            &format!(
                "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
                self.network()
            ),
            id.as_str(),
        ])
    }

    /// What the test saw, for failure messages: the services' tasks, the rendered file, the
    /// manager's and the workers' logs (their ends).
    fn context(&self) -> String {
        let manager = self.cluster.manager();
        let tail = |text: String| -> String {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        let mut text = format!(
            "nodes:\n{}\ntasks:\n{}\nrendered:\n{}\nmanager log:\n{}\n",
            String::from_utf8_lossy(&manager.docker(["node", "ls"]).stdout),
            String::from_utf8_lossy(
                &manager
                    .docker([
                        "stack",
                        "ps",
                        "--no-trunc",
                        "--format",
                        "{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}",
                        &self.name
                    ])
                    .stdout
            ),
            self.rendered(),
            tail(self.logs(manager, "manager")),
        );
        for node in self.cluster.nodes() {
            text.push_str(&format!(
                "worker log on {}:\n{}\n",
                node.hostname(),
                tail(self.logs(node, "worker"))
            ));
        }
        text
    }

    /// The running tasks of `service`: `(task id, node id)`.
    fn running_tasks(&self, service: &str) -> Vec<(String, String)> {
        let out = self.cluster.manager().docker([
            "service",
            "ps",
            "--no-trunc",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.ID}} {{.Node}} {{.CurrentState}}",
            &self.service(service),
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("Running"))
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect()
    }

    /// The `ForceUpdate` counter of `service`.
    fn force_update(&self, service: &str) -> u64 {
        self.cluster
            .manager()
            .docker_ok([
                "service",
                "inspect",
                "--format",
                "{{.Spec.TaskTemplate.ForceUpdate}}",
                &self.service(service),
            ])
            .parse()
            .unwrap_or(0)
    }
}

/// The log of container `id` on `node`, stdout and stderr merged in time order (each line
/// starts with the daemon's timestamp).
fn container_logs(node: &Node, id: &str) -> String {
    let out = node.docker(["logs", "--timestamps", id]);
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines.join("\n")
}

/// Seconds (with milliseconds) between two instants, for the printed figures.
fn secs(from: Instant, to: Instant) -> f64 {
    to.duration_since(from).as_secs_f64()
}

/// The container names in the "signalled container" lines of a worker's log.
fn signalled_containers(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("signalled container"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("container="))
                .map(|n| n.trim_matches('"').trim_start_matches('/').to_owned())
        })
        .collect()
}

/// The authentication headers of the README's wire format signed with `secret`.
fn signed_headers(secret: &str, nonce: &str, body: &str) -> String {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let message = format!("pygen-swarm-v1\nPOST\n/\n{timestamp}\n{nonce}\n{body}");
    let tag = ring::hmac::sign(&key, message.as_bytes());
    let signature: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "X-Pygen-Timestamp: {timestamp}\r\nX-Pygen-Nonce: {nonce}\r\nX-Pygen-Signature: {signature}\r\n"
    )
}

/// A raw HTTP request to a worker.
fn request(headers: &str, body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: worker\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
#[ignore = "builds a Swarm of three nested Docker daemons (minutes); scripts/test.sh runs it"]
fn a_multi_node_swarm_signals_restarts_survives_node_loss_and_refuses_forgeries() {
    require_docker();
    let image = pygen_image();
    let cluster = Cluster::start(2, &[image.as_str(), TEST_IMAGE, NGINX_IMAGE]);
    let stack = Stack::deploy(&cluster, &image);
    let manager = cluster.manager();
    let (node2, node3) = (cluster.node(1), cluster.node(2));
    let node_ids: Vec<String> = cluster.nodes().iter().map(Node::node_id).collect();

    // The first render reaches nginx on node 2.
    let first = wait_until(SETTLE, POLL, || {
        stack.page().is_some_and(|p| p.tasks.len() == 1)
    });
    assert!(
        first,
        "nginx on node 2 never served the rendered page\n{}",
        stack.context()
    );
    // A worker runs on every node before the changes.
    let workers_up = wait_until(SETTLE, POLL, || {
        cluster
            .nodes()
            .iter()
            .all(|n| !stack.containers(n, "worker", false).is_empty())
    });
    assert!(
        workers_up,
        "the worker service does not run on every node\n{}",
        stack.context()
    );

    // --- Cross-node signal: the backend scales from 1 to 3 tasks, one per node; the file the
    // manager renders on node 1 changes, and nginx on node 2 reloads through node 2's worker.
    let reloader_force = stack.force_update("reloader");
    let reloader_before: BTreeSet<String> = stack
        .running_tasks("reloader")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let hups_before = stack.nginx_signals();
    let rendered_before = stack.rendered();
    let page_before = stack.page();
    manager.docker_ok([
        "service",
        "scale",
        "--detach",
        &format!("{}=3", stack.service("backend")),
    ]);
    let (mut file_changed, mut page_changed) = (None, None);
    let spread = wait_until(SETTLE, FAST_POLL, || {
        let now = Instant::now();
        if file_changed.is_none() && stack.rendered() != rendered_before {
            file_changed = Some(now);
        }
        let page = stack.page();
        if page_changed.is_none() && page.is_some() && page != page_before {
            page_changed = Some(now);
        }
        page.is_some_and(|p| p.tasks.len() == 3 && p.nodes().len() == 3)
    });
    assert!(
        spread,
        "nginx did not serve the 3 backend tasks on 3 nodes\n{}",
        stack.context()
    );
    if let (Some(file), Some(page)) = (file_changed, page_changed) {
        println!(
            "cross-node signal: rendered file changed on node 1 -> nginx on node 2 serving it: {:.3} s",
            secs(file, page)
        );
    }
    assert!(
        stack.nginx_signals() > hups_before,
        "node 2's worker did not signal nginx\n{}",
        stack.context()
    );
    // Every worker got the signal action; only node 2's worker signalled, and every worker
    // signalled containers of its own node only.
    let nginx_names = node2.docker_ok([
        "ps",
        "-a",
        "--format",
        "{{.Names}}",
        "--filter",
        &format!(
            "label=com.docker.swarm.service.name={}",
            stack.service("nginx")
        ),
    ]);
    for (index, node) in cluster.nodes().iter().enumerate() {
        let log = stack.logs(node, "worker");
        assert!(
            log.contains("action received"),
            "the worker on {} received no action\n{}",
            node.hostname(),
            stack.context()
        );
        let local = node.docker_ok(["ps", "-a", "--format", "{{.Names}}"]);
        let signalled = signalled_containers(&log);
        for name in &signalled {
            assert!(
                local.lines().any(|l| l == name),
                "the worker on {} signalled {name}, not a container of its node\n{}",
                node.hostname(),
                stack.context()
            );
        }
        let signalled_nginx = signalled
            .iter()
            .any(|n| nginx_names.lines().any(|l| l == n));
        assert_eq!(
            signalled_nginx,
            index == 1,
            "nginx signalled by the worker on {}: {signalled:?}\n{}",
            node.hostname(),
            stack.context()
        );
    }

    // --- Restart by service: the change force-updated the reloader from the manager, and
    // Swarm replaced its task on every node.
    let replaced = wait_until(SETTLE, POLL, || {
        let tasks = stack.running_tasks("reloader");
        let nodes: BTreeSet<&str> = tasks.iter().map(|(_, n)| n.as_str()).collect();
        tasks.len() == 3
            && nodes.len() == 3
            && tasks.iter().all(|(id, _)| !reloader_before.contains(id))
    });
    assert!(
        stack.force_update("reloader") > reloader_force,
        "the reloader was not force-updated\n{}",
        stack.context()
    );
    assert!(
        replaced,
        "the reloader's tasks were not replaced on every node\n{}",
        stack.context()
    );

    // --- Node loss: node 3 is cut off. A change right away goes to every worker: node 2 is
    // served while the attempts toward node 3's worker go on, and those stop at their deadline.
    let settled = wait_until(SETTLE, POLL, || {
        stack.rendered_page() == stack.page() && stack.page().is_some()
    });
    assert!(
        settled,
        "nginx did not catch up with the rendered file\n{}",
        stack.context()
    );
    let node3_id = &node_ids[2];
    let node3_worker_ip = stack.task_ip(node3, "worker");
    let giving_up = |log: &str| {
        log.lines()
            .any(|l| l.contains("giving up") && l.contains(&format!("{node3_worker_ip}:")))
    };
    let cut = Instant::now();
    node3.cut_off();
    manager.docker_ok([
        "service",
        "update",
        "--detach",
        "--label-add",
        "version=2",
        &stack.service("backend"),
    ]);
    let mut gave_up_first = false;
    let served = wait_until(SETTLE, FAST_POLL, || {
        let ok = stack.page().is_some_and(|p| p.version == "2");
        if ok {
            gave_up_first = giving_up(&stack.logs(manager, "manager"));
        }
        ok
    });
    let served_at = Instant::now();
    assert!(
        served,
        "nginx on node 2 did not get the change while node 3 was cut off\n{}",
        stack.context()
    );
    println!(
        "node loss: a change reached nginx on node 2 {:.3} s after node 3 was cut off",
        secs(cut, served_at)
    );
    assert!(
        !gave_up_first,
        "node 2 was served only after the delivery to node 3's worker gave up\n{}",
        stack.context()
    );
    // Then, in any order: the attempts toward node 3's worker stop at their deadline, Swarm
    // marks node 3 down, and the render (and nginx's page) drops node 3's tasks.
    let (mut gave_up_at, mut down_at, mut rendered_at, mut dropped_at) = (None, None, None, None);
    let recovered = wait_until(SETTLE, POLL, || {
        let now = Instant::now();
        if gave_up_at.is_none() && giving_up(&stack.logs(manager, "manager")) {
            gave_up_at = Some(now);
        }
        if down_at.is_none() && cluster.node_state(node3.hostname()) == "down" {
            down_at = Some(now);
        }
        let without_node3 =
            |p: Option<Page>| p.is_some_and(|p| !p.nodes().contains(node3_id.as_str()));
        if rendered_at.is_none() && without_node3(stack.rendered_page()) {
            rendered_at = Some(now);
        }
        if dropped_at.is_none() && rendered_at.is_some() && without_node3(stack.page()) {
            dropped_at = Some(now);
        }
        gave_up_at.is_some() && down_at.is_some() && dropped_at.is_some()
    });
    let figure =
        |at: Option<Instant>| at.map_or("never".to_owned(), |at| format!("{:.1} s", secs(cut, at)));
    println!(
        "node loss, after the cut: the delivery to node 3's worker gave up at {}, Swarm marked node 3 down at {}, the render dropped node 3's tasks at {}, nginx's page on node 2 at {}",
        figure(gave_up_at),
        figure(down_at),
        figure(rendered_at),
        figure(dropped_at)
    );
    assert!(
        recovered,
        "after the cut: gave up {gave_up_at:?}, node down {down_at:?}, tasks dropped {dropped_at:?}\n{}",
        stack.context()
    );
    // Node 3 comes back: Swarm places the backend's third task there again, the render lists
    // it, and node 3's worker is served again.
    let rejoin = Instant::now();
    node3.reconnect();
    let ready = wait_until(SETTLE, POLL, || {
        cluster.node_state(node3.hostname()) == "ready"
    });
    assert!(ready, "node 3 did not come back\n{}", stack.context());
    let ready_at = Instant::now();
    let back = wait_until(SETTLE, POLL, || {
        stack
            .page()
            .is_some_and(|p| p.nodes().contains(node3_id.as_str()))
    });
    assert!(
        back,
        "node 3's task did not come back to the render\n{}",
        stack.context()
    );
    let back_at = Instant::now();
    // A change once node 3's worker runs again: the action reaches it.
    let worker_back = wait_until(SETTLE, POLL, || {
        !stack.containers(node3, "worker", false).is_empty()
    });
    assert!(
        worker_back,
        "no worker runs on node 3 after it came back\n{}",
        stack.context()
    );
    let settled = wait_until(SETTLE, POLL, || {
        stack.rendered_page() == stack.page() && stack.page().is_some()
    });
    assert!(
        settled,
        "nginx did not catch up with the rendered file\n{}",
        stack.context()
    );
    let node3_actions = stack
        .logs(node3, "worker")
        .matches("action received")
        .count();
    manager.docker_ok([
        "service",
        "update",
        "--detach",
        "--label-add",
        "version=3",
        &stack.service("backend"),
    ]);
    let served_again = wait_until(SETTLE, POLL, || {
        stack.page().is_some_and(|p| p.version == "3")
            && stack
                .logs(node3, "worker")
                .matches("action received")
                .count()
                > node3_actions
    });
    assert!(
        served_again,
        "node 3's worker received no action after it came back\n{}",
        stack.context()
    );
    println!(
        "node return, after reconnecting: node 3 ready at {:.1} s, its task in nginx's page at {:.1} s, a later change reached its worker at {:.1} s",
        secs(rejoin, ready_at),
        secs(rejoin, back_at),
        secs(rejoin, Instant::now())
    );

    // --- Manager restart: the manager's task is killed and the backend scales down meanwhile;
    // Swarm starts a new manager task, which renders the change, and the workers reach it.
    let old_manager = stack
        .containers(manager, "manager", false)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no manager task runs on node 1\n{}", stack.context()));
    let killed = Instant::now();
    manager.docker_ok(["kill", old_manager.as_str()]);
    manager.docker_ok([
        "service",
        "scale",
        "--detach",
        &format!("{}=2", stack.service("backend")),
    ]);
    let restarted = wait_until(SETTLE, POLL, || {
        stack
            .containers(manager, "manager", false)
            .first()
            .is_some_and(|id| *id != old_manager)
    });
    assert!(
        restarted,
        "Swarm did not start a new manager task\n{}",
        stack.context()
    );
    let rendered = wait_until(SETTLE, POLL, || {
        stack.page().is_some_and(|p| p.tasks.len() == 2)
    });
    assert!(
        rendered,
        "the new manager's render did not reach nginx\n{}",
        stack.context()
    );
    println!(
        "manager restart: the change made while it was down reached nginx {:.1} s after the kill",
        secs(killed, Instant::now())
    );
    let new_manager = stack.containers(manager, "manager", false)[0].clone();
    let manager_log = || container_logs(manager, &new_manager);
    let node3_worker_ip = stack.task_ip(node3, "worker");
    node3.docker_ok(["run", "--rm", TEST_IMAGE, "true"]);
    let reached = wait_until(SETTLE, POLL, || {
        manager_log().lines().any(|l| {
            l.contains("update requested by a worker")
                && l.contains(&format!("client={node3_worker_ip}"))
        })
    });
    assert!(
        reached,
        "node 3's worker did not reach the new manager\n{}",
        stack.context()
    );

    // --- Security across nodes: from a container on node 3, requests to node 2's worker
    // without the secret (no signature, another secret, a replay) run nothing.
    let settled = wait_until(SETTLE, POLL, || {
        stack.rendered_page() == stack.page() && stack.page().is_some()
    });
    assert!(
        settled,
        "nginx did not catch up with the rendered file\n{}",
        stack.context()
    );
    let node2_worker_ip = stack.task_ip(node2, "worker");
    let nginx_container = stack.containers(node2, "nginx", false);
    let refused_before = stack.logs(node2, "worker").matches("refused").count();
    let hups_before = stack.nginx_signals();
    let signal = format!(
        "{{\"action\": \"signal\", \"args\": [\"{}\", \"HUP\"]}}",
        stack.service("nginx")
    );
    let restart = format!(
        "{{\"action\": \"restart\", \"args\": [\"{}\"]}}",
        stack.service("nginx")
    );
    let replayed = request(
        &signed_headers(SECRET, "0123456789abcdef0123456789abcdef", &signal),
        &signal,
    );
    let requests = [
        request("", &signal),
        request("", &restart),
        request(
            &signed_headers(
                "not-the-secret",
                "fedcba9876543210fedcba9876543210",
                &signal,
            ),
            &signal,
        ),
        replayed.clone(),
        replayed,
    ];
    // One container on node 3 sends them, one connection each: stdin stays open until the
    // worker has answered and closed the connection.
    let forger = format!("{}-forger", stack.name);
    node3.docker_ok([
        "run",
        "-d",
        "--name",
        forger.as_str(),
        "--network",
        stack.network().as_str(),
        TEST_IMAGE,
        "sleep",
        "600",
    ]);
    let send = |request: &String| -> String {
        let script =
            format!("(printf '%s' \"$REQUEST\"; sleep 5) | nc {node2_worker_ip} 9412 | head -n 1");
        let out = node3.docker([
            "exec",
            "-e",
            &format!("REQUEST={request}"),
            forger.as_str(),
            "sh",
            "-c",
            script.as_str(),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let answers: Vec<String> = requests.iter().map(send).collect();
    let statuses: Vec<u16> = answers
        .iter()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    assert_eq!(
        statuses.len(),
        5,
        "answers from node 2's worker:\n{answers:?}\n{}",
        stack.context()
    );
    for (what, status) in ["no signature", "no signature (restart)", "another secret"]
        .iter()
        .zip(&statuses)
    {
        assert_eq!(*status, 401, "{what}: {answers:?}\n{}", stack.context());
    }
    assert!(
        !(200..300).contains(&statuses[4]),
        "the replayed request was accepted: {answers:?}\n{}",
        stack.context()
    );
    // The first copy of the replayed request counts only if it was accepted (the signing
    // format is the README's; a stricter one refuses it too).
    let accepted = usize::from((200..300).contains(&statuses[3]));
    let refused = wait_until(Duration::from_secs(10), POLL, || {
        stack.logs(node2, "worker").matches("refused").count() >= refused_before + 5 - accepted
    });
    assert!(
        refused,
        "node 2's worker did not log the refusals\n{}",
        stack.context()
    );
    if accepted == 1 {
        let hup = wait_until(SETTLE, POLL, || stack.nginx_signals() > hups_before);
        assert!(
            hup,
            "the accepted request did not signal nginx\n{}",
            stack.context()
        );
    }
    let extra = wait_until(Duration::from_secs(5), POLL, || {
        stack.nginx_signals() > hups_before + accepted
    });
    assert!(
        !extra,
        "a refused request signalled nginx\n{}",
        stack.context()
    );
    assert_eq!(
        stack.containers(node2, "nginx", false),
        nginx_container,
        "a refused request restarted nginx\n{}",
        stack.context()
    );
}
