//! The body of a manager-to-worker request: docker-pygen's `{"action": NAME, "args": [...]}`,
//! checked before anything runs.
//!
//! | action | args | effect on the worker |
//! |---|---|---|
//! | `restart` | `[TARGET]` | restart the matching local containers |
//! | `signal` | `[TARGET, SIGNAL]` | send SIGNAL to the matching local containers |
//!
//! pygen's manager may add `"started_before": MILLISECONDS` (Unix time): the action is then
//! meant only for containers that started before that instant. It sends it to a worker that
//! became reachable after a change was sent (see [`super::catchup`]): containers that started
//! later read the new file when they started. docker-pygen's worker ignores the key.
//!
//! A body that is not such JSON, names another action, has the wrong number of arguments, an
//! empty target or an unknown signal is refused (docker-pygen answered 200 to wrong arguments
//! and 500 to the rest).

use serde::{Deserialize, Serialize};

use crate::actions::Action;
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

/// A received action and the containers it is meant for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub action: Action,
    /// Only containers that started before this instant (Unix milliseconds) are meant; `None`
    /// for every matching container.
    pub started_before: Option<i64>,
}

impl Request {
    /// Reads and checks a request body.
    pub fn decode(bytes: &[u8]) -> Result<Request, Error> {
        let body: Body = serde_json::from_slice(bytes).map_err(|e| Error::Json(e.to_string()))?;
        let started_before = body.started_before;
        Ok(Request {
            action: Action::from_body(body)?,
            started_before,
        })
    }

    /// The body that carries the request.
    pub fn encode(&self) -> Vec<u8> {
        self.action.body(self.started_before)
    }
}

/// The JSON shape on the wire.
#[derive(Serialize, Deserialize)]
struct Body {
    /// The action's name.
    action: String,
    /// Its arguments, all strings.
    args: Vec<String>,
    /// pygen's addition: only containers started before this Unix time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started_before: Option<i64>,
}

// The action type is `crate::actions`'s (the Swarm worker runs it there); how it travels is
// this module's.
impl Action {
    /// The body that carries the action: `{"action": "signal", "args": ["web", "SIGHUP"]}`.
    pub fn encode(&self) -> Vec<u8> {
        self.body(None)
    }

    /// The body of the action, limited to containers started before `started_before`.
    fn body(&self, started_before: Option<i64>) -> Vec<u8> {
        let args = match self {
            Action::Restart { target } => vec![target.clone()],
            Action::Signal { target, signal } => vec![target.clone(), signal.clone()],
        };
        let body = Body {
            action: self.name().to_owned(),
            args,
            started_before,
        };
        // Serializing strings cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Reads and checks a request body, ignoring `started_before`.
    pub fn decode(bytes: &[u8]) -> Result<Action, Error> {
        Request::decode(bytes).map(|r| r.action)
    }

    /// Checks the action of a parsed body.
    fn from_body(body: Body) -> Result<Action, Error> {
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
    fn started_before_travels_and_is_optional() {
        let request = Request {
            action: Action::Signal {
                target: "web".into(),
                signal: "SIGHUP".into(),
            },
            started_before: Some(1_780_000_000_123),
        };
        let body = request.encode();
        assert_eq!(
            body,
            br#"{"action":"signal","args":["web","SIGHUP"],"started_before":1780000000123}"#
        );
        assert_eq!(Request::decode(&body), Ok(request));
        let plain = Request::decode(br#"{"action": "restart", "args": ["db"]}"#).unwrap();
        assert_eq!(plain.started_before, None);
        assert!(matches!(
            Request::decode(br#"{"action": "restart", "args": ["db"], "started_before": "x"}"#),
            Err(Error::Json(_))
        ));
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
