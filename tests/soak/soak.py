#!/usr/bin/python3
"""vitalsd soak under failure: `make soak` (SOAK_SECONDS, default 600).

One vitalsd runs for the whole time with a 1 s flush while this script:

  - sends statsd over UDP (a few hundred names, timers, gauges, sets),
    counted lines over TCP (many short and a few long-lived connections)
    and counted lines over HTTP (POST /api/v1/metrics), and JSON checks;
  - with --amqp (default when rabbitmq-server is installed): runs a real
    RabbitMQ node on a free loopback port, publishes counted statsd
    bodies to it with publisher confirms (amqp-publish), and restarts
    the broker every --broker-every seconds;
  - scrapes /metrics, the services API, a graph and the pages all the
    time;
  - sends SIGHUP every --hup-every seconds;
  - as root: puts the data directory on a small tmpfs, fills it up every
    --fill-every seconds and frees it again after a while, so the RRD
    writer and the state file see ENOSPC and must recover;
  - kills helper processes every --helper-kill-every seconds, in turn the
    fork server's spare, the fork server, and both at once (kill -9);
  - stops the RRD worker (vitals-rrdw) with SIGSTOP for --stall-hold
    seconds every --stall-every seconds, then SIGCONT.

At the end it checks, and prints figures for:
  - RSS is flat: the mean of the last third is not above the mean of the
    middle third by more than 10 % (+2 MB);
  - no file descriptor leaked (same count as after warm-up, +2);
  - every TCP, HTTP and confirmed AMQP line was counted exactly;
  - storage errors during the fills were followed by writes again;
  - after every helper kill, graphs answered 200 and storage wrote again
    within 15 s, no request waited more than 3 s meanwhile, and the loss
    is what is stated: only updates counted as storage errors (the round
    the kill interrupted), nothing skipped;
  - after every writer stall, nothing was lost (no error, no skip) and the
    queue was written;
  - SIGTERM → exit 0 within shutdown_timeout, no helper process outlives
    the daemon, and no sanitizer report in the log.

Exit status 0 when every check passed, 1 otherwise, 2 for bad arguments.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integ"))
from harness import free_port, parse_exposition  # noqa: E402


def log(msg):
    print("soak: %s" % msg, flush=True)


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


class Counted:
    """Lines sent that must all be counted, by channel."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {}

    def add(self, channel, n):
        with self.lock:
            self.sent[channel] = self.sent.get(channel, 0) + n


class Soak:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.errors = []
        self.counted = Counted()
        self.dir = tempfile.mkdtemp(prefix="vitals-soak-")
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        self.tmpfs = False
        self.statsd_port = free_port()
        self.http_port = free_port()
        self.samples = []          # (t, rss_kb, fds)
        self.fills = []  # (errors before, errors while full, updates after, created)
        self.scrapes = 0
        self.hups = 0
        self.broker = None
        self.helper_kills = []   # (kind, recovered in s or None, slowest
                                 #  request s, errors, skipped)
        self.stalls = []         # (errors, skipped, updates after)
        self.family = {}         # helper pid -> start time, ever seen

    # -- set-up ---------------------------------------------------------
    def mount_tmpfs(self):
        if os.geteuid() != 0 or self.args.no_tmpfs:
            log("not root (or --no-tmpfs): data directory on the normal "
                "disk, no disk-full phase")
            return
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=%dm" % self.args.tmpfs_mb, "tmpfs",
                            self.data], capture_output=True, text=True)
        if r.returncode != 0:
            log("cannot mount a tmpfs (%s): no disk-full phase"
                % r.stderr.strip())
            return
        self.tmpfs = True
        log("data directory on a %d MB tmpfs" % self.args.tmpfs_mb)

    def start_daemon(self):
        cfg = {"health": {"save_interval": "1s"},
               "rrd": {"points_per_range": 100}}
        if self.broker:
            cfg["amqp"] = {"url": self.broker.url}
        path = os.path.join(self.dir, "vitals.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(self.dir, "vitalsd.log")
        self.log_file = open(self.log_path, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:exitcode=99")
        self.proc = subprocess.Popen(
            [self.args.vitalsd, "-c", path,
             "--statsd", "127.0.0.1:%d" % self.statsd_port,
             "--http", "127.0.0.1:%d" % self.http_port,
             "--data-dir", self.data, "--flush", "1s"],
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get(self.url("/healthz"))[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("vitalsd did not answer /healthz")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.http_port, path)

    def metrics(self):
        return parse_exposition(get(self.url("/metrics"))[1].decode())

    # -- traffic --------------------------------------------------------
    def udp_load(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = random.Random(1)
        while not self.stop.is_set():
            lines = []
            for _ in range(30):
                n = rng.randrange(300)
                svc = "soak%d" % (n % 10)
                kind = n % 4
                if kind == 0:
                    lines.append("%s.req%d:1|c" % (svc, n))
                elif kind == 1:
                    lines.append("%s.lat%d:%.1f|ms" % (
                        svc, n, rng.lognormvariate(2.5, 0.6)))
                elif kind == 2:
                    lines.append("%s.depth%d:%d|g" % (svc, n,
                                                      rng.randrange(100)))
                else:
                    lines.append("%s.users%d:u%d|s" % (svc, n,
                                                       rng.randrange(500)))
            s.sendto("\n".join(lines).encode(),
                     ("127.0.0.1", self.statsd_port))
            checks = [{"service": "soak%d" % i, "check": "alive",
                       "status": "ok" if rng.random() > 0.05 else "warning",
                       "output": "tick", "ttl": 60} for i in range(10)]
            s.sendto(json.dumps(checks).encode(),
                     ("127.0.0.1", self.statsd_port))
            time.sleep(0.005)
        s.close()

    def tcp_load(self):
        long_lived = []
        rng = random.Random(2)
        while not self.stop.is_set():
            try:
                if len(long_lived) < 4:
                    long_lived.append(socket.create_connection(
                        ("127.0.0.1", self.statsd_port), timeout=5))
                c = rng.choice(long_lived)
                n = rng.randrange(1, 50)
                c.sendall(b"soak.tcp_lines:1|c\n" * n)
                self.counted.add("tcp", n)
                # and a short-lived connection
                with socket.create_connection(
                        ("127.0.0.1", self.statsd_port), timeout=5) as s:
                    s.sendall(b"soak.tcp_lines:1|c\n" * 3)
                self.counted.add("tcp", 3)
            except OSError as e:
                self.errors.append("tcp: %s" % e)
                return
            time.sleep(0.01)
        for c in long_lived:
            c.close()

    def http_load(self):
        while not self.stop.is_set():
            body = b"soak.http_lines:1|c\n" * 20
            req = urllib.request.Request(self.url("/api/v1/metrics"),
                                         data=body, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    if r.status == 202:
                        self.counted.add("http", 20)
            except OSError as e:
                self.errors.append("http post: %s" % e)
                return
            time.sleep(0.05)

    def scraper(self):
        paths = ["/metrics", "/api/v1/services", "/api/v1/services/soak1",
                 "/graph/soak1/req1.svg?from=-10m", "/", "/?wall=1",
                 "/services/soak1", "/api/v1/alerts"]
        while not self.stop.is_set():
            for p in paths:
                try:
                    get(self.url(p))
                except urllib.error.HTTPError as e:
                    if e.code >= 500 and e.code != 503:
                        self.errors.append("GET %s: %d" % (p, e.code))
                except OSError as e:
                    self.errors.append("GET %s: %s" % (p, e))
                    return
                self.scrapes += 1
            time.sleep(0.2)

    def amqp_load(self):
        rng = random.Random(3)
        while not self.stop.is_set():
            n = rng.randrange(1, 20)
            body = "soak.amqp_lines:1|c\n" * n
            try:
                # amqp-publish exits 0 once the broker has the persistent
                # message in its durable queue (the channel closed cleanly
                # after it); while the broker restarts it fails and the
                # lines are not counted as sent.
                self.broker.publish(body, "soak.metrics",
                                    content_type="text/plain")
                self.counted.add("amqp", n)
            except (subprocess.CalledProcessError,
                    subprocess.TimeoutExpired):
                # It may have reached the broker before the failure.
                self.counted.add("amqp_uncertain", n)
            time.sleep(0.1)

    # -- faults and watching -------------------------------------------
    def watch(self):
        pid = self.proc.pid
        while not self.stop.is_set():
            try:
                with open("/proc/%d/status" % pid) as f:
                    rss = next(int(line.split()[1]) for line in f
                               if line.startswith("VmRSS:"))
                fds = len(os.listdir("/proc/%d/fd" % pid))
            except (OSError, StopIteration):
                self.errors.append("vitalsd went away")
                return
            self.samples.append((time.time(), rss, fds))
            time.sleep(2)

    def fill_disk(self):
        filler = os.path.join(self.data, "filler")
        m = self.metrics()
        before = m.get(("vitals_storage_errors_total", frozenset()), 0)
        try:
            with open(filler, "wb") as f:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
        except OSError:
            pass
        log("data disk full")
        # New names need new files, which cannot be created now.
        fresh = ["soakfill%d.n%d" % (len(self.fills), i) for i in range(20)]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t_end = time.time() + self.args.fill_hold
        while time.time() < t_end:
            sock.sendto("\n".join("%s:1|c" % n for n in fresh).encode(),
                        ("127.0.0.1", self.statsd_port))
            time.sleep(0.5)
        m = self.metrics()
        during = m.get(("vitals_storage_errors_total", frozenset()), 0)
        os.unlink(filler)
        log("data disk freed")
        upd = m.get(("vitals_storage_updates_total", frozenset()), 0)
        for _ in range(10):
            sock.sendto("\n".join("%s:1|c" % n for n in fresh).encode(),
                        ("127.0.0.1", self.statsd_port))
            time.sleep(0.5)
        sock.close()
        m = self.metrics()
        after = m.get(("vitals_storage_updates_total", frozenset()), 0)
        created = all(os.path.exists(os.path.join(
            self.data, n.split(".")[0], n.split(".")[1] + ".rrd"))
            for n in fresh)
        self.fills.append((before, during, after - upd, created))

    # -- helper processes ------------------------------------------------
    @staticmethod
    def _stat(pid):
        """(comm, state, start time) of pid, or None when gone."""
        try:
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
        except OSError:
            return None
        rest = s[s.rindex(")") + 2:].split()
        return s[s.index("(") + 1:s.rindex(")")], rest[0], int(rest[19])

    def _children(self, pid):
        kids = []
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            return kids
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                    kids += [int(k) for k in f.read().split()]
            except OSError:
                pass
        return kids

    def helpers(self):
        """Live helpers below the daemon: {pid: comm}; remembered, since a
        spare that took over is reparented away from the daemon."""
        roots = [self.proc.pid] + list(self.family)
        unvisited = [p for p in roots if self._alive(p)]
        while unvisited:
            p = unvisited.pop()
            for k in self._children(p):
                s = self._stat(k)
                if s and k not in self.family and s[1] != "Z":
                    self.family[k] = s[2]
                    unvisited.append(k)
        return {p: self._stat(p)[0] for p in self.family if self._alive(p)}

    def _alive(self, pid):
        if pid == self.proc.pid:
            return self.proc.poll() is None
        s = self._stat(pid)
        return (s is not None and s[1] != "Z" and
                self.family.get(pid, s[2]) == s[2])

    def server_and_spare(self):
        for p, comm in self.helpers().items():
            spares = [k for k in self._children(p)
                      if (self._stat(k) or ("",))[0] == "vitalsd"]
            if comm == "vitalsd" and len(spares) == 1 and p != self.proc.pid:
                return p, spares[0]
        return None

    def _storage(self):
        m = self.metrics()
        skipped = sum(v for (n, _), v in m.items()
                      if n == "vitals_storage_skipped_total")
        return (m.get(("vitals_storage_errors_total", frozenset()), 0),
                skipped,
                m.get(("vitals_storage_updates_total", frozenset()), 0))

    def _disk_full(self):
        """The data directory's file system is (nearly) full: storage
        errors then come from it, not from the fault at hand."""
        st = os.statvfs(self.data)
        return st.f_bavail * st.f_frsize < max(4 << 20,
                                               st.f_blocks * st.f_frsize // 20)

    def kill_helpers(self, kind):
        pair = self.server_and_spare()
        if pair is None:
            self.errors.append("no fork server and spare to kill")
            return
        errors0, skipped0, updates0 = self._storage()
        full = self._disk_full()
        # At most the round in flight is lost: one update per file.
        files = self.metrics().get(("vitals_storage_files", frozenset()), 0)
        server, spare = pair
        log("kill -9 of the %s (server %d, spare %d)" % (kind, server, spare))
        if kind in ("spare", "both"):
            os.kill(spare, signal.SIGKILL)
        if kind in ("server", "both"):
            os.kill(server, signal.SIGKILL)
        t0 = time.time()
        slowest, recovered = 0.0, None
        graph = self.url("/graph/soak0/req0.svg?from=-10m")
        while time.time() - t0 < 15:
            t1 = time.time()
            try:
                status = get(graph, timeout=10)[0]
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError:
                status = None
            slowest = max(slowest, time.time() - t1)
            _, _, updates = self._storage()
            pair = self.server_and_spare()
            if status == 200 and updates > updates0 + 100 and pair:
                recovered = time.time() - t0
                break
            time.sleep(0.2)
        errors, skipped, _ = self._storage()
        full = full or self._disk_full()
        self.helper_kills.append((kind, recovered, slowest,
                                  errors - errors0, skipped - skipped0, full,
                                  files))

    def stall_writer(self):
        workers = [p for p, c in self.helpers().items() if c == "vitals-rrdw"]
        if len(workers) != 1:
            self.errors.append("RRD workers: %r" % workers)
            return
        errors0, skipped0, _ = self._storage()
        full = self._disk_full()
        log("SIGSTOP of vitals-rrdw %d for %gs" % (workers[0],
                                                   self.args.stall_hold))
        os.kill(workers[0], signal.SIGSTOP)
        time.sleep(self.args.stall_hold)
        os.kill(workers[0], signal.SIGCONT)
        _, _, updates0 = self._storage()
        for _ in range(50):
            time.sleep(0.2)
            m = self.metrics()
            if (m.get(("vitals_storage_updates_total", frozenset()), 0)
                    > updates0 and
                    m.get(("vitals_storage_queue", frozenset()), 1) <
                    m.get(("vitals_storage_queue_limit", frozenset()), 1)):
                break
        errors, skipped, updates = self._storage()
        full = full or self._disk_full()
        self.stalls.append((errors - errors0, skipped - skipped0,
                            updates - updates0, full))

    def faults(self):
        t0 = time.time()
        kinds = ["spare", "server", "both"]
        next_kill = t0 + self.args.helper_kill_every
        next_stall = t0 + self.args.stall_every
        next_hup = t0 + self.args.hup_every
        next_fill = t0 + self.args.fill_every
        next_broker = t0 + self.args.broker_every
        while not self.stop.wait(1):
            now = time.time()
            if now >= next_hup:
                self.proc.send_signal(signal.SIGHUP)
                self.hups += 1
                next_hup = now + self.args.hup_every
            if self.tmpfs and now >= next_fill:
                self.fill_disk()
                next_fill = time.time() + self.args.fill_every
            if self.broker and now >= next_broker:
                log("restarting the broker")
                self.broker.restart()
                next_broker = time.time() + self.args.broker_every
            if self.args.helper_kill_every > 0 and now >= next_kill:
                self.kill_helpers(kinds[len(self.helper_kills) % 3])
                next_kill = time.time() + self.args.helper_kill_every
            if self.args.stall_every > 0 and time.time() >= next_stall:
                self.stall_writer()
                next_stall = time.time() + self.args.stall_every

    # -- the run --------------------------------------------------------
    def run(self):
        self.mount_tmpfs()
        if self.args.amqp:
            from rabbit import Broker   # tests/integ/rabbit.py
            self.broker = Broker().start()
        self.start_daemon()
        log("vitalsd pid %d, statsd :%d, http :%d, %d s"
            % (self.proc.pid, self.statsd_port, self.http_port,
               self.args.seconds))
        workers = [self.udp_load, self.tcp_load, self.http_load,
                   self.scraper, self.watch, self.faults]
        if self.broker:
            workers.append(self.amqp_load)
        threads = [threading.Thread(target=w, daemon=True) for w in workers]
        for t in threads:
            t.start()
        end = time.time() + self.args.seconds
        while time.time() < end and self.proc.poll() is None:
            time.sleep(1)
        self.stop.set()
        for t in threads:
            t.join(timeout=120)
        time.sleep(3)          # the last windows close
        return self.finish()

    def finish(self):
        ok = True

        def check(cond, what):
            nonlocal ok
            log("%s: %s" % ("ok  " if cond else "FAIL", what))
            ok = ok and cond

        check(self.proc.poll() is None, "vitalsd alive after the run")
        m = self.metrics() if self.proc.poll() is None else {}

        def total(name):
            return int(m.get((name, frozenset({("service", "soak")})), 0))
        for ch, metric in (("tcp", "tcp_lines_total"),
                           ("http", "http_lines_total"),
                           ("amqp", "amqp_lines_total")):
            sent = self.counted.sent.get(ch)
            if sent is None:
                continue
            got = total(metric)
            maybe = self.counted.sent.get(ch + "_uncertain", 0)
            check(sent <= got <= sent + maybe,
                  "%s lines: sent %d (+%d whose publish failed and may "
                  "have arrived), counted %d" % (ch, sent, maybe, got))
        warm = [s for s in self.samples
                if s[0] >= self.samples[0][0] + min(30, self.args.seconds / 5)]
        if len(warm) >= 6:
            third = len(warm) // 3
            mid = sum(s[1] for s in warm[third:2 * third]) / third
            last = sum(s[1] for s in warm[2 * third:]) / len(warm[2 * third:])
            check(last <= mid * 1.10 + 2048,
                  "RSS flat: middle third %.1f MB, last third %.1f MB, "
                  "peak %.1f MB" % (mid / 1024, last / 1024,
                                    max(s[1] for s in self.samples) / 1024))
            check(warm[-1][2] <= warm[0][2] + 2,
                  "file descriptors: %d after warm-up, %d at the end"
                  % (warm[0][2], warm[-1][2]))
        else:
            check(False, "too few samples for RSS/fd trends (run longer)")
        for i, (before, during, written, created) in enumerate(self.fills):
            check(during > before and written > 0 and created,
                  "disk full #%d: storage errors %d -> %d while full, then "
                  "%d updates written and the new files %screated after "
                  "freeing" % (i + 1, before, during, written,
                               "" if created else "NOT "))
        # Losses are only judged with room on the disk: a full one makes
        # storage errors of its own (the disk-full check covers those).
        for kind, recovered, slowest, errors, skipped, full, files in \
                self.helper_kills:
            check(recovered is not None and slowest < 3 and
                  (full or (skipped == 0 and errors <= files)),
                  "kill -9 of the %s: graphs and storage back %s, slowest "
                  "request %.1fs, %d updates lost (counted as storage "
                  "errors: at most the round the kill cut, %d files), %d "
                  "skipped%s" % (
                      kind, "after %.1fs" % recovered if recovered
                      else "NOT within 15 s", slowest, errors, files, skipped,
                      " (disk full: losses not judged)" if full else ""))
        for i, (errors, skipped, updates, full) in enumerate(self.stalls):
            check(updates > 0 and (full or (errors == 0 and skipped == 0)),
                  "writer stall #%d (%gs): %d errors, %d skipped, %d "
                  "updates written after SIGCONT%s" % (
                      i + 1, self.args.stall_hold, errors, skipped, updates,
                      " (disk full: losses not judged)" if full else ""))
        check(not self.errors, "client errors: %s" % self.errors[:5])
        log("scrapes %d, SIGHUPs %d, disk fills %d, broker restarts %s, "
            "helper kills %d, writer stalls %d"
            % (self.scrapes, self.hups, len(self.fills),
               "on" if self.broker else "off", len(self.helper_kills),
               len(self.stalls)))
        helpers = self.helpers() if self.proc.poll() is None else {}
        t_term = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        took = time.time() - t_term
        self.log_file.close()
        check(rc == 0 and took < 10 + 1, "exit status %s %.1fs after "
              "SIGTERM (shutdown_timeout 10 s)" % (rc, took))
        for _ in range(50):
            left = [p for p in helpers if self._alive(p)]
            if not left:
                break
            time.sleep(0.1)
        check(not left, "no helper outlives the daemon (%d seen, left: %r)"
              % (len(self.family), left))
        with open(self.log_path, errors="replace") as f:
            text = f.read()
        bad = [w for w in ("AddressSanitizer", "LeakSanitizer",
                           "runtime error:") if w in text]
        check(not bad, "no sanitizer report in the log %s" % bad)
        print(json.dumps({
            "seconds": self.args.seconds, "sent": self.counted.sent,
            "rss_kb_samples": [s[1] for s in self.samples][::5],
            "fds": [s[2] for s in self.samples][::5],
            "scrapes": self.scrapes, "hups": self.hups,
            "fills": self.fills, "helper_kills": self.helper_kills,
            "stalls": self.stalls, "passed": ok}))
        return ok

    def cleanup(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.broker:
            self.broker.cleanup()
        if self.tmpfs:
            subprocess.run(["umount", "-l", self.data])
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log("kept %s" % self.dir)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=int,
                   default=int(os.environ.get("SOAK_SECONDS", "600")))
    p.add_argument("--vitalsd", default=os.environ.get("VITALSD"))
    p.add_argument("--hup-every", type=float, default=30)
    p.add_argument("--fill-every", type=float, default=90)
    p.add_argument("--fill-hold", type=float, default=10)
    p.add_argument("--broker-every", type=float, default=120)
    p.add_argument("--tmpfs-mb", type=int, default=256)
    p.add_argument("--helper-kill-every", type=float, default=60,
                   help="kill -9 of helper processes (0: never)")
    p.add_argument("--stall-every", type=float, default=75,
                   help="SIGSTOP of the RRD worker (0: never)")
    p.add_argument("--stall-hold", type=float, default=5)
    p.add_argument("--no-tmpfs", action="store_true")
    p.add_argument("--amqp", dest="amqp", action="store_true", default=None)
    p.add_argument("--no-amqp", dest="amqp", action="store_false")
    p.add_argument("--keep", action="store_true")
    a = p.parse_args()
    if not a.vitalsd or a.seconds < 10:
        p.error("need --vitalsd (or $VITALSD) and --seconds >= 10")
    if a.amqp is None:
        a.amqp = (shutil.which("rabbitmq-server") is not None and
                  os.path.exists(os.path.join(os.path.dirname(HERE), "integ",
                                              "rabbit.py")))
    s = Soak(a)
    try:
        ok = s.run()
    finally:
        s.cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
