#!/usr/bin/env bash
# The project's test command: builds the test images and the pygen image, then runs every test
# (unit, integration against the real Docker daemon, doc tests), then the multi-node Swarm test
# (tests/swarm_multinode.rs, marked ignore because it takes minutes; it prints its timings).
# Extra arguments go to cargo test, e.g.
#   scripts/test.sh --test harness_smoke
#   scripts/test.sh -- --nocapture
# With arguments other than --locked, only that cargo test runs (not the multi-node test).
# Needs a running Docker daemon; exits with the first failing cargo test's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build-test-images.sh
# The static release binary and pygen:latest, for tests/image.rs (a few minutes after a change
# of the sources: release builds use fat LTO). --locked is passed on when given.
locked=()
selected=0
for arg in "$@"; do
  if [[ "$arg" == --locked ]]; then locked=(--locked); else selected=1; fi
done
scripts/build-image.sh "${locked[@]}"
cargo test "$@"
if ((selected == 0)); then
  # A Swarm of three Docker daemons run as containers of this daemon (not this daemon's own
  # Swarm); it needs the host's dockerd under /usr (package docker.io).
  cargo test "${locked[@]}" --test swarm_multinode -- --ignored --nocapture
fi
