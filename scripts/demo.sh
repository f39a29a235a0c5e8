#!/usr/bin/env bash
# The demo site: installs what is missing, builds, starts the simulated site (greenrack-sim),
# a local mosquitto broker and greenrackd, and prints one live summary line per poll cycle
# until Ctrl-C. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target greenrackd greenrack-sim -j"$(nproc)"

work=$(mktemp -d "${TMPDIR:-/tmp}/greenrack-demo.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in 15020 15021 15022; do
    if port_open "$port"; then
        echo "demo: 127.0.0.1:$port is already in use (the simulated site needs 15020-15022)" >&2
        exit 1
    fi
done

if port_open 1883; then
    echo "demo: using the MQTT broker already listening on 127.0.0.1:1883"
else
    mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' > "$work/mosquitto.conf"
    "$mosquitto_bin" -c "$work/mosquitto.conf" 2> "$work/mosquitto.log" &
    pids+=($!)
    for _ in $(seq 50); do port_open 1883 && break; sleep 0.1; done
    port_open 1883 || { echo "demo: mosquitto did not start:" >&2; cat "$work/mosquitto.log" >&2; exit 1; }
    echo "demo: started mosquitto on 127.0.0.1:1883"
fi

build/drivers/sim/greenrack-sim --scenario config/examples/demo-site.sim.toml \
    --ready-file "$work/sim.ready" 2> "$work/sim.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/sim.ready" ] && break; sleep 0.1; done
[ -f "$work/sim.ready" ] || { echo "demo: greenrack-sim did not start:" >&2; cat "$work/sim.log" >&2; exit 1; }
echo "demo: simulated site up on 127.0.0.1:15020-15022 (log: $work/sim.log)"
echo "demo: watch the readings with: mosquitto_sub -h 127.0.0.1 -t 'greenrack/v1/demo/#' -v"
echo "demo: Ctrl-C stops everything"

export STATE_DIRECTORY="$work/state"
mkdir -p "$STATE_DIRECTORY"
build/daemon/greenrackd --config "$root/config/examples/demo-site.toml" --summary &
pids+=($!)
wait "${pids[-1]}"
