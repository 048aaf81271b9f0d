#!/usr/bin/python3
"""Fleet benchmark (`make bench-fleet`): two relays, a private RabbitMQ
node and two collectors on a consistent-hash ring, all on loopback, driven
by the load generator over UDP (docs/benchmarks.md, "Fleet").

    loadgen --UDP--> relay r1 --+                     +--> queue vitals.collector.a
                                +--> "vitals" -->     |      --> collector a
    loadgen --UDP--> relay r2 --+    "vitals.hash" ---+--> queue vitals.collector.b
          (confirms)                 (consistent hash      --> collector b
                                      on header service)

The collectors run with storage on (RRD files in their temp data
directories, the fork server and update worker as their children), their
default 10 s windows and self metrics, and share health over the fleet
exchange (docs/amqp.md, "Fleet") as fleet members "a" and "b"; relays
with their defaults. Both get `amqp.hash_exchange`; reconnects are capped
at --reconnect-max (2 s) so a broker restart does not add a 30 s backoff
to the run.

After a warm-up (--warmup seconds of each traffic shape, so every name
and RRD file exists) and --idle seconds of idle CPU, four runs, each
--duration (25) seconds of traffic from both generators, then a drain
(every forwarded line confirmed, the queues empty, two windows closed on
each collector):

  steady     --rate (100,000) lines/s into each relay over --services (20)
             services, nothing else happens: lines/s end to end and the CPU
             of each part per line (each relay, each collector with its
             helper processes, the broker's beam.smp), over the time from
             the first line sent until every confirmed batch was acked
  small      the same measured with many small messages: --small-rate
             (2,000) lines/s into each relay over --small-services (120)
             services, about one message per service per second
             (relay.batch_interval); with steady, it splits the broker's
             CPU into a cost per message and a cost per line
  collector  steady's traffic; collector a gets SIGTERM a third of the way
             in and starts again on the same queue --down seconds later
  broker     steady's traffic; the RabbitMQ node is stopped (rabbitmqctl
             stop) a third of the way in and started again at once

Per run: lines sent, forwarded by the relays, confirmed by the broker
(vitals_relay_lines_confirmed_total), counted by the collectors
(vitals_lines_total{result="ok"}, summed over both; a restarted collector's
count before its stop is the "lines ok since start" of its last log line),
and what was lost before confirmation and where (UDP drops at the relay's
socket, relay buffer full, invalid). Counted may exceed confirmed
(redeliveries: at-least-once); counted below confirmed is a lost
confirmed line and fails the run.

    VITALSD=build/release/vitalsd LOADGEN=build/release/vitals-loadgen \\
        /usr/bin/python3 tests/bench/fleet.py [--rate 100000] [--duration 25]
        [--runs steady,small,collector,broker] [--json FILE]

The binaries are copied to the run's temp directory first, so a build
that relinks them meanwhile does not change what is measured.
Exit status: 0 when every run finished with nothing confirmed lost; 1
when a part failed to start or drain, or confirmed lines were lost; 2 bad
arguments. Timings never fail the run.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integ"))

import harness                                  # noqa: E402
from harness import Vitalsd, parse_exposition  # noqa: E402
from rabbit import Broker                       # noqa: E402
from test_helpers import Family, stat           # noqa: E402
from bench import git_commit, machine_info      # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
RUNS = ("steady", "small", "collector", "broker")
MEASURED = ("steady", "small")     # runs whose CPU is measured
EXCHANGE = "vitals"
HASH_EXCHANGE = "vitals.hash"
FLUSH_S = 10.0       # the collectors' window: the daemon's default
FINAL_LOG = re.compile(r"final window flushed: \d+ metrics, (\d+) lines ok")


class FleetError(Exception):
    pass


def log(msg):
    print("fleet: " + msg, file=sys.stderr, flush=True)


def wait_until(pred, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise FleetError("timed out after %gs waiting for %s (last: %r)"
                     % (timeout, what, last))


# ---- CPU of process trees ------------------------------------------------

def cpu_ns(pid):
    """utime + stime of pid (all its threads), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK


def vm_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Tree:
    """A process and every process below it (the collectors' fork server
    and RRD update worker, the broker's beam.smp and port programs),
    remembered as seen, since a helper that took over is reparented."""

    def __init__(self, pid):
        self.family = Family(pid)

    def sample(self):
        """{(pid, start time): (name, cpu ns)} of the living tree; a
        vitalsd below the daemon is its fork server (or the spare)."""
        self.family.scan()
        out = {}
        for p in [self.family.daemon] + self.family.living():
            s, c = stat(p), cpu_ns(p)
            if s and c is not None and s[2] != "Z":
                name = s[0]
                if name == "vitalsd" and p != self.family.daemon:
                    name = "fork server"
                out[(p, s[3])] = (name, c)
        return out

    def pids(self, comm):
        self.family.scan()
        return [p for p in [self.family.daemon] + self.family.living()
                if (stat(p) or ("",))[0] == comm]


def cpu_delta(s0, s1):
    """{comm: ns} used between two samples (a process born in between
    counts from 0; one that died in between is not counted)."""
    out = {}
    for key, (comm, ns) in s1.items():
        out[comm] = out.get(comm, 0) + ns - s0.get(key, (comm, 0))[1]
    return out


# ---- the parts ------------------------------------------------------------

def metrics_of(d):
    r = d.get("/metrics")
    if r.status != 200:
        raise FleetError("%s /metrics: HTTP %d" % (d.name, r.status))
    return parse_exposition(r.text)


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


class Relay:
    def __init__(self, name, url, reconnect_max):
        self.name = name
        # A string: the harness adds its test defaults to a dict only.
        self.d = Vitalsd(args=["--relay", "--amqp", url], flush=None,
                         config=json.dumps({"amqp": {
                             "exchange": EXCHANGE,
                             "hash_exchange": HASH_EXCHANGE,
                             "reconnect_max": reconnect_max}}))
        self.d.name = name

    def counts(self):
        m = metrics_of(self.d)
        return {
            "forwarded": val(m, "vitals_relay_lines_total",
                             result="forwarded"),
            "invalid": val(m, "vitals_relay_lines_total", result="invalid"),
            "confirmed": val(m, "vitals_relay_lines_confirmed_total"),
            "batches_confirmed": val(m,
                                     "vitals_relay_batches_confirmed_total"),
            "published": val(m, "vitals_relay_batches_published_total"),
            "retried": val(m, "vitals_relay_batches_retried_total"),
            "returned": val(m, "vitals_relay_batches_returned_total"),
            "dropped": val(m, "vitals_relay_lines_dropped_total"),
            "batches_dropped": val(m, "vitals_relay_batches_dropped_total"),
            "buffer_bytes": val(m, "vitals_relay_buffer_bytes"),
            "buffer_limit": val(m, "vitals_relay_buffer_limit_bytes"),
            "udp_drops": val(m, "vitals_udp_kernel_drops_total"),
            "udp_packets": val(m, "vitals_udp_packets_total"),
            "connects": val(m, "vitals_amqp_connects_total"),
        }


class Collector:
    """One collector; its line count survives its restarts: what a stopped
    lifetime counted is the "lines ok since start" of its last log line."""

    def __init__(self, name, url, reconnect_max):
        self.name = name
        self.queue = "vitals.collector." + name
        # The daemon's defaults but for AMQP and the fleet name (two
        # collectors on one machine would both take the hostname). A
        # string: the harness adds its test defaults (self metrics off and
        # the like) to a dict.
        self.d = Vitalsd(args=["--amqp", url], flush=None,
                         config=json.dumps({
                             "amqp": {"exchange": EXCHANGE,
                                      "hash_exchange": HASH_EXCHANGE,
                                      "queue": self.queue,
                                      "reconnect_max": reconnect_max},
                             "fleet": {"name": name}}))
        self.d.name = "collector " + name
        self.carried_ok = 0.0       # lines ok of stopped lifetimes
        self.carried_acked = 0.0    # acks of stopped lifetimes (last scrape)
        self.last = None
        self.lifetimes = 1

    def counts(self):
        m = metrics_of(self.d)
        c = {
            "lines_ok": self.carried_ok + val(m, "vitals_lines_total",
                                              result="ok"),
            "lines_bad": sum(v for (n, l), v in m.items()
                             if n == "vitals_lines_total"
                             and ("result", "ok") not in l),
            "flushes": val(m, "vitals_flushes_total"),
            "acked": self.carried_acked + val(
                m, "vitals_amqp_messages_acked_total"),
            "received": val(m, "vitals_amqp_messages_received_total"),
            "rejected": sum(v for (n, _), v in m.items()
                            if n == "vitals_amqp_messages_rejected_total"),
            "connects": val(m, "vitals_amqp_connects_total"),
            # RRD update calls (one per file and round) and live metrics;
            # since this lifetime's start
            "storage_calls": val(m, "vitals_storage_calls_total"),
            "metrics": val(m, "vitals_metrics"),
            "fleet_collectors": val(m, "vitals_fleet_collectors"),
        }
        self.last = c
        return c

    def stop_for_restart(self):
        """SIGTERM: must exit 0 and log its final count."""
        before = self.counts()
        rc = self.d.stop()
        text = self.d.log_text()
        if rc != 0:
            raise FleetError("%s exited %s after SIGTERM:\n%s"
                             % (self.d.name, rc, text[-3000:]))
        found = FINAL_LOG.findall(text)
        if not found:
            raise FleetError("%s logged no final count:\n%s"
                             % (self.d.name, text[-3000:]))
        self.carried_ok += float(found[-1])
        self.carried_acked = before["acked"]
        self.lifetimes += 1
        with open(os.path.join(self.d.dir, "vitalsd.%d.log"
                               % (self.lifetimes - 1)), "w") as f:
            f.write(text)

    def start_again(self):
        self.d.returncode = None
        self.d.start()


def connected(d):
    return '"amqp":"connected"' in d.get("/healthz").text


class BufferWatch(threading.Thread):
    """The largest relay buffer seen (bytes waiting for the broker or its
    confirm), sampled every 0.25 s while the main thread restarts parts."""

    def __init__(self, relays):
        super().__init__(daemon=True)
        self.relays = relays
        self.max = {r.name: 0.0 for r in relays}
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.25):
            for r in self.relays:
                try:
                    b = r.counts()["buffer_bytes"]
                except (OSError, FleetError, ValueError, AssertionError):
                    continue
                self.max[r.name] = max(self.max[r.name], b)

    def stop(self):
        self.done.set()
        self.join()
        return self.max


# ---- generators ------------------------------------------------------------

class Generators:
    """One vitals-loadgen per relay, run side by side."""

    def __init__(self, loadgen, relays, shape, seconds, tmp):
        self.procs = []
        for i, r in enumerate(relays):
            out = open(os.path.join(tmp, "loadgen-%s.json" % r.name), "w+")
            cmd = [loadgen, "--host", "127.0.0.1", "--port",
                   str(r.d.statsd_port), "--duration", "%g" % seconds,
                   "--rate", "%g" % shape["rate"], "--names",
                   str(shape["names"]), "--services", str(shape["services"]),
                   "--mix", shape["mix"], "--seed", str(i + 1)]
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
            self.procs.append((r, p, out, cmd))
        self.cmd = self.procs[0][3]

    def running(self):
        return any(p.poll() is None for _, p, _, _ in self.procs)

    def wait(self, timeout):
        """{relay name: loadgen JSON}, with "cpu_s" from its rusage."""
        res = {}
        deadline = time.monotonic() + timeout
        for r, p, out, _ in self.procs:
            while p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if p.poll() is None:
                p.kill()
                raise FleetError("loadgen for %s did not stop" % r.name)
            err = p.stderr.read().decode("utf-8", "replace")
            if p.returncode != 0:
                raise FleetError("loadgen for %s exited %d: %s"
                                 % (r.name, p.returncode, err.strip()))
            out.seek(0)
            lines = out.read().strip().splitlines()
            out.close()
            try:
                res[r.name] = json.loads(lines[-1])
            except (IndexError, ValueError):
                raise FleetError("loadgen for %s printed no result" % r.name)
        return res

    def kill(self):
        for _, p, _, _ in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def children_cpu_s():
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# ---- the fleet ---------------------------------------------------------------

class Fleet:
    def __init__(self, args):
        self.args = args
        self.broker = None
        self.relays = []
        self.collectors = []

    def start(self):
        a = self.args
        log("starting a private RabbitMQ node")
        self.broker = Broker()
        self.broker.start()
        url = self.broker.url
        self.collectors = [Collector(n, url, a.reconnect_max)
                           for n in ("a", "b")]
        self.relays = [Relay("r%d" % (i + 1), url, a.reconnect_max)
                       for i in range(2)]
        log("starting 2 collectors and 2 relays")
        for c in self.collectors:
            c.d.start()
        for r in self.relays:
            r.d.start()
        for p in self.parts():
            wait_until(lambda: connected(p), 30, p.name + " connected")

    def parts(self):
        return [c.d for c in self.collectors] + [r.d for r in self.relays]

    def stop(self):
        """SIGTERM everything: each vitalsd must exit 0."""
        bad = []
        for d in [r.d for r in self.relays] + [c.d for c in self.collectors]:
            if d.proc is not None and d.returncode is None:
                rc = d.stop()
                if rc != 0:
                    bad.append("%s exited %s" % (d.name, rc))
        if bad:
            raise FleetError("; ".join(bad))

    def cleanup(self):
        for d in self.parts():
            d.cleanup()
        if self.broker is not None:
            self.broker.cleanup()

    # -- counts --------------------------------------------------------------
    def snapshot(self):
        return {"relays": {r.name: r.counts() for r in self.relays},
                "collectors": {c.name: c.counts() for c in self.collectors}}

    def relays_drained(self):
        for r in self.relays:
            c = r.counts()
            if c["buffer_bytes"] or (c["forwarded"] !=
                                     c["confirmed"] + c["dropped"]):
                return False
        return True

    def queues_empty(self):
        try:
            q = self.broker.queues()
        except RuntimeError:
            return False
        depth = [q.get(c.queue) for c in self.collectors]
        return all(x is not None and x[0] + x[1] == 0 for x in depth) \
            and depth

    def settle_counts(self, timeout):
        """Every applied line in a published window: two windows closed
        on each collector after the queues were found empty."""
        f0 = {c.name: c.counts()["flushes"] for c in self.collectors}
        wait_until(lambda: all(c.counts()["flushes"] >= f0[c.name] + 2
                               for c in self.collectors), timeout,
                   "two windows closed on each collector", interval=0.5)

    def drain(self, timeout):
        wait_until(self.relays_drained, timeout,
                   "every forwarded line confirmed", interval=0.1)
        wait_until(self.queues_empty, timeout, "the queues empty",
                   interval=0.5)


# ---- one run ------------------------------------------------------------------

def delta(a, b, keys):
    return {k: b[k] - a[k] for k in keys}


def shape_of(kind, args):
    """The traffic of a run: the small-message run spreads fewer lines
    over many more services, so each batch is small."""
    if kind == "small":
        return {"rate": args.small_rate, "services": args.small_services,
                "names": max(args.names, args.small_services),
                "mix": args.mix}
    return {"rate": args.rate, "services": args.services,
            "names": args.names, "mix": args.mix}


def run(fleet, kind, args, tmp):
    """One run of --duration seconds; returns its figures."""
    shape = shape_of(kind, args)
    log("run %s: %d s of traffic, %s lines/s into each relay over %d "
        "services" % (kind, args.duration, "{:,}".format(int(shape["rate"]))
                      if shape["rate"] else "unpaced", shape["services"]))
    load0 = open("/proc/loadavg").read().split()[0]
    s0 = fleet.snapshot()
    trees = {}
    if kind in MEASURED:
        trees = {"relay " + r.name: Tree(r.d.proc.pid) for r in fleet.relays}
        trees.update({"collector " + c.name: Tree(c.d.proc.pid)
                      for c in fleet.collectors})
        trees["broker"] = Tree(fleet.broker.proc.pid)
        cpu0 = {k: t.sample() for k, t in trees.items()}
    gen_cpu0 = children_cpu_s()
    t0 = time.monotonic()
    gens = Generators(args.loadgen, fleet.relays, shape, args.duration, tmp)
    event = {}
    watch = BufferWatch(fleet.relays)
    watch.start()
    fault_at = t0 + args.duration / 3.0
    try:
        while gens.running():
            if kind == "collector" and "down_s" not in event and \
                    time.monotonic() >= fault_at:
                c = fleet.collectors[0]
                log("SIGTERM to collector %s" % c.name)
                td = time.monotonic()
                c.stop_for_restart()
                event["stopped_in_s"] = round(time.monotonic() - td, 2)
                time.sleep(args.down)
                c.start_again()
                wait_until(lambda: connected(c.d), 60,
                           "collector %s connected again" % c.name)
                event["down_s"] = round(time.monotonic() - td, 2)
                log("collector %s back after %.1f s"
                    % (c.name, event["down_s"]))
            if kind == "broker" and "down_s" not in event and \
                    time.monotonic() >= fault_at:
                log("stopping the RabbitMQ node")
                td = time.monotonic()
                fleet.broker.stop_node()
                event["stopped_in_s"] = round(time.monotonic() - td, 2)
                fleet.broker.start_node()
                event["node_down_s"] = round(time.monotonic() - td, 2)
                for p in fleet.parts():
                    wait_until(lambda: connected(p), 90,
                               p.name + " connected again")
                event["down_s"] = round(time.monotonic() - td, 2)
                log("node back after %.1f s, every part connected after "
                    "%.1f s" % (event["node_down_s"], event["down_s"]))
            time.sleep(0.2)
        gen = gens.wait(args.duration + 120)
    finally:
        gens.kill()
        max_buffer = watch.stop()
    t_gen = time.monotonic()
    gen_cpu = children_cpu_s() - gen_cpu0

    # The CPU window ends when every line was confirmed and every
    # confirmed batch acked by a collector (steady run only: acks of a
    # stopped collector are not known exactly).
    batches0 = sum(x["batches_confirmed"] for x in s0["relays"].values())
    acked0 = sum(x["acked"] for x in s0["collectors"].values())

    def caught_up():
        if not fleet.relays_drained():
            return False
        b = sum(r.counts()["batches_confirmed"] for r in fleet.relays)
        a = sum(c.counts()["acked"] for c in fleet.collectors)
        return a - acked0 >= b - batches0
    if kind in MEASURED:
        wait_until(caught_up, args.drain_timeout,
                   "every confirmed batch acked", interval=0.05)
        t1 = time.monotonic()
        cpu1 = {k: t.sample() for k, t in trees.items()}
        rss = {}
        for r in fleet.relays:
            rss["relay " + r.name] = vm_kb(r.d.proc.pid, "VmHWM")
        for c in fleet.collectors:
            rss["collector " + c.name] = vm_kb(c.d.proc.pid, "VmHWM")
        beams = trees["broker"].pids("beam.smp")
        rss["broker"] = vm_kb(beams[0], "VmHWM") if beams else None
    fleet.drain(args.drain_timeout)
    t_drained = time.monotonic()
    fleet.settle_counts(args.drain_timeout + 30)
    s1 = fleet.snapshot()
    if kind in MEASURED:
        # the update worker writes after each window: its calls and CPU
        # are taken up to the last window, past the end of the traffic
        cpu2 = {k: t.sample() for k, t in trees.items()
                if k.startswith("collector ")}

    rkeys = ("forwarded", "invalid", "confirmed", "batches_confirmed",
             "published", "retried", "returned", "dropped",
             "batches_dropped", "udp_drops", "udp_packets", "connects")
    ckeys = ("lines_ok", "lines_bad", "rejected", "storage_calls")
    rd = {n: delta(s0["relays"][n], s1["relays"][n], rkeys)
          for n in s0["relays"]}
    cd = {n: delta(s0["collectors"][n], s1["collectors"][n], ckeys)
          for n in s0["collectors"]}
    sent = sum(g["offered_lines"] for g in gen.values())
    # UDP drops are datagrams; the generator's lines per datagram converts.
    udp_lost = sum(rd[r]["udp_drops"] * gen[r]["lines_per_datagram"]
                   for r in rd)
    forwarded = sum(x["forwarded"] for x in rd.values())
    confirmed = sum(x["confirmed"] for x in rd.values())
    counted = sum(x["lines_ok"] for x in cd.values())
    res = {
        "run": kind,
        "rate_per_relay": shape["rate"],
        "services": shape["services"],
        "names": shape["names"],
        "seconds_of_traffic": round(t_gen - t0, 2),
        "sent": sent,
        "sent_per_s": round(sum(g["offered_lines_per_s"]
                                for g in gen.values())),
        "loadavg_before": load0,
        "forwarded": forwarded,
        "confirmed": confirmed,
        "counted": counted,
        "counted_by": {n: x["lines_ok"] for n, x in cd.items()},
        "fleet_collectors_known": {n: x["fleet_collectors"]
                                   for n, x in s1["collectors"].items()},
        "duplicates": max(0.0, counted - confirmed),
        "confirmed_lost": max(0.0, confirmed - counted),
        "lost_before_confirm": sent - confirmed,
        "lost_udp_drops": round(udp_lost),
        "lost_buffer_full": sum(x["dropped"] for x in rd.values()),
        "invalid": sum(x["invalid"] for x in rd.values()),
        "collector_bad_lines": sum(x["lines_bad"] for x in cd.values()),
        "rejected_messages": sum(x["rejected"] for x in cd.values()),
        "batches_confirmed": sum(x["batches_confirmed"] for x in rd.values()),
        "batches_retried": sum(x["retried"] for x in rd.values()),
        "batches_returned": sum(x["returned"] for x in rd.values()),
        "relay_buffer_max_bytes": sum(max_buffer.values()),
        "relay_buffer_limit_bytes": s1["relays"]["r1"]["buffer_limit"],
        "drained_after_s": round(t_drained - t_gen, 2),
        "generator_cpu_s": round(gen_cpu, 2),
        "pacing_shortfall_lines": sum(g.get("pacing_shortfall_lines", 0)
                                      for g in gen.values()),
    }
    res["lost_unexplained"] = round(res["lost_before_confirm"]
                                    - res["lost_udp_drops"]
                                    - res["lost_buffer_full"]
                                    - res["invalid"])
    res.update(event)
    if kind in MEASURED:
        secs = t1 - t0
        res["end_to_end_s"] = round(secs, 3)
        res["end_to_end_lines_per_s"] = round(counted / secs)
        cpu = {}
        for k in trees:
            by_comm = cpu_delta(cpu0[k], cpu1[k])
            if k.startswith("relay "):
                lines = rd[k[6:]]["forwarded"]
            elif k.startswith("collector "):
                lines = cd[k[10:]]["lines_ok"]
            else:
                lines = confirmed
            total = sum(by_comm.values())
            # the process that takes the lines: vitalsd, or the broker's VM
            main = by_comm.get("beam.smp" if k == "broker" else "vitalsd", 0)
            cpu[k] = {"cpu_s": round(total / 1e9, 3),
                      "core_pct": round(100.0 * total / 1e9 / secs, 1),
                      "lines": lines,
                      "ns_per_line": round(total / lines, 1) if lines
                      else None,
                      "main_ns_per_line": round(main / lines, 1) if lines
                      else None,
                      "processes": {c: round(v / 1e9, 3)
                                    for c, v in sorted(by_comm.items())},
                      "peak_rss_mb": round(rss[k] * 1024 / 1e6, 1)
                      if rss.get(k) else None}
        for c in fleet.collectors:
            k = "collector " + c.name
            calls = cd[c.name]["storage_calls"]
            helpers = sum(v for p, v in cpu_delta(cpu0[k], cpu2[k]).items()
                          if p != "vitalsd") / 1e9
            cpu[k]["storage_calls"] = calls
            cpu[k]["metrics"] = s1["collectors"][c.name]["metrics"]
            cpu[k]["helpers_us_per_update"] = round(
                helpers * 1e6 / calls, 1) if calls else None
            # Write-behind folds windows into one call, so per call is
            # not per window: the helpers' CPU over the traffic per live
            # metric per window (10 s, the default) is the figure to size
            # storage with.
            live = cpu[k]["metrics"]
            busy = sum(v for p, v in cpu[k]["processes"].items()
                       if p != "vitalsd")
            cpu[k]["helpers_us_per_metric_window"] = round(
                busy * 1e6 / (live * secs / FLUSH_S), 1) if live else None
        fleet_ns = sum(sum(cpu_delta(cpu0[k], cpu1[k]).values())
                       for k in trees)
        cpu["fleet"] = {"cpu_s": round(fleet_ns / 1e9, 3),
                        "core_pct": round(100.0 * fleet_ns / 1e9 / secs, 1),
                        "lines": counted,
                        "ns_per_line": round(fleet_ns / counted, 1)
                        if counted else None}
        cpu["generators"] = {"cpu_s": round(gen_cpu, 3),
                             "core_pct": round(100.0 * gen_cpu / secs, 1),
                             "lines": sent,
                             "ns_per_line": round(gen_cpu * 1e9 / sent, 1)
                             if sent else None}
        res["cpu"] = cpu
        res["messages_per_s"] = round(res["batches_confirmed"] / secs)
        b = cpu["broker"]["cpu_s"]
        cpu["broker"]["us_per_message"] = round(
            b * 1e6 / res["batches_confirmed"], 1) \
            if res["batches_confirmed"] else None
        res["bytes_per_line"] = round(sum(
            g["bytes"] for g in gen.values()) / sent, 1) if sent else None
    return res


def idle_cpu(fleet, seconds):
    """% of a core each part uses with no traffic."""
    trees = {"relay " + r.name: Tree(r.d.proc.pid) for r in fleet.relays}
    trees.update({"collector " + c.name: Tree(c.d.proc.pid)
                  for c in fleet.collectors})
    trees["broker"] = Tree(fleet.broker.proc.pid)
    s0 = {k: t.sample() for k, t in trees.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    s1 = {k: t.sample() for k, t in trees.items()}
    secs = time.monotonic() - t0
    return {k: round(100.0 * sum(cpu_delta(s0[k], s1[k]).values()) / 1e9
                     / secs, 2) for k in trees}


# ---- output --------------------------------------------------------------------

def n(v):
    return "-" if v is None else "{:,}".format(int(round(v)))


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header])
              for i in range(len(header))]
    out = ["  ".join(h.rjust(w) if i else h.ljust(w)
                     for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        out.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def broker_model(results, idle):
    """Broker CPU (seconds per second above idle) = a * messages/s + b *
    lines/s, solved from the steady and the small-message run; None when
    either is missing."""
    runs = {r["run"]: r for r in results if r["run"] in MEASURED}
    if len(runs) != 2:
        return None
    rows = []
    for r in runs.values():
        secs = r["end_to_end_s"]
        busy = r["cpu"]["broker"]["cpu_s"] / secs - idle.get("broker",
                                                             0) / 100.0
        rows.append((r["batches_confirmed"] / secs, r["confirmed"] / secs,
                     busy))
    (m1, l1, c1), (m2, l2, c2) = rows
    det = m1 * l2 - m2 * l1
    if det == 0:
        return None
    a = (c1 * l2 - c2 * l1) / det
    b = (m1 * c2 - m2 * c1) / det
    return {"us_per_message": round(a * 1e6, 1),
            "ns_per_line": round(b * 1e9, 1)}


def report(results, idle, args, info):
    print()
    print("fleet: 2 relays -> RabbitMQ (consistent hash on the service "
          "header) -> 2 collectors, storage on")
    print("load: %s lines/s into each relay for %g s per run, %s, %s names "
          "over %d services (small: %s lines/s over %d services)"
          % (n(args.rate) if args.rate else "unpaced", args.duration,
             args.mix, n(args.names), args.services, n(args.small_rate),
             args.small_services))
    print("machine: %s, %s cores, load average at start %s, before each "
          "run %s; code %s"
          % (info["cpu_model"], info["nproc"], info["loadavg"],
             " / ".join(r["loadavg_before"] for r in results),
             info.get("commit") or "unknown (not a git checkout)"))
    print()
    rows = []
    for r in results:
        rows.append([r["run"], n(r["sent"]), n(r["forwarded"]),
                     n(r["confirmed"]), n(r["counted"]),
                     n(r["confirmed_lost"]), n(r["duplicates"]),
                     n(r["lost_before_confirm"]), n(r["lost_udp_drops"]),
                     n(r["lost_buffer_full"]), n(r["lost_unexplained"]),
                     "%.1f" % r["drained_after_s"]])
    print("Lines per run (sent by the generators; forwarded and confirmed "
          "by the relays; counted by the collectors; lost before "
          "confirmation and where):")
    print(table(rows, ["run", "sent", "forwarded", "confirmed", "counted",
                       "CONF.LOST", "dup", "lost<conf", "udp drop",
                       "buf full", "other", "drain s"]))
    print()
    for r in results:
        if r["run"] in MEASURED:
            print("%s: %s lines/s end to end (%s lines counted in %.1f s "
                  "from the first line sent to the last batch acked; %s "
                  "lines/s offered); %s messages/s of %s lines on average"
                  % (r["run"], n(r["end_to_end_lines_per_s"]),
                     n(r["counted"]), r["end_to_end_s"], n(r["sent_per_s"]),
                     n(r["messages_per_s"]),
                     n(r["confirmed"] / r["batches_confirmed"])
                     if r["batches_confirmed"] else "-"))
        elif r["run"] == "collector":
            print("collector: a stopped (SIGTERM, %.1f s to exit) and back "
                  "%.1f s later; split a/b %s/%s; %s batches retried; relay "
                  "buffers at most %s bytes together"
                  % (r.get("stopped_in_s", 0), r.get("down_s", 0),
                     n(r["counted_by"]["a"]), n(r["counted_by"]["b"]),
                     n(r["batches_retried"]), n(r["relay_buffer_max_bytes"])))
        else:
            print("broker: node stopped in %.1f s, back after %.1f s, every "
                  "part connected after %.1f s; %s batches retried, %s "
                  "returned; relay buffers at most %s bytes together (limit "
                  "%s each)"
                  % (r.get("stopped_in_s", 0), r.get("node_down_s", 0),
                     r.get("down_s", 0), n(r["batches_retried"]),
                     n(r["batches_returned"]),
                     n(r["relay_buffer_max_bytes"]),
                     n(r["relay_buffer_limit_bytes"])))
    for r in results:
        if r["run"] not in MEASURED:
            continue
        print()
        print("CPU per part, %s run (utime + stime over %.1f s; collectors "
              "with their helper processes; idle: %% of a core with no "
              "traffic):" % (r["run"], r["end_to_end_s"]))
        rows = []

        def f(v, spec="%.0f"):
            return "-" if v is None else spec % v
        for k, c in r["cpu"].items():
            rows.append([k, "%.2f" % c["cpu_s"], "%.1f" % c["core_pct"],
                         f(idle.get(k), "%.2f"), n(c["lines"]),
                         f(c["ns_per_line"]), f(c.get("main_ns_per_line")),
                         f(c.get("us_per_message")),
                         n(c.get("storage_calls")),
                         f(c.get("helpers_us_per_update")),
                         f(c.get("helpers_us_per_metric_window")),
                         f(c.get("peak_rss_mb"), "%.1f")])
        print(table(rows, ["part", "CPU s", "% core", "idle %", "lines",
                           "ns/line", "main ns/line", "us/msg",
                           "RRD updates", "us/update", "us/metric/win",
                           "RSS MB"]))
    if any(r["run"] in MEASURED for r in results):
        print("(ns/line: relay per line forwarded, collector per line it "
              "counted, broker per line confirmed, fleet: the five parts per "
              "line counted; main: vitalsd alone, or beam.smp; us/update: "
              "the collector's helper processes, the RRD update worker and "
              "fork server, per RRD update call (one call may carry several "
              "windows), and per live metric per 10 s window over the "
              "traffic; RSS: peak, main process. "
              "The generators are not part of the fleet and carry the "
              "kernel's loopback delivery)")
    model = broker_model(results, idle)
    if model:
        print("broker above idle, from the two measured runs: %.0f us per "
              "message + %.0f ns per line" % (model["us_per_message"],
                                              model["ns_per_line"]))
    lost = [r for r in results if r["confirmed_lost"] > 0]
    print("collectors each knows in the fleet, after each run: %s"
          % " / ".join("a %s, b %s" % (n(r["fleet_collectors_known"]["a"]),
                                       n(r["fleet_collectors_known"]["b"]))
                       for r in results))
    print()
    if lost:
        print("FAILED: confirmed lines lost in run(s) %s"
              % ", ".join(r["run"] for r in lost))
    else:
        print("nothing confirmed was lost (counted >= confirmed in every "
              "run)")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=100000,
                    help="lines/s offered to each relay (0 = unpaced); "
                    "default 100000")
    ap.add_argument("--duration", type=float, default=25,
                    help="seconds of traffic per run (default 25)")
    ap.add_argument("--runs", default=",".join(RUNS),
                    help="comma-separated, of steady,small,collector,broker "
                    "(default all)")
    ap.add_argument("--names", type=int, default=2000)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--mix", choices=("counter", "mixed"), default="mixed")
    ap.add_argument("--small-rate", type=float, default=2000,
                    help="lines/s into each relay in the small-message run "
                    "(default 2000)")
    ap.add_argument("--small-services", type=int, default=120,
                    help="services in the small-message run (default 120, "
                    "at most 1000; past a relay's bound on open batches, "
                    "1,024, its batches hold a few lines each: "
                    "docs/fleet-sizing.md)")
    ap.add_argument("--warmup", type=float, default=4,
                    help="seconds of traffic of each shape before the runs, "
                    "so every name and file exists (default 4)")
    ap.add_argument("--idle", type=float, default=5,
                    help="seconds of idle CPU measured (default 5)")
    ap.add_argument("--down", type=float, default=3,
                    help="seconds collector a stays stopped (default 3)")
    ap.add_argument("--reconnect-max", default="2s",
                    help="amqp.reconnect_max of every part (default 2s)")
    ap.add_argument("--drain-timeout", type=float, default=120)
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--vitalsd", default=os.environ.get(
        "VITALSD", "build/release/vitalsd"))
    ap.add_argument("--loadgen", default=os.environ.get(
        "LOADGEN", "build/release/vitals-loadgen"))
    args = ap.parse_args(argv)
    args.runs = [x for x in args.runs.split(",") if x]
    for x in args.runs:
        if x not in RUNS:
            ap.error("unknown run %r (%s)" % (x, ", ".join(RUNS)))
    if not 1 <= args.duration <= 600:
        ap.error("--duration must be 1 to 600")
    if not 1 <= args.small_services <= 1000 or not 1 <= args.services <= 1000:
        ap.error("--services and --small-services must be 1 to 1000")
    if args.rate < 0:
        ap.error("--rate must be >= 0")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tmp = tempfile.mkdtemp(prefix="vitals-fleet-")
    # Copies: a build relinking the binaries meanwhile changes nothing here.
    for attr, name in (("vitalsd", "vitalsd"), ("loadgen", "vitals-loadgen")):
        src = getattr(args, attr)
        if not os.access(src, os.X_OK):
            print("fleet: %s is not an executable" % src, file=sys.stderr)
            return 1
        dst = os.path.join(tmp, name)
        shutil.copy2(src, dst)
        setattr(args, attr, dst)
    harness.VITALSD = args.vitalsd
    info = machine_info()
    info["commit"] = git_commit()
    print("fleet: %s" % " ".join([os.path.basename(sys.argv[0])]
                                  + sys.argv[1:]), file=sys.stderr)
    fleet = Fleet(args)
    results, status, idle = [], 0, {}
    try:
        fleet.start()
        # Every name (and its file) exists before anything is measured.
        shapes = [shape_of(k, args) for k in ("steady", "small")
                  if k in args.runs or k == "steady"]
        for shape in shapes if args.warmup > 0 else []:
            log("warm-up: %g s of traffic over %d services"
                % (args.warmup, shape["services"]))
            gens = Generators(args.loadgen, fleet.relays, shape,
                              args.warmup, tmp)
            try:
                gens.wait(args.warmup + 60)
            finally:
                gens.kill()
        fleet.drain(args.drain_timeout)
        # Runs start from a settled fleet: every line so far counted.
        fleet.settle_counts(args.drain_timeout)
        if args.idle > 0:
            log("idle CPU: %g s" % args.idle)
            idle = idle_cpu(fleet, args.idle)
        for kind in args.runs:
            results.append(run(fleet, kind, args, tmp))
        fleet.stop()
    except (FleetError, AssertionError, OSError, RuntimeError,
            subprocess.SubprocessError) as e:
        print("fleet: FAILED: %s" % e, file=sys.stderr)
        status = 1
    finally:
        fleet.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    if results:
        report(results, idle, args, info)
        out = {"machine": info, "args": {k: v for k, v in vars(args).items()
                                         if k not in ("vitalsd", "loadgen")},
               "idle_core_pct": idle, "runs": results,
               "broker_model": broker_model(results, idle)}
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
        print(json.dumps(out))
    if any(r["confirmed_lost"] > 0 for r in results):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
