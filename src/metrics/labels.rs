//! Label values: the bounds that keep them from growing without limit.
//!
//! Every label value pygen exposes is either one of a fixed set of words chosen by the code
//! (`kind`, `outcome`, `strategy`, `list_all`, `desired_state`), a Docker event action mapped
//! onto a fixed list ([`event_action`]), or a free string passed through a [`BoundedLabels`]
//! guard. Free strings come from the configuration (restart and signal targets, signal names,
//! peer host names) and, on the worker, from request bodies, so an unbounded label would let a
//! peer create any number of series.

use std::collections::HashSet;
use std::sync::Mutex;

/// The value a bounded label takes once its bound is reached.
pub const OVERFLOW: &str = "other";

/// The longest label value kept, in bytes; longer values are cut at a character boundary.
pub const MAX_LABEL_LEN: usize = 128;

/// Keeps at most `limit` distinct values of one label in one metric family; any further value is
/// reported as [`OVERFLOW`] (`other`).
///
/// Values are also cut to [`MAX_LABEL_LEN`] bytes. Values admitted once stay admitted, so a
/// series never changes its label value halfway through the life of the process.
#[derive(Debug)]
pub struct BoundedLabels {
    /// How many distinct values are admitted before new ones become `other`.
    limit: usize,
    /// The values admitted so far.
    seen: Mutex<HashSet<String>>,
}

impl BoundedLabels {
    /// A guard admitting at most `limit` distinct values.
    pub fn new(limit: usize) -> Self {
        BoundedLabels {
            limit,
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The label value to use for `value`: the value itself (cut to [`MAX_LABEL_LEN`] bytes) if
    /// it was seen before or the bound is not reached yet, else `other`.
    pub fn admit(&self, value: &str) -> String {
        let value = truncate(value, MAX_LABEL_LEN);
        // The set holds plain strings: a panic elsewhere while the lock was held cannot leave it
        // half-updated, so a poisoned lock is still safe to use.
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < self.limit {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OVERFLOW.to_owned()
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Docker event actions kept as label values: those of container, service, node and network
/// events (Docker Engine API `/events`). Sorted, for the binary search.
const KNOWN_EVENT_ACTIONS: [&str; 27] = [
    "attach",
    "commit",
    "connect",
    "copy",
    "create",
    "destroy",
    "detach",
    "die",
    "disconnect",
    "exec_create",
    "exec_detach",
    "exec_die",
    "exec_start",
    "export",
    "health_status",
    "kill",
    "oom",
    "pause",
    "prune",
    "remove",
    "rename",
    "resize",
    "restart",
    "start",
    "stop",
    "unpause",
    "update",
];

/// The label value for a Docker event action: the part before the first `:`
/// (`health_status: healthy` -> `health_status`, `exec_start: sh -c …` -> `exec_start`) if it is
/// a known container, service, node or network action, else `other`.
pub fn event_action(action: &str) -> &'static str {
    let head = action.split(':').next().unwrap_or_default().trim();
    KNOWN_EVENT_ACTIONS
        .binary_search(&head)
        .map(|i| KNOWN_EVENT_ACTIONS[i])
        .unwrap_or(OVERFLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_falls_back_to_other() {
        let labels = BoundedLabels::new(2);
        assert_eq!(labels.admit("a"), "a");
        assert_eq!(labels.admit("b"), "b");
        assert_eq!(labels.admit("c"), OVERFLOW);
        // Values admitted before the bound stay admitted.
        assert_eq!(labels.admit("a"), "a");
        assert_eq!(labels.admit("b"), "b");
        assert_eq!(labels.admit("d"), OVERFLOW);
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary() {
        let labels = BoundedLabels::new(4);
        let long = "x".repeat(MAX_LABEL_LEN + 10);
        assert_eq!(labels.admit(&long).len(), MAX_LABEL_LEN);
        // 'é' is two bytes: a cut in its middle moves back one byte.
        let accents = format!("{}é", "y".repeat(MAX_LABEL_LEN - 1));
        let kept = labels.admit(&accents);
        assert_eq!(kept, "y".repeat(MAX_LABEL_LEN - 1));
        // Two long values with the same head are the same label value, counted once.
        assert_eq!(labels.admit(&format!("{long}zzz")).len(), MAX_LABEL_LEN);
        assert_eq!(labels.admit("third"), "third");
        assert_eq!(labels.admit("fourth"), "fourth");
        assert_eq!(labels.admit("fifth"), OVERFLOW);
    }

    #[test]
    fn known_list_is_sorted() {
        assert!(KNOWN_EVENT_ACTIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn event_actions_are_normalised() {
        assert_eq!(event_action("start"), "start");
        assert_eq!(event_action("health_status: healthy"), "health_status");
        assert_eq!(event_action("health_status: unhealthy"), "health_status");
        assert_eq!(event_action("exec_start: /bin/sh -c echo"), "exec_start");
        assert_eq!(event_action("connect"), "connect");
        assert_eq!(event_action("pull"), OVERFLOW, "image events are not kept");
        assert_eq!(event_action("Start"), OVERFLOW);
        assert_eq!(event_action("made-up"), OVERFLOW);
        assert_eq!(event_action(""), OVERFLOW);
    }
}
