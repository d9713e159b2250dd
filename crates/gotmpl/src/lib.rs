//! Go's `text/template` in Rust, rendering byte-for-byte what Go renders: the lexer, parser and
//! executor follow Go's `text/template/parse` and `exec.go`; values keep Go's kinds; printing
//! follows Go's `fmt`. Function libraries (sprig) plug in through a `FuncMap`.

pub mod builtins;
pub mod exec;
pub mod fmt;
pub mod funcs;
pub mod lex;
pub mod node;
pub mod parse;
pub mod sprig;
pub mod template;
pub mod timefmt;
pub mod value;

pub use exec::ExecError;
pub use funcs::{FuncError, FuncMap, Function, Param, Signature};
pub use parse::ParseError;
pub use template::{Error, Limits, MissingKey, Template};
pub use value::{Record, Time, Value};
