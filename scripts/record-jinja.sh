#!/bin/sh
# Records Jinja2's output for every case of tests/jinja/*.cases into
# tests/jinja/expected.json, with Jinja2 3.1.6 from PyPI in a venv outside the repo.
# Usage: scripts/record-jinja.sh   (VENV=/path overrides the venv location)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-/tmp/pygen-jinja-venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import jinja2, sys; sys.exit(jinja2.__version__ != "3.1.6")' 2>/dev/null; then
    "$venv/bin/pip" install --quiet jinja2==3.1.6
fi
exec "$venv/bin/python" "$root/scripts/record_jinja.py"
