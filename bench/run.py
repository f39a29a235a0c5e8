#!/usr/bin/env python3
"""greenrack benchmark: greenrackd and a minimal reference poller on one simulated site.

Usage: bench/run.py [--devices N] [--runs R] [--warmup S] [--measure S] [--pdu-profile NAME]
                    [--only greenrackd|reference] [--scaling N,N,...] [--build-dir DIR]
                    [--out DIR] [--smoke] [--wrap "CMD ARGS"] [--fleet K [--standby]]

For each run it starts, on 127.0.0.1 only and on free ports: a private mosquitto, a private
influxd (InfluxDB 1.x) and greenrack-sim serving a generated site of N devices (default 1,000:
93 % rack PDUs with 24 outlets, 6 % PV inverters, 1 % wind turbines, a battery, the grid and the
facility meter), spread over gateways of 100 devices each (one listener, i.e. one TCP port, per
gateway). Then, one after the other on the same site:

  greenrackd      every device polled every second with the whole pipeline on: accounting (one
                  rack per 12 outlets), alerts, MQTT, InfluxDB, /metrics;
  reference       bench/reference_poller.cpp: the same Modbus requests (greenrackd's own read
                  plan, from --check-config --plan) with plain libmodbus reads and one plain MQTT
                  publish per device per second in a single loop: the cost of the protocol work
                  alone.

Each is measured by greenrack-bench-probe, an MQTT subscriber, over a window of --measure seconds
after --warmup seconds: CPU (user + sys from /proc, % of one core) of the target, of the
simulator and of mosquitto; peak RSS (VmHWM); readings delivered / expected; poll-to-publish
latency (receive time - the reading's ts); poll lateness (start of the poll after its 1 s slot);
Modbus requests per cycle against the planner's minimum; start-up to the first publish; and for
greenrackd the accounting tick compute time (greenrack_self_accounting_tick_seconds). Before the
runs, greenrack-bench-tick times the accounting tick exactly, in-process, at 10,000 outlets
(--smoke: 480).

--fleet K: the same site split over K shards by gateway (gateway g's devices, the plant devices
of the last gateways included, in shard-<g mod K>), run as K shard daemons plus one aggregator
(agg-1; --standby adds agg-2: both compute every tick, only the holder of the lease publishes,
and either may win it at start) against the same simulator, broker and database, every daemon
with the whole pipeline on and its own state directory and /metrics port. Measured over the same
window (opened between two ticks' publications, so that it holds measure / 5 ticks): each daemon's
CPU and peak RSS; a shard's Modbus requests and parts published; the aggregator's ticks complete
and partial, parts received per shard and result, and accounting tick compute time (from
/metrics deltas over the window); the age of each site state at receipt (receipt - its ts, the
end of the tick: includes accounting.publish_delay, 2 s) and the size of each shard's part
message, both from mosquitto_sub; the device states delivered (the probe, every shard together);
warnings and errors in each daemon's log. Only the fleet runs unless --only is given: then those
targets run first on the same site, for comparison.

Output: one line per figure, a ratio line, and one machine-readable line starting with
"BENCH-SUMMARY " (JSON) per run; with --runs > 1 the medians, and the targets of
bench/RESULTS.md checked against them. Everything (configs, logs, probe output, results.json)
stays in --out (default: a new directory under $TMPDIR; removed after a passing --smoke run). --scaling runs the whole thing at each
device count and prints a table. --smoke: a 10-second check that the harness works (100 devices,
2 s warm-up, 5 s window, both targets); it fails only when a program fails or nothing arrives.

Exit status: 0 done (targets are reported, not enforced; a target that had to be killed at the
end is reported with a WARNING line), 1 a program failed to start, died during the window or
delivered nothing, 64 bad usage.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
GATEWAY_SIZE = 100  # devices behind one gateway (one TCP port)
INTERVAL_S = 1.0
TICK_S = 5.0  # accounting.tick (the default: the generated site does not set it)

# The targets of issue 9 (bench/RESULTS.md), checked on the medians.
TARGETS = [
    ("cpu_ratio", "<=", 1.5, "greenrackd CPU / reference CPU"),
    ("rss_mb", "<=", 25.0, "greenrackd peak RSS (MB)"),
    ("delivered_pct", ">=", 100.0, "readings delivered (%)"),
    ("latency_p99_ms", "<=", 10.0, "poll-to-publish p99 (ms)"),
    ("lateness_p99_ms", "<=", 50.0, "poll lateness p99 (ms)"),
    ("tick_p99_ms", "<=", 2.0, "accounting tick p99 in the daemon, histogram bound (ms)"),
    ("tick_10k_p99_ms", "<=", 2.0, "accounting tick p99 at 10,000 outlets, timed (ms)"),
    ("startup_s", "<=", 1.0, "start-up to first publish (s)"),
]


class UsageParser(argparse.ArgumentParser):
    """Bad usage exits 64, like the project's other tools."""

    def error(self, message):
        print(f"bench/run.py: {message} (see --help)", file=sys.stderr)
        sys.exit(64)


class Failure(Exception):
    """A program failed: the run cannot be measured."""


def find_program(name):
    for directory in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin", "/usr/bin"]:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise Failure(f"{name} not found (run scripts/install-deps.sh)")


def free_ports(count):
    sockets = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def status_kb(pid, key):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Processes:
    """Everything started here; stopped newest first (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self, out):
        self.out = out
        self.procs = []  # (name, Popen, log file)

    def start(self, name, argv, watch=True):
        """watch: the process must run until stopped (check_alive() fails otherwise)."""
        log = open(self.out / f"{name}.log", "wb")
        # Its own process group: stopping it also stops what it started (a --wrap profiler's
        # child), never the harness.
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.out,
                                start_new_session=True)
        self.procs.append((name, proc, log, watch))
        return proc

    def stop(self, proc, timeout=10.0):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of its group still running
        except ProcessLookupError:
            pass
        return proc.returncode

    def stop_all(self):
        for _, proc, log, _ in reversed(self.procs):
            self.stop(proc)
            log.close()
        self.procs.clear()

    def forget(self, proc):
        """A process stopped on purpose: no longer watched."""
        self.procs = [entry if entry[1] is not proc else (*entry[:3], False)
                      for entry in self.procs]

    def check_alive(self):
        for name, proc, _, watch in self.procs:
            if watch and proc.poll() is not None:
                raise Failure(f"{name} exited with status {proc.returncode}: "
                              f"see {self.out / (name + '.log')}")

    def wait_port(self, name, proc, port, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if proc.poll() is not None:
                raise Failure(f"{name} exited at start-up: see {self.out / (name + '.log')}")
            if port_open(port):
                return
            time.sleep(0.1)
        raise Failure(f"{name} did not listen on 127.0.0.1:{port} within {seconds} s")


# --- the site -------------------------------------------------------------------------------------


def site_devices(n):
    """(id, role, profile-key) for n devices: 6 % PV, 1 % wind, battery, grid, facility, PDUs."""
    pv = max(1, round(n * 0.06))
    wind = max(1, round(n * 0.01))
    pdus = n - pv - wind - 3
    if pdus < 1:
        raise SystemExit("bench/run.py: --devices must be at least 6")
    devices = [(f"pdu-{i:04d}", "pdu") for i in range(1, pdus + 1)]
    devices += [(f"pv-{i:03d}", "pv") for i in range(1, pv + 1)]
    devices += [(f"wind-{i:03d}", "wind") for i in range(1, wind + 1)]
    devices += [("battery-1", "battery"), ("grid-meter", "grid"), ("facility-meter", "facility")]
    return devices


PROFILES = {"pv": "pv_sunspec_103", "wind": "wind_midnite_classic", "battery": "battery_generic",
            "grid": "meter_grid_4q", "facility": "meter_facility_umg604"}


def write_site(out, n, pdu_profile, gateway_ports, mqtt_port, influx_port, metrics_port,
               fleet=0, standby=False, fleet_ports=()):
    """The site's files: greenrackd.toml (a single daemon) and with fleet=K the files of K
    shards (gateway g's devices in shard-<g mod K>) and of one or two aggregators."""
    devices = site_devices(n)
    placed = []  # (id, kind, gateway index, unit id)
    for index, (device_id, kind) in enumerate(devices):
        placed.append((device_id, kind, index // GATEWAY_SIZE, index % GATEWAY_SIZE + 1))
    pv_count = sum(1 for _, kind in devices if kind == "pv")
    pdu_count = sum(1 for _, kind in devices if kind == "pdu")
    # PV peak about 80 % of the IT load at noon: the battery and the grid both work.
    pv_nameplate = round(pdu_count * 2 * 4000 * 0.8 / pv_count / 1000) * 1000

    sim = ["[sim]", "seed = 7", 'start = "now"', "speed = 1.0", 'step = "1s"', ""]
    for g, port in enumerate(gateway_ports):
        sim += ["[[listener]]", f'name = "gw{g + 1:02d}"', f"port = {port}", ""]
    for device_id, kind, gateway, unit in placed:
        profile = pdu_profile if kind == "pdu" else PROFILES[kind]
        sim += ["[[device]]", f'id = "{device_id}"', f'profile = "{profile}"',
                f'listener = "gw{gateway + 1:02d}"', f"unit_id = {unit}"]
        if kind == "pdu":
            sim.append(f'racks = [{{ name = "{device_id}-a", base_load_w = 4000, '
                       f'pattern = "random_walk", amplitude = 0.05, outlets = 12 }}, '
                       f'{{ name = "{device_id}-b", base_load_w = 4000, pattern = "diurnal", '
                       f'amplitude = 0.1, outlets = 12 }}]')
            if pdu_profile == "rack_pdu_px3_24":
                sim.append("values = { register_set_version = 1, inlet_count = 1, "
                           "ocp_count = 2, outlet_count = 24 }")
        elif kind == "pv":
            sim += [f"nameplate_w = {pv_nameplate}", "cloudiness = 0.2"]
        elif kind == "wind":
            sim += ["rated_w = 5000"]
        elif kind == "battery":
            sim += [f"capacity_wh = {pdu_count * 8000}", f"max_charge_w = {pdu_count * 2000}",
                    f"max_discharge_w = {pdu_count * 2000}", "initial_soc = 60"]
        elif kind == "facility":
            sim += ["cooling_fraction = 0.2"]
        sim.append("")
    (out / "site.sim.toml").write_text("\n".join(sim))

    def config(state, metrics, shards=None):
        """A daemon's configuration: shards maps a gateway index to its shard (fleet files)."""
        cfg = ['[site]', 'id = "bench"', '', '[daemon]', f'state_directory = "{out / state}"',
               f'profile_dirs = ["{REPO / "bench" / "profiles"}", '
               f'"{REPO / "config" / "profiles"}"]',
               'log_level = "info"', '',
               '[mqtt]', f'uri = "tcp://127.0.0.1:{mqtt_port}"', 'max_inflight = 4096', '',
               '[influxdb]', 'enabled = true', f'url = "http://127.0.0.1:{influx_port}"',
               'database = "greenrack"', '',
               '[spool]', 'max_size = "512MiB"', '',
               '[prometheus]', f'listen = "127.0.0.1:{metrics}"', '']
        for g, port in enumerate(gateway_ports):
            cfg += ["[[bus]]", f'id = "gw{g + 1:02d}"', 'host = "127.0.0.1"', f"port = {port}", ""]
        for device_id, kind, gateway, unit in placed:
            profile = pdu_profile if kind == "pdu" else PROFILES[kind]
            cfg += ["[[device]]", f'id = "{device_id}"', f'bus = "gw{gateway + 1:02d}"',
                    f"unit_id = {unit}", f'profile = "{profile}"', 'poll_interval = "1s"']
            if shards is not None:
                cfg.append(f'shard = "{shards(gateway)}"')
            cfg.append("")
        for device_id, kind, _, _ in placed:
            if kind == "pdu":
                for half, (first, last) in (("a", (1, 12)), ("b", (13, 24))):
                    cfg += ["[[rack]]", f'id = "{device_id}-{half}"',
                            f'outlets = [{{ device = "{device_id}", from = {first}, '
                            f'to = {last} }}]', ""]
        return cfg

    (out / "greenrackd.toml").write_text("\n".join(config("state", metrics_port)))
    fleet_daemons = []  # aggregators first, then the shards
    if fleet:
        def shard_of(gateway):
            return f"shard-{gateway % fleet}"

        names = [(f"agg-{i + 1}", "aggregator") for i in range(1 + int(standby))]
        names += [(f"shard-{k}", "shard") for k in range(fleet)]
        for (name, role), port in zip(names, fleet_ports):
            table = (["[fleet]", 'role = "aggregator"', f'instance = "{name}"'] if role ==
                     "aggregator" else ["[fleet]", 'role = "shard"', f'shard = "{name}"'])
            path = out / f"fleet-{name}.toml"
            path.write_text("\n".join(config(f"state-{name}", port, shard_of) + table) + "\n")
            devices = [d for d in placed if role == "aggregator" or shard_of(d[2]) == name]
            racks = 2 * sum(1 for d in devices if d[1] == "pdu")
            fleet_daemons.append({"name": name, "role": role, "config": path, "port": port,
                                  "devices": 0 if role == "aggregator" else len(devices),
                                  "racks": racks})
    return placed, pdu_count * 24, fleet_daemons


def read_plans(greenrackd, config):
    """Device -> [(function, start, count)] from greenrackd --check-config --plan."""
    result = subprocess.run([greenrackd, "--config", str(config), "--check-config", "--plan"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise Failure(f"greenrackd --check-config failed: {result.stderr.strip()}")
    plans, current = {}, None
    for line in result.stdout.splitlines():
        if line.startswith("device "):
            current = line.split()[1]
            plans[current] = []
        elif line.startswith("FC0") and current is not None:
            fc = int(line[2:4])
            span = line.split()[1]  # "40004..40113"
            first, last = (int(x) for x in span.split(".."))
            plans[current].append((fc, first, last - first + 1))
    return plans


# --- measuring one target ---------------------------------------------------------------------


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def histogram_quantile(text, name, q):
    """Upper bound of the bucket holding quantile q (seconds), from a Prometheus histogram."""
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le),
                            float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    buckets.sort()
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return None


def measure(name, argv, procs, sim_proc, broker_proc, topic, devices, warmup, window, out,
            metrics_port=None):
    probe_json = out / f"{name}-probe.json"
    probe = procs.start(f"{name}-probe", watch=False, argv=[
        str(BIN["probe"]), "--mqtt", f"tcp://127.0.0.1:{PORTS['mqtt']}", "--topic", topic,
        "--devices", str(devices), "--interval-ms", str(int(INTERVAL_S * 1000)),
        "--warmup-s", str(warmup), "--measure-s", str(window), "--out", str(probe_json)])
    time.sleep(0.5)  # the probe subscribes before the first publish
    started = time.time()
    target = procs.start(name, argv)
    # The probe's window opens warmup s after the probe started.
    time.sleep(max(0.0, started - 0.5 + warmup - time.time()))
    procs.check_alive()
    t0 = time.time()
    cpu0 = {p: cpu_seconds(p.pid) for p in (target, sim_proc, broker_proc)}
    metrics0 = scrape(metrics_port) if metrics_port else ""
    time.sleep(window)
    procs.check_alive()
    t1 = time.time()
    cpu1 = {p: cpu_seconds(p.pid) for p in (target, sim_proc, broker_proc)}
    metrics1 = scrape(metrics_port) if metrics_port else ""
    rss_kb = status_kb(target.pid, "VmHWM")
    try:
        probe.wait(timeout=window + warmup + 30)
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"{name}: the probe did not finish") from exc
    stop_started = time.time()
    status = procs.stop(target)
    procs.forget(target)
    result = json.loads(probe_json.read_text())
    wall = t1 - t0
    figures = {
        "cpu_pct": 100.0 * (cpu1[target] - cpu0[target]) / wall,
        "sim_cpu_pct": 100.0 * (cpu1[sim_proc] - cpu0[sim_proc]) / wall,
        "broker_cpu_pct": 100.0 * (cpu1[broker_proc] - cpu0[broker_proc]) / wall,
        "rss_mb": rss_kb / 1024.0,
        "delivered": result["messages"],
        "expected": result["expected"],
        "delivered_pct": 100.0 * result["delivered_ratio"],
        "latency_p50_ms": result["latency_ms"]["p50"],
        "latency_p99_ms": result["latency_ms"]["p99"],
        "lateness_p50_ms": result["lateness_ms"]["p50"],
        "lateness_p99_ms": result["lateness_ms"]["p99"],
        "startup_s": (result["first_message_unix_ms"] / 1000.0 - started)
        if result.get("first_message_unix_ms") else None,
    }
    # A target that needed SIGKILL (it ignored SIGTERM for 10 s, e.g. an overloaded event loop)
    # is reported, not hidden: its figures stand, with this note.
    figures["exit_status"] = status
    figures["stop_s"] = time.time() - stop_started
    if metrics_port:
        requests = metric_sum(metrics1, "greenrack_self_modbus_requests_total") - metric_sum(
            metrics0, "greenrack_self_modbus_requests_total")
        figures["requests_per_cycle"] = requests / (wall / INTERVAL_S)
        for q, key in ((0.5, "tick_p50_ms"), (0.99, "tick_p99_ms")):
            bound = histogram_quantile(metrics1, "greenrack_self_accounting_tick_seconds", q)
            figures[key] = None if bound is None else bound * 1000.0
    else:
        line = [x for x in (out / f"{name}.log").read_text().splitlines()
                if x.startswith("reference-poller:")]
        if line:
            fields = dict(f.split("=") for f in line[-1].split()[1:])
            cycles = max(1, int(fields["cycles"]))
            figures["requests_per_cycle"] = (int(fields["reads_ok"]) +
                                             int(fields["reads_failed"])) / cycles
    return figures


# --- measuring a fleet: K shards and one or two aggregators -------------------------------------


def metric_samples(text, name):
    """{labels (sorted tuple of (name, value)): value} of one metric in a /metrics text."""
    samples = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) + 1:].rsplit("} ", 1)
            key = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)))
        elif line.startswith(name + " "):
            key, value = (), line.rsplit(" ", 1)[1]
        else:
            continue
        samples[key] = samples.get(key, 0.0) + float(value)
    return samples


def metric_delta(before, after, name, **match):
    """{labels without the matched ones: after - before} of one metric, samples matching match."""
    old = metric_samples(before, name)
    deltas = {}
    for key, value in metric_samples(after, name).items():
        labels = dict(key)
        if any(labels.get(k) != v for k, v in match.items()):
            continue
        rest = tuple((k, v) for k, v in key if k not in match and k != "site")
        deltas[rest] = deltas.get(rest, 0.0) + value - old.get(key, 0.0)
    return deltas


def window_histogram(before, after, name):
    """(count, {q: upper bucket bound in s}) of a histogram's observations between two scrapes."""
    buckets = {}
    for key, value in metric_delta(before, after, name + "_bucket").items():
        le = dict(key).get("le")
        if le is not None:
            bound = float("inf") if le == "+Inf" else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + value
    total = buckets.get(float("inf"), 0.0)
    quantiles = {}
    for q in (0.5, 0.99):
        quantiles[q] = None
        if total > 0:
            for bound in sorted(buckets):
                if buckets[bound] >= q * total:
                    quantiles[q] = bound
                    break
    return int(total), quantiles


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def read_subscriber(path, t0, t1):
    """Lines "<receive unix s> <topic> <rest>" of a mosquitto_sub -F log received in [t0, t1]."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split(" ", 2)
        try:
            received = float(fields[0])
        except ValueError:
            continue  # a message of mosquitto_sub itself
        if t0 <= received <= t1 and len(fields) == 3:
            lines.append((received, fields[1], fields[2]))
    return lines


def log_problems(path):
    """(warnings, errors, alert transitions, first few warnings or errors) of a daemon's log.
    Alert transitions are logged at the alert's severity (the bench site is mostly non-green:
    rack_nongreen fires for every rack 2 min in); they are counted apart."""
    warnings, errors, alerts, first = 0, 0, 0, []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split(None, 3)  # "2026-11-29T09:05:57.168 warning [fleet] ..."
        level = fields[1] if len(fields) > 1 else ""
        if len(fields) > 3 and fields[2] == "[alerts]" and fields[3].startswith("alert "):
            alerts += 1
            continue
        if level in ("error", "critical"):
            errors += 1
        elif level in ("warning", "warn"):
            warnings += 1
        else:
            continue
        if len(first) < 3:
            first.append(line.strip()[:200])
    return warnings, errors, alerts, first


def measure_fleet(daemons, procs, sim_proc, broker_proc, influx_proc, devices, warmup, window,
                  out):
    """Start every daemon of the fleet (aggregators first), measure each after warmup s over
    window s, stop them; the device states are counted by the probe, the site states and the
    parts by two mosquitto_sub."""
    base = "greenrack/v1/bench"
    # Open the window half a second before a 5 s boundary: parts and site states go out about
    # publish_delay (2 s) after a tick ends, so every daemon's window (each is scraped in turn)
    # holds the same ticks, measure / 5 of them.
    time.sleep((TICK_S - 0.5 - (time.time() + warmup)) % TICK_S)
    probe_json = out / "fleet-probe.json"
    probe = procs.start("fleet-probe", watch=False, argv=[
        str(BIN["probe"]), "--mqtt", f"tcp://127.0.0.1:{PORTS['mqtt']}", "--topic",
        f"{base}/device/+/state", "--devices", str(devices), "--interval-ms",
        str(int(INTERVAL_S * 1000)), "--warmup-s", str(warmup), "--measure-s", str(window),
        "--out", str(probe_json)])
    sub = [find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(PORTS["mqtt"]), "-R",
           "-W", str(warmup + window + 60)]
    # %U: receive time (unix s with ns), %t topic, %l payload length, %p payload.
    procs.start("fleet-sub-site", watch=False,
                argv=sub + ["-t", f"{base}/site/state", "-F", "%U %t %p"])
    procs.start("fleet-sub-parts", watch=False,
                argv=sub + ["-t", f"{base}/fleet/part/+", "-F", "%U %t %l"])
    time.sleep(0.5)  # the subscribers are in before the first publish
    started = time.time()
    for d in daemons:
        d["proc"] = procs.start(d["name"], [str(BIN["greenrackd"]), "--config", str(d["config"])])
    time.sleep(max(0.0, started - 0.5 + warmup - time.time()))
    procs.check_alive()
    others = {"sim": sim_proc, "mosquitto": broker_proc, "influxd": influx_proc}
    everyone = [d["proc"] for d in daemons] + list(others.values())
    t0 = time.time()
    cpu0 = {p: cpu_seconds(p.pid) for p in everyone}
    metrics0 = {d["name"]: scrape(d["port"]) for d in daemons}
    time.sleep(window)
    procs.check_alive()
    t1 = time.time()
    cpu1 = {p: cpu_seconds(p.pid) for p in everyone}
    metrics1 = {d["name"]: scrape(d["port"]) for d in daemons}
    wall = t1 - t0
    figures = {"shards": sum(1 for d in daemons if d["role"] == "shard"),
               "aggregators": sum(1 for d in daemons if d["role"] == "aggregator"),
               "window_s": wall, "daemons": {}}
    for d in daemons:
        before, after = metrics0[d["name"]], metrics1[d["name"]]
        f = {"role": d["role"], "devices": d["devices"], "racks": d["racks"],
             "cpu_pct": 100.0 * (cpu1[d["proc"]] - cpu0[d["proc"]]) / wall,
             "rss_mb": status_kb(d["proc"].pid, "VmHWM") / 1024.0,
             "scraped": bool(before and after)}
        ticks, quantiles = window_histogram(before, after, "greenrack_self_accounting_tick_seconds")
        f["ticks_computed"] = ticks
        f["tick_p50_ms"] = None if quantiles[0.5] is None else quantiles[0.5] * 1000.0
        f["tick_p99_ms"] = None if quantiles[0.99] is None else quantiles[0.99] * 1000.0
        if d["role"] == "shard":
            requests = sum(metric_delta(before, after,
                                        "greenrack_self_modbus_requests_total").values())
            f["requests_per_cycle"] = requests / (wall / INTERVAL_S)
            f["parts_published"] = sum(metric_delta(
                before, after, "greenrack_fleet_parts_published_total").values())
        else:
            ticks_total = metric_delta(before, after, "greenrack_fleet_ticks_total")
            f["ticks_complete"] = ticks_total.get((("result", "complete"),), 0.0)
            f["ticks_partial"] = ticks_total.get((("result", "partial"),), 0.0)
            parts = {}
            for key, value in metric_delta(before, after, "greenrack_fleet_parts_total").items():
                labels = dict(key)
                parts.setdefault(labels.get("shard", "?"), {})[labels.get("result", "?")] = value
            f["parts"] = parts
            f["missing_ticks"] = {dict(k).get("shard", "?"): v for k, v in metric_delta(
                before, after, "greenrack_fleet_shard_missing_ticks_total").items()}
            f["corrections"] = sum(metric_delta(
                before, after, "greenrack_fleet_corrections_total").values())
            f["active"] = sum(metric_samples(after, "greenrack_fleet_aggregator_active").values())
        figures["daemons"][d["name"]] = f
    for name, proc in others.items():
        figures[f"{name}_cpu_pct"] = 100.0 * (cpu1[proc] - cpu0[proc]) / wall
    try:
        probe.wait(timeout=window + warmup + 30)
    except subprocess.TimeoutExpired as exc:
        raise Failure("fleet: the probe did not finish") from exc
    for d in reversed(daemons):  # shards first, then the aggregators
        stop_started = time.time()
        status = procs.stop(d["proc"])
        procs.forget(d["proc"])
        figures["daemons"][d["name"]].update(exit_status=status,
                                             stop_s=time.time() - stop_started)
    for d in daemons:
        warnings, errors, alerts, first = log_problems(out / f"{d['name']}.log")
        figures["daemons"][d["name"]].update(log_warnings=warnings, log_errors=errors,
                                             log_alert_transitions=alerts, log_first=first)
    result = json.loads(probe_json.read_text())
    figures.update(delivered=result["messages"], expected=result["expected"],
                   delivered_pct=100.0 * result["delivered_ratio"],
                   latency_p50_ms=result["latency_ms"]["p50"],
                   latency_p99_ms=result["latency_ms"]["p99"],
                   lateness_p99_ms=result["lateness_ms"]["p99"])

    # Site states published in the window: their age at receipt (ts is the end of the tick).
    ages, valid, first_site = [], 0, None
    for received, _, payload in read_subscriber(out / "fleet-sub-site.log", started, t1):
        try:
            state = json.loads(payload)
        except ValueError:
            continue
        first_site = first_site or received
        if received >= t0:
            ages.append(received * 1000.0 - state["ts"])
            valid += bool(state.get("valid"))
    figures.update(site_states=len(ages), site_states_valid=valid,
                   site_age_p50_ms=percentile(ages, 0.5), site_age_max_ms=max(ages, default=None),
                   startup_site_state_s=None if first_site is None else first_site - started)
    # One part message per shard per tick: its size on the wire (payload bytes).
    sizes = {}
    for _, topic, length in read_subscriber(out / "fleet-sub-parts.log", t0, t1):
        sizes.setdefault(topic.rsplit("/", 1)[1], []).append(int(length))
    figures["part_bytes"] = {shard: {"median": statistics.median(v), "min": min(v),
                                     "max": max(v), "parts": len(v)}
                             for shard, v in sorted(sizes.items())}
    return figures


def report_fleet(figures, n):
    f = figures["fleet"]
    print(f"fleet: {f['shards']} shards + {f['aggregators']} aggregator(s), {n} devices; every "
          f"program shares this machine's {os.cpu_count()} cores")
    for name, d in f["daemons"].items():
        if d["role"] == "shard":
            what = f"shard, {d['devices']} devices, {d['racks']} racks of its PDUs"
            per = (f" ({fmt(d['cpu_pct'] * 1000.0 / d['devices'], ' %')} per 1,000 devices)"
                   if d["devices"] else "")
        else:
            what = (f"aggregator ({'active' if d['active'] else 'standby'} at the end of the "
                    f"window), {d['racks']} racks")
            per = f" ({fmt(d['cpu_pct'] * 1000.0 / d['racks'], ' %')} per 1,000 racks)"
        print(f"{name}: {what}")
        print(f"{name}: CPU {fmt(d['cpu_pct'], ' %')} of one core{per}")
        print(f"{name}: peak RSS {fmt(d['rss_mb'], ' MB')}")
        if d["role"] == "shard":
            print(f"{name}: Modbus requests per cycle {fmt(d['requests_per_cycle'])}, parts "
                  f"published {fmt(d['parts_published'], '', 0)}")
        else:
            print(f"{name}: ticks complete {fmt(d['ticks_complete'], '', 0)}, partial "
                  f"{fmt(d['ticks_partial'], '', 0)}")
            for shard, results in sorted(d["parts"].items()):
                counts = ", ".join(f"{r} {v:.0f}" for r, v in sorted(results.items()) if v)
                print(f"{name}: parts from {shard}: {counts or 'none'}")
            print(f"{name}: corrections {fmt(d['corrections'], '', 0)}")
        if d["ticks_computed"]:
            print(f"{name}: accounting tick p50 <= {fmt(d['tick_p50_ms'], ' ms', 3)}, p99 <= "
                  f"{fmt(d['tick_p99_ms'], ' ms', 3)} ({d['ticks_computed']} ticks in the "
                  "window; histogram bucket bounds; the engine on the merged parts: the "
                  "shards' part computation is not on /metrics)")
        print(f"{name}: log {d['log_warnings']} warnings, {d['log_errors']} errors (besides "
              f"{d['log_alert_transitions']} alert transitions)")
        for line in d["log_first"]:
            print(f"{name}:   {line}")
        if d.get("exit_status") not in (0, -signal.SIGTERM):
            print(f"{name}: WARNING: stopped with status {d['exit_status']} after "
                  f"{fmt(d['stop_s'], ' s')} (SIGTERM, then SIGKILL after 10 s)")
    print(f"fleet: site states in the window {f['site_states']} ({f['site_states_valid']} valid), "
          f"age at receipt (receipt - ts, the end of the tick) p50 "
          f"{fmt(f['site_age_p50_ms'], ' ms', 0)}, max {fmt(f['site_age_max_ms'], ' ms', 0)}")
    print(f"fleet: start-up to the first site state {fmt(f['startup_site_state_s'], ' s', 2)}")
    for shard, size in f["part_bytes"].items():
        print(f"fleet: part message of {shard}: {size['median']:.0f} bytes (min {size['min']}, "
              f"max {size['max']}, {size['parts']} parts in the window)")
    print(f"fleet: device states delivered {f['delivered']} / {f['expected']} "
          f"({fmt(f['delivered_pct'], ' %', 2)}), poll-to-publish p50 "
          f"{fmt(f['latency_p50_ms'], ' ms', 2)}, p99 {fmt(f['latency_p99_ms'], ' ms', 2)}, "
          f"lateness p99 {fmt(f['lateness_p99_ms'], ' ms', 2)}")
    total = sum(d["cpu_pct"] for d in f["daemons"].values())
    print(f"fleet: CPU of every greenrackd together {fmt(total, ' %')}; simulator "
          f"{fmt(f['sim_cpu_pct'], ' %')}, mosquitto {fmt(f['mosquitto_cpu_pct'], ' %')}, "
          f"influxd {fmt(f['influxd_cpu_pct'], ' %')}")
    single = figures.get("greenrackd")
    if single:
        rss = sum(d["rss_mb"] for d in f["daemons"].values())
        print(f"fleet vs single greenrackd (same site, same run): CPU {fmt(total, ' %')} vs "
              f"{fmt(single['cpu_pct'], ' %')}, RSS summed {fmt(rss, ' MB')} vs "
              f"{fmt(single['rss_mb'], ' MB')}")


# --- one run ------------------------------------------------------------------------------------

BIN = {}
PORTS = {}


def run_once(args, n, out, run_index):
    out.mkdir(parents=True, exist_ok=True)
    procs = Processes(out)
    gateways = (n + GATEWAY_SIZE - 1) // GATEWAY_SIZE
    fleet_count = (args.fleet + 1 + int(args.standby)) if args.fleet else 0
    ports = free_ports(gateways + 4 + fleet_count)
    PORTS.update(mqtt=ports[0], influx=ports[1], influx_rpc=ports[2], metrics=ports[3])
    gateway_ports, fleet_ports = ports[4:4 + gateways], ports[4 + gateways:]
    placed, outlets, fleet_daemons = write_site(
        out, n, args.pdu_profile, gateway_ports, PORTS["mqtt"], PORTS["influx"],
        PORTS["metrics"], fleet=args.fleet, standby=args.standby, fleet_ports=fleet_ports)
    try:
        (out / "mosquitto.conf").write_text(
            f"listener {PORTS['mqtt']} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 1000000\nmax_inflight_messages 0\nlog_dest stderr\n")
        broker = procs.start("mosquitto", [find_program("mosquitto"), "-c",
                                           str(out / "mosquitto.conf")])
        procs.wait_port("mosquitto", broker, PORTS["mqtt"], 10)

        (out / "influxdb").mkdir(exist_ok=True)
        (out / "influxdb.conf").write_text(f"""reporting-enabled = false
bind-address = "127.0.0.1:{PORTS['influx_rpc']}"
[meta]
  dir = "{out}/influxdb/meta"
[data]
  dir = "{out}/influxdb/data"
  wal-dir = "{out}/influxdb/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:{PORTS['influx']}"
  auth-enabled = false
  log-enabled = false
  unix-socket-enabled = false
""")
        influxd = procs.start("influxd", [find_program("influxd"), "-config",
                                          str(out / "influxdb.conf")])
        procs.wait_port("influxd", influxd, PORTS["influx"], 30)
        query = urllib.parse.urlencode({"q": 'CREATE DATABASE "greenrack"'}).encode()
        urllib.request.urlopen(f"http://127.0.0.1:{PORTS['influx']}/query", data=query,
                               timeout=10).read()

        ready = out / "sim.ready"
        sim = procs.start("sim", [str(BIN["sim"]), "--scenario", str(out / "site.sim.toml"),
                                  "--profiles", str(REPO / "bench" / "profiles"), "--profiles",
                                  str(REPO / "config" / "profiles"), "--ready-file", str(ready)])
        deadline = time.time() + 60
        while not ready.exists():
            if sim.poll() is not None or time.time() > deadline:
                raise Failure(f"greenrack-sim did not become ready: see {out / 'sim.log'}")
            time.sleep(0.1)

        plans = read_plans(BIN["greenrackd"], out / "greenrackd.toml")
        planner_min = sum(len(requests) for requests in plans.values())
        figures = {"devices": n, "outlets_in_racks": outlets, "planner_min_requests": planner_min,
                   "run": run_index}
        only = args.only or ("none" if args.fleet else "both")
        targets = {"both": ["greenrackd", "reference"], "none": []}.get(only, [only])
        if "greenrackd" in targets:
            figures["greenrackd"] = measure(
                "greenrackd", args.wrap.split() + [str(BIN["greenrackd"]), "--config",
                                                   str(out / "greenrackd.toml")],
                procs, sim, broker, "greenrack/v1/bench/device/+/state", n, args.warmup,
                args.measure, out, PORTS["metrics"])
        if "reference" in targets:
            gateway_port = {f"gw{g + 1:02d}": port for g, port in enumerate(gateway_ports)}
            lines = []
            for device_id, _, gateway, unit in placed:
                requests = " ".join(f"{fc}:{start}:{count}" for fc, start, count in
                                    plans[device_id])
                lines.append(f"{device_id} 127.0.0.1 {gateway_port[f'gw{gateway + 1:02d}']} "
                             f"{unit} {requests}")
            (out / "reference-devices.txt").write_text("\n".join(lines) + "\n")
            figures["reference"] = measure(
                "reference", [str(BIN["reference"]), "--devices",
                              str(out / "reference-devices.txt"), "--mqtt",
                              f"tcp://127.0.0.1:{PORTS['mqtt']}", "--topic-prefix",
                              "greenrack-reference/v1/bench"],
                procs, sim, broker, "greenrack-reference/v1/bench/device/+/state", n,
                args.warmup, args.measure, out)
        if "greenrackd" in figures and "reference" in figures:
            ref_cpu = figures["reference"]["cpu_pct"]
            figures["cpu_ratio"] = figures["greenrackd"]["cpu_pct"] / ref_cpu if ref_cpu else None
            ref_rss = figures["reference"]["rss_mb"]
            figures["rss_ratio"] = figures["greenrackd"]["rss_mb"] / ref_rss if ref_rss else None
        if args.fleet:
            figures["fleet"] = measure_fleet(fleet_daemons, procs, sim, broker, influxd, n,
                                             args.warmup, args.measure, out)
        return figures
    finally:
        procs.stop_all()


def fmt(value, unit="", digits=1):
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def report(figures):
    n = figures["devices"]
    print(f"--- run {figures['run']}: {n} devices, {figures['outlets_in_racks']} outlets in racks, "
          f"planner minimum {figures['planner_min_requests']} requests per cycle")
    for name in ("greenrackd", "reference"):
        f = figures.get(name)
        if not f:
            continue
        print(f"{name}: CPU {fmt(f['cpu_pct'], ' %')} of one core")
        print(f"{name}: peak RSS {fmt(f['rss_mb'], ' MB')}")
        print(f"{name}: delivered {f['delivered']} / {f['expected']} "
              f"({fmt(f['delivered_pct'], ' %', 2)})")
        print(f"{name}: poll lateness p50 {fmt(f['lateness_p50_ms'], ' ms', 2)}, "
              f"p99 {fmt(f['lateness_p99_ms'], ' ms', 2)}")
        print(f"{name}: poll-to-publish p50 {fmt(f['latency_p50_ms'], ' ms', 2)}, "
              f"p99 {fmt(f['latency_p99_ms'], ' ms', 2)}")
        print(f"{name}: Modbus requests per cycle {fmt(f.get('requests_per_cycle'))} "
              f"(planner minimum {figures['planner_min_requests']})")
        if "tick_p50_ms" in f:
            print(f"{name}: accounting tick p50 <= {fmt(f['tick_p50_ms'], ' ms', 3)}, "
                  f"p99 <= {fmt(f['tick_p99_ms'], ' ms', 3)} "
                  f"({figures['outlets_in_racks']} outlets; histogram bucket bounds)")
        print(f"{name}: start-up to first publish {fmt(f['startup_s'], ' s', 2)}")
        print(f"{name}: simulator CPU {fmt(f['sim_cpu_pct'], ' %')}, mosquitto CPU "
              f"{fmt(f['broker_cpu_pct'], ' %')}")
        if f.get("exit_status") not in (0, -signal.SIGTERM):
            print(f"{name}: WARNING: stopped with status {f['exit_status']} after "
                  f"{fmt(f['stop_s'], ' s')} (SIGTERM, then SIGKILL after 10 s)")
    if figures.get("cpu_ratio") is not None:
        print(f"ratio greenrackd/reference: CPU {fmt(figures['cpu_ratio'], 'x', 2)}, "
              f"RSS {fmt(figures['rss_ratio'], 'x', 2)}")
    if "fleet" in figures:
        report_fleet(figures, n)
    print("BENCH-SUMMARY " + json.dumps(figures, sort_keys=True))


def medians(runs):
    def pick(path):
        values = []
        for run in runs:
            value = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                values.append(value)
        return statistics.median(values) if values else None

    g = ["greenrackd"]
    fleet = {}
    if runs and "fleet" in runs[0]:
        for name in runs[0]["fleet"]["daemons"]:
            d = ["fleet", "daemons", name]
            fleet[name] = {"cpu_pct": pick(d + ["cpu_pct"]), "rss_mb": pick(d + ["rss_mb"])}
        fleet["ticks_partial"] = pick(["fleet", "daemons", "agg-1", "ticks_partial"])
        fleet["site_age_p50_ms"] = pick(["fleet", "site_age_p50_ms"])
        fleet["delivered_pct"] = pick(["fleet", "delivered_pct"])
    return {
        **({"fleet": fleet} if fleet else {}),
        "cpu_ratio": pick(["cpu_ratio"]),
        "cpu_pct": pick(g + ["cpu_pct"]),
        "reference_cpu_pct": pick(["reference", "cpu_pct"]),
        "rss_mb": pick(g + ["rss_mb"]),
        "delivered_pct": pick(g + ["delivered_pct"]),
        "latency_p99_ms": pick(g + ["latency_p99_ms"]),
        "lateness_p99_ms": pick(g + ["lateness_p99_ms"]),
        "tick_p99_ms": pick(g + ["tick_p99_ms"]),
        "startup_s": pick(g + ["startup_s"]),
        "sim_cpu_pct": pick(g + ["sim_cpu_pct"]),
    }


def check_targets(m):
    for key, op, limit, label in TARGETS:
        value = m.get(key)
        if value is None:
            verdict = "not measured"
        elif (value <= limit) if op == "<=" else (value >= limit):
            verdict = "met"
        else:
            verdict = "NOT met"
        print(f"target {label} {op} {limit}: {fmt(value, '', 3)} -> {verdict}")


def accounting_tick(smoke):
    """The accounting tick timed exactly in-process at 10,000 outlets (greenrack-bench-tick)."""
    outlets, ticks = (480, 20) if smoke else (10000, 200)
    result = subprocess.run([str(BIN["tick"]), "--outlets", str(outlets), "--ticks", str(ticks),
                             "--profiles", str(REPO / "config" / "profiles")],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise Failure(f"greenrack-bench-tick failed: {result.stderr.strip()}")
    lines = result.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(f"accounting tick in-process: {line}")
    return json.loads(lines[-1])


def main():
    # The module docstring is the help text (argparse would read its "%" as format codes).
    parser = UsageParser(usage=__doc__.replace("%", "%%"))
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--measure", type=int, default=60)
    parser.add_argument("--pdu-profile", default="bench_pdu_24")
    parser.add_argument("--only", choices=["greenrackd", "reference", "both"], default=None)
    parser.add_argument("--fleet", type=int, default=0)
    parser.add_argument("--standby", action="store_true")
    parser.add_argument("--scaling", default="")
    parser.add_argument("--build-dir", default=str(REPO / "build"))
    parser.add_argument("--out", default="")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--wrap", default="",
                        help="run greenrackd under this command, for profiling (e.g. "
                             "'heaptrack -o FILE'); its figures then include the wrapper")
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.runs, args.warmup, args.measure = 100, 1, 2, 5
    if args.devices < 6 or args.runs < 1 or args.warmup < 1 or args.measure < 1:
        parser.error("need --devices >= 6, --runs >= 1, --warmup >= 1, --measure >= 1")
    if args.fleet < 0 or (args.standby and not args.fleet):
        parser.error("--fleet K needs K >= 1; --standby only with --fleet")
    counts_needed = [int(x) for x in args.scaling.split(",") if x] or [args.devices]
    if args.fleet and args.fleet * GATEWAY_SIZE > min(counts_needed) + GATEWAY_SIZE - 1:
        parser.error(f"--fleet {args.fleet} needs at least {args.fleet} gateways of "
                     f"{GATEWAY_SIZE} devices (--devices > {(args.fleet - 1) * GATEWAY_SIZE})")
    build = Path(args.build_dir).resolve()
    BIN.update(greenrackd=build / "daemon" / "greenrackd",
               sim=build / "drivers" / "sim" / "greenrack-sim",
               reference=build / "bench" / "greenrack-reference-poller",
               probe=build / "bench" / "greenrack-bench-probe",
               tick=build / "bench" / "greenrack-bench-tick")
    for name, path in BIN.items():
        if not os.access(path, os.X_OK):
            print(f"bench/run.py: {path} not found ({name}); build with cmake --build "
                  f"{build} --target greenrackd greenrack-sim greenrack-reference-poller "
                  "greenrack-bench-probe greenrack-bench-tick", file=sys.stderr)
            return 64
    temporary = not args.out
    out = Path(args.out or tempfile.mkdtemp(prefix="greenrack-bench."))
    out.mkdir(parents=True, exist_ok=True)
    print(f"bench: output in {out}")

    counts = [int(x) for x in args.scaling.split(",") if x] or [args.devices]
    table = []
    try:
        tick = accounting_tick(args.smoke)
        for n in counts:
            runs = []
            for r in range(1, args.runs + 1):
                figures = run_once(args, n, out / f"n{n}-run{r}", r)
                report(figures)
                runs.append(figures)
                for target in ("greenrackd", "reference", "fleet"):
                    if target in figures and figures[target]["delivered"] == 0:
                        raise Failure(f"{target} delivered nothing")
                if "fleet" in figures and figures["fleet"]["site_states"] == 0:
                    raise Failure("the fleet's aggregator published no site state in the window")
            m = medians(runs)
            m["tick_10k_p99_ms"] = tick["tick_p99_ms"]
            table.append((n, m))
            if args.runs > 1 or len(counts) > 1:
                print(f"=== medians of {args.runs} runs at {n} devices: " + json.dumps(m))
            if not args.smoke and m["cpu_pct"] is not None:
                check_targets(m)  # the single daemon's targets
            (out / "results.json").write_text(json.dumps({"runs": runs, "medians": m}, indent=2))
    except Failure as failure:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
        return 1
    if args.smoke and temporary:
        shutil.rmtree(out, ignore_errors=True)  # a smoke run keeps its files only on failure
    if len(table) > 1:
        print("devices | greenrackd CPU % | per 1,000 devices | reference CPU % | RSS MB")
        for n, m in table:
            per = m["cpu_pct"] * 1000.0 / n if m["cpu_pct"] is not None else None
            print(f"{n} | {fmt(m['cpu_pct'])} | {fmt(per)} | {fmt(m['reference_cpu_pct'])} | "
                  f"{fmt(m['rss_mb'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
