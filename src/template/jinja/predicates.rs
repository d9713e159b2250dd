//! Jinja2's builtin tests where minijinja has none or answers differently: `callable`
//! (functions, macros, joiners, methods; Jinja2's undefined is callable too) and `sequence`
//! (anything with a length and items: strings, lists, tuples, dicts, ranges, undefined).

use minijinja::Environment;
use minijinja::value::{ObjectRepr, Value, ValueKind};

use super::globals::Cycler;

/// Registers the tests.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_test("callable", is_callable);
    env.add_test("sequence", is_sequence);
    env.add_test("iterable", is_iterable);
    env.add_test("in", is_in);
}

/// `x is iterable`: strings, lists, dicts, ranges and other iterables; undefined too (it
/// iterates as empty), none and numbers not.
fn is_iterable(value: &Value) -> bool {
    !matches!(
        value.kind(),
        ValueKind::None
            | ValueKind::Bool
            | ValueKind::Number
            | ValueKind::Plain
            | ValueKind::Invalid
    )
}

/// `x is in(seq)`: Python's `x in seq` (a `TypeError` when `seq` is not a container).
fn is_in(value: &Value, container: &Value) -> Result<bool, minijinja::Error> {
    super::python::py_in(value, container)
}

/// `x is callable`: Python's `callable(x)`.
fn is_callable(value: &Value) -> bool {
    match value.kind() {
        ValueKind::Undefined => true,
        ValueKind::Plain => {
            value.downcast_object_ref::<Cycler>().is_none()
                && value
                    .as_object()
                    .is_some_and(|o| matches!(o.repr(), ObjectRepr::Plain))
        }
        _ => false,
    }
}

/// `x is sequence`: has a length and supports subscripts.
fn is_sequence(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Undefined | ValueKind::String | ValueKind::Seq | ValueKind::Map
    ) || value
        .downcast_object_ref::<super::globals::Range>()
        .is_some()
}
