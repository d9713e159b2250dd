//! A real multi-node Swarm for the tests: Docker daemons running as containers of the host's
//! daemon, one Swarm manager and workers, removed again whatever the outcome.
//!
//! Each node is a container of `pygen-test-node` (built by `scripts/build-test-images.sh`: no
//! program of its own) running the host's `dockerd` from the host's `/usr`, mounted read-only.
//! The flags are those that work without `--privileged` (the capability `SYS_RESOURCE` is not
//! granted on every machine): every other capability, no seccomp or AppArmor profile, the
//! host's cgroup namespace and hierarchy, and an inner daemon with `--storage-driver vfs` and a
//! cgroup parent of its own (without one it would share the host daemon's cgroups). The nodes
//! share a user network of the host's daemon, which carries the Swarm's control traffic and its
//! overlay networks; images reach them with `docker save | docker load`.
//!
//! The test talks to each inner daemon directly: the daemon also listens on a socket in a
//! folder of the host ([`Node::docker`]). A second host folder is mounted at [`SHARED_DIR`] on
//! every node: it stands for the shared storage (NFS and the like) through which a file
//! rendered on one node reaches a container on another.
//!
//! [`Cluster`] removes its node containers (with their volumes), its network, the cgroup
//! folders of its inner daemons and its host folders when dropped, also after a failed test.
//! [`sweep`] removes what a killed test process left (containers and networks carry the
//! harness's labels; cgroup folders and host folders are named after the creator's pid).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{PID_LABEL, TEST_LABEL, docker, docker_ok, process_alive, unique_name, wait_until};

/// The node image, built by `scripts/build-test-images.sh`.
pub const NODE_IMAGE: &str = "pygen-test-node";

/// Where the shared host folder is mounted on every node.
pub const SHARED_DIR: &str = "/var/pygen";

/// The prefix of every cluster's name: its containers, network, cgroup parents and host
/// folders start with `<prefix>-<pid>-`.
const PREFIX: &str = "pygen-mn";

/// The root of the host's cgroup hierarchies (cgroup v1: one folder per controller; v2: one).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How long a node's daemon, the Swarm or a service may take to settle.
pub const SETTLE: Duration = Duration::from_secs(120);

/// The flags a node container needs besides its name, network and mounts.
const NODE_FLAGS: &[&str] = &[
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--cgroupns",
    "host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "-v",
    "/usr:/usr:ro",
    "-v",
    "/etc/alternatives:/etc/alternatives:ro",
];

/// One Docker daemon of the cluster.
#[derive(Debug)]
pub struct Node {
    /// The node container's name on the host's daemon.
    container: String,
    /// The node's hostname, which is also its Swarm node name.
    hostname: String,
    /// The node's address on the cluster network.
    ip: String,
    /// The inner daemon's socket, seen from the host.
    socket: PathBuf,
}

impl Node {
    /// The node container's name on the host's daemon.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The node's hostname (its Swarm node name; constraints use `node.hostname == ...`).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The node's address on the cluster network (reachable from the host).
    pub fn ip(&self) -> &str {
        &self.ip
    }

    /// The `docker` command line aimed at this node's daemon.
    pub fn command(&self) -> Command {
        let mut command = Command::new("docker");
        command
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .stdin(Stdio::null());
        command
    }

    /// Runs `docker` against this node's daemon.
    pub fn docker<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command()
            .args(args)
            .output()
            .expect("run the docker CLI")
    }

    /// Runs `docker` against this node's daemon and returns its stdout; panics on failure.
    pub fn docker_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.docker(&args);
        assert!(
            out.status.success(),
            "docker {args:?} on {} failed: {}",
            self.hostname,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The node's Swarm node id.
    pub fn node_id(&self) -> String {
        self.docker_ok(["info", "--format", "{{.Swarm.NodeID}}"])
    }

    /// Runs a command in the node container itself (not in one of its containers).
    fn exec(&self, args: &[&str]) -> Output {
        docker(
            ["exec", self.container.as_str()]
                .into_iter()
                .chain(args.iter().copied()),
        )
    }

    /// Cuts the node off the cluster network: its firewall drops everything in and out of its
    /// interface on that network (the Swarm's control traffic, the overlay networks' tunnels,
    /// published ports). The daemon and its containers keep running, as on a host whose
    /// network failed; [`Node::reconnect`] undoes it and the node keeps its address.
    pub fn cut_off(&self) {
        for rule in CUT_RULES {
            let mut args = vec!["iptables", "-I"];
            args.extend_from_slice(rule);
            let out = self.exec(&args);
            assert!(
                out.status.success(),
                "iptables {args:?} on {}: {}",
                self.hostname,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Undoes [`Node::cut_off`].
    pub fn reconnect(&self) {
        for rule in CUT_RULES {
            let mut args = vec!["iptables", "-D"];
            args.extend_from_slice(rule);
            let out = self.exec(&args);
            assert!(
                out.status.success(),
                "iptables {args:?} on {}: {}",
                self.hostname,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Loads `archive` (a `docker save` tar file) into the node's daemon.
    fn load(&self, archive: &Path) -> Result<(), String> {
        let out = self
            .command()
            .arg("load")
            .arg("--quiet")
            .arg("--input")
            .arg(archive)
            .output()
            .map_err(|e| format!("cannot run docker load: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "docker load on {}: {}",
                self.hostname,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// The firewall rules of a cut-off node (chain, then match and verdict); `eth0` is the node
/// container's only interface, on the cluster network.
const CUT_RULES: &[&[&str]] = &[
    &["INPUT", "-i", "eth0", "-j", "DROP"],
    &["OUTPUT", "-o", "eth0", "-j", "DROP"],
    &["FORWARD", "-i", "eth0", "-j", "DROP"],
    &["FORWARD", "-o", "eth0", "-j", "DROP"],
];

/// A Swarm of Docker daemons in containers of the host's daemon: node 0 is the manager, the
/// others are workers. Everything it made goes when it is dropped.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's name: prefix of its containers, network and cgroup parents.
    name: String,
    /// Host folders: one per node for its socket, and the shared one.
    dir: PathBuf,
    /// Whether the network was created (so the drop removes it).
    network: bool,
    /// The nodes started so far.
    nodes: Vec<Node>,
}

impl Cluster {
    /// Starts `workers + 1` nodes, makes node 0 the Swarm manager and the others its workers,
    /// and loads `images` (from the host's daemon) into every node. Panics with the cause when
    /// a step fails; what was made by then is removed.
    pub fn start(workers: usize, images: &[&str]) -> Cluster {
        sweep();
        let started = Instant::now();
        let name = unique_name(PREFIX);
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(dir.join("shared")).expect("create the cluster's host folder");
        let mut cluster = Cluster {
            name,
            dir,
            network: false,
            nodes: Vec::new(),
        };
        let dockerd = host_dockerd();
        docker_ok(
            ["network", "create"]
                .into_iter()
                .map(str::to_owned)
                .chain(cluster.labels())
                .chain([cluster.name.clone()]),
        );
        cluster.network = true;
        for index in 0..=workers {
            let node = cluster.run_node(index, &dockerd);
            cluster.nodes.push(node);
        }
        for node in &cluster.nodes {
            let up = wait_until(SETTLE, Duration::from_millis(250), || {
                node.docker(["info"]).status.success()
            });
            assert!(
                up,
                "the daemon of {} did not start:\n{}",
                node.hostname,
                cluster.node_log(node)
            );
        }
        cluster.load_images(images);
        let manager = &cluster.nodes[0];
        manager.docker_ok(["swarm", "init", "--advertise-addr", manager.ip.as_str()]);
        let token = manager.docker_ok(["swarm", "join-token", "-q", "worker"]);
        let address = format!("{}:2377", manager.ip);
        for node in &cluster.nodes[1..] {
            node.docker_ok(["swarm", "join", "--token", token.as_str(), address.as_str()]);
        }
        let ready = wait_until(SETTLE, Duration::from_millis(250), || {
            cluster.ready_nodes() == cluster.nodes.len()
        });
        assert!(
            ready,
            "the nodes did not all become ready:\n{}",
            manager.docker_ok(["node", "ls"])
        );
        eprintln!(
            "multi-node Swarm of {} nodes up in {:.1} s",
            cluster.nodes.len(),
            started.elapsed().as_secs_f64()
        );
        cluster
    }

    /// The harness labels of the cluster's objects on the host's daemon, as `--label` arguments.
    fn labels(&self) -> Vec<String> {
        vec![
            "--label".into(),
            format!("{TEST_LABEL}=1"),
            "--label".into(),
            format!("{PID_LABEL}={}", std::process::id()),
        ]
    }

    /// Starts node `index`'s container; does not wait for its daemon.
    fn run_node(&self, index: usize, dockerd: &str) -> Node {
        let container = format!("{}-n{index}", self.name);
        let hostname = format!("node-{}", index + 1);
        let sockets = self.dir.join(format!("node-{index}"));
        std::fs::create_dir_all(&sockets).expect("create a node's socket folder");
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            container.clone(),
            "--hostname".into(),
            hostname.clone(),
            "--network".into(),
            self.name.clone(),
            "--entrypoint".into(),
            dockerd.into(),
        ];
        args.extend(self.labels());
        args.extend(NODE_FLAGS.iter().map(|s| (*s).to_owned()));
        args.extend([
            "-v".into(),
            format!("{}:/hostsock", sockets.display()),
            "-v".into(),
            format!("{}:{SHARED_DIR}", self.dir.join("shared").display()),
            NODE_IMAGE.into(),
            "--storage-driver".into(),
            "vfs".into(),
            "--cgroup-parent".into(),
            format!("/{container}"),
            "-H".into(),
            "unix:///var/run/docker.sock".into(),
            "-H".into(),
            "unix:///hostsock/docker.sock".into(),
        ]);
        docker_ok(&args);
        let ip = docker_ok([
            "inspect",
            "--format",
            &format!(
                "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
                self.name
            ),
            container.as_str(),
        ]);
        Node {
            container,
            hostname,
            ip,
            socket: sockets.join("docker.sock"),
        }
    }

    /// The end of a node container's log (its daemon's), for failure messages.
    pub fn node_log(&self, node: &Node) -> String {
        let out = docker(["logs", "--tail", "40", node.container.as_str()]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Saves every image once from the host's daemon and loads it into every node, the nodes
    /// in parallel.
    fn load_images(&self, images: &[&str]) {
        if images.is_empty() {
            return;
        }
        let archive = self.dir.join("images.tar");
        let out = Command::new("docker")
            .arg("save")
            .arg("--output")
            .arg(&archive)
            .args(images)
            .stdin(Stdio::null())
            .output()
            .expect("run docker save");
        assert!(
            out.status.success(),
            "docker save {images:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .nodes
                .iter()
                .map(|node| scope.spawn(|| node.load(&archive)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("docker load panicked".into()))
                })
                .collect()
        });
        let _ = std::fs::remove_file(&archive);
        for result in results {
            if let Err(message) = result {
                panic!("cannot load the images into a node: {message}");
            }
        }
    }

    /// How many nodes the manager lists as ready.
    pub fn ready_nodes(&self) -> usize {
        let out = self
            .manager()
            .docker(["node", "ls", "--format", "{{.Status}}"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|s| s.trim() == "Ready")
            .count()
    }

    /// The Swarm state of the node `hostname` as the manager sees it (`ready`, `down`, ...).
    pub fn node_state(&self, hostname: &str) -> String {
        let out =
            self.manager()
                .docker(["node", "inspect", "--format", "{{.Status.State}}", hostname]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The manager node.
    pub fn manager(&self) -> &Node {
        &self.nodes[0]
    }

    /// Node `index` (0 is the manager).
    pub fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// Every node, the manager first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The host folder mounted at [`SHARED_DIR`] on every node.
    pub fn shared_dir(&self) -> PathBuf {
        self.dir.join("shared")
    }

    /// A folder of the host for the test's own files (compose file, secret), removed with the
    /// cluster.
    pub fn host_dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        remove_cluster(&self.name, &self.dir, self.network);
    }
}

/// Removes the containers (and their volumes), the network, the cgroup folders and the host
/// folder of the cluster `name`.
fn remove_cluster(name: &str, dir: &Path, network: bool) {
    let containers = docker_ok(["ps", "-aq", "--filter", &format!("name=^{name}-n")]);
    if !containers.is_empty() {
        docker(
            ["rm", "-f", "-v"]
                .into_iter()
                .chain(containers.split_whitespace()),
        );
    }
    if network {
        docker(["network", "rm", name]);
    }
    // The inner daemons' containers ran in the node containers' pid namespaces: they are gone
    // with them, and their cgroups empty soon after.
    wait_until(Duration::from_secs(20), Duration::from_millis(200), || {
        remove_cgroups(|folder| folder.starts_with(name))
    });
    // The inner daemons wrote their files as root through the node's mounts.
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes the cluster cgroup folders whose name `doomed` accepts, and everything below them, in
/// every hierarchy (cgroup v1: one per controller under the root; v2: the root itself); returns
/// whether none is left.
fn remove_cgroups(doomed: impl Fn(&str) -> bool) -> bool {
    let subfolders = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect()
    };
    let is_doomed = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy())
            .is_some_and(|n| n.starts_with(PREFIX) && doomed(&n))
    };
    let root = Path::new(CGROUP_ROOT);
    let mut clean = true;
    for hierarchy in std::iter::once(root.to_path_buf()).chain(subfolders(root)) {
        for top in subfolders(&hierarchy).into_iter().filter(|p| is_doomed(p)) {
            clean &= remove_cgroup_tree(&top);
        }
    }
    clean
}

/// Removes a cgroup folder and its children, deepest first (a cgroup folder goes with
/// `rmdir` once it has no children and no processes); returns whether it is gone.
fn remove_cgroup_tree(dir: &Path) -> bool {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
    !dir.exists()
}

/// The pid in a cluster object's name (`<prefix>-<pid>-...`).
fn creator_pid(name: &str) -> Option<&str> {
    name.strip_prefix(PREFIX)?
        .strip_prefix('-')?
        .split('-')
        .next()
}

/// Removes what clusters of test processes that are gone left behind: node containers and
/// networks (by the harness's labels and the cluster prefix), cgroup folders and host folders
/// (by the pid in their names). Clusters of running processes are left alone.
pub fn sweep() {
    let dead = |name: &str| creator_pid(name).is_some_and(|pid| !process_alive(pid));
    let containers: Vec<String> = {
        let out = docker([
            "ps",
            "-a",
            "--filter",
            &format!("label={TEST_LABEL}=1"),
            "--filter",
            &format!("name={PREFIX}-"),
            "--format",
            "{{.Names}}",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|n| dead(n))
            .map(str::to_owned)
            .collect()
    };
    if !containers.is_empty() {
        docker(
            ["rm", "-f", "-v"]
                .into_iter()
                .chain(containers.iter().map(String::as_str)),
        );
    }
    let networks = docker([
        "network",
        "ls",
        "--filter",
        &format!("label={TEST_LABEL}=1"),
        "--filter",
        &format!("name={PREFIX}-"),
        "--format",
        "{{.Name}}",
    ]);
    for network in String::from_utf8_lossy(&networks.stdout).lines() {
        if dead(network) {
            docker(["network", "rm", network]);
        }
    }
    remove_cgroups(dead);
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if dead(&name) && entry.path().is_dir() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// The host's `dockerd` (the nodes run it from the host's `/usr`).
fn host_dockerd() -> String {
    ["/usr/sbin/dockerd", "/usr/bin/dockerd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!(
                "the multi-node tests run the host's dockerd from /usr: install docker.io \
                 (Debian's package puts it at /usr/sbin/dockerd)"
            )
        })
}
