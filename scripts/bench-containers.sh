#!/usr/bin/env bash
# Starts or removes the containers the benchmarks measure pygen against.
#
# Usage:
#   scripts/bench-containers.sh up [N]   make N (default 300) bench containers run
#   scripts/bench-containers.sh down     remove every bench container
#   scripts/bench-containers.sh count    print how many bench containers run
#
# Each container runs `sleep 100000` in pygen-test-busybox with the labels pygen.bench=1 and
# virtual-host=bench-<i % 30>.example and exposes port 80, so the nginx.example template renders
# it as an upstream server. They start in parallel (BENCH_PARALLEL, default 8).
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

image=${BENCH_IMAGE:-pygen-test-busybox}
parallel=${BENCH_PARALLEL:-8}

running_count() {
  docker ps -q --filter label=pygen.bench=1 | wc -l
}

# start_one I: starts bench container number I.
start_one() {
  docker run -d --name "pygen-bench-$1" \
    --label pygen.bench=1 --label "virtual-host=bench-$(($1 % 30)).example" \
    --expose 80 --log-driver none "$image" sleep 100000 >/dev/null
}

up() {
  local n=${1:-300}
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "up: N must be a number, got $n" >&2; exit 2; }
  "$repo_root/scripts/build-test-images.sh" >/dev/null
  # Bench containers that stopped would keep their names: remove them first.
  docker ps -aq --filter label=pygen.bench=1 --filter status=exited --filter status=created \
    | xargs -r docker rm -f >/dev/null
  local existing
  existing=$(docker ps -a --filter label=pygen.bench=1 --format '{{.Names}}')
  local start
  start=$(now_ns)
  local missing=()
  local i
  for ((i = 1; i <= n; i++)); do
    grep -qx "pygen-bench-$i" <<<"$existing" || missing+=("$i")
  done
  if ((${#missing[@]})); then
    export -f start_one
    export image
    printf '%s\n' "${missing[@]}" | xargs -P "$parallel" -I{} bash -c 'start_one {}'
  fi
  echo "bench containers running: $(running_count) (started ${#missing[@]} in $(ms_since "$start") ms)"
}

down() {
  local start ids
  start=$(now_ns)
  ids=$(docker ps -aq --filter label=pygen.bench=1)
  if [[ -n "$ids" ]]; then
    xargs -n 50 -P 4 docker rm -f <<<"$ids" >/dev/null
  fi
  echo "removed $(wc -w <<<"$ids") bench containers in $(ms_since "$start") ms"
}

case "${1:-}" in
  up) up "${2:-300}" ;;
  down) down ;;
  count) running_count ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
