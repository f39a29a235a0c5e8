#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with warnings as errors, checks the
# formatting, then runs the unit and integration tests (real mosquitto, greenrack-sim and
# greenrackd on free loopback ports) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENRACK_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"

echo "== clang-format check"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' |
    while read -r f; do [ -f "$f" ] && echo "$f"; done)
clang-format --dry-run --Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files ok"

echo "== tests"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
