//! Arbitrary command lines (NUL-separated arguments) through clap and the configuration checks,
//! and arbitrary values straight into the `--interval`, `--events` and `--signal` parsers: an
//! error or a configuration, never a panic.
#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use pygen::cli::Cli;
use pygen::config::{EventFilter, Intervals, Mode, SignalSpec};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args: Vec<String> = text.split('\0').map(str::to_owned).collect();

    // The whole command line, as the binary parses it.
    if let Ok(cli) = Cli::try_parse_from(std::iter::once("pygen".to_owned()).chain(args.clone())) {
        let _ = Mode::from_cli(&cli);
    }

    // The same pieces through the parsers directly.
    let values: Vec<f64> = data
        .chunks_exact(8)
        .take(4)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    if let Ok(intervals) = Intervals::from_values(&values) {
        assert!(
            intervals.min <= intervals.max,
            "{values:?} -> {intervals:?}"
        );
    }
    let numbers: Vec<f64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if let Ok(intervals) = Intervals::from_values(&numbers) {
        assert!(
            intervals.min <= intervals.max,
            "{numbers:?} -> {intervals:?}"
        );
    }
    if let Ok(filter) = EventFilter::new("--events", &args) {
        for action in &args {
            let _ = filter.matches(action);
        }
        let _ = filter.matches("start");
    }
    for pair in args.chunks(2) {
        if let [target, signal] = pair {
            let _ = SignalSpec::new(target.clone(), signal);
        }
    }
});
