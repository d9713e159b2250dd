//! Swarm helpers of the test harness: a single-node Swarm that is left as found, guards for
//! services, stacks and secrets, and pygen's own image for stack tests.
//!
//! - [`require_swarm`] makes the daemon a single-node Swarm manager (`docker swarm init
//!   --advertise-addr 127.0.0.1`) if it is not in a Swarm, once per test process, and makes the
//!   process leave that Swarm again when it exits (also after failed tests). A Swarm that was
//!   already active is used as it is and left alone, unless a test process that was killed
//!   before it could leave had made it (a marker file in the temporary folder says so): then
//!   this process leaves it in its place.
//! - [`TestService`], [`TestStack`]: guards removing their objects (and waiting for their tasks'
//!   containers to go, so networks can be removed after them).
//! - [`pygen_image`]: an image of the pygen binary under test, built by
//!   `scripts/build-pygen-test-image.sh`.
//!
//! Objects carry the harness's labels ([`super::TEST_LABEL`], [`super::PID_LABEL`]) so that
//! [`cleanup_dead`] removes what crashed test processes left.

use std::ffi::c_int;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::{PID_LABEL, TEST_LABEL, docker, docker_ok, process_alive, unique_name, wait_until};

/// How long a service may take to reach its running tasks.
pub const CONVERGE: Duration = Duration::from_secs(60);

/// What the process changed to get a Swarm, undone at exit.
#[derive(Debug, Default)]
struct Joined {
    /// This process ran `docker swarm init`.
    initialized: bool,
    /// `docker_gwbridge` did not exist before the init (Swarm creates it and leaves it behind).
    created_gwbridge: bool,
}

/// The Swarm set-up of this process, decided once.
static SWARM: OnceLock<Result<(), String>> = OnceLock::new();
/// What to undo at exit.
static JOINED: Mutex<Joined> = Mutex::new(Joined {
    initialized: false,
    created_gwbridge: false,
});

unsafe extern "C" {
    /// C's `atexit`: runs `callback` when the process exits normally (which libtest does after
    /// the last test, with status 0 or 101).
    fn atexit(callback: extern "C" fn()) -> c_int;
}

/// The marker naming the test process that made the Swarm: `<pid> <node id> <gwbridge made>`.
fn marker_path() -> std::path::PathBuf {
    std::env::temp_dir().join("pygen-test-swarm.owner")
}

/// The Swarm node id of the daemon, `''` outside a Swarm.
fn node_id() -> String {
    docker_ok(["info", "--format", "{{.Swarm.NodeID}}"])
}

/// Writes the marker for this process.
fn write_marker(created_gwbridge: bool) {
    let _ = std::fs::write(
        marker_path(),
        format!("{} {} {created_gwbridge}", std::process::id(), node_id()),
    );
}

/// Whether a dead test process made the active Swarm (the marker names it and this node);
/// returns whether it had made `docker_gwbridge` too.
fn orphaned_swarm() -> Option<bool> {
    let text = std::fs::read_to_string(marker_path()).ok()?;
    let mut parts = text.split_whitespace();
    let (pid, node, gwbridge) = (parts.next()?, parts.next()?, parts.next()?);
    (!running(pid) && node == node_id()).then_some(gwbridge == "true")
}

/// Whether process `pid` runs (a zombie, killed but not yet reaped, does not).
fn running(pid: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name.
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
}

/// Leaves the Swarm this process created and removes the bridge Swarm made for it.
extern "C" fn leave_swarm_at_exit() {
    let joined = JOINED.lock().map(|j| (j.initialized, j.created_gwbridge));
    let Ok((true, created_gwbridge)) = joined else {
        return;
    };
    cleanup_services(|_| true);
    // Services' tasks must be gone before the Swarm can be left cleanly.
    wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        test_task_containers().is_empty()
    });
    let _ = Command::new("docker")
        .args(["swarm", "leave", "--force"])
        .output();
    let _ = std::fs::remove_file(marker_path());
    // Docker may keep an endpoint of the ingress sandbox on the bridge until it restarts; the
    // bridge then stays (it is harmless and reused by the next `swarm init`).
    if created_gwbridge {
        let _ = Command::new("docker")
            .args(["network", "rm", "docker_gwbridge"])
            .output();
    }
}

/// The daemon's Swarm state: `inactive`, `active`, `pending`, `error`, `locked`.
pub fn swarm_state() -> String {
    docker_ok(["info", "--format", "{{.Swarm.LocalNodeState}}"])
}

/// Makes sure the daemon is a Swarm manager for this test process (see the module
/// documentation). Call after [`super::require_docker`].
pub fn require_swarm() {
    let result = SWARM.get_or_init(|| {
        match swarm_state().as_str() {
            "active" => {
                let manager = docker_ok(["info", "--format", "{{.Swarm.ControlAvailable}}"]);
                if manager != "true" {
                    return Err(
                        "the daemon is a Swarm worker node; the tests need a manager".into(),
                    );
                }
                if let Some(created_gwbridge) = orphaned_swarm() {
                    // A killed test process made this Swarm: leave it at exit in its place.
                    // SAFETY: as below.
                    unsafe {
                        atexit(leave_swarm_at_exit);
                    }
                    write_marker(created_gwbridge);
                    if let Ok(mut joined) = JOINED.lock() {
                        joined.initialized = true;
                        joined.created_gwbridge = created_gwbridge;
                    }
                }
                Ok(())
            }
            "inactive" => {
                let gwbridge_existed = docker(["network", "inspect", "docker_gwbridge"])
                    .status
                    .success();
                // Registered before the init, so a panic right after it still leaves.
                // SAFETY: `atexit` only stores the function pointer; the callback is a plain
                // `extern "C" fn` that does not unwind.
                unsafe {
                    atexit(leave_swarm_at_exit);
                }
                let out = docker(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
                if !out.status.success() {
                    return Err(format!(
                        "docker swarm init failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                if let Ok(mut joined) = JOINED.lock() {
                    joined.initialized = true;
                    joined.created_gwbridge = !gwbridge_existed;
                }
                write_marker(!gwbridge_existed);
                Ok(())
            }
            other => Err(format!("the daemon's Swarm state is {other:?}")),
        }
    });
    if let Err(message) = result {
        panic!("Swarm tests need a single-node Swarm: {message}");
    }
}

/// IDs of the containers of test services' tasks (any process).
fn test_task_containers() -> Vec<String> {
    let out = docker([
        "ps",
        "-aq",
        "--filter",
        &format!("label={TEST_LABEL}=1"),
        "--filter",
        "label=com.docker.swarm.task.id",
    ]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The test objects of `kind` (`service`, `secret`) with the pid of their creator. Empty when
/// the daemon is not a Swarm manager.
fn labelled(kind: &str) -> Vec<(String, String)> {
    // `docker service ls --format` knows no `.Label`: inspect the listed ones.
    let out = docker([
        kind,
        "ls",
        "-q",
        "--filter",
        &format!("label={TEST_LABEL}=1"),
    ]);
    let ids = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || ids.trim().is_empty() {
        return Vec::new();
    }
    let format = format!("{{{{.ID}}}} {{{{index .Spec.Labels \"{PID_LABEL}\"}}}}");
    let out = docker(
        [kind, "inspect", "--format", format.as_str()]
            .into_iter()
            .chain(ids.split_whitespace()),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let (id, pid) = line.split_once(' ').unwrap_or((line, ""));
            (id.to_owned(), pid.to_owned())
        })
        .collect()
}

/// Removes the test services whose creator pid `remove` accepts.
fn cleanup_services(remove: impl Fn(&str) -> bool) {
    let doomed: Vec<String> = labelled("service")
        .into_iter()
        .filter_map(|(id, pid)| remove(&pid).then_some(id))
        .collect();
    if !doomed.is_empty() {
        docker(
            ["service", "rm"]
                .into_iter()
                .chain(doomed.iter().map(String::as_str)),
        );
    }
}

/// Removes the services and secrets left by test processes that are gone.
pub fn cleanup_dead() {
    cleanup_services(|pid| !process_alive(pid));
    for (id, pid) in labelled("secret") {
        if !process_alive(&pid) {
            docker(["secret", "rm", id.as_str()]);
        }
    }
}

/// `docker service create` arguments of a test service; [`TestServiceBuilder::start`] gives
/// the guard.
#[derive(Debug, Clone, Default)]
pub struct TestServiceBuilder {
    /// Arguments before the image.
    args: Vec<String>,
    /// The image; [`super::TEST_IMAGE`] by default.
    image: Option<String>,
    /// The command; a shell that sleeps and exits at once on SIGTERM by default.
    command: Option<Vec<String>>,
    /// The name; a [`unique_name`] by default.
    name: Option<String>,
}

impl TestServiceBuilder {
    /// Adds raw `docker service create` arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Names the service (it must be unique: build it with [`unique_name`]).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Runs `image` instead of the test image.
    pub fn image(mut self, image: &str) -> Self {
        self.image = Some(image.to_owned());
        self
    }

    /// Runs `script` with `sh -c`.
    pub fn shell(mut self, script: &str) -> Self {
        self.command = Some(vec!["sh".into(), "-c".into(), script.into()]);
        self
    }

    /// Creates the service (detached) with a unique name; does not wait for its tasks.
    pub fn start(self) -> TestService {
        let name = self.name.unwrap_or_else(|| unique_name("pygen-svc"));
        let mut args: Vec<String> = vec![
            "service".into(),
            "create".into(),
            "--detach".into(),
            "--quiet".into(),
            "--name".into(),
            name.clone(),
        ];
        for label in [
            format!("{TEST_LABEL}=1"),
            format!("{PID_LABEL}={}", std::process::id()),
        ] {
            args.extend(["--label".into(), label.clone()]);
            args.extend(["--container-label".into(), label]);
        }
        args.extend(self.args);
        args.push(self.image.unwrap_or_else(|| super::TEST_IMAGE.to_owned()));
        match self.command {
            Some(command) => args.extend(command),
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
        TestService {
            id: id.trim().to_owned(),
            name,
        }
    }
}

/// A Swarm service, removed (and its task containers waited for) when dropped.
#[derive(Debug)]
pub struct TestService {
    /// The service ID.
    id: String,
    /// The service name.
    name: String,
}

impl TestService {
    /// Options for a new service.
    pub fn builder() -> TestServiceBuilder {
        TestServiceBuilder::default()
    }

    /// The service ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `docker service inspect` of the service.
    pub fn inspect(&self) -> serde_json::Value {
        let out = docker_ok(["service", "inspect", self.id.as_str()]);
        let mut value: serde_json::Value =
            serde_json::from_str(&out).expect("docker service inspect prints JSON");
        value[0].take()
    }

    /// The tasks of the service as `docker service ps --no-trunc` lists them (JSON lines,
    /// newest first per slot), optionally only those with `desired-state=running`.
    pub fn tasks(&self, running_only: bool) -> Vec<serde_json::Value> {
        let mut args = vec!["service", "ps", "--no-trunc", "--format", "{{json .}}"];
        if running_only {
            args.extend(["--filter", "desired-state=running"]);
        }
        args.push(&self.id);
        docker_ok(&args)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The task objects (`docker inspect` of each task), desired state running only.
    pub fn running_task_objects(&self) -> Vec<serde_json::Value> {
        self.tasks(true)
            .iter()
            .filter_map(|t| t["ID"].as_str().map(super::inspect))
            .collect()
    }

    /// Waits until `count` tasks run (state `running`, desired `running`); panics after
    /// [`CONVERGE`].
    pub fn wait_running(&self, count: usize) {
        let ok = wait_until(CONVERGE, Duration::from_millis(200), || {
            let running = self
                .running_task_objects()
                .iter()
                .filter(|t| t["Status"]["State"] == "running")
                .count();
            running == count
        });
        assert!(
            ok,
            "service {} did not reach {count} running tasks: {:#?}",
            self.name,
            self.tasks(false)
        );
    }

    /// The container IDs of the running tasks.
    pub fn container_ids(&self) -> Vec<String> {
        self.running_task_objects()
            .iter()
            .filter_map(|t| {
                t["Status"]["ContainerStatus"]["ContainerID"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        docker(["service", "rm", self.id.as_str()]);
        remove_task_containers(&format!("com.docker.swarm.service.id={}", self.id));
    }
}

/// Waits (up to 30 s) until the task containers with `label` are gone.
fn remove_task_containers(label: &str) {
    wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        let out = docker(["ps", "-aq", "--filter", &format!("label={label}")]);
        String::from_utf8_lossy(&out.stdout).trim().is_empty()
    });
}

/// A stack deployed with `docker stack deploy`, removed when dropped.
#[derive(Debug)]
pub struct TestStack {
    /// The stack name (also the prefix of its services).
    name: String,
}

impl TestStack {
    /// Deploys a stack with a unique name made from `prefix`; `compose` gives the compose
    /// file's text (YAML, or JSON, which is YAML too) for that name. `./` paths in it are
    /// relative to `dir`. The file should put the harness labels ([`ownership_labels`]) on its
    /// services, their containers and its secrets.
    pub fn deploy(prefix: &str, dir: &Path, compose: impl FnOnce(&str) -> String) -> TestStack {
        let name = unique_name(prefix).replace('-', "_");
        let file = dir.join("stack.yml");
        std::fs::write(&file, compose(&name)).expect("write the compose file");
        let stack = TestStack { name };
        let out = Command::new("docker")
            .args(["stack", "deploy", "--resolve-image", "never", "-c"])
            .arg(&file)
            .arg(&stack.name)
            .current_dir(dir)
            .output()
            .expect("run docker stack deploy");
        assert!(
            out.status.success(),
            "docker stack deploy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stack
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full name of the stack's service `service`.
    pub fn service(&self, service: &str) -> String {
        format!("{}_{service}", self.name)
    }

    /// The logs of the stack's service `service`.
    pub fn logs(&self, service: &str) -> String {
        let out = docker(["service", "logs", "--raw", &self.service(service)]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        docker(["stack", "rm", self.name.as_str()]);
        remove_task_containers(&format!("com.docker.stack.namespace={}", self.name));
        // Networks go once their endpoints are gone; `stack rm` does not wait for that.
        wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
            let out = docker([
                "network",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.stack.namespace={}", self.name),
            ]);
            let left = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !left.is_empty() {
                docker(["network", "rm"].into_iter().chain(left.split_whitespace()));
            }
            left.is_empty()
        });
    }
}

/// The harness labels as a JSON object, for the `labels` of a compose file.
pub fn ownership_labels() -> serde_json::Value {
    serde_json::json!({
        TEST_LABEL: "1",
        PID_LABEL: std::process::id().to_string(),
    })
}

/// The image of the pygen binary under test, built once per test process by
/// `scripts/build-pygen-test-image.sh` from the binary cargo built for the tests.
pub fn pygen_image() -> String {
    static IMAGE: OnceLock<Result<String, String>> = OnceLock::new();
    let result = IMAGE.get_or_init(|| {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-pygen-test-image.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(super::pygen_bin())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed: {}{}",
                script.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // The script prints the image reference on its last line.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .map(str::to_owned)
            .ok_or_else(|| "the script printed no image name".to_owned())
    });
    match result {
        Ok(image) => image.clone(),
        Err(message) => panic!("cannot build pygen's test image: {message}"),
    }
}
