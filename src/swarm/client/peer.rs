//! Managers and workers as named on the command line (`--manager`, `--workers`): `HOST`,
//! `HOST:PORT` or `[IPV6]:PORT`, checked once at startup.

/// Why a peer address is unusable. A configuration error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} {spec:?}: {reason}")]
pub struct PeerError {
    /// The flag the address was given to.
    pub flag: &'static str,
    /// The address as given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A manager or worker as named on the command line: `HOST`, `HOST:PORT` or `[IPV6]:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The host name or address, without brackets.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The name as given, for logs and the metrics' `target` label.
    pub label: String,
}

impl Peer {
    /// Reads a peer address for `flag`; `default_port` applies when none is given.
    pub fn parse(flag: &'static str, spec: &str, default_port: u16) -> Result<Peer, PeerError> {
        let error = |reason| PeerError {
            flag,
            spec: spec.to_owned(),
            reason,
        };
        let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| error("an IPv6 address lacks its closing ']'"))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| error("expected ':PORT' after ']'"))?,
                    ),
                ),
            }
        } else if spec.matches(':').count() > 1 {
            // A bare IPv6 address.
            (spec, None)
        } else {
            match spec.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (spec, None),
            }
        };
        if host.is_empty() {
            return Err(error("the host is empty"));
        }
        let port = match port {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| error("the port is not a number from 1 to 65535"))?,
        };
        Ok(Peer {
            host: host.to_owned(),
            port,
            label: spec.to_owned(),
        })
    }

    /// Reads every address given to `flag`.
    pub fn parse_all(
        flag: &'static str,
        specs: &[String],
        default_port: u16,
    ) -> Result<Vec<Peer>, PeerError> {
        specs
            .iter()
            .map(|spec| Peer::parse(flag, spec, default_port))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        let p = |spec| Peer::parse("--workers", spec, 9412);
        assert_eq!(
            p("tasks.worker"),
            Ok(Peer {
                host: "tasks.worker".into(),
                port: 9412,
                label: "tasks.worker".into()
            })
        );
        assert_eq!(
            p("w:8000").map(|p| (p.host, p.port)),
            Ok(("w".into(), 8000))
        );
        assert_eq!(
            p("[::1]:8000").map(|p| (p.host, p.port)),
            Ok(("::1".into(), 8000))
        );
        assert_eq!(
            p("[::1]").map(|p| (p.host, p.port)),
            Ok(("::1".into(), 9412))
        );
        assert_eq!(
            p("fe80::1").map(|p| (p.host, p.port)),
            Ok(("fe80::1".into(), 9412))
        );
        for bad in ["", ":80", "w:0", "w:x", "w:70000", "[::1", "[::1]80"] {
            let err = p(bad).expect_err(bad);
            assert!(err.to_string().starts_with("--workers "), "{err}");
        }
    }
}
