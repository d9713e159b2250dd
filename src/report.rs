//! One printer for an error and its causes, used for the final message and for every log line
//! that reports an error, so no cause is ever dropped or printed twice; and the one rule for
//! the exit status of an error that ends the process.
//!
//! The rule ([`Fault`]): status 2 when the user's input is wrong, so running again unchanged
//! cannot help (flags, configuration, a Docker address that cannot be parsed, a TLS file or
//! shared secret that is missing, the template: unreadable, not compiling, or failing to render
//! (unknown filter, undefined value, an error it raises), a target that is a directory or in a
//! missing folder, a state dump that cannot be read); status 1 when the world failed, so the
//! same command may succeed later (the daemon unreachable or failing, a template URL not
//! answering, a write failing, a port in use, an action that matched no container or failed in
//! `--one-shot`). Every error type that can end the process says which it is by implementing
//! [`Blame`] beside its own definition, so this module depends on no other.

/// Who must act for an error that ends the process; decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The user's input is wrong: exit status 2.
    Input,
    /// The world failed (daemon, network, file system, actions): exit status 1.
    World,
}

impl Fault {
    /// The process exit status for this fault.
    pub fn exit_status(self) -> u8 {
        match self {
            Fault::Input => 2,
            Fault::World => 1,
        }
    }
}

/// The [`Fault`] of an error type that can end the process.
pub trait Blame {
    /// Whether the user's input or the world is at fault.
    fn fault(&self) -> Fault;
}

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
