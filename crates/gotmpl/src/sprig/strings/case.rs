//! xstrings' case conversions: `snakecase` and `kebabcase` (`camelCaseToLowerCase` with its
//! word classes) and `camelcase`.

use super::{is_go_space, lower_rune, upper_rune};

/// xstrings' connector runes.
fn is_connector(r: char) -> bool {
    r == '-' || r == '_' || is_go_space(r)
}

/// xstrings' `isAlphabet`: letters outside the CJK blocks.
fn is_alphabet(r: char) -> bool {
    if !r.is_alphabetic() {
        return false;
    }
    let c = r as u32;
    !((0x3400..=0x4DBF).contains(&c)
        || (0x4E00..=0x9FFF).contains(&c)
        || (0xF900..=0xFAFF).contains(&c)
        || (0x20000..=0x2FA1F).contains(&c))
}

/// Go's `unicode.IsPunct`, approximated by the ASCII and general punctuation sets.
fn is_punct(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_punctuation() && !"$+<=>^`|~".contains(r);
    }
    matches!(r as u32, 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003 | 0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings' `nextWord`: the type of the next word, the word, and the rest.
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, r)) = it.next() else {
        return (Word::Invalid, "", "");
    };
    let end_of = |it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                  keep: &dyn Fn(char) -> bool| {
        while let Some(&(_, c)) = it.peek() {
            if !keep(c) {
                break;
            }
            it.next();
        }
        it.peek().map_or(s.len(), |(i, _)| *i)
    };
    let (wt, end) = if is_connector(r) {
        (Word::Connector, end_of(&mut it, &is_connector))
    } else if is_punct(r) {
        (Word::Punct, end_of(&mut it, &is_punct))
    } else if r.is_uppercase() {
        match it.peek().copied() {
            None => (Word::Upper, s.len()),
            Some((_, c)) if c.is_uppercase() => {
                // A run of capitals; when a lower-case letter follows, its capital starts
                // the next word ("HTTPServer" is "HTTP" + "Server").
                let mut last_start = 0;
                while let Some(&(i, c)) = it.peek() {
                    if !c.is_uppercase() {
                        break;
                    }
                    last_start = i;
                    it.next();
                }
                match it.peek() {
                    Some(&(_, c)) if is_alphabet(c) => (Word::Upper, last_start),
                    Some(&(i, _)) => (Word::Upper, i),
                    None => (Word::Upper, s.len()),
                }
            }
            Some((_, c)) if is_alphabet(c) => (
                Word::Upper,
                end_of(&mut it, &|c| is_alphabet(c) && !c.is_uppercase()),
            ),
            Some((i, _)) => (Word::Upper, i),
        }
    } else if is_alphabet(r) {
        (
            Word::Alphabet,
            end_of(&mut it, &|c| is_alphabet(c) && !c.is_uppercase()),
        )
    } else if r.is_numeric() {
        (Word::Number, end_of(&mut it, &char::is_numeric))
    } else {
        (
            Word::Other,
            end_of(&mut it, &|c| {
                !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
            }),
        )
    };
    (wt, &s[..end], &s[end..])
}

/// xstrings' `toLower` of one word: upper-case words and connectors are lowered, connectors
/// replaced.
fn lower_word(out: &mut String, wt: Word, word: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for r in word.chars() {
        if is_connector(r) {
            out.push(connector);
        } else {
            out.push(lower_rune(r));
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (`snakecase`, `kebabcase`).
pub(super) fn to_lower_case(s: &str, connector: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if wt != Word::Connector {
            lower_word(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let num = word;
                (wt, word, rest) = next_word(rest);
                if wt != Word::Alphabet {
                    lower_word(&mut out, Word::Number, num, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                lower_word(&mut out, Word::Number, num, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    lower_word(&mut out, wt, word, connector);
    out
}

/// xstrings' `ToCamelCase`: connectors dropped, the rune after one upper-cased, the rest
/// lowered; leading connectors kept.
pub(super) fn camelcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            r0 = Some(upper_rune(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        // Only connectors: xstrings writes the last one a second time.
        if let Some(last) = s.chars().last() {
            out.push(last);
        }
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = upper_rune(r0);
        } else {
            r0 = lower_rune(r0);
            out.push(r1);
        }
    }
    out.push(r0);
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions_follow_xstrings() {
        assert_eq!(to_lower_case("FirstName", '_'), "first_name");
        assert_eq!(to_lower_case("HTTPServer", '_'), "http_server");
        assert_eq!(to_lower_case("NoHTTPS", '_'), "no_https");
        assert_eq!(to_lower_case("GO_PATH", '_'), "go_path");
        assert_eq!(to_lower_case("GO PATH", '_'), "go_path");
        assert_eq!(to_lower_case("GO-PATH", '_'), "go_path");
        assert_eq!(to_lower_case("http2xx", '_'), "http_2xx");
        assert_eq!(to_lower_case("HTTP20xOK", '_'), "http_20x_ok");
        assert_eq!(to_lower_case("Duration2m3s", '_'), "duration_2m3s");
        assert_eq!(to_lower_case("Bld4Floor3rd", '_'), "bld4_floor_3rd");
        assert_eq!(to_lower_case("FirstName", '-'), "first-name");
        assert_eq!(camelcase("some_words"), "SomeWords");
        assert_eq!(camelcase("http_server"), "HttpServer");
        assert_eq!(camelcase("_complex__case_"), "_Complex_Case_");
        assert_eq!(camelcase("x"), "X");
    }
}
