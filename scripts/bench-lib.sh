# Helpers shared by the bench-*.sh scripts; sourced, not run.
# shellcheck shell=bash

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
docker_sock=${DOCKER_SOCK:-/var/run/docker.sock}

# find_template: prints the nginx template the benchmarks render: $TEMPLATE if set, else the
# first nginx.example found in the usual places.
find_template() {
  if [[ -n "${TEMPLATE:-}" ]]; then
    [[ -f "$TEMPLATE" ]] || { echo "TEMPLATE=$TEMPLATE: no such file" >&2; return 1; }
    echo "$TEMPLATE"
    return 0
  fi
  local candidate
  for candidate in \
    "$repo_root/examples/nginx.example" \
    "$repo_root/templates/nginx.example" \
    "$repo_root/tests/fixtures/templates/nginx.example" \
    "$repo_root/tests/data/templates/nginx.example" \
    "$repo_root/../shared/fixtures/templates/nginx.example" \
    "$repo_root/../../shared/fixtures/templates/nginx.example"; do
    if [[ -f "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  echo "no nginx.example template found: set TEMPLATE=/path/to/nginx.example" >&2
  return 1
}

# build_release: builds target/release/pygen (quiet unless it fails) and prints its path.
build_release() {
  (cd "$repo_root" && cargo build --release --quiet) >&2
  echo "${CARGO_TARGET_DIR:-$repo_root/target}/release/pygen"
}

# median: prints the median of the numbers on stdin, one a line.
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# now_ns: a timestamp in nanoseconds.
now_ns() {
  date +%s%N
}

# ms_since START_NS: milliseconds since START_NS, with one decimal.
ms_since() {
  local end
  end=$(now_ns)
  awk -v s="$1" -v e="$end" 'BEGIN { printf "%.1f\n", (e - s) / 1e6 }'
}

bench_started=0
# bench_containers_up N: makes N bench containers run (scripts/bench-containers.sh up N) and
# notes whether it had to start any, for bench_containers_cleanup.
bench_containers_up() {
  if (($("$repo_root/scripts/bench-containers.sh" count) < $1)); then
    bench_started=1
  fi
  "$repo_root/scripts/bench-containers.sh" up "$1"
}

# bench_containers_cleanup: removes the bench containers if bench_containers_up started them,
# unless KEEP_CONTAINERS=1.
bench_containers_cleanup() {
  if ((bench_started)) && [[ "${KEEP_CONTAINERS:-0}" != 1 ]]; then
    "$repo_root/scripts/bench-containers.sh" down
  fi
}
