//! sprig's regular expression functions (`regexMatch`, `regexFind`, `regexFindAll`,
//! `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`, `regexQuoteMeta` and the `must`
//! forms) over the `regex` crate, whose syntax is RE2's like Go's `regexp`.
//!
//! Go's classes `\d`, `\w`, `\s` and `\b` are ASCII-only while the crate's are Unicode, so
//! patterns are rewritten to the ASCII sets first. Go's parse errors for the common mistakes
//! (unbalanced parentheses and brackets, a repetition with nothing to repeat, a trailing
//! backslash) are reproduced with Go's text; other rejected patterns report the crate's
//! message after Go's "error parsing regexp: " prefix.
//!
//! Those rewrites and errors are in `syntax`; this file compiles, caches and applies patterns.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{NoExpand, Regex};

use super::{FuncError, Value, int, text};
use crate::funcs::{FuncMap, Param, Signature};

mod syntax;

use syntax::{asciify, go_syntax_error};

/// Patterns compiled on this thread, so a template applying one pattern in a loop compiles
/// it once. Bounded: cleared when it reaches `CACHE_SIZE` patterns.
const CACHE_SIZE: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, FuncError>>> = RefCell::new(HashMap::new());
}

/// Compiles a Go pattern (cached); the error is Go's `regexp.Compile` text.
fn compile(pat: &str) -> Result<Regex, FuncError> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(pat).cloned()) {
        return hit;
    }
    let compiled = compile_uncached(pat);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(pat.to_owned(), compiled.clone());
    });
    compiled
}

fn compile_uncached(pat: &str) -> Result<Regex, FuncError> {
    if let Some(e) = go_syntax_error(pat) {
        return Err(FuncError(e));
    }
    Regex::new(&asciify(pat)).map_err(|e| {
        let msg = e.to_string();
        let last = msg
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or(&msg);
        FuncError(format!(
            "error parsing regexp: {}: `{pat}`",
            last.trim_start_matches("error: ")
        ))
    })
}

/// `regexp.MustCompile`'s panic text, which the non-`must` functions fail with.
fn must_compile(pat: &str) -> Result<Regex, FuncError> {
    compile(pat).map_err(|e| {
        let quoted = if pat
            .chars()
            .all(|c| c != '`' && (c == '\t' || !c.is_control()))
        {
            format!("`{pat}`")
        } else {
            crate::fmt::quote(pat)
        };
        FuncError(format!("regexp: Compile({quoted}): {}", e.0))
    })
}

/// Go's `FindAllStringIndex(s, n)`: at most `n` matches (all when negative), skipping an
/// empty match right after the previous match.
fn find_all(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out: Vec<(usize, usize)> = Vec::new();
    for m in re.find_iter(s) {
        if out.len() >= limit {
            break;
        }
        if m.start() == m.end() && out.last().is_some_and(|p| p.1 == m.start()) {
            continue;
        }
        out.push((m.start(), m.end()));
    }
    out
}

/// Go's `Regexp.Split`.
fn split(re: &Regex, pat: &str, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !pat.is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for (a, b) in find_all(re, s, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = a;
        if b != 0 {
            parts.push(s[beg..end].to_owned());
        }
        beg = b;
    }
    if end != s.len() {
        parts.push(s[beg..].to_owned());
    }
    parts
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn strings(v: Vec<String>) -> Value {
    Value::list(v.into_iter().map(Value::from).collect())
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Int, String as Str};
    let s2 = || Signature::fixed(&[Str, Str]);
    let s3 = || Signature::fixed(&[Str, Str, Str]);
    let sn = || Signature::fixed(&[Str, Str, Int]);
    m.insert("regexMatch", s2(), |a| {
        Ok(Value::Bool(
            compile(text(&a[0])).is_ok_and(|re| re.is_match(text(&a[1]))),
        ))
    });
    m.insert("mustRegexMatch", s2(), |a| {
        Ok(Value::Bool(compile(text(&a[0]))?.is_match(text(&a[1]))))
    });
    for (name, comp) in [
        ("regexFindAll", must_compile as fn(&str) -> _),
        ("mustRegexFindAll", compile),
    ] {
        m.insert(name, sn(), move |a| {
            let s = text(&a[1]);
            let re = comp(text(&a[0]))?;
            Ok(strings(
                find_all(&re, s, int(&a[2]))
                    .into_iter()
                    .map(|(x, y)| s[x..y].to_owned())
                    .collect(),
            ))
        });
    }
    for (name, comp) in [
        ("regexFind", must_compile as fn(&str) -> _),
        ("mustRegexFind", compile),
    ] {
        m.insert(name, s2(), move |a| {
            let re = comp(text(&a[0]))?;
            Ok(Value::from(
                re.find(text(&a[1])).map_or("", |m| m.as_str()).to_owned(),
            ))
        });
    }
    for (name, comp) in [
        ("regexReplaceAll", must_compile as fn(&str) -> _),
        ("mustRegexReplaceAll", compile),
    ] {
        m.insert(name, s3(), move |a| {
            let re = comp(text(&a[0]))?;
            Ok(Value::from(
                re.replace_all(text(&a[1]), text(&a[2])).into_owned(),
            ))
        });
    }
    for (name, comp) in [
        ("regexReplaceAllLiteral", must_compile as fn(&str) -> _),
        ("mustRegexReplaceAllLiteral", compile),
    ] {
        m.insert(name, s3(), move |a| {
            let re = comp(text(&a[0]))?;
            Ok(Value::from(
                re.replace_all(text(&a[1]), NoExpand(text(&a[2])))
                    .into_owned(),
            ))
        });
    }
    for (name, comp) in [
        ("regexSplit", must_compile as fn(&str) -> _),
        ("mustRegexSplit", compile),
    ] {
        m.insert(name, sn(), move |a| {
            let pat = text(&a[0]);
            let re = comp(pat)?;
            Ok(strings(split(&re, pat, text(&a[1]), int(&a[2]))))
        });
    }
    m.insert("regexQuoteMeta", Signature::fixed(&[Str]), |a| {
        Ok(Value::from(quote_meta(text(&a[0]))))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_all_and_split_follow_go() {
        let re = compile("a*").expect("valid");
        assert_eq!(find_all(&re, "baaab", -1), vec![(0, 0), (1, 4), (5, 5)]);
        let re = compile("z+").expect("valid");
        assert_eq!(split(&re, "z+", "pizza", -1), vec!["pi", "a"]);
        let re = compile("").expect("valid");
        assert_eq!(split(&re, "", "abc", -1), vec!["a", "b", "c"]);
        assert_eq!(quote_meta("1.5-2?"), r"1\.5-2\?");
    }
}
