//! The one place pygen chooses its TLS crypto: rustls needs one process-wide provider, and
//! every TLS client of pygen (the daemon over TLS, template URLs, `pygen healthcheck`) uses
//! ring through [`use_ring`].

use std::sync::Once;

/// Installs ring as rustls's process-wide provider, once; later calls do nothing. A provider
/// installed before by someone else is left in place.
pub fn use_ring() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only when a provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
