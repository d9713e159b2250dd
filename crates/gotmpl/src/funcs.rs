//! The function map: named functions with Go-like signatures. The engine checks the argument
//! count and converts or rejects arguments per signature with Go's error texts before calling,
//! so a function body receives values of the kinds it declared. Function libraries (sprig,
//! docker-gen's own) fill a `FuncMap`; the template builtins live in `builtins.rs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::value::Value;

/// An error returned by a function: the text Go prints after `error calling NAME: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    pub fn new(msg: impl Into<String>) -> Self {
        FuncError(msg.into())
    }
}

/// The Go type of a parameter. `Any` is `interface{}`: it takes every value as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Any,
    String,
    Int,
    Int64,
    Float64,
    Bool,
    List,
    StringList,
    Map,
    Time,
}

impl Param {
    /// The type as Go prints it in `wrong type for value; expected T; got U`.
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Int => "int",
            Param::Int64 => "int64",
            Param::Float64 => "float64",
            Param::Bool => "bool",
            Param::List => "[]interface {}",
            Param::StringList => "[]string",
            Param::Map => "map[string]interface {}",
            Param::Time => "time.Time",
        }
    }
}

/// A function's parameters: fixed ones, then optionally a variadic tail of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
}

impl Signature {
    /// Fixed parameters only.
    pub fn fixed(params: &[Param]) -> Self {
        Signature {
            params: params.to_vec(),
            variadic: None,
        }
    }

    /// Fixed parameters followed by any number of `rest`.
    pub fn variadic(params: &[Param], rest: Param) -> Self {
        Signature {
            params: params.to_vec(),
            variadic: Some(rest),
        }
    }
}

type Body = dyn Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync;

/// A named function of a `FuncMap`.
#[derive(Clone)]
pub struct Function {
    pub sig: Signature,
    body: Arc<Body>,
}

impl Function {
    /// Calls the body with arguments already checked against the signature.
    pub fn call(&self, args: &[Value]) -> Result<Value, FuncError> {
        (self.body)(args)
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("sig", &self.sig)
            .finish_non_exhaustive()
    }
}

/// Functions by name. `Send + Sync`, so a parsed template can be shared across threads.
#[derive(Clone, Default, Debug)]
pub struct FuncMap {
    funcs: HashMap<String, Function>,
}

impl FuncMap {
    pub fn new() -> Self {
        FuncMap::default()
    }

    /// Adds or replaces `name`.
    pub fn insert(
        &mut self,
        name: &str,
        sig: Signature,
        f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) {
        self.funcs.insert(
            name.to_string(),
            Function {
                sig,
                body: Arc::new(f),
            },
        );
    }

    /// Adds or replaces `name` with a function taken from another map.
    pub fn insert_function(&mut self, name: &str, f: Function) {
        self.funcs.insert(name.to_string(), f);
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    /// Adds every function of `other`; names already present are overridden, as docker-gen's
    /// functions override sprig's.
    pub fn extend(&mut self, other: FuncMap) {
        self.funcs.extend(other.funcs);
    }

    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// The names, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn later_inserts_override() {
        assert_send_sync::<FuncMap>();
        let mut a = FuncMap::new();
        a.insert("f", Signature::fixed(&[]), |_| Ok(Value::Int(1)));
        let mut b = FuncMap::new();
        b.insert("f", Signature::fixed(&[]), |_| Ok(Value::Int(2)));
        a.extend(b);
        let got = a.get("f").map(|f| f.call(&[]));
        assert!(matches!(got, Some(Ok(Value::Int(2)))));
        assert_eq!(a.len(), 1);
    }
}
