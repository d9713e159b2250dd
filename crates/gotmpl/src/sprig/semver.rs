//! sprig's `semver` and `semverCompare`, following Masterminds/semver v3: versions may omit
//! minor and patch and carry a `v`; constraints combine `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`,
//! `~>`, `^`, `x`/`*` wildcards, `A - B` ranges, `,`/space for AND and `||` for OR; a
//! prerelease version only satisfies constraints that name a prerelease. `semver` returns a
//! record with the version's methods as fields (`Major`, `Minor`, `Patch`, `Prerelease`,
//! `Metadata`, `Original`) and `Compare`, `LessThan`, `GreaterThan`, `Equal` as functions.

use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::LazyLock;

use regex::Regex;

use super::{FuncError, Value, text};
use crate::funcs::{FuncMap, Param, Signature};
use crate::value::Record;

const VERSION: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const CONSTRAINT_VERSION: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

/// The patterns of Masterminds/semver, compiled once (they are constants, so compiling
/// cannot fail).
struct Patterns {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |p: String| Regex::new(&p).expect("constant pattern");
    let (cv, ops) = (CONSTRAINT_VERSION, OPS);
    Patterns {
        version: re(format!("^{VERSION}$")),
        constraint: re(format!(r"^\s*({ops})\s*({cv})\s*$")),
        range: re(format!(r"\s*({cv})\s+-\s+({cv})\s*")),
        find: re(format!(r"({ops})\s*({cv})")),
        valid: re(format!(
            r"^(\s*({ops})\s*({cv})\s*)((?:\s+|,\s*)({ops})\s*({cv})\s*)*$"
        )),
    }
});

/// A parsed semantic version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const INVALID: &str = "Invalid Semantic Version";

fn only(s: &str, set: impl Fn(char) -> bool) -> bool {
    s.chars().all(set)
}

impl Version {
    /// `semver.NewVersion`.
    pub(super) fn parse(v: &str) -> Result<Version, String> {
        let caps = PATTERNS.version.captures(v).ok_or(INVALID)?;
        let seg = |i: usize| -> Result<u64, String> {
            match caps.get(i) {
                None => Ok(0),
                Some(m) => {
                    let digits = m.as_str().trim_start_matches('.');
                    // The pattern admits only digits, so overflow is the one failure.
                    digits.parse::<u64>().map_err(|_| {
                        format!(
                            "Error parsing version segment: strconv.ParseUint: parsing \"{digits}\": value out of range"
                        )
                    })
                }
            }
        };
        let pre = caps.get(5).map_or("", |m| m.as_str()).to_owned();
        let metadata = caps.get(8).map_or("", |m| m.as_str()).to_owned();
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-';
        for p in pre.split('.').filter(|_| !pre.is_empty()) {
            if only(p, |c| c.is_ascii_digit()) {
                if p.len() > 1 && p.starts_with('0') {
                    return Err("Version segment starts with 0".into());
                }
            } else if !only(p, allowed) {
                return Err("Invalid Prerelease string".into());
            }
        }
        if !metadata.is_empty() && !metadata.split('.').all(|p| only(p, allowed)) {
            return Err("Invalid Metadata string".into());
        }
        Ok(Version {
            major: seg(1)?,
            minor: seg(2)?,
            patch: seg(3)?,
            pre,
            metadata,
            original: v.to_owned(),
        })
    }

    fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &o.pre),
            })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let (s, o) = (
            pa.get(i).copied().unwrap_or(""),
            pb.get(i).copied().unwrap_or(""),
        );
        if s == o {
            continue;
        }
        if s.is_empty() {
            return Ordering::Less;
        }
        if o.is_empty() {
            return Ordering::Greater;
        }
        return match (s.parse::<u64>(), o.parse::<u64>()) {
            (Err(_), Err(_)) => s.cmp(o),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Ok(x), Ok(y)) => x.cmp(&y),
        };
    }
    Ordering::Equal
}

/// One comparison of a constraint, with what the wildcards left open.
struct Constraint {
    con: Version,
    op: String,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    if c.is_empty() {
        let con = Version::parse("0.0.0")?;
        return Ok(Constraint {
            con,
            op: String::new(),
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let m = PATTERNS
        .constraint
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let ver = if is_x(g(3)) || g(3).is_empty() {
        dirty = true;
        format!("0.0.0{}", g(6))
    } else if is_x(g(4).trim_start_matches('.')) || g(4).is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{}.0.0{}", g(3), g(6))
    } else if is_x(g(5).trim_start_matches('.')) || g(5).is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{}{}.0{}", g(3), g(4), g(6))
    } else {
        g(2).to_owned()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error".to_owned())?;
    Ok(Constraint {
        con,
        op: g(1).to_owned(),
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && c.pre.is_empty();
        let lt = |v: &Version| v.compare(c) == Ordering::Less;
        let tilde = |v: &Version| {
            if pre_blocked || lt(v) {
                return false;
            }
            if c.major == 0
                && c.minor == 0
                && c.patch == 0
                && !self.minor_dirty
                && !self.patch_dirty
            {
                return true;
            }
            v.major == c.major && (v.minor == c.minor || self.minor_dirty)
        };
        match self.op.as_str() {
            "" | "=" => {
                if pre_blocked {
                    false
                } else if self.dirty {
                    tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if pre_blocked {
                        return false;
                    }
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_pre(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            ">" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            "<" => !pre_blocked && lt(v),
            ">=" | "=>" => !pre_blocked && !lt(v),
            "<=" | "=<" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => tilde(v),
            "^" => {
                if pre_blocked || lt(v) {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => false,
        }
    }
}

/// `semver.NewConstraint`: OR groups of AND-ed constraints.
fn parse_constraints(c: &str) -> Result<Vec<Vec<Constraint>>, String> {
    let p = &*PATTERNS;
    let mut rewritten = c.to_owned();
    for m in p.range.captures_iter(c) {
        let whole = m.get(0).map_or("", |x| x.as_str());
        let (a, b) = (
            m.get(1).map_or("", |x| x.as_str()),
            m.get(11).map_or("", |x| x.as_str()),
        );
        rewritten = rewritten.replacen(whole, &format!(">= {a}, <= {b}"), 1);
    }
    rewritten
        .split("||")
        .map(|part| {
            if !p.valid.is_match(part) {
                return Err(format!("improper constraint: {part}"));
            }
            let found: Vec<&str> = p.find.find_iter(part).map(|m| m.as_str()).collect();
            let found = if found.is_empty() { vec![part] } else { found };
            found.into_iter().map(parse_constraint).collect()
        })
        .collect()
}

/// `semverCompare`: whether `version` satisfies `constraint`.
fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let groups = parse_constraints(constraint)?;
    let v = Version::parse(version)?;
    Ok(groups.iter().any(|and| and.iter().all(|c| c.check(&v))))
}

/// The record `semver` returns.
fn version_record(v: Version) -> Value {
    let v = Rc::new(v);
    let method = |f: fn(&Version, &Version) -> Value| {
        let me = v.clone();
        Value::Func(Rc::new(move |args: &[Value]| {
            let other = match args.first() {
                Some(Value::Record(r)) => r
                    .field("Original")
                    .and_then(Value::as_str)
                    .map(Version::parse),
                _ => None,
            };
            match other {
                Some(Ok(o)) => Ok(f(&me, &o)),
                _ => Err(FuncError::new(
                    "wrong type for value; expected *semver.Version",
                )),
            }
        }))
    };
    let fields = vec![
        ("Major", Value::Uint(v.major)),
        ("Minor", Value::Uint(v.minor)),
        ("Patch", Value::Uint(v.patch)),
        ("Prerelease", Value::str(&v.pre)),
        ("Metadata", Value::str(&v.metadata)),
        ("Original", Value::str(&v.original)),
        ("String", Value::from(v.to_string())),
        ("Compare", method(|a, b| Value::Int(a.compare(b) as i64))),
        (
            "LessThan",
            method(|a, b| Value::Bool(a.compare(b) == Ordering::Less)),
        ),
        (
            "GreaterThan",
            method(|a, b| Value::Bool(a.compare(b) == Ordering::Greater)),
        ),
        (
            "Equal",
            method(|a, b| Value::Bool(a.compare(b) == Ordering::Equal)),
        ),
    ];
    Value::record(Record::new("*semver.Version", fields))
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::String as Str;
    m.insert("semverCompare", Signature::fixed(&[Str, Str]), |a| {
        semver_compare(text(&a[0]), text(&a[1]))
            .map(Value::Bool)
            .map_err(FuncError)
    });
    m.insert("semver", Signature::fixed(&[Str]), |a| {
        Version::parse(text(&a[0]))
            .map(version_record)
            .map_err(FuncError)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        semver_compare(c, v).expect("valid")
    }

    #[test]
    fn constraints_follow_masterminds() {
        assert!(check("^1.2.0", "1.2.3"));
        assert!(!check("^1.2.0", "2.0.0"));
        assert!(!check("~1.2.0", "1.3.0"));
        assert!(check("1.2 - 1.4", "1.3.5"));
        assert!(check("<1 || >=3", "3.1.0"));
        assert!(!check(">=1.2.0", "1.3.0-beta"));
        assert!(check(">=1.2.0-0", "1.3.0-beta"));
        assert!(!check("^0.0.3", "0.0.4"));
        assert!(check("1.2.x", "1.2.0"));
        assert_eq!(
            semver_compare("bad", "1.2.3"),
            Err("improper constraint: bad".into())
        );
        assert_eq!(semver_compare("^1", "x.y"), Err(INVALID.into()));
    }

    #[test]
    fn versions_order_prereleases() {
        let v = |s: &str| Version::parse(s).expect("valid");
        assert_eq!(
            v("1.2.3-alpha.10").compare(&v("1.2.3-alpha.9")),
            Ordering::Greater
        );
        assert_eq!(v("1.2.3-alpha").compare(&v("1.2.3")), Ordering::Less);
        assert_eq!(v("v1.2").to_string(), "1.2.0");
        assert!(Version::parse("1.2.3.4").is_err());
    }
}
