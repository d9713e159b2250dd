#!/usr/bin/env bash
# Builds the images the integration tests run, from local files only (no registry):
#   pygen-test-busybox:latest   FROM scratch + Debian's static busybox (+ a writable /tmp)
# Quick when the image exists and is up to date: it is rebuilt only when missing, when its
# inputs (Dockerfile, busybox binary) changed, or with --force.
#
# Usage: scripts/build-test-images.sh [--force]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "build-test-images.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if ! docker info >/dev/null 2>&1; then
  echo "build-test-images.sh: the Docker daemon does not answer ('docker info' fails)." >&2
  echo "Start it (e.g. 'dockerd &' as root, or 'systemctl start docker') and retry." >&2
  exit 1
fi

# build_image NAME CONTEXT_DIR [HOST_FILE DEST_NAME]...
# Copies the context and the named host files into a temporary folder and builds NAME there,
# unless an image of that name already carries the hash of exactly these inputs.
build_image() {
  local name=$1 context=$2
  shift 2
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" RETURN
  cp -R "$context"/. "$tmp"/
  while (($#)); do
    local src=$1 dest=$2
    shift 2
    if [[ ! -f "$src" ]]; then
      echo "build-test-images.sh: $src is missing (needed by $name)." >&2
      echo "Install it: apt-get install -y busybox-static" >&2
      return 1
    fi
    cp "$src" "$tmp/$dest"
  done
  local hash current old_id
  hash=$(cd "$tmp" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  current=$(docker image inspect -f '{{index .Config.Labels "pygen.test.inputs"}}' "$name" 2>/dev/null || true)
  old_id=$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null || true)
  if ((force == 0)) && [[ "$current" == "$hash" ]]; then
    echo "$name is up to date"
    return 0
  fi
  echo "building $name"
  local no_cache=()
  ((force == 0)) || no_cache=(--no-cache)
  # The legacy builder needs no buildx plugin and no registry for FROM scratch.
  if ! DOCKER_BUILDKIT=0 docker build --quiet "${no_cache[@]}" --label "pygen.test.inputs=$hash" -t "$name" "$tmp" \
      >"$tmp/.build.log" 2>&1; then
    echo "build-test-images.sh: building $name failed:" >&2
    cat "$tmp/.build.log" >&2
    return 1
  fi
  # The replaced image is left untagged: remove it unless a container still uses it.
  if [[ -n "$old_id" && "$old_id" != "$(docker image inspect -f '{{.Id}}' "$name")" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  echo "built $name ($(docker image inspect -f '{{.Size}}' "$name") bytes)"
}

busybox=/bin/busybox
if [[ -f "$busybox" ]] && command -v ldd >/dev/null && ldd "$busybox" >/dev/null 2>&1; then
  echo "build-test-images.sh: $busybox is dynamically linked; a scratch image needs the static one (apt-get install -y busybox-static)." >&2
  exit 1
fi
build_image pygen-test-busybox:latest docker/test-images/busybox "$busybox" busybox
