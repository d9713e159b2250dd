//! What `pygen_app_info` and `pygen_app_built_at` report: the package version with the git
//! commit, and the build time, both as set at build time.

/// The version reported by `pygen_app_info`: the package version, plus `+<GIT_COMMIT>` when that
/// variable was set at build time.
pub(super) fn app_version() -> String {
    version_string(env!("CARGO_PKG_VERSION"), option_env!("GIT_COMMIT"))
}

fn version_string(version: &str, commit: Option<&str>) -> String {
    match commit.map(str::trim) {
        Some(commit) if !commit.is_empty() => format!("{version}+{commit}"),
        _ => version.to_owned(),
    }
}

/// The build time reported by `pygen_app_built_at`: `BUILD_TIMESTAMP` at build time (seconds
/// since the epoch, fractions allowed), else 0.
pub(super) fn built_at() -> f64 {
    parse_timestamp(option_env!("BUILD_TIMESTAMP"))
}

fn parse_timestamp(value: Option<&str>) -> f64 {
    value
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_build_time() {
        assert_eq!(version_string("1.2.3", None), "1.2.3");
        assert_eq!(version_string("1.2.3", Some("")), "1.2.3");
        assert_eq!(version_string("1.2.3", Some("abc1234\n")), "1.2.3+abc1234");
        assert!(app_version().starts_with(env!("CARGO_PKG_VERSION")));
        assert_eq!(parse_timestamp(None), 0.0);
        assert_eq!(parse_timestamp(Some("1530700000")), 1_530_700_000.0);
        assert_eq!(parse_timestamp(Some("1530700000.5")), 1_530_700_000.5);
        assert_eq!(parse_timestamp(Some("yesterday")), 0.0);
        assert_eq!(parse_timestamp(Some("inf")), 0.0);
    }
}
