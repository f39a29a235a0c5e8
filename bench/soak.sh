#!/usr/bin/env bash
# Accelerated soak test of greenrackd against the whole simulated demo site. Starts, on
# 127.0.0.1 only and on free ports picked at run time, a private mosquitto, a private influxd
# (InfluxDB 1.x), greenrack-sim with config/examples/demo-site.sim.toml at --speed S, and
# greenrackd with config/examples/demo-site.toml where every poll interval, the accounting tick
# and the alert cause window are divided by S (clamped to the loader's minimums) and MQTT,
# InfluxDB, Prometheus, accounting and alerts are all on: the daemon does S simulated seconds of
# work per wall second.
# Samples greenrackd's RSS, open fds, threads, CPU and /metrics counters into a CSV and judges
# whether memory stays flat and fds do not leak. Usage:
#
#   bench/soak.sh [--sim-hours H] [--speed S] [--build-dir DIR] [--out DIR]
#                 [--sample-seconds N] [--warmup-fraction F]
#
#   --sim-hours H        simulated hours to run, may be fractional (default 2); the run lasts
#                        H*3600/S wall seconds
#   --speed S            simulated seconds per wall second (default 10)
#   --build-dir DIR      where greenrackd and greenrack-sim were built (default <repo>/build;
#                        nothing is built here)
#   --out DIR            output directory, new or empty (default a fresh mktemp dir); kept
#                        at the end
#   --sample-seconds N   sampling period in wall seconds (default 5)
#   --warmup-fraction F  the first F of the run is warm-up, not judged (default 0.15)
#
# Output in DIR: samples.csv (one row per sample: wall and simulated seconds, greenrackd's VmRSS,
# VmHWM, open fds, threads, CPU seconds, RssAnon, RssFile, and from /metrics: polls, MQTT
# messages, spool pending records, InfluxDB lines, /metrics size), summary.txt (also printed),
# the generated configurations (greenrackd.toml, demo-site.sim.toml, mosquitto.conf,
# influxdb.conf), every process's log (greenrackd.log, sim.log, mosquitto.log, influxd.log),
# greenrackd's state/, and bin/: the copies of greenrackd and greenrack-sim that ran
# (binaries.txt: their checksums).
#
# Verdict: PASS when, after warm-up, the RSS spread (max-min)/min is <= 5 %, the fd count at the
# end is not above the fd count at the end of warm-up, and the highest fd count after warm-up is
# at most 2 above it (a transient reconnect socket). Also FAIL when nothing was polled, delivered
# to MQTT or written to InfluxDB. Exit status: 0 PASS, 1 FAIL, 2 a process died or did not start,
# 64 bad usage. Ctrl-C stops everything it started. The summary also checks that every record
# appended to a spool was delivered, is pending or was counted as dropped ("DATA CHECK"); that
# check is reported, not part of the verdict. Results of a run: bench/SOAK.md.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

sim_hours=2
speed=10
build_dir="$repo/build"
out=""
sample_seconds=5
warmup_fraction=0.15

usage_error() {
    echo "bench/soak.sh: $1 (see --help)" >&2
    exit 64
}
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$|^[.][0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    case "$1" in
    --sim-hours | --speed | --build-dir | --out | --sample-seconds | --warmup-fraction)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case "$1" in
        --sim-hours) sim_hours="$2" ;;
        --speed) speed="$2" ;;
        --build-dir) build_dir="$2" ;;
        --out) out="$2" ;;
        --sample-seconds) sample_seconds="$2" ;;
        --warmup-fraction) warmup_fraction="$2" ;;
        esac
        shift 2
        ;;
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
        exit 0
        ;;
    *)
        usage_error "unknown argument $1"
        ;;
    esac
done

for pair in "sim-hours:$sim_hours" "speed:$speed" "sample-seconds:$sample_seconds" \
    "warmup-fraction:$warmup_fraction"; do
    is_number "${pair#*:}" || usage_error "--${pair%%:*} expects a number, got ${pair#*:}"
done
awk -v h="$sim_hours" -v s="$speed" -v n="$sample_seconds" -v f="$warmup_fraction" \
    'BEGIN { exit !(h > 0 && s > 0 && n > 0 && f >= 0 && f < 1) }' ||
    usage_error "need --sim-hours > 0, --speed > 0, --sample-seconds > 0, 0 <= --warmup-fraction < 1"

greenrackd="$build_dir/daemon/greenrackd"
sim="$build_dir/drivers/sim/greenrack-sim"
for bin in "$greenrackd" "$sim"; do
    [ -x "$bin" ] || {
        echo "bench/soak.sh: $bin not found; build it with" >&2
        echo "  cmake -S $repo -B $build_dir -DCMAKE_BUILD_TYPE=RelWithDebInfo &&" \
            "cmake --build $build_dir --target greenrackd greenrack-sim" >&2
        exit 2
    }
done
find_program() {
    local name="$1" dir
    command -v "$name" 2>/dev/null && return 0
    for dir in /usr/local/sbin /usr/sbin /sbin /usr/bin; do
        [ -x "$dir/$name" ] && echo "$dir/$name" && return 0
    done
    echo "bench/soak.sh: $name not found (run scripts/install-deps.sh)" >&2
    exit 2
}
mosquitto_bin=$(find_program mosquitto)
influxd_bin=$(find_program influxd)
curl_bin=$(find_program curl)

if [ -z "$out" ]; then
    out=$(mktemp -d "${TMPDIR:-/tmp}/greenrack-soak.XXXXXX")
else
    # A used directory would hand the daemon an old spool and state: start clean.
    if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
        usage_error "--out $out is not empty"
    fi
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
fi
echo "soak: output directory $out"

# Run private copies: a rebuild of the build directory during the run cannot swap the binaries,
# and the copies record exactly what was measured.
mkdir -p "$out/bin"
cp "$greenrackd" "$sim" "$out/bin/"
{
    for bin in "$greenrackd" "$sim"; do
        echo "$bin: $(stat -c '%s bytes, modified %y' "$bin")"
    done
    (cd "$out/bin" && sha256sum greenrackd greenrack-sim)
    "$out/bin/greenrackd" --version
} >"$out/binaries.txt" 2>&1
greenrackd="$out/bin/greenrackd"
sim="$out/bin/greenrack-sim"

# --- process bookkeeping: everything started here is stopped on exit -------------------------
names=()
pids=()
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    local status=$? i pid
    trap - EXIT INT TERM
    # Newest first: greenrackd stops (and flushes) before the broker and database go away.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid="${pids[i]}"
        kill -0 "$pid" 2>/dev/null || continue
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "soak: ${names[i]} (pid $pid) ignored SIGTERM for 10 s, killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    echo "soak: output kept in $out"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT
trap 'echo "soak: terminated" >&2; exit 143' TERM

# Alive: exists and is not a zombie.
alive() {
    local state
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}
die() {
    echo "soak: ERROR: $1" >&2
    if [ $# -ge 2 ] && [ -f "$2" ]; then
        echo "soak: last lines of $2:" >&2
        tail -n 30 "$2" >&2
    fi
    exit 2
}
check_alive() {
    local i
    for i in "${!pids[@]}"; do
        alive "${pids[i]}" || die "${names[i]} (pid ${pids[i]}) died during the run" "$out/${names[i]}.log"
    done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Waits until $1 (a name in names[]) listens on port $2, for at most $3 seconds.
wait_port() {
    local name="$1" port="$2" tries=$(($3 * 10)) pid="${pids[-1]}"
    for _ in $(seq "$tries"); do
        alive "$pid" || die "$name exited at start-up" "$out/$name.log"
        port_open "$port" && return 0
        sleep 0.1
    done
    die "$name did not listen on 127.0.0.1:$port within $3 s" "$out/$name.log"
}
# Free TCP ports on 127.0.0.1, all distinct: the kernel picks them (bind to port 0).
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

read -r mqtt_port influx_port influx_rpc_port metrics_port <<<"$(free_ports 4)"
echo "soak: ports: mqtt $mqtt_port, influxdb $influx_port (rpc $influx_rpc_port), metrics $metrics_port"

# --- mosquitto --------------------------------------------------------------------------------
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
    "$mqtt_port" >"$out/mosquitto.conf"
"$mosquitto_bin" -c "$out/mosquitto.conf" >"$out/mosquitto.log" 2>&1 &
names+=(mosquitto)
pids+=($!)
wait_port mosquitto "$mqtt_port" 10
echo "soak: mosquitto up on 127.0.0.1:$mqtt_port (pid ${pids[-1]})"

# --- influxd (as tests/support/influxd.cpp starts it) ---------------------------------------------
influx_db=greenrack
mkdir -p "$out/influxdb"
cat >"$out/influxdb.conf" <<EOF
reporting-enabled = false
bind-address = "127.0.0.1:$influx_rpc_port"
[meta]
  dir = "$out/influxdb/meta"
[data]
  dir = "$out/influxdb/data"
  wal-dir = "$out/influxdb/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:$influx_port"
  auth-enabled = false
  log-enabled = true
  unix-socket-enabled = false
  bind-socket = "$out/influxd.sock"
EOF
"$influxd_bin" -config "$out/influxdb.conf" >"$out/influxd.log" 2>&1 &
names+=(influxd)
pids+=($!)
wait_port influxd "$influx_port" 30
influx_query() {
    "$curl_bin" -sS --max-time 10 -XPOST "http://127.0.0.1:$influx_port/query" \
        --data-urlencode "q=$1" "${@:2}"
}
# greenrackd only writes (POST /write?db=...): the database must exist.
reply=""
for _ in $(seq 50); do
    reply=$(influx_query "CREATE DATABASE \"$influx_db\"" 2>&1) && [[ "$reply" != *error* ]] && break
    reply="failed: $reply"
    sleep 0.2
done
[[ "$reply" != failed* ]] || die "CREATE DATABASE $influx_db: $reply" "$out/influxd.log"
echo "soak: influxd up on 127.0.0.1:$influx_port (pid ${pids[-1]}), database $influx_db created"

# --- greenrack-sim: the demo scenario with every listener on a port the kernel picks ----------
scenario="$repo/config/examples/demo-site.sim.toml"
# In each [[listener]] table, port = N -> port = 0 (any free port; reported in the ready file).
awk '
    /^[[:space:]]*\[/ { in_listener = ($0 ~ /^[[:space:]]*\[\[listener\]\]/) }
    in_listener && /^[[:space:]]*port[[:space:]]*=/ { sub(/=[[:space:]]*[0-9]+/, "= 0") }
    { print }
' "$scenario" >"$out/demo-site.sim.toml"
"$sim" --scenario "$out/demo-site.sim.toml" --profiles "$repo/config/profiles" \
    --speed "$speed" --bind 127.0.0.1 --ready-file "$out/sim.ready" >"$out/sim.log" 2>&1 &
names+=(sim)
pids+=($!)
for _ in $(seq 100); do
    [ -s "$out/sim.ready" ] && break
    alive "${pids[-1]}" || die "greenrack-sim exited at start-up" "$out/sim.log"
    sleep 0.1
done
[ -s "$out/sim.ready" ] || die "greenrack-sim did not become ready within 10 s" "$out/sim.log"
cp "$out/sim.ready" "$out/sim.ready.json" # the sim removes its ready file on exit
# listener name -> bound port, and original port -> listener name (from the scenario).
declare -A listener_port original_listener
while read -r name port; do listener_port[$name]=$port; done < <(
    python3 -c 'import json,sys; [print(k, v) for k, v in json.load(open(sys.argv[1]))["listeners"].items()]' \
        "$out/sim.ready.json"
)
while read -r name port; do original_listener[$port]=$name; done < <(
    awk '
        /^[[:space:]]*\[/ { in_listener = ($0 ~ /^[[:space:]]*\[\[listener\]\]/) }
        in_listener && /^[[:space:]]*name[[:space:]]*=/ { split($0, a, "\""); name = a[2] }
        in_listener && /^[[:space:]]*port[[:space:]]*=/ { v = $0; sub(/.*=[[:space:]]*/, "", v); sub(/[^0-9].*/, "", v); print name, v }
    ' "$scenario"
)
echo -n "soak: greenrack-sim up (pid ${pids[-1]}, speed $speed), listeners:"
for name in "${!listener_port[@]}"; do echo -n " $name=127.0.0.1:${listener_port[$name]}"; done
echo

# --- greenrackd configuration -------------------------------------------------------------------
daemon_source="$repo/config/examples/demo-site.toml"
for section in influxdb prometheus accounting alerts; do
    if grep -q "^[[:space:]]*\[${section}[].]" "$daemon_source"; then
        die "$daemon_source already has a [$section] section; bench/soak.sh appends its own"
    fi
done
# bus port map: "orig:new,orig:new"
port_map=""
for port in "${!original_listener[@]}"; do
    name="${original_listener[$port]}"
    [ -n "${listener_port[$name]:-}" ] || die "listener $name is not in the sim's ready file"
    port_map+="$port:${listener_port[$name]},"
done
state_dir="$out/state"
mkdir -p "$state_dir"
# Durations ("250ms", "1s", "1.5s", "2m", "1m30s") in ms; the result as "<n>ms".
awk_durations='
    function ms(text,   total, n, unit) {
        total = 0
        while (match(text, /^[0-9]+([.][0-9]+)?(ms|s|m|h)/)) {
            n = substr(text, 1, RLENGTH); text = substr(text, RLENGTH + 1)
            if (n ~ /ms$/) { unit = 1; sub(/ms$/, "", n) }
            else if (n ~ /s$/) { unit = 1000; sub(/s$/, "", n) }
            else if (n ~ /m$/) { unit = 60000; sub(/m$/, "", n) }
            else { unit = 3600000; sub(/h$/, "", n) }
            total += n * unit
        }
        if (text != "") { print "bad duration " text > "/dev/stderr"; exit 3 }
        return total
    }
'
# Poll interval: the given one (or the default 1s) / S, at least 100ms (config_loader.cpp).
poll_min_ms=100
awk -v map="$port_map" -v speed="$speed" -v min="$poll_min_ms" -v mqtt="$mqtt_port" \
    -v state="$state_dir" -v profiles="$repo/config/profiles" -v logfile="$out/poll-intervals.txt" \
    "$awk_durations"'
    function scaled(text, device,   orig, v) {
        orig = ms(text)
        v = int(orig / speed + 0.5)
        if (v < min) {
            printf "%s: poll_interval %s / %s = %.1fms is below the minimum %dms: clamped to %dms\n", device, text, speed, orig / speed, min, min > logfile
            v = min
        } else {
            printf "%s: poll_interval %s -> %dms\n", device, text, v > logfile
        }
        return v "ms"
    }
    function end_device() {
        if (in_device && !seen_poll) print "poll_interval = \"" scaled("1s", device_id) "\""
        in_device = 0
    }
    BEGIN { n = split(map, pairs, ","); for (i = 1; i <= n; i++) if (pairs[i] != "") { split(pairs[i], p, ":"); newport[p[1]] = p[2] } }
    /^[[:space:]]*\[/ {
        end_device()
        table = $0; gsub(/[[:space:]]/, "", table)
        in_device = (table == "[[device]]"); seen_poll = 0; device_id = "?"
    }
    table == "[[device]]" && /^[[:space:]]*id[[:space:]]*=/ { split($0, a, "\""); device_id = a[2] }
    table == "[[device]]" && /^[[:space:]]*poll_interval[[:space:]]*=/ {
        split($0, a, "\""); print "poll_interval = \"" scaled(a[2], device_id) "\""; seen_poll = 1; next
    }
    table == "[[bus]]" && /^[[:space:]]*port[[:space:]]*=/ {
        v = $0; sub(/.*=[[:space:]]*/, "", v); sub(/[^0-9].*/, "", v)
        if (!(v in newport)) { print "no simulator listener on port " v > "/dev/stderr"; exit 3 }
        print "port = " newport[v]; next
    }
    table == "[[bus]]" && /^[[:space:]]*host[[:space:]]*=/ { print "host = \"127.0.0.1\""; next }
    table == "[mqtt]" && /^[[:space:]]*uri[[:space:]]*=/ { print "uri = \"tcp://127.0.0.1:" mqtt "\""; next }
    table == "[mqtt]" && /^[[:space:]]*enabled[[:space:]]*=/ { print "enabled = true"; next }
    table == "[daemon]" && /^[[:space:]]*state_directory[[:space:]]*=/ { print "state_directory = \"" state "\""; next }
    table == "[daemon]" && /^[[:space:]]*profile_dirs[[:space:]]*=/ { print "profile_dirs = [\"" profiles "\"]"; next }
    { print }
    END { end_device() }
' "$daemon_source" >"$out/greenrackd.toml" || die "could not derive greenrackd.toml from $daemon_source"
grep -q '^\[mqtt\]' "$out/greenrackd.toml" ||
    printf '\n[mqtt]\nenabled = true\nuri = "tcp://127.0.0.1:%s"\n' "$mqtt_port" >>"$out/greenrackd.toml"

# Accounting tick: the loader default 5s (demo-site.toml sets none) / S; it must be >= 1s and
# divide 15 minutes (config_loader.cpp): the largest such value <= 5s / S, or 1s when below.
tick_base_ms=5000
tick_ms=$(awk -v base="$tick_base_ms" -v speed="$speed" 'BEGIN {
    target = int(base / speed)
    if (target < 1000) { print 1000; exit }
    for (d = target; d >= 1000; d--) if (900000 % d == 0) { print d; exit }
    print 1000 }')
tick_note=$(awk -v base="$tick_base_ms" -v speed="$speed" -v t="$tick_ms" 'BEGIN {
    x = base / speed
    if (x < 1000) printf "accounting.tick 5s / %s = %gms is below the minimum 1s: clamped to 1000ms (ticks come %g, not %s, times as often as with the 5s default)", speed, x, base / t, speed
    else if (t != x) printf "accounting.tick 5s / %s = %gms does not divide 15 minutes: rounded down to %dms", speed, x, t
    else printf "accounting.tick 5s -> %dms", t }')
# The alert cause window (15 min of wall time by default) is a time span too: divided by S as
# well (at least the loader's 1 min), or it would hold S times as many ticks as in real time and
# still be filling when the run is judged.
cause_window_s=$(awk -v speed="$speed" 'BEGIN { x = int(900 / speed); print (x < 60 ? 60 : x) }')
echo "soak: alerts.cause_window 15m / $speed -> ${cause_window_s}s"
cat >>"$out/greenrackd.toml" <<EOF

# --- added by bench/soak.sh: the whole pipeline on, on private loopback ports ------------------
[influxdb]
enabled = true
url = "http://127.0.0.1:$influx_port"
api = "v1"
database = "$influx_db"

[prometheus]
enabled = true
listen = "127.0.0.1:$metrics_port"

[accounting]
enabled = true
tick = "${tick_ms}ms"

[alerts]
enabled = true
cause_window = "${cause_window_s}s"
EOF
sed 's/^/soak: /' "$out/poll-intervals.txt"
grep -q clamped "$out/poll-intervals.txt" && echo "soak: NOTE: some poll intervals were clamped to ${poll_min_ms}ms"
echo "soak: $tick_note"
[[ "$tick_note" == *clamped* || "$tick_note" == *rounded* ]] && echo "soak: NOTE: the accounting tick was adjusted"

export STATE_DIRECTORY="$state_dir"
"$greenrackd" --config "$out/greenrackd.toml" --check-config >"$out/check-config.txt" 2>&1 ||
    die "greenrackd --check-config rejected $out/greenrackd.toml" "$out/check-config.txt"
echo "soak: greenrackd --check-config ok ($out/check-config.txt)"

# --- greenrackd ------------------------------------------------------------------------------------
"$greenrackd" --config "$out/greenrackd.toml" >"$out/greenrackd.log" 2>&1 &
names+=(greenrackd)
pids+=($!)
daemon_pid=$!
wait_port greenrackd "$metrics_port" 20
echo "soak: greenrackd up (pid $daemon_pid), metrics on http://127.0.0.1:$metrics_port/metrics"

# --- sampling ---------------------------------------------------------------------------------------
duration=$(awk -v h="$sim_hours" -v s="$speed" 'BEGIN { printf "%.3f", h * 3600 / s }')
echo "soak: running $sim_hours simulated hours at speed $speed: $duration wall seconds," \
    "one sample every $sample_seconds s"
clk_tck=$(getconf CLK_TCK)
csv="$out/samples.csv"
echo "wall_s,sim_s,rss_kb,hwm_kb,fds,threads,cpu_s,polls,mqtt_delivered,spool_pending_mqtt,spool_pending_influxdb,influx_lines_written,mqtt_connected,load1,mqtt_published,mqtt_dropped,influx_appended,influx_rejected,influx_dropped,rss_anon_kb,rss_file_kb,metrics_bytes" >"$csv"
metrics_failures=0

now() { echo "$EPOCHREALTIME"; }
sample() {
    local wall="$1" status rss hwm threads anon file fds cpu metrics row
    status=$(cat "/proc/$daemon_pid/status" 2>/dev/null) || die "greenrackd (pid $daemon_pid) died" "$out/greenrackd.log"
    rss=$(awk '/^VmRSS:/ { print $2 }' <<<"$status")
    hwm=$(awk '/^VmHWM:/ { print $2 }' <<<"$status")
    threads=$(awk '/^Threads:/ { print $2 }' <<<"$status")
    anon=$(awk '/^RssAnon:/ { print $2 }' <<<"$status")
    file=$(awk '/^RssFile:/ { print $2 }' <<<"$status")
    fds=$(find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    cpu=$(awk -v tck="$clk_tck" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$daemon_pid/stat")
    if metrics=$("$curl_bin" -sS --max-time 3 "http://127.0.0.1:$metrics_port/metrics" 2>>"$out/curl.log"); then
        row=$(awk '
            function value(line) { n = split(line, f, " "); return f[n] }
            /^greenrack_self_poll_duration_seconds_count[{ ]/ { polls += value($0); has_polls = 1 }
            /^greenrack_self_mqtt_messages_total\{/ && /result="delivered"/ { delivered = value($0) }
            /^greenrack_self_spool_pending_records\{/ && /sink="mqtt"/ { pm = value($0) }
            /^greenrack_self_spool_pending_records\{/ && /sink="influxdb"/ { pi = value($0) }
            /^greenrack_self_influx_lines_total\{/ && /result="written"/ { written = value($0) }
            /^greenrack_self_mqtt_connected[{ ]/ { connected = value($0) }
            /^greenrack_self_mqtt_messages_total\{/ && /result="published"/ { published = value($0) }
            /^greenrack_self_mqtt_messages_total\{/ && /result="dropped"/ { mdropped = value($0) }
            /^greenrack_self_spool_records_total\{/ && /sink="influxdb"/ && /result="appended"/ { appended = value($0) }
            /^greenrack_self_influx_lines_total\{/ && /result="rejected"/ { rejected = value($0) }
            /^greenrack_self_influx_lines_total\{/ && /result="dropped"/ { idropped = value($0) }
            function v(x) { return x == "" ? "NA" : x }
            END {
                printf "%s,%s,%s,%s,%s,%s|%s,%s,%s,%s,%s", (has_polls ? polls : "NA"), v(delivered), v(pm), v(pi),
                    v(written), v(connected), v(published), v(mdropped), v(appended), v(rejected), v(idropped)
            }' <<<"$metrics")
        row+=",${#metrics}"
    else
        metrics_failures=$((metrics_failures + 1))
        row="NA,NA,NA,NA,NA,NA|NA,NA,NA,NA,NA,NA"
    fi
    awk -v w="$wall" -v s="$speed" 'BEGIN { printf "%.1f,%.0f,", w, w * s }' >>"$csv"
    local mb="${row##*,}" rest="${row#*|}"
    echo "$rss,$hwm,$fds,$threads,$cpu,${row%%|*},$(cut -d' ' -f1 /proc/loadavg),${rest%,*},$anon,$file,$mb" >>"$csv"
}

start=$(now)
end=$(awk -v a="$start" -v d="$duration" 'BEGIN { printf "%.6f", a + d }')
k=0
last_progress=-1
while :; do
    check_alive
    t=$(now)
    wall=$(awk -v t="$t" -v a="$start" 'BEGIN { printf "%.3f", t - a }')
    if awk -v t="$t" -v e="$end" 'BEGIN { exit !(t >= e) }'; then
        sample "$duration"
        break
    fi
    sample "$wall"
    k=$((k + 1))
    progress=$(awk -v w="$wall" -v d="$duration" 'BEGIN { print int(10 * w / d) }')
    if [ "$progress" != "$last_progress" ]; then
        last_progress=$progress
        echo "soak: $(tail -n 1 "$csv" | awk -F, '{ printf "t=%ss sim=%ss rss=%s kB fds=%s threads=%s polls=%s mqtt_delivered=%s", $1, $2, $3, $5, $6, $8, $9 }')"
    fi
    # Sleep until the next sample is due (no drift), or until the end.
    next_at=$(awk -v a="$start" -v k="$k" -v n="$sample_seconds" -v e="$end" -v t="$(now)" \
        'BEGIN { x = a + k * n; if (x > e) x = e; d = x - t; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$next_at"
done
check_alive
echo "soak: run finished, stopping greenrackd"

# Stop greenrackd now (the trap stops the helpers) and record how it ended.
kill -TERM "$daemon_pid"
daemon_exit=""
for _ in $(seq 200); do
    alive "$daemon_pid" || break
    sleep 0.1
done
if alive "$daemon_pid"; then
    daemon_exit="did not stop within 20 s of SIGTERM"
else
    set +e
    wait "$daemon_pid"
    daemon_exit=$?
    set -e
fi
# Log lines are "<time> <level> [<logger>] <message>".
log_errors=$(awk '$2 == "error" || $2 == "critical" { n++ } END { print n + 0 }' "$out/greenrackd.log")
log_warnings=$(awk '$2 == "warning" || $2 == "warn" { n++ } END { print n + 0 }' "$out/greenrackd.log")
log_damaged=$(grep -c 'damaged record' "$out/greenrackd.log" || true)

# --- summary ---------------------------------------------------------------------------------------
summary=$(awk -F, -v dur="$duration" -v f="$warmup_fraction" -v speed="$speed" -v h="$sim_hours" \
    -v ncsv="$csv" -v mfail="$metrics_failures" -v dexit="$daemon_exit" \
    -v lerr="$log_errors" -v lwarn="$log_warnings" -v ldamaged="$log_damaged" -v tick="$tick_ms" '
    NR == 1 { next }
    {
        n++; w[n] = $1; rss[n] = $3; hwm[n] = $4; fd[n] = $5; th[n] = $6; cpu[n] = $7
        polls[n] = $8; deliv[n] = $9; pm[n] = $10; pi[n] = $11; lines[n] = $12
        pub[n] = $15; mdrop[n] = $16; app[n] = $17; rej[n] = $18; idrop[n] = $19
        anon[n] = $20; file[n] = $21; mbytes[n] = $22
    }
    END {
        warm = f * dur
        first = 0
        for (i = 1; i <= n; i++) if (w[i] >= warm) { first = i; break }
        if (n < 2 || first == 0) { print "ERROR: not enough samples"; print "VERDICT: FAIL (not enough samples)"; exit }
        rmin = rmax = rss[first]; fmin = fmax = fd[first]; tmin = tmax = th[first]
        for (i = first; i <= n; i++) {
            if (rss[i] < rmin) rmin = rss[i]; if (rss[i] > rmax) rmax = rss[i]
            if (fd[i] < fmin) fmin = fd[i]; if (fd[i] > fmax) fmax = fd[i]
            if (th[i] < tmin) tmin = th[i]; if (th[i] > tmax) tmax = th[i]
        }
        spread = 100 * (rmax - rmin) / rmin
        wall = w[n] - w[1]
        cpu_all = wall > 0 ? 100 * (cpu[n] - cpu[1]) / wall : 0
        wall_after = w[n] - w[first]
        cpu_after = wall_after > 0 ? 100 * (cpu[n] - cpu[first]) / wall_after : 0
        printf "run: %.1f wall s = %.1f wall min at speed %s; %.0f simulated s = %.2f simulated h (requested %s h)\n", w[n], w[n] / 60, speed, w[n] * speed, w[n] * speed / 3600, h
        printf "samples: %d (%d after warm-up; warm-up = first %.1f wall s = %.0f %% of the run); metrics scrape failures: %d\n", n, n - first + 1, warm, 100 * f, mfail
        printf "polls done: %s (%.1f per wall s)\n", polls[n], polls[n] / (w[n] > 0 ? w[n] : 1)
        printf "MQTT messages delivered: %s\n", deliv[n]
        printf "InfluxDB lines written: %s\n", lines[n]
        printf "accounting tick: %dms\n", tick
        printf "RSS after warm-up (kB): min %d / max %d / first %d / last %d; spread (max-min)/min = %.2f %%\n", rmin, rmax, rss[first], rss[n], spread
        peak = 0
        for (i = 1; i <= n; i++) if (hwm[i] > peak) peak = hwm[i]
        printf "RSS over the whole run (kB): first sample %d, peak (highest VmHWM sampled) %d\n", rss[1], peak
        # Least-squares slope of RSS after warm-up: the trend behind the spread.
        sx = sy = sxx = sxy = 0; m = n - first + 1
        for (i = first; i <= n; i++) { sx += w[i]; sy += rss[i]; sxx += w[i] * w[i]; sxy += w[i] * rss[i] }
        slope = (m * sxx - sx * sx) > 0 ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : 0
        printf "RSS trend after warm-up (least squares): %+.1f kB per wall minute = %+.0f kB per simulated hour\n", slope * 60, slope * 3600 / speed
        printf "RSS split after warm-up (kB, first -> last): anonymous %d -> %d, file-backed %d -> %d; /metrics body %d -> %d bytes\n", anon[first], anon[n], file[first], file[n], mbytes[first], mbytes[n]
        printf "open fds after warm-up: min %d / max %d / first %d / last %d (first sample of the run: %d)\n", fmin, fmax, fd[first], fd[n], fd[1]
        printf "threads after warm-up: min %d / max %d (last %d)\n", tmin, tmax, th[n]
        printf "CPU: %.1f %% of one core over the run (%.1f %% after warm-up); %.2f CPU s in total\n", cpu_all, cpu_after, cpu[n]
        printf "spool pending at the end: mqtt %s, influxdb %s\n", pm[n], pi[n]
        printf "greenrackd exit status on SIGTERM: %s; log lines with error: %d, warn: %d; \"damaged record\" errors logged (at most one a minute per spool): %d\n", dexit, lerr, lwarn, ldamaged
        # Every record appended to a spool is delivered, still pending, or counted as dropped;
        # anything else went missing (e.g. skipped as "damaged", which no counter shows).
        mmiss = pub[n] - deliv[n] - pm[n] - mdrop[n]
        imiss = app[n] - lines[n] - rej[n] - idrop[n] - pi[n]
        printf "records unaccounted for at the last sample (appended - delivered - pending - dropped): mqtt %d (of %d published), influxdb %d (of %d appended)\n", mmiss, pub[n], imiss, app[n]
        if (mmiss != 0 || imiss != 0) print "DATA CHECK: WARNING: records went missing without being counted as dropped (see greenrackd.log); not part of the memory/fd verdict"
        else print "DATA CHECK: ok"
        reasons = ""
        if (spread > 5) reasons = reasons sprintf("; RSS spread after warm-up %.2f %% > 5 %%", spread)
        if (fd[n] > fd[first]) reasons = reasons sprintf("; fds grew from %d at the end of warm-up to %d at the end", fd[first], fd[n])
        if (fmax > fd[first] + 2) reasons = reasons sprintf("; max fds after warm-up %d > %d + 2", fmax, fd[first])
        if (!(polls[n] > 0)) reasons = reasons "; no polls counted"
        if (!(deliv[n] > 0)) reasons = reasons "; no MQTT message delivered"
        if (!(lines[n] > 0)) reasons = reasons "; no InfluxDB line written"
        if (reasons == "") print "VERDICT: PASS"
        else print "VERDICT: FAIL (" substr(reasons, 3) ")"
    }' "$csv")
{
    echo "bench/soak.sh --sim-hours $sim_hours --speed $speed --sample-seconds $sample_seconds --warmup-fraction $warmup_fraction"
    echo "$summary"
} >"$out/summary.txt"
echo "soak: ------------------------------------------------------------------"
cat "$out/summary.txt"
echo "soak: samples in $csv, logs in $out"
if grep -q '^VERDICT: PASS' "$out/summary.txt"; then exit 0; else exit 1; fi
