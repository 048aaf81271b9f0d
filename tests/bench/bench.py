#!/usr/bin/python3
"""vitalsd load benchmarks (run by `make bench`).

Scenarios (docs/benchmarks.md explains them and the targets):
  a      counters over 1,000 names, offered as fast as the generator can send
  floor  a8's load into vitals-countrx, which only counts lines (the
         kernel's share of a8 on this machine, now)
  a8     counters over 1,000 names, paced at 8,000,000 lines/s
  b      counters over 1,000 names, paced at 100,000 lines/s
  c      counter/timer/gauge/set mix over 10,000 names, paced at 100,000
         lines/s
  c_sat  c's mix paced at 2,000,000 lines/s; c_sat_100 and c_sat_1000 the
         same with a statsd_exporter mapping file of 100 or 1,000 glob
         rules that maps every name (mapping_yaml below)

For each scenario: pick free loopback ports, start vitalsd pinned to one core
with a fresh data directory and the default 10 s flush, wait for /healthz, measure its
idle CPU, warm up with the same load (--warmup, so every name exists and
the steady state is measured), run vitals-loadgen pinned to another core, let the last windows
flush, then read /metrics and /proc and compute offered and ingested lines/s,
loss, daemon CPU ns per ingested line and peak RSS. Then SIGTERM the daemon
and check it exits 0.

    VITALSD=build/release/vitalsd LOADGEN=build/release/vitals-loadgen \\
    COUNTRX=build/release/vitals-countrx \\
        /usr/bin/python3 tests/bench/bench.py [--scenario a|floor|a8|b|c|all]
        [--duration SECONDS] [--settle SECONDS] [--idle SECONDS] [--keep]

Prints the machine, the command, a table and one JSON line per scenario.
Exit status: 0 when every scenario ran, 1 when something failed to run
(binary missing, daemon did not start, died, or did not exit 0 on SIGTERM,
loadgen failed, /metrics unreadable), 2 for bad arguments. Timing figures
and targets never change the exit status. Python 3 standard library only.
"""

import argparse
import http.client
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_model  # noqa: E402

SCENARIOS = {
    "a": {
        "title": "counters, 1,000 names, unpaced",
        "names": 1000, "mix": "counter", "rate": 0, "datagram": 1400,
    },
    "floor": {
        "title": "a8's load into a receiver that only counts lines",
        "names": 1000, "mix": "counter", "rate": 8000000, "datagram": 1400,
        "receiver": "countrx",
    },
    "a8": {
        "title": "counters, 1,000 names, 8,000,000 lines/s",
        "names": 1000, "mix": "counter", "rate": 8000000, "datagram": 1400,
    },
    "b": {
        "title": "counters, 1,000 names, 100,000 lines/s",
        "names": 1000, "mix": "counter", "rate": 100000, "datagram": 1400,
    },
    "c": {
        "title": "mixed c/ms/g/s, 10,000 names, 100,000 lines/s",
        "names": 10000, "mix": "mixed", "rate": 100000, "datagram": 1400,
    },
    # c's traffic near what one core takes in without loss, with no
    # mapping rules and with 100 and 1,000 glob rules (every name mapped
    # by one of the last 40; docs/benchmarks.md, "Mapping rules").
    "c_sat": {
        "title": "c's mix, 10,000 names, 2,000,000 lines/s, no rules",
        "names": 10000, "mix": "mixed", "rate": 2000000, "datagram": 1400,
        "rules": 0,
    },
    "c_sat_100": {
        "title": "c_sat with 100 glob mapping rules",
        "names": 10000, "mix": "mixed", "rate": 2000000, "datagram": 1400,
        "rules": 100,
    },
    "c_sat_1000": {
        "title": "c_sat with 1,000 glob mapping rules",
        "names": 10000, "mix": "mixed", "rate": 2000000, "datagram": 1400,
        "rules": 1000,
    },
}

# loadgen's names: "svcNN.<area>.<thing>NNNN.<what>", one area per kind.
LOADGEN_KINDS = [("api", "endpoint", "requests"), ("db", "query", "latency"),
                 ("pool", "conn", "active"), ("users", "page", "visitors")]


def mapping_yaml(n):
    """A statsd_exporter mapping file of n glob rules (n >= 40): n - 40
    that match none of loadgen's names (sharing their first components,
    so the trie branches as real files do), then the 40 that map every
    one of them: svcNN.db.query0113.latency -> service svcNN, metric
    db_latency, label thing="query0113"."""
    out = ["mappings:"]
    for i in range(n - 40):
        out += ['- match: "svc%02d.area%04d.*.*"' % (i % 10, i),
                '  name: "decoy_%d_$2"' % i,
                '  labels: {thing: "$1"}']
    for svc in range(10):
        for area, _, what in LOADGEN_KINDS:
            out += ['- match: "svc%02d.%s.*.%s"' % (svc, area, what),
                    '  name: "%s_%s"' % (area, what),
                    '  labels: {service: "svc%02d", thing: "$1"}' % svc]
    return "\n".join(out) + "\n"

# Targets from the issue. Informational only: they never fail the run.
TARGET_A_NS = 40.0          # CPU ns per counter line, scenario a
TARGET_A_LOSS = 1.0         # percent, scenario a
TARGET_A_OFFERED = 8e6      # the rate at which the scenario-a target holds
TARGET_C_NS = 200.0         # CPU ns per line, paced mixed workload
TARGET_C_RSS_MB = 20.0      # peak RSS, 10,000 mixed metrics (MB = 10^6 B)
TARGET_MAP_NS = 30.0        # c_sat with 100 or 1,000 rules over c_sat

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """Something failed to run (as opposed to a figure being poor)."""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- machine ------------------------------------------------------------

def read_first_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def git_commit():
    """HEAD of the repository bench.py lives in, '+dirty' if modified."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    try:
        sha = subprocess.run(["git", "-C", top, "rev-parse", "--short=12",
                              "HEAD"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (sha + ("+dirty" if dirty else "")) if sha else None


def machine_info():
    u = platform.uname()
    info = {
        "nproc": os.cpu_count(),
        "cpus_allowed": sorted(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "kernel": "%s %s %s" % (u.system, u.release, u.version),
        "arch": u.machine,
        "loadavg": read_first_line("/proc/loadavg"),
    }
    gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if gov:
        info["cpufreq_governor"] = gov
    rmem = read_first_line("/proc/sys/net/core/rmem_max")
    if rmem:
        info["net_core_rmem_max"] = int(rmem)
    return info


# ---- /proc --------------------------------------------------------------

def proc_cpu_ns(pid):
    """utime + stime of the whole process (all threads), in ns."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError as e:
        raise BenchError("cannot read /proc/%d/stat: %s" % (pid, e))
    # comm may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])   # fields 14 and 15
    return (utime + stime) * 1_000_000_000 // CLK_TCK


def proc_thread_runtime_ns(pid):
    """{tid: ns on CPU} from /proc/<pid>/task/*/schedstat (ns precision).

    Only live threads are listed, so a delta is exact only when the same
    threads exist at both ends; callers check that. None if unavailable.
    """
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return out


def proc_status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError as e:
        raise BenchError("cannot read /proc/%d/status: %s" % (pid, e))
    return None


def udp_snmp():
    """System-wide UDP counters from /proc/net/snmp (a cross-check)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        if len(rows) >= 2:
            return dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))
    except (OSError, ValueError):
        pass
    return {}


# ---- network ------------------------------------------------------------

def free_ports():
    """A port free for both UDP and TCP (statsd), and a TCP port (HTTP)."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        h = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", 0))
            sport = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", sport))
            except OSError:
                continue
            h.bind(("127.0.0.1", 0))
            hport = h.getsockname()[1]
            if hport != sport:
                return sport, hport
        finally:
            t.close()
            u.close()
            h.close()
    raise BenchError("could not find free loopback ports")


def http_get(port, path, timeout=5.0):
    """(status, body) of GET http://127.0.0.1:<port><path>; no proxies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "text/plain"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---- Prometheus text ----------------------------------------------------

def parse_labels(s):
    labels, i, n = {}, 0, len(s)
    while i < n:
        while i < n and s[i] in " ,":
            i += 1
        if i >= n:
            break
        eq = s.index("=", i)
        key = s[i:eq].strip()
        i = eq + 1
        if i >= n or s[i] != '"':
            raise ValueError("label value not quoted")
        i += 1
        val = []
        while s[i] != '"':
            if s[i] == "\\" and i + 1 < n:
                val.append({"n": "\n"}.get(s[i + 1], s[i + 1]))
                i += 2
            else:
                val.append(s[i])
                i += 1
        labels[key] = "".join(val)
        i += 1
    return labels


def parse_vitals_metrics(text):
    """{name: [(labels, value)]} for the vitals_* samples of a scrape."""
    out = {}
    for line in text.splitlines():
        if not line.startswith("vitals_"):
            continue
        try:
            if "{" in line:
                name, rest = line.split("{", 1)
                lab, rest = rest.rsplit("}", 1)
                labels = parse_labels(lab)
            else:
                name, rest = line.split(None, 1)
                labels = {}
            value = float(rest.split()[0])
        except (ValueError, IndexError):
            continue
        out.setdefault(name.strip(), []).append((labels, value))
    return out


def msum(metrics, name, **want):
    """Sum of the samples of `name` whose labels match; None if absent."""
    if name not in metrics:
        return None
    return sum(v for labels, v in metrics[name]
               if all(labels.get(k) == w for k, w in want.items()))


def by_label(metrics, name, label):
    out = {}
    for labels, v in metrics.get(name, []):
        key = labels.get(label, "")
        out[key] = out.get(key, 0.0) + v
    return out


def scrape(port):
    try:
        status, body = http_get(port, "/metrics", timeout=30.0)
    except (OSError, http.client.HTTPException) as e:
        raise BenchError("GET /metrics failed: %s" % e)
    if status != 200:
        raise BenchError("GET /metrics answered %d" % status)
    m = parse_vitals_metrics(body.decode("utf-8", "replace"))
    if "vitals_lines_total" not in m:
        raise BenchError("/metrics has no vitals_lines_total samples")
    return m


# ---- processes ----------------------------------------------------------

def pin_to(cpu):
    def fn():
        os.sched_setaffinity(0, {cpu})
    return fn


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 8192))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join("    | " + l for l in lines[-n:])
    except OSError:
        return "    | (no log)"


class Daemon:
    def __init__(self, vitalsd, tmpdir, cpu, flush, rules=0):
        self.vitalsd, self.tmpdir, self.cpu, self.flush = \
            vitalsd, tmpdir, cpu, flush
        self.rules = rules
        self.proc = None
        self.cmd = None
        self.log_path = os.path.join(tmpdir, "daemon.log")
        self.sport = self.hport = None

    def start(self, attempts=3):
        last = None
        for _ in range(attempts):
            self.sport, self.hport = free_ports()
            data = os.path.join(self.tmpdir, "data")
            os.makedirs(data, exist_ok=True)
            # The ingest path only: RRD storage (file creation and
            # updates, measured by bench_storage.py) stays off.
            conf = os.path.join(self.tmpdir, "ingest-only.json")
            settings = {"rrd": {"enabled": False}}
            if self.rules:
                mapping = os.path.join(self.tmpdir, "statsd_mapping.yml")
                with open(mapping, "w") as f:
                    f.write(mapping_yaml(self.rules))
                settings["mapping_file"] = mapping
            with open(conf, "w") as f:
                f.write(json.dumps(settings) + "\n")
            self.cmd = [self.vitalsd, "-c", conf,
                        "--statsd", "127.0.0.1:%d" % self.sport,
                        "--http", "127.0.0.1:%d" % self.hport,
                        "--data-dir", data, "--flush", self.flush]
            with open(self.log_path, "ab") as logf:
                self.proc = subprocess.Popen(
                    self.cmd, stdin=subprocess.DEVNULL, stdout=logf,
                    stderr=subprocess.STDOUT, cwd=self.tmpdir,
                    preexec_fn=pin_to(self.cpu))
            try:
                self.wait_healthy()
                return
            except BenchError as e:
                last = e
                if self.proc.poll() is None:
                    raise   # running but never healthy: do not retry
                # exited early (a port taken in between?): try new ports
                log("daemon exited during start-up (status %s); retrying"
                    % self.proc.returncode)
        raise last

    def wait_healthy(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("daemon exited with status %d before "
                                 "/healthz answered\n%s"
                                 % (self.proc.returncode,
                                    tail(self.log_path)))
            try:
                status, _ = http_get(self.hport, "/healthz", timeout=1.0)
                if status == 200:
                    return
                last = "status %d" % status
            except (OSError, http.client.HTTPException) as e:
                last = str(e)
            time.sleep(0.1)
        raise BenchError("/healthz did not answer 200 within %.0f s (%s)\n%s"
                         % (timeout, last, tail(self.log_path)))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30.0):
        """SIGTERM, wait; returns (exit status, seconds, killed)."""
        if self.proc is None:
            return None, 0.0, False
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0, False
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
            return rc, time.monotonic() - t0, False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return self.proc.returncode, time.monotonic() - t0, True


def run_loadgen(loadgen, cpu, port, sc, duration):
    cmd = [loadgen, "--host", "127.0.0.1", "--port", str(port),
           "--duration", "%g" % duration, "--rate", "%.15g" % sc["rate"],
           "--names", str(sc["names"]), "--mix", sc["mix"],
           "--datagram", str(sc["datagram"]), "--cpu", str(cpu)]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError("loadgen did not stop within %g s" % (duration + 60))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if proc.returncode != 0:
        raise BenchError("loadgen exited with status %d: %s"
                         % (proc.returncode,
                            err.decode("utf-8", "replace").strip()))
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        res = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise BenchError("loadgen printed no JSON result: %r" % out[-200:])
    return cmd, res, cpu_s


def load_figures(lg, lg_cpu, ingested, cpu_ns, window, idle_ns_per_s=0.0):
    """The figures every scenario reports: the generator's offer, what
    the receiver took in, and its CPU per line over the window."""
    offered, secs = lg["offered_lines"], lg["seconds"]
    per_line = (lambda ns: ns / ingested) if ingested else (lambda ns: None)
    return {
        "offered_lines": offered,
        "offered_datagrams": lg["datagrams"],
        "load_seconds": secs,
        "offered_lines_per_s": lg["offered_lines_per_s"],
        "send_errors": lg["send_errors"],
        "pacing_shortfall_lines": lg.get("pacing_shortfall_lines"),
        "loadgen_cpu_s": lg_cpu,
        "ingested_lines": ingested,
        "ingested_lines_per_s": ingested / secs if secs > 0 else 0.0,
        "loss_pct": (100.0 * (1.0 - ingested / offered)
                     if offered else None),
        "cpu_window_s": window,
        "daemon_cpu_s": cpu_ns / 1e9,
        "daemon_cpu_pct": cpu_ns / window / 1e7 if window else None,
        "cpu_ns_per_line": per_line(cpu_ns),
        "cpu_ns_per_line_net_of_idle": per_line(
            max(0.0, cpu_ns - idle_ns_per_s * window)),
        "cpu_resolution_ns_per_line": per_line(1e9 / CLK_TCK),
    }


# ---- one scenario -------------------------------------------------------

def run_scenario(key, args, vitalsd, loadgen, dcpu, lcpu):
    sc = dict(SCENARIOS[key])
    if key == "a" and args.a_rate:
        sc["rate"] = args.a_rate
        sc["title"] = "counters, 1,000 names, paced at %s lines/s" % (
            format(args.a_rate, ",.0f"))
    r = {"scenario": key, "title": sc["title"], "duration_s": args.duration,
         "names": sc["names"], "mix": sc["mix"], "rate_target": sc["rate"],
         "ok": False}
    tmpdir = tempfile.mkdtemp(prefix="vitals-bench-%s-" % key)
    d = Daemon(vitalsd, tmpdir, dcpu, args.flush, sc.get("rules", 0))
    try:
        d.start()
        pid = d.proc.pid
        r["daemon_cmd"] = shlex.join(["taskset", "-c", str(dcpu)] + d.cmd)
        log("[%s] daemon pid %d up (statsd udp 127.0.0.1:%d, http :%d)"
            % (key, pid, d.sport, d.hport))

        # Idle baseline: after the first flushes, before any load.
        time.sleep(1.0)
        c0, t0 = proc_cpu_ns(pid), time.monotonic()
        time.sleep(args.idle)
        c1, t1 = proc_cpu_ns(pid), time.monotonic()
        idle_ns_per_s = (c1 - c0) / (t1 - t0)
        r["idle_cpu_pct"] = idle_ns_per_s / 1e7
        r["idle_cpu_ms_per_s"] = idle_ns_per_s / 1e6

        # Warm-up: the same load first, so every name exists and a window
        # with all of them has closed. The measured part is the steady
        # state; the first contact (creating each metric) is reported
        # apart, as the warm-up's CPU.
        if args.warmup > 0:
            wc0 = proc_cpu_ns(pid)
            log("[%s] warm-up: %g s of the same load, then one flush"
                % (key, args.warmup))
            run_loadgen(loadgen, lcpu, d.sport, sc, args.warmup)
            time.sleep(args.settle)
            r["warmup_s"] = args.warmup
            r["warmup_cpu_s"] = (proc_cpu_ns(pid) - wc0) / 1e9

        m0 = scrape(d.hport)
        snmp0 = udp_snmp()
        sched_start = proc_thread_runtime_ns(pid)
        cpu_start, w0 = proc_cpu_ns(pid), time.monotonic()
        log("[%s] load: %s for %g s" % (key, sc["title"], args.duration))
        lcmd, lg, lg_cpu = run_loadgen(loadgen, lcpu, d.sport, sc,
                                       args.duration)
        r["loadgen_cmd"] = shlex.join(lcmd)
        time.sleep(args.settle)
        if not d.alive():
            raise BenchError("daemon died under load (status %d)\n%s"
                             % (d.proc.returncode, tail(d.log_path)))
        cpu_end, w1 = proc_cpu_ns(pid), time.monotonic()
        sched_end = proc_thread_runtime_ns(pid)
        hwm_kb = proc_status_kb(pid, "VmHWM")
        rss_kb = proc_status_kb(pid, "VmRSS")
        snmp1 = udp_snmp()
        m1 = scrape(d.hport)

        ok0 = msum(m0, "vitals_lines_total", result="ok") or 0.0
        ok1 = msum(m1, "vitals_lines_total", result="ok") or 0.0
        all0 = msum(m0, "vitals_lines_total")
        all1 = msum(m1, "vitals_lines_total")
        ingested = int(ok1 - ok0)
        invalid = int((all1 - all0) - (ok1 - ok0))
        res0 = by_label(m0, "vitals_lines_total", "result")
        res1 = by_label(m1, "vitals_lines_total", "result")
        not_ok = {k: int(v - res0.get(k, 0.0)) for k, v in res1.items()
                  if k != "ok" and v - res0.get(k, 0.0) > 0}

        def delta(name):
            a, b = msum(m0, name), msum(m1, name)
            return None if a is None or b is None else int(b - a)

        cpu_ns = cpu_end - cpu_start
        sched_ns = None
        if (sched_start and sched_end
                and set(sched_start) == set(sched_end)):
            sched_ns = sum(sched_end[t] - sched_start[t] for t in sched_end)
        window = w1 - w0
        r.update(load_figures(lg, lg_cpu, ingested, cpu_ns, window,
                              idle_ns_per_s))
        r.update({
            "invalid_lines": invalid,
            "lines_not_ok_by_result": not_ok,
            "udp_packets": delta("vitals_udp_packets_total"),
            "kernel_drops": delta("vitals_udp_kernel_drops_total"),
            "sys_udp_rcvbuf_errors": (snmp1.get("RcvbufErrors", 0)
                                      - snmp0.get("RcvbufErrors", 0)),
            "cpu_ns_per_line_schedstat": (sched_ns / ingested
                                          if ingested and sched_ns is not None
                                          else None),
            "peak_rss_kib": hwm_kb,
            "peak_rss_mb": hwm_kb * 1024 / 1e6 if hwm_kb else None,
            "rss_end_kib": rss_kb,
        })
        if invalid:
            log("[%s] WARNING: %d lines not ok: %s" % (key, invalid, not_ok))
        for name in ("vitals_udp_packets_total",
                     "vitals_udp_kernel_drops_total"):
            if name not in m1:
                log("[%s] WARNING: /metrics has no %s" % (key, name))
        r["targets"] = judge(key, r)
    except BenchError as e:
        r["error"] = str(e)
    finally:
        if d.proc is not None:
            rc, took, killed = d.stop()
            r["daemon_exit_status"] = rc
            r["daemon_stop_s"] = took
            if killed:
                r.setdefault("error", "daemon did not exit within 30 s of "
                                      "SIGTERM; killed")
            elif rc != 0 and "error" not in r:
                r["error"] = ("daemon exited with status %s on SIGTERM\n%s"
                              % (rc, tail(d.log_path)))
        if args.keep:
            r["tmpdir"] = tmpdir
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    r["ok"] = "error" not in r
    return r


def run_floor(key, args, countrx, loadgen, dcpu, lcpu):
    """The kernel's share: scenario a8's load into vitals-countrx
    (tests/bench/countrx.c), which reads like the daemon but only counts
    lines. Its CPU per line, measured minutes apart from a8's, is the floor
    under a8's figure on this machine at this moment."""
    sc = dict(SCENARIOS[key])
    r = {"scenario": key, "title": sc["title"], "duration_s": args.duration,
         "names": sc["names"], "mix": sc["mix"], "rate_target": sc["rate"],
         "ok": False}
    port = free_ports()[0]
    cmd = [countrx, str(port)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=pin_to(dcpu))
    try:
        if proc.stdout.readline().strip() != b"ready":
            raise BenchError("vitals-countrx did not start: %s" % (
                proc.stderr.read().decode("utf-8", "replace").strip()))
        r["daemon_cmd"] = shlex.join(["taskset", "-c", str(dcpu)] + cmd)
        if args.warmup > 0:
            run_loadgen(loadgen, lcpu, port, sc, args.warmup)
            time.sleep(1.0)

        def counts():
            proc.send_signal(signal.SIGUSR1)
            return json.loads(proc.stdout.readline())

        n0 = counts()
        c0, w0 = proc_cpu_ns(proc.pid), time.monotonic()
        lcmd, lg, lg_cpu = run_loadgen(loadgen, lcpu, port, sc,
                                       args.duration)
        time.sleep(1.0)
        c1, w1 = proc_cpu_ns(proc.pid), time.monotonic()
        n1 = counts()
        ingested = n1["lines"] - n0["lines"]
        r["loadgen_cmd"] = shlex.join(lcmd)
        r.update(load_figures(lg, lg_cpu, ingested, c1 - c0, w1 - w0))
        r.update({
            "invalid_lines": 0, "kernel_drops": None, "udp_packets": None,
            "lines_not_ok_by_result": {}, "cpu_ns_per_line_schedstat": None,
            "idle_cpu_pct": 0.0, "peak_rss_mb": None,
        })
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        r["daemon_exit_status"] = proc.returncode
    except (BenchError, ValueError, KeyError, IndexError,
            subprocess.TimeoutExpired) as e:
        r["error"] = str(e) or type(e).__name__
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    r["ok"] = "error" not in r
    return r


def judge(key, r):
    """Target verdicts, for the reader; never affect the exit status."""
    ns, loss = r.get("cpu_ns_per_line"), r.get("loss_pct")
    out = []
    if key in ("a", "a8"):
        off = r["offered_lines_per_s"]
        if off < 0.98 * TARGET_A_OFFERED:
            out.append("offered %.1fM/s < 8M/s: the generator did not reach "
                       "the target's rate" % (off / 1e6))
        elif off > 1.1 * TARGET_A_OFFERED:
            out.append("offered %.1fM/s > 8M/s: loss is measured above the "
                       "target's rate (--a-rate 8000000 paces it)"
                       % (off / 1e6))
        out.append("%s <=40ns/line" % ("met" if ns is not None
                                       and ns <= TARGET_A_NS else "MISSED"))
        out.append("%s loss<1%%" % ("met" if loss is not None
                                    and loss < TARGET_A_LOSS else "MISSED"))
    elif key == "c":
        out.append("%s <=200ns/line" % ("met" if ns is not None
                                        and ns <= TARGET_C_NS else "MISSED"))
        mb = r.get("peak_rss_mb")
        out.append("%s RSS<20MB" % ("met" if mb is not None
                                    and mb < TARGET_C_RSS_MB else "MISSED"))
    return out


# ---- report -------------------------------------------------------------

def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def print_table(results):
    cols = [("scen", 10), ("offered/s", 11), ("ingested/s", 11),
            ("loss %", 7), ("ns/line", 8), ("net ns", 7), ("idle %", 6),
            ("RSS MB", 7), ("invalid", 7), ("k.drops", 9), ("exit", 4)]
    head = "  ".join(name.rjust(w) for name, w in cols)
    print(head)
    print("-" * len(head))
    for r in results:
        if "offered_lines" not in r:
            row = [r["scenario"].rjust(10), "FAILED: " +
                   r.get("error", "?").splitlines()[0]]
            print("  ".join(row))
            continue
        vals = [r["scenario"],
                fmt(r["offered_lines_per_s"], ",.0f"),
                fmt(r["ingested_lines_per_s"], ",.0f"),
                fmt(r["loss_pct"], ".2f"),
                fmt(r["cpu_ns_per_line"], ".1f"),
                fmt(r["cpu_ns_per_line_net_of_idle"], ".1f"),
                fmt(r["idle_cpu_pct"], ".2f"),
                fmt(r["peak_rss_mb"], ".1f"),
                fmt(r["invalid_lines"], "d"),
                fmt(r["kernel_drops"], ",d"),
                fmt(r.get("daemon_exit_status"), "d")]
        print("  ".join(str(v).rjust(w) for v, (_, w) in zip(vals, cols)))
    print()
    for r in results:
        print("%s: %s" % (r["scenario"], r["title"]))
        if "offered_lines" in r:
            print("   daemon CPU %.3f s over %.1f s (%.1f%% of a core); "
                  "schedstat %s ns/line; resolution +-%s ns/line; "
                  "datagrams %s offered, %s received; loadgen CPU %.2f s, "
                  "send errors %s, behind schedule %s lines"
                  % (r["daemon_cpu_s"], r["cpu_window_s"],
                     r["daemon_cpu_pct"] or 0.0,
                     fmt(r["cpu_ns_per_line_schedstat"], ".1f"),
                     fmt(r["cpu_resolution_ns_per_line"], ".1f"),
                     format(r["offered_datagrams"], ","),
                     fmt(r["udp_packets"], ","), r["loadgen_cpu_s"],
                     fmt(r["send_errors"], ","),
                     fmt(r["pacing_shortfall_lines"], ",.0f")))
        if r.get("warmup_cpu_s") is not None:
            print("   warm-up (not measured above): %g s of the same load "
                  "plus one flush took %.3f s of daemon CPU, creating every "
                  "metric included" % (r["warmup_s"], r["warmup_cpu_s"]))
        if r.get("targets"):
            print("   targets: " + "; ".join(r["targets"]))
        if r.get("lines_not_ok_by_result"):
            print("   lines not ok: " + ", ".join(
                "%s=%d" % kv for kv in sorted(r["lines_not_ok_by_result"]
                                              .items())))
        if "error" in r:
            print("   ERROR: " + r["error"].replace("\n", "\n   "))
    print()
    print("offered/ingested: lines/s over the load time. ns/line: daemon "
          "utime+stime (/proc/<pid>/stat) from just before the load to the "
          "end of the settle time, per ingested line; net ns: the same minus "
          "the idle baseline. idle %: daemon CPU with no load, % of one "
          "core. RSS: VmHWM, MB = 10^6 bytes. k.drops: "
          "vitals_udp_kernel_drops_total delta.")


def parse_args():
    ap = argparse.ArgumentParser(
        description="vitalsd load benchmarks (see docs/benchmarks.md)")
    ap.add_argument("--scenario", action="append",
                    help="a, floor, a8, b, c, c_sat, c_sat_100, c_sat_1000 "
                         "or all; repeat or comma-separate (default all)")
    ap.add_argument("--duration", type=float, default=20.0,
                    help="load seconds per scenario (default 20, max 600)")
    ap.add_argument("--settle", type=float, default=11.0,
                    help="seconds after the load for the last flushes; "
                         "self metrics are published at each flush, so "
                         "more than --flush (default 11)")
    ap.add_argument("--warmup", type=float, default=5.0,
                    help="seconds of the same load before the measured "
                         "part, then --settle (default 5; 0 measures the "
                         "first contact too)")
    ap.add_argument("--idle", type=float, default=3.0,
                    help="seconds of idle-baseline measurement (default 3)")
    ap.add_argument("--flush", default="10s",
                    help="the daemon's --flush (default 10s, as shipped)")
    ap.add_argument("--a-rate", type=float, default=0.0,
                    help="pace scenario a at this many lines/s instead of "
                         "unpaced, e.g. 8000000 (default 0 = unpaced)")
    ap.add_argument("--daemon-cpu", type=int, default=0)
    ap.add_argument("--loadgen-cpu", type=int, default=1)
    ap.add_argument("--vitalsd", default=os.environ.get("VITALSD"),
                    help="daemon binary (default $VITALSD)")
    ap.add_argument("--loadgen", default=os.environ.get("LOADGEN"),
                    help="generator binary (default $LOADGEN)")
    ap.add_argument("--countrx", default=os.environ.get("COUNTRX"),
                    help="the floor's receiver binary (default $COUNTRX)")
    ap.add_argument("--keep", action="store_true",
                    help="keep each scenario's temp dir (data, daemon.log)")
    args = ap.parse_args()
    keys = []
    for item in args.scenario or ["all"]:
        for k in item.split(","):
            k = k.strip().lower()
            if k == "all":
                keys.extend(SCENARIOS)
            elif k in SCENARIOS:
                keys.append(k)
            else:
                ap.error("unknown scenario %r (a, floor, a8, b, c, c_sat, "
                         "c_sat_100, c_sat_1000 or all)" % k)
    args.keys = list(dict.fromkeys(keys))
    if not 0 < args.duration <= 600:
        ap.error("--duration must be in (0, 600]")
    if args.a_rate < 0:
        ap.error("--a-rate must be >= 0")
    if args.settle < 0 or args.idle <= 0:
        ap.error("--settle must be >= 0 and --idle > 0")
    return args


def main():
    args = parse_args()
    info = machine_info()
    env_prefix = []
    for var in ("VITALSD", "LOADGEN", "COUNTRX"):
        if os.environ.get(var):
            env_prefix.append("%s=%s" % (var, os.environ[var]))
    command = " ".join(env_prefix + [shlex.join([sys.executable] + sys.argv)])

    print("vitalsd benchmark")
    print("  machine: %d CPUs (%s allowed), %s" % (
        info["nproc"] or 0, ",".join(map(str, info["cpus_allowed"])),
        info["cpu_model"]))
    print("  kernel:  %s (%s)" % (info["kernel"], info["arch"]))
    print("  load:    %s" % info["loadavg"])
    print("  command: %s" % command)
    commit = git_commit()
    print("  commit:  %s" % (commit or "unknown"))
    print(flush=True)

    for name, path in (("vitalsd (VITALSD)", args.vitalsd),
                       ("loadgen (LOADGEN)", args.loadgen)):
        if not path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            print("bench: %s binary not found or not executable: %r"
                  % (name, path), file=sys.stderr)
            return 1
    vitalsd = os.path.abspath(args.vitalsd)
    loadgen = os.path.abspath(args.loadgen)

    allowed = set(info["cpus_allowed"])
    dcpu, lcpu = args.daemon_cpu, args.loadgen_cpu
    if dcpu not in allowed:
        print("bench: --daemon-cpu %d is not available to this process"
              % dcpu, file=sys.stderr)
        return 1
    if lcpu not in allowed:
        others = sorted(allowed - {dcpu})
        if not others:
            log("WARNING: only one CPU; daemon and loadgen share core %d, "
                "figures are not comparable" % dcpu)
            lcpu = dcpu
        else:
            log("--loadgen-cpu %d not available; using %d"
                % (lcpu, others[0]))
            lcpu = others[0]
    elif lcpu == dcpu:
        log("WARNING: daemon and loadgen share core %d" % dcpu)

    results = []
    for key in args.keys:
        if SCENARIOS[key].get("receiver") == "countrx":
            if not args.countrx or not os.access(args.countrx, os.X_OK):
                print("bench: vitals-countrx (COUNTRX) not found: %r"
                      % args.countrx, file=sys.stderr)
                return 1
            r = run_floor(key, args, os.path.abspath(args.countrx),
                          loadgen, dcpu, lcpu)
        else:
            r = run_scenario(key, args, vitalsd, loadgen, dcpu, lcpu)
        r["machine"] = {k: info[k] for k in ("nproc", "cpu_model", "kernel")}
        r["daemon_cpu"], r["loadgen_cpu"] = dcpu, lcpu
        r["command"], r["commit"] = command, commit
        results.append(r)
        if r["ok"]:
            log("[%s] done: offered %.0f/s, ingested %.0f/s, %s ns/line"
                % (key, r["offered_lines_per_s"], r["ingested_lines_per_s"],
                   fmt(r["cpu_ns_per_line"], ".1f")))
        else:
            log("[%s] FAILED: %s" % (key, r["error"].splitlines()[0]))

    print()
    print_table(results)
    floor = [r for r in results if r["scenario"] == "floor" and r["ok"]]
    a8 = [r for r in results if r["scenario"] == "a8" and r["ok"]]
    if floor and a8 and floor[0]["cpu_ns_per_line"] and \
            a8[0]["cpu_ns_per_line"]:
        print("a8 above the floor (parsing and aggregating): %.1f ns/line"
              % (a8[0]["cpu_ns_per_line"] - floor[0]["cpu_ns_per_line"]))
    base = [r for r in results if r["scenario"] == "c_sat" and r["ok"]]
    for key in ("c_sat_100", "c_sat_1000"):
        mapped = [r for r in results if r["scenario"] == key and r["ok"]]
        if not (base and mapped and base[0]["cpu_ns_per_line"]
                and mapped[0]["cpu_ns_per_line"]):
            continue
        extra = mapped[0]["cpu_ns_per_line"] - base[0]["cpu_ns_per_line"]
        loss = mapped[0]["loss_pct"]
        print("%s over c_sat (mapping rules): %+.1f ns/line, loss %.2f %% "
              "(target: at most +%.0f ns/line, 0 %% loss): %s"
              % (key, extra, loss, TARGET_MAP_NS,
                 "met" if extra <= TARGET_MAP_NS and loss is not None
                 and loss <= 0.0 else "MISSED"))
    print()
    for r in results:
        print(json.dumps(r, sort_keys=True))
    sys.stdout.flush()
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
