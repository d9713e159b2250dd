#!/usr/bin/env bash
# The benchmark report: builds the release binary and prints, in one run, on this machine:
#   - one-shot wall time and peak RSS at 0, 100, 300 and 1000 bench containers, beside the
#     Docker API floor (one curl doing the list and every inspect over one connection);
#   - watch mode at 300 containers: start to first file, idle RSS and CPU, docker run -> write
#     latency (median and p95 of 20 tries), renders and final correctness for a burst of 200
#     starts, rm -f correctness;
#   - the image size (scripts/build-image.sh when it exists, else n/a).
# The details of each part come from scripts/bench-oneshot.sh and scripts/bench-watch.sh; the
# summary at the end gathers the figures BENCHMARKS.md records.
#
# Usage: scripts/bench.sh
# Environment (to try the script quickly; the report uses the defaults):
#   COUNTS="0 100 300 1000"  one-shot container counts, ascending
#   WATCH_N=300              containers during the watch benchmark
#   RUNS=5 TRIES=20 BURST=200 BURST_PARALLEL=50
#   BENCH_SET=NAME           use a separate set of bench containers (see bench-containers.sh)
#   SKIP_IMAGE=1             do not build the image; report its size if it exists
#   PYGEN_BIN=PATH           measure this pygen binary instead of building target/release/pygen
#                            (e.g. two builds compared back to back)
#   IMAGE=pygen              the image name
# Every bench container it starts is removed at the end, also on failure or Ctrl-C. Count 0
# removes the bench containers of the set first: do not share a set with a concurrent run.
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

read -r -a counts <<<"${COUNTS:-0 100 300 1000}"
watch_n=${WATCH_N:-300}
image=${IMAGE:-pygen}
work=$(mktemp -d /tmp/pygen-bench.XXXXXX)
containers="$repo_root/scripts/bench-containers.sh"

cleanup() {
  "$containers" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sub-scripts leave the containers to this script.
export KEEP_CONTAINERS=1 RUNS="${RUNS:-5}"

if [[ -n "${PYGEN_BIN:-}" ]]; then
  pygen=$PYGEN_BIN
  echo "== measuring $pygen"
else
  echo "== building the release binary"
  pygen=$(build_release)
fi
export PYGEN_BIN=$pygen

# field LOG LABEL: the value of the last line of LOG holding LABEL: what follows its last run of
# two or more spaces (the scripts print `label<padding>value`).
field() {
  grep -F -- "$2" "$1" | tail -n 1 | sed -E 's/.*(:[[:space:]]+|[[:space:]]{2,})//'
}

summary=()
add() {
  summary+=("$(printf '%-58s %s' "$1" "$2")")
}

watch_after=-1
for n in "${counts[@]}"; do
  ((n <= watch_n && n > watch_after)) && watch_after=$n
done

# --- one-shot ---------------------------------------------------------------------------------
for n in "${counts[@]}"; do
  if ((n == 0)); then
    "$containers" down
  else
    "$containers" up "$n"
  fi
  echo "== one-shot at $n bench containers"
  log="$work/oneshot-$n.log"
  "$repo_root/scripts/bench-oneshot.sh" "$n" | tee "$log"
  total=$(grep -oE 'one-shot benchmark: [0-9]+' "$log" | grep -oE '[0-9]+$')
  add "one-shot, $total running: API floor (curl)" "$(field "$log" "API floor (curl, list + ")"
  add "one-shot, $total running: pygen wall time" "$(field "$log" "pygen --one-shot wall time")"
  add "one-shot, $total running: pygen peak RSS" "$(field "$log" "peak RSS")"

  # The watch benchmark runs after the largest one-shot count not above WATCH_N, before the
  # set grows further.
  if ((n == watch_after)); then
    "$containers" up "$watch_n"
    echo "== watch mode at $watch_n bench containers"
    log="$work/watch.log"
    "$repo_root/scripts/bench-watch.sh" "$watch_n" | tee "$log"
    running=$(grep -oE '[0-9]+ running containers at the end' "$log" | grep -oE '^[0-9]+' || echo "?")
    add "watch, $watch_n bench: start to first file (ms)" "$(field "$log" "start to first file (ms):")"
    add "watch: idle RSS (KiB)" "$(field "$log" "idle RSS after")"
    add "watch: CPU while idle (ms)" "$(field "$log" "s idle (ms):")"
    add "watch: docker run -> write, median (ms)" "$(field "$log" "docker run -> write, median of")"
    add "watch: docker run -> write, p95 (ms)" "$(field "$log" "docker run -> write, p95 (ms):")"
    add "watch: burst of ${BURST:-200} starts, renders" "$(field "$log" "burst: renders (pygen_renders_total delta):")"
    add "watch: burst, file writes" "$(field "$log" "burst: file writes:")"
    add "watch: burst, final file exact" "$(grep -F 'final file holds exactly' "$log" | tail -n 1 | sed 's/.*running containers:* *//')"
    add "watch: rm -f, container in the final file" "$(field "$log" "rm -f: container still in the final file:")"
    add "watch: running containers at the end" "$running"
  fi
done

# --- image ------------------------------------------------------------------------------------
image_size=n/a
if [[ "${SKIP_IMAGE:-0}" != 1 && -x "$repo_root/scripts/build-image.sh" ]]; then
  echo "== building the image"
  IMAGE=$image "$repo_root/scripts/build-image.sh" || echo "image build failed" >&2
fi
if bytes=$(docker image inspect "$image:latest" --format '{{.Size}}' 2>/dev/null); then
  image_size=$(awk -v b="$bytes" 'BEGIN { printf "%.2f MB (%d bytes)", b / 1e6, b }')
fi
add "image $image:latest size" "$image_size"

echo
echo "pygen benchmark report - $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr), Docker $(docker version --format '{{.Server.Version}}')"
echo "binary: $pygen ($(stat -c %s "$pygen") bytes)"
echo "------------------------------------------------------------------------------------"
printf '%s\n' "${summary[@]}"
