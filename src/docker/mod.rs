//! (to be written)
//!
//! [`connect`] builds the client from an address or the docker CLI's environment variables.

pub mod connect;
