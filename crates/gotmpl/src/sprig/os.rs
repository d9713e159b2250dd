//! sprig's environment and network functions: `env`, `expandenv` (Go's `os.ExpandEnv`, with
//! its `$name`, `${name}` and special-variable rules), and `getHostByName` (a resolver lookup,
//! one of the addresses at random, as sprig picks one).

use std::net::ToSocketAddrs;

use super::{FuncError, Value, random, text};
use crate::funcs::{FuncMap, Param, Signature};

fn getenv(name: &str) -> String {
    std::env::var_os(name)
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

fn is_name_byte(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// Go's `getShellName`: the variable name after a `$` and the bytes it spans.
fn shell_name(s: &[u8]) -> (&[u8], usize) {
    if s[0] == b'{' {
        if s.len() > 2 && is_special(s[1]) && s[2] == b'}' {
            return (&s[1..2], 3);
        }
        return match s.iter().skip(1).position(|c| *c == b'}') {
            Some(0) => (&[], 2),
            Some(i) => (&s[1..=i], i + 2),
            None => (&[], 1),
        };
    }
    if is_special(s[0]) {
        return (&s[..1], 1);
    }
    let n = s.iter().take_while(|c| is_name_byte(**c)).count();
    (&s[..n], n)
}

/// Go's `os.Expand` with a lookup function.
pub(super) fn expand(s: &str, lookup: impl Fn(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.extend_from_slice(&b[i..j]);
            let (name, w) = shell_name(&b[j + 1..]);
            if name.is_empty() && w > 0 {
                // Invalid syntax: the characters are dropped.
            } else if name.is_empty() {
                out.push(b'$');
            } else {
                out.extend_from_slice(lookup(&String::from_utf8_lossy(name)).as_bytes());
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.extend_from_slice(&b[i.min(b.len())..]);
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn register(m: &mut FuncMap) {
    let s1 = || Signature::fixed(&[Param::String]);
    m.insert("env", s1(), |a| Ok(Value::from(getenv(text(&a[0])))));
    m.insert("expandenv", s1(), |a| {
        Ok(Value::from(expand(text(&a[0]), getenv)))
    });
    m.insert("getHostByName", s1(), |a| {
        let addrs: Vec<String> = (text(&a[0]), 0)
            .to_socket_addrs()
            .map(|it| it.map(|sa| sa.ip().to_string()).collect())
            .unwrap_or_default();
        let mut unique: Vec<String> = Vec::new();
        for a in addrs {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        if unique.is_empty() {
            // sprig indexes the empty answer with rand.Intn(0), which panics.
            return Err(FuncError::new("invalid argument to Intn"));
        }
        let pick = random::below(unique.len() as u64) as usize;
        Ok(Value::from(unique.swap_remove(pick)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_go() {
        let look = |n: &str| {
            if n == "A" {
                "x".to_owned()
            } else {
                String::new()
            }
        };
        assert_eq!(expand("$A ${A} $B ${} $ $$ ${A", look), "x x   $  A");
        assert_eq!(expand("a$", look), "a$");
        assert_eq!(expand("$1x", look), "x");
        assert_eq!(expand("plain", look), "plain");
    }
}
