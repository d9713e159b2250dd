#!/usr/bin/env bash
# Starts or removes the containers the benchmarks measure pygen against.
#
# Usage:
#   scripts/bench-containers.sh up [N]   make N (default 300) bench containers run
#   scripts/bench-containers.sh down     remove every bench container
#   scripts/bench-containers.sh count    print how many bench containers run
#
# Each container runs `sleep 100000` in pygen-test-busybox with the labels pygen.bench=1 and
# virtual-host=bench-<i % 30>.example, the environment variable VIRTUAL_HOST with the same
# value, and exposes port 80, so the nginx.example template (label) and nginx-proxy's nginx.tmpl
# (variable) render it as an upstream server. They start in parallel (BENCH_PARALLEL, default 8).
# BENCH_SET=NAME makes a separate set (names pygen-bench-NAME-<i>, label pygen.bench.set=NAME)
# that up/down/count handle alone, leaving the default set of another run untouched.
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

image=${BENCH_IMAGE:-pygen-test-busybox}
parallel=${BENCH_PARALLEL:-8}
if [[ -n "${BENCH_SET:-}" ]]; then
  prefix="pygen-bench-$BENCH_SET"
  filter="label=pygen.bench.set=$BENCH_SET"
  set_labels="--label pygen.bench.set=$BENCH_SET"
else
  prefix=pygen-bench
  filter=label=pygen.bench=1
  set_labels=
fi

running_count() {
  docker ps -q --filter "$filter" | wc -l
}

# start_one I: starts bench container number I.
start_one() {
  # shellcheck disable=SC2086 # set_labels is empty or two words
  docker run -d --name "$prefix-$1" $set_labels \
    --label pygen.bench=1 --label "virtual-host=bench-$(($1 % 30)).example" \
    --env "VIRTUAL_HOST=bench-$(($1 % 30)).example" --expose 80 --log-driver none "$image" sleep 100000 >/dev/null
}

up() {
  local n=${1:-300}
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "up: N must be a number, got $n" >&2; exit 2; }
  "$repo_root/scripts/build-test-images.sh" >/dev/null
  # Bench containers that stopped would keep their names: remove them first.
  docker ps -aq --filter "$filter" --filter status=exited --filter status=created \
    | xargs -r docker rm -f >/dev/null
  local existing
  existing=$(docker ps -a --filter "$filter" --format '{{.Names}}')
  local start
  start=$(now_ns)
  local missing=()
  local i
  for ((i = 1; i <= n; i++)); do
    grep -qx "$prefix-$i" <<<"$existing" || missing+=("$i")
  done
  if ((${#missing[@]})); then
    export -f start_one
    export image prefix set_labels
    printf '%s\n' "${missing[@]}" | xargs -P "$parallel" -I{} bash -c 'start_one {}'
  fi
  echo "bench containers running: $(running_count) (started ${#missing[@]} in $(ms_since "$start") ms)"
}

down() {
  local start ids
  start=$(now_ns)
  ids=$(docker ps -aq --filter "$filter")
  if [[ -n "$ids" ]]; then
    # One `docker rm -f` at a time: four at once wedged Docker 20.10's daemon once (a
    # libnetwork lock held by concurrent endpoint deletes; every later call hung until dockerd
    # was restarted).
    xargs -n 50 docker rm -f <<<"$ids" >/dev/null
  fi
  echo "removed $(wc -w <<<"$ids") bench containers in $(ms_since "$start") ms"
}

case "${1:-}" in
  up) up "${2:-300}" ;;
  down) down ;;
  count) running_count ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
