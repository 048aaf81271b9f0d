#!/usr/bin/python3
"""vitalsd healthcheck load: what 10,000 checks cost.

--services services (default 1,000) with --checks checks each (default
10) report every --every seconds (default 10) as JSON batch datagrams on
the statsd port, one datagram per service, spread evenly over the period,
for --duration seconds (default 60) after two warm-up periods (the
checks and their RRD files are created). Prints the
daemon's CPU as a percentage of one core (total, and net of its idle
baseline), the checks received, applied and rejected, peak RSS, and one
JSON line. The target (from the healthcheck issue) is under 5 % of one
core; it is printed as met or MISSED and never changes the exit status.

    VITALSD=build/release/vitalsd /usr/bin/python3 tests/bench/bench_health.py

Exit status: 0 when it ran and every check was applied, 1 otherwise, 2
for bad arguments. Python 3 standard library only.
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
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integ"))
from harness import free_port, parse_exposition  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu_seconds(pid):
    """CPU of the daemon's live helper processes (the RRD update worker)."""
    total = 0.0
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return 0.0
    for k in kids:
        try:
            total += cpu_seconds(k)
        except OSError:
            pass
    return total


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def metrics(port):
    url = "http://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, timeout=30) as r:
        return parse_exposition(r.read().decode())


def received(m, result):
    return m.get(("vitals_checks_received_total",
                  frozenset({("format", "json"), ("result", result)})), 0)


def datagrams(services, checks, ttl):
    out = []
    for s in range(services):
        batch = {"checks": [
            {"service": "svc%04d" % s, "check": "check%02d" % c,
             "instance": "host%02d" % (s % 50),
             "status": "ok" if (s + c) % 97 else "warning",
             "output": "all good: %d of %d" % (c, checks), "ttl": ttl}
            for c in range(checks)]}
        out.append(json.dumps(batch, separators=(",", ":")).encode())
    return out


def send_period(sock, dgrams, port, every, deadline):
    """Send every datagram once, spread over `every` seconds."""
    start = time.monotonic()
    gap = every / len(dgrams)
    for i, d in enumerate(dgrams):
        t = start + i * gap
        while True:
            now = time.monotonic()
            if now >= t or now >= deadline:
                break
            time.sleep(min(t - now, 0.05))
        sock.sendto(d, ("127.0.0.1", port))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--services", type=int, default=1000)
    p.add_argument("--checks", type=int, default=10)
    p.add_argument("--every", type=float, default=10)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--idle", type=float, default=5)
    p.add_argument("--no-rrd", action="store_true",
                   help="run without RRD storage (the check files)")
    p.add_argument("--vitalsd", default=os.environ.get("VITALSD"))
    a = p.parse_args()
    if not a.vitalsd or a.services < 1 or a.checks < 1 or a.every <= 0:
        p.error("need --vitalsd (or $VITALSD) and positive sizes")

    tmp = tempfile.mkdtemp(prefix="vitals-bench-health-")
    sp, hp = free_port(), free_port()
    cmd = [a.vitalsd, "--statsd", "127.0.0.1:%d" % sp,
           "--http", "127.0.0.1:%d" % hp,
           "--data-dir", os.path.join(tmp, "data")]
    if a.no_rrd:
        with open(os.path.join(tmp, "vitals.json"), "w") as f:
            f.write('{"rrd": {"enabled": false}}')
        cmd += ["-c", os.path.join(tmp, "vitals.json")]
    logf = open(os.path.join(tmp, "vitalsd.log"), "wb")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    ok = True
    try:
        for _ in range(200):
            try:
                metrics(hp)
                break
            except OSError:
                time.sleep(0.05)
        print("machine: %s, %d CPUs, Linux %s" % (
            platform.processor() or platform.machine(), os.cpu_count(),
            platform.release()))
        print("health: %d services x %d checks every %gs for %gs: %s"
              % (a.services, a.checks, a.every, a.duration, " ".join(cmd)))
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(a.idle)
        idle_pct = 100 * (cpu_seconds(proc.pid) - c0) / (
            time.monotonic() - t0)

        dg = datagrams(a.services, a.checks, ttl=int(3 * a.every))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        # Warm-up: two periods create every check and its file.
        m_start = metrics(hp)
        for _ in range(2):
            send_period(sock, dg, sp, a.every, time.monotonic() + a.every)
        time.sleep(0.5)
        m0 = metrics(hp)
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        w0 = children_cpu_seconds(proc.pid)
        end = t0 + a.duration
        periods = 0
        while time.monotonic() < end - a.every / 2:
            send_period(sock, dg, sp, a.every, end)
            periods += 1
        cpu = cpu_seconds(proc.pid) - c0
        wcpu = children_cpu_seconds(proc.pid) - w0
        dt = time.monotonic() - t0
        time.sleep(1)
        m1 = metrics(hp)
        sock.close()
        pct = 100 * cpu / dt
        applied = received(m1, "ok") - received(m0, "ok")
        rejected = sum(v for (n, l), v in m1.items()
                       if n == "vitals_checks_received_total"
                       and ("result", "ok") not in l) - sum(
            v for (n, l), v in m0.items()
            if n == "vitals_checks_received_total"
            and ("result", "ok") not in l)
        sent = periods * a.services * a.checks
        all_applied = received(m1, "ok") - received(m_start, "ok")
        nchecks = m1.get(("vitals_checks", frozenset()), 0)
        res = {"services": a.services, "checks_per_service": a.checks,
               "every": a.every, "seconds": round(dt, 1),
               "checks_sent": sent, "checks_applied": int(applied),
               "rejected": int(rejected), "checks_in_memory": int(nchecks),
               "cpu_percent": round(pct, 2),
               "idle_cpu_percent": round(idle_pct, 2),
               "net_cpu_percent": round(pct - idle_pct, 2),
               "rrd_worker_cpu_percent": round(100 * wcpu / dt, 2),
               "peak_rss_mb": round(peak_rss_mb(proc.pid), 1),
               "checks_per_s": round(applied / dt)}
        print("checks/s  applied   rejected  CPU %   net %   RRD worker %  "
              "RSS MB")
        print("%-9d %-9d %-9d %-7.2f %-7.2f %-13.2f %.1f" % (
            res["checks_per_s"], applied, rejected, pct, pct - idle_pct,
            res["rrd_worker_cpu_percent"], res["peak_rss_mb"]))
        print("target: < 5 %% of one core (the daemon): %s"
              % ("met" if pct < 5 else "MISSED"))
        print(json.dumps(res))
        if (all_applied != sent + 2 * a.services * a.checks or rejected or
                nchecks != a.services * a.checks):
            print("bench_health: not every check was applied", file=sys.stderr)
            ok = False
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
        if rc != 0:
            print("bench_health: vitalsd exit status %s" % rc,
                  file=sys.stderr)
            ok = False
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
