#!/usr/bin/env bash
# Watch-mode benchmark: pygen running with --interval 0 against N running containers; see
# scripts/bench-watch.py for what is measured (first file, idle RSS/CPU, docker run -> write
# latency, a burst of docker run, docker rm -f correctness).
#
# Usage: scripts/bench-watch.sh [N] [-- extra bench-watch.py options]   (N default 300)
# Environment:
#   METRICS_PORT     pygen's --metrics port, for the render count (default: a free port;
#                    0 runs pygen with --metrics 0 and reports no render count)
#   TRIES, BURST, BURST_PARALLEL   (defaults 20, 200, 50)
#   PACED, PACED_GAP_MS   the paced burst: starts, ms between two (defaults 20, 100)
#   INTERVAL         pygen's --interval, e.g. "0" or "2 10" (default 0)
#   TEMPLATE         the nginx.example template (found automatically when unset)
#   PYGEN_BIN        a pygen binary to use instead of building target/release/pygen
#   DOCKER_GEN=1     run `pygen docker-gen -watch -notify-sighup` on nginx-proxy's nginx.tmpl
#                    (tests/data/docker-gen) instead of pygen's own mode on nginx.example
#   KEEP_CONTAINERS=1  leave the N bench containers running afterwards
#   IDLE_ONLY=1      stop after the idle figures (start to first file, idle RSS and CPU)
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
docker_gen=()
if [[ "${DOCKER_GEN:-0}" == 1 ]]; then
  template=$(realpath "$repo_root/tests/data/docker-gen/nginx.tmpl")
  docker_gen=(--docker-gen)
fi
metrics_port=${METRICS_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

trap bench_containers_cleanup EXIT
bench_containers_up "$n"

if [[ -n "${PYGEN_BIN:-}" ]]; then
  pygen=$PYGEN_BIN
else
  echo "building the release binary"
  pygen=$(build_release)
fi

idle_only=()
[[ "${IDLE_ONLY:-0}" == 1 ]] && idle_only=(--idle-only)

python3 "$repo_root/scripts/bench-watch.py" \
  --pygen "$pygen" --template "$template" --metrics-port "$metrics_port" "${docker_gen[@]}" \
  --tries "${TRIES:-20}" --burst "${BURST:-200}" --burst-parallel "${BURST_PARALLEL:-50}" \
  --paced "${PACED:-20}" --paced-gap-ms "${PACED_GAP_MS:-100}" --interval "${INTERVAL:-0}" \
  "${idle_only[@]}" "$@"
