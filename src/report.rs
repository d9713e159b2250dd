//! One printer for an error and its causes, used for the final message and for every log line
//! that reports an error, so no cause is ever dropped or printed twice.

/// One line for an error and its causes, for logs and the final message. A cause whose text
/// the line already holds is left out (many errors here already name their cause), and so is
/// minijinja's `(in name:line)` suffix when the location is already given.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(current) = cause {
        let text = current.to_string();
        let core = match text.rfind(" (in ") {
            Some(at) if text.ends_with(')') => &text[..at],
            _ => text.as_str(),
        };
        if !line.contains(core) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the template")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("listing containers: {0}")]
    struct Repeating(#[source] std::io::Error);

    #[test]
    fn walks_the_chain() {
        let err = Outer(std::io::Error::other("no such file"));
        assert_eq!(describe(&err), "reading the template: no such file");
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let err = Repeating(std::io::Error::other("connection refused"));
        assert_eq!(describe(&err), "listing containers: connection refused");
    }
}
