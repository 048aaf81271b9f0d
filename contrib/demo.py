#!/usr/bin/python3
"""make demo: a small simulated fleet feeding a real vitalsd.

Starts vitalsd (unless --no-daemon), then plays a dozen services: each has
instances that send statsd timings, counters, gauges and sets over UDP and
JSON healthchecks every few seconds. Services call each other (CALLS):
each call is a timer tagged peer.service:<callee> and status:<code>, so
the service map (/map) draws the fleet, and a callee in trouble answers
slower and with 5xx. Now and then an incident starts (a check goes warning
or critical, latency climbs, errors rise) and recovers a little later; one
instance sometimes goes silent so its checks turn stale. The daemon's
config (<data-dir>-config.json, written here) gives every service
expectations, checks named expect:latency (p99) and expect:traffic, which
fail during incidents and silences like the platform's own.

Python 3 standard library only. Stop with Ctrl-C (the daemon stops too).

    /usr/bin/python3 contrib/demo.py [--vitalsd build/release/vitalsd]
        [--http 127.0.0.1:8080] [--statsd 127.0.0.1:8125] [--flush 2s]
        [--data-dir build/demo-data] [--duration SECONDS] [--no-daemon]
"""
import argparse
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request

# name: (instances, base latency ms, requests/s, checks, extra metrics)
FLEET = {
    "web":             (3, 35, 120, ["http", "disk"]),
    "api-gateway":     (2, 12, 300, ["upstreams", "tls-cert"]),
    "auth":            (2, 8, 90, ["ldap", "token-signing"]),
    "payments":        (2, 140, 25, ["cassandra", "psp-link"]),
    "checkout":        (2, 85, 30, ["cart-db", "payments-api"]),
    "search":          (3, 60, 80, ["index", "shards"]),
    "inventory":       (1, 25, 40, ["postgres"]),
    "shipping":        (1, 110, 8, ["carrier-api"]),
    "notifications":   (2, 20, 45, ["smtp", "queue"]),
    "recommendations": (2, 180, 35, ["model", "feature-store"]),
    "billing":         (1, 70, 5, ["broker", "ledger"]),
    "users":           (2, 15, 60, ["postgres"]),
}

# Who calls whom: caller -> [(callee, calls per request of the caller)].
CALLS = {
    "web": [("api-gateway", 1.0), ("auth", 0.3)],
    "api-gateway": [("auth", 0.4), ("search", 0.3), ("checkout", 0.1),
                    ("users", 0.3), ("recommendations", 0.1)],
    "checkout": [("payments", 0.8), ("inventory", 1.0), ("shipping", 0.25),
                 ("notifications", 0.5)],
    "payments": [("billing", 0.2), ("users", 0.3)],
    "search": [("inventory", 0.4)],
    "recommendations": [("users", 0.6), ("search", 0.5)],
    "shipping": [("notifications", 0.6)],
    "billing": [("notifications", 0.5)],
    "auth": [("users", 0.8)],
}

# What a check says when things go wrong, by check name fragment.
TROUBLE = {
    "warning": [
        "p99 latency 2.3x baseline", "disk 86% full on /var",
        "replication lag 14s", "2 of 5 upstreams slow",
        "certificate expires in 9 days", "queue depth 4,812 (limit 5,000)",
        "connection pool 45/50 in use",
    ],
    "critical": [
        "connection refused (10.0.3.17:9042)", "0 of 3 nodes up",
        "timeout after 5000 ms", "HTTP 503 from upstream",
        "consumer stalled: no ack for 120s", "disk full: 0 bytes free on /data",
    ],
}
OK_OUTPUT = {
    "http": "200 OK in {ms:.0f} ms", "disk": "{pct}% used",
    "cassandra": "3/3 nodes up", "postgres": "primary ok, lag {lag} ms",
    "index": "fresh, {docs:,} docs", "shards": "24/24 shards green",
    "smtp": "relay accepting", "queue": "depth {depth}",
    "model": "v{ver} loaded", "tls-cert": "valid for {days} days",
}


class Instance:
    def __init__(self, service, idx, spec):
        self.service = service
        self.name = "%s-%d" % (service[:6].rstrip("-"), idx + 1)
        self.n, self.latency, self.rps, self.checks = spec
        self.rps = self.rps / self.n
        self.incident = None      # (check, status, output, until, factor)
        self.silent_until = 0.0

    def tick(self, now, dt, send, trouble=None):
        if now < self.silent_until:
            return
        factor = 1.0
        if self.incident and now > self.incident[3]:
            self.incident = None
        if self.incident:
            factor = self.incident[4]
        # a daily-ish wave so graphs are not flat
        wave = 1 + 0.35 * math.sin(now / 90.0 + hash(self.service) % 7)
        n = max(1, int(self.rps * dt * wave))
        lines = []
        lat = self.latency * factor
        for _ in range(min(n, 40)):
            ms = random.lognormvariate(math.log(lat), 0.45)
            lines.append("%s.http.request:%.2f|ms" % (self.service, ms))
        if n > 40:   # keep datagrams small: sample the rest
            rate = 40.0 / n
            lines = [l + "|@%.3f" % rate for l in lines]
        for _ in range(max(1, n // 4)):
            lines.append("%s.db.query:%.2f|ms" % (
                self.service, random.lognormvariate(math.log(lat / 4 + 1), 0.6)))
        lines.append("%s.requests:%d|c" % (self.service, n))
        # calls to other services: the map's arcs
        for callee, per in CALLS.get(self.service, ()):
            calls = n * per
            if calls < 1 and random.random() > calls:
                continue
            calls = max(1, int(calls))
            slow = (trouble or {}).get(callee, 1.0)
            base = FLEET[callee][1]
            k = min(calls, 12)
            rate = "" if k == calls else "|@%.3f" % (k / calls)
            for _ in range(k):
                failed = random.random() < 0.003 * slow ** 3
                lines.append("%s.rpc.client:%.2f|ms%s|#peer.service:%s,"
                             "status:%d" % (
                                 self.service,
                                 random.lognormvariate(math.log(base * slow + 2), 0.4),
                                 rate, callee, 503 if failed else 200))
        errors = sum(random.random() < 0.004 * factor ** 2 for _ in range(n))
        if errors:
            lines.append("%s.errors:%d|c" % (self.service, errors))
        lines.append("%s.connections:%d|g|#host:%s" % (
            self.service, random.randint(20, 60) * factor, self.name))
        lines.append("%s.queue.depth:%d|g" % (
            self.service, max(0, int(random.gauss(40 * factor, 10)))))
        for _ in range(3):
            lines.append("%s.users.active:u%d|s" % (
                self.service, random.randint(1, 400)))
        payload = "\n".join(lines)
        while payload:   # split under 8 KiB per datagram
            cut = payload.rfind("\n", 0, 8000) if len(payload) > 8000 else len(payload)
            send(payload[:cut].encode())
            payload = payload[cut + 1:]

    def report(self, now, send):
        if now < self.silent_until:
            return
        checks = []
        for c in self.checks:
            if self.incident and self.incident[0] == c:
                status, output = self.incident[1], self.incident[2]
            else:
                status = "ok"
                output = OK_OUTPUT.get(c, "ok").format(
                    ms=random.gauss(self.latency, 5), pct=random.randint(41, 63),
                    lag=random.randint(0, 40), docs=random.randint(2000000, 2100000),
                    depth=random.randint(0, 30), ver=7, days=random.randint(40, 80))
            checks.append({"check": c, "status": status, "output": output,
                           "ttl": "20s"})
        send(json.dumps({"service": self.service, "instance": self.name,
                         "checks": checks}).encode())

    def maybe_trouble(self, now):
        if self.incident or now < self.silent_until:
            return
        # per 0.25 s tick: about 2-3 incidents open across the fleet
        r = random.random()
        if r < 0.0008:
            status = "critical" if random.random() < 0.4 else "warning"
            self.incident = (random.choice(self.checks), status,
                             random.choice(TROUBLE[status]),
                             now + random.uniform(15, 60),
                             3.0 if status == "critical" else 1.8)
        elif r < 0.00095:
            self.silent_until = now + random.uniform(30, 50)  # > TTL: stale


def expectations():
    """The fleet's expectations (docs/alerts.md): each service's p99 under
    4.5 times its usual latency (a lognormal p99 is about 2.9 times, 3.9 at
    the top of the wave; a critical incident is 3 times slower), and
    traffic from the services one instance carries (it may go silent)."""
    out = []
    for service, (n, latency, _, _) in FLEET.items():
        out.append({"name": "latency", "service": service,
                    "metric": "http.request", "stat": "p99", "op": "<",
                    "value": round(latency * 4.5), "for": "20s"})
        if n == 1:
            out.append({"name": "traffic", "service": service,
                        "metric": "requests", "stat": "rate", "op": ">",
                        "value": 0, "for": "20s", "severity": "critical"})
    return out


def wait_healthy(http, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit("vitalsd exited with status %d" % proc.returncode)
        try:
            with urllib.request.urlopen("http://%s/healthz" % http, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("vitalsd did not answer on %s" % http)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vitalsd", default="build/release/vitalsd")
    ap.add_argument("--http", default="127.0.0.1:8080")
    ap.add_argument("--statsd", default="127.0.0.1:8125")
    ap.add_argument("--flush", default="2s")
    ap.add_argument("--data-dir", default="build/demo-data")
    ap.add_argument("--duration", type=float, default=0,
                    help="stop after this many seconds (0: run until Ctrl-C)")
    ap.add_argument("--no-daemon", action="store_true",
                    help="only generate traffic for a vitalsd already running")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    random.seed(a.seed)

    proc = None
    if not a.no_daemon:
        # The daemon's config: the fleet's expectations (checks expect:*).
        config = a.data_dir.rstrip("/") + "-config.json"
        os.makedirs(os.path.dirname(os.path.abspath(config)), exist_ok=True)
        with open(config, "w") as f:
            json.dump({"expectations": expectations()}, f, indent=1)
        proc = subprocess.Popen([a.vitalsd, "-c", config, "--http", a.http,
                                 "--statsd", a.statsd, "--flush", a.flush,
                                 "--data-dir", a.data_dir])
    wait_healthy(a.http, proc)
    host, port = a.statsd.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = (host, int(port))

    def send(data):
        try:
            sock.sendto(data, target)
        except OSError:
            pass

    fleet = [Instance(s, i, spec) for s, spec in FLEET.items()
             for i in range(spec[0])]
    # Something to look at from the first second: one outage, one warning.
    now = time.time()
    for inst, status, factor in ((fleet[7], "critical", 3.0),
                                 (fleet[12], "warning", 1.8)):
        inst.incident = (inst.checks[0], status,
                         random.choice(TROUBLE[status]),
                         now + random.uniform(40, 90), factor)
    print("\nvitals demo: %d services, %d instances" % (len(FLEET), len(fleet)))
    print("  overview  http://%s/" % a.http)
    print("  wall      http://%s/?wall=1" % a.http)
    print("  map       http://%s/map  (on the wall: /?wall=1&map=1)" % a.http)
    print("  service   http://%s/services/payments" % a.http)
    print("  collector http://%s/services/vitals" % a.http)
    if not a.no_daemon:
        print("  expectations: %d checks expect:latency and expect:traffic"
              % len(expectations()))
    print("Ctrl-C stops the generator and vitalsd.\n", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    start = last = time.time()
    next_report = 0.0
    try:
        while not stop and (a.duration <= 0 or time.time() - start < a.duration):
            now = time.time()
            dt, last = now - last, now
            trouble = {}
            for inst in fleet:
                if inst.incident:
                    trouble[inst.service] = max(trouble.get(inst.service, 1.0),
                                                inst.incident[4])
            for inst in fleet:
                inst.maybe_trouble(now)
                inst.tick(now, dt, send, trouble)
            if now >= next_report:
                for inst in fleet:
                    inst.report(now, send)
                next_report = now + 5
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
