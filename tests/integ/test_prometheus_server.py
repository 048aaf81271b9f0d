"""A real Prometheus server (Debian's `prometheus`) scrapes vitalsd.

promtool checks the exposition's syntax; this checks what Prometheus
itself makes of it: the target is up with no scrape error, counters stay
cumulative across windows, timers arrive as summaries in seconds, and a
tag value full of quotes and backslashes comes back byte for byte as a
label. Prometheus asks for OpenMetrics first, so this is the path a real
scrape takes."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from harness import TestCase, Vitalsd, free_port, http, terminate, wait_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
CONTRIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "contrib", "prometheus")


class Prometheus:
    """One Prometheus server scraping one target every second, with its
    TSDB in a temp dir; args are more command-line flags (e.g.
    --enable-feature=native-histograms)."""

    def __init__(self, target, config_text=None, args=()):
        self.dir = tempfile.mkdtemp(prefix="vitals-prom-")
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        if config_text is None:
            config_text = ("global:\n"
                           "  scrape_interval: 1s\n"
                           "  scrape_timeout: 1s\n"
                           "scrape_configs:\n"
                           "  - job_name: vitals\n"
                           "    static_configs:\n"
                           "      - targets: ['%s']\n" % target)
        with open(config, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s" % (self.port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            r = http("GET", url, timeout=5)
        except OSError:
            return None
        if r.status != 200:
            return None
        body = json.loads(r.body)
        return body["data"] if body.get("status") == "success" else None

    def target(self):
        """The one active target once it has been scraped, else None."""
        if self.proc.poll() is not None:
            raise AssertionError("prometheus exited:\n" + self.log_text())
        data = self.api("targets")
        if not data or not data["activeTargets"]:
            return None
        t = data["activeTargets"][0]
        return t if t["health"] != "unknown" else None

    def query(self, expr):
        """{frozenset(labels but the name, job and instance): float} for
        an instant query."""
        data = self.api("query", query=expr)
        if data is None:
            return {}
        out = {}
        for r in data["result"]:
            labels = {k: v for k, v in r["metric"].items()
                      if k not in ("__name__", "job", "instance")}
            out[frozenset(labels.items())] = float(r["value"][1])
        return out

    def wait_value(self, expr, expected, timeout=30, **labels):
        key = frozenset(labels.items())
        try:
            return wait_for(lambda: self.query(expr).get(key) == expected,
                            timeout=timeout, interval=0.25,
                            what="prometheus: %s%r == %r"
                            % (expr, labels, expected))
        except AssertionError as e:
            t = self.target() or {}
            raise AssertionError("%s; the last scrape's error: %r"
                                 % (e, t.get("lastError"))) from None

    def log_text(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        terminate(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RealPrometheusScrapes(TestCase):

    def test_prometheus_scrapes_counters_timers_and_escaped_labels(self):
        with Vitalsd(config={"self_metrics": True}, flush="3s") as d:
            prom = Prometheus("127.0.0.1:%d" % d.http_port)
            try:
                self._scrape_and_query(d, prom)
            finally:
                prom.stop()

    def _scrape_and_query(self, d, prom):
        def scraped_clean():
            t = prom.target()
            return t is not None and t["health"] == "up" and \
                t["lastError"] == ""
        try:
            wait_for(scraped_clean, timeout=30, interval=0.25,
                     what="a scrape of vitalsd with no error")
        except AssertionError as e:
            raise AssertionError("%s; target: %r" % (e, prom.target())) \
                from None

        # Sent once Prometheus scrapes, so that the window holding the two
        # timings (3 s) is scraped while it is the newest.
        # A tag value with every byte the exposition has to escape.
        nasty = 'a"b\\c\\n{x=1}'
        d.send_udp("payments.requests:1|c\npayments.requests:2|c\n"
                   "payments.queue.depth:7|g\n"
                   "payments.http.get:10|ms\npayments.http.get:30|ms\n"
                   "payments.errors:1|c|#path:" + nasty)

        prom.wait_value("requests_total", 3.0, service="payments")
        prom.wait_value("queue_depth", 7.0, service="payments")
        prom.wait_value("http_get_seconds_count", 2.0, service="payments")
        prom.wait_value("http_get_seconds_sum", 0.04, service="payments")
        # A window without samples has NaN quantiles; max_over_time
        # skips them and finds the window that held the two.
        p50 = wait_for(lambda: [v for v in prom.query(
            'max_over_time(http_get_seconds{quantile="0.5"}[5m])').values()
            if v == v], timeout=30, interval=0.25, what="a p50 that is not NaN")
        self.assertEqual(len(p50), 1, p50)
        # the sketch's documented 1 % relative error around 10 or 30 ms
        self.assertTrue(0.0099 <= p50[0] <= 0.0303, p50)
        # the label comes back exactly as the service sent it
        prom.wait_value("errors_total", 1.0, service="payments", path=nasty)

        # Counters are cumulative: a later window adds to what Prometheus
        # already holds instead of starting again.
        d.send_udp("payments.requests:4|c")
        prom.wait_value("requests_total", 7.0, service="payments")
        prom.wait_value("up", 1.0)
        ok = prom.query('vitals_lines_total{result="ok"}')
        self.assertEqual(list(ok.values()), [7.0], ok)


class ContribScrapeConfigAndDashboard(TestCase):
    """contrib/prometheus/: the scrape config is valid and, with only its
    target and interval changed, scrapes vitalsd; every query of the
    Grafana dashboard (panels and variables) returns the service's data
    from that Prometheus."""

    def test_scrape_config_is_valid(self):
        r = subprocess.run([PROMTOOL, "check", "config",
                            os.path.join(CONTRIB, "prometheus.yml")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_dashboard_query_returns_the_service(self):
        with open(os.path.join(CONTRIB, "prometheus.yml")) as f:
            config = f.read()
        with open(os.path.join(CONTRIB, "grafana-dashboard.json")) as f:
            dash = json.load(f)
        with Vitalsd(flush="1s") as d:
            text = (config.replace("localhost:8080",
                                   "127.0.0.1:%d" % d.http_port)
                    .replace("scrape_interval: 10s", "scrape_interval: 1s")
                    .replace("scrape_timeout: 5s", "scrape_timeout: 1s"))
            self.assertNotEqual(text, config)
            prom = Prometheus(None, config_text=text)
            try:
                self._queries(d, prom, dash)
            finally:
                prom.stop()

    def _queries(self, d, prom, dash):
        def send():
            d.send_udp("payments.requests:1|c\npayments.http.get:10|ms\n"
                       "payments.http.get:30|ms\n"
                       "_sc|payments.db|2|m:timeout")
        send()
        prom.wait_value("requests_total", 1.0, service="payments")
        # a few windows, so that rate() has two samples of each
        for _ in range(4):
            send()
            time.sleep(1.1)
        prom.wait_value("vitals_service_status", 2.0, service="payments")

        values = {"$service": "payments", "$counter": "requests_total",
                  "$timer": "http_get_seconds",
                  "${timer}": "http_get_seconds",
                  "$__rate_interval": "1m"}

        def fill(expr):
            for k in sorted(values, key=len, reverse=True):
                expr = expr.replace(k, values[k])
            self.assertNotIn("$", expr)
            return expr

        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertIn("payments",
                      prom.api("label/service/values") or [])
        for name, want in (("counter", "requests_total"),
                           ("timer", "http_get_seconds")):
            q = variables[name]["query"]["query"]
            self.assertTrue(q.startswith("label_values(") and
                            q.endswith(", __name__)"), q)
            match = fill(q[len("label_values("):-len(", __name__)")])
            series = prom.api("series", **{"match[]": match}) or []
            names = {s["__name__"] for s in series}
            self.assertIn(want, names, "%s: %s" % (q, names))

        exprs = [t["expr"] for p in dash["panels"]
                 for t in p.get("targets", [])]
        self.assertGreaterEqual(len(exprs), 6)
        for e in exprs:
            q = fill(e)
            wait_for(lambda: (prom.api("query", query=q) or {}).get("result"),
                     timeout=20, interval=0.5, what="data for " + q)

