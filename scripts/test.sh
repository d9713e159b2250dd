#!/usr/bin/env bash
# The project's test command: builds the test images and the pygen image, then runs every test
# (unit, integration against the real Docker daemon, doc tests). Extra arguments go to cargo
# test, e.g.
#   scripts/test.sh --test harness_smoke
#   scripts/test.sh -- --nocapture
# Needs a running Docker daemon; exits with cargo test's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build-test-images.sh
# The static release binary and pygen:latest, for tests/image.rs (a few minutes after a change
# of the sources: release builds use fat LTO). --locked is passed on when given.
locked=()
for arg in "$@"; do
  [[ "$arg" != --locked ]] || locked=(--locked)
done
scripts/build-image.sh "${locked[@]}"
exec cargo test "$@"
