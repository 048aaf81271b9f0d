"""Native (exponential) Prometheus histograms (issue 23 item 3) end to end.

Two vitalsd collectors each get part of the timings of one metric from a
real statsd client (python3-statsd over TCP). A real Prometheus 2.42,
started with --enable-feature=native-histograms, scrapes both: it asks for
the delimited protobuf format first, and vitalsd answers with every family
in protobuf and timers as native histograms built from its sketch.
histogram_quantile over the sum of both collectors' series agrees with
the percentile of all the values sent, within the stated error: 3.3 % for
a native bucket built from the sketch (docs/wire-formats.md), 4.3 %
against the sketch's own percentile (which is within 1 % of the value).

The protobuf answer is also decoded here (a reader of the wire format in
a few lines), and a text scrape still says what it always said (a
summary, promtool clean)."""
import math
import os
import random
import struct
import tempfile

import statsd

from harness import TestCase, Vitalsd, http, run_vitalsd, wait_for
from test_mapping import promtool_ok
from test_prometheus_server import Prometheus

PROTO_ACCEPT = ("application/vnd.google.protobuf;"
                "proto=io.prometheus.client.MetricFamily;encoding=delimited")
NATIVE_ERR = 0.033          # a native bucket from the sketch: 3.22 %
COMBINED_ERR = 0.043        # that and the sketch's 0.99 %
NAME = "checkout_latency_seconds"


# ---- a protobuf reader (the wire format, metrics.proto field numbers) ----

def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v = struct.unpack("<d", b[i:i + 8])[0]
            i += 8
        elif wire == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        else:
            raise AssertionError("wire type %d" % wire)
        yield num, wire, v


def _unzigzag(v):
    return (v >> 1) ^ -(v & 1)


def decode_families(body):
    """[(name, type, [(labels, {field: raw sub-message})])] of a delimited
    MetricFamily stream."""
    out, i = [], 0
    while i < len(body):
        n, i = _varint(body, i)
        name, typ, metrics = None, 0, []
        for num, _, v in _fields(body[i:i + n]):
            if num == 1:
                name = v.decode()
            elif num == 3:
                typ = v
            elif num == 4:
                labels, parts = {}, {}
                for mn, _, mv in _fields(v):
                    if mn == 1:
                        lp = {ln: lv.decode() for ln, _, lv in _fields(mv)}
                        labels[lp.get(1, "")] = lp.get(2, "")
                    else:
                        parts[mn] = mv
                metrics.append((labels, parts))
        out.append((name, typ, metrics))
        i += n
    return out


def native_buckets(hist):
    """{index: count} of the positive native buckets, and the schema."""
    spans, deltas, schema = [], [], None
    for num, wire, v in _fields(hist):
        if num == 5:
            schema = _unzigzag(v)
        elif num == 12:
            s = {sn: sv for sn, _, sv in _fields(v)}
            spans.append((_unzigzag(s.get(1, 0)), s.get(2, 0)))
        elif num == 13:
            j = 0
            while j < len(v):
                d, j = _varint(v, j)
                deltas.append(_unzigzag(d))
    out, idx, k, c = {}, 0, 0, 0
    for off, length in spans:
        idx += off
        for _ in range(length):
            c += deltas[k]
            k += 1
            out[idx] = c
            idx += 1
    return out, schema


def timings(n, seed):
    """n latencies in ms, log-normal around 20 ms, rounded as statsd
    clients send them."""
    rng = random.Random(seed)
    return [round(rng.lognormvariate(3.0, 0.8), 3) for _ in range(n)]


def exact_rank(values, q):
    """The values of the ranks a quantile estimate may stand for: the
    sketch's floor(q (n - 1)) and Prometheus' ceil(q n) - 1."""
    s = sorted(values)
    lo = int(q * (len(s) - 1))
    hi = max(lo, min(len(s) - 1, math.ceil(q * len(s)) - 1))
    return s[lo], s[hi]


GAMMA = 2 ** (1 / 35)      # the sketch's bucket ratio (sketch.h)


def sketch_quantile(values, q):
    """What the daemon's sketch answers for quantile q of values: the
    representative 2 gamma^i / (gamma + 1) of the bucket
    (gamma^(i-1), gamma^i] holding the value of rank floor(q (n - 1)),
    clamped to the exact min and max."""
    s = sorted(values)
    x = s[int(q * (len(s) - 1))]
    i = math.ceil(math.log(x) / math.log(GAMMA) - 1e-9)
    rep = 2 * GAMMA ** i / (GAMMA + 1)
    return min(max(rep, s[0]), s[-1])


class NativeHistograms(TestCase):

    def test_two_collectors_real_prometheus_histogram_quantile(self):
        warm = [7.0, 7.0]               # one per collector, before the rate
        bulk = timings(3000, seed=23)
        with Vitalsd() as a, Vitalsd() as b:
            targets = ["127.0.0.1:%d" % d.http_port for d in (a, b)]
            config = ("global:\n"
                      "  scrape_interval: 1s\n"
                      "  scrape_timeout: 1s\n"
                      "scrape_configs:\n"
                      "  - job_name: vitals\n"
                      "    static_configs:\n"
                      "      - targets: ['%s', '%s']\n" % tuple(targets))
            prom = Prometheus(None, config_text=config,
                              args=["--enable-feature=native-histograms"])
            try:
                self._run(prom, a, b, warm, bulk)
            finally:
                prom.stop()

    def _send(self, d, values):
        c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
        with c.pipeline() as p:
            for v in values:
                p.timing("shop.checkout.latency", v)
        c.close()

    def _run(self, prom, a, b, warm, bulk):
        # both series exist in Prometheus before the bulk, so that
        # rate() over the range sees the bulk as its increase
        self._send(a, warm[:1])
        self._send(b, warm[1:])
        wait_for(lambda: prom.query("histogram_count(sum(%s))" % NAME)
                 .get(frozenset()) == 2.0, timeout=30, interval=0.25,
                 what="both collectors' first timing in Prometheus")
        self._targets_clean(prom)
        self._send(a, bulk[0::2])
        self._send(b, bulk[1::2])
        total = float(len(warm) + len(bulk))
        wait_for(lambda: prom.query("histogram_count(sum(%s))" % NAME)
                 .get(frozenset()) == total, timeout=30, interval=0.25,
                 what="all %d timings in Prometheus" % total)
        self._targets_clean(prom)

        figures = []
        for q in (0.5, 0.9, 0.99):
            # the increase over the last minute: the bulk
            hq = self._query_one(prom, "histogram_quantile(%g, sum(rate("
                                 "%s[1m])))" % (q, NAME))
            figures.append(self._agree("rate", q, hq, bulk))
            # the cumulative histograms: every value sent
            hq = self._query_one(prom, "histogram_quantile(%g, sum(%s))"
                                 % (q, NAME))
            figures.append(self._agree("total", q, hq, warm + bulk))
        print("\n  " + "\n  ".join(figures))
        s = self._query_one(prom, "histogram_sum(sum(%s))" % NAME)
        self.assertAlmostEqual(s, sum(warm + bulk), places=3)    # ms
        # one native series per collector, no _count or _sum series
        self.assertEqual(prom.query("count(%s_count)" % NAME), {})
        self.assertEqual(prom.query("count(histogram_count(%s))" % NAME),
                         {frozenset(): 2.0})

        self._check_protobuf(a, len(warm[:1]) + len(bulk[0::2]))
        self._check_text(a)

    def _targets_clean(self, prom):
        data = prom.api("targets")
        for t in data["activeTargets"]:
            self.assertEqual(t["health"], "up", t)
            self.assertEqual(t["lastError"], "", t)

    def _query_one(self, prom, expr):
        return wait_for(lambda: [v for v in prom.query(expr).values()
                                 if v == v], timeout=20, interval=0.25,
                        what=expr)[0] * 1000       # ms, as sent

    def _agree(self, what, q, hq, values):
        lo, hi = exact_rank(values, q)
        sq = sketch_quantile(values, q)
        self.assertTrue(lo / (1 + NATIVE_ERR) <= hq <= hi * (1 + NATIVE_ERR),
                        "%s q=%g: histogram_quantile %.4f ms, values of the "
                        "rank [%.4f, %.4f] ms" % (what, q, hq, lo, hi))
        # against the sketch's own percentile: the stated 4.3 %, and the
        # two ranks' distance (Prometheus reads rank q n, the sketch
        # floor(q (n - 1)))
        self.assertLessEqual(abs(hq - sq), COMBINED_ERR * sq + (hi - lo),
                             "%s q=%g: %.4f ms vs the sketch's %.4f ms" %
                             (what, q, hq, sq))
        return ("%s q=%g: histogram_quantile %.3f ms, sketch %.3f ms "
                "(%+.2f %%), exact %.3f ms" % (what, q, hq, sq,
                                              100 * (hq / sq - 1), lo))

    def _check_protobuf(self, d, count):
        r = d.get("/metrics", headers={"Accept": PROTO_ACCEPT + ";q=0.7,"
                                       "text/plain;version=0.0.4;q=0.3"})
        self.assertEqual(r.status, 200)
        ctype = r.headers.get("Content-Type", "")
        self.assertIn("application/vnd.google.protobuf", ctype)
        self.assertIn("proto=io.prometheus.client.MetricFamily", ctype)
        self.assertIn("encoding=delimited", ctype)
        fams = {name: (typ, metrics)
                for name, typ, metrics in decode_families(r.body)}
        typ, metrics = fams[NAME]
        self.assertEqual(typ, 4)                         # HISTOGRAM
        labels, parts = metrics[0]
        self.assertEqual(labels, {"service": "shop"})
        buckets, schema = native_buckets(parts[7])
        self.assertEqual(schema, 5)
        self.assertEqual(sum(buckets.values()), count)
        # the daemon's own families come along, as protobuf too
        self.assertEqual(fams["vitals_metrics"][0], 1)   # GAUGE
        self.assertEqual(fams["vitals_lines_total"][0], 0)   # COUNTER

    def _check_text(self, d):
        for headers in (None, {"Accept": "text/plain;version=0.0.4"}):
            r = http("GET", d.url("/metrics"), headers=headers)
            self.assertTrue(r.headers.get("Content-Type", "")
                            .startswith("text/plain; version=0.0.4"))
            text = r.text
            self.assertIn("# TYPE %s summary\n" % NAME, text)
            self.assertIn('%s{service="shop",quantile="0.99"}' % NAME, text)
            self.assertIn('%s_count{service="shop"} ' % NAME, text)
            self.assertNotIn("histogram", text.split("# TYPE %s" % NAME)[1]
                             .split("\n")[0])
            promtool_ok(self, text)


class NativeHistogramsOff(TestCase):
    """prometheus.native_histograms: false keeps timers summaries in
    protobuf too; a bad value is refused at start (exit 2), naming the
    file and the key, as for every key."""

    def test_off_sends_summaries_in_protobuf(self):
        with Vitalsd(config={"prometheus": {"native_histograms": False}}) as d:
            d.send_udp("shop.checkout.latency:12|ms\n"
                       "shop.checkout.latency:30|ms\n")
            d.wait_value(NAME + "_count", 2.0, service="shop")
            r = d.get("/metrics", headers={"Accept": PROTO_ACCEPT})
            self.assertIn("application/vnd.google.protobuf",
                          r.headers.get("Content-Type", ""))
            fams = {name: (typ, metrics)
                    for name, typ, metrics in decode_families(r.body)}
            typ, metrics = fams[NAME]
            self.assertEqual(typ, 2)                     # SUMMARY
            summary = {n: v for n, _, v in _fields(metrics[0][1][4])}
            self.assertEqual(summary[1], 2)              # sample_count

    def test_bad_value_exits_2_naming_file_and_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json",
                                         delete=False) as f:
            f.write('{\n  "prometheus": {\n    "native_histograms": "yes"\n'
                    '  }\n}\n')
        self.addCleanup(os.unlink, f.name)
        r = run_vitalsd(["-c", f.name, "--check-config"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f.name, r.stderr)
        self.assertIn("prometheus.native_histograms: expected true or "
                      "false", r.stderr)
