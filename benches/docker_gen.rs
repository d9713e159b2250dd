//! Times nginx-proxy's `nginx.tmpl` in docker-gen mode: parsing it with docker-gen's function
//! map, executing it over the recorded `main.json` context (the fixture of tests/docker_gen.rs,
//! with its fake root for `exists`/`include`), and the whole render as the live mode runs it
//! (parse, execute, blank lines removed). Run with `cargo bench --bench docker_gen`; it prints
//! figures and asserts nothing beyond the render succeeding.

use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use gotmpl::Template;
use pygen::template::go::{Context, RenderOptions, functions, render_docker_gen};

/// Times `f` over `iters` runs after a warm-up; prints the median and the mean.
fn time<F: FnMut()>(label: &str, iters: u32, mut f: F) {
    for _ in 0..iters.div_ceil(10) {
        f();
    }
    let mut samples: Vec<Duration> = (0..iters)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<Duration>() / iters;
    println!("{label:<48} median {median:>10.3?}  mean {mean:>10.3?}  ({iters} runs)");
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/docker-gen");
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let source = read(&data.join("nginx.tmpl"));
    let context_text = read(&data.join("contexts/main.json"));
    let root = data.join("fakeroot");
    let context = Context::from_json(&context_text).expect("main.json is a docker-gen context");
    let options = RenderOptions {
        name: "nginx.tmpl".to_string(),
        keep_blank_lines: false,
    };
    let output = render_docker_gen(&source, &context, &root, &options).expect("nginx.tmpl renders");
    println!(
        "nginx.tmpl: {} lines; main.json: {} containers; output {} bytes",
        source.lines().count(),
        context_text.matches("\"ID\"").count(),
        output.len()
    );

    time("context JSON to template data", 200, || {
        let context = Context::from_json(black_box(&context_text)).expect("valid");
        black_box(context.to_value());
    });
    time("parse nginx.tmpl (docker-gen functions)", 200, || {
        let slot: Arc<OnceLock<Weak<Template>>> = Arc::new(OnceLock::new());
        let mut template = Template::new("nginx.tmpl").funcs(functions(&root, slot));
        template.parse(black_box(&source)).expect("parses");
        black_box(template);
    });
    let slot: Arc<OnceLock<Weak<Template>>> = Arc::new(OnceLock::new());
    let mut template = Template::new("nginx.tmpl").funcs(functions(&root, Arc::clone(&slot)));
    template.parse(&source).expect("parses");
    let template = Arc::new(template);
    let _ = slot.set(Arc::downgrade(&template));
    let value = context.to_value();
    time("execute nginx.tmpl over main.json", 200, || {
        black_box(template.execute(black_box(&value)).expect("executes"));
    });
    time("whole render (parse, execute, blank lines)", 200, || {
        black_box(render_docker_gen(&source, &context, &root, &options).expect("renders"));
    });
}
