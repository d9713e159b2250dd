//! Arbitrary text as a docker-gen `-config` TOML file: the reader returns jobs or an error that
//! names the file, never panics; every job it returns has a template, and a `wait` whose cap is
//! not below its quiet period.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pygen::dockergen::tomlfile::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut warnings = Vec::new();
    match parse(Path::new("fuzz.cfg"), text, &mut warnings) {
        Ok(jobs) => {
            for job in jobs {
                assert!(
                    !job.templates.is_empty(),
                    "a job without template: {text:?}"
                );
                if let Some(wait) = job.wait {
                    assert!(wait.min <= wait.max, "{wait:?} from {text:?}");
                    assert!(!wait.min.is_zero(), "{wait:?} from {text:?}");
                }
            }
        }
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.starts_with("config file fuzz.cfg: "),
                "{message:?} from {text:?}"
            );
        }
    }
});
