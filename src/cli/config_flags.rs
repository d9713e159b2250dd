//! The main command's flags against `--config`: which flags the config file replaces (each a
//! usage error next to `--config`), and the message that names the key replacing a flag.

/// The main command's flags that a config file replaces: each is a usage error together with
/// `--config` (only `--debug` may be given with it).
pub const FLAGS_IN_THE_CONFIG_FILE: [&str; 22] = [
    "template",
    "target",
    "restart",
    "signal",
    "interval",
    "repeat",
    "events",
    "swarm_manager",
    "workers",
    "retries",
    "no_ssl_check",
    "one_shot",
    "docker_address",
    "metrics",
    "metrics_address",
    "template_timeout",
    "swarm_manager_port",
    "manager_address",
    "swarm_poll",
    "swarm_secret_file",
    "insecure_no_auth",
    "insecure_no_auth_on_network",
];

/// The config file key that replaces the main command's flag `id` (an id of
/// [`FLAGS_IN_THE_CONFIG_FILE`]), for the message of a flag given with `--config`.
pub fn config_key_of_flag(id: &str) -> Option<&'static str> {
    Some(match id {
        "template" => "`source` (or `inline`) in a [[template]] entry",
        "target" => "`target` in a [[template]] entry",
        "restart" => "`restart` in a [[template]] entry",
        "signal" => "`signal` in a [[template]] entry",
        "interval" => "`interval` in a [[template]] entry",
        "repeat" => "`repeat` in a [[template]] entry",
        "events" => "`events`",
        "swarm_manager" => "a [swarm_manager] table",
        "workers" => "`workers` in the [swarm_manager] table",
        "retries" => "`retries` in the [swarm_manager] table",
        "no_ssl_check" => "`no_ssl_check`",
        "one_shot" => "`one_shot`",
        "docker_address" => "`address` in the [docker] table",
        "metrics" => "`port` in the [metrics] table",
        "metrics_address" => "`address` in the [metrics] table",
        "template_timeout" => "`template_timeout`",
        "swarm_manager_port" => "`port` in the [swarm_manager] table",
        "manager_address" => "`address` in the [swarm_manager] table",
        "swarm_poll" => "`swarm_poll`",
        "swarm_secret_file" => "`secret_file` in the [swarm_manager] table",
        "insecure_no_auth" => "`insecure_no_auth` in the [swarm_manager] table",
        "insecure_no_auth_on_network" => {
            "`insecure_no_auth_on_network` in the [swarm_manager] table"
        }
        _ => return None,
    })
}

/// For a clap error about a flag given together with `--config`: which config file key
/// replaces the flag (`--target cannot be used with --config: set `target` in a [[template]]
/// entry of the config file`). `None` for any other error.
pub fn config_conflict_hint(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if err.kind() != clap::error::ErrorKind::ArgumentConflict {
        return None;
    }
    let names = [ContextKind::InvalidArg, ContextKind::PriorArg]
        .into_iter()
        .filter_map(|kind| match err.get(kind) {
            Some(ContextValue::String(name)) => Some(vec![name.clone()]),
            Some(ContextValue::Strings(names)) => Some(names.clone()),
            _ => None,
        })
        .flatten()
        .collect::<Vec<_>>();
    // The names are as clap prints them: `--target <TARGET>`.
    let flag_of = |name: &String| {
        name.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    if !names.iter().any(|name| flag_of(name) == "--config") {
        return None;
    }
    let other = names.iter().map(flag_of).find(|flag| flag != "--config")?;
    let id = other.trim_start_matches('-').replace('-', "_");
    let key = config_key_of_flag(&id)?;
    Some(format!(
        "{other} cannot be used with --config: set {key} of the config file instead"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn config_excludes_every_other_main_command_flag() {
        let ok = Cli::try_parse_from(["pygen", "--config", "p.toml", "--debug"]).unwrap();
        assert_eq!(
            ok.run.config.as_deref(),
            Some(std::path::Path::new("p.toml"))
        );
        assert!(ok.run.template.is_none());
        for id in FLAGS_IN_THE_CONFIG_FILE {
            assert!(config_key_of_flag(id).is_some(), "{id}");
        }
        let cases: [&[&str]; 5] = [
            &["--target", "x"],
            &["--template", "t"],
            &["--signal", "a", "HUP"],
            &["--swarm-manager"],
            &["--insecure-no-auth"],
        ];
        for extra in cases {
            let mut args = vec!["pygen", "--config", "p.toml"];
            args.extend_from_slice(extra);
            let err = Cli::try_parse_from(&args).expect_err("a conflict");
            let hint = config_conflict_hint(&err).unwrap_or_else(|| panic!("{args:?}: {err}"));
            assert!(
                hint.starts_with(&format!("{} cannot be used with --config: set ", extra[0])),
                "{hint}"
            );
        }
        let err = Cli::try_parse_from(["pygen", "--target", "x", "--config", "p"]).unwrap_err();
        assert_eq!(
            config_conflict_hint(&err).as_deref(),
            Some(
                "--target cannot be used with --config: set `target` in a [[template]] entry \
                 of the config file instead"
            )
        );
        // Neither --template nor --config: the usual missing flag.
        let err = Cli::try_parse_from(["pygen", "--debug"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert_eq!(config_conflict_hint(&err), None);
    }
}
