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
//! `--one-shot`). Every error type that can end the process says which it is here, and only
//! here.

use crate::docker::connect;
use crate::{config, generator, metrics, output, swarm, template};

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

impl Blame for crate::dockergen::Error {
    /// docker-gen mode keeps its own split (`is_usage`): flags, config and template files are
    /// the user's input; a template that fails to render exits 1 there, as docker-gen does.
    fn fault(&self) -> Fault {
        if self.is_usage() {
            Fault::Input
        } else {
            Fault::World
        }
    }
}

impl Blame for config::Error {
    fn fault(&self) -> Fault {
        Fault::Input
    }
}

impl Blame for template::Error {
    fn fault(&self) -> Fault {
        match self {
            template::Error::Read { .. }
            | template::Error::Syntax { .. }
            | template::Error::Render { .. } => Fault::Input,
            template::Error::Fetch { .. }
            | template::Error::Status { .. }
            | template::Error::Client { .. } => Fault::World,
        }
    }
}

impl Blame for output::Error {
    fn fault(&self) -> Fault {
        match self {
            output::Error::MissingFolder { .. }
            | output::Error::NotAFolder { .. }
            | output::Error::IsAFolder { .. }
            | output::Error::DanglingSymlink { .. } => Fault::Input,
            _ => Fault::World,
        }
    }
}

impl Blame for connect::Error {
    fn fault(&self) -> Fault {
        match self {
            connect::Error::UnsupportedScheme { .. }
            | connect::Error::InvalidAddress { .. }
            | connect::Error::NoCertPath { .. }
            | connect::Error::CertFile { .. } => Fault::Input,
            connect::Error::Client { .. }
            | connect::Error::Unreachable { .. }
            | connect::Error::Negotiate { .. } => Fault::World,
        }
    }
}

impl Blame for metrics::Error {
    fn fault(&self) -> Fault {
        Fault::World
    }
}

impl Blame for swarm::Error {
    fn fault(&self) -> Fault {
        match self {
            swarm::Error::Auth(_) | swarm::Error::Peer(_) => Fault::Input,
            swarm::Error::Connect(err) => err.fault(),
            swarm::Error::Metrics(err) => err.fault(),
            swarm::Error::Bind { .. } => Fault::World,
        }
    }
}

impl Blame for generator::Error {
    fn fault(&self) -> Fault {
        use generator::Error;
        match self {
            Error::Template(err) => err.fault(),
            Error::Output(err) => err.fault(),
            Error::Connect(err) => err.fault(),
            Error::Swarm(err) => err.fault(),
            Error::Metrics(err) => err.fault(),
            // The TLS files of the address (read before by `connect`, so rare).
            Error::TargetFolder { .. } | Error::StateDump { .. } => Fault::Input,
            Error::State(_) | Error::SwarmState(_) | Error::Actions { .. } => Fault::World,
        }
    }
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
    fn the_user_s_input_exits_2_and_the_world_1() {
        use std::path::PathBuf;
        let input = generator::Error::Output(output::Error::IsAFolder {
            path: PathBuf::from("/tmp"),
        });
        assert_eq!(input.fault().exit_status(), 2);
        let missing = generator::Error::TargetFolder {
            path: PathBuf::from("/x/y"),
            folder: PathBuf::from("/x"),
        };
        assert_eq!(missing.fault(), Fault::Input);
        let unmatched = generator::Error::Actions {
            unmatched: 1,
            failed: 0,
        };
        assert_eq!(unmatched.fault().exit_status(), 1);
        let address = connect::plan(Some("ftp://x"), &connect::Env::default())
            .expect_err("an unsupported scheme");
        assert_eq!(address.fault(), Fault::Input);
    }

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
