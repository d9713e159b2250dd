#!/usr/bin/env bash
# Scale figures: the model and the Jinja dialect at 300, 1,000 and 10,000 containers (the seven
# containers of examples/state.json repeated with new ids, names and addresses, 200 virtual
# hosts), without a daemon:
#   - in process (benches/scale.rs): the state held in memory, one render of nginx.example, one
#     event (one container changed, the others unchanged) to a written file;
#   - `pygen render --state` over the same dumps: wall time and peak RSS of the whole command
#     (reading the dump, rendering, writing), as a user measures it.
# Watch-mode figures against a daemon (idle RSS, event -> file at 300 containers) come from
# scripts/bench-watch.sh.
#
# Usage: scripts/bench-scale.sh
# Environment: CARGO_TARGET_DIR as for cargo; RUNS=5 runs of each `pygen render`.
set -euo pipefail
# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

runs=${RUNS:-5}
work=$(mktemp -d /tmp/pygen-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== building the release binary"
pygen=$(build_release)
template=$(find_template)

echo "== in process (cargo bench --bench scale)"
(cd "$repo_root" && SCALE_DUMP_DIR=$work cargo bench --quiet --bench scale)

echo "== pygen render --state (median of $runs runs)"
for n in 300 1000 10000; do
  dump="$work/state-$n.json"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time" \
      "$pygen" render --state "$dump" --template "$template" --target "$work/out-$n.conf" >/dev/null
    cat "$work/time"
  done >"$work/times-$n"
  wall=$(awk '{ print $1 * 1000 }' "$work/times-$n" | median)
  rss=$(awk '{ print $2 / 1024 }' "$work/times-$n" | median)
  printf '%-52s %8s ms  %6.1f MiB peak RSS\n' "render --state, $n containers" "$wall" "$rss"
done
