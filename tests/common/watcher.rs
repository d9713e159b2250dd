//! A watch-mode pygen under test: its target file, its metrics, and waits on both.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use super::{PygenProcess, free_port, wait_until};

/// How long a [`Watcher`] waits for pygen to react to something.
pub const REACT: Duration = Duration::from_secs(30);
/// How often a [`Watcher`] polls a condition.
pub const POLL: Duration = Duration::from_millis(20);

/// A watch-mode pygen with a target file and a metrics port.
pub struct Watcher {
    /// The running process.
    pub process: PygenProcess,
    /// The target file.
    pub target: PathBuf,
    /// The metrics port on 127.0.0.1.
    pub port: u16,
}

impl Watcher {
    /// Starts pygen on `template`, writing `target`, with extra flags; waits for the first write.
    pub fn start_at(template: &str, target: PathBuf, extra: &[&str]) -> Watcher {
        let port = free_port();
        let port_text = port.to_string();
        let mut args = vec![
            "--template",
            template,
            "--target",
            target.to_str().unwrap_or_default(),
            "--metrics",
            &port_text,
            "--metrics-address",
            "127.0.0.1",
        ];
        args.extend_from_slice(extra);
        let process = PygenProcess::spawn(&args);
        let watcher = Watcher {
            process,
            target,
            port,
        };
        let started = wait_until(REACT, POLL, || watcher.target.exists());
        assert!(
            started,
            "no first write; stderr:\n{}",
            watcher.process.stderr()
        );
        watcher
    }

    /// [`Watcher::start_at`] with a target in a fresh temporary folder.
    pub fn start(template: &str, extra: &[&str]) -> Watcher {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.keep().join("target.conf");
        Self::start_at(template, target, extra)
    }

    /// The target's content.
    pub fn content(&self) -> String {
        fs::read_to_string(&self.target).unwrap_or_default()
    }

    /// Waits until the target satisfies `condition`; panics with the content and logs if not.
    pub fn wait_for(&self, what: &str, condition: impl Fn(&str) -> bool) {
        let ok = wait_until(REACT, POLL, || condition(&self.content()));
        assert!(
            ok,
            "{what}: target is\n{}\nstderr:\n{}",
            self.content(),
            self.process.stderr()
        );
    }

    /// The scraped metrics text (empty when the endpoint does not answer).
    pub fn metrics(&self) -> String {
        scrape(self.port)
    }

    /// The value of one unlabelled series, 0 when absent.
    pub fn metric(&self, name: &str) -> f64 {
        metric_value(&scrape(self.port), name)
    }
}

/// GET /metrics over a plain TCP connection; empty when the endpoint does not answer.
pub fn scrape(port: u16) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut response = String::new();
    if stream.write_all(request).is_err() || stream.read_to_string(&mut response).is_err() {
        return String::new();
    }
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// The value of the series `name` in `text`: exact when `name` carries labels, else the sum of
/// the family's series whatever their labels (`pygen_renders_total` sums every template's).
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let matches = series == name
                || (!name.contains('{')
                    && series
                        .strip_prefix(name)
                        .is_some_and(|labels| labels.starts_with('{')));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}
