//! Jinja2's string and markup filters with Jinja2's arguments and output: `center`,
//! `trim(chars)`, `truncate`, `wordcount`, `wordwrap` (Python's `textwrap` rules),
//! `striptags`, `urlize`, `urlencode`, `xmlattr`, `escape`/`e`/`forceescape` (markupsafe's
//! `&#34;`/`&#39;`), `indent` (a width or a string, `first`, `blank`) and `filesizeformat`.

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind};

use super::filters::{Args, str_repr, string_of, type_error, type_name};

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

/// Python's `textwrap` chunks of one line: whitespace runs and words, words split after
/// hyphens between letters when `on_hyphens` (its `wordsep_re`), else at whitespace only.
fn wrap_chunks(line: &str, on_hyphens: bool) -> Vec<String> {
    const WS: [char; 6] = ['\t', '\n', '\u{b}', '\u{c}', '\r', ' '];
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let is_ws = |i: usize| i < n && WS.contains(&chars[i]);
    let letter = |i: usize| i < n && is_word(chars[i]) && !chars[i].is_numeric();
    let word_punct = |i: usize| i < n && (is_word(chars[i]) || "!\"'&.,?".contains(chars[i]));
    // At `at`: two or more dashes followed by a word character.
    let em_dash_at = |at: usize| {
        let mut j = at;
        while j < n && chars[j] == '-' {
            j += 1;
        }
        (j - at >= 2 && j < n && is_word(chars[j])).then_some(j)
    };
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < n {
        let start = i;
        if is_ws(i) {
            while is_ws(i) {
                i += 1;
            }
        } else if !on_hyphens {
            while i < n && !is_ws(i) {
                i += 1;
            }
        } else if let Some(end) = (start > 0 && word_punct(start - 1))
            .then(|| em_dash_at(start))
            .flatten()
        {
            i = end;
        } else {
            // The shortest run of non-whitespace ending at a hyphen between letters, at
            // whitespace or the end, or before an em dash.
            let mut j = start + 1;
            loop {
                if j >= n || is_ws(j) {
                    break;
                }
                if chars[j] == '-' && j >= 1 {
                    let behind = (j >= 2 && letter(j - 2) && letter(j - 1))
                        || (j >= 3 && letter(j - 3) && chars[j - 2] == '-' && letter(j - 1));
                    let ahead = letter(j + 1)
                        && (letter(j + 2) || (j + 2 < n && chars[j + 2] == '-' && letter(j + 3)));
                    if behind && ahead {
                        j += 1;
                        break;
                    }
                }
                if word_punct(j - 1) && em_dash_at(j).is_some() {
                    break;
                }
                j += 1;
            }
            i = j;
        }
        chunks.push(chars[start..i].iter().collect());
    }
    chunks
}

/// Python's `textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False, ...)`.
fn wrap_line(line: &str, width: usize, break_long: bool, on_hyphens: bool) -> Vec<String> {
    let len = |s: &String| s.chars().count();
    let blank = |s: &String| s.chars().all(is_py_space);
    let mut chunks = wrap_chunks(line, on_hyphens);
    chunks.reverse();
    let mut lines = Vec::new();
    while !chunks.is_empty() {
        let mut current: Vec<String> = Vec::new();
        let mut current_len = 0;
        if chunks.last().is_some_and(blank) && !lines.is_empty() {
            chunks.pop();
        }
        while let Some(chunk) = chunks.last() {
            let l = len(chunk);
            if current_len + l <= width {
                current_len += l;
                current.extend(chunks.pop());
            } else {
                break;
            }
        }
        if chunks.last().is_some_and(|c| len(c) > width) {
            let space_left = if width < 1 { 1 } else { width - current_len };
            if break_long {
                // Checked by `is_some_and` just above.
                let chunk: Vec<char> = chunks
                    .pop()
                    .map(|c| c.chars().collect())
                    .unwrap_or_default();
                let mut end = space_left;
                if on_hyphens && chunk.len() > space_left {
                    if let Some(hyphen) = chunk[..space_left].iter().rposition(|c| *c == '-') {
                        if hyphen > 0 && chunk[..hyphen].iter().any(|c| *c != '-') {
                            end = hyphen + 1;
                        }
                    }
                }
                current.push(chunk[..end].iter().collect());
                chunks.push(chunk[end..].iter().collect());
            } else if current.is_empty() {
                current.extend(chunks.pop());
            }
        }
        if current.last().is_some_and(blank) {
            current.pop();
        }
        if !current.is_empty() {
            lines.push(current.concat());
        }
    }
    lines
}

/// `wordwrap(width=79, break_long_words=true, wrapstring='\n', break_on_hyphens=true)`:
/// each line wrapped with Python's `textwrap`, joined with `wrapstring`.
fn wordwrap(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind(
        "wordwrap",
        &args.into_values(),
        &[
            "width",
            "break_long_words",
            "wrapstring",
            "break_on_hyphens",
        ],
    )?;
    let s = string_of(value)?;
    let width = args.int(0, "wordwrap", 79)?;
    if width <= 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid width {width} (must be > 0)"),
        ));
    }
    let width = usize::try_from(width).unwrap_or(usize::MAX);
    let wrapstring = match args.get(2).filter(|w| !w.is_none()) {
        Some(w) => string_of(w)?,
        None => "\n".to_owned(),
    };
    let break_long = args.flag(1, true);
    let on_hyphens = args.flag(3, true);
    Ok(splitlines(&s)
        .into_iter()
        .map(|line| wrap_line(line, width, break_long, on_hyphens).join(&wrapstring))
        .collect::<Vec<_>>()
        .join(&wrapstring))
}

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
fn striptags(value: &Value) -> Result<String, Error> {
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

/// Python's `\w` for the characters `urlize`'s domain patterns accept (`[\w%-]`).
fn is_domain_char(c: char) -> bool {
    is_word(c) || c == '%' || c == '-'
}

/// The end of a host made of `[\w%-]` labels and dots, starting at `s`'s beginning.
fn host_len(s: &str) -> usize {
    s.find(|c: char| !(is_domain_char(c) || c == '.'))
        .unwrap_or(s.len())
}

/// Whether what follows a host is an optional `:port` and an optional `/`, `?` or `#` part.
fn port_and_path_ok(rest: &str) -> bool {
    let rest = match rest.strip_prefix(':') {
        Some(port) => {
            let digits = port
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(port.len());
            if !(1..=5).contains(&digits) {
                return false;
            }
            &port[digits..]
        }
        None => rest,
    };
    rest.is_empty() || rest.starts_with(['/', '?', '#'])
}

/// Jinja2's `_http_re`: an `http(s)://` or `www.` URL, a bare domain with a common top
/// level domain, or an `http(s)://` IP address.
fn is_http_url(word: &str) -> bool {
    let lower = word.to_lowercase();
    let scheme = ["https://", "http://", "www."]
        .iter()
        .find(|p| lower.starts_with(**p))
        .map(|p| p.len());
    if let Some(skip) = scheme {
        let rest = &word[skip..];
        let host = &rest[..host_len(rest)];
        let labels: Vec<&str> = host.split('.').collect();
        // Checked non-empty: `split` yields at least one item.
        let tld = labels[labels.len() - 1];
        let labels_ok = labels[..labels.len() - 1].iter().all(|l| !l.is_empty());
        let tld_lower = tld.to_lowercase();
        let tld_ok = (2..=63).contains(&tld.len()) && tld.bytes().all(|b| b.is_ascii_alphabetic())
            || (tld_lower.starts_with("xn--")
                && (2..=59).contains(&tld[4..].chars().count())
                && tld[4..].chars().all(|c| is_word(c) || c == '%'));
        if labels_ok && tld_ok && port_and_path_ok(&rest[host.len()..]) {
            return true;
        }
        if skip == 4 {
            return false;
        }
        // An IPv4 or bracketed IPv6 address after the scheme.
        if let Some(v6) = rest.strip_prefix('[') {
            if let Some(end) = v6.find(']') {
                let inside = &v6[..end];
                return inside.matches(':').count() >= 2
                    && inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
                    && port_and_path_ok(&v6[end + 1..]);
            }
            return false;
        }
        let ip_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let parts: Vec<&str> = rest[..ip_len].split('.').collect();
        return parts.len() == 4
            && parts.iter().all(|p| (1..=3).contains(&p.len()))
            && port_and_path_ok(&rest[ip_len..]);
    }
    let host = &word[..host_len(word)];
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels[..labels.len() - 1]
            .iter()
            .all(|l| (2..=63).contains(&l.chars().count()))
        && ["com", "net", "int", "edu", "gov", "org", "info", "mil"]
            .contains(&labels[labels.len() - 1].to_lowercase().as_str())
        && port_and_path_ok(&word[host.len()..])
}

/// Jinja2's `_uri_scheme_re`: `^([\w.+-]{2,}:(/){0,2})$`.
fn is_uri_scheme(scheme: &str) -> bool {
    let body = scheme.trim_end_matches('/');
    let slashes = scheme.len() - body.len();
    let Some(name) = body.strip_suffix(':') else {
        return false;
    };
    slashes <= 2
        && name.chars().count() >= 2
        && name.chars().all(|c| is_word(c) || ".+-".contains(c))
}

/// Jinja2's `_email_re`: `^\S+@\w[\w.-]*\.\w+$`.
fn is_email(word: &str) -> bool {
    word.match_indices('@').any(|(at, _)| {
        let (user, domain) = (&word[..at], &word[at + 1..]);
        let Some(dot) = domain.rfind('.') else {
            return false;
        };
        !user.is_empty()
            && !user.chars().any(is_py_space)
            && domain.chars().next().is_some_and(is_word)
            && dot >= 1
            && domain[..dot]
                .chars()
                .all(|c| is_word(c) || c == '.' || c == '-')
            && domain[dot + 1..].chars().next().is_some()
            && domain[dot + 1..].chars().all(is_word)
    })
}

/// `urlize(trim_url_limit=none, nofollow=false, target=none, rel=none)`: URLs and e-mail
/// addresses in the (escaped) text turned into links; `rel` always has `noopener`.
fn urlize(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind(
        "urlize",
        &args.into_values(),
        &[
            "trim_url_limit",
            "nofollow",
            "target",
            "rel",
            "extra_schemes",
        ],
    )?;
    let limit = match args.get(0).filter(|l| !l.is_none()) {
        Some(_) => Some(usize::try_from(args.int(0, "urlize", 0)?).unwrap_or(0)),
        None => None,
    };
    let mut rel: Vec<String> = match args.get(3).filter(|r| !r.is_none()) {
        Some(r) => string_of(r)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    if args.flag(1, false) {
        rel.push("nofollow".to_owned());
    }
    rel.push("noopener".to_owned());
    rel.sort();
    rel.dedup();
    let rel_attr = format!(" rel=\"{}\"", escape_text(&rel.join(" ")));
    let target_attr = match args.get(2).filter(|t| !t.is_none() && t.is_true()) {
        Some(t) => format!(" target=\"{}\"", escape_text(&string_of(t)?)),
        None => String::new(),
    };
    let mut schemes: Vec<String> = Vec::new();
    if let Some(extra) = args.get(4).filter(|e| !e.is_none()) {
        for scheme in extra.try_iter()? {
            let scheme = string_of(&scheme)?;
            if !is_uri_scheme(&scheme) {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{} is not a valid URI scheme prefix.", str_repr(&scheme)),
                ));
            }
            schemes.push(scheme);
        }
    }
    let trim_url = |url: &str| match limit {
        Some(n) if url.chars().count() > n => {
            format!("{}...", url.chars().take(n).collect::<String>())
        }
        _ => url.to_owned(),
    };
    let text = if value.is_safe() {
        string_of(value)?
    } else {
        escape_text(&string_of(value)?)
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let split = rest.find(is_py_space).unwrap_or(rest.len());
        let (word, after) = rest.split_at(split);
        let spaces = after.find(|c: char| !is_py_space(c)).unwrap_or(after.len());
        out.push_str(&urlize_word(
            word,
            &rel_attr,
            &target_attr,
            &trim_url,
            &schemes,
        ));
        out.push_str(&after[..spaces]);
        rest = &after[spaces..];
    }
    Ok(out)
}

/// One whitespace-free word of `urlize`: leading `(`/`<` and trailing `)>.,` kept outside
/// the link (balanced parentheses stay in), the middle linked if it is a URL or address.
fn urlize_word(
    word: &str,
    rel_attr: &str,
    target_attr: &str,
    trim_url: &dyn Fn(&str) -> String,
    schemes: &[String],
) -> String {
    let mut middle = word;
    let mut head_len = 0;
    loop {
        let m = &middle[head_len..];
        if m.starts_with(['(', '<']) {
            head_len += 1;
        } else if m.starts_with("&lt;") {
            head_len += 4;
        } else {
            break;
        }
    }
    let head = &word[..head_len];
    middle = &middle[head_len..];
    let mut tail_start = middle.len();
    loop {
        let m = &middle[..tail_start];
        if m.ends_with([')', '>', '.', ',', '\n']) {
            tail_start -= 1;
        } else if m.ends_with("&gt;") {
            tail_start -= 4;
        } else {
            break;
        }
    }
    let mut middle = middle[..tail_start].to_owned();
    let mut tail = word[head_len + tail_start..].to_owned();
    for (open, close) in [("(", ")"), ("<", ">"), ("&lt;", "&gt;")] {
        let opens = middle.matches(open).count();
        if opens <= middle.matches(close).count() {
            continue;
        }
        for _ in 0..opens.min(tail.matches(close).count()) {
            // Counted just above: the tail holds `close`.
            let end = tail.find(close).map_or(0, |i| i + close.len());
            middle.push_str(&tail[..end]);
            tail = tail[end..].to_owned();
        }
    }
    let linked = if is_http_url(&middle) {
        let href = if middle.starts_with("https://") || middle.starts_with("http://") {
            middle.clone()
        } else {
            format!("https://{middle}")
        };
        format!(
            "<a href=\"{href}\"{rel_attr}{target_attr}>{}</a>",
            trim_url(&middle)
        )
    } else if middle.starts_with("mailto:") && is_email(&middle[7..]) {
        format!("<a href=\"{middle}\">{}</a>", &middle[7..])
    } else if middle.contains('@')
        && !middle.starts_with("www.")
        && !middle.contains(':')
        && is_email(&middle)
    {
        format!("<a href=\"mailto:{middle}\">{middle}</a>")
    } else if schemes
        .iter()
        .any(|s| middle != *s && middle.starts_with(s.as_str()))
    {
        format!("<a href=\"{middle}\"{rel_attr}{target_attr}>{middle}</a>")
    } else {
        middle
    };
    format!("{head}{linked}{tail}")
}
