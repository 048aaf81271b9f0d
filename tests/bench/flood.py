#!/usr/bin/python3
"""Name flood: does a flood of distinct new metric names keep vitalsd's
memory bounded? (issue 8, "Bounds" in docs/benchmarks.md)

    make flood                       # FLOOD_ARGS="--names 1000000 ..."
    VITALSD=build/release/vitalsd LOADGEN=build/release/vitals-loadgen \\
        /usr/bin/python3 tests/bench/flood.py [--names N] [--max-metrics N]
        [--rate LINES] [--ttl SECONDS] [--bound-mb MB]

Starts vitalsd (RRD storage off: this measures the daemon's own tables,
not the disk) with max_metrics and a short metric_ttl, then:
  1. sends N distinct new names (vitals-loadgen --names N over UDP): at
     most max_metrics of them may live, the rest are counted as over_cap;
  2. waits for metric_ttl to expire them all (vitals_metrics back to 0);
  3. sends N other new names again: expired metrics must have given their
     memory back, so the second peak stays near the first.
Prints what it saw and one JSON line; exit status 1 when peak RSS passes
--bound-mb, the live count ever passes max_metrics, or the metrics do not
expire.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integ"))
from harness import free_port  # noqa: E402  (a port free for UDP and TCP)

VITALSD = os.environ.get("VITALSD", "build/release/vitalsd")
LOADGEN = os.environ.get("LOADGEN", "build/release/vitals-loadgen")


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


_SAMPLE = re.compile(r'^(vitals_[a-z_]+)(\{[^}]*\})?\s+(\S+)$')


def self_metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


class Sampler(threading.Thread):
    """RSS and live metric count every 0.2 s; keeps the maxima."""

    def __init__(self, pid, http_port):
        super().__init__(daemon=True)
        self.pid, self.port = pid, http_port
        self.max_rss_kb = 0
        self.max_live = 0
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            self.max_rss_kb = max(self.max_rss_kb,
                                  status_kb(self.pid, "VmRSS"))
            if n % 5 == 0:
                try:
                    live = self_metrics(self.port).get("vitals_metrics", 0)
                    self.max_live = max(self.max_live, live)
                except OSError:
                    pass
            n += 1
            time.sleep(0.2)


def flood(args, port, prefix):
    cmd = [LOADGEN, "--port", str(port), "--names", str(args.names),
           "--max-lines", str(args.names), "--rate", str(args.rate),
           "--duration", "600", "--service-prefix", prefix,
           "--services", "100", "--mix", "counter"]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.5)
    raise RuntimeError("timed out waiting for " + what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=1000000)
    ap.add_argument("--max-metrics", type=int, default=100000)
    ap.add_argument("--rate", type=int, default=200000)
    ap.add_argument("--ttl", type=int, default=20)
    ap.add_argument("--bound-mb", type=float, default=256)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="vitals-flood-")
    statsd, http = free_port(), free_port()
    cfg = os.path.join(tmp, "vitals.json")
    with open(cfg, "w") as f:
        json.dump({"max_metrics": args.max_metrics,
                   "metric_ttl": "%ds" % args.ttl,
                   "flush_interval": "1s", "rrd": {"enabled": False},
                   "self_metrics": False}, f)
    log = open(os.path.join(tmp, "vitalsd.log"), "wb")
    proc = subprocess.Popen([VITALSD, "-c", cfg, "--statsd",
                             "127.0.0.1:%d" % statsd, "--http",
                             "127.0.0.1:%d" % http, "--data-dir",
                             os.path.join(tmp, "data")],
                            stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        wait_for(lambda: _up(http), 20, "vitalsd to start")
        idle_kb = status_kb(proc.pid, "VmRSS")
        sampler = Sampler(proc.pid, http)
        sampler.start()

        t0 = time.time()
        gen1 = flood(args, statsd, "flood")
        time.sleep(2)
        m1 = self_metrics(http)
        peak1_kb = status_kb(proc.pid, "VmHWM")
        flood1_s = time.time() - t0

        t1 = time.time()
        wait_for(lambda: self_metrics(http).get("vitals_metrics") == 0,
                 args.ttl * 3 + 10, "every flooded metric to expire")
        expire_s = time.time() - t1
        after_expiry_kb = status_kb(proc.pid, "VmRSS")

        gen2 = flood(args, statsd, "again")
        time.sleep(2)
        m2 = self_metrics(http)
        peak2_kb = max(sampler.max_rss_kb, status_kb(proc.pid, "VmRSS"))
        sampler.stop.set()
        sampler.join()
        hwm_kb = status_kb(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        rc = proc.wait(timeout=30)
        log.close()

    over_cap = m1.get('vitals_lines_total{result="over_max_metrics"}', 0)
    result = {
        "names_per_flood": args.names,
        "max_metrics": args.max_metrics,
        "offered_lines": gen1["offered_lines"] + gen2["offered_lines"],
        "kernel_drops": m2.get("vitals_udp_kernel_drops_total", 0),
        "lines_ok_flood1": m1.get('vitals_lines_total{result="ok"}', 0),
        "over_cap_flood1": over_cap,
        "metrics_created": m2.get("vitals_metrics_created_total", 0),
        "metrics_expired": m2.get("vitals_metrics_expired_total", 0),
        "max_live_metrics": sampler.max_live,
        "idle_rss_mb": round(idle_kb / 1024, 1),
        "peak_rss_flood1_mb": round(peak1_kb / 1024, 1),
        "rss_after_expiry_mb": round(after_expiry_kb / 1024, 1),
        "peak_rss_flood2_mb": round(peak2_kb / 1024, 1),
        "peak_rss_mb": round(hwm_kb / 1024, 1),
        "flood1_seconds": round(flood1_s, 1),
        "expiry_seconds": round(expire_s, 1),
        "exit_status": rc,
    }
    if hwm_kb / 1024 > args.bound_mb:
        failures.append("peak RSS %.1f MB over the %.0f MB bound"
                        % (hwm_kb / 1024, args.bound_mb))
    if sampler.max_live > args.max_metrics:
        failures.append("%d live metrics, more than max_metrics %d"
                        % (sampler.max_live, args.max_metrics))
    if over_cap == 0:
        failures.append("the cap was never reached (no over_cap lines)")
    if peak2_kb > peak1_kb * 1.25 + 8192:
        failures.append("second flood grew RSS to %.1f MB (first %.1f MB): "
                        "expired metrics did not give memory back"
                        % (peak2_kb / 1024, peak1_kb / 1024))
    if rc != 0:
        failures.append("vitalsd exit status %d" % rc)

    print("flood: %d new names twice, max_metrics %d, metric_ttl %ds"
          % (args.names, args.max_metrics, args.ttl))
    print("  idle RSS %.1f MB; after flood 1: peak %.1f MB, %d live at most, "
          "%d lines over the cap"
          % (result["idle_rss_mb"], result["peak_rss_flood1_mb"],
             sampler.max_live, over_cap))
    print("  all expired after %.0f s: RSS %.1f MB; after flood 2: %.1f MB; "
          "peak overall %.1f MB (bound %.0f MB)"
          % (expire_s, result["rss_after_expiry_mb"],
             result["peak_rss_flood2_mb"], result["peak_rss_mb"],
             args.bound_mb))
    print(json.dumps(result))
    for f in failures:
        print("FAIL: " + f)
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


def _up(port):
    try:
        self_metrics(port)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
