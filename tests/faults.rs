//! Faults against the real daemon: the daemon connection cut and restored under churn, readers
//! racing the atomic rewrite, a read-only target folder, templates that break or vanish, and
//! notification targets that are missing or die when signalled. In every case pygen keeps
//! running, keeps the last good file and recovers by itself.
//!
//! A template file broken on disk and reloaded with SIGHUP (the line is reported, the previous
//! template and file stay, a fixed template renders again) is covered by
//! `sighup_reloads_the_template_and_sigterm_exits_promptly` in `tests/watch.rs`.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::watcher::Watcher;
use common::*;

/// How long a test waits for pygen to react to something.
const REACT: Duration = Duration::from_secs(30);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(20);

/// Writes a template file listing the names of the running containers carrying `label`, one a
/// line.
fn names_template(dir: &Path, label: &str) -> String {
    let path = dir.join("names.tmpl");
    fs::write(
        &path,
        format!(
            "{{% for c in containers if c.labels['{label}'] %}}{{{{ c.name }}}}\n{{% endfor %}}"
        ),
    )
    .expect("write template");
    path.to_string_lossy().into_owned()
}

/// A labelled container that just sleeps and stops at once on SIGTERM.
fn sleeper(label: &str) -> TestContainer {
    TestContainer::builder()
        .label(label, "1")
        .shell("trap 'exit 0' TERM; while true; do sleep 0.1; done")
        .start()
}

/// The sorted names of the running containers carrying `label`, as the daemon sees them.
fn running_names(label: &str) -> Vec<String> {
    let out = docker_ok([
        "ps",
        "--filter",
        &format!("label={label}"),
        "--format",
        "{{.Names}}",
    ]);
    let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
    names.sort();
    names
}

/// The sorted lines of `text`.
fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn twenty_connection_cuts_under_churn_end_with_the_daemon_state() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("churn");
    let mut proxy = UnixProxy::start();
    let address = proxy.address();
    let mut watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &["--interval", "0", "--docker-address", &address],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let churned = Arc::new(AtomicU64::new(0));
    // Starts labelled containers and stops or removes older ones until told to stop; the
    // survivors are handed back so they live until the final comparison.
    let churn = {
        let stop = Arc::clone(&stop);
        let churned = Arc::clone(&churned);
        let label = label.clone();
        thread::spawn(move || {
            let mut alive: Vec<TestContainer> = Vec::new();
            let mut round = 0u64;
            while !stop.load(Ordering::SeqCst) {
                alive.push(sleeper(&label));
                if alive.len() > 4 {
                    let old = alive.remove(0);
                    if round % 2 == 0 {
                        old.stop();
                        // Stopped, not removed: it must vanish from the file all the same.
                        alive.push(old);
                    } else {
                        old.remove();
                    }
                }
                round += 1;
                churned.store(round, Ordering::SeqCst);
            }
            alive
        })
    };
    for round in 0..20 {
        thread::sleep(Duration::from_millis(300));
        proxy.cut();
        thread::sleep(Duration::from_millis(300));
        assert!(
            watcher.process.is_running(),
            "round {round}: pygen exited while the daemon was away:\n{}",
            watcher.process.stderr()
        );
        proxy.restore();
        let back = wait_until(REACT, POLL, || {
            watcher.metric("pygen_docker_connected") == 1.0
        });
        assert!(
            back,
            "round {round}: no reconnection:\n{}",
            watcher.process.stderr()
        );
    }
    stop.store(true, Ordering::SeqCst);
    let survivors = churn.join().expect("churn thread");
    assert!(
        churned.load(Ordering::SeqCst) >= 5,
        "too little churn to prove anything"
    );
    let expected = running_names(&label);
    assert!(!expected.is_empty(), "the churn left no running container");
    let ok = wait_until(REACT, POLL, || sorted_lines(&watcher.content()) == expected);
    assert!(
        ok,
        "target\n{}\ndiffers from the daemon's {expected:?}\nstderr:\n{}",
        watcher.content(),
        watcher.process.stderr()
    );
    assert!(watcher.process.is_running(), "pygen exited");
    let reconnects = watcher.metric("pygen_docker_reconnects_total");
    assert!(reconnects >= 20.0, "reconnects: {reconnects}");
    drop(survivors);
}

/// Template text rendering to itself: version `n`, small or large by parity, with a header and
/// a trailer naming the version, so a reader can tell a whole file from a partial one.
fn versioned_content(n: usize) -> String {
    let lines = if n % 2 == 0 { 2 } else { 4000 };
    let mut text = format!("begin {n}\n");
    for i in 0..lines {
        text.push_str(&format!("line {i} of version {n}\n"));
    }
    // No final newline: the template engine drops a trailing one.
    text.push_str(&format!("end {n}"));
    text
}

/// Whether `text` is one whole version written by [`versioned_content`].
fn is_whole_version(text: &str) -> bool {
    let Some(first) = text.lines().next() else {
        return false;
    };
    let Some(n) = first
        .strip_prefix("begin ")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return false;
    };
    text == versioned_content(n)
}

#[test]
fn readers_never_see_an_empty_or_partial_target_across_2000_rewrites() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("versions.tmpl");
    fs::write(&template, versioned_content(0)).expect("template");
    let mut watcher = Watcher::start(template.to_str().unwrap_or_default(), &["--interval", "0"]);
    watcher.wait_for("version 0", |c| c == versioned_content(0));
    let stop = Arc::new(AtomicBool::new(false));
    let bad: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let stop = Arc::clone(&stop);
        let bad = Arc::clone(&bad);
        let target = watcher.target.clone();
        thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let mut text = String::new();
                let read = fs::File::open(&target).and_then(|mut f| f.read_to_string(&mut text));
                match read {
                    Ok(_) if is_whole_version(&text) => {}
                    Ok(_) => {
                        if let Ok(mut bad) = bad.lock() {
                            let head: String = text.chars().take(80).collect();
                            bad.push(format!("{} bytes: {head:?}", text.len()));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut bad) = bad.lock() {
                            bad.push(format!("open/read failed: {e}"));
                        }
                    }
                }
                reads += 1;
            }
            reads
        })
    };
    let writes_before = watcher.metric("pygen_writes_total");
    for n in 1..=2000 {
        let expected = versioned_content(n);
        fs::write(&template, &expected).expect("template");
        watcher.process.signal("HUP");
        let written = wait_until(REACT, Duration::from_millis(1), || {
            fs::read_to_string(&watcher.target).is_ok_and(|c| c == expected)
        });
        assert!(
            written,
            "version {n} never written:\n{}",
            watcher.process.stderr()
        );
    }
    stop.store(true, Ordering::SeqCst);
    let reads = reader.join().expect("reader thread");
    let bad = bad.lock().map(|b| b.clone()).unwrap_or_default();
    assert!(
        bad.is_empty(),
        "{} bad reads out of {reads}, first: {:?}",
        bad.len(),
        bad.first()
    );
    assert!(reads >= 2000, "the reader only read {reads} times");
    assert!(watcher.process.is_running());
    // The counter moves right after the rename that the loop above saw, off the thread that
    // wrote the file: give it that moment.
    wait_until(REACT, Duration::from_millis(5), || {
        watcher.metric("pygen_writes_total") - writes_before >= 2000.0
    });
    let writes = watcher.metric("pygen_writes_total") - writes_before;
    assert!(writes >= 2000.0, "{writes} writes counted");
}

/// A folder bind-mounted read-only onto itself until dropped (root only: root ignores modes).
struct ReadOnlyMount(PathBuf);

impl ReadOnlyMount {
    /// Makes `dir` read-only; `None` when mounting is not allowed here.
    fn new(dir: &Path) -> Option<ReadOnlyMount> {
        let path = dir.to_str()?;
        let mount = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !mount(&["--bind", path, path]) {
            return None;
        }
        let guard = ReadOnlyMount(dir.to_path_buf());
        if !mount(&["-o", "remount,bind,ro", path]) {
            return None;
        }
        Some(guard)
    }
}

impl Drop for ReadOnlyMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_target_folder_is_logged_counted_and_recovered_from() {
    require_docker();
    let templates = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let label = unique_name("ro");
    let mut watcher = Watcher::start_at(
        &names_template(templates.path(), &label),
        out.path().join("target.conf"),
        &["--interval", "0"],
    );
    let first = sleeper(&label);
    watcher.wait_for("first container", |c| c.contains(first.name()));
    let before = watcher.content();
    let errors_before = watcher.metric("pygen_write_errors_total");
    let Some(read_only) = ReadOnlyMount::new(out.path()) else {
        eprintln!("skipped: cannot bind-mount a folder read-only here (needs root)");
        return;
    };
    assert!(
        fs::write(out.path().join("probe"), "x").is_err(),
        "the folder is not read-only"
    );
    let second = sleeper(&label);
    let counted = wait_until(REACT, POLL, || {
        watcher.metric("pygen_write_errors_total") > errors_before
    });
    assert!(
        counted,
        "write failure not counted:\n{}",
        watcher.process.stderr()
    );
    assert_eq!(
        watcher.content(),
        before,
        "the old file must stay untouched"
    );
    // The counter moves in the render task; the log line is written when the loop hears of
    // the failure, a moment later.
    let logged = wait_until(REACT, POLL, || {
        let stderr = watcher.process.stderr();
        stderr.contains("keeping the last good target") && stderr.contains("target.conf")
    });
    assert!(
        logged,
        "the failure is logged with the path:\n{}",
        watcher.process.stderr()
    );
    drop(read_only);
    let third = sleeper(&label);
    let expected = sorted_lines(&format!(
        "{}\n{}\n{}\n",
        first.name(),
        second.name(),
        third.name()
    ));
    watcher.wait_for("all three after recovery", |c| sorted_lines(c) == expected);
    assert!(watcher.process.is_running(), "pygen exited");
}

/// A one-route HTTP server on 127.0.0.1 answering every request with `body`, until dropped.
struct TemplateServer {
    /// The port it listens on.
    port: u16,
    /// Tells the accepting thread to stop.
    stop: Arc<AtomicBool>,
    /// The accepting thread.
    thread: Option<thread::JoinHandle<()>>,
}

impl TemplateServer {
    /// Serves `body` on a free port.
    fn start(body: String) -> TemplateServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                            let mut request = Vec::new();
                            let mut buf = [0u8; 1024];
                            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                                match stream.read(&mut buf) {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => request.extend_from_slice(&buf[..n]),
                                }
                            }
                            let _ = write!(
                                stream,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        TemplateServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// The template's URL.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/names.tmpl", self.port)
    }
}

impl Drop for TemplateServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn an_http_template_down_at_startup_is_a_clear_error() {
    require_docker();
    // A port nothing listens on any more.
    let url = format!("http://127.0.0.1:{}/names.tmpl", free_port());
    let target = tempfile::tempdir().expect("temp dir");
    let target = target.path().join("target.conf");
    let output = run_pygen([
        "--template",
        &url,
        "--target",
        target.to_str().unwrap_or_default(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot fetch template {url}")),
        "{stderr}"
    );
    assert!(!target.exists(), "nothing is written without a template");
}

#[test]
fn an_http_template_down_at_reload_keeps_the_previous_one() {
    require_docker();
    let label = unique_name("http");
    let server = TemplateServer::start(format!(
        "from http:{{% for c in containers if c.labels['{label}'] %}} {{{{ c.name }}}}{{% endfor %}}\n"
    ));
    let mut watcher = Watcher::start(&server.url(), &["--interval", "0"]);
    let first = sleeper(&label);
    watcher.wait_for("first container", |c| {
        c.trim_end() == format!("from http: {}", first.name())
    });
    drop(server);
    watcher.process.signal("HUP");
    let logged = wait_until(REACT, POLL, || {
        watcher
            .process
            .stderr()
            .contains("keeping the previous template")
    });
    let stderr = watcher.process.stderr();
    assert!(logged, "the failed reload is not logged:\n{stderr}");
    assert!(stderr.contains("cannot fetch template"), "{stderr}");
    let second = sleeper(&label);
    watcher.wait_for("the previous template renders the new container", |c| {
        c.starts_with("from http:") && c.contains(first.name()) && c.contains(second.name())
    });
    assert!(watcher.process.is_running(), "pygen exited");
}

/// A container that appends `Signalled` to /got on SIGHUP.
fn hup_receiver(target: &str) -> TestContainer {
    TestContainer::builder()
        .label("pygen.target", target)
        .shell("trap 'echo Signalled >> /got' HUP; while true; do sleep 0.1; done")
        .start()
}

/// How many signals a [`hup_receiver`] has received.
fn signals_received(container: &TestContainer) -> usize {
    String::from_utf8_lossy(&container.exec(["cat", "/got"]).stdout)
        .lines()
        .filter(|l| *l == "Signalled")
        .count()
}

#[test]
fn missing_and_dying_signal_targets_do_not_stop_the_others() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("sigf");
    let missing = unique_name("nobody");
    let dying_target = unique_name("dies");
    let receiver_target = unique_name("receives");
    // Exits as soon as it gets SIGTERM: signalled once, gone for the next run.
    let dying = TestContainer::builder()
        .label("pygen.target", &dying_target)
        .shell("trap 'exit 0' TERM; while true; do sleep 0.1; done")
        .start();
    let receiver = hup_receiver(&receiver_target);
    // The failing targets come first: the last one must be notified all the same.
    let mut watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &[
            "--interval",
            "0",
            "--signal",
            &missing,
            "HUP",
            "--signal",
            &dying_target,
            "TERM",
            "--signal",
            &receiver_target,
            "HUP",
        ],
    );
    // The first write is a change: one notification run.
    let notified = wait_until(REACT, POLL, || signals_received(&receiver) >= 1);
    assert!(
        notified,
        "the receiver got nothing:\n{}",
        watcher.process.stderr()
    );
    let died = wait_until(REACT, POLL, || !dying.is_running());
    assert!(died, "the dying target was not signalled");
    let received = signals_received(&receiver);
    // A second change: the dying target is gone now, the missing one still is.
    let trigger = sleeper(&label);
    watcher.wait_for("trigger listed", |c| c.contains(trigger.name()));
    let again = wait_until(REACT, POLL, || signals_received(&receiver) > received);
    let stderr = watcher.process.stderr();
    assert!(again, "the receiver was not notified again:\n{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("no running container matches") && l.contains(&missing)),
        "the missing target is logged:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("no running container matches") && l.contains(&dying_target)),
        "the dead target is logged on the next run:\n{stderr}"
    );
    assert!(watcher.process.is_running(), "pygen exited");
}
