//! sprig's reflection functions: `typeOf` (Go's `%T`), `typeIs`, `typeIsLike`, `kindOf`
//! (reflect's kind names: `int`, `slice`, `map`, `struct`, `invalid` for nil), `kindIs`, and
//! `deepEqual` (reflect.DeepEqual: the same type and contents, so 1 and 1.0 differ).

use super::{Value, deep_equal, kind_name, text};
use crate::funcs::{FuncMap, Param, Signature};

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str};
    m.insert("typeOf", Signature::fixed(&[Any]), |a| {
        Ok(Value::from(a[0].type_name()))
    });
    m.insert("typeIs", Signature::fixed(&[Str, Any]), |a| {
        Ok(Value::Bool(text(&a[0]) == a[1].type_name()))
    });
    m.insert("typeIsLike", Signature::fixed(&[Str, Any]), |a| {
        let (target, t) = (text(&a[0]), a[1].type_name());
        Ok(Value::Bool(
            target == t || t.strip_prefix('*') == Some(target),
        ))
    });
    m.insert("kindOf", Signature::fixed(&[Any]), |a| {
        Ok(Value::from(kind_name(&a[0])))
    });
    m.insert("kindIs", Signature::fixed(&[Str, Any]), |a| {
        Ok(Value::Bool(text(&a[0]) == kind_name(&a[1])))
    });
    m.insert("deepEqual", Signature::fixed(&[Any, Any]), |a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
}
