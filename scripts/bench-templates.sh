#!/usr/bin/env bash
# Many-templates benchmark: one pygen (`--config`) with K templates over N running containers;
# see scripts/bench-templates.py for what is measured (docker run -> all K files written,
# idle RSS, one-shot with K templates against one).
#
# Usage: scripts/bench-templates.sh [N] [-- extra bench-templates.py options]   (N default 300)
# Environment:
#   TEMPLATES        how many templates (default 10)
#   TRIES, RUNS      latency tries and one-shot runs (defaults 20, 5)
#   TEMPLATE         the nginx.example template (found automatically when unset)
#   PYGEN_BIN        a pygen binary to use instead of building target/release/pygen
#   KEEP_CONTAINERS=1  leave the N bench containers running afterwards
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n=300
if [[ $# -gt 0 && "$1" != -- ]]; then
  n=$1
  shift
fi
[[ "${1:-}" == -- ]] && shift

template=$(realpath "$(find_template)")
trap bench_containers_cleanup EXIT
bench_containers_up "$n"

if [[ -n "${PYGEN_BIN:-}" ]]; then
  pygen=$PYGEN_BIN
else
  echo "building the release binary"
  pygen=$(build_release)
fi

python3 "$repo_root/scripts/bench-templates.py" --pygen "$pygen" --template "$template" \
  --templates "${TEMPLATES:-10}" --tries "${TRIES:-20}" --runs "${RUNS:-5}" "$@"
