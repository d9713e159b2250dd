//! The standard `process_*` metrics, read from `/proc` at each scrape.
//!
//! prometheus-client has no process collector; these follow the names the official clients use,
//! so existing dashboards work. Anything that cannot be read (another OS, a restricted `/proc`)
//! is left out of the scrape rather than reported as zero.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Clock ticks per second in `/proc/self/stat` (`USER_HZ`). It is part of the kernel's user
/// space interface and 100 on every architecture pygen is built for; reading `sysconf` would
/// need `libc` for one constant.
const TICKS_PER_SECOND: f64 = 100.0;

/// Reads the process figures from `/proc` whenever the registry is encoded.
#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

/// One reading of the process figures; `None` where the source was unreadable.
#[derive(Debug, Default, PartialEq)]
struct Sample {
    /// User plus system CPU time, in seconds.
    cpu_seconds: Option<f64>,
    /// Start time of the process, in seconds since the Unix epoch.
    start_time_seconds: Option<f64>,
    /// Resident set size, in bytes.
    resident_memory_bytes: Option<u64>,
    /// Virtual memory size, in bytes.
    virtual_memory_bytes: Option<u64>,
    /// Open file descriptors.
    open_fds: Option<u64>,
    /// The soft limit on open file descriptors.
    max_fds: Option<u64>,
}

impl Sample {
    fn read() -> Sample {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let stat = read("/proc/self/stat").and_then(|t| parse_stat(&t));
        let boot_time = read("/proc/stat").and_then(|t| parse_boot_time(&t));
        let status = read("/proc/self/status");
        let kib = |key: &str| {
            status
                .as_deref()
                .and_then(|t| parse_status_kib(t, key))
                .map(|k| k * 1024)
        };
        Sample {
            cpu_seconds: stat.as_ref().map(|s| s.cpu_seconds()),
            start_time_seconds: stat
                .as_ref()
                .zip(boot_time)
                .map(|(s, boot)| boot as f64 + s.start_ticks as f64 / TICKS_PER_SECOND),
            resident_memory_bytes: kib("VmRSS:"),
            virtual_memory_bytes: kib("VmSize:"),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|dir| dir.count() as u64),
            max_fds: read("/proc/self/limits").and_then(|t| parse_max_open_files(&t)),
        }
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let sample = Sample::read();
        let seconds = Unit::Seconds;
        let bytes = Unit::Bytes;
        if let Some(v) = sample.cpu_seconds {
            let metric = ConstCounter::new(v);
            metric.encode(encoder.encode_descriptor(
                "process_cpu",
                "Total user and system CPU time spent.",
                Some(&seconds),
                metric.metric_type(),
            )?)?;
        }
        if let Some(v) = sample.start_time_seconds {
            let metric = ConstGauge::new(v);
            metric.encode(encoder.encode_descriptor(
                "process_start_time",
                "Start time of the process since the Unix epoch.",
                Some(&seconds),
                metric.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "process_resident_memory",
                "Resident memory size.",
                Some(&bytes),
                sample.resident_memory_bytes,
            ),
            (
                "process_virtual_memory",
                "Virtual memory size.",
                Some(&bytes),
                sample.virtual_memory_bytes,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                None,
                sample.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                None,
                sample.max_fds,
            ),
        ];
        for (name, help, unit, value) in gauges {
            if let Some(v) = value {
                // A u64 gauge above i64::MAX is not a real reading; saturate rather than wrap.
                let metric = ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX));
                metric.encode(encoder.encode_descriptor(
                    name,
                    help,
                    unit,
                    metric.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}

/// The fields of `/proc/self/stat` pygen uses.
#[derive(Debug, PartialEq)]
struct Stat {
    /// Time in user mode, in clock ticks.
    user_ticks: u64,
    /// Time in kernel mode, in clock ticks.
    system_ticks: u64,
    /// Start time after boot, in clock ticks.
    start_ticks: u64,
}

impl Stat {
    fn cpu_seconds(&self) -> f64 {
        (self.user_ticks + self.system_ticks) as f64 / TICKS_PER_SECOND
    }
}

/// Parses `/proc/self/stat`. The command name (field 2) is in parentheses and may contain spaces
/// and parentheses itself, so fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; utime is field 14, stime 15, starttime 22.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        user_ticks: field(14)?,
        system_ticks: field(15)?,
        start_ticks: field(22)?,
    })
}

/// The boot time (`btime`, seconds since the epoch) from `/proc/stat`.
fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// A `kB` value from `/proc/self/status`, e.g. `VmRSS:    1234 kB`. Used instead of `statm`,
/// whose page counts would need the page size, which varies by architecture and kernel.
fn parse_status_kib(text: &str, key: &str) -> Option<u64> {
    let rest = text.lines().find_map(|l| l.strip_prefix(key))?;
    let mut parts = rest.split_whitespace();
    let value = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then_some(value)
}

/// The soft limit of `Max open files` in `/proc/self/limits`; `None` if unlimited.
fn parse_max_open_files(text: &str) -> Option<u64> {
    let rest = text
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_awkward_command_name() {
        let text = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 75 0 0 20 0 8 0 123456 1000000 500 18446744073709551615\n";
        let stat = parse_stat(text).unwrap();
        assert_eq!(
            stat,
            Stat {
                user_ticks: 250,
                system_ticks: 75,
                start_ticks: 123456
            }
        );
        assert_eq!(stat.cpu_seconds(), 3.25);
    }

    #[test]
    fn stat_garbage() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
        assert_eq!(parse_stat("no parenthesis at all"), None);
    }

    #[test]
    fn boot_time() {
        let text = "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses 7\n";
        assert_eq!(parse_boot_time(text), Some(1_700_000_000));
        assert_eq!(parse_boot_time("cpu 1 2\n"), None);
    }

    #[test]
    fn status_values() {
        let text = "Name:\tpygen\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n";
        assert_eq!(parse_status_kib(text, "VmRSS:"), Some(2048));
        assert_eq!(parse_status_kib(text, "VmSize:"), Some(123_456));
        assert_eq!(parse_status_kib(text, "Threads:"), None, "no unit");
        assert_eq!(parse_status_kib(text, "VmSwap:"), None);
    }

    #[test]
    fn max_open_files() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63704                63704                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_max_open_files(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_open_files(unlimited), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let sample = Sample::read();
        assert!(sample.cpu_seconds.is_some());
        assert!(sample.start_time_seconds.is_some_and(|s| s > 1e9));
        assert!(sample.resident_memory_bytes.is_some_and(|b| b > 0));
        // The test harness has stdin, stdout and stderr open at least.
        assert!(sample.open_fds.is_some_and(|n| n >= 3));
    }
}
