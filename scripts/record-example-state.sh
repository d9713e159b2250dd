#!/usr/bin/env bash
# Records examples/state.json, the Docker state the README's template examples render from
# (`pygen render --state examples/state.json --template ...`; tests/readme.rs checks them).
#
# Starts a small Compose-like project "shop" (proxy, web, two api replicas, db, a finished
# migration job, and a container standing for pygen itself) from pygen-test-busybox, waits for
# their health checks, dumps the state with `pygen state`, keeps only the shop containers,
# marks the pygen stand-in as pygen's own container (and drops the test image's build label),
# and removes everything it started.
# After recording, update the README's example outputs: PYGEN_UPDATE_README=1 cargo test --test readme
#
# Usage: scripts/record-example-state.sh    (needs the Docker daemon and the test images)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

image=pygen-test-busybox
project=shop
out=examples/state.json

cleanup() {
  docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f -v >/dev/null
  docker network rm "${project}_front" "${project}_back" >/dev/null 2>&1 || true
  docker volume rm "${project}_data" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

docker network create "${project}_front" >/dev/null
docker network create "${project}_back" >/dev/null

# run SERVICE NUMBER [docker run options...] -- [command...]
run() {
  local service=$1 number=$2
  shift 2
  local opts=()
  while (($#)) && [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  shift
  docker run -d --name "${project}_${service}_${number}" --hostname "$service-$number" \
    --label "com.docker.compose.project=$project" \
    --label "com.docker.compose.service=$service" \
    --label "com.docker.compose.container-number=$number" \
    "${opts[@]}" "$image" "$@" >/dev/null
  sleep 1.1 # distinct creation times, so the newest-first order is plain to see
}
idle=(sh -c "trap 'exit 0' TERM; sleep 100000 & wait")

run migrate 1 --network "${project}_back" --env "DATABASE=shop" -- sh -c 'exit 0'
run db 1 --network "${project}_back" --expose 5432 --expose 5353/udp \
  --env POSTGRES_DB=shop --env POSTGRES_USER=shop --mount type=volume,source=${project}_data,target=/var/lib/data \
  -- "${idle[@]}"
run api 1 --network "${project}_back" --expose 9000 \
  --label virtual-host=api.example.com --label context-path=/api --label virtual-port=9000 \
  --label prometheus.port=9000 --env PYGEN_TARGET=api --env APP_ENV=production \
  --health-cmd true --health-interval 1s --health-retries 1 -- "${idle[@]}"
run api 2 --network "${project}_back" --expose 9000 \
  --label virtual-host=api.example.com --label context-path=/api --label virtual-port=9000 \
  --label prometheus.port=9000 --env PYGEN_TARGET=api --env APP_ENV=production \
  --health-cmd false --health-interval 1s --health-retries 1 -- "${idle[@]}"
run web 1 --network "${project}_front" --expose 8080 \
  --label virtual-host=www.example.com --label prometheus.port=8080 --label prometheus.job=frontend \
  --env APP_ENV=production --env 'GREETING=Hello, world' \
  --health-cmd true --health-interval 1s --health-retries 1 -- "${idle[@]}"
docker network connect --alias web "${project}_back" "${project}_web_1"
run proxy 1 --network "${project}_front" --expose 80 --expose 443 \
  --publish 127.0.0.1:8080:80 --label pygen.target=reverse-proxy -- "${idle[@]}"
run pygen 1 --network "${project}_front" \
  --mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock,readonly \
  -- "${idle[@]}"

echo "waiting for the health checks"
for _ in $(seq 1 60); do
  web=$(docker inspect -f '{{.State.Health.Status}}' "${project}_web_1")
  api2=$(docker inspect -f '{{.State.Health.Status}}' "${project}_api_2")
  [[ "$web" == healthy && "$api2" == unhealthy ]] && break
  sleep 0.5
done

cargo build --quiet
own=$(docker inspect -f '{{.Id}}' "${project}_pygen_1")
target/debug/pygen state | python3 -c '
import json, sys
project, own = sys.argv[1], sys.argv[2]
state = json.load(sys.stdin)
state["own_container_id"] = own
state["containers"] = [
    c for c in state["containers"]
    if (c["Config"].get("Labels") or {}).get("com.docker.compose.project") == project
]
# The build label of the test image says nothing about the example: leave it out.
for c in state["containers"]:
    (c["Config"].get("Labels") or {}).pop("pygen.test.inputs", None)
json.dump(state, sys.stdout, indent=2)
print()
' "$project" "$own" >"$out"
echo "wrote $out ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["containers"]))' "$out") containers)"
