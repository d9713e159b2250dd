#!/usr/bin/env bash
# Builds a test image of a pygen binary, for the Swarm stack tests (pygen as a manager service
# and a global worker service): FROM scratch + the binary (stripped) + the shared libraries it
# links (as `ldd` lists them) + an empty /tmp. No compilation: it packs the binary cargo already
# built for the tests, so the image always runs the code under test. This is a test image; the
# product image is built by the project's Dockerfile.
#
# Usage: scripts/build-pygen-test-image.sh [BINARY]   (default: target/debug/pygen)
# Prints the image reference (pygen-test-self:<hash of the inputs>) on its last line. Quick
# when an image of the same inputs exists. Older pygen-test-self images are removed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

binary=${1:-target/debug/pygen}
if [[ ! -x "$binary" ]]; then
  echo "build-pygen-test-image.sh: $binary is not an executable (run cargo build first)." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "build-pygen-test-image.sh: the Docker daemon does not answer ('docker info' fails)." >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/rootfs/tmp"
cp "$binary" "$tmp/rootfs/pygen"
# A debug binary is ~160 MB with its symbols; 25 MB without.
if command -v strip >/dev/null; then
  strip "$tmp/rootfs/pygen" 2>/dev/null || true
fi
# The dynamic loader and libraries, at the paths the binary asks for.
if ldd "$binary" >/dev/null 2>&1; then
  while read -r lib; do
    [[ -f "$lib" ]] || continue
    mkdir -p "$tmp/rootfs$(dirname "$lib")"
    cp -L "$lib" "$tmp/rootfs$lib"
  done < <(ldd "$binary" | grep -oE '/[^ ]+')
fi
cat >"$tmp/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
WORKDIR /tmp
ENTRYPOINT ["/pygen"]
EOF

hash=$(cd "$tmp" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
image="pygen-test-self:$hash"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  if ! DOCKER_BUILDKIT=0 docker build --quiet --label pygen.test.image=self -t "$image" "$tmp" \
      >"$tmp/build.log" 2>&1; then
    echo "build-pygen-test-image.sh: building $image failed:" >&2
    cat "$tmp/build.log" >&2
    exit 1
  fi
  echo "built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
fi
# Earlier builds are of no use any more; an image still in use by a container stays.
docker image ls --filter label=pygen.test.image=self --format '{{.Repository}}:{{.Tag}}' |
  grep -vxF "$image" | xargs -r docker image rm >/dev/null 2>&1 || true
echo "$image"
