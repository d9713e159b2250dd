#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 300), one after the other,
# and prints the executions and findings of each. Needs cargo-fuzz (`cargo install cargo-fuzz`)
# and libFuzzer's nightly flags, which RUSTC_BOOTSTRAP unlocks on a stable toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# The corpus grows in fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET); a crash is saved in
# fuzz/artifacts/TARGET and makes the script exit 1. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -O TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
seconds="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || {
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
}
cargo fuzz build -O >/dev/null 2>&1

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="artifacts/$target/last-run.log"
    echo "== $target: ${seconds}s"
    # -timeout: one input taking longer than 10 s counts as a finding (a hang).
    if cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        result="no crash"
    else
        result="FINDING (see $log and artifacts/$target/)"
        status=1
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+' || true)
    echo "   executions: ${runs:-?}  ${cov}  corpus files: $(find "corpus/$target" -type f | wc -l)  -> $result"
done
exit $status
