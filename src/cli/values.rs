//! Checks of single flag values, as clap `value_parser`s: a value that must not be empty, a
//! number of seconds parsed straight to a [`Duration`], an `--allow-label` filter. clap names
//! the flag in its message (`invalid value '-1' for '--repeat <SECONDS>': ...`) and exits with
//! status 2. The config file checks its values with the same functions (the `*_of` forms take
//! the number TOML already parsed), so a value means the same in both places.

use std::time::Duration;

/// Why a single value is refused. The message never names the flag: clap (or the config
/// file's `FILE:LINE: KEY:` prefix) does.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// An empty string where a name, path or URL is needed.
    #[error("the value must not be empty")]
    Empty,
    /// Text that is not a number.
    #[error("{0:?} is not a number of seconds")]
    NotANumber(String),
    /// A number of seconds that is negative, NaN, infinite or too large for a duration.
    #[error("invalid number of seconds {0}: expected a finite number >= 0")]
    InvalidSeconds(f64),
    /// An `--allow-label` filter without a key (`=VALUE`).
    #[error("the label key must not be empty (expected KEY or KEY=VALUE)")]
    EmptyLabelKey,
    /// Zero seconds where only more than zero works (timeouts).
    #[error("the number of seconds must be greater than 0, got {0}")]
    ZeroSeconds(f64),
}

/// A string that must not be empty (`--template`, `--restart`, `--workers`, `--manager`,
/// `--url`).
pub fn non_empty(value: &str) -> Result<String, ValueError> {
    if value.is_empty() {
        return Err(ValueError::Empty);
    }
    Ok(value.to_owned())
}

/// A finite, non-negative number of seconds (`--interval`, `--repeat`, `--swarm-poll`).
pub fn seconds(value: &str) -> Result<Duration, ValueError> {
    seconds_of(number(value)?)
}

/// A number of seconds above zero (`--template-timeout`, the healthcheck's `--timeout`).
pub fn positive_seconds(value: &str) -> Result<Duration, ValueError> {
    positive_seconds_of(number(value)?)
}

/// [`seconds`] of a number already parsed (a config file value).
pub fn seconds_of(value: f64) -> Result<Duration, ValueError> {
    // Rejects NaN, negative, infinite and values beyond Duration's range.
    Duration::try_from_secs_f64(value).map_err(|_| ValueError::InvalidSeconds(value))
}

/// [`positive_seconds`] of a number already parsed (a config file value).
pub fn positive_seconds_of(value: f64) -> Result<Duration, ValueError> {
    let duration = seconds_of(value)?;
    if duration.is_zero() {
        return Err(ValueError::ZeroSeconds(value));
    }
    Ok(duration)
}

/// An `--allow-label KEY[=VALUE]` filter as `(key, value)`, value `None` for any; the key must
/// not be empty.
pub fn allow_label(spec: &str) -> Result<(String, Option<String>), ValueError> {
    let (key, value) = match spec.split_once('=') {
        Some((key, value)) => (key, Some(value.to_owned())),
        None => (spec, None),
    };
    if key.is_empty() {
        return Err(ValueError::EmptyLabelKey);
    }
    Ok((key.to_owned(), value))
}

/// The text of a flag value as a number (`1`, `0.5`, `1e3`; `nan` and `inf` parse and are
/// refused by the range check).
fn number(value: &str) -> Result<f64, ValueError> {
    value
        .parse::<f64>()
        .map_err(|_| ValueError::NotANumber(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_values() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        assert_eq!(seconds("1e3"), Ok(Duration::from_secs(1000)));
        for bad in ["-1", "NaN", "inf", "1e30"] {
            assert!(
                matches!(seconds(bad), Err(ValueError::InvalidSeconds(_))),
                "{bad}"
            );
        }
        assert_eq!(
            seconds("soon"),
            Err(ValueError::NotANumber("soon".to_owned()))
        );
        assert_eq!(positive_seconds("0"), Err(ValueError::ZeroSeconds(0.0)));
        assert_eq!(positive_seconds("2.5"), Ok(Duration::from_millis(2500)));
    }

    #[test]
    fn allow_label_values() {
        assert_eq!(allow_label("a=b"), Ok(("a".into(), Some("b".into()))));
        assert_eq!(allow_label("a="), Ok(("a".into(), Some(String::new()))));
        assert_eq!(allow_label("a"), Ok(("a".into(), None)));
        assert_eq!(allow_label("=b"), Err(ValueError::EmptyLabelKey));
        assert_eq!(allow_label(""), Err(ValueError::EmptyLabelKey));
    }
}
