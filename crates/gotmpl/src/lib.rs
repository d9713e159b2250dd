//! Go's `text/template` in Rust, rendering byte-for-byte what Go renders: the lexer, parser and
//! executor follow Go's `text/template/parse` and `exec.go`; values keep Go's kinds; printing
//! follows Go's `fmt`. Function libraries (sprig) plug in through a `FuncMap`.

pub mod fmt;
pub mod funcs;
pub mod value;

pub use funcs::{FuncError, FuncMap, Function, Param, Signature};
pub use value::{Record, Time, Value};
