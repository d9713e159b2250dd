#!/usr/bin/env bash
# One-shot benchmark: how close `pygen --one-shot` comes to the Docker API's own cost.
#
# Usage: scripts/bench-oneshot.sh [N]        (N running bench containers, default 300)
# Environment: RUNS (default 5), TEMPLATE (nginx.example; found automatically when unset),
#              DOCKER_SOCK (default /var/run/docker.sock), KEEP_CONTAINERS=1 to leave the
#              bench containers running afterwards, PYGEN_BIN to measure a given binary
#              instead of building target/release/pygen.
#
# 1. The API floor: curl over ONE reused connection doing the list and every inspect, as pygen
#    must (median of RUNS runs).
# 2. pygen: target/release/pygen --template T --target FILE --one-shot (median of RUNS runs,
#    after one warm-up run), its ratio to the floor, and its peak RSS.
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n=${1:-300}
runs=${RUNS:-5}
template=$(realpath "$(find_template)")
# DOCKER_GEN=1: `pygen docker-gen` on nginx-proxy's nginx.tmpl instead of pygen's own mode.
docker_gen=0
if [[ "${DOCKER_GEN:-0}" == 1 ]]; then
  docker_gen=1
  template=$(realpath "$repo_root/tests/data/docker-gen/nginx.tmpl")
fi
work=$(mktemp -d /tmp/pygen-bench-oneshot.XXXXXX)

trap 'rm -rf "$work"; bench_containers_cleanup' EXIT
bench_containers_up "$n"

if [[ -n "${PYGEN_BIN:-}" ]]; then
  pygen=$PYGEN_BIN
else
  echo "building the release binary"
  pygen=$(build_release)
fi

# --- the API floor ----------------------------------------------------------------------------
api=$(docker version --format '{{.Server.APIVersion}}')
mapfile -t ids < <(docker ps -q --no-trunc)
{
  echo "url = \"http://localhost/v$api/containers/json\""
  for id in "${ids[@]}"; do
    echo "url = \"http://localhost/v$api/containers/$id/json\""
  done
} >"$work/urls"
url_count=$((${#ids[@]} + 1))

# curl reuses its connection for every URL of one command line; check it once.
reused=$(curl -sv --unix-socket "$docker_sock" -K "$work/urls" 2>&1 >/dev/null | grep -ci 're-using existing connection' || true)
connections=$(curl -sv --unix-socket "$docker_sock" -K "$work/urls" 2>&1 >/dev/null | grep -ci 'connected to' || true)

floor_times=()
for ((i = 0; i < runs; i++)); do
  start=$(now_ns)
  curl -sf --unix-socket "$docker_sock" -K "$work/urls" >/dev/null
  floor_times+=("$(ms_since "$start")")
done
floor=$(printf '%s\n' "${floor_times[@]}" | median)

# --- pygen one-shot ---------------------------------------------------------------------------
target="$work/out.conf"
if ((docker_gen)); then
  command=("$pygen" docker-gen "$template" "$target")
else
  command=("$pygen" --template "$template" --target "$target" --one-shot)
fi
run_pygen() {
  rm -f "$target"
  "${command[@]}" >"$work/stdout" 2>"$work/stderr"
}
if ! run_pygen; then
  echo "pygen --one-shot failed; its stderr:" >&2
  tail -n 20 "$work/stderr" >&2
  exit 1
fi
pygen_times=()
for ((i = 0; i < runs; i++)); do
  start=$(now_ns)
  run_pygen
  pygen_times+=("$(ms_since "$start")")
done
pygen_median=$(printf '%s\n' "${pygen_times[@]}" | median)
rendered=0
name_line='^[[:space:]]*# [^[:space:]]+[[:space:]]*$'
((docker_gen)) && name_line='^[[:space:]]*# Container: [^[:space:]]+[[:space:]]*$'
[[ -s "$target" ]] && rendered=$(grep -cE "$name_line" "$target" || true)

peak_rss="n/a"
if [[ -x /usr/bin/time ]]; then
  rm -f "$target"
  /usr/bin/time -f '%M' -o "$work/rss" "${command[@]}" >/dev/null 2>&1
  peak_rss="$(tail -n 1 "$work/rss") KiB"
else
  echo "note: /usr/bin/time is missing (apt-get install time) - no peak RSS" >&2
fi

ratio=$(awk -v p="$pygen_median" -v f="$floor" 'BEGIN { if (f > 0) printf "%.2f", p / f; else print "n/a" }')

echo
echo "one-shot benchmark: $(docker ps -q | wc -l) running containers, $runs runs, medians"
echo "template: $template"
printf '%-46s %s\n' \
  "API floor (curl, list + $((url_count - 1)) inspects)" "$floor ms" \
  "  connections opened / reused" "$connections / $reused (of $url_count requests)" \
  "pygen --one-shot wall time" "$pygen_median ms" \
  "  ratio pygen / floor" "$ratio" \
  "  peak RSS" "$peak_rss" \
  "  containers rendered (# NAME lines)" "$rendered"
echo "runs (ms): floor ${floor_times[*]} | pygen ${pygen_times[*]}"
if [[ ! -s "$target" ]]; then
  echo "error: pygen wrote no output file: its figures above measure nothing" >&2
  exit 1
fi
