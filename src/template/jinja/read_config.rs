//! `read_config(key, path=None, default=None, single_config=False, fallback_to_env=True)`:
//! docker-pygen's way for templates to read settings from a `key=value` file or the
//! environment of the pygen process (api.md §9).
//!
//! 1. If `path` names an existing file: with `single_config` the whole content (unchanged);
//!    otherwise the value of the first line starting with `key=`, trimmed (values may contain
//!    `=`; no comments, leading whitespace never matches).
//! 2. Else, with `fallback_to_env`, the environment variable `key` if set.
//! 3. Else `default`.
//!
//! Like the original it reads any file and any variable pygen can: templates are trusted
//! configuration, and their author controls what ends up in the target.

use std::ffi::OsString;
use std::path::Path;

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

/// The `read_config` function as a template value.
pub(crate) fn function() -> Value {
    Value::from_function(read_config)
}

/// Parameter names, in positional order.
const PARAMS: [&str; 5] = ["key", "path", "default", "single_config", "fallback_to_env"];

/// Binds positional and keyword arguments like Python does, then looks the value up.
fn read_config(args: &[Value], kwargs: Kwargs) -> Result<Value, Error> {
    if args.len() > PARAMS.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!(
                "read_config() takes at most 5 arguments ({} given)",
                args.len()
            ),
        ));
    }
    let mut slots: [Option<Value>; 5] = Default::default();
    for (slot, arg) in slots.iter_mut().zip(args) {
        *slot = Some(arg.clone());
    }
    for (slot, name) in slots.iter_mut().zip(PARAMS) {
        if kwargs.has(name) {
            if slot.is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("read_config() got multiple values for argument '{name}'"),
                ));
            }
            *slot = Some(kwargs.get::<Value>(name)?);
        }
    }
    kwargs.assert_all_used()?;
    let [key, path, default, single_config, fallback_to_env] = slots;
    let key = match key.as_ref().and_then(Value::as_str) {
        Some(key) => key.to_owned(),
        None => {
            return Err(Error::new(
                ErrorKind::MissingArgument,
                "read_config() needs a string 'key'",
            ));
        }
    };
    let path = path.as_ref().and_then(|p| {
        if p.is_none() || p.is_undefined() {
            None
        } else {
            Some(p.to_string())
        }
    });
    let options = Options {
        default: default.unwrap_or(Value::from(())),
        single_config: single_config.is_some_and(|v| v.is_true()),
        fallback_to_env: fallback_to_env.is_none_or(|v| v.is_true()),
    };
    lookup(&key, path.as_deref().map(Path::new), options, |k| {
        std::env::var_os(k)
    })
}

/// The flags of one lookup.
struct Options {
    /// Returned when nothing is found.
    default: Value,
    /// Return the whole file instead of one key.
    single_config: bool,
    /// Look in the environment when the file has nothing.
    fallback_to_env: bool,
}

/// The lookup itself, with the environment passed in so tests need not change the
/// process environment.
fn lookup(
    key: &str,
    path: Option<&Path>,
    options: Options,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Value, Error> {
    if let Some(path) = path.filter(|p| p.exists()) {
        let content = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("read_config: cannot read {}: {e}", path.display()),
            )
            .with_source(e)
        })?;
        let content = String::from_utf8_lossy(&content);
        if options.single_config {
            return Ok(Value::from(content.as_ref()));
        }
        let found = content.lines().find_map(|line| {
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::trim)
        });
        if let Some(value) = found {
            return Ok(Value::from(value));
        }
    }
    // The standard library rejects such names; Python would just not find them.
    let valid_name = !key.is_empty() && !key.contains(['=', '\0']);
    if options.fallback_to_env && valid_name {
        if let Some(value) = env(key) {
            return Ok(Value::from(value.to_string_lossy().as_ref()));
        }
    }
    Ok(options.default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{Environment, context};
    use std::io::Write;

    fn options(default: Option<&str>, single_config: bool, fallback_to_env: bool) -> Options {
        Options {
            default: Value::from(default),
            single_config,
            fallback_to_env,
        }
    }

    fn fake_env(key: &str) -> Option<OsString> {
        match key {
            "PYGEN_TEST_KEY" => Some("from-env".into()),
            "PYGEN_CONF" => Some("env-loses".into()),
            _ => None,
        }
    }

    fn conf_file() -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        write!(
            file,
            "PYGEN_CONF=from-file\n  INDENTED=no\nWITH_EQ = a=b \nPYGEN_CONF=second\nEMPTY=\n"
        )
        .expect("write temp file");
        file
    }

    fn get(key: &str, path: Option<&Path>, opts: Options) -> Value {
        lookup(key, path, opts, fake_env).expect("lookup works")
    }

    #[test]
    fn from_env() {
        assert_eq!(
            get("PYGEN_TEST_KEY", None, options(None, false, true)),
            Value::from("from-env")
        );
        assert!(get("PYGEN_TEST_KEY", None, options(None, false, false)).is_none());
    }

    #[test]
    fn from_file_first_line_wins_and_beats_env() {
        let file = conf_file();
        let path = Some(file.path());
        assert_eq!(
            get("PYGEN_CONF", path, options(None, false, true)),
            Value::from("from-file")
        );
        assert_eq!(
            get("WITH_EQ ", path, options(None, false, true)),
            Value::from("a=b")
        );
        assert_eq!(
            get("EMPTY", path, options(Some("d"), false, true)),
            Value::from("")
        );
        // Leading whitespace never matches.
        assert_eq!(
            get("INDENTED", path, options(Some("d"), false, true)),
            Value::from("d")
        );
        // Not in the file: the environment, then the default.
        assert_eq!(
            get("PYGEN_TEST_KEY", path, options(None, false, true)),
            Value::from("from-env")
        );
        assert_eq!(
            get("NOPE", path, options(Some("DefaultValue"), false, true)),
            Value::from("DefaultValue")
        );
    }

    #[test]
    fn single_config_returns_the_whole_file() {
        let file = conf_file();
        let whole = get("ignored", Some(file.path()), options(None, true, true));
        assert_eq!(
            whole.as_str(),
            Some(
                "PYGEN_CONF=from-file\n  INDENTED=no\nWITH_EQ = a=b \nPYGEN_CONF=second\nEMPTY=\n"
            )
        );
    }

    #[test]
    fn missing_file_falls_back() {
        let missing = Path::new("/nonexistent/pygen-conf-test");
        assert_eq!(
            get("PYGEN_CONF", Some(missing), options(None, false, true)),
            Value::from("env-loses")
        );
        assert_eq!(
            get("NOPE", Some(missing), options(Some("d"), true, true)),
            Value::from("d")
        );
    }

    #[test]
    fn unreadable_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = lookup("K", Some(dir.path()), options(None, false, true), fake_env)
            .expect_err("a directory cannot be read");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn odd_keys_do_not_reach_the_environment() {
        for key in ["", "A=B", "A\0B"] {
            assert!(get(key, None, options(None, false, true)).is_none());
        }
    }

    #[test]
    fn from_templates_with_python_arguments() {
        let file = conf_file();
        let path = file.path().display().to_string();
        let mut env = Environment::new();
        env.add_global("read_config", function());
        let render = |t: &str| {
            env.render_str(t, context! { path => path.clone() })
                .unwrap_or_else(|e| format!("ERROR {e}"))
        };
        assert_eq!(render("{{ read_config('PYGEN_CONF', path) }}"), "from-file");
        assert_eq!(render("{{ read_config('NOPE', path, 'dflt') }}"), "dflt");
        assert_eq!(render("{{ read_config('NOPE', default='kw') }}"), "kw");
        assert_eq!(
            render("{{ read_config(key='PYGEN_CONF', path=path) }}"),
            "from-file"
        );
        assert_eq!(
            render("{{ read_config('x', path, single_config=True)|replace('\n', '_') }}"),
            "PYGEN_CONF=from-file_  INDENTED=no_WITH_EQ = a=b _PYGEN_CONF=second_EMPTY=_"
        );
        assert_eq!(
            render("{{ read_config('NOPE', none, 'd', false, false) }}"),
            "d"
        );
        // The real process environment: PATH is set wherever tests run.
        let real_path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(render("{{ read_config('PATH') }}"), real_path);
        assert_eq!(
            render("{{ read_config('PATH', fallback_to_env=false) is none }}"),
            "True"
        );
        assert!(render("{{ read_config() }}").starts_with("ERROR missing argument"));
        assert!(
            render("{{ read_config('a', path='x', nope=1) }}")
                .starts_with("ERROR too many arguments")
        );
        assert!(render("{{ read_config('a', 'p', path='x') }}").contains("multiple values"));
    }
}
