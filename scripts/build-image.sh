#!/usr/bin/env bash
# Builds the pygen image without a registry:
#   1. the statically linked binary:
#        RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' \
#          cargo build --release --target x86_64-unknown-linux-gnu
#   2. the image FROM scratch (./Dockerfile), in a temporary context holding only the binary and
#      the host's CA bundle (and the docker-gen link to it); tagged pygen:latest and
#      pygen:<version from Cargo.toml>.
#
# Usage: scripts/build-image.sh [CARGO_BUILD_ARGS...]      (e.g. --locked)
# Environment:
#   IMAGE       image name (default pygen)
#   CA_BUNDLE   the CA bundle copied in (default /etc/ssl/certs/ca-certificates.crt,
#               package ca-certificates)
#   CARGO_TARGET_DIR  honoured, as cargo does
# Prints the image size; fails when the binary is not static, the image is 15 MB or more, or
# `docker-gen -version` (the link to pygen under that name) does not run in it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

image=${IMAGE:-pygen}
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
target=x86_64-unknown-linux-gnu
max_bytes=$((15 * 1000 * 1000))

case "${1:-}" in
  -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
esac

if [[ ! -f "$ca_bundle" ]]; then
  echo "build-image.sh: the CA bundle $ca_bundle is missing (apt-get install -y ca-certificates, or set CA_BUNDLE)." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "build-image.sh: the Docker daemon does not answer ('docker info' fails)." >&2
  exit 1
fi

# With --target, RUSTFLAGS reach only the target's code, not build scripts and proc macros
# (which must stay dynamic): that is what makes crt-static work with the gnu target.
# relocation-model=static makes a static non-PIE executable: a static-pie one relocates its
# relro data at every start (about 650 KiB of private dirty pages) and carries the relocation
# tables (1.3 MB of file without LTO); at 300 containers that was 1.8 MiB of a watching pygen's 9.6 MiB idle
# RSS. The cost: the executable's own addresses are not randomized (ASLR still moves the heap,
# stack and mmap areas).
echo "building the static binary (release, $target)"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
  cargo build --release --target "$target" "$@"
binary="${CARGO_TARGET_DIR:-target}/$target/release/pygen"
# glibc's ldd says "statically linked" for a static-pie binary, "not a dynamic executable"
# for a static non-pie one; anything else lists libraries the scratch image does not have.
linkage=$(LC_ALL=C ldd "$binary" 2>&1 || true)
case "$linkage" in
  *"statically linked"* | *"not a dynamic executable"*) ;;
  *)
    echo "build-image.sh: $binary is not statically linked:" >&2
    echo "$linkage" >&2
    exit 1
    ;;
esac

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp Dockerfile "$context/Dockerfile"
cp "$binary" "$context/pygen"
cp -L "$ca_bundle" "$context/ca-certificates.crt"
mkdir "$context/bin"
ln -s /pygen "$context/bin/docker-gen"

old_id=$(docker image inspect -f '{{.Id}}' "$image:latest" 2>/dev/null || true)
echo "building $image:latest and $image:$version"
# The legacy builder needs no buildx plugin and pulls nothing for FROM scratch.
if ! DOCKER_BUILDKIT=0 docker build --build-arg "VERSION=$version" \
    -t "$image:latest" -t "$image:$version" "$context" >"$context/.build.log" 2>&1; then
  echo "build-image.sh: docker build failed:" >&2
  cat "$context/.build.log" >&2
  exit 1
fi

# The replaced image is left untagged: remove it unless a container or another tag uses it.
if [[ -n "$old_id" && "$old_id" != "$(docker image inspect -f '{{.Id}}' "$image:latest")" ]]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi

size=$(docker image inspect -f '{{.Size}}' "$image:latest")
echo "built $image:latest = $image:$version: $size bytes (binary $(stat -c %s "$binary") bytes)"
if ((size >= max_bytes)); then
  echo "build-image.sh: the image is $size bytes, over the 15 MB budget" >&2
  exit 1
fi
# The docker-gen name inside the image: a drop-in for images and scripts that run `docker-gen`.
if ! dg=$(docker run --rm --entrypoint docker-gen "$image:latest" -version 2>&1) ||
    [[ "$dg" != docker-gen* ]]; then
  echo "build-image.sh: 'docker-gen -version' does not run in $image:latest: $dg" >&2
  exit 1
fi
echo "docker-gen in the image: $dg"
