#!/usr/bin/env bash
# Builds the images the integration tests and examples run, from local files only (no registry):
#   pygen-test-busybox:latest   FROM scratch + Debian's static busybox (+ a writable /tmp)
#   pygen-test-nginx:latest     FROM scratch + Debian's nginx, the libraries it links and
#                               mime.types (package nginx-light or nginx)
#   pygen-test-node:latest      FROM scratch + the merged-/usr links, /etc/passwd, /etc/group:
#                               runs the host's dockerd (host /usr mounted) as a Swarm node of
#                               the multi-node tests
# Quick when the images exist and are up to date: each is rebuilt only when missing, when its
# inputs (Dockerfile, host files) changed, or with --force.
#
# Usage: scripts/build-test-images.sh [--force]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build-test-images.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if ! docker info >/dev/null 2>&1; then
  echo "build-test-images.sh: the Docker daemon does not answer ('docker info' fails)." >&2
  echo "Start it (e.g. 'dockerd &' as root, or 'systemctl start docker') and retry." >&2
  exit 1
fi

# build_image NAME CONTEXT_DIR [HOST_FILE DEST_PATH]...
# Copies the context and the named host files (DEST_PATH relative to the build context; folders
# are made as needed) into a temporary folder and builds NAME there, unless an image of that
# name already carries the hash of exactly these inputs. EMPTY_DIRS (paths relative to the build
# context) are made empty in the context first.
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
      echo "Install it: apt-get install -y ${PACKAGE_HINT:-busybox-static}" >&2
      return 1
    fi
    mkdir -p "$(dirname "$tmp/$dest")"
    # -L: library paths from ldd are often symlinks; the image needs the file itself.
    cp -L "$src" "$tmp/$dest"
  done
  local dir
  for dir in ${EMPTY_DIRS:-}; do
    mkdir -p "$tmp/$dir"
    # A tmp folder is writable by everyone, as on any system.
    [[ "$(basename "$dir")" != tmp ]] || chmod 1777 "$tmp/$dir"
  done
  local link
  for link in ${LINKS:-}; do
    mkdir -p "$(dirname "$tmp/${link%%=*}")"
    ln -s "${link#*=}" "$tmp/${link%%=*}"
  done
  local hash current old_id
  # Empty folders count too (added to the file list only when there are some, so the hash of
  # an image without any stays what it was).
  hash=$( (cd "$tmp" && find . -type f -print0 | sort -z | xargs -0 sha256sum
           [[ -z "${EMPTY_DIRS:-}" ]] || echo "$EMPTY_DIRS"
           [[ -z "${LINKS:-}" ]] || echo "$LINKS") | sha256sum | cut -c1-16)
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

# nginx: the binary, every library ldd lists for it (at the same path, so the loader finds
# them), mime.types, and the empty folders nginx writes to.
nginx=/usr/sbin/nginx
if [[ ! -x "$nginx" || ! -f /etc/nginx/mime.types ]]; then
  echo "build-test-images.sh: $nginx or /etc/nginx/mime.types is missing (needed by pygen-test-nginx)." >&2
  echo "Install it: apt-get install -y nginx-light" >&2
  exit 1
fi
nginx_files=("$nginx" rootfs/usr/sbin/nginx /etc/nginx/mime.types rootfs/etc/nginx/mime.types)
while read -r lib; do
  nginx_files+=("$lib" "rootfs$lib")
done < <(ldd "$nginx" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
EMPTY_DIRS="rootfs/etc/nginx/conf.d rootfs/var/log/nginx rootfs/var/lib/nginx rootfs/run rootfs/tmp" \
  PACKAGE_HINT=nginx-light build_image pygen-test-nginx:latest docker/test-images/nginx "${nginx_files[@]}"

# The Swarm node of the multi-node tests: no files of its own beyond passwd and group; the
# host's /usr (dockerd, containerd, runc, iptables) is mounted when it runs.
EMPTY_DIRS="rootfs/tmp rootfs/var rootfs/run rootfs/usr rootfs/etc" \
  LINKS="rootfs/bin=usr/bin rootfs/sbin=usr/sbin rootfs/lib=usr/lib rootfs/lib64=usr/lib64" \
  build_image pygen-test-node:latest docker/test-images/node
