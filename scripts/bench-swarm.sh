#!/usr/bin/env bash
# Swarm benchmark on a real daemon: N services of R tasks each, then
#   1. the API floor: curl over one connection doing what a Swarm refresh does
#      (GET /info, /services, /tasks, /nodes), median of RUNS runs;
#   2. `pygen state` (all containers and the Swarm, listed and dumped), median of RUNS runs;
#   3. `pygen render --state DUMP` with a template over every service, task and network: the
#      whole render beyond the API calls (process start, reading and parsing the dump,
#      context, render), median of RUNS runs.
# The synthetic counterpart without a daemon is `cargo bench --bench swarm`.
#
# Usage: scripts/bench-swarm.sh [N] [R]     (default 50 services x 4 tasks)
# Environment: RUNS (default 5), DOCKER_SOCK (default /var/run/docker.sock),
#              KEEP_SERVICES=1 to leave the services running afterwards.
# Makes the daemon a single-node Swarm if it is not in one, and leaves that Swarm at the end.
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n=${1:-50}
replicas=${2:-4}
runs=${RUNS:-5}
work=$(mktemp -d /tmp/pygen-bench-swarm.XXXXXX)
label=pygen.bench.swarm=1
network=pygen-bench-swarm

initialized=0
had_gwbridge=1
cleanup() {
  if [[ "${KEEP_SERVICES:-0}" != 1 ]]; then
    mapfile -t services < <(docker service ls -q --filter "label=$label" 2>/dev/null || true)
    if ((${#services[@]})); then
      echo "removing ${#services[@]} services"
      docker service rm "${services[@]}" >/dev/null
    fi
    for _ in $(seq 1 150); do
      [[ -z "$(docker ps -aq --filter "label=$label")" ]] && break
      sleep 0.2
    done
    docker network rm "$network" >/dev/null 2>&1 || true
  fi
  if ((initialized)) && [[ "${KEEP_SERVICES:-0}" != 1 ]]; then
    echo "leaving the Swarm this script created"
    docker swarm leave --force >/dev/null
    ((had_gwbridge)) || docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" == inactive ]]; then
  docker network inspect docker_gwbridge >/dev/null 2>&1 || had_gwbridge=0
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  initialized=1
fi

docker network inspect "$network" >/dev/null 2>&1 ||
  docker network create --driver overlay --label "$label" "$network" >/dev/null
have=$(docker service ls -q --filter "label=$label" | wc -l)
echo "creating $((n - have)) services of $replicas tasks ($have exist)"
for i in $(seq "$have" $((n - 1))); do
  docker service create --detach --quiet --name "pygen-bench-$i" --label "$label" \
    --container-label "$label" --replicas "$replicas" --network "$network" \
    --publish "target=$((5000 + i))" pygen-test-busybox \
    sh -c "trap 'exit 0' TERM; sleep 2147483647 & wait" >/dev/null 2>&1
done
want=$((n * replicas))
echo "waiting for $want running tasks"
for _ in $(seq 1 600); do
  running=$(docker ps -q --filter "label=$label" --filter status=running | wc -l)
  ((running >= want)) && break
  sleep 1
done
echo "$running task containers run"

echo "building the release binary"
pygen=$(build_release)

# --- 1. the API floor ---------------------------------------------------------------------
api=$(docker version --format '{{.Server.APIVersion}}')
for path in info services tasks nodes; do
  echo "url = \"http://localhost/v$api/$path\""
  echo "output = \"/dev/null\""
done >"$work/urls"
floor=$(for _ in $(seq 1 "$runs"); do
  start=$(now_ns)
  curl -s --unix-socket "$docker_sock" -K "$work/urls"
  ms_since "$start"
done | median)
tasks_kib=$(($(curl -s --unix-socket "$docker_sock" "http://localhost/v$api/tasks" | wc -c) / 1024))

# --- 2. pygen state -----------------------------------------------------------------------
state_ms=$(for _ in $(seq 1 "$runs"); do
  start=$(now_ns)
  "$pygen" state >"$work/state.json"
  ms_since "$start"
done | median)

# --- 3. pygen render from the dump --------------------------------------------------------
cat >"$work/template" <<'EOF'
{% for s in services %}
upstream {{ s.name }} { # {{ s.id }} {{ s.image }} v{{ s.version }}
{% for t in s.tasks.with_status('running') %}{% for n in t.networks.not_matching('ingress') %}{% for ip in n.ip_addresses %}
    server {{ ip }}:{{ s.ports.tcp.first_value }}; # {{ t.name }} {{ t.node_id }} {{ t.labels['com.docker.swarm.service.name'] }}
{% endfor %}{% endfor %}{% endfor %}
}
{% for n in s.networks %}# network {{ n.name }} gateway {{ n.gateway }} {{ n.ip_addresses|join(',') }}
{% endfor %}# ingress {{ s.ingress.gateway }} {{ s.ingress.ports.tcp|join(',') }}
{% endfor %}
{% for n in nodes %}# node {{ n.name }} {{ n.role }} {{ n.state }}
{% endfor %}
EOF
"$pygen" render --state "$work/state.json" --template "$work/template" --target "$work/out" 2>/dev/null
render_ms=$(for _ in $(seq 1 "$runs"); do
  start=$(now_ns)
  "$pygen" render --state "$work/state.json" --template "$work/template" --target "$work/out" 2>/dev/null
  ms_since "$start"
done | median)
containers=$(docker ps -aq | wc -l)

echo
echo "--- $n services x $replicas tasks, $containers containers on the daemon, /tasks $tasks_kib KiB"
printf '%-62s %8s ms\n' "API floor: GET /info /services /tasks /nodes (curl, 1 conn)" "$floor"
printf '%-62s %8s ms\n' "pygen state (all containers + Swarm, listed and dumped)" "$state_ms"
printf '%-62s %8s ms\n' "pygen render --state (start, parse dump, context, render)" "$render_ms"
echo "output: $(wc -l <"$work/out") lines"
