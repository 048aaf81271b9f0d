#!/usr/bin/python3
"""vitalsd storage benchmark: does every window reach the RRD files?

With --metrics distinct counters (default 100,000, spread over 100
services) and a --flush window (default 10 s), in each mode (direct librrd
updates, and through a real rrdcached started here):

  1. start vitalsd with a fresh data directory (and rrdcached on a unix
     socket whose base directory is that data directory);
  2. send every metric once per window over UDP, paced, for the whole run;
  3. warm-up: wait until every file is created (the first window); report
     how long creation took;
  4. measure --windows windows: after each, read vitals_storage_* from
     /metrics: updates written, queue (backlog), writer CPU, skipped and
     errors, the close time of the last window on disk;
  5. stop sending, wait for the queue to drain, check that every window
     the writer took reached disk (updates == metrics x windows, nothing
     skipped, no errors), spot-check files with `rrdtool lastupdate`,
     SIGTERM vitalsd (exit 0) and rrdcached.

Prints the machine, one table row and one JSON line per mode. A mode passes
when no update was skipped or lost, the backlog did not grow (the queue at
the end of the measurement is not above its peak of the first half, and
never above two windows), and the last window on disk was never more than
two windows old.

    VITALSD=build/release/vitalsd /usr/bin/python3 \\
        tests/bench/bench_storage.py [--mode direct|cached|both]
        [--metrics N] [--flush SECONDS] [--windows N]
        [--points N] [--keep] [--dir DIR]

--points is rrd.points_per_range (default 500, the daemon's default: a
counter file is 72 KB, so 100,000 metrics take 7.2 GB; the update cost
hardly depends on it, the creation time and disk space do).

Exit status: 0 when every mode passed, 1 when a mode failed or something
did not run, 2 for bad arguments. Python 3 standard library only.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import BenchError, cpu_model, wait_for, wait_healthy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integ"))
from harness import free_port  # noqa: E402  (a port free for UDP and TCP)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVICES = 100


def log(msg):
    print("bench_storage: " + msg, file=sys.stderr, flush=True)


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def metrics(http_port):
    """{name or name{labels}: value} of the vitals_storage_* samples."""
    url = "http://127.0.0.1:%d/metrics" % http_port
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("vitals_storage_") or \
                line.startswith("vitals_flushes_total"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def metric_names(n):
    return ["svc%02d.m%06d" % (i % SERVICES, i) for i in range(n)]


class Sender(threading.Thread):
    """Sends every metric once per window, spread over the window."""

    def __init__(self, port, names, window):
        super().__init__(daemon=True)
        self.port = port
        self.window = window
        self.datagrams = []
        batch = []
        size = 0
        for name in names:
            line = "%s:1|c" % name
            if size + len(line) + 1 > 1400:
                self.datagrams.append("\n".join(batch).encode())
                batch, size = [], 0
            batch.append(line)
            size += len(line) + 1
        if batch:
            self.datagrams.append("\n".join(batch).encode())
        self.stop = threading.Event()
        self.sent = 0

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        # Use 80% of the window, in 50 slices.
        slices = 50
        per = max(1, len(self.datagrams) // slices + 1)
        while not self.stop.is_set():
            start = time.monotonic()
            for k in range(0, len(self.datagrams), per):
                for d in self.datagrams[k:k + per]:
                    sock.sendto(d, ("127.0.0.1", self.port))
                self.sent += min(per, len(self.datagrams) - k)
                if self.stop.wait(self.window * 0.8 / slices):
                    break
            rest = self.window - (time.monotonic() - start)
            if rest > 0 and self.stop.wait(rest):
                break
        sock.close()



def run_mode(mode, args):
    tmp = tempfile.mkdtemp(prefix="vitals-bench-storage-",
                           dir=args.dir or None)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    sock = os.path.join(tmp, "rrdcached.sock")
    cached = None
    daemon = None
    sender = None
    result = {"mode": mode, "metrics": args.metrics, "flush": args.flush,
              "points_per_range": args.points}
    try:
        if mode == "cached":
            cached = subprocess.Popen(
                [shutil.which("rrdcached") or "/usr/bin/rrdcached", "-g",
                 "-F", "-B", "-b", data, "-l", "unix:" + sock, "-p",
                 os.path.join(tmp, "rrdcached.pid")],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(tmp, "rrdcached.log"), "wb"))
            wait_for(lambda: os.path.exists(sock), 20, "rrdcached socket",
                     0.05)
        statsd_port, http_port = free_port(), free_port()
        cfg = {"flush_interval": "%ds" % args.flush,
               "max_metrics": max(args.metrics * 2, 1000),
               "rrd": {"points_per_range": args.points,
                       "queue": max(args.metrics * 20, 1000)}}
        if cached:
            cfg["rrd"]["cached"] = "unix:" + sock
        cfg_path = os.path.join(tmp, "vitals.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        cmd = [args.vitalsd, "-c", cfg_path,
               "--statsd", "127.0.0.1:%d" % statsd_port,
               "--http", "127.0.0.1:%d" % http_port, "--data-dir", data]
        log("%s: %s" % (mode, " ".join(cmd)))
        daemon = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "vitalsd.log"), "wb"))

        wait_healthy(daemon, http_port)

        sender = Sender(statsd_port, metric_names(args.metrics), args.flush)
        t0 = time.monotonic()
        sender.start()
        # Warm-up: every file created by the first window(s).
        wait_for(lambda: metrics(http_port).get(
            "vitals_storage_files_created_total", 0) >= args.metrics,
            args.metrics / 200 + 120, "%d files" % args.metrics)
        created = time.monotonic() - t0
        result["create_seconds"] = round(created, 1)
        log("%s: %d files created %.1fs after the first line" %
            (mode, args.metrics, created))
        # Let the writer catch up with what creation left queued.
        wait_for(lambda: metrics(http_port)["vitals_storage_queue"] == 0,
                 20 * args.flush + 120, "the queue to drain after creation")

        # Measure whole windows: start right after one was handled.
        m = metrics(http_port)
        start_windows = m["vitals_storage_windows_total"]
        wait_for(lambda: metrics(http_port)["vitals_storage_windows_total"]
                 > start_windows, 3 * args.flush + 30, "a window")
        first = metrics(http_port)
        first_t = time.monotonic()
        first_cpu = proc_cpu_seconds(daemon.pid)
        first_cached_cpu = proc_cpu_seconds(cached.pid) if cached else 0
        samples = []
        lag_max = 0.0
        next_sample = first_t + args.flush / 2
        end = first_t + args.windows * args.flush
        while time.monotonic() < end:
            time.sleep(max(0, next_sample - time.monotonic()))
            next_sample += args.flush / 2
            m = metrics(http_port)
            samples.append(m["vitals_storage_queue"])
            last = m["vitals_storage_last_window_timestamp_seconds"]
            lag_max = max(lag_max, time.time() - last)
        last_m = metrics(http_port)
        last_t = time.monotonic()
        cpu = proc_cpu_seconds(daemon.pid) - first_cpu
        cached_cpu = (proc_cpu_seconds(cached.pid) - first_cached_cpu
                      if cached else None)
        sender.stop.set()
        sender.join()

        dt = last_t - first_t
        d = {k: last_m.get(k, 0) - first.get(k, 0) for k in last_m}
        upd = d["vitals_storage_updates_total"]
        result.update({
            "seconds": round(dt, 1),
            "windows": int(d["vitals_storage_windows_total"]),
            "updates": int(upd),
            "updates_per_s": round(upd / dt),
            "calls_per_s": round(d["vitals_storage_calls_total"] / dt),
            "writer_cpu_percent": round(
                100 * d["vitals_storage_writer_cpu_seconds_total"] / dt, 1),
            "writer_us_per_update": round(
                1e6 * d["vitals_storage_writer_cpu_seconds_total"] /
                max(upd, 1), 1),
            "daemon_cpu_percent": round(100 * cpu / dt, 1),
            "queue_max": int(max(samples)),
            "queue_end": int(samples[-1]),
            "lag_max_seconds": round(lag_max, 1),
        })
        if cached_cpu is not None:
            result["rrdcached_cpu_percent"] = round(100 * cached_cpu / dt, 1)

        # Drain, then check that every window handled reached disk.
        wait_for(lambda: metrics(http_port)["vitals_storage_queue"] == 0,
                 10 * args.flush + 120, "the queue to drain")
        m = metrics(http_port)
        # Only what happened since the measurement began counts; windows
        # skipped while the files were still being created are reported
        # by reason as warm-up figures.
        skipped = sum(v - first.get(k, 0) for k, v in m.items()
                      if k.startswith("vitals_storage_skipped_total"))
        result["warmup_skipped"] = {
            k.split('"')[1]: int(first[k]) for k in first
            if k.startswith("vitals_storage_skipped_total") and first[k]}
        windows = m["vitals_storage_windows_total"]
        result["skipped"] = int(skipped)
        result["errors"] = int(m["vitals_storage_errors_total"] -
                               first.get("vitals_storage_errors_total", 0))
        # Since the start of the measurement (every metric live), each
        # window the writer finished put one update in every file: the
        # benchmark's metrics and the daemon's own (service "vitals").
        d_windows = windows - first["vitals_storage_windows_total"]
        # Direct writes hold windows up to rrd.write_delay: those count
        # as handled (a read or SIGTERM writes them; the spot check below
        # reads through the daemon first).
        d_updates = (m["vitals_storage_updates_total"] -
                     first["vitals_storage_updates_total"] +
                     m.get("vitals_storage_held_windows", 0) -
                     first.get("vitals_storage_held_windows", 0))
        files = int(m["vitals_storage_files"])
        result["files"] = files
        result["every_window_on_disk"] = (
            skipped == 0 and result["errors"] == 0 and
            d_windows >= args.windows - 1 and files >= args.metrics and
            d_updates == files * d_windows)
        last_ts = int(round(m["vitals_storage_last_window_timestamp_seconds"]))
        spot = []
        for name in metric_names(args.metrics)[::max(1, args.metrics // 7)]:
            svc, metric = name.split(".", 1)
            path = os.path.join(data, svc, metric + ".rrd")
            urllib.request.urlopen(
                "http://127.0.0.1:%d/api/v1/series?service=%s&metric=%s"
                % (http_port, svc, metric), timeout=30).read()
            cmd = ["rrdtool", "lastupdate", path]
            if cached:
                cmd += ["--daemon", "unix:" + sock]
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 timeout=60).stdout.strip().splitlines()
            spot.append(int(out[-1].split(":")[0]) if out else None)
        result["spot_check_last_update_ok"] = all(
            s is not None and abs(s - last_ts) <= 1 for s in spot)

        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=300)
        result["exit_status"] = rc
        half = samples[:max(1, len(samples) // 2)]
        result["backlog_bounded"] = (
            samples[-1] <= max(half) and max(samples) <= 2 * args.metrics
            and lag_max <= 2 * args.flush + 2)
        du = subprocess.run(["du", "-sb", data], capture_output=True,
                            text=True).stdout.split()
        result["disk_bytes"] = int(du[0]) if du else None
        result["passed"] = bool(result["every_window_on_disk"] and
                                result["backlog_bounded"] and rc == 0 and
                                result["spot_check_last_update_ok"])
        return result
    finally:
        if sender is not None:
            sender.stop.set()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if cached is not None:
            cached.send_signal(signal.SIGTERM)
            try:
                cached.wait(timeout=300)
            except subprocess.TimeoutExpired:
                cached.kill()
                cached.wait()
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("direct", "cached", "both"),
                   default="both")
    p.add_argument("--metrics", type=int, default=100000)
    p.add_argument("--flush", type=int, default=10)
    p.add_argument("--windows", type=int, default=6)
    p.add_argument("--points", type=int, default=500)
    p.add_argument("--vitalsd", default=os.environ.get(
        "VITALSD", os.path.join(ROOT, "build", "release", "vitalsd")))
    p.add_argument("--dir", help="where to make the data directories")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    if args.metrics < 1 or args.flush < 1 or args.windows < 2 or \
            args.points < 10:
        p.error("metrics >= 1, flush >= 1, windows >= 2, points >= 10")
    if not os.access(args.vitalsd, os.X_OK):
        log("no vitalsd binary at %s (set VITALSD)" % args.vitalsd)
        return 1

    u = platform.uname()
    print("machine: %s, %d CPUs, %s %s" % (cpu_model(), os.cpu_count(),
                                          u.system, u.release))
    print("storage: %d counters over %d services, %d s windows, "
          "%d points per range" % (args.metrics, SERVICES, args.flush,
                                   args.points))
    modes = ["direct", "cached"] if args.mode == "both" else [args.mode]
    results, failed = [], False
    for mode in modes:
        try:
            results.append(run_mode(mode, args))
        except (BenchError, OSError, subprocess.SubprocessError,
                KeyError, ValueError) as e:
            log("%s: %s" % (mode, e))
            failed = True
    print("%-7s %9s %9s %8s %9s %9s %8s %6s %7s %s" % (
        "mode", "create s", "updates/s", "writer%", "us/update",
        "daemon%", "queuemax", "lag s", "skipped", "result"))
    for r in results:
        print("%-7s %9s %9d %8.1f %9.1f %9.1f %8d %6.1f %7d %s" % (
            r["mode"], r["create_seconds"], r["updates_per_s"],
            r["writer_cpu_percent"], r["writer_us_per_update"],
            r["daemon_cpu_percent"], r["queue_max"], r["lag_max_seconds"],
            r["skipped"] + r["errors"], "ok" if r["passed"] else "FAILED"))
    for r in results:
        print(json.dumps(r, sort_keys=True))
        failed = failed or not r["passed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
