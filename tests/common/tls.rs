//! Certificates for the TLS tests, made by `openssl` in a folder of the test's: a CA, and
//! server and client certificates it signs, as a daemon's `--tlsverify` set-up has them.

use std::path::Path;

/// Runs `openssl` with the whitespace-separated `args` in `dir`; panics with its stderr on
/// failure.
pub fn openssl(dir: &Path, args: &str) {
    let out = std::process::Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a certificate authority in `dir`: `NAME.pem` and `NAME-key.pem`.
pub fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &format!(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -keyout {name}-key.pem -out {name}.pem -days 1 -subj /CN=pygen-test-{name}"
        ),
    );
}

/// Makes `NAME.pem` and `NAME-key.pem` in `dir`, signed by its CA (`ca.pem`), with one X.509
/// extension.
pub fn make_cert(dir: &Path, name: &str, extension: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), format!("{extension}\n"))
        .expect("write the extension file");
    openssl(
        dir,
        &format!(
            "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -keyout {name}-key.pem -out {name}.csr -subj /CN={name}"
        ),
    );
    openssl(
        dir,
        &format!(
            "x509 -req -in {name}.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
             -out {name}.pem -days 1 -extfile {name}.ext"
        ),
    );
}

/// A new folder with a CA (`ca.pem`), a server certificate for 127.0.0.1 and localhost
/// (`server.pem`, `server-key.pem`) and a client certificate (`client.pem`, `client-key.pem`)
/// it signed.
pub fn certificates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    make_ca(dir.path(), "ca");
    make_cert(
        dir.path(),
        "server",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
    );
    make_cert(dir.path(), "client", "extendedKeyUsage=clientAuth");
    dir
}
