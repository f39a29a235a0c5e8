#!/usr/bin/env bash
# Installs every build, runtime and test dependency of greenrack from Debian 12 packages.
# Idempotent: packages already present are skipped; safe to run on every demo/test start.
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang-format clang libclang-rt-14-dev
    libboost-dev libboost-program-options-dev libmodbus-dev libpaho-mqttpp-dev libpaho-mqtt-dev
    libssl-dev libspdlog-dev libfmt-dev catch2 libtomlplusplus-dev nlohmann-json3-dev
    libsystemd-dev systemd dpkg-dev
    mosquitto mosquitto-clients socat python3 curl openssl
    influxdb influxdb-client prometheus prometheus-alertmanager
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
