"""Classic Prometheus histograms (issue 23 item 2) end to end.

A mapping rule with `observer_type: histogram` (in the config's `mappings`
section here; a statsd_exporter mapping file says the same) makes a timer
or histogram a Prometheus histogram: real python3-statsd timings come out
of /metrics as `_bucket{le}` lines (bounds in seconds for timers), `_sum`
and `_count`, cumulative across windows. The bucket counts are read from
the window's sketch at flush, so a count may include values up to one
sketch bucket (2.0 %) above its bound and never misses one at or below
it: that is the tolerance asserted. promtool accepts the exposition, and
a real Prometheus (which scrapes OpenMetrics) stores the histogram:
histogram_quantile over its buckets lands in the bucket that holds the
sketch's own quantile of the same values (sent to an unmapped twin that
stays a summary)."""
import statsd

from harness import TestCase, Vitalsd, parse_exposition, wait_for
from test_mapping import promtool_ok
from test_prometheus_server import Prometheus

BOUNDS = [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25]
DEFAULT_BOUNDS = [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10]
SLACK = 1.0201          # one sketch bucket: gamma = 2^(1/35)

RULES = [
    {"match": "shop.*.latency", "name": "latency.$1",
     "observer_type": "histogram", "buckets": BOUNDS},
    # no buckets: statsd_exporter's defaults
    {"match": "shop.size", "name": "size", "observer_type": "histogram"},
]


def bucket_lines(samples, name, **labels):
    """{le: value} of name_bucket for the labels."""
    out = {}
    for (n, ls), v in samples.items():
        d = dict(ls)
        le = d.pop("le", None)
        if n == name + "_bucket" and d == labels:
            out[le] = v
    return out


def le_text(b):
    return "%g" % b


class ClassicHistograms(TestCase):

    def check_buckets(self, got, values, bounds, scale):
        """Every bound's count lies between the exact count at it and the
        exact count one sketch bucket above it; +Inf is all of them."""
        self.assertEqual(set(got), {le_text(b) for b in bounds} | {"+Inf"},
                         got)
        prev = 0
        for b in bounds:
            lo = sum(1 for v in values if v <= b * scale)
            hi = sum(1 for v in values if v <= b * scale * SLACK)
            c = got[le_text(b)]
            self.assertTrue(lo <= c <= hi, "le=%g: %g not in [%d, %d]"
                            % (b, c, lo, hi))
            self.assertGreaterEqual(c, prev)
            prev = c
        self.assertEqual(got["+Inf"], len(values))

    def test_timer_buckets_cumulative_and_promtool(self):
        with Vitalsd(config={"mappings": RULES}) as d:
            c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
            first = [0.5 * i for i in range(1, 201)]        # 0.5 .. 100 ms
            for v in first:
                c.timing("shop.get.latency", v)
            for v in (3, 70, 700, 7000):
                c.histogram("shop.size", v) if hasattr(c, "histogram") \
                    else c._send_stat("shop.size", "%d|h" % v, 1)
            c.close()
            d.wait_value("latency_get_seconds_count", 200.0, timeout=15,
                         service="shop")
            m = d.metrics()
            self.check_buckets(bucket_lines(m, "latency_get_seconds",
                                            service="shop"),
                               first, BOUNDS, 1000)
            self.assertAlmostEqual(
                m[("latency_get_seconds_sum", frozenset({"service": "shop"}
                                                        .items()))],
                sum(first) / 1000, places=6)
            # a histogram in the unit sent, with the default buckets
            d.wait_value("size_count", 4.0, service="shop")
            self.check_buckets(bucket_lines(d.metrics(), "size",
                                            service="shop"),
                               [3, 70, 700, 7000], DEFAULT_BOUNDS, 1)
            text = d.metrics_text()
            self.assertIn("# TYPE latency_get_seconds histogram\n", text)
            self.assertIn("# TYPE size histogram\n", text)
            self.assertNotIn('latency_get_seconds{service="shop",quantile',
                             text)
            promtool_ok(self, text)
            om = d.get("/metrics", headers={
                "Accept": "application/openmetrics-text; version=1.0.0"}).text
            self.assertIn("# TYPE latency_get_seconds histogram\n", om)
            self.assertIn('latency_get_seconds_bucket{service="shop",'
                          'le="+Inf"} 200\n', om)
            self.assertTrue(om.endswith("# EOF\n"))

            # a later window adds to the counts: cumulative, like _count
            c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
            second = [1, 1, 1, 40, 400]
            for v in second:
                c.timing("shop.get.latency", v)
            c.close()
            d.wait_value("latency_get_seconds_count", 205.0, timeout=15,
                         service="shop")
            self.check_buckets(bucket_lines(d.metrics(),
                                            "latency_get_seconds",
                                            service="shop"),
                               first + second, BOUNDS, 1000)
            promtool_ok(self, d.metrics_text())
            d.assert_clean_log()

    def test_real_prometheus_histogram_quantile(self):
        with Vitalsd(config={"mappings": RULES}, flush="2s") as d:
            prom = Prometheus("127.0.0.1:%d" % d.http_port)
            try:
                wait_for(lambda: (prom.target() or {}).get("health") == "up",
                         timeout=30, interval=0.25, what="a clean scrape")
                c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
                values = [0.5 * i for i in range(1, 201)]
                with c.pipeline() as p:
                    for v in values:
                        p.timing("shop.get.latency", v)
                        p.timing("shop.twin", v)    # unmapped: a summary
                c.close()
                prom.wait_value("latency_get_seconds_count", 200.0,
                                service="shop")
                prom.wait_value("twin_seconds_count", 200.0, service="shop")
                t = prom.target()
                self.assertEqual(t["lastError"], "", t)
                for q in (0.5, 0.9, 0.99):
                    self._agree(prom, q)
            finally:
                prom.stop()

    def _agree(self, prom, q):
        hq = wait_for(lambda: list(prom.query(
            "histogram_quantile(%g, latency_get_seconds_bucket)" % q)
            .values()), timeout=20, interval=0.25,
            what="histogram_quantile(%g)" % q)[0]
        # the window with the values: the summary's quantile of it
        sq = wait_for(lambda: [v for v in prom.query(
            'max_over_time(twin_seconds{quantile="%g"}[5m])' % q).values()
            if v == v], timeout=20, interval=0.25,
            what="the twin's quantile %g" % q)[0]
        # histogram_quantile interpolates inside the bucket that holds the
        # quantile: it agrees with the sketch to that bucket's width (and
        # the sketch's 1 % on either side of it)
        bounds = [0.0] + BOUNDS
        i = next(k for k in range(1, len(bounds)) if sq <= bounds[k] * 1.01)
        lo, hi = bounds[i - 1] / SLACK, bounds[i] * SLACK
        self.assertTrue(lo <= hq <= hi,
                        "q=%g: histogram_quantile %g, summary %g, bucket "
                        "(%g, %g]" % (q, hq, sq, bounds[i - 1], bounds[i]))

    def test_documented_regex_rule_keeps_names(self):
        """docs/configuration.md's rule: all of a service's timers become
        histograms under their own names; its counters stay counters and
        another service's timers stay summaries."""
        rule = {"match": "^shop\\.(.*)$", "match_type": "regex",
                "name": "$1", "match_metric_type": "observer",
                "observer_type": "histogram",
                "buckets": [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]}
        with Vitalsd(config={"mappings": [rule]}) as d:
            c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
            c.timing("shop.http.get", 20)
            c.timing("shop.db.query.time", 300)
            c.incr("shop.orders")
            c.timing("bank.http.get", 20)
            c.close()
            d.wait_value("db_query_time_seconds_count", 1.0, timeout=15,
                         service="shop")
            d.wait_value("vitals_prometheus_conflicts", 1.0)
            m = d.metrics()
            self.assertEqual(bucket_lines(m, "http_get_seconds",
                                          service="shop")["0.025"], 1)
            self.assertEqual(bucket_lines(m, "http_get_seconds",
                                          service="shop")["0.01"], 0)
            self.assertEqual(bucket_lines(m, "db_query_time_seconds",
                                          service="shop")["0.5"], 1)
            self.assertEqual(d.wait_value("orders_total", 1.0,
                                          service="shop"), 1.0)
            # one family, one type: bank's timer of the same name is a
            # summary, so it is the conflict
            text = d.metrics_text()
            self.assertIn("# TYPE http_get_seconds histogram\n", text)
            self.assertNotIn('service="bank"', text.split(
                "# TYPE http_get_seconds histogram")[1].split("# HELP")[0])
            self.assertEqual(d.value("vitals_prometheus_conflicts"), 1.0)
            promtool_ok(self, text)

    def test_defaults_observer_type_covers_unmapped_timers(self):
        """statsd_exporter's defaults.observer_type, in the config's
        `mappings` section: every timer no rule maps is a histogram with
        the default buckets, names unchanged; a rule saying summary keeps
        its summary; the daemon's own vitals.* timers are left alone."""
        config = {"mappings": {
            "defaults": {"observer_type": "histogram"},
            "mappings": [{"match": "pay.slow", "name": "slow",
                          "observer_type": "summary"}]}}
        with Vitalsd(config=config) as d:
            c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
            for v in (3, 30, 300):
                c.timing("pay.http.get", v)
            c.timing("pay.slow", 3)
            c.close()
            d.wait_value("http_get_seconds_count", 3.0, timeout=15,
                         service="pay")
            d.wait_value("slow_seconds_count", 1.0, service="pay")
            self.check_buckets(bucket_lines(d.metrics(), "http_get_seconds",
                                            service="pay"),
                               [3, 30, 300], DEFAULT_BOUNDS, 1000)
            text = d.metrics_text()
            self.assertIn("# TYPE slow_seconds summary\n", text)
            self.assertNotIn("_bucket{service=\"vitals\"", text)
            promtool_ok(self, text)
