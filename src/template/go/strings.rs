//! docker-gen's string helpers: `closest`, `comment`, `replace` (Go's argument order), `split`,
//! `splitN`, `toLower`, `toUpper`, `queryEscape` and `parseBool`.

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

use super::groupby::go_split;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The longest element of `values` that occurs in `input`; "" when none does.
pub fn closest(values: &[String], input: &str) -> String {
    let mut best = "";
    for v in values {
        if input.contains(v.as_str()) && v.len() > best.len() {
            best = v;
        }
    }
    best.to_string()
}

/// `delim` before every line of `s`, as Go's `(?m)^` replacement: also after a final newline.
pub fn comment(delim: &str, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + delim.len());
    out.push_str(delim);
    for c in s.chars() {
        out.push(c);
        if c == '\n' {
            out.push_str(delim);
        }
    }
    out
}

/// Go's `strings.Replace(s, old, new, n)`; `n < 0` replaces every match, and an empty `old`
/// matches before each character and at the end.
pub fn replace(s: &str, old: &str, new: &str, n: i64) -> String {
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    if old.is_empty() {
        let mut out = String::new();
        let mut done = 0;
        for c in s.chars() {
            if done < limit {
                out.push_str(new);
                done += 1;
            }
            out.push(c);
        }
        if done < limit {
            out.push_str(new);
        }
        return out;
    }
    s.replacen(old, new, limit)
}

/// Go's `strings.SplitN`: `n == 0` gives nil, `n < 0` every part.
fn split_n(s: &str, sep: &str, n: i64) -> Value {
    if n == 0 {
        return Value::Nil;
    }
    let parts: Vec<String> = if n < 0 {
        go_split(s, sep)
    } else if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let k = usize::try_from(n).unwrap_or(usize::MAX).min(chars.len());
        let mut v: Vec<String> = chars[..k.saturating_sub(1)]
            .iter()
            .map(|c| c.to_string())
            .collect();
        v.push(chars[k.saturating_sub(1)..].iter().collect());
        v
    } else {
        s.splitn(usize::try_from(n).unwrap_or(usize::MAX), sep)
            .map(String::from)
            .collect()
    };
    Value::list(parts.into_iter().map(Value::from).collect())
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, FuncError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(FuncError::new(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            gotmpl::fmt::quote(s)
        ))),
    }
}

/// Registers the string family.
pub fn register(m: &mut FuncMap) {
    use Param::{Int, String as Str};
    m.insert(
        "closest",
        Signature::fixed(&[Param::StringList, Str]),
        |a| {
            let values: Vec<String> = match &a[0] {
                Value::List(l) => l.borrow().iter().map(|v| text(v).to_string()).collect(),
                _ => Vec::new(),
            };
            Ok(Value::from(closest(&values, text(&a[1]))))
        },
    );
    m.insert("comment", Signature::fixed(&[Str, Str]), |a| {
        Ok(Value::from(comment(text(&a[0]), text(&a[1]))))
    });
    m.insert("replace", Signature::fixed(&[Str, Str, Str, Int]), |a| {
        let n = match a[3] {
            Value::Int(i) => i,
            _ => -1,
        };
        Ok(Value::from(replace(
            text(&a[0]),
            text(&a[1]),
            text(&a[2]),
            n,
        )))
    });
    m.insert("split", Signature::fixed(&[Str, Str]), |a| {
        Ok(Value::list(
            go_split(text(&a[0]), text(&a[1]))
                .into_iter()
                .map(Value::from)
                .collect(),
        ))
    });
    m.insert("splitN", Signature::fixed(&[Str, Str, Int]), |a| {
        let n = match a[2] {
            Value::Int(i) => i,
            _ => -1,
        };
        Ok(split_n(text(&a[0]), text(&a[1]), n))
    });
    m.insert("toLower", Signature::fixed(&[Str]), |a| {
        Ok(Value::from(text(&a[0]).to_lowercase()))
    });
    m.insert("toUpper", Signature::fixed(&[Str]), |a| {
        Ok(Value::from(text(&a[0]).to_uppercase()))
    });
    m.insert("queryEscape", Signature::fixed(&[Str]), |a| {
        Ok(Value::from(gotmpl::builtins::query_escape(text(&a[0]))))
    });
    m.insert("parseBool", Signature::fixed(&[Str]), |a| {
        parse_bool(text(&a[0])).map(Value::Bool)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_prefixes_every_line_as_go_does() {
        assert_eq!(comment("# ", "a\nb\n"), "# a\n# b\n# ");
        assert_eq!(comment("# ", ""), "# ");
    }

    #[test]
    fn closest_takes_the_longest_contained() {
        let v = vec![
            "example.com".to_string(),
            "www.example.com".to_string(),
            "x".to_string(),
        ];
        assert_eq!(closest(&v, "www.example.com"), "www.example.com");
        assert_eq!(closest(&v, "other.org"), "");
    }

    #[test]
    fn replace_and_split_follow_go() {
        assert_eq!(replace("aaa", "a", "b", 2), "bba");
        assert_eq!(replace("ab", "", "-", -1), "-a-b-");
        assert_eq!(gotmpl::fmt::sprint(&[split_n("a,b,c", ",", 2)]), "[a b,c]");
        assert!(split_n("a", ",", 0).is_nil());
        assert_eq!(go_split("", ","), vec![String::new()]);
    }

    #[test]
    fn parse_bool_and_query_escape() {
        assert_eq!(parse_bool("T"), Ok(true));
        assert_eq!(
            parse_bool("x").map_err(|e| e.0),
            Err("strconv.ParseBool: parsing \"x\": invalid syntax".to_string())
        );
        assert_eq!(
            gotmpl::builtins::query_escape("a b/c?d=é"),
            "a+b%2Fc%3Fd%3D%C3%A9"
        );
    }
}
