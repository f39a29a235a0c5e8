#!/usr/bin/env bash
# Builds the Debian package with cpack from a build tree, checks its name, contents and control
# fields, installs it on this machine with dpkg, runs the installed greenrackd, and removes and
# purges it again. The package is purged on exit whatever happens. Refuses to run when a file the
# package would install (or /var/lib/greenrack, which purge deletes) already exists and does not
# belong to the greenrack package.
#
# usage: deb_package_test.sh BUILD_DIR SOURCE_DIR VERSION UNIT_DIR SYSUSERS_DIR TMPFILES_DIR
# Needs root, or sudo without a password (otherwise it exits 77: skipped). Runs under a lock
# (/run/lock/greenrack-deb-package-test.lock) so that two build trees never install at once.
set -euo pipefail

if [ $# -ne 6 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR VERSION UNIT_DIR SYSUSERS_DIR TMPFILES_DIR" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
version=$3
unit_dir=$4
sysusers_dir=$5
tmpfiles_dir=$6

# dpkg wants ldconfig and start-stop-daemon on the PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive

started=$(date +%s)
say() { echo "deb_package_test [$(($(date +%s) - started)) s]: $*"; }
fail() {
    echo "deb_package_test: FAIL: $*" >&2
    exit 1
}

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "deb_package_test: SKIP: installing a package needs root or passwordless sudo" >&2
        exit 77
    fi
fi

for tool in cpack dpkg dpkg-deb dpkg-query dpkg-shlibdeps dpkg-architecture objdump flock; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
[ -f "$build_dir/CPackConfig.cmake" ] || fail "no $build_dir/CPackConfig.cmake"

# One installation at a time on this machine, whichever build tree the test runs from.
lock=/run/lock/greenrack-deb-package-test.lock
[ -w /run/lock ] || lock=/tmp/greenrack-deb-package-test.lock
exec 9>>"$lock"
flock -w 300 9 || fail "another deb_package_test has held $lock for 5 minutes"

work=$(mktemp -d "${TMPDIR:-/tmp}/greenrack-deb-test.XXXXXX")
installed_by_us=0
cleanup() {
    local status=$?
    if [ "$installed_by_us" -eq 1 ] &&
        dpkg-query -W -f='${db:Status-Status}' greenrack 2>/dev/null | grep -qv '^not-installed$'; then
        say "cleanup: purging greenrack"
        "${as_root[@]}" dpkg --purge greenrack >"$work/cleanup-purge.log" 2>&1 || {
            cat "$work/cleanup-purge.log" >&2
            echo "deb_package_test: FAIL: cleanup could not purge greenrack" >&2
            status=1
        }
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build the package ---------------------------------------------------------------------
say "cpack -G DEB -B $work/out --config $build_dir/CPackConfig.cmake"
(cd "$work" && cpack -G DEB -B "$work/out" --config "$build_dir/CPackConfig.cmake") \
    >"$work/cpack.log" 2>&1 || {
    cat "$work/cpack.log" >&2
    fail "cpack -G DEB failed"
}

arch=$(dpkg --print-architecture)
expected_name="greenrack_${version}_${arch}.deb"
shopt -s nullglob
debs=("$work/out"/*.deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] ||
    fail "expected exactly one .deb in $work/out, found ${#debs[@]}: ${debs[*]:-none}"
deb=${debs[0]}
[ "$(basename "$deb")" = "$expected_name" ] ||
    fail "package file is $(basename "$deb"), expected $expected_name"
say "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- contents ------------------------------------------------------------------------------
dpkg-deb -c "$deb" >"$work/listing" || fail "dpkg-deb -c cannot read $deb"
# "-rw-r--r-- root/root 1234 2026-11-29 02:53 ./usr/bin/greenrackd" -> mode, owner, path
awk '$1 !~ /^d/ { print $1, $2, $6 }' "$work/listing" | sort -k3 >"$work/files"
awk '{ print $3 }' "$work/files" >"$work/paths"

expected=(
    ./usr/bin/greenrackd
    ./usr/bin/greenrack-scan
    ".$unit_dir/greenrackd.service"
    ".$sysusers_dir/greenrack.conf"
    ".$tmpfiles_dir/greenrack.conf"
    ./etc/greenrack/greenrack.toml
    ./usr/share/doc/greenrack/README.md
)
for profile in "$source_dir"/config/profiles/*.toml; do
    expected+=("./usr/share/greenrack/profiles/$(basename "$profile")")
done
while IFS= read -r file; do
    expected+=("./usr/share/greenrack/dashboards/${file#"$source_dir"/dashboards/}")
done < <(find "$source_dir/dashboards" -type f ! -name '.*' | sort)
printf '%s\n' "${expected[@]}" | sort >"$work/expected"

missing=$(comm -23 "$work/expected" "$work/paths")
[ -z "$missing" ] || fail "files missing from the package:"$'\n'"$missing"
extra=$(comm -13 "$work/expected" "$work/paths")
[ -z "$extra" ] ||
    fail "files in the package that this test does not expect (update it if on purpose):"$'\n'"$extra"
say "contents: all ${#expected[@]} expected files, nothing else"

mode_of() { awk -v p="$1" '$3 == p { print $1, $2 }' "$work/files"; }
[ "$(mode_of ./usr/bin/greenrackd)" = "-rwxr-xr-x root/root" ] ||
    fail "/usr/bin/greenrackd is $(mode_of ./usr/bin/greenrackd), expected -rwxr-xr-x root/root"
[ "$(mode_of ./usr/bin/greenrack-scan)" = "-rwxr-xr-x root/root" ] ||
    fail "/usr/bin/greenrack-scan is $(mode_of ./usr/bin/greenrack-scan), expected -rwxr-xr-x"
[ "$(mode_of ./etc/greenrack/greenrack.toml)" = "-rw-r--r-- root/root" ] ||
    fail "/etc/greenrack/greenrack.toml is $(mode_of ./etc/greenrack/greenrack.toml)"
if awk '$1 ~ /^d/ && $1 != "drwxr-xr-x" { bad = 1 } END { exit !bad }' "$work/listing"; then
    fail "directories not 0755 in the package:"$'\n'"$(awk '$1 ~ /^d/ && $1 != "drwxr-xr-x"' \
        "$work/listing")"
fi

# --- control fields ------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = greenrack ] || fail "Package is '$(field Package)', expected greenrack"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', expected $arch"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
depends=$(field Depends)
say "Depends: $depends"
# Package names only: "libmodbus5 (>= 3.1.6), libc6 (>= 2.34)" -> "libmodbus5" "libc6"
depends_names=" $(echo "$depends" | tr ',|' '\n' | sed -E 's/\(.*\)//; s/:[a-z0-9]+$//' |
    awk '{ print $1 }' | tr '\n' ' ') "
has_dep() { [[ $depends_names == *" $1 "* ]]; }
for dep in libmodbus5 libpaho-mqttpp3-1 libpaho-mqtt1.3; do
    has_dep "$dep" || fail "Depends lacks $dep: $depends"
done
# Every shared library the packaged greenrackd needs comes from a package named in Depends, or
# from one that provides a name in Depends (libspdlog1.10 provides libspdlog1.10-fmt9).
dpkg-deb -x "$deb" "$work/unpacked"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
needed=$(objdump -p "$work/unpacked/usr/bin/greenrackd" | awk '$1 == "NEEDED" { print $2 }')
[ -n "$needed" ] || fail "objdump found no NEEDED libraries in the packaged greenrackd"
while IFS= read -r soname; do
    owner=$(dpkg-query -S "*/$multiarch/$soname" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') ||
        true
    [ -n "$owner" ] || fail "no installed package has $soname (needed by greenrackd)"
    ok=0
    has_dep "$owner" && ok=1
    for provided in $(dpkg-query -W -f='${Provides}' "$owner" | tr ',' '\n' | awk '{ print $1 }'); do
        has_dep "$provided" && ok=1
    done
    [ "$ok" -eq 1 ] || fail "greenrackd needs $soname from $owner, which Depends lacks: $depends"
done <<<"$needed"
say "every library greenrackd needs ($(echo "$needed" | wc -l)) is covered by Depends"

dpkg-deb -e "$deb" "$work/control"
[ -f "$work/control/conffiles" ] || fail "the package has no conffiles control file"
grep -qx /etc/greenrack/greenrack.toml "$work/control/conffiles" ||
    fail "conffiles does not list /etc/greenrack/greenrack.toml: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
    [ -x "$work/control/$script" ] || fail "maintainer script $script missing or not executable"
    sh -n "$work/control/$script" || fail "maintainer script $script is not valid sh"
done
say "control: Package, Version, Architecture, Depends, conffiles and maintainer scripts ok"

# --- refuse to clobber what is not ours ----------------------------------------------------
preinstalled=$(dpkg-query -W -f='${db:Status-Status}' greenrack 2>/dev/null || true)
while IFS= read -r path; do
    path=${path#.}
    if [ -e "$path" ] || [ -L "$path" ]; then
        owner=$(dpkg-query -S "$path" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') || true
        [ "$owner" = greenrack ] ||
            fail "refusing to install: $path exists and does not belong to the greenrack" \
                "package${owner:+ (owner: $owner)}"
    fi
done <"$work/paths"
if [ -z "$preinstalled" ] || [ "$preinstalled" = not-installed ]; then
    if [ -e /var/lib/greenrack ]; then
        fail "refusing to install: /var/lib/greenrack exists but the greenrack package is not" \
            "installed (purging would delete it)"
    fi
else
    say "note: the greenrack package is already here ($preinstalled," \
        "$(dpkg-query -W -f='${Version}' greenrack)); it is replaced and purged"
fi

# --- install -------------------------------------------------------------------------------
installed_by_us=1
"${as_root[@]}" dpkg -i "$deb" >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    fail "dpkg -i $(basename "$deb") failed"
}
[ "$(dpkg-query -W -f='${db:Status-Status}' greenrack)" = installed ] ||
    fail "greenrack is not fully installed after dpkg -i: $(dpkg-query -W -f='${Status}' greenrack)"
say "installed with dpkg -i"

out=$(/usr/bin/greenrackd --version 2>&1) || fail "/usr/bin/greenrackd --version failed: $out"
[ "$out" = "greenrackd $version" ] ||
    fail "greenrackd --version printed '$out', expected 'greenrackd $version'"

status=0
out=$(/usr/bin/greenrackd --check-config --config /etc/greenrack/greenrack.toml 2>&1) || status=$?
[ "$status" -eq 0 ] || fail "greenrackd --check-config of the installed config exited $status: $out"
[[ $out == "/etc/greenrack/greenrack.toml: ok:"* ]] ||
    fail "greenrackd --check-config did not say ok: $out"
say "installed greenrackd: $out"
out=$(/usr/bin/greenrack-scan --version 2>&1) || fail "/usr/bin/greenrack-scan --version failed: $out"
[ "$out" = "greenrack-scan $version" ] ||
    fail "greenrack-scan --version printed '$out', expected 'greenrack-scan $version'"

for pair in "$source_dir/config/greenrack.toml:/etc/greenrack/greenrack.toml" \
    "$source_dir/systemd/greenrackd.service:$unit_dir/greenrackd.service" \
    "$source_dir/systemd/greenrack.sysusers.conf:$sysusers_dir/greenrack.conf" \
    "$source_dir/systemd/greenrack.tmpfiles.conf:$tmpfiles_dir/greenrack.conf" \
    "$source_dir/README.md:/usr/share/doc/greenrack/README.md"; do
    cmp -s "${pair%%:*}" "${pair#*:}" || fail "installed ${pair#*:} differs from ${pair%%:*}"
done

user_created=0
if command -v systemd-sysusers >/dev/null; then
    getent passwd greenrack >/dev/null ||
        fail "postinst did not create the user greenrack (systemd-sysusers)"
    id -nG greenrack | tr ' ' '\n' | grep -qx dialout || fail "user greenrack is not in dialout"
    user_created=1
    if command -v systemd-tmpfiles >/dev/null; then
        got=$(stat -c '%U:%G %a' /var/lib/greenrack 2>/dev/null) ||
            fail "postinst did not create /var/lib/greenrack (systemd-tmpfiles)"
        [ "$got" = "greenrack:greenrack 750" ] ||
            fail "/var/lib/greenrack is $got, expected greenrack:greenrack 750"
    fi
    say "user greenrack and /var/lib/greenrack ok"
else
    say "no systemd-sysusers here: user and state directory not checked"
fi
wants=/etc/systemd/system/multi-user.target.wants/greenrackd.service
if command -v deb-systemd-helper >/dev/null; then
    [ -L "$wants" ] || fail "postinst did not enable greenrackd.service ($wants missing)"
fi
if [ ! -d /run/systemd/system ]; then
    say "systemd is not PID 1 here: the unit is enabled but was not started (as intended)"
fi

# Upgrade path (postinst configure <old version>) keeps a locally changed conffile.
marker="# deb_package_test local change $$"
echo "$marker" | "${as_root[@]}" tee -a /etc/greenrack/greenrack.toml >/dev/null
"${as_root[@]}" dpkg -i "$deb" >"$work/reinstall.log" 2>&1 || {
    cat "$work/reinstall.log" >&2
    fail "reinstalling over the installed package (upgrade path) failed"
}
grep -qxF "$marker" /etc/greenrack/greenrack.toml ||
    fail "reinstalling overwrote the locally changed conffile /etc/greenrack/greenrack.toml"
say "reinstall (upgrade path) ok, local conffile change kept"

# --- remove, then purge --------------------------------------------------------------------
"${as_root[@]}" dpkg -r greenrack >"$work/remove.log" 2>&1 || {
    cat "$work/remove.log" >&2
    fail "dpkg -r greenrack failed"
}
[ ! -e /usr/bin/greenrackd ] || fail "/usr/bin/greenrackd still there after dpkg -r"
[ ! -e /usr/bin/greenrack-scan ] || fail "/usr/bin/greenrack-scan still there after dpkg -r"
[ -f /etc/greenrack/greenrack.toml ] || fail "dpkg -r removed the conffile (only purge may)"

"${as_root[@]}" dpkg --purge greenrack >"$work/purge.log" 2>&1 || {
    cat "$work/purge.log" >&2
    fail "dpkg --purge greenrack failed"
}
installed_by_us=0
state=$(dpkg-query -W -f='${db:Status-Status}' greenrack 2>/dev/null || echo not-installed)
[ "$state" = not-installed ] || fail "greenrack is '$state' after dpkg --purge"
while IFS= read -r path; do
    [ ! -e "${path#.}" ] || fail "${path#.} still there after dpkg --purge"
done <"$work/paths"
[ ! -e /var/lib/greenrack ] || fail "postrm purge left /var/lib/greenrack"
if [ -e "$wants" ] || [ -L "$wants" ]; then
    fail "purge left the enable symlink $wants"
fi
[ ! -L /etc/systemd/system/greenrackd.service ] ||
    fail "purge left the mask /etc/systemd/system/greenrackd.service"
if [ "$user_created" -eq 1 ]; then
    getent passwd greenrack >/dev/null ||
        fail "purge removed the user greenrack (Debian policy: it stays)"
fi
say "removed and purged: the packaged files, /var/lib/greenrack and the unit's enable state are gone"
say "passed in $(($(date +%s) - started)) s"
