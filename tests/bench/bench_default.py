#!/usr/bin/python3
"""vitalsd end to end with storage on, in the default configuration.

Scenarios (--scenario, comma-separated):

  s1     `vitalsd --flush 1s`, defaults otherwise (direct writes, write-behind
         rrd.write_delay, rrd.create_rate), a data directory on disk:
         10,000 mixed names (a quarter each counters, timers, gauges, sets,
         vitals-loadgen --mix mixed) at 100,000 lines/s. After every file is
         made, --duration seconds (60) of load are measured, then --idle
         seconds (20) without traffic.
  s1c    the same through a real rrdcached (-w rrd.write_delay, unix
         socket), for comparison; rrdcached's CPU counts in the tree.
  d10    the same load with nothing configured at all: the default 10 s
         windows, --duration seconds of load, then --idle.
  m100k  100,000 mixed names at 10 s windows (`--flush 10s`), each sent
         about once a window (10,000 lines/s), direct writes: steady state
         over --windows windows (6), at the default rrd.write_delay (30 s:
         one call per file every three windows, 3,333 a second) or
         --m100k-delay.

For each it counts the CPU of the whole process tree (the daemon, its fork
server and spare, the update worker, graph children reaped, rrdcached when
used: utime + stime + cutime + cstime from /proc) and prints:

  ns of CPU per line for the tree; lines lost (offered by the generator
  minus vitals_lines_total{result="ok"}); windows on disk (after the stop,
  every file is fetched with `rrdtool -` and every window of the measured
  span must hold a value); the writer's lag (now minus
  vitals_storage_held_oldest_timestamp_seconds, or minus the last window
  written when nothing is held, sampled every second); the tree's CPU in
  cores while idle; the flusher thread's CPU per live metric per window
  (the daemon's own cost of a window, every sink together); bytes per file
  of each kind; the daemon's peak RSS (VmHWM); the disk used.

    VITALSD=build/release/vitalsd LOADGEN=build/release/vitals-loadgen \\
        /usr/bin/python3 tests/bench/bench_default.py [--scenario s1,m100k]
        [--duration 60] [--idle 20] [--windows 6] [--dir DIR] [--keep]

Copy the binaries first when others may rebuild them during the run. Slow
figures never fail the run (targets are printed met or MISSED); exit status
1 means something failed to run or a window is missing, 2 bad arguments.
Python 3 standard library only.
"""

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import BenchError, cpu_model, wait_for, wait_healthy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integ"))
from harness import free_port  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = {
    "ns_per_line": 1500.0,     # s1: CPU of the tree per line
    "idle_cores": 0.05,        # s1: the tree without traffic
    "m100k_cores": 0.5,        # m100k: the tree
    "m100k_disk_gb": 15.0,
    "rss_mb": 20.0,            # s1, d10: the daemon's peak RSS
}



def log(msg):
    print("bench_default: " + msg, file=sys.stderr, flush=True)


def stat_fields(path):
    with open(path) as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def tree_pids(roots):
    """The roots and every descendant, from /proc/*/stat."""
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                parent[int(name)] = int(stat_fields(
                    "/proc/%s/stat" % name)[1])
            except (OSError, ValueError, IndexError):
                pass
    found = set(r for r in roots if r in parent)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def tree_cpu(roots):
    """CPU seconds of the tree: its processes and their reaped children."""
    total = 0.0
    for pid in tree_pids(roots):
        try:
            f = stat_fields("/proc/%d/stat" % pid)
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15]) / CLK_TCK
    return total


def thread_cpu(pid, comm):
    """CPU seconds of the threads of pid named comm."""
    total = 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != comm:
                    continue
            fl = stat_fields("/proc/%d/task/%s/stat" % (pid, tid))
            total += (int(fl[11]) + int(fl[12])) / CLK_TCK
        except OSError:
            continue
    return total


def vm_mb(pid, field="VmHWM"):
    """A memory line of /proc/PID/status in MB (VmHWM: the peak RSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def scrape(http_port):
    """{sample name with labels: value} of /metrics."""
    url = "http://127.0.0.1:%d/metrics" % http_port
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("vitals_"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def lines_ok(m):
    return m.get('vitals_lines_total{result="ok"}', 0.0)



def loadgen(args, port, names, rate, duration, cpu):
    cmd = [args.loadgen, "--port", str(port), "--names", str(names),
           "--mix", "mixed", "--rate", str(rate), "--duration",
           str(duration)]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def loadgen_result(p):
    out, _ = p.communicate(timeout=700)
    if p.returncode != 0:
        raise BenchError("vitals-loadgen exited with %s" % p.returncode)
    return json.loads(out.strip().splitlines()[-1])


def metric_files(data):
    """The generator's metric files (not the daemon's own, nor checks)."""
    for root, _, names in os.walk(data):
        rel = os.path.relpath(root, data).split(os.sep)
        if rel[0] in (".", "vitals") or "checks" in rel:
            continue
        for n in names:
            if n.endswith(".rrd"):
                yield os.path.join(root, n)


def breakdown(roots):
    """{process or daemon thread: CPU seconds} of the tree."""
    out = {}
    for pid in tree_pids(roots):
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
            f = stat_fields("/proc/%d/stat" % pid)
        except OSError:
            continue
        key = "%s[%d]" % (comm, pid)
        out[key] = sum(int(x) for x in f[11:15]) / CLK_TCK
    return out


def breakdown_delta(a, b):
    return {k: round(b[k] - a.get(k, 0), 2) for k in b
            if b[k] - a.get(k, 0) >= 0.01}


def check_windows(data, start, end, step):
    """Fetch every file between start and end with one `rrdtool -`; count
    files and windows, and the windows without a value."""
    files = [p for p in metric_files(data)]
    p = subprocess.Popen(["rrdtool", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    cmds = "".join("fetch %s AVERAGE -r %d -s %d -e %d\n" %
                   (f, step, start - step, end) for f in files)
    out, _ = p.communicate(cmds, timeout=1800)
    windows = missing = errors = 0
    missing_files = set()
    idx = -1
    for line in out.splitlines():
        if line.startswith("OK "):
            continue
        if line.startswith("ERROR"):
            errors += 1
            continue
        if line.strip() and ":" not in line:     # a header: next file
            idx += 1
            continue
        ts, _, vals = line.partition(":")
        try:
            t = int(ts)
        except ValueError:
            continue
        if not (start <= t <= end):
            continue
        windows += 1
        first = vals.split()[0] if vals.split() else "nan"
        if first.lower() in ("nan", "-nan"):
            missing += 1
            if 0 <= idx < len(files):
                missing_files.add(files[idx])
    return {"files": len(files), "windows": windows, "missing": missing,
            "errors": errors, "missing_files": sorted(missing_files)[:5]}


def bytes_per_kind(data):
    """{data sources: (files, bytes of one)} from the headers."""
    out = {}
    for path in metric_files(data):
        size = os.path.getsize(path)
        out[size] = (out.get(size, (0, size))[0] + 1, size)
    return out


def du_gb(path):
    r = subprocess.run(["du", "-s", "--block-size=1", path],
                       capture_output=True, text=True)
    return int(r.stdout.split()[0]) / 1e9 if r.returncode == 0 else 0.0


def run(scen, args):
    s1 = scen in ("s1", "s1c")
    m100k = scen == "m100k"
    names = 100000 if m100k else 10000
    flush = 1 if s1 else 10
    rate = 10000 if m100k else 100000
    tmp = tempfile.mkdtemp(prefix="vitals-bench-default-",
                           dir=args.dir or None)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    res = {"scenario": scen, "names": names, "flush": flush, "rate": rate}
    daemon = cached = None
    roots = []
    try:
        statsd_port, http_port = free_port(), free_port()
        cmd = [args.vitalsd, "--flush", "%ds" % flush,
               "--statsd", "127.0.0.1:%d" % statsd_port,
               "--http", "127.0.0.1:%d" % http_port, "--data-dir", data]
        if scen == "m100k":
            # Room for the 100,000 names besides the daemon's own series.
            cfg = os.path.join(tmp, "vitals.json")
            with open(cfg, "w") as f:
                # SIGTERM writes every window held: 100,000 calls, more
                # than the default shutdown_timeout's 10 s here.
                cfg_m = {"max_metrics": 200000, "shutdown_timeout": "5m"}
                if args.m100k_delay:
                    cfg_m["rrd"] = {"write_delay": args.m100k_delay}
                json.dump(cfg_m, f)
            res["write_delay"] = args.m100k_delay or "30s (default)"
            cmd += ["-c", cfg]
        if scen == "s1c":
            sock = os.path.join(tmp, "rrdcached.sock")
            cached = subprocess.Popen(
                [shutil.which("rrdcached") or "/usr/bin/rrdcached", "-g",
                 "-F", "-B", "-b", data, "-l", "unix:" + sock, "-w", "30",
                 "-z", "30", "-p", os.path.join(tmp, "rrdcached.pid")],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(tmp, "rrdcached.log"), "wb"))
            wait_for(lambda: os.path.exists(sock), 20, "rrdcached", 0.05)
            cfg = os.path.join(tmp, "vitals.json")
            with open(cfg, "w") as f:
                json.dump({"rrd": {"cached": "unix:" + sock}}, f)
            cmd += ["-c", cfg]
            roots.append(cached.pid)
        log("%s: %s" % (scen, " ".join(cmd)))
        daemon = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "vitalsd.log"), "wb"))
        roots.append(daemon.pid)

        wait_healthy(daemon, http_port)

        # Warm-up: the same load until every file exists and none waits.
        t0 = time.monotonic()
        warm = loadgen(args, statsd_port, names, rate, 600, args.loadgen_cpu)

        def made():
            m = scrape(http_port)
            return m.get("vitals_storage_files_created_total", 0) >= names \
                and m.get("vitals_storage_files_waiting", 1) == 0 and m
        wait_for(made, 590, "%d files" % names, 1.0)
        res["create_seconds"] = round(time.monotonic() - t0, 1)
        log("%s: %d files made in %.1f s" % (scen, names,
                                               res["create_seconds"]))
        warm.send_signal(signal.SIGINT)
        warm.wait(timeout=30)
        time.sleep(2 * flush + 1)

        # Measured load.
        duration = args.windows * flush if m100k else args.duration
        m0 = scrape(http_port)
        cpu0 = tree_cpu(roots)
        flush0 = thread_cpu(daemon.pid, "vitals-flush")
        bd0 = breakdown(roots)
        rrd0 = thread_cpu(daemon.pid, "vitals-rrd")
        wall0 = time.time()
        gen = loadgen(args, statsd_port, names, rate, duration,
                      args.loadgen_cpu)
        lag_max = queue_max = held_max = 0.0
        hwm_warm = vm_mb(daemon.pid)
        rss_load = [0.0]
        sampling = threading.Event()

        def sample_rss():   # every 20 ms: the spikes at a window close
            while not sampling.wait(0.02):
                try:
                    rss_load[0] = max(rss_load[0],
                                      vm_mb(daemon.pid, "VmRSS"))
                except OSError:
                    return
        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        while gen.poll() is None:
            time.sleep(1.0)
            m = scrape(http_port)
            now = time.time()
            oldest = m.get("vitals_storage_held_oldest_timestamp_seconds", 0)
            last = m.get("vitals_storage_last_window_timestamp_seconds", 0)
            lag = now - (oldest if oldest > 0 else last)
            lag_max = max(lag_max, lag)
            queue_max = max(queue_max, m.get("vitals_storage_queue", 0))
            held_max = max(held_max, m.get("vitals_storage_held_bytes", 0))
        offered = loadgen_result(gen)
        sampling.set()
        sampler.join()
        wall1 = time.time()
        time.sleep(flush + 1.5)                   # the last window closes
        m1 = scrape(http_port)
        cpu1 = tree_cpu(roots)
        daemon_proc1 = thread_cpu(daemon.pid, "vitals-flush")
        res["cpu_load_s"] = breakdown_delta(bd0, breakdown(roots))
        res["cpu_load_s"]["vitals-rrd thread"] = round(
            thread_cpu(daemon.pid, "vitals-rrd") - rrd0, 2)
        lines = lines_ok(m1) - lines_ok(m0)
        sent = offered["offered_lines"]
        res["lines_offered"] = sent
        res["lines_ok"] = int(lines)
        res["lines_lost"] = int(sent - lines)
        res["ns_per_line"] = round((cpu1 - cpu0) * 1e9 / max(lines, 1), 1)
        res["tree_cores"] = round((cpu1 - cpu0) / (time.time() - wall0), 3)
        windows = m1.get("vitals_flushes_total", 0) - \
            m0.get("vitals_flushes_total", 0)
        live = m1.get("vitals_metrics", names)
        res["flush_us_per_metric_window"] = round(
            (daemon_proc1 - flush0) * 1e6 / max(windows * live, 1), 3)
        res["lag_max_s"] = round(lag_max, 1)
        res["queue_max"] = int(queue_max)
        res["held_bytes_max"] = int(held_max)
        res["skipped"] = {k.split('"')[1]: int(v - m0.get(k, 0))
                          for k, v in m1.items()
                          if k.startswith("vitals_storage_skipped_total")}
        res["storage_errors"] = int(m1.get("vitals_storage_errors_total", 0)
                                    - m0.get("vitals_storage_errors_total",
                                             0))
        res["updates_per_s"] = round(
            (m1.get("vitals_storage_updates_total", 0) -
             m0.get("vitals_storage_updates_total", 0)) / (wall1 - wall0), 1)
        res["calls_per_s"] = round(
            (m1.get("vitals_storage_calls_total", 0) -
             m0.get("vitals_storage_calls_total", 0)) / (wall1 - wall0), 1)
        res["rss_mb"] = round(vm_mb(daemon.pid), 1)
        res["rss_warmup_mb"] = round(hwm_warm, 1)
        res["rss_load_mb"] = round(rss_load[0], 1)

        # Idle: no traffic; the metrics stay live (metric_ttl).
        if not m100k and args.idle > 0:
            time.sleep(flush * 2)
            i0, it0 = tree_cpu(roots), time.monotonic()
            ib0 = breakdown(roots)
            time.sleep(args.idle)
            res["cpu_idle_s"] = breakdown_delta(ib0, breakdown(roots))
            res["idle_s"] = args.idle
            res["idle_cores"] = round((tree_cpu(roots) - i0) /
                                      (time.monotonic() - it0), 4)

        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=120)
        res["exit"] = rc
        if cached:
            cached.send_signal(signal.SIGTERM)
            cached.wait(timeout=60)
        # Every window of the measured load, whole windows only.
        start = int(math.ceil(wall0 / flush) * flush) + flush
        end = int(math.floor(wall1 / flush) * flush) - flush
        res["disk_check"] = check_windows(data, start, end, flush)
        res["bytes_per_file"] = {str(k): v[0] for k, v in
                                 sorted(bytes_per_kind(data).items())}
        res["disk_gb"] = round(du_gb(data), 2)
        return res
    finally:
        for p in (daemon, cached):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def verdict(ok):
    return "met" if ok else "MISSED"


def report(r):
    d = r["disk_check"]
    print("scenario %s: %d names, %d s windows, %d lines/s" % (
        r["scenario"], r["names"], r["flush"], r["rate"]))
    print("  files made in %.1f s (rrd.create_rate)" % r["create_seconds"])
    print("  tree CPU %.1f ns/line (%.3f cores); lines lost %d of %d" % (
        r["ns_per_line"], r["tree_cores"], r["lines_lost"],
        r["lines_offered"]))
    print("  windows on disk: %d files, %d windows, %d missing, %d fetch "
          "errors %s" % (d["files"], d["windows"], d["missing"], d["errors"],
                         d["missing_files"] or ""))
    print("  writer lag at most %.1f s; queue at most %d; held at most "
          "%.1f MB; %.0f updates/s in %.0f calls/s; skipped %s; errors %d" % (
              r["lag_max_s"], r["queue_max"], r["held_bytes_max"] / 1e6,
              r["updates_per_s"], r["calls_per_s"], r["skipped"],
              r["storage_errors"]))
    print("  flush cost %.3f us of the flusher thread per metric per window"
          % r["flush_us_per_metric_window"])
    print("  CPU seconds under load by process: %s" % r.get("cpu_load_s"))
    if "cpu_idle_s" in r:
        print("  CPU seconds idle (%d s) by process: %s" % (
            r.get("idle_s", 0), r["cpu_idle_s"]))
    if "idle_cores" in r:
        print("  idle: %.4f cores for the tree" % r["idle_cores"])
    print("  bytes per file (size: files): %s; disk %.2f GB; daemon peak "
          "RSS %.1f MB (%.1f by the end of the warm-up; under load, "
          "sampled every 20 ms: at most %.1f); exit %s" % (
              r["bytes_per_file"], r["disk_gb"], r["rss_mb"],
              r["rss_warmup_mb"], r["rss_load_mb"], r["exit"]))
    if r["scenario"] in ("s1", "d10"):
        print("  targets: %s ns/line <= %d; %s 0 lost; %s idle <= %.2f core; "
              "%s RSS <= %d MB" % (
                  verdict(r["ns_per_line"] <= TARGETS["ns_per_line"]),
                  TARGETS["ns_per_line"], verdict(r["lines_lost"] <= 0),
                  verdict(r.get("idle_cores", 1) <= TARGETS["idle_cores"]),
                  TARGETS["idle_cores"],
                  verdict(r["rss_mb"] <= TARGETS["rss_mb"]),
                  TARGETS["rss_mb"]))
    if r["scenario"] == "m100k":
        print("  targets: %s tree <= %.1f core; %s disk <= %d GB" % (
            verdict(r["tree_cores"] <= TARGETS["m100k_cores"]),
            TARGETS["m100k_cores"],
            verdict(r["disk_gb"] <= TARGETS["m100k_disk_gb"]),
            TARGETS["m100k_disk_gb"]))
    print("  " + json.dumps(r, sort_keys=True), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="s1,s1c,d10,m100k")
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--idle", type=int, default=20)
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--m100k-delay", default=None,
                    help="m100k's rrd.write_delay (default: the "
                    "daemon's, 30s)")
    ap.add_argument("--loadgen-cpu", type=int, default=None)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--vitalsd", default=os.environ.get("VITALSD"))
    ap.add_argument("--loadgen", default=os.environ.get("LOADGEN"))
    args = ap.parse_args()
    scens = [s for s in args.scenario.split(",") if s]
    if not args.vitalsd or not args.loadgen or \
            any(s not in ("s1", "s1c", "d10", "m100k") for s in scens):
        ap.print_usage(sys.stderr)
        return 2
    print("machine: %s, %d CPUs, %s %s; load average %s" % (
        cpu_model(), os.cpu_count(), platform.system(), platform.release(),
        " ".join("%.2f" % x for x in os.getloadavg())))
    failed = False
    for s in scens:
        try:
            r = run(s, args)
            report(r)
            if r["disk_check"]["missing"] or r["exit"] != 0:
                failed = True
        except BenchError as e:
            log("%s: %s" % (s, e))
            failed = True
    print("load average at the end: %s" % " ".join(
        "%.2f" % x for x in os.getloadavg()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
