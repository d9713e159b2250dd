# The pygen image: the statically linked pygen binary and a CA bundle, FROM scratch (no shell,
# no package manager; under 10 MB).
#
# Build it with scripts/build-image.sh, which compiles the binary first and then builds this
# file in a small temporary context holding exactly:
#   pygen                 the static non-PIE binary (RUSTFLAGS='-C target-feature=+crt-static
#                         -C relocation-model=static' cargo build --release --target
#                         x86_64-unknown-linux-gnu)
#   ca-certificates.crt   the host's CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt),
#                         for templates loaded from https:// URLs
#   bin/docker-gen        a symbolic link to /pygen: started under that name, pygen is
#                         docker-gen (`pygen docker-gen`)
# No registry is needed: nothing is pulled.
#
# The generator:  docker run ... pygen:latest --template ... --target ...
# The worker:     docker run ... pygen:latest worker --manager ...
# docker-gen:     docker run ... --entrypoint docker-gen pygen:latest -watch ... nginx.tmpl out.conf
#
# The image runs as root: the Docker socket is usually owned by root and a host-specific
# `docker` group (mode 0660), so a fixed non-root user could not open it. To run without root,
# give the socket's group: `--user 65534:65534 --group-add "$(stat -c %g /var/run/docker.sock)"`
# (and make the target folder writable by that user). See the README.
FROM scratch

ARG VERSION=unknown
LABEL org.opencontainers.image.title="pygen" \
      org.opencontainers.image.description="Template generator based on Docker runtime information" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY pygen /pygen
# A folder copy keeps the link a link (no second copy of the binary).
COPY bin/ /usr/local/bin/

# Where the TLS verifier takes its trusted roots from (it finds this path on its own too);
# mount another bundle and point this variable at it to trust a private CA.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

# Prometheus metrics of the generator (the worker uses 9414, the Swarm manager 9411, the
# worker's action endpoint 9412).
EXPOSE 9413

# The image has no curl: `pygen healthcheck` GETs http://127.0.0.1:9413/metrics and exits 0 on
# a 2xx answer. A worker needs `--url http://127.0.0.1:9414/metrics`; with `--metrics 0` or
# `--one-shot` there is nothing to check (use `--no-healthcheck`).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["/pygen", "healthcheck"]

ENTRYPOINT ["/pygen"]
