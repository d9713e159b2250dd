//! `striptags`: markupsafe's tag and comment removal and its entity decoding.

use minijinja::Error;
use minijinja::value::Value;

use crate::template::jinja::filters::string_of;

use super::is_py_space;

/// The HTML entities markupsafe's `unescape` knows that templates commonly meet; numeric
/// references are decoded in full.
const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("euro", "€"),
    ("deg", "°"),
    ("middot", "·"),
    ("times", "×"),
];

/// Python's `html.unescape` for numeric references and the entities of [`ENTITIES`].
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(semi) = rest[1..].find(';').map(|i| i + 1).filter(|i| *i <= 33) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let decoded = if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            code.map(|c| char::from_u32(c).unwrap_or('\u{fffd}').to_string())
        } else {
            ENTITIES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        match decoded {
            Some(text) => {
                out.push_str(&text);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `striptags`: comments and tags removed, whitespace collapsed, entities decoded.
pub(super) fn striptags(value: &Value) -> Result<String, Error> {
    let mut s = string_of(value)?;
    while let Some(start) = s.find("<!--") {
        let Some(end) = s[start..].find("-->").map(|e| e + start) else {
            break;
        };
        s.replace_range(start..end + 3, "");
    }
    while let Some(start) = s.find('<') {
        let Some(end) = s[start..].find('>').map(|e| e + start) else {
            break;
        };
        s.replace_range(start..end + 1, "");
    }
    let collapsed = s
        .split(is_py_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(unescape(&collapsed))
}
