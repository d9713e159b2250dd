//! Everything that talks to the Docker daemon: the connection, the state cache kept current from
//! events, the Swarm listings ([`swarm::SwarmCache`]), the event stream with reconnects, and
//! [`watch::Watch`], which ties the feed, the cache and the client together for the generator
//! and the worker.
//!
//! [`connect()`] builds the client from an address or the docker CLI's environment variables:
//! one [`raw::RawClient`] per daemon, with one connection pool and one TLS set-up, for every
//! call (reads, events, kill, restart, service updates, version negotiation).
//! The rest of pygen never calls the Docker API directly for reading: renders read a
//! [`crate::model::Snapshot`] taken from the [`state::StateCache`].

pub mod connect;
pub mod events;
pub mod raw;
pub mod state;
pub mod swarm;
pub mod watch;

pub use connect::connect;
