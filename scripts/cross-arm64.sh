#!/usr/bin/env bash
# Cross-builds greenrack for arm64 (aarch64) gateways on a Debian 12 amd64 machine and runs the
# unit tests under qemu-user:
#
#   scripts/cross-arm64.sh
#
# 1. installs the cross compiler (g++-aarch64-linux-gnu, the compiler part of
#    crossbuild-essential-arm64) and qemu-user, after checking with `apt-get install -s` that
#    nothing would be removed; enables the arm64 architecture (dpkg --add-architecture arm64)
#    so that apt can fetch arm64 packages;
# 2. makes a sysroot, build-arm64/sysroot: downloads the arm64 packages of the libraries
#    (libmodbus, Paho MQTT C/C++, spdlog, fmt, Boost, toml++, OpenSSL, libsystemd, Catch2,
#    nlohmann-json) and their arm64 dependencies with `apt-get download` and unpacks them with
#    `dpkg-deb -x`. Nothing arm64 is installed on the machine: catch2 is not co-installable
#    (catch2:arm64 would replace catch2:amd64) and Multi-Arch: same packages must have the same
#    version for both architectures, so installing them would upgrade amd64 packages too;
# 3. configures build-arm64/ with cmake/toolchains/aarch64-linux-gnu.cmake, builds greenrackd,
#    greenrack-sim and the unit tests (not the integration tests: they start native mosquitto,
#    influxd and Alertmanager);
# 4. runs the unit tests with ctest under qemu-aarch64;
# 5. prints the stripped size of greenrackd and greenrack-sim and `file` of greenrackd.
#
# Options:
#   --no-install    do not touch apt or the sysroot (they must be there from an earlier run)
#   --no-tests      build greenrackd and greenrack-sim only, run no test
#   --build-dir D   build directory (default build-arm64; the sysroot is D/sysroot)
#   --jobs N        parallel build jobs and ctest jobs (default: nproc)
#
# Run the cross-built daemon under qemu (the sysroot's libraries through LD_LIBRARY_PATH):
#   qemu-aarch64 -L /usr/aarch64-linux-gnu \
#     -E LD_LIBRARY_PATH=$PWD/build-arm64/sysroot/usr/lib/aarch64-linux-gnu:$PWD/build-arm64/sysroot/lib/aarch64-linux-gnu \
#     build-arm64/daemon/greenrackd --config config/examples/demo-site.toml --summary
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
step() { echo "== cross-arm64: $1 ($(($(date +%s) - started)) s)"; }
die() { echo "cross-arm64: $*" >&2; exit 1; }

install=1
tests=1
build_dir=build-arm64
jobs=$(nproc)
while [ $# -gt 0 ]; do
    case $1 in
        --no-install) install=0 ;;
        --no-tests) tests=0 ;;
        --build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
sysroot=$build_dir/sysroot
triplet=aarch64-linux-gnu

# Host tools (amd64 packages; none of them conflicts with anything of the native build).
host_packages=(g++-aarch64-linux-gnu binutils-aarch64-linux-gnu cmake make pkg-config file)
if ! command -v qemu-aarch64 >/dev/null && ! command -v qemu-aarch64-static >/dev/null; then
    host_packages+=(qemu-user)
fi
# The arm64 libraries greenrack builds against (tests/unit included), and the header-only ones
# (Architecture: all). Their arm64 dependencies are added by resolve_sysroot_packages.
arm64_roots=(libmodbus-dev libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev libspdlog-dev
    libfmt-dev libboost-dev libboost-program-options-dev libtomlplusplus-dev libsystemd-dev catch2)
all_roots=(nlohmann-json3-dev)
# Provided by the cross toolchain itself (libc6-arm64-cross, libstdc++6-arm64-cross, ... in
# /usr/aarch64-linux-gnu): not taken from the arm64 archive, and not followed further.
toolchain_re='^(libc6|libc6-dev|libgcc-s1|libgcc-12-dev|gcc-12-base|libstdc\+\+6|libstdc\+\+-12-dev|linux-libc-dev|libcrypt1|libcrypt-dev)$'

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
apt_opts=(-o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root)

# Installs the given packages, refusing if apt would remove any package to do so.
safe_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    local sim
    sim=$(apt-get install -s --no-install-recommends "${apt_opts[@]}" "${missing[@]}" 2>&1) ||
        { echo "$sim" >&2; die "apt-get cannot install ${missing[*]}"; }
    if grep -q '^Remv ' <<<"$sim"; then
        grep '^Remv ' <<<"$sim" >&2
        die "installing ${missing[*]} would remove the packages above: refused"
    fi
    echo "cross-arm64: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${apt_opts[@]}" "${missing[@]}"
}

# Prints the arm64 packages (pkg:arm64) and Architecture: all packages (pkg) the sysroot needs:
# the roots and, breadth first, their Depends/Pre-Depends (first alternative), stopping at the
# packages the cross toolchain provides. One apt-cache call per level.
resolve_sysroot_packages() {
    declare -A seen=()
    local level=() next=() line name p alt
    for p in "${arm64_roots[@]}"; do level+=("$p:arm64"); done
    level+=("${all_roots[@]}")
    while [ ${#level[@]} -gt 0 ]; do
        next=()
        for p in "${level[@]}"; do seen[$p]=1; echo "$p"; done
        alt=0
        while IFS= read -r line; do
            case $line in
                "  |Depends: "* | "  |PreDepends: "*) [ $alt = 1 ] && continue; alt=1 ;;
                "  Depends: "* | "  PreDepends: "*) [ $alt = 1 ] && { alt=0; continue; } ;;
                *) continue ;;
            esac
            name=${line#*: }
            # Dependencies met by a host (amd64 or all) package, e.g. debconf, are not needed.
            [[ $name == *:arm64 ]] || continue
            [[ ${name%:arm64} =~ $toolchain_re ]] && continue
            [ -n "${seen[$name]:-}" ] && continue
            seen[$name]=1
            next+=("$name")
        done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${level[@]}")
        level=("${next[@]}")
    done
}

make_sysroot() {
    local packages manifest=$build_dir/sysroot-packages.txt
    mapfile -t packages < <(resolve_sysroot_packages | sort)
    # Pin the versions apt chose, so the manifest says exactly what the sysroot holds.
    local pinned=() p v
    mapfile -t pinned < <(apt-cache policy "${packages[@]}" |
        awk '/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
             /^  Candidate: / { print name "=" $2 }' | sort)
    [ ${#pinned[@]} -eq ${#packages[@]} ] || die "apt-cache policy: ${#pinned[@]} of ${#packages[@]} packages"
    for p in "${pinned[@]}"; do
        [[ $p != *"=(none)" ]] || die "no candidate for ${p%=*} (apt-get update?)"
    done
    if [ -f "$sysroot/.complete" ] && cmp -s <(printf '%s\n' "${pinned[@]}") "$manifest"; then
        echo "cross-arm64: sysroot up to date (${#pinned[@]} packages, $manifest)"
        return
    fi
    echo "cross-arm64: making the sysroot from ${#pinned[@]} arm64 packages"
    mkdir -p "$build_dir/debs"
    (cd "$build_dir/debs" && apt-get download -q "${apt_opts[@]}" "${pinned[@]}")
    rm -rf "$sysroot"
    mkdir -p "$sysroot"
    local deb name
    for p in "${pinned[@]}"; do
        name=${p%%=*}
        name=${name%:arm64}
        v=${p#*=}
        v=${v//:/%3a}
        deb=$(compgen -G "$build_dir/debs/${name}_${v}_*.deb" | head -1) ||
            die "downloaded package for $p not found in $build_dir/debs"
        dpkg-deb -x "$deb" "$sysroot"
    done
    # Absolute symbolic links (e.g. lib.so -> /lib/...) must point into the sysroot.
    local link target
    while IFS= read -r -d '' link; do
        target=$(readlink "$link")
        ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$target")" "$link"
    done < <(find "$sysroot" -type l -lname '/*' -print0)
    printf '%s\n' "${pinned[@]}" > "$manifest"
    touch "$sysroot/.complete"
}

if [ "$install" = 1 ]; then
    step "packages"
    safe_install "${host_packages[@]}"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "cross-arm64: dpkg --add-architecture arm64"
        "${sudo_cmd[@]}" dpkg --add-architecture arm64
    fi
    "${sudo_cmd[@]}" apt-get update -qq "${apt_opts[@]}"
    step "sysroot"
    make_sysroot
else
    [ -f "$sysroot/.complete" ] || die "no sysroot in $sysroot: run once without --no-install"
fi

step "configure"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" \
    -DGREENRACK_ARM64_SYSROOT="$sysroot" -DGREENRACK_BUILD_TESTS="$([ $tests = 1 ] && echo ON || echo OFF)" \
    >/dev/null

targets=(greenrackd greenrack-sim)
if [ "$tests" = 1 ]; then
    # tests/unit/<dir>/<name>_test.cpp is the executable <name>_test (tests/unit/CMakeLists.txt).
    mapfile -t unit_tests < <(find tests/unit -name '*_test.cpp' -printf '%f\n' | sed 's/\.cpp$//' | sort)
    targets+=("${unit_tests[@]}")
fi
step "build (${#targets[@]} targets, -j$jobs)"
build_started=$(date +%s)
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}"
echo "cross-arm64: build took $(($(date +%s) - build_started)) s"

# The cross compiler also searches the host's /usr/include: make sure no amd64 header was used.
leaked=$(find "$build_dir" -name '*.o.d' -print0 | xargs -0 -r grep -l -E '(^| )/usr/include/' || true)
if [ -n "$leaked" ]; then
    echo "cross-arm64: warning: host headers from /usr/include used by $(wc -l <<<"$leaked") objects:" >&2
    head -5 <<<"$leaked" >&2
fi

if [ "$tests" = 1 ]; then
    step "unit tests under $(basename "$(command -v qemu-aarch64 || command -v qemu-aarch64-static)")"
    # Only the tests of the unit-test executables (catch_discover_tests names them
    # "<executable>.<test case>"): not the integration or packaging tests, which need native
    # programs.
    ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 600 \
        -R "^($(IFS='|'; echo "${unit_tests[*]}"))\."
fi

step "binaries"
strip_dir=$(mktemp -d)
trap 'rm -rf "$strip_dir"' EXIT
for bin in daemon/greenrackd drivers/sim/greenrack-sim; do
    cp "$build_dir/$bin" "$strip_dir/"
    "$triplet-strip" "$strip_dir/$(basename "$bin")"
    printf 'cross-arm64: %-14s %10d bytes stripped (%d bytes with debug info)\n' "$(basename "$bin")" \
        "$(stat -c %s "$strip_dir/$(basename "$bin")")" "$(stat -c %s "$build_dir/$bin")"
done
file "$build_dir/daemon/greenrackd"
file "$strip_dir/greenrackd"
step "done"
