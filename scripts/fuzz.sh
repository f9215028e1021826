#!/usr/bin/env bash
# Fuzzes the catalog (fuzz/fuzz_targets/catalog.rs) for SECONDS seconds with
# one libFuzzer job, then prints libFuzzer's summary. See fuzz/README.md.
#
#   scripts/fuzz.sh 600
#
# Runs on stable Rust: with `--sanitizer none` cargo-fuzz passes rustc only
# stable flags (-Cpasses=sancov-module, -Cllvm-args=-sanitizer-coverage-*).
# The code under test has no `unsafe` of its own, so AddressSanitizer (which
# needs -Zsanitizer, i.e. nightly or RUSTC_BOOTSTRAP=1) would add little.
# Exit status: 0 when nothing was found, else libFuzzer's (the crashing
# input is in fuzz/artifacts/catalog/).
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS   (e.g. $0 600: fuzz the catalog for 10 minutes)" >&2
    exit 2
}
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "error: cargo-fuzz is not installed. Fix: cargo install --locked cargo-fuzz" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# Its own target directory: the instrumented build differs from every other
# one, and must not hold the shared target/ lock while others compile.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/fuzz/target}
mkdir -p fuzz/artifacts/catalog
log=fuzz/artifacts/catalog/last-run.log

status=0
# Corpus: fuzz/corpus/catalog (the tracked seed-* files plus what earlier
# runs found). An input taking over 30 s is reported as a hang.
cargo fuzz run --sanitizer none catalog -- \
    -max_total_time="$seconds" \
    -timeout=30 \
    -dict=fuzz/catalog.dict \
    -print_final_stats=1 \
    2>&1 | tee "$log" || status=$?

echo
echo "== libFuzzer summary (full log: $log)"
grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::|^SUMMARY:|Test unit written to|^==[0-9]+== ERROR' "$log" || true
if [[ $status -ne 0 ]]; then
    echo "== fuzzing stopped with status $status: reproduce with" \
        "cargo fuzz run --sanitizer none catalog fuzz/artifacts/catalog/<crash file>" >&2
fi
exit "$status"
