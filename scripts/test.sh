#!/usr/bin/env bash
# The project's test command: builds the test images, then runs every test (unit, integration
# against the real Docker daemon, doc tests). Extra arguments go to cargo test, e.g.
#   scripts/test.sh --test harness_smoke
#   scripts/test.sh -- --nocapture
# Needs a running Docker daemon; exits with cargo test's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build-test-images.sh
exec cargo test "$@"
