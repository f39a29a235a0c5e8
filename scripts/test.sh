#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with warnings as errors and with
# AddressSanitizer + UndefinedBehaviorSanitizer (every test program, greenrackd and greenrack-sim
# alike: a memory error, a leak or undefined behaviour fails the test that hit it), checks the
# formatting, runs the unit and integration tests (real mosquitto, influxd, greenrack-sim and
# greenrackd on free loopback ports) through ctest, then builds the libFuzzer targets with clang
# and fuzzes each one briefly from its seed corpus.
#
# The sanitized tree is build-sanitize/ (the demo's plain build stays in build/), the fuzz
# targets build-fuzz/. Environment: GREENRACK_FUZZ_SECONDS (default 10) per fuzz target, 0 skips
# fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
step() { echo "== $1 ($(($(date +%s) - started)) s)"; }

bash scripts/install-deps.sh

step "build (ASan+UBSan, warnings are errors)"
# -Og -g1 (line tables for the sanitizer reports, assertions on): with the sanitizers it builds
# as fast as a plain -O2 -g, where -O2 -g takes almost three times as long.
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENRACK_WERROR=ON \
    -DGREENRACK_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-Og -g1" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-Og -g1" >/dev/null
cmake --build build-sanitize -j"$(nproc)"

step "clang-format check"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' |
    while read -r f; do [ -f "$f" ] && echo "$f"; done)
clang-format --dry-run --Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files ok"

step "tests"
# Every sanitized process (tests and the programs they start) stops at its first finding with a
# non-zero exit; leaks are checked at exit. See tests/sanitizers/lsan.supp for the one
# suppression and why.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
# Integration tests mostly wait on real programs: two run side by side (resources.json), those
# tagged [solo] alone; unit tests fill the remaining slots.
ctest --test-dir build-sanitize --output-on-failure -j"$(($(nproc) + 2))" --timeout 600 \
    --resource-spec-file "$root/tests/integration/resources.json"

fuzz_seconds="${GREENRACK_FUZZ_SECONDS:-10}"
if [ "$fuzz_seconds" -gt 0 ]; then
    step "fuzz (${fuzz_seconds} s per target)"
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
    bash fuzz/run.sh --seconds "$fuzz_seconds" --parallel --build-dir "$root/build-fuzz"
fi
step "all tests passed"
