//! sprig's `urlParse` and `urlJoin`, following Go's `net/url` (`url.Parse` and
//! `URL.String`): the scheme is lower-cased, a rootless path after a scheme is opaque,
//! path, fragment and userinfo are unescaped on parse and escaped back per component on join,
//! and malformed input fails with Go's error text.

use std::collections::BTreeMap;

use super::{FuncError, NIL_DEREF, Value, kind_name, text};
use crate::funcs::{FuncMap, Param, Signature};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

/// Go's `unescape`: the decoded text, or Go's error.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (h, l) = (
                    b.get(i + 1).and_then(|c| hex(*c)),
                    b.get(i + 2).and_then(|c| hex(*c)),
                );
                let (Some(h), Some(l)) = (h, l) else {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {}",
                        crate::fmt::quote(&s[i..end])
                    ));
                };
                if mode == Mode::Host && h < 8 && &s[i..i + 3] != "%25" {
                    return Err(format!(
                        "invalid URL escape {}",
                        crate::fmt::quote(&s[i..i + 3])
                    ));
                }
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        crate::fmt::quote(&s[i..=i])
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A parsed URL, the parts sprig exposes.
#[derive(Default, Debug, PartialEq, Eq)]
struct Url {
    scheme: String,
    opaque: String,
    /// Username, and password when one was given.
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_query: String,
    force_query: bool,
    fragment: String,
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|c| c.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[i + 1..];
        if !valid_optional_port(port) {
            return Err(format!(
                "invalid port {} after host",
                crate::fmt::quote(port)
            ));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(format!(
                "invalid port {} after host",
                crate::fmt::quote(port)
            ));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c))
}

fn parse_inner(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    let mut rest = raw;
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                url.scheme = raw[..i].to_ascii_lowercase();
                rest = &raw[i + 1..];
                break;
            }
            _ => break,
        }
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        url.raw_query = q.to_owned();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_owned();
            return Ok(url);
        }
        if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let auth_rest = &rest[2..];
        let (authority, path) = match auth_rest.find('/') {
            Some(i) => (&auth_rest[..i], &auth_rest[i..]),
            None => (auth_rest, ""),
        };
        let (userinfo, host) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        url.host = parse_host(host)?;
        if let Some(ui) = userinfo {
            if !valid_userinfo(ui) {
                return Err("net/url: invalid userinfo".into());
            }
            url.user = Some(match ui.split_once(':') {
                Some((u, p)) => (
                    unescape(u, Mode::UserPassword)?,
                    Some(unescape(p, Mode::UserPassword)?),
                ),
                None => (unescape(ui, Mode::UserPassword)?, None),
            });
        }
        rest = path;
    }
    url.path = unescape(rest, Mode::Path)?;
    Ok(url)
}

/// Go's `url.Parse`, with its `parse "URL": reason` error.
fn parse(raw: &str) -> Result<Url, String> {
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let mut url = parse_inner(u).map_err(|e| format!("parse {}: {e}", crate::fmt::quote(u)))?;
    if !frag.is_empty() {
        url.fragment = unescape(frag, Mode::Fragment)
            .map_err(|e| format!("parse {}: {e}", crate::fmt::quote(raw)))?;
    }
    Ok(url)
}

fn userinfo_string(user: &(String, Option<String>)) -> String {
    let mut s = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

/// Go's `URL.String`.
fn to_string(u: &Url) -> String {
    let mut buf = String::new();
    if !u.scheme.is_empty() {
        buf.push_str(&u.scheme);
        buf.push(':');
    }
    if !u.opaque.is_empty() {
        buf.push_str(&u.opaque);
    } else {
        if !u.scheme.is_empty() || !u.host.is_empty() || u.user.is_some() {
            if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                buf.push_str("//");
            }
            if let Some(user) = &u.user {
                buf.push_str(&userinfo_string(user));
                buf.push('@');
            }
            buf.push_str(&escape(&u.host, Mode::Host));
        }
        let path = if u.path == "*" {
            "*".to_owned()
        } else {
            escape(&u.path, Mode::Path)
        };
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            buf.push('/');
        }
        if buf.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
            buf.push_str("./");
        }
        buf.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        buf.push('?');
        buf.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        buf.push('#');
        buf.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    buf
}

/// Go's `URL.Hostname`: the host without port or IPv6 brackets.
fn hostname(host: &str) -> &str {
    let mut h = host;
    if let Some(i) = h.rfind(':')
        && valid_optional_port(&h[i..])
    {
        h = &h[..i];
    }
    if h.starts_with('[') && h.ends_with(']') && h.len() >= 2 {
        h = &h[1..h.len() - 1];
    }
    h
}

fn url_parse(s: &str) -> Result<Value, FuncError> {
    let u = parse(s).map_err(|e| FuncError(format!("unable to parse url: {e}")))?;
    let mut d = BTreeMap::new();
    d.insert("scheme".to_owned(), Value::from(u.scheme.clone()));
    d.insert("host".to_owned(), Value::from(u.host.clone()));
    d.insert("hostname".to_owned(), Value::str(hostname(&u.host)));
    d.insert("path".to_owned(), Value::from(u.path.clone()));
    d.insert("query".to_owned(), Value::from(u.raw_query.clone()));
    d.insert("opaque".to_owned(), Value::from(u.opaque.clone()));
    d.insert("fragment".to_owned(), Value::from(u.fragment.clone()));
    d.insert(
        "userinfo".to_owned(),
        Value::from(u.user.as_ref().map(userinfo_string).unwrap_or_default()),
    );
    Ok(Value::map(d))
}

fn url_join(d: &Value) -> Result<Value, FuncError> {
    let Value::Map(m) = d else {
        return Ok(Value::str(""));
    };
    let m = m.borrow();
    let get = |key: &str| -> Result<String, FuncError> {
        match m.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(Value::Nil) => Err(FuncError::new(NIL_DEREF)),
            Some(other) => Err(FuncError(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                kind_name(other)
            ))),
        }
    };
    let mut u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let userinfo = get("userinfo")?;
    if !userinfo.is_empty() {
        let tmp = parse(&format!("proto://{userinfo}@host"))
            .map_err(|e| FuncError(format!("unable to parse userinfo in dict: {e}")))?;
        u.user = tmp.user;
    }
    Ok(Value::from(to_string(&u)))
}

pub(super) fn register(m: &mut FuncMap) {
    m.insert("urlParse", Signature::fixed(&[Param::String]), |a| {
        url_parse(text(&a[0]))
    });
    m.insert("urlJoin", Signature::fixed(&[Param::Map]), |a| {
        url_join(&a[0])
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_joins_like_go() {
        let u = parse("https://user:pa%20ss@Example.com:8080/a%20b/c?q=1#frag").expect("valid");
        assert_eq!(u.host, "Example.com:8080");
        assert_eq!(u.path, "/a b/c");
        assert_eq!(hostname(&u.host), "Example.com");
        assert_eq!(
            to_string(&u),
            "https://user:pa%20ss@Example.com:8080/a%20b/c?q=1#frag"
        );
        assert_eq!(
            parse("http://a b.com/").err().as_deref(),
            Some(r#"parse "http://a b.com/": invalid character " " in host name"#)
        );
        assert_eq!(
            parse(":foo").err().as_deref(),
            Some(r#"parse ":foo": missing protocol scheme"#)
        );
        assert_eq!(
            parse("mailto:u@x").map(|u| u.opaque).ok().as_deref(),
            Some("u@x")
        );
        assert_eq!(hostname("[::1]:80"), "::1");
    }
}
