//! `urlize`: Jinja2's URL and e-mail detection (its `http`/`www`/domain and e-mail
//! patterns) and the links it writes, with `trim_url_limit`, `nofollow`, `target` and
//! `rel`.

use minijinja::value::{Rest, Value, ValueOrKwargs};
use minijinja::{Error, ErrorKind};

use crate::template::jinja::filters::{Args, str_repr, string_of};

use super::{escape_text, is_py_space, is_word};

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
pub(super) fn urlize(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
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
