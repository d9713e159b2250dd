#!/bin/sh
# Records the expected outputs of the gotmpl crate's template cases with Go's
# text/template and sprig v3 (Debian's golang-go and
# golang-github-masterminds-sprig-dev), so the crate's tests compare against the
# real engine without needing Go in CI.
#
# Usage: scripts/record-go-cases.sh [CASES.json...]
#   (default: every crates/gotmpl/tests/cases/*.json that is not an
#   *.expected.json; each FOO.json is recorded into FOO.expected.json)
#
# Builds in GOPATH mode against /usr/share/gocode, so nothing is fetched.
# Runs with TZ=UTC because sprig's date functions use the local zone, and with a
# fixed environment variable GOTMPL_CASE_ENV=from-env for the env cases.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$root/scripts/gotmpl-record" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-$bin/cache}" \
		go build -o "$bin/gotmpl-record" .)
if [ $# -eq 0 ]; then
	set -- $(ls "$root"/crates/gotmpl/tests/cases/*.json | grep -v '\.expected\.json$')
fi
for f in "$@"; do
	out="${f%.json}.expected.json"
	TZ=UTC GOTMPL_CASE_ENV=from-env "$bin/gotmpl-record" "$f" "$out"
	echo "recorded $out"
done
