//! The body of a manager-to-worker request: docker-pygen's `{"action": NAME, "args": [...]}`,
//! checked before anything runs.
//!
//! | action | args | effect on the worker |
//! |---|---|---|
//! | `restart` | `[TARGET]` | restart the matching local containers |
//! | `signal` | `[TARGET, SIGNAL]` | send SIGNAL to the matching local containers |
//!
//! A body that is not such JSON, names another action, has the wrong number of arguments, an
//! empty target or an unknown signal is refused (docker-pygen answered 200 to wrong arguments
//! and 500 to the rest).

use serde::{Deserialize, Serialize};

use crate::config::SignalSpec;

/// Largest request body either endpoint accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// Why a request body was refused. Every variant is a 400: the sender must change the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not JSON of the expected shape.
    #[error("invalid request body: {0}")]
    Json(String),
    /// An action name other than `restart` and `signal`.
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    /// Wrong number of arguments for the action.
    #[error("{action}: expected {expected} argument(s), got {got}")]
    Arguments {
        /// The action.
        action: &'static str,
        /// How many it takes.
        expected: usize,
        /// How many came.
        got: usize,
    },
    /// An empty target (docker-pygen matched every container with it).
    #[error("{action}: the target is empty")]
    EmptyTarget {
        /// The action.
        action: &'static str,
    },
    /// A signal Docker would not know.
    #[error("signal: unknown signal {0:?}")]
    UnknownSignal(String),
}

/// An action a manager asks a worker to run on its local containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Restart the matching containers.
    Restart {
        /// The target, matched like `--restart`.
        target: String,
    },
    /// Signal the matching containers.
    Signal {
        /// The target, matched like `--signal`.
        target: String,
        /// The normalized signal (`SIGHUP`, `9`).
        signal: String,
    },
}

/// The JSON shape on the wire.
#[derive(Serialize, Deserialize)]
struct Body {
    /// The action's name.
    action: String,
    /// Its arguments, all strings.
    args: Vec<String>,
}

impl Action {
    /// The action's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Restart { .. } => "restart",
            Action::Signal { .. } => "signal",
        }
    }

    /// The target of the action.
    pub fn target(&self) -> &str {
        match self {
            Action::Restart { target } | Action::Signal { target, .. } => target,
        }
    }

    /// The body that carries the action: `{"action": "signal", "args": ["web", "SIGHUP"]}`.
    pub fn encode(&self) -> Vec<u8> {
        let args = match self {
            Action::Restart { target } => vec![target.clone()],
            Action::Signal { target, signal } => vec![target.clone(), signal.clone()],
        };
        let body = Body {
            action: self.name().to_owned(),
            args,
        };
        // Serializing strings cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Reads and checks a request body.
    pub fn decode(bytes: &[u8]) -> Result<Action, Error> {
        let body: Body = serde_json::from_slice(bytes).map_err(|e| Error::Json(e.to_string()))?;
        let (action, expected) = match body.action.as_str() {
            "restart" => ("restart", 1),
            "signal" => ("signal", 2),
            _ => return Err(Error::UnknownAction(body.action)),
        };
        if body.args.len() != expected {
            return Err(Error::Arguments {
                action,
                expected,
                got: body.args.len(),
            });
        }
        let mut args = body.args.into_iter();
        let target = args.next().unwrap_or_default();
        if target.is_empty() {
            return Err(Error::EmptyTarget { action });
        }
        match args.next() {
            None => Ok(Action::Restart { target }),
            Some(signal) => match SignalSpec::new(target, &signal) {
                Ok(spec) => Ok(Action::Signal {
                    target: spec.target,
                    signal: spec.signal,
                }),
                Err(_) => Err(Error::UnknownSignal(signal)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_pygen_bodies_decode() {
        // The exact bytes docker-pygen's manager sends.
        assert_eq!(
            Action::decode(br#"{"action": "signal", "args": ["web", "HUP"]}"#),
            Ok(Action::Signal {
                target: "web".into(),
                signal: "SIGHUP".into()
            })
        );
        assert_eq!(
            Action::decode(br#"{"action": "restart", "args": ["nginx"]}"#),
            Ok(Action::Restart {
                target: "nginx".into()
            })
        );
    }

    #[test]
    fn encode_round_trips() {
        for action in [
            Action::Restart {
                target: "a\"b".into(),
            },
            Action::Signal {
                target: "web".into(),
                signal: "SIGUSR1".into(),
            },
        ] {
            assert_eq!(Action::decode(&action.encode()), Ok(action));
        }
        let body = Action::Signal {
            target: "web".into(),
            signal: "SIGHUP".into(),
        }
        .encode();
        assert_eq!(body, br#"{"action":"signal","args":["web","SIGHUP"]}"#);
    }

    #[test]
    fn bad_bodies_are_refused() {
        let err = |body: &str| Action::decode(body.as_bytes()).unwrap_err();
        assert!(matches!(err("not json"), Error::Json(_)));
        assert!(matches!(err("{\"action\": \"restart\"}"), Error::Json(_)));
        assert!(matches!(
            err("{\"action\": \"restart\", \"args\": [1]}"),
            Error::Json(_)
        ));
        assert_eq!(
            err(r#"{"action": "exec", "args": ["x"]}"#),
            Error::UnknownAction("exec".into())
        );
        assert_eq!(
            err(r#"{"action": "signal", "args": ["x"]}"#),
            Error::Arguments {
                action: "signal",
                expected: 2,
                got: 1
            }
        );
        assert_eq!(
            err(r#"{"action": "restart", "args": ["a", "b"]}"#),
            Error::Arguments {
                action: "restart",
                expected: 1,
                got: 2
            }
        );
        assert_eq!(
            err(r#"{"action": "signal", "args": ["", "KILL"]}"#),
            Error::EmptyTarget { action: "signal" }
        );
        assert_eq!(
            err(r#"{"action": "signal", "args": ["web", "NOPE"]}"#),
            Error::UnknownSignal("NOPE".into())
        );
    }
}
