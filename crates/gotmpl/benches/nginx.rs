//! Times parsing nginx-proxy's `nginx.tmpl` (1,144 lines) with sprig's functions registered.
//! Rendering it over the `main.json` docker-gen context needs docker-gen's own functions
//! (`groupByLabel`, `where`, `exists`, ...), which this crate does not provide; so this measures
//! parsing alone, and separately the executor over the same context's data with a template
//! using only builtins and sprig. Run with `cargo bench -p gotmpl --bench nginx`; it prints
//! figures and asserts nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gotmpl::{Template, Value};

const NGINX: &str = include_str!("../tests/fixtures/nginx.tmpl");
const MAIN: &str = include_str!("../tests/fixtures/main.json");

/// A template walking the whole context with ranges, conditions, sprig calls and printf.
const WALK: &str = r#"{{- range $c := .Containers }}
{{- $vhost := index $c.Env "VIRTUAL_HOST" | default "none" }}
{{- range $n := $c.Networks }}{{ printf "%s %s %s\n" $c.Name $n.Name ($n.IP | default "-") }}{{ end }}
{{- range $k, $v := $c.Labels }}{{ if hasPrefix "com." $k }}{{ $k }}={{ $v | quote }};{{ end }}{{ end }}
{{- range $a := $c.Addresses }}{{ $a.Port }}/{{ $a.Proto }} {{ end }}
{{- with $c.State }}{{ if .Running }}up{{ else }}down{{ end }}{{ end }} {{ upper $vhost }} {{ sha1sum $c.ID | trunc 12 }}
{{ end }}"#;

fn time<F: FnMut()>(label: &str, iters: u32, mut f: F) {
    // Warm up, then time.
    for _ in 0..iters.div_ceil(10) {
        f();
    }
    let mut samples: Vec<Duration> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<Duration>() / iters;
    println!("{label}: median {median:?}, mean {mean:?} over {iters} runs");
}

fn main() {
    let funcs = gotmpl::sprig::funcs();
    time("sprig::funcs() build", 200, || {
        black_box(gotmpl::sprig::funcs());
    });
    time("parse nginx.tmpl", 200, || {
        let mut t = Template::new("nginx.tmpl")
            .funcs(funcs.clone())
            .skip_func_check();
        t.parse(black_box(NGINX)).expect("nginx.tmpl parses");
        black_box(t);
    });
    let json: serde_json::Value = serde_json::from_str(MAIN).expect("main.json is JSON");
    time("main.json to values", 200, || {
        black_box(Value::from(json.clone()));
    });
    let data = Value::from(json.clone());
    let mut t = Template::new("walk").funcs(funcs.clone());
    t.parse(WALK).expect("the walk template parses");
    let out = t.execute(&data).expect("the walk template renders");
    println!("walk template output: {} bytes", out.len());
    time("render walk template over main.json", 500, || {
        black_box(t.execute(black_box(&data)).expect("renders"));
    });
}
