//! Jinja2's string and markup filters with Jinja2's arguments and output: `center`,
//! `trim(chars)`, `truncate`, `wordcount`, `wordwrap` (Python's `textwrap` rules),
//! `striptags`, `urlize`, `urlencode`, `xmlattr`, `escape`/`e`/`forceescape` (markupsafe's
//! `&#34;`/`&#39;`), `indent` (a width or a string, `first`, `blank`) and `filesizeformat`.
//!
//! `wordwrap` lives in `wrap`, `striptags` in `markup`, `urlize` in `urlize`.

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind};

use super::filters::{Args, str_repr, string_of, type_error, type_name};

mod markup;
mod urlize;
mod wrap;

use markup::striptags;
use urlize::urlize;
use wrap::wordwrap;

/// Registers the string and markup filters.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("center", center);
    env.add_filter("trim", trim);
    env.add_filter("truncate", truncate);
    env.add_filter("wordcount", wordcount);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("striptags", striptags);
    env.add_filter("urlize", urlize);
    env.add_filter("urlencode", urlencode);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("escape", escape_filter);
    env.add_filter("e", escape_filter);
    env.add_filter("forceescape", forceescape);
    env.add_filter("indent", indent);
    env.add_filter("filesizeformat", filesizeformat);
}

/// Python's `str.isspace` for one character.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `\w` for one character (Unicode letters, digits, `_`).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `str.splitlines()`.
pub(crate) fn splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            lines.push(&s[start..at]);
            start = at + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                chars.next();
                start += 1;
            }
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// markupsafe's `escape`: `& < > " '` as entities.
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `escape`/`e`: the text escaped as markup; markup already safe stays as it is.
fn escape_filter(value: &Value) -> Result<Value, Error> {
    if value.is_safe() {
        return Ok(value.clone());
    }
    Ok(Value::from_safe_string(escape_text(&string_of(value)?)))
}

/// `forceescape`: escapes even markup marked safe.
fn forceescape(value: &Value) -> Result<Value, Error> {
    Ok(Value::from_safe_string(escape_text(&string_of(value)?)))
}

/// `center(width=80)`: Python's `str.center` (the odd space goes left only when both the
/// padding and `width` are odd).
fn center(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind("center", &args.into_values(), &["width"])?;
    let s = string_of(value)?;
    let width = usize::try_from(args.int(0, "center", 80)?).unwrap_or(0);
    let len = s.chars().count();
    if width <= len {
        return Ok(s);
    }
    let pad = width - len;
    let left = pad / 2 + (pad & width & 1);
    Ok(format!("{}{s}{}", " ".repeat(left), " ".repeat(pad - left)))
}

/// `trim(chars=none)`: Python's `str.strip(chars)`.
fn trim(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("trim", &args.into_values(), &["chars"])?;
    let s = string_of(value)?;
    let out = match args.get(0).filter(|c| !c.is_none()) {
        None => s.trim_matches(is_py_space).to_owned(),
        Some(chars) => {
            let chars: Vec<char> = string_of(chars)?.chars().collect();
            s.trim_matches(|c| chars.contains(&c)).to_owned()
        }
    };
    Ok(if value.is_safe() {
        Value::from_safe_string(out)
    } else {
        Value::from(out)
    })
}

/// `truncate(length=255, killwords=false, end='...', leeway=5)`.
fn truncate(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind(
        "truncate",
        &args.into_values(),
        &["length", "killwords", "end", "leeway"],
    )?;
    let s = string_of(value)?;
    let length = args.int(0, "truncate", 255)?;
    let killwords = args.flag(1, false);
    let end = args.get(2).map_or(Ok("...".to_owned()), string_of)?;
    let leeway = args.int(3, "truncate", 5)?;
    let end_len = i64::try_from(end.chars().count()).unwrap_or(i64::MAX);
    if length < end_len {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("expected length >= {end_len}, got {length}"),
        ));
    }
    if leeway < 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("expected leeway >= 0, got {leeway}"),
        ));
    }
    let chars: Vec<char> = s.chars().collect();
    if i64::try_from(chars.len()).unwrap_or(i64::MAX) <= length.saturating_add(leeway) {
        return Ok(s);
    }
    let keep = usize::try_from(length - end_len)
        .unwrap_or(0)
        .min(chars.len());
    let head: String = chars[..keep].iter().collect();
    if killwords {
        return Ok(head + &end);
    }
    let head = match head.rfind(' ') {
        Some(at) => head[..at].to_owned(),
        None => head,
    };
    Ok(head + &end)
}

/// `wordcount`: the number of `\w+` runs.
fn wordcount(value: &Value) -> Result<usize, Error> {
    let s = string_of(value)?;
    let mut count = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = is_word(c);
        if w && !in_word {
            count += 1;
        }
        in_word = w;
    }
    Ok(count)
}

/// Percent-encodes UTF-8 bytes, keeping letters, digits, `_.-~` and `safe`.
fn quote(s: &str, safe: &[u8]) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `urlencode`: a string quoted for a URL path (`/` kept); a dict or a list of pairs as a
/// query string (`+` for spaces).
fn urlencode(value: &Value) -> Result<String, Error> {
    let quote_qs =
        |v: &Value| -> Result<String, Error> { Ok(quote(&string_of(v)?, b"").replace("%20", "+")) };
    match value.kind() {
        ValueKind::Map => {
            let mut parts = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                parts.push(format!("{}={}", quote_qs(&key)?, quote_qs(&item)?));
            }
            Ok(parts.join("&"))
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut parts = Vec::new();
            for pair in value.try_iter()? {
                let items: Vec<Value> = pair.try_iter()?.collect();
                let [k, v] = items.as_slice() else {
                    return Err(type_error("urlencode expects pairs"));
                };
                parts.push(format!("{}={}", quote_qs(k)?, quote_qs(v)?));
            }
            Ok(parts.join("&"))
        }
        _ => Ok(quote(&string_of(value)?, b"/")),
    }
}

/// `xmlattr(autospace=true)`: `key="value"` pairs of a dict, escaped, skipping none and
/// undefined values; a key with a space, `/`, `>` or `=` is an error.
fn xmlattr(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind("xmlattr", &args.into_values(), &["autospace"])?;
    if value.kind() != ValueKind::Map {
        return Err(type_error(format!(
            "'{}' object has no attribute 'items'",
            type_name(value)
        )));
    }
    let mut items = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        if item.is_none() || item.is_undefined() {
            continue;
        }
        let name = string_of(&key)?;
        if name.chars().any(|c| {
            matches!(
                c,
                ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '/' | '>' | '='
            )
        }) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("Invalid character in attribute name: {}", str_repr(&name)),
            ));
        }
        items.push(format!(
            "{}=\"{}\"",
            escape_text(&name),
            escape_text(&string_of(&item)?)
        ));
    }
    let joined = items.join(" ");
    Ok(if args.flag(0, true) && !joined.is_empty() {
        format!(" {joined}")
    } else {
        joined
    })
}

/// `indent(width=4, first=false, blank=false)`: lines after the first (or all, with
/// `first`) prefixed by `width` spaces or the string `width`; blank lines only with `blank`.
fn indent(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("indent", &args.into_values(), &["width", "first", "blank"])?;
    let prefix = match args.get(0) {
        Some(w) if w.kind() == ValueKind::String => string_of(w)?,
        _ => " ".repeat(usize::try_from(args.int(0, "indent", 4)?).unwrap_or(0)),
    };
    if value.kind() != ValueKind::String {
        return Err(type_error(format!(
            "unsupported operand type(s) for +=: '{}' and 'str'",
            type_name(value)
        )));
    }
    let s = string_of(value)? + "\n";
    let lines = splitlines(&s);
    let mut out = if args.flag(2, false) {
        lines.join(&format!("\n{prefix}"))
    } else {
        let mut out = lines.first().copied().unwrap_or_default().to_owned();
        for line in lines.iter().skip(1) {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&prefix);
            }
            out.push_str(line);
        }
        out
    };
    if args.flag(1, false) {
        out.insert_str(0, &prefix);
    }
    Ok(if value.is_safe() {
        Value::from_safe_string(out)
    } else {
        Value::from(out)
    })
}

/// `filesizeformat(binary=false)`: bytes in decimal (kB, MB…) or binary (KiB, MiB…) units.
fn filesizeformat(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind("filesizeformat", &args.into_values(), &["binary"])?;
    let bytes = match value.kind() {
        ValueKind::String => super::filters_num::parse_float(value.as_str().unwrap_or_default())
            .ok_or_else(|| {
                type_error(format!(
                    "could not convert string to float: {}",
                    str_repr(value.as_str().unwrap_or_default())
                ))
            })?,
        ValueKind::Bool => f64::from(u8::from(value.is_true())),
        _ => f64::try_from(value.clone()).map_err(|_| {
            type_error(format!(
                "float() argument must be a string or a real number, not '{}'",
                type_name(value)
            ))
        })?,
    };
    let binary = args.flag(0, false);
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok("1 Byte".to_owned());
    }
    if bytes < base {
        // Python's `int()` truncates towards zero.
        return Ok(format!("{} Bytes", bytes.trunc() as i64));
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i32::try_from(i).unwrap_or(0) + 2);
        if bytes < unit || i == prefixes.len() - 1 {
            return Ok(format!("{:.1} {prefix}", base * bytes / unit));
        }
    }
    Ok(format!(
        "{:.1} {}",
        base * bytes / unit,
        prefixes[prefixes.len() - 1]
    ))
}
