//! Scale figures of the model and the Jinja dialect at 300, 1,000 and 10,000 containers: the
//! state held in memory, one render of `nginx.example`, and one event (one container changed,
//! the others unchanged) to a written file. The containers are the seven of
//! `examples/state.json` repeated with new ids, names and addresses, over 200 virtual hosts.
//!
//! Run with `cargo bench --bench scale`; prints figures, asserts nothing. With
//! `SCALE_DUMP_DIR=<folder>` it also writes each synthetic state as `<folder>/state-<n>.json`,
//! the input of `pygen render --state` (see `scripts/bench-scale.sh`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pygen::model::{Container, Snapshot};
use pygen::output;
use pygen::template::Template;

const STATE: &str = include_str!("../examples/state.json");
const NGINX: &str = include_str!("../tests/data/templates/nginx.example");

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

/// Bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The highest value `LIVE` reached since the last [`reset_peak`].
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the same arguments; the counters
// do not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes in use now.
fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak measurement from the bytes in use now.
fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

/// The peak since [`reset_peak`].
fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// The seven containers of `examples/state.json`.
fn base() -> Vec<serde_json::Value> {
    let state: serde_json::Value = serde_json::from_str(STATE).expect("the example is JSON");
    state["containers"]
        .as_array()
        .expect("the example has containers")
        .clone()
}

/// One synthetic container: copy `copy` of `template`.
fn synthetic(template: &serde_json::Value, copy: usize, index: usize) -> serde_json::Value {
    let mut c = template.clone();
    c["Id"] = format!("{index:016x}{:048x}", copy * 7919 + 13).into();
    let name = c["Name"].as_str().unwrap_or("/c").to_owned();
    c["Name"] = format!("{name}_{copy}").into();
    c["Created"] = format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}.{index}Z",
        1 + copy / 86_400 % 28,
        copy / 3600 % 24,
        copy / 60 % 60,
        copy % 60
    )
    .into();
    if let Some(host) = c["Config"]["Labels"]["virtual-host"].as_str() {
        // Two virtual hosts in the example, times 100: 200 virtual hosts.
        c["Config"]["Labels"]["virtual-host"] = format!("h{}.{host}", copy % 100).into();
    }
    if let Some(networks) = c["NetworkSettings"]["Networks"].as_object_mut() {
        for network in networks.values_mut() {
            network["IPAddress"] = format!(
                "10.{}.{}.{}",
                index / 65_536 % 256,
                index / 256 % 256,
                index % 256
            )
            .into();
        }
    }
    c
}

/// A state of `n` synthetic containers, as a dump.
fn dump(n: usize) -> String {
    let base = base();
    let containers: Vec<serde_json::Value> = (0..n)
        .map(|i| synthetic(&base[i % base.len()], i / base.len(), i))
        .collect();
    let state =
        serde_json::json!({"version": 1, "own_container_id": null, "containers": containers});
    serde_json::to_string_pretty(&state).expect("plain JSON serializes")
}

/// The median and maximum of `samples`.
fn median_max(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let template =
        Template::from_text("nginx.example", NGINX.to_owned()).expect("nginx.example compiles");
    let folder = tempfile::tempdir().expect("temporary folder");
    let target = folder.path().join("nginx.conf");
    let dump_dir = std::env::var_os("SCALE_DUMP_DIR").map(std::path::PathBuf::from);
    for n in [300, 1_000, 10_000] {
        let before = live();
        let text = dump(n);
        if let Some(dir) = &dump_dir {
            std::fs::write(dir.join(format!("state-{n}.json")), &text).expect("dump written");
        }
        println!(
            "--- {n} containers (dump {:.1} MB)",
            text.len() as f64 / 1e6
        );

        reset_peak();
        let started = Instant::now();
        let mut snapshot = Snapshot::from_dump(&text).expect("the synthetic dump reads");
        let read = started.elapsed();
        let read_peak = peak() - before;
        drop(text);
        println!(
            "{:<52} {:>9.1} MiB (peak while reading, dump text included, {:.1} MiB; {:.1} ms)",
            "state held (snapshot of the dump)",
            mib(live().saturating_sub(before)),
            mib(read_peak),
            ms(read)
        );

        let started = Instant::now();
        let first = template.render_snapshot(&snapshot).expect("renders");
        let cold = started.elapsed();
        println!(
            "{:<52} {:>9.2} ms",
            "first render of nginx.example",
            ms(cold)
        );
        let renders: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                black_box(template.render_snapshot(&snapshot).expect("renders"));
                started.elapsed()
            })
            .collect();
        let (median, max) = median_max(renders);
        println!(
            "{:<52} {:>9.2} ms median, {:.2} ms max",
            "render of nginx.example (nothing changed)",
            ms(median),
            ms(max)
        );
        println!(
            "{:<52} {:>9.1} MiB (output {} KiB)",
            "state + template objects held after renders",
            mib(live().saturating_sub(before)),
            first.len() / 1024
        );

        output::write_if_changed(&target, &first).expect("target written");
        let mut renders = Vec::with_capacity(20);
        let events: Vec<Duration> = (0..20)
            .map(|round| {
                // One container changes (a new address, as after a restart): the state cache
                // replaces its Arc; every other container stays the same shared value.
                let index = round * (n / 20);
                let mut json: serde_json::Value =
                    serde_json::from_str(&snapshot.containers[index].raw_json())
                        .expect("kept JSON parses");
                if let Some(networks) = json["NetworkSettings"]["Networks"].as_object_mut() {
                    for network in networks.values_mut() {
                        network["IPAddress"] = format!("172.31.{}.{}", round, index % 256).into();
                    }
                }
                let changed =
                    Container::from_inspect_json(&json.to_string()).expect("changed JSON parses");
                let started = Instant::now();
                snapshot.containers[index] = Arc::new(changed);
                let content = template.render_snapshot(&snapshot).expect("renders");
                renders.push(started.elapsed());
                black_box(output::write_if_changed(&target, &content).expect("target written"));
                started.elapsed()
            })
            .collect();
        let (median, max) = median_max(events);
        println!(
            "{:<52} {:>9.2} ms median, {:.2} ms max",
            "one container changed -> render -> file written",
            ms(median),
            ms(max)
        );
        // The write syncs the file and its folder, so its share depends on the disk's load.
        let (median, max) = median_max(renders);
        println!(
            "{:<52} {:>9.2} ms median, {:.2} ms max",
            "  of which the render",
            ms(median),
            ms(max)
        );
    }
}
