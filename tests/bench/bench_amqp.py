"""AMQP end-to-end benchmark: statsd lines from the load generator into
vitalsd --relay, through a private RabbitMQ node, into a collector
(vitalsd --amqp). Prints one JSON line and a short summary:

  lines/s end to end  every line the relay forwarded, counted applied by
                      the collector, divided by the time from the first
                      line sent to the last one applied
  collector ns/line   the collector's CPU (all threads, utime + stime)
                      per line applied
  relay ns/line       the relay's CPU per line forwarded

    VITALSD=build/release/vitalsd LOADGEN=build/release/vitals-loadgen \\
        python3 tests/bench/bench_amqp.py [--rate 200000] [--duration 10]

--rate 0 sends as fast as the generator can; lines the kernel drops at the
relay's socket are reported, not counted as lost.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integ"))

from harness import Vitalsd, wait_for   # noqa: E402
from rabbit import Broker               # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ns(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK


def value(d, name, **labels):
    return d.value(name, **labels) or 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200000,
                    help="lines per second offered (0 = flat out)")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--services", type=int, default=20)
    args = ap.parse_args()
    loadgen = os.environ.get("LOADGEN", "build/release/vitals-loadgen")

    broker = Broker().start()
    coll = Vitalsd(args=["--amqp", broker.url],
                   config={"rrd": {"enabled": False}}, flush="10s")
    relay = Vitalsd(args=["--relay", "--amqp", broker.url], flush=None,
                    config={"relay": {"batch_interval": "100ms"}})
    try:
        coll.start()
        relay.start()
        for d in (coll, relay):
            wait_for(lambda: '"amqp":"connected"' in d.get("/healthz").text,
                     timeout=20, what="connected")
        c0 = cpu_ns(coll.proc.pid)
        r0 = cpu_ns(relay.proc.pid)
        ok0 = value(coll, "vitals_lines_total", result="ok")
        t0 = time.monotonic()
        out = subprocess.run(
            [loadgen, "--host", "127.0.0.1", "--port",
             str(relay.statsd_port), "--duration", "%g" % args.duration,
             "--rate", "%g" % args.rate, "--names", str(args.names),
             "--services", str(args.services), "--mix", "counter"],
            check=True, capture_output=True, text=True,
            timeout=args.duration + 60)
        gen = json.loads(out.stdout.strip().splitlines()[-1])

        # Timing from live counters (acks); line counts after a flush.
        def drained():
            fwd = value(relay, "vitals_relay_lines_total",
                        result="forwarded")
            conf = value(relay, "vitals_relay_lines_confirmed_total")
            batches = value(relay, "vitals_relay_batches_confirmed_total")
            acked = value(coll, "vitals_amqp_messages_acked_total")
            return (fwd > 0 and conf == fwd and acked >= batches
                    and (fwd, batches))
        fwd, batches = wait_for(drained, timeout=120, interval=0.02,
                                what="collector caught up")
        t1 = time.monotonic()
        c1 = cpu_ns(coll.proc.pid)
        r1 = cpu_ns(relay.proc.pid)
        applied = wait_for(lambda: (value(
            coll, "vitals_lines_total", result="ok") - ok0 >= fwd) and (
            value(coll, "vitals_lines_total", result="ok") - ok0),
            timeout=30, what="lines counted at the next flush")
        res = {
            "offered_lines": gen.get("offered_lines"),
            "relay_forwarded_lines": fwd,
            "relay_kernel_drops": value(relay,
                                        "vitals_udp_kernel_drops_total"),
            "collector_applied_lines": applied,
            "seconds": round(t1 - t0, 3),
            "end_to_end_lines_per_s": round(applied / (t1 - t0)),
            "collector_cpu_ns_per_line": round((c1 - c0) / applied, 1),
            "relay_cpu_ns_per_line": round((r1 - r0) / fwd, 1),
            "batches": batches,
            "amqp_messages": value(coll,
                                   "vitals_amqp_messages_acked_total"),
        }
        print(json.dumps(res))
        print("amqp end to end: %d lines in %.1f s = %d lines/s; collector "
              "%.0f ns CPU/line, relay %.0f ns CPU/line; %d messages"
              % (applied, t1 - t0, res["end_to_end_lines_per_s"],
                 res["collector_cpu_ns_per_line"],
                 res["relay_cpu_ns_per_line"], res["amqp_messages"]),
              file=sys.stderr)
        for d in (relay, coll):
            d.stop()
    finally:
        for d in (relay, coll):
            d.cleanup()
        broker.cleanup()


if __name__ == "__main__":
    main()
