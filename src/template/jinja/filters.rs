//! Jinja2's builtin filters where minijinja has none or prints differently, registered over
//! minijinja's own by [`register`]: the one entry point `new_environment()` calls for the
//! builtin filters, tests and globals.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

/// Registers Jinja2's builtin filters into `env`, replacing minijinja's where they differ.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("center", center);
}

/// `s|center(width=80)`: `s` centred in `width` columns, as Python's `str.center` (the odd
/// space goes left only when both the padding and `width` are odd).
fn center(value: &Value, width: Option<i64>) -> Result<String, Error> {
    let s = string_of(value)?;
    let width = usize::try_from(width.unwrap_or(80)).unwrap_or(0);
    let len = s.chars().count();
    if width <= len {
        return Ok(s);
    }
    let pad = width - len;
    // CPython: left = pad / 2 + (pad & width & 1).
    let left = pad / 2 + (pad & width & 1);
    let right = pad - left;
    Ok(format!("{}{s}{}", " ".repeat(left), " ".repeat(right)))
}

/// The text of a value as Jinja2's filters see it (`str(value)`); undefined is empty.
pub(crate) fn string_of(value: &Value) -> Result<String, Error> {
    if value.is_undefined() {
        return Ok(String::new());
    }
    if let Some(s) = value.as_str() {
        return Ok(s.to_owned());
    }
    match value.kind() {
        minijinja::value::ValueKind::None => Ok("None".to_owned()),
        minijinja::value::ValueKind::Bool => {
            Ok(if value.is_true() { "True" } else { "False" }.to_owned())
        }
        minijinja::value::ValueKind::Invalid => Err(Error::new(
            ErrorKind::InvalidOperation,
            "invalid value has no text",
        )),
        _ => Ok(value.to_string()),
    }
}
