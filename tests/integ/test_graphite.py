"""Graphite output (issue 23 item 4) against a real carbon-cache.

Each test starts Debian's carbon-cache (graphite-carbon) in the foreground
in a temporary directory of its own: a carbon.conf with its storage there
and a free line-receiver port, and a storage-schemas.conf keeping one
point a second for an hour, as the daemon's 1 s windows need. Real statsd
traffic (python3-statsd and raw UDP) goes to vitalsd, whose Graphite sink
sends every window to carbon; the whisper files carbon wrote are read back
with python3-whisper, and carbon's own TaggedSeries says which file a
tagged series lives in. Also: carbon away at start, then started (the
sender reconnects and every buffered window arrives, each once), and a
tiny buffer with carbon away (what does not fit is counted)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import statsd
import whisper
from carbon.util import TaggedSeries

from harness import TestCase, Vitalsd, free_port, run_vitalsd, wait_for

CARBON = "/usr/bin/carbon-cache"


class Carbon:
    """One carbon-cache in the foreground, its files in a temp dir."""

    def __init__(self, port=None):
        self.dir = tempfile.mkdtemp(prefix="vitals-carbon-")
        self.port = port or free_port()
        self.whisper = os.path.join(self.dir, "whisper")
        self.conf = os.path.join(self.dir, "carbon.conf")
        os.makedirs(self.whisper)
        with open(self.conf, "w") as f:
            f.write("""[cache]
STORAGE_DIR = {d}/
LOCAL_DATA_DIR = {d}/whisper/
WHITELISTS_DIR = {d}/lists/
CONF_DIR = {d}/
LOG_DIR = {d}/log/
PID_DIR = {d}/
DATABASE = whisper
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {line}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {pickle}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {query}
WHISPER_AUTOFLUSH = True
LOG_CREATES = True
""".format(d=self.dir, line=self.port, pickle=free_port(),
           query=free_port()))
        with open(os.path.join(self.dir, "storage-schemas.conf"), "w") as f:
            f.write("[all]\npattern = .*\nretentions = 1s:1h\n")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "carbon.out"), "ab")
        self.proc = subprocess.Popen(
            [CARBON, "--config=" + self.conf, "--debug", "start"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._listening, timeout=30, what="carbon-cache listening")
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("carbon-cache exited:\n" + self.output())
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def output(self):
        with open(os.path.join(self.dir, "carbon.out"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def file_of(self, path):
        """The whisper file carbon keeps path (with ;k=v tags) in."""
        if ";" in path:
            path = TaggedSeries.parse(path).path
        rel = TaggedSeries.encode(path, os.sep, hash_only=True)
        return os.path.join(self.whisper, rel + ".wsp")

    def points(self, path):
        """{timestamp: value} of the series, {} before carbon wrote it."""
        f = self.file_of(path)
        if not os.path.exists(f):
            return {}
        now = time.time()
        try:
            (start, _end, step), values = whisper.fetch(f, now - 3000,
                                                        now + 5)
        except whisper.CorruptWhisperFile:
            return {}           # being created by carbon: not yet
        return {start + i * step: v for i, v in enumerate(values)
                if v is not None}


def carbon_config(carbon, **graphite):
    g = {"address": "127.0.0.1:%d" % carbon.port}
    g.update(graphite)
    return {"rrd": {"enabled": False}, "graphite": g}


class WindowsInWhisper(TestCase):

    def setUp(self):
        self.carbon = Carbon().start()
        self.addCleanup(self.carbon.cleanup)

    def wait_points(self, path, pred=bool, what=None):
        return wait_for(lambda: pred(self.carbon.points(path)) and
                        self.carbon.points(path), timeout=15,
                        what=what or path)

    def test_a_window_reaches_whisper_named_as_statsd_does(self):
        with Vitalsd(config=carbon_config(self.carbon)) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            # one datagram per kind, so each lands in a single window
            with c.pipeline() as p:
                for _ in range(3):
                    p.incr("api.requests")
            with c.pipeline() as p:
                for ms in (10, 20, 30, 40):
                    p.timing("api.http.get", ms)
            c.gauge("api.queue.depth", 7)
            d.send_udp("api.users:alice|s\napi.users:bob|s\n"
                       "api.users:alice|s")
            d.send_udp("api.hits:2|c|#route:/pay,name:x y,canary")
            d.send_udp("x y.a b/c:5|g|#service:bad svc.x")

            p = "stats.counters.api.requests.count"
            counts = self.wait_points(p, lambda pts: 3.0 in pts.values())
            t = [ts for ts, v in counts.items() if v == 3.0][0]
            rate = self.carbon.points("stats.counters.api.requests.rate")
            self.assertGreater(rate[t], 0)

            # every timer statistic of the window under one timestamp
            base = "stats.timers.api.http.get."
            tc = self.wait_points(base + "count",
                                  lambda pts: 4.0 in pts.values())
            t = [ts for ts, v in tc.items() if v == 4.0][0]
            got = {}
            for stat in ("count", "count_ps", "sum", "mean", "lower",
                         "upper", "std", "median", "upper_50", "upper_90",
                         "upper_95", "upper_99"):
                pts = self.wait_points(base + stat, lambda pts: t in pts,
                                       what=base + stat + " at %d" % t)
                got[stat] = pts[t]
            self.assertEqual(got["sum"], 100.0)
            self.assertEqual(got["mean"], 25.0)
            self.assertEqual(got["lower"], 10.0)
            self.assertEqual(got["upper"], 40.0)
            self.assertAlmostEqual(got["std"], 11.180339887, places=6)
            self.assertGreater(got["count_ps"], 0)
            # quantiles from the sketch: each within its 2 % relative
            # error of one of the values sent, in order, between the bounds
            self.assertEqual(got["median"], got["upper_50"])
            order = [got[k] for k in ("lower", "median", "upper_90",
                                      "upper_95", "upper_99", "upper")]
            self.assertEqual(order, sorted(order), got)
            for k in ("median", "upper_90", "upper_95", "upper_99"):
                self.assertTrue(any(abs(got[k] - v) <= 0.02 * v
                                    for v in (10, 20, 30, 40)), (k, got))
            # not sent: what the sketch cannot say honestly
            self.assertFalse(os.path.exists(
                self.carbon.file_of(base + "mean_90")))

            g = self.wait_points("stats.gauges.api.queue.depth")
            self.assertIn(7.0, g.values())
            s = self.wait_points("stats.sets.api.users.count")
            self.assertIn(2.0, s.values())

            # labels as Graphite tags, sorted, hostile bytes replaced;
            # carbon keeps them in its _tagged tree
            tagged = ("stats.counters.api.hits.count;canary=true;"
                      "name_=x_y;route=-pay")
            pts = self.wait_points(tagged, lambda pts: 2.0 in pts.values())
            self.assertIn("/_tagged/", self.carbon.file_of(tagged))
            self.assertTrue(pts)
            # a hostile service and metric stay inside their components
            self.wait_points("stats.gauges.bad_svc_x.x_y.a_b-c",
                             lambda pts: 5.0 in pts.values())

            sent = d.wait_value("vitals_graphite_sent_total")
            self.assertGreater(sent, 0)
            self.assertEqual(d.value("vitals_graphite_connected"), 1.0)
            self.assertEqual(d.value("vitals_graphite_dropped_total",
                                     reason="buffer_full"), 0.0)
        self.assertNotIn("Traceback", self.carbon.output())

    def test_tags_folded_into_the_path(self):
        cfg = carbon_config(self.carbon, tags="path", prefix="dc1.vitals")
        with Vitalsd(config=cfg) as d:
            d.send_udp("shop.orders:4|c|#route:/cart,region:eu.west")
            p = "dc1.vitals.counters.shop.orders.region.eu_west.route.-cart"
            pts = self.wait_points(p + ".count",
                                   lambda pts: 4.0 in pts.values())
            self.assertTrue(pts)
            self.assertNotIn("_tagged", os.listdir(self.carbon.whisper))


class CarbonAway(TestCase):

    def test_carbon_down_at_start_then_started(self):
        carbon = Carbon()
        self.addCleanup(carbon.cleanup)
        cfg = carbon_config(carbon, reconnect_max="500ms", tags="path")
        with Vitalsd(config=cfg) as d:
            sent = 0
            for _ in range(3):
                d.send_udp("late.hits:5|c")
                sent += 5
                time.sleep(0.5)
            wait_for(lambda: (d.value("vitals_graphite_errors_total") or 0)
                     >= 1, what="a failed connection to carbon")
            self.assertEqual(d.value("vitals_graphite_connected"), 0.0)
            wait_for(lambda: d.value("vitals_graphite_buffer_bytes") > 0,
                     what="windows held for carbon")
            self.assertEqual(d.value("vitals_graphite_windows_total"), 0.0)

            carbon.start()
            d.send_udp("late.hits:1|c")
            sent += 1
            path = "stats.counters.late.hits.count"
            # every window buffered while carbon was away arrives, once
            wait_for(lambda: sum(carbon.points(path).values()) == sent,
                     timeout=20, what="all %d hits in whisper" % sent)
            self.assertEqual(d.wait_value("vitals_graphite_connected", 1.0),
                             1.0)
            self.assertEqual(d.value("vitals_graphite_dropped_total",
                                     reason="buffer_full"), 0.0)

            # carbon restarts: the sender notices the closed connection,
            # waits, and what was counted meanwhile arrives
            carbon.stop()
            d.wait_value("vitals_graphite_connected", 0.0)
            d.send_udp("late.after:7|c")
            wait_for(lambda: d.value("vitals_graphite_buffer_bytes") > 0,
                     what="a window held while carbon restarts")
            carbon.start()
            after = "stats.counters.late.after.count"
            wait_for(lambda: sum(carbon.points(after).values()) == 7,
                     timeout=20, what="the hits sent while carbon was away")
            self.assertGreaterEqual(
                d.value("vitals_graphite_connections_total"), 2)

    def test_tiny_buffer_counts_what_it_drops(self):
        dead = free_port()          # nothing ever listens there
        cfg = {"rrd": {"enabled": False}, "shutdown_timeout": "1s",
               "graphite": {"address": "127.0.0.1:%d" % dead,
                            "max_buffer": 1024, "reconnect_max": "500ms"}}
        with Vitalsd(config=cfg) as d:
            # about 800 bytes a window: one fits, the next ones do not
            names = "\n".join("svc.metric_with_a_long_name_%02d:1|c" % i
                              for i in range(6))
            for _ in range(4):
                d.send_udp(names)
                time.sleep(0.4)
            dropped = wait_for(
                lambda: d.value("vitals_graphite_dropped_total",
                                reason="buffer_full"),
                what="windows dropped for a full buffer")
            self.assertGreater(dropped, 0)
            held = d.value("vitals_graphite_buffer_bytes")
            self.assertTrue(0 < held <= 1024, held)
            self.assertEqual(d.value("vitals_graphite_buffer_limit_bytes"),
                             1024)
            self.assertEqual(d.value("vitals_graphite_sent_total"), 0.0)
            self.assertEqual(d.value("vitals_graphite_connected"), 0.0)
            self.assertIn("graphite: buffer full", d.log_text())


class BadKeys(TestCase):

    def test_a_bad_graphite_key_exits_2_naming_file_and_key(self):
        cases = [
            ({"address": "carbon:"}, "graphite.address: expected host:port"),
            ({"tags": "labels"}, "graphite.tags: expected \"graphite\""),
            ({"prefix": "a b"}, "graphite.prefix: expected dot-separated"),
            ({"max_buffer": 10}, "graphite.max_buffer: must be between"),
        ]
        d = tempfile.mkdtemp(prefix="vitals-graphite-keys-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "vitals.json")
        for graphite, want in cases:
            with open(path, "w") as f:
                f.write('{\n  "graphite": %s\n}\n' % json.dumps(graphite))
            r = run_vitalsd(["-c", path, "--check-config"])
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            # the key is on line 2 of the file
            self.assertIn("vitalsd: %s: line 2: %s" % (path, want), r.stderr)
