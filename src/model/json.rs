//! Reading the daemon's loosely typed JSON into pygen's compact fields: the forgiving
//! accessors (a value of an unexpected type reads as empty, never as an error), the label and
//! env pair lists every object kind shares, and compaction of the bodies kept for `raw`.
//!
//! Shared by the container and Swarm parsers, so that both read odd data the same way.

use std::sync::Arc;

use serde_json::Value as Json;

/// Looks a key up in a list of pairs, exactly (as `dict.get` does).
pub(crate) fn lookup_exact<'a>(pairs: &'a [(Box<str>, Box<str>)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
}

/// The value at a path of object keys, or `Null`.
pub(super) fn at<'a>(value: &'a Json, path: &[&str]) -> &'a Json {
    static NULL: Json = Json::Null;
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .unwrap_or(&NULL)
}

/// A string value, `''` for anything else.
pub(super) fn text(value: &Json) -> &str {
    value.as_str().unwrap_or("")
}

/// A string value, `None` for anything else.
pub(super) fn opt_text(value: Option<&Json>) -> Option<Box<str>> {
    value.and_then(Json::as_str).map(Box::from)
}

/// `Config.Labels`: string values only, sorted by key.
pub(super) fn labels(value: Option<&Json>) -> Box<[(Box<str>, Box<str>)]> {
    let Some(map) = value.and_then(Json::as_object) else {
        return Box::default();
    };
    let mut pairs: Vec<(Box<str>, Box<str>)> = map
        .iter()
        .map(|(k, v)| (Box::from(k.as_str()), Box::from(scalar_text(v).as_str())))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.into_boxed_slice()
}

/// A label value as text: strings as they are, other scalars in their JSON spelling.
fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// `Config.Env`: each `K=V` split on the first `=`; an entry without `=` is a key with an
/// empty value. A repeated key keeps its first position and takes the last value, like a
/// Python dict built from the list.
pub(super) fn env(value: Option<&Json>) -> Box<[(Box<str>, Box<str>)]> {
    let Some(list) = value.and_then(Json::as_array) else {
        return Box::default();
    };
    let mut pairs: Vec<(Box<str>, Box<str>)> = Vec::with_capacity(list.len());
    for entry in list.iter().filter_map(Json::as_str) {
        let (key, val) = entry.split_once('=').unwrap_or((entry, ""));
        match pairs.iter_mut().find(|(k, _)| &**k == key) {
            Some(existing) => existing.1 = val.into(),
            None => pairs.push((key.into(), val.into())),
        }
    }
    pairs.into_boxed_slice()
}

/// Removes the whitespace between JSON tokens of a document already known to be valid.
pub(super) fn compact_json(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            continue;
        }
        out.push(b);
    }
    // Only ASCII whitespace outside strings was dropped, so the bytes are still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Labels, env or platform pairs, shared with the template maps that show them.
pub(crate) type Pairs = Arc<[(Box<str>, Box<str>)]>;

/// `ID` of an object.
pub(super) fn id_of(value: &Json) -> &str {
    text(at(value, &["ID"]))
}

/// A number as i64, when it is one.
pub(super) fn int(value: &Json) -> Option<i64> {
    value.as_i64()
}

/// A port number, when the value is one in range.
pub(super) fn port(value: &Json) -> Option<u16> {
    value.as_u64().and_then(|n| u16::try_from(n).ok())
}

/// An address without its prefix length: `10.0.0.3/24` → `10.0.0.3`.
pub(super) fn strip_prefix_len(addr: &str) -> &str {
    addr.split_once('/').map_or(addr, |(ip, _)| ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_whitespace_inside_strings() {
        let raw = "{ \"a b\" : \"x \\\" y\\\\\" ,\n \"c\": [ 1 , 2 ] }";
        assert_eq!(compact_json(raw), "{\"a b\":\"x \\\" y\\\\\",\"c\":[1,2]}");
    }
}
