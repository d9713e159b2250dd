//! The value types of the configuration: `--interval`'s batching window, a checked signal, the
//! event filter. Each validates its input once and holds only valid values.

use std::time::Duration;

use super::Error;

/// The notification batching window (`--interval MIN [MAX]`): actions run once no change came
/// for `min`, and at the latest `max` after the first change of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    /// Quiet period after the last change; zero runs the actions at once.
    pub min: Duration,
    /// Longest delay after the first change of a batch; never below `min`.
    pub max: Duration,
}

impl Intervals {
    /// No batching: actions run right after each change (`--interval 0`, `--one-shot`).
    pub const IMMEDIATE: Intervals = Intervals {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    /// Validates `--interval` values (clap parsed each as seconds): one (MIN = MAX) or two,
    /// MIN <= MAX.
    pub fn from_values(values: &[Duration]) -> Result<Intervals, Error> {
        Intervals::from_values_of("--interval", values)
    }

    /// [`Intervals::from_values`] for the values of `flag` (a flag, or a config file key),
    /// which the errors name.
    pub fn from_values_of(flag: &'static str, values: &[Duration]) -> Result<Intervals, Error> {
        let (min, max) = match values {
            [] => return Err(Error::EmptyValue { flag }),
            [one] => (*one, *one),
            [min, max] => (*min, *max),
            more => {
                return Err(Error::TooManyIntervals {
                    flag,
                    count: more.len(),
                    values: more
                        .iter()
                        .map(|value| value.as_secs_f64().to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
        };
        if min > max {
            return Err(Error::IntervalOrder {
                flag,
                min: min.as_secs_f64(),
                max: max.as_secs_f64(),
            });
        }
        Ok(Intervals { min, max })
    }

    /// Whether actions run at once instead of being batched (MIN is zero).
    pub fn is_immediate(&self) -> bool {
        self.min.is_zero()
    }
}

/// One `--signal CONTAINER SIGNAL` pair, with the signal checked and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSpec {
    /// Container target, matched like a `--restart` target; never empty.
    pub target: String,
    /// The signal in the form sent to Docker's kill API: `SIG` + upper-case name (`SIGHUP`,
    /// `SIGRTMIN+3`) or a decimal number (`9`).
    pub signal: String,
}

/// Linux signal names Docker's kill API understands, without the `SIG` prefix.
const SIGNAL_NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Real-time signals Docker accepts by name: `RTMIN`, `RTMIN+1..=15`, `RTMAX-14..=1`, `RTMAX`.
const RT_OFFSET_MAX: u8 = 15;

impl SignalSpec {
    /// Checks `signal` for `target` and normalizes it.
    ///
    /// Accepted: a Linux signal name with or without the `SIG` prefix, in any case, the
    /// real-time forms `RTMIN`, `RTMIN+N` (N 1..=15), `RTMAX-N` (N 1..=14), `RTMAX`, or a
    /// number from 1 to 64.
    pub fn new(target: String, signal: &str) -> Result<SignalSpec, Error> {
        if target.is_empty() {
            return Err(Error::EmptyValue { flag: "--signal" });
        }
        match normalize_signal(signal) {
            Some(signal) => Ok(SignalSpec { target, signal }),
            None => Err(Error::UnknownSignal {
                target,
                signal: signal.to_string(),
            }),
        }
    }
}

fn normalize_signal(signal: &str) -> Option<String> {
    if !signal.is_empty() && signal.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: anything too long for u8 is out of range anyway.
        return match signal.parse::<u8>() {
            Ok(number @ 1..=64) => Some(number.to_string()),
            _ => None,
        };
    }
    let upper = signal.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let known = SIGNAL_NAMES.contains(&name)
        || name == "RTMIN"
        || name == "RTMAX"
        || rt_offset(name, "RTMIN+", RT_OFFSET_MAX)
        || rt_offset(name, "RTMAX-", RT_OFFSET_MAX - 1);
    known.then(|| format!("SIG{name}"))
}

/// Whether `name` is `prefix` followed by a number in `1..=max` written without a leading zero.
fn rt_offset(name: &str, prefix: &str, max: u8) -> bool {
    name.strip_prefix(prefix).is_some_and(|offset| {
        !offset.starts_with('0')
            && offset.bytes().all(|b| b.is_ascii_digit())
            && offset.parse::<u8>().is_ok_and(|n| (1..=max).contains(&n))
    })
}

/// Which Docker event actions trigger an update (`--events`).
///
/// An action matches an item when it equals the item, or when it starts with the item followed
/// by `:` and at least one more character, so `health_status` matches
/// `health_status: healthy`. Comparisons are exact and case-sensitive; items are plain text,
/// never patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// The watched items; empty when `none` was given alone.
    items: Vec<String>,
}

impl EventFilter {
    /// Builds the filter from the values of `flag`; `none` as the only value gives a filter that
    /// matches nothing.
    pub fn new(flag: &'static str, items: &[String]) -> Result<EventFilter, Error> {
        if items.iter().any(String::is_empty) {
            return Err(Error::EmptyValue { flag });
        }
        if items.len() == 1 && items[0] == "none" {
            return Ok(EventFilter { items: Vec::new() });
        }
        Ok(EventFilter {
            items: items.to_vec(),
        })
    }

    /// The filter that matches nothing (`--events none`).
    pub fn none() -> EventFilter {
        EventFilter { items: Vec::new() }
    }

    /// Whether the event action `action` (e.g. `start`, `health_status: healthy`) is watched.
    pub fn matches(&self, action: &str) -> bool {
        self.items.iter().any(|item| {
            action == item
                || action
                    .strip_prefix(item.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|detail| !detail.is_empty())
        })
    }

    /// Whether no event can match (`--events none`).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The watched items, in flag order.
    pub fn items(&self) -> &[String] {
        &self.items
    }
}
