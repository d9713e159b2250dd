//! The watch loop over a state that is not a daemon: a feed the test sends, containers served
//! from memory, a dialect whose renders the test counts, holds and fails, and a notifier that
//! records when it runs. Time is paused, and the waits below let the clock move only when the
//! loop has nothing left to do at once: a render that waited on a timer shows as time passed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc as std_mpsc};
use std::time::Duration;

use clap::Parser;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Generator;
use super::notify::{Notifier, Run};
use crate::cli::Cli;
use crate::config::{Config, Intervals, TemplateSpec};
use crate::docker::events::{Actor, Event, EventType, Feed};
use crate::docker::state::{self, StateSource};
use crate::docker::watch::Watch;
use crate::generator::job::{Job, Notification};
use crate::metrics::Metrics;
use crate::model::{Container, Snapshot};
use crate::shutdown::ShutdownController;
use crate::template::{Compiled, Dialect, Error, Template, Unit};

/// A recorded inspect answer of a running container; each test container is this one renamed.
const INSPECT: &str = include_str!("../../../tests/data/sample-inspect.json");

/// Locks a test mutex (no test thread panics while holding one).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("no test thread panics holding it")
}

/// The running container `name` (its ID too).
fn container(name: &str) -> Container {
    let mut json: serde_json::Value = serde_json::from_str(INSPECT).expect("recorded JSON");
    json["Id"] = name.into();
    json["Name"] = format!("/{name}").into();
    Container::from_inspect_json(&json.to_string()).expect("a recorded inspect answer")
}

/// The daemon's containers, served from memory.
#[derive(Debug, Default)]
struct Memory {
    /// The containers by ID.
    containers: Mutex<BTreeMap<String, Container>>,
    /// Full listings served.
    lists: AtomicUsize,
    /// Inspects served.
    inspects: AtomicUsize,
}

impl Memory {
    fn add(&self, name: &str) {
        lock(&self.containers).insert(name.to_owned(), container(name));
    }

    fn remove(&self, name: &str) {
        lock(&self.containers).remove(name);
    }
}

impl StateSource for Memory {
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, state::Error>> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        let ids = lock(&self.containers).keys().cloned().collect();
        Box::pin(std::future::ready(Ok(ids)))
    }

    fn inspect(&self, id: String) -> BoxFuture<'_, Result<Option<Container>, state::Error>> {
        self.inspects.fetch_add(1, Ordering::SeqCst);
        let found = lock(&self.containers).get(&id).cloned();
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// What the test sees of the renders, and how it steers them.
#[derive(Debug, Default)]
struct Probe {
    /// Each render's template and the instant it started.
    started: Mutex<Vec<(String, Instant)>>,
    /// Renders running now, and the most ever at once.
    running: Mutex<(usize, usize)>,
    /// While set, each render waits for one message from the test.
    hold: Mutex<Option<std_mpsc::Receiver<()>>>,
    /// Whether renders fail.
    fail: AtomicBool,
}

impl Probe {
    /// From now on every render waits for one message on the returned sender (or its drop).
    fn hold(&self) -> std_mpsc::Sender<()> {
        let (tx, rx) = std_mpsc::channel();
        *lock(&self.hold) = Some(rx);
        tx
    }

    fn renders(&self) -> usize {
        lock(&self.started).len()
    }

    /// The instants the renders of `template` started, from `t0`.
    fn renders_of(&self, template: &str, t0: Instant) -> Vec<Duration> {
        lock(&self.started)
            .iter()
            .filter(|(name, _)| name == template)
            .map(|(_, at)| *at - t0)
            .collect()
    }

    fn most_at_once(&self) -> usize {
        lock(&self.running).1
    }
}

/// The test dialect: renders the sorted names of the running containers, one a line, through
/// the probe.
struct Probed(Arc<Probe>);

/// A compiled test template: its name and the probe.
#[derive(Debug)]
struct ProbedTemplate {
    /// The template's name, recorded with each render.
    name: String,
    /// Shared with the test.
    probe: Arc<Probe>,
}

impl Dialect for Probed {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error> {
        Ok(Box::new(ProbedTemplate {
            name: unit.name,
            probe: Arc::clone(&self.0),
        }))
    }
}

impl Compiled for ProbedTemplate {
    fn render(&self, snapshot: &Snapshot) -> Result<String, Error> {
        let probe = &self.probe;
        lock(&probe.started).push((self.name.clone(), Instant::now()));
        {
            let mut running = lock(&probe.running);
            running.0 += 1;
            running.1 = running.1.max(running.0);
        }
        if let Some(release) = &*lock(&probe.hold) {
            // A dropped sender releases every render.
            let _ = release.recv();
        }
        lock(&probe.running).0 -= 1;
        if probe.fail.load(Ordering::SeqCst) {
            return Err(Error::Render {
                name: self.name.clone(),
                line: Some(1),
                column: None,
                message: "told to fail".to_owned(),
                source: Box::new(std::fmt::Error),
            });
        }
        let mut names: Vec<&str> = snapshot.running().iter().map(|c| c.name()).collect();
        names.sort_unstable();
        Ok(names.iter().map(|name| format!("{name}\n")).collect())
    }

    fn reads(&self, _variable: &str) -> bool {
        false
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Records the notification runs: the first restart target of each, and when it ran.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<(String, Instant)>>);

impl Recorder {
    /// The instants of the runs, from `t0`.
    fn runs(&self, t0: Instant) -> Vec<(String, Duration)> {
        lock(&self.0)
            .iter()
            .map(|(target, at)| (target.clone(), *at - t0))
            .collect()
    }
}

/// The loop's handle on the recorder.
struct Recording(Arc<Recorder>);

impl Notifier for Recording {
    fn run(&self, run: Run) -> BoxFuture<'static, ()> {
        let target = match &run.plan {
            Notification::Actions(plan) => plan.restarts.first().cloned().unwrap_or_default(),
            Notification::DockerGen(_) => String::new(),
        };
        lock(&self.0.0).push((target, Instant::now()));
        Box::pin(std::future::ready(()))
    }
}

/// A loop running in the test's runtime, and everything around it.
struct Loop {
    /// What the watch receives in place of the daemon's feed.
    feed: mpsc::Sender<Feed>,
    /// The containers the watch lists and inspects.
    memory: Arc<Memory>,
    /// The renders.
    probe: Arc<Probe>,
    /// The notification runs.
    runs: Arc<Recorder>,
    /// The loop's metrics.
    metrics: Arc<Metrics>,
    /// The folder of the targets.
    dir: tempfile::TempDir,
    /// Held so the loop's reload channel stays open.
    _reload: mpsc::UnboundedSender<()>,
    /// Held so the loop's shutdown is not triggered.
    _shutdown: ShutdownController,
}

/// A template writing `file` in `dir`, without notifications.
fn spec(dir: &Path, file: &str) -> TemplateSpec {
    TemplateSpec::new(String::new(), Some(dir.join(file)))
}

impl Loop {
    /// Starts the loop over the templates `specs` gives for the targets' folder, with `names`
    /// in the memory source. Nothing is connected yet.
    fn start(specs: impl FnOnce(&Path) -> Vec<TemplateSpec>, names: &[&str]) -> Loop {
        let dir = tempfile::tempdir().expect("a temp dir");
        let args = [
            "pygen",
            "--template",
            "-",
            "--events",
            "start",
            "die",
            "destroy",
        ];
        let cli = Cli::try_parse_from(args).expect("valid flags");
        let mut config = Config::from_args(&cli.run).expect("valid flags");
        config.templates = specs(dir.path());
        let probe = Arc::new(Probe::default());
        let jobs = config
            .templates
            .iter()
            .map(|spec| {
                let unit = Unit {
                    name: spec.name.clone(),
                    description: "probe".to_owned(),
                    text: String::new(),
                    folder: None,
                };
                let template = Template::compile(&Probed(Arc::clone(&probe)), unit);
                Job::new(spec.clone(), Some(template.expect("compiles")))
            })
            .collect();
        let memory = Arc::new(Memory::default());
        for name in names {
            memory.add(name);
        }
        let (feed, rx) = mpsc::channel(1024);
        let metrics = Arc::new(Metrics::new());
        let watch = Watch::over(rx, Arc::clone(&memory) as _, Arc::clone(&metrics));
        let runs = Arc::new(Recorder::default());
        let notifier = Arc::new(Recording(Arc::clone(&runs)));
        let generator = Generator::new(config, jobs, watch, Arc::clone(&metrics), notifier);
        let shutdown = ShutdownController::new();
        let (reload, reloads) = mpsc::unbounded_channel();
        tokio::spawn(generator.run(shutdown.subscribe(), reloads));
        Loop {
            feed,
            memory,
            probe,
            runs,
            metrics,
            dir,
            _reload: reload,
            _shutdown: shutdown,
        }
    }

    async fn send(&self, item: Feed) {
        self.feed.send(item).await.expect("the loop runs");
    }

    /// A (re)connection; the client only stands for the connection: nothing reads through it.
    async fn connect(&self) {
        let client = crate::docker::connect(Some("tcp://127.0.0.1:1")).expect("a valid address");
        self.send(Feed::Connected(client)).await;
    }

    /// A container event about `name`.
    async fn event(&self, action: &str, name: &str) {
        self.send(Feed::Event(Event {
            typ: Some(EventType::Container),
            action: Some(action.to_owned()),
            actor: Some(Actor {
                id: Some(name.to_owned()),
                attributes: None,
            }),
            ..Default::default()
        }))
        .await;
    }

    /// A running container `name` appears: in the source, then its `start` event.
    async fn start_container(&self, name: &str) {
        self.memory.add(name);
        self.event("start", name).await;
    }

    /// The content of target `file`; empty when there is none.
    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(file)).unwrap_or_default()
    }

    /// Whether the metrics hold `line`.
    fn has_metric(&self, line: &str) -> bool {
        self.metrics.encode().lines().any(|l| l == line)
    }
}

/// Lets the loop, its inspects and the render threads take what waits, without moving the
/// clock.
async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Waits until `done` holds. The clock moves (in 100 ms steps) only when the loop cannot get
/// there at once, so a render that waits on a timer still happens, but late. (`advance`, not
/// `sleep`: a render in flight keeps a paused clock from moving on its own.)
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..20 {
        // About a second of real time for a render thread to run.
        for _ in 0..5_000 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_micros(200));
        }
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(start_paused = true)]
async fn an_event_renders_at_once() {
    let l = Loop::start(|dir| vec![spec(dir, "a.conf")], &["one"]);
    let t0 = Instant::now();
    l.connect().await;
    until("the first render", || l.read("a.conf") == "one\n").await;
    l.start_container("two").await;
    until("the event's render", || l.read("a.conf") == "one\ntwo\n").await;
    assert_eq!(
        Instant::now() - t0,
        Duration::ZERO,
        "no render waited on a timer"
    );
    assert_eq!(l.probe.renders(), 2);
    assert!(l.has_metric("pygen_render_wait_seconds_sum 0.0"));
}

#[tokio::test(start_paused = true)]
async fn events_during_a_render_are_served_by_one_render_after_it() {
    let l = Loop::start(|dir| vec![spec(dir, "a.conf")], &["one"]);
    let release = l.probe.hold();
    let t0 = Instant::now();
    l.connect().await;
    until("the first render starts", || l.probe.renders() == 1).await;
    let inspected = l.memory.inspects.load(Ordering::SeqCst);
    for name in ["two", "three", "four"] {
        l.start_container(name).await;
    }
    until("their inspects", || {
        l.memory.inspects.load(Ordering::SeqCst) == inspected + 3
    })
    .await;
    settle().await;
    assert_eq!(l.probe.renders(), 1, "no second render while one runs");
    assert_eq!(l.read("a.conf"), "", "the first render is held");

    release.send(()).expect("the render waits");
    until("the second render starts", || l.probe.renders() == 2).await;
    assert_eq!(l.read("a.conf"), "one\n", "the first render's target");
    release.send(()).expect("the render waits");
    until("the second render's target", || {
        l.read("a.conf") == "four\none\nthree\ntwo\n"
    })
    .await;
    assert_eq!(
        Instant::now() - t0,
        Duration::ZERO,
        "no render waited on a timer"
    );
    // A third render would run through (and be counted) rather than wait.
    drop(release);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(l.probe.renders(), 2, "one render served the three events");
    assert_eq!(l.probe.most_at_once(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_burst_during_a_render_costs_one_more_render() {
    const BURST: usize = 100;
    let l = Loop::start(|dir| vec![spec(dir, "a.conf")], &["c000"]);
    let release = l.probe.hold();
    let t0 = Instant::now();
    l.connect().await;
    until("the first render starts", || l.probe.renders() == 1).await;
    let inspected = l.memory.inspects.load(Ordering::SeqCst);
    let names: Vec<String> = (1..=BURST).map(|i| format!("c{i:03}")).collect();
    for name in &names {
        l.start_container(name).await;
    }
    until("the burst's inspects", || {
        l.memory.inspects.load(Ordering::SeqCst) == inspected + BURST
    })
    .await;
    settle().await;
    drop(release);
    let all: String = std::iter::once("c000")
        .chain(names.iter().map(String::as_str))
        .map(|name| format!("{name}\n"))
        .collect();
    until("every container in the target", || l.read("a.conf") == all).await;
    assert_eq!(
        Instant::now() - t0,
        Duration::ZERO,
        "no render waited on a timer"
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(l.probe.renders(), 2, "the burst cost one render");
    assert_eq!(l.probe.most_at_once(), 1);
    assert!(l.has_metric(r#"pygen_renders_total{template="a.conf"} 2"#));
}

#[tokio::test(start_paused = true)]
async fn notifications_are_batched_by_their_interval() {
    let l = Loop::start(
        |dir| {
            let mut a = spec(dir, "a.conf");
            a.restart = vec!["proxy".to_owned()];
            a.intervals = Intervals {
                min: Duration::from_secs(2),
                max: Duration::from_secs(5),
            };
            vec![a]
        },
        &["one"],
    );
    let t0 = Instant::now();
    let secs = Duration::from_secs_f64;
    // The first render changes the target at 0 s: the batch fires at 2 s, 5 s at the latest.
    l.connect().await;
    until("the first render", || l.read("a.conf") == "one\n").await;
    // Each change moves the firing 2 s on, up to the cap: 3 s, 4.5 s, then 5 s (not 6 s).
    for (at, name) in [(1.0, "two"), (2.5, "three"), (4.0, "four")] {
        tokio::time::sleep_until(t0 + secs(at)).await;
        l.start_container(name).await;
        until("the event's render", || l.read("a.conf").contains(name)).await;
        assert_eq!(Instant::now() - t0, secs(at), "rendered at once");
    }
    tokio::time::sleep_until(t0 + secs(10.0)).await;
    assert_eq!(l.runs.runs(t0), [("proxy".to_owned(), secs(5.0))]);
    // A lone change fires after the quiet period.
    l.start_container("five").await;
    tokio::time::sleep_until(t0 + secs(30.0)).await;
    assert_eq!(
        l.runs.runs(t0),
        [
            ("proxy".to_owned(), secs(5.0)),
            ("proxy".to_owned(), secs(12.0))
        ]
    );
    assert_eq!(
        l.probe.renders(),
        5,
        "every change rendered at once, nothing else"
    );
}

#[tokio::test(start_paused = true)]
async fn repeat_renders_again_after_an_event() {
    let l = Loop::start(
        |dir| {
            let mut b = spec(dir, "b.conf");
            b.repeat = Some(Duration::from_secs(3));
            vec![b]
        },
        &["one"],
    );
    let t0 = Instant::now();
    let secs = Duration::from_secs;
    l.connect().await;
    until("the first render", || l.read("b.conf") == "one\n").await;
    tokio::time::sleep_until(t0 + secs(1)).await;
    l.start_container("two").await;
    tokio::time::sleep_until(t0 + secs(20)).await;
    // The connect's render does not repeat; the event's does, once, 3 s after it.
    assert_eq!(
        l.probe.renders_of("b.conf", t0),
        [secs(0), secs(1), secs(4)]
    );
    assert_eq!(l.read("b.conf"), "one\ntwo\n");
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_resyncs_and_a_destroy_renders_at_once() {
    let l = Loop::start(|dir| vec![spec(dir, "a.conf")], &["one", "two"]);
    let t0 = Instant::now();
    l.connect().await;
    until("the first render", || l.read("a.conf") == "one\ntwo\n").await;

    l.send(Feed::Disconnected("the daemon went away".to_owned()))
        .await;
    // While the daemon is away, `two` goes and `three` comes, unseen.
    l.memory.remove("two");
    l.memory.add("three");
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(l.read("a.conf"), "one\ntwo\n", "the target stays");
    assert_eq!(l.probe.renders(), 1);
    assert!(l.has_metric("pygen_docker_connected 0"));

    l.connect().await;
    until("the resync's render", || l.read("a.conf") == "one\nthree\n").await;
    assert_eq!(
        l.memory.lists.load(Ordering::SeqCst),
        2,
        "one listing per connection"
    );
    assert!(l.has_metric("pygen_docker_reconnects_total 1"));

    // The source still answers for `three`: only the event can take it out of the target.
    let before = Instant::now();
    l.event("destroy", "three").await;
    until("the destroy's render", || l.read("a.conf") == "one\n").await;
    assert_eq!(Instant::now(), before, "the destroy rendered at once");
    assert_eq!(Instant::now() - t0, Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_render_error_keeps_the_last_good_target() {
    let l = Loop::start(|dir| vec![spec(dir, "a.conf")], &["one"]);
    l.connect().await;
    until("the first render", || l.read("a.conf") == "one\n").await;

    l.probe.fail.store(true, Ordering::SeqCst);
    l.start_container("two").await;
    until("the failed render", || {
        l.has_metric(r#"pygen_render_errors_total{template="a.conf"} 1"#)
    })
    .await;
    settle().await;
    assert_eq!(l.read("a.conf"), "one\n", "the last good target stays");

    l.probe.fail.store(false, Ordering::SeqCst);
    l.start_container("three").await;
    until("the next good render", || {
        l.read("a.conf") == "one\nthree\ntwo\n"
    })
    .await;
    assert_eq!(l.probe.renders(), 3);
}
