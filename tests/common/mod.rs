//! The integration-test harness shared by every file in `tests/`: a real Docker daemon, real
//! containers and a real `pygen` process, no mocks.
//!
//! - Docker: [`require_docker`] first; [`TestContainer`] and [`TestNetwork`] are guards that
//!   remove their object on drop (also when the test panics). Every object gets the labels
//!   `pygen.test=1` and `pygen.test.pid=<pid of the test process>`; [`cleanup_all`] removes those
//!   left behind by test processes that are gone.
//! - pygen: [`pygen_bin`], [`run_pygen`] (run to completion) and [`PygenProcess`] (a guard on a
//!   background process whose output goes to files that can be read while it runs).
//! - Waiting: [`wait_until`], [`wait_for_file_containing`]. Tests wait for a condition, never
//!   for a fixed time.
//! - Networking: [`free_port`], and [`UnixProxy`], a socket in front of the daemon's that a test
//!   can cut and restore to take the daemon away from pygen, and that records the requests it
//!   forwards.
//! - Swarm: the [`swarm`] submodule (a single-node Swarm left as found, service guards, pygen's
//!   own test image); the [`multinode`] submodule (a Swarm of several Docker daemons run as
//!   containers of the host's daemon).
//! - TLS: the [`tls`] submodule (a CA, server and client certificates made by `openssl`).
//!
//! The `docker` command line is used through [`std::process::Command`]: what a test does is then
//! what a person would type. Each test file uses a part of this module only, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub mod multinode;
pub mod swarm;
pub mod tls;
pub mod watcher;

/// The image tests run unless they ask for another; built by `scripts/build-test-images.sh`.
pub const TEST_IMAGE: &str = "pygen-test-busybox";

/// Label put on every object a test creates, so leftovers can be found.
pub const TEST_LABEL: &str = "pygen.test";

/// Label holding the pid of the test process that created an object: [`cleanup_all`] removes
/// only objects whose creator is gone, so tests running at the same time are left alone.
pub const PID_LABEL: &str = "pygen.test.pid";

/// The daemon's socket the harness talks to (`DOCKER_HOST` when it is a `unix://` address).
pub fn docker_socket_path() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

// ---------------------------------------------------------------------------------------------
// The docker command line
// ---------------------------------------------------------------------------------------------

/// Runs `docker ARGS` and returns its output, whatever its exit status.
pub fn docker<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    Command::new("docker")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `docker {args:?}`: {e} (is the docker CLI installed?)")
        })
}

/// Runs `docker ARGS`, panics with its stderr when it fails, and returns its trimmed stdout.
pub fn docker_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = docker(&args);
    if !out.status.success() {
        panic!(
            "`docker {}` failed ({}): {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `docker inspect OBJECT` as JSON (the first and only element of the array), or `None` when
/// the object does not exist.
pub fn try_inspect(object: &str) -> Option<serde_json::Value> {
    let out = docker(["inspect", "--", object]);
    if !out.status.success() {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("docker inspect {object} printed invalid JSON: {e}"));
    Some(
        value
            .get_mut(0)
            .map(serde_json::Value::take)
            .unwrap_or_default(),
    )
}

/// `docker inspect OBJECT` as JSON; panics when the object does not exist.
pub fn inspect(object: &str) -> serde_json::Value {
    try_inspect(object).unwrap_or_else(|| panic!("docker inspect {object}: no such object"))
}

/// Checks once per test process that the daemon answers and the test image exists, and removes
/// the leftovers of earlier test processes ([`cleanup_all`]). Panics with what to do otherwise.
/// Call it first in every test that needs Docker.
pub fn require_docker() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECK.get_or_init(|| {
        let version = Command::new("docker")
            .args(["version", "--format", "{{.Server.APIVersion}}"])
            .stdin(Stdio::null())
            .output();
        match version {
            Err(e) => {
                return Err(format!(
                    "cannot run the docker CLI: {e}. Install docker.io."
                ));
            }
            Ok(out) if !out.status.success() => {
                return Err(format!(
                    "the Docker daemon does not answer: {}\n\
                     Start one (as root: `dockerd > /tmp/dockerd.log 2>&1 &`, or \
                     `systemctl start docker`); `.ci/run` does this on CI.",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(_) => {}
        }
        if !docker(["image", "inspect", TEST_IMAGE]).status.success() {
            return Err(format!(
                "the test image {TEST_IMAGE} is missing: run scripts/build-test-images.sh \
                 (scripts/test.sh does it before cargo test)"
            ));
        }
        cleanup_all();
        Ok(())
    });
    if let Err(message) = result {
        panic!("integration tests need Docker: {message}");
    }
}

/// A name no other object of this or another test process has: `PREFIX-PID-COUNTER-RANDOM`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded randomly per process: enough to tell apart runs whose pids repeat.
    let random = RandomState::new().hash_one((n, Instant::now())) & 0xff_ffff;
    format!("{prefix}-{}-{n}-{random:06x}", std::process::id())
}

/// The `--label` arguments every object created by this process carries.
fn ownership_labels() -> [String; 4] {
    [
        "--label".into(),
        format!("{TEST_LABEL}=1"),
        "--label".into(),
        format!("{PID_LABEL}={}", std::process::id()),
    ]
}

/// Whether the test process `pid` (from a [`PID_LABEL`]) still runs.
fn process_alive(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// Removes the containers and networks labelled [`TEST_LABEL`] whose creating test process is
/// gone (a crashed or killed test run), and the Swarm services, stacks and secrets likewise
/// ([`swarm::cleanup_dead`]). Objects of running test processes are left alone.
pub fn cleanup_all() {
    swarm::cleanup_dead();
    let containers = docker_ok([
        "ps",
        "-a",
        "--filter",
        &format!("label={TEST_LABEL}=1"),
        "--format",
        &format!("{{{{.ID}}}} {{{{.Label \"{PID_LABEL}\"}}}}"),
    ]);
    let dead: Vec<&str> = containers
        .lines()
        .filter_map(|line| {
            let (id, pid) = line.split_once(' ').unwrap_or((line, ""));
            (!process_alive(pid)).then_some(id)
        })
        .collect();
    if !dead.is_empty() {
        docker(["rm", "-f", "-v"].into_iter().chain(dead));
    }
    let networks = docker_ok([
        "network",
        "ls",
        "--filter",
        &format!("label={TEST_LABEL}=1"),
        "--format",
        &format!("{{{{.ID}}}} {{{{.Label \"{PID_LABEL}\"}}}}"),
    ]);
    for line in networks.lines() {
        let (id, pid) = line.split_once(' ').unwrap_or((line, ""));
        if !process_alive(pid) {
            remove_network(id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Containers and networks
// ---------------------------------------------------------------------------------------------

/// Options of a container to start; [`TestContainerBuilder::start`] gives the guard.
#[derive(Debug, Clone)]
pub struct TestContainerBuilder {
    /// Image to run; [`TEST_IMAGE`] by default.
    image: String,
    /// Container name; a [`unique_name`] by default.
    name: Option<String>,
    /// Labels besides the harness's own.
    labels: Vec<(String, String)>,
    /// Environment variables.
    env: Vec<(String, String)>,
    /// Ports exposed but not published (`80`, `53/udp`).
    expose: Vec<String>,
    /// `docker run --publish` specs (`127.0.0.1:8080:80`).
    publish: Vec<String>,
    /// Networks to join, the first at creation, the others before the start.
    networks: Vec<String>,
    /// Health-check command, run by the image's shell.
    health_cmd: Option<String>,
    /// Interval of the health check.
    health_interval: Option<Duration>,
    /// Command and arguments; a shell that sleeps and exits at once on SIGTERM by default.
    command: Option<Vec<String>>,
    /// Any other `docker create` arguments, placed before the image.
    extra_args: Vec<String>,
}

/// A running container, removed (forcefully, with its volumes) when dropped.
#[derive(Debug)]
pub struct TestContainer {
    /// Full container ID.
    id: String,
    /// Container name, without the leading `/`.
    name: String,
    /// Set by [`TestContainer::remove`] so that drop does not try again.
    removed: bool,
}

impl Default for TestContainerBuilder {
    fn default() -> Self {
        Self {
            image: TEST_IMAGE.to_owned(),
            name: None,
            labels: Vec::new(),
            env: Vec::new(),
            expose: Vec::new(),
            publish: Vec::new(),
            networks: Vec::new(),
            health_cmd: None,
            health_interval: None,
            command: None,
            extra_args: Vec::new(),
        }
    }
}

/// `12.5 s` as Docker's duration syntax (`12500ms`).
fn docker_duration(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

impl TestContainerBuilder {
    /// Runs `image` instead of [`TEST_IMAGE`].
    pub fn image(mut self, image: &str) -> Self {
        self.image = image.to_owned();
        self
    }

    /// Names the container (the name must be unique on the daemon: build it with
    /// [`unique_name`]).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Exposes a port without publishing it: `80` or `53/udp`.
    pub fn expose(mut self, port: &str) -> Self {
        self.expose.push(port.to_owned());
        self
    }

    /// Publishes a port: `127.0.0.1:8080:80`, `127.0.0.1::80` (a free host port), `80`.
    pub fn publish(mut self, spec: &str) -> Self {
        self.publish.push(spec.to_owned());
        self
    }

    /// Joins a network (name or ID). The first one replaces the default bridge.
    pub fn network(mut self, network: &str) -> Self {
        self.networks.push(network.to_owned());
        self
    }

    /// Adds a health check: `cmd` runs in the container's shell every `interval`.
    pub fn health_check(mut self, cmd: &str, interval: Duration) -> Self {
        self.health_cmd = Some(cmd.to_owned());
        self.health_interval = Some(interval);
        self
    }

    /// Runs `args` instead of the default sleeping shell.
    pub fn command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.command = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Runs `script` with `sh -c` instead of the default sleeping shell.
    pub fn shell(self, script: &str) -> Self {
        self.command(["sh", "-c", script])
    }

    /// Adds raw `docker create` arguments (`--restart`, `-v`, ...).
    pub fn arg(mut self, arg: &str) -> Self {
        self.extra_args.push(arg.to_owned());
        self
    }

    /// Creates the container, joins its networks, starts it; panics when Docker refuses.
    pub fn start(self) -> TestContainer {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| unique_name("pygen-test"));
        let mut args: Vec<String> = vec!["create".into(), "--name".into(), name.clone()];
        args.extend(ownership_labels());
        for (k, v) in &self.labels {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        for (k, v) in &self.env {
            args.extend(["--env".into(), format!("{k}={v}")]);
        }
        for port in &self.expose {
            args.extend(["--expose".into(), port.clone()]);
        }
        for spec in &self.publish {
            args.extend(["--publish".into(), spec.clone()]);
        }
        if let Some(first) = self.networks.first() {
            args.extend(["--network".into(), first.clone()]);
        }
        if let Some(cmd) = &self.health_cmd {
            args.extend(["--health-cmd".into(), cmd.clone()]);
        }
        if let Some(interval) = self.health_interval {
            args.extend(["--health-interval".into(), docker_duration(interval)]);
            args.extend([
                "--health-timeout".into(),
                docker_duration(interval.max(Duration::from_secs(1))),
            ]);
            args.extend(["--health-retries".into(), "1".into()]);
        }
        args.extend(self.extra_args.iter().cloned());
        args.push(self.image.clone());
        match &self.command {
            Some(command) => args.extend(command.iter().cloned()),
            // A shell as pid 1 ignores SIGTERM unless it traps it: `docker stop` would wait
            // its full timeout. `wait` is interrupted by the signal, so this stops at once.
            None => args.extend(
                [
                    "sh",
                    "-c",
                    "trap 'exit 0' TERM INT; sleep 2147483647 & wait",
                ]
                .map(String::from),
            ),
        }
        let id = docker_ok(&args);
        // From here the guard owns the container: a failure below removes it on unwind.
        let container = TestContainer {
            id,
            name,
            removed: false,
        };
        for network in self.networks.iter().skip(1) {
            docker_ok([
                "network",
                "connect",
                network.as_str(),
                container.id.as_str(),
            ]);
        }
        docker_ok(["start", container.id.as_str()]);
        container
    }
}

impl TestContainer {
    /// Options for a new container; [`TestContainerBuilder::start`] starts it.
    pub fn builder() -> TestContainerBuilder {
        TestContainerBuilder::default()
    }

    /// Starts a default container (test image, sleeping shell, unique name).
    pub fn start_default() -> Self {
        Self::builder().start()
    }

    /// The full container ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The container name, without the leading `/`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `docker inspect` of the container.
    pub fn inspect(&self) -> serde_json::Value {
        inspect(&self.id)
    }

    /// The container's IP address on `network`, if it has one.
    pub fn ip_address(&self, network: &str) -> Option<String> {
        self.inspect()["NetworkSettings"]["Networks"][network]["IPAddress"]
            .as_str()
            .filter(|ip| !ip.is_empty())
            .map(str::to_owned)
    }

    /// The health status (`starting`, `healthy`, `unhealthy`), or `None` without a health check.
    pub fn health_status(&self) -> Option<String> {
        self.inspect()["State"]["Health"]["Status"]
            .as_str()
            .map(str::to_owned)
    }

    /// Whether the container runs.
    pub fn is_running(&self) -> bool {
        try_inspect(&self.id)
            .is_some_and(|v| v["State"]["Running"] == serde_json::Value::Bool(true))
    }

    /// Runs `docker exec CONTAINER ARGS` and returns its output, whatever its status.
    pub fn exec<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["exec".into(), self.id.clone().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        docker(all)
    }

    /// Stops the container (`docker stop -t 5`); the default command exits at once.
    pub fn stop(&self) {
        docker_ok(["stop", "-t", "5", self.id.as_str()]);
    }

    /// Starts the stopped container again.
    pub fn restart(&self) {
        docker_ok(["restart", "-t", "5", self.id.as_str()]);
    }

    /// Starts the container again after [`TestContainer::stop`].
    pub fn start_again(&self) {
        docker_ok(["start", self.id.as_str()]);
    }

    /// Sends `signal` (`HUP`, `USR1`, ...) to the container's main process.
    pub fn kill(&self, signal: &str) {
        docker_ok(["kill", "--signal", signal, self.id.as_str()]);
    }

    /// Removes the container now (`docker rm -f -v`).
    pub fn remove(mut self) {
        self.removed = true;
        docker_ok(["rm", "-f", "-v", self.id.as_str()]);
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        if !self.removed {
            // Errors are ignored: the container may already be gone, and drop must not panic.
            docker(["rm", "-f", "-v", self.id.as_str()]);
        }
    }
}

/// A user-defined bridge network, removed when dropped (containers still attached are
/// disconnected first).
#[derive(Debug)]
pub struct TestNetwork {
    /// The network name.
    name: String,
    /// The full network ID.
    id: String,
    /// Set by [`TestNetwork::remove`] so that drop does not try again.
    removed: bool,
}

/// Disconnects every container from network `id` and removes it; errors are ignored.
fn remove_network(id: &str) {
    let attached = docker([
        "network",
        "inspect",
        "--format",
        "{{range $id, $c := .Containers}}{{$id}} {{end}}",
        id,
    ]);
    for container in String::from_utf8_lossy(&attached.stdout).split_whitespace() {
        docker(["network", "disconnect", "-f", id, container]);
    }
    docker(["network", "rm", id]);
}

impl TestNetwork {
    /// Creates a bridge network with a [`unique_name`].
    pub fn new() -> Self {
        Self::with_args(&[])
    }

    /// Creates a bridge network with extra `docker network create` arguments (`--internal`,
    /// `--label k=v`, ...).
    pub fn with_args(args: &[&str]) -> Self {
        let name = unique_name("pygen-net");
        let mut all: Vec<String> = vec!["network".into(), "create".into()];
        all.extend(ownership_labels());
        all.extend(args.iter().map(|a| a.to_string()));
        all.push(name.clone());
        let id = docker_ok(&all);
        Self {
            name,
            id,
            removed: false,
        }
    }

    /// The network name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full network ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Removes the network now.
    pub fn remove(mut self) {
        self.removed = true;
        remove_network(&self.id);
    }
}

impl Default for TestNetwork {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        if !self.removed {
            remove_network(&self.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pygen processes
// ---------------------------------------------------------------------------------------------

/// The `pygen` binary cargo built for these tests.
pub fn pygen_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pygen"))
}

/// How long [`run_pygen`] lets pygen run before it kills it and fails the test.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `pygen ARGS` to completion (at most [`RUN_TIMEOUT`]) and returns its output.
pub fn run_pygen<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_pygen_with_env(args, &[])
}

/// [`run_pygen`] with extra environment variables.
pub fn run_pygen_with_env<I, S>(args: I, env: &[(&str, &str)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut process = PygenProcess::spawn_program(pygen_bin(), args, env);
    let Some(status) = process.wait_exit(RUN_TIMEOUT) else {
        panic!(
            "pygen did not exit within {RUN_TIMEOUT:?}; stderr:\n{}",
            process.stderr()
        );
    };
    Output {
        status,
        stdout: fs::read(process.stdout_path()).unwrap_or_default(),
        stderr: fs::read(process.stderr_path()).unwrap_or_default(),
    }
}

/// A background process (pygen, or any program) killed when dropped. Its stdout and stderr go
/// to files in a temporary folder, so a test reads them while it runs.
#[derive(Debug)]
pub struct PygenProcess {
    /// The running child; reaped by [`PygenProcess::wait_exit`] or drop.
    child: Child,
    /// Holds the output files; removed on drop.
    dir: TempDir,
    /// The exit status once known, so that waiting twice works.
    status: Option<ExitStatus>,
}

impl PygenProcess {
    /// Starts `pygen ARGS`.
    pub fn spawn<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_program(pygen_bin(), args, &[])
    }

    /// Starts `pygen ARGS` with extra environment variables.
    pub fn spawn_with_env<I, S>(args: I, env: &[(&str, &str)]) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_program(pygen_bin(), args, env)
    }

    /// Starts any program the same way (the harness's own tests use a shell).
    pub fn spawn_program<P, I, S>(program: P, args: I, env: &[(&str, &str)]) -> Self
    where
        P: AsRef<OsStr>,
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let dir = tempfile::Builder::new()
            .prefix("pygen-process-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        let open = |name: &str| {
            fs::File::create(dir.path().join(name))
                .unwrap_or_else(|e| panic!("cannot create {name} in {}: {e}", dir.path().display()))
        };
        let program = program.as_ref().to_owned();
        let child = Command::new(&program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(open("stdout"))
            .stderr(open("stderr"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.to_string_lossy()));
        Self {
            child,
            dir,
            status: None,
        }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file receiving the process's stdout.
    pub fn stdout_path(&self) -> PathBuf {
        self.dir.path().join("stdout")
    }

    /// The file receiving the process's stderr.
    pub fn stderr_path(&self) -> PathBuf {
        self.dir.path().join("stderr")
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.stdout_path()).unwrap_or_default()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    /// A folder that lives as long as the process guard, for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends `signal` (`HUP`, `TERM`, `INT`, ...) with the `kill` command.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(status.success(), "kill -s {signal} {} failed", self.pid());
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            // Fails only when the process has already exited; wait() then reaps it.
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }

    /// The exit status if the process has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit; `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_until(timeout, Duration::from_millis(10), || {
            self.try_status().is_some()
        });
        self.status
    }
}

impl Drop for PygenProcess {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            // The output is what explains a failed test; the folder is about to go.
            eprintln!(
                "--- {:?} stdout ---\n{}\n--- stderr ---\n{}",
                self.child.id(),
                self.stdout(),
                self.stderr()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

/// Calls `condition` every `poll` until it holds (true) or `timeout` has passed (false). The
/// condition is checked once more at the deadline.
pub fn wait_until(timeout: Duration, poll: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(poll.min(deadline - now));
    }
}

/// Waits until the file at `path` exists and contains `needle`, and returns its content. Panics
/// after `timeout` with what the file held last.
pub fn wait_for_file_containing(path: impl AsRef<Path>, needle: &str, timeout: Duration) -> String {
    let path = path.as_ref();
    let mut last = None;
    let found = wait_until(timeout, Duration::from_millis(20), || {
        last = fs::read_to_string(path).ok();
        last.as_deref()
            .is_some_and(|content| content.contains(needle))
    });
    match (found, last) {
        (true, Some(content)) => content,
        (_, None) => panic!("{} did not appear within {timeout:?}", path.display()),
        (_, Some(content)) => panic!(
            "{} did not contain {needle:?} within {timeout:?}; it holds:\n{content}",
            path.display()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Networking
// ---------------------------------------------------------------------------------------------

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; another process may
/// still take it before the test binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"))
}

/// Sends `GET path` over HTTP/1.0 to the unix socket `socket` and returns the status code and
/// body. Enough for `/_ping` or a JSON endpoint of the daemon; not a general HTTP client.
pub fn unix_http_get(socket: &Path, path: &str) -> io::Result<(u16, String)> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad response: {head:?}"),
            )
        })?;
    Ok((status, body.to_owned()))
}

/// One forwarded connection of a [`UnixProxy`].
struct ProxyConn {
    /// The accepted client stream and the stream to the daemon, kept to shut them down.
    streams: [UnixStream; 2],
    /// The two copy threads, joined when the proxy cuts.
    threads: Vec<JoinHandle<()>>,
    /// How many of the two directions have finished; the second one removes the entry.
    done: u8,
}

/// What a [`UnixProxy`] shares with its threads.
#[derive(Default)]
struct ProxyShared {
    /// Open connections by number.
    conns: Mutex<HashMap<u64, ProxyConn>>,
    /// Numbers connections; also counts those accepted.
    accepted: AtomicU64,
    /// `METHOD PATH` of every request forwarded, in order.
    requests: Mutex<Vec<String>>,
}

/// A unix socket in a temporary folder forwarding every connection to the daemon's socket. A
/// test hands [`UnixProxy::address`] to pygen, then [`UnixProxy::cut`]s it to make the daemon
/// vanish (open connections closed, socket file removed) and [`UnixProxy::restore`]s it.
///
/// Runs on plain threads: one accepting, two per connection. Dropping the proxy cuts it and
/// joins them all.
pub struct UnixProxy {
    /// Holds the socket file.
    dir: TempDir,
    /// The proxy's socket.
    path: PathBuf,
    /// The daemon's socket.
    target: PathBuf,
    /// Connection table shared with the threads.
    shared: Arc<ProxyShared>,
    /// The accepting thread and its stop flag, while accepting.
    acceptor: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl UnixProxy {
    /// Starts a proxy in front of [`docker_socket_path`].
    pub fn start() -> Self {
        Self::start_to(docker_socket_path())
    }

    /// Starts a proxy in front of the unix socket `target`.
    pub fn start_to(target: impl Into<PathBuf>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pygen-proxy-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        let path = dir.path().join("docker.sock");
        let mut proxy = Self {
            dir,
            path,
            target: target.into(),
            shared: Arc::default(),
            acceptor: None,
        };
        proxy.restore();
        proxy
    }

    /// The proxy's socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The proxy as a Docker address: `unix:///...`.
    pub fn address(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// How many connections the proxy has accepted since it started.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// `METHOD PATH` of every request forwarded so far (`GET /v1.41/tasks`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// How many forwarded requests asked for `path` (without the API version prefix, query
    /// ignored): `count_requests("GET", "/tasks")`.
    pub fn count_requests(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| {
                let Some((m, full)) = r.split_once(' ') else {
                    return false;
                };
                let full = full.split('?').next().unwrap_or(full);
                let bare = match full.strip_prefix("/v") {
                    Some(rest) => rest.find('/').map_or(full, |i| &rest[i..]),
                    None => full,
                };
                m == method && bare == path
            })
            .count()
    }

    /// How many forwarded connections are open now.
    pub fn open_connections(&self) -> usize {
        self.shared.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether the proxy accepts connections (between `restore` and `cut`).
    pub fn is_accepting(&self) -> bool {
        self.acceptor.is_some()
    }

    /// Stops accepting, removes the socket file and closes every open connection. Returns once
    /// every proxy thread has ended. Does nothing when already cut.
    pub fn cut(&mut self) {
        if let Some((stop, handle)) = self.acceptor.take() {
            stop.store(true, Ordering::SeqCst);
            // The acceptor only panics on a bug of this harness; the test then fails anyway.
            let _ = handle.join();
        }
        let _ = fs::remove_file(&self.path);
        // Take the table first and release the lock: the copy threads lock it as they end.
        let conns: Vec<ProxyConn> = match self.shared.conns.lock() {
            Ok(mut conns) => conns.drain().map(|(_, c)| c).collect(),
            Err(poisoned) => poisoned.into_inner().drain().map(|(_, c)| c).collect(),
        };
        for conn in conns {
            for stream in &conn.streams {
                let _ = stream.shutdown(Shutdown::Both);
            }
            for thread in conn.threads {
                let _ = thread.join();
            }
        }
    }

    /// Accepts connections again at the same path. Does nothing when already accepting.
    pub fn restore(&mut self) {
        if self.acceptor.is_some() {
            return;
        }
        let _ = fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path)
            .unwrap_or_else(|e| panic!("cannot bind {}: {e}", self.path.display()));
        // Non-blocking, so the acceptor notices the stop flag without a wake-up connection.
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("cannot make {} non-blocking: {e}", self.path.display()));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = Arc::clone(&stop);
            let shared = Arc::clone(&self.shared);
            let target = self.target.clone();
            thread::Builder::new()
                .name("unix-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &target, &shared, &stop))
                .unwrap_or_else(|e| panic!("cannot start the proxy thread: {e}"))
        };
        self.acceptor = Some((stop, handle));
    }
}

impl Drop for UnixProxy {
    fn drop(&mut self) {
        // Every thread is joined before `dir` (and the socket in it) goes.
        self.cut();
    }
}

/// The acceptor: forwards each new connection until `stop` is set.
fn accept_loop(
    listener: &UnixListener,
    target: &Path,
    shared: &Arc<ProxyShared>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let n = shared.accepted.fetch_add(1, Ordering::SeqCst);
                // A daemon that is down: close the client's connection, as a dead socket would.
                if let Ok(upstream) = UnixStream::connect(target) {
                    forward(n, client, upstream, shared);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Copies client bytes to the daemon, noting the request line (`GET /v1.41/tasks HTTP/1.1`) of
/// every request that passes. A line in a request body that looks like a request line would
/// count too; pygen's request bodies are JSON, so none does.
fn copy_recording(from: &mut UnixStream, to: &mut UnixStream, shared: &ProxyShared) {
    const METHODS: [&str; 5] = ["GET ", "POST ", "PUT ", "DELETE ", "HEAD "];
    let mut buf = [0u8; 16 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches('\r');
                if METHODS.iter().any(|m| text.starts_with(m)) && text.ends_with(" HTTP/1.1") {
                    let request = text.trim_end_matches(" HTTP/1.1").to_owned();
                    if let Ok(mut requests) = shared.requests.lock() {
                        requests.push(request);
                    }
                }
                line.clear();
            } else if line.len() < 8192 {
                line.push(b);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Registers connection `n` and starts its two copy threads.
fn forward(n: u64, client: UnixStream, upstream: UnixStream, shared: &Arc<ProxyShared>) {
    let clones = (|| {
        client.set_nonblocking(false)?;
        Ok::<_, io::Error>([
            (client.try_clone()?, upstream.try_clone()?),
            (upstream.try_clone()?, client.try_clone()?),
        ])
    })();
    let Ok(pairs) = clones else { return };
    let Ok(mut conns) = shared.conns.lock() else {
        return;
    };
    let mut threads = Vec::with_capacity(2);
    for (direction, (mut from, mut to)) in pairs.into_iter().enumerate() {
        let shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("unix-proxy-copy".into())
            .spawn(move || {
                if direction == 0 {
                    copy_recording(&mut from, &mut to, &shared);
                } else {
                    let _ = io::copy(&mut from, &mut to);
                }
                // Pass the end of this direction on; the other direction may still run.
                let _ = to.shutdown(Shutdown::Write);
                if let Ok(mut conns) = shared.conns.lock() {
                    if let Some(conn) = conns.get_mut(&n) {
                        conn.done += 1;
                        if conn.done == 2 {
                            conns.remove(&n);
                        }
                    }
                }
            });
        if let Ok(handle) = spawned {
            threads.push(handle);
        }
    }
    // Inserted under the same lock the threads need to finish, so they always find the entry.
    conns.insert(
        n,
        ProxyConn {
            streams: [client, upstream],
            threads,
            done: 0,
        },
    );
}

/// Now as Unix seconds with a fraction, for `docker events --since/--until`.
pub fn unix_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// How many events the daemon reported from `since` until now about the container `id`: its
/// own, and the network events naming it (connect).
pub fn events_naming(id: &str, since: &str) -> usize {
    let events = docker_ok([
        "events",
        "--since",
        since,
        "--until",
        &unix_now(),
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"container\"}}",
    ]);
    events.lines().filter(|l| l.contains(id)).count()
}
