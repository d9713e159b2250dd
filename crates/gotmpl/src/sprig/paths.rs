//! sprig's path functions: Go's `path` package (`base`, `dir`, `clean`, `ext`, `isAbs`) and
//! `path/filepath` (`osBase`, `osDir`...), which on Unix-like systems behave the same, so both
//! sets share these implementations.

use super::{Value, text};
use crate::funcs::{FuncMap, Param, Signature};

/// Go's `path.Clean`: the shortest equivalent path, lexically.
pub(super) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`: the last element, trailing slashes removed.
fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `path.Dir`: everything but the last element, cleaned.
fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

/// Go's `path.Ext`: the suffix from the last dot of the last element.
fn ext(path: &str) -> String {
    for (i, c) in path.char_indices().rev() {
        match c {
            '/' => return String::new(),
            '.' => return path[i..].to_owned(),
            _ => {}
        }
    }
    String::new()
}

pub(super) fn register(m: &mut FuncMap) {
    let s1 = || Signature::fixed(&[Param::String]);
    for prefix in ["", "os"] {
        let name = |n: &str| {
            if prefix.is_empty() {
                n.to_owned()
            } else {
                let mut c = n.chars();
                let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
                format!("{prefix}{first}{}", c.as_str())
            }
        };
        m.insert(&name("base"), s1(), |a| Ok(Value::from(base(text(&a[0])))));
        m.insert(&name("dir"), s1(), |a| Ok(Value::from(dir(text(&a[0])))));
        m.insert(&name("clean"), s1(), |a| {
            Ok(Value::from(clean(text(&a[0]))))
        });
        m.insert(&name("ext"), s1(), |a| Ok(Value::from(ext(text(&a[0])))));
        m.insert(&name("isAbs"), s1(), |a| {
            Ok(Value::Bool(text(&a[0]).starts_with('/')))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_go_path() {
        assert_eq!(clean("/a/../b/./c//d/"), "/b/c/d");
        assert_eq!(clean("../../x"), "../../x");
        assert_eq!(clean("/.."), "/");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(base("a/b/"), "b");
        assert_eq!(base("//"), "/");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(dir("a"), ".");
        assert_eq!(ext("a.b/c"), "");
        assert_eq!(ext("x.tar.gz"), ".gz");
    }
}
