#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined, every library
# instrumented) in their own build directory and runs each one for a while on its seed corpus.
# Fails when a target crashes, trips a sanitizer, breaks one of its invariants, times out on one
# input or runs out of memory. Usage:
#
#   fuzz/run.sh [--seconds N] [--parallel] [--build-dir DIR] [--no-build] [TARGET...]
#
#   --seconds N     run each target for N seconds (default 20: the CI run)
#   --parallel      run the targets at the same time (one core each) instead of one after another
#   --build-dir DIR default <repo>/build-fuzz
#   --no-build      use the binaries already built
#   TARGET          fuzz_config fuzz_profile fuzz_codec fuzz_line_protocol fuzz_json (default all)
#
# Inputs the run finds are kept in DIR/corpus/<target> (the seeds in fuzz/corpus/<target> are
# only read), crashing inputs in DIR/artifacts/<target>/. Reproduce one with
#   DIR/fuzz/<target> DIR/artifacts/<target>/crash-...
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

seconds=20
parallel=0
build=1
build_dir="$repo/build-fuzz"
targets=()
all_targets=(fuzz_config fuzz_profile fuzz_codec fuzz_line_protocol fuzz_json)

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds)
        seconds="$2"
        shift 2
        ;;
    --parallel)
        parallel=1
        shift
        ;;
    --build-dir)
        build_dir="$2"
        shift 2
        ;;
    --no-build)
        build=0
        shift
        ;;
    -h | --help)
        sed -n '2,20p' "$0"
        exit 0
        ;;
    fuzz_*)
        targets+=("$1")
        shift
        ;;
    *)
        echo "fuzz/run.sh: unknown argument $1 (see --help)" >&2
        exit 64
        ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "fuzz/run.sh: --seconds needs a positive whole number" >&2
    exit 64
fi

if [ "$build" -eq 1 ]; then
    for tool in clang clang++; do
        if ! command -v "$tool" >/dev/null; then
            echo "fuzz/run.sh: $tool not found (apt-get install clang libclang-rt-14-dev)" >&2
            exit 1
        fi
    done
    sanitizers="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
    CC=clang CXX=clang++ cmake -S "$repo" -B "$build_dir" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DGREENRACK_FUZZ=ON -DGREENRACK_BUILD_TESTS=OFF -DGREENRACK_WERROR=ON \
        -DCMAKE_C_FLAGS="$sanitizers -fno-omit-frame-pointer" \
        -DCMAKE_CXX_FLAGS="$sanitizers -fno-omit-frame-pointer" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
    cmake --build "$build_dir" --target fuzzers -j"$(nproc)"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Runs one target; its log goes to DIR/logs/<target>.log.
run_target() {
    local target="$1"
    local binary="$build_dir/fuzz/$target"
    local corpus="$build_dir/corpus/$target"
    local seeds="$repo/fuzz/corpus/$target"
    local artifacts="$build_dir/artifacts/$target/"
    local log="$build_dir/logs/$target.log"
    local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384
        -print_final_stats=1 -artifact_prefix="$artifacts")
    if [ -f "$repo/fuzz/$target.dict" ]; then
        options+=(-dict="$repo/fuzz/$target.dict")
    fi
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    "$binary" "${options[@]}" "$corpus" "$seeds" >"$log" 2>&1
}

# "execs 123456, 6172/s, cov 1234, ft 5678, corpus 90" from a libFuzzer log.
summary() {
    local log="$1"
    local execs rate cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -Eo 'corp: [0-9]+/[0-9A-Za-z]+' "$log" | tail -1 | cut -d' ' -f2)
    echo "execs ${execs:-?} (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
}

echo "== fuzz: ${targets[*]}, ${seconds}s each$([ "$parallel" -eq 1 ] && echo ', in parallel')"
failed=()
declare -A pids
for target in "${targets[@]}"; do
    if [ ! -x "$build_dir/fuzz/$target" ]; then
        echo "fuzz/run.sh: $build_dir/fuzz/$target is not built" >&2
        exit 1
    fi
    if [ "$parallel" -eq 1 ]; then
        run_target "$target" &
        pids[$target]=$!
    else
        if run_target "$target"; then
            echo "$target: ok: $(summary "$build_dir/logs/$target.log")"
        else
            failed+=("$target")
            echo "$target: FAILED: $(summary "$build_dir/logs/$target.log")"
        fi
    fi
done
if [ "$parallel" -eq 1 ]; then
    for target in "${targets[@]}"; do
        if wait "${pids[$target]}"; then
            echo "$target: ok: $(summary "$build_dir/logs/$target.log")"
        else
            failed+=("$target")
            echo "$target: FAILED: $(summary "$build_dir/logs/$target.log")"
        fi
    done
fi

if [ ${#failed[@]} -gt 0 ]; then
    for target in "${failed[@]}"; do
        echo
        echo "== $target: end of $build_dir/logs/$target.log"
        tail -n 60 "$build_dir/logs/$target.log"
        ls "$build_dir/artifacts/$target/" 2>/dev/null | sed "s|^|  artifact: $build_dir/artifacts/$target/|"
    done
    echo
    echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets ok"
