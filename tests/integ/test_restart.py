"""A restart changes nothing a user sees (issue 20, item 1).

A daemon receives metrics from a real statsd client and healthchecks,
writes its windows to RRD files, and is stopped with SIGTERM (or killed).
The next daemon on the same data directory, before any new traffic, must
list every service and every metric it had, with the same last-seen
times, draw each metric's graph on the service page (in Chromium), keep
metric-only services on the overview, and keep a DELETE. A metric that
sent nothing for retire_after leaves the views, its file stays.
"""
import glob
import json
import os
import signal
import time
import urllib.parse

import browser
from harness import TestCase, Vitalsd, http, wait_for

try:
    import statsd          # Debian's python3-statsd: a real client
except ImportError:        # pragma: no cover - ensure-deps installs it
    statsd = None


def metrics_of(d, service):
    r = d.get("/api/v1/services/" + service)
    if r.status != 200:
        return None
    return {(m["name"], tuple(sorted(m["labels"].items()))): m
            for m in r.json()["metrics"]}


def services_of(d):
    return {s["name"]: s for s in d.get("/api/v1/services").json()["services"]}


class RestartTest(TestCase):

    def send(self, d):
        c = statsd.StatsClient("127.0.0.1", d.statsd_port)
        for i in range(40):
            # A tagged timer, as DogStatsD clients send it.
            d.send_udp("shop.http.get:%d|ms|#route:/cart" % (10 + i % 20))
        c.incr("shop.orders", 12)
        c.gauge("shop.queue", 7)
        c.incr("tour.visits", 3)
        d.send_udp('{"service": "pay", "check": "db", "status": "ok", '
                   '"ttl": 3600}')

    def test_every_metric_is_listed_and_drawn_after_a_restart(self):
        with Vitalsd(flush="1s") as d:
            self.send(d)
            want = {("http.get", (("route", "/cart"),)), ("orders", ()),
                    ("queue", ())}
            wait_for(lambda: (metrics_of(d, "shop") or {}).keys() == want,
                     timeout=15, what="shop's three metrics")
            wait_for(lambda: len(glob.glob(os.path.join(
                d.data_dir, "shop", "*.rrd"))) == 3, timeout=15,
                what="shop's RRD files")
            # Timings in every window for a while, so the coarser rows of
            # the files hold a line to draw.
            for _ in range(12):
                for i in range(10):
                    d.send_udp("shop.http.get:%d|ms|#route:/cart" % (10 + i))
                time.sleep(0.5)
            time.sleep(1.5)
            before = metrics_of(d, "shop")
            seen = {n: s["last_seen"] for n, s in services_of(d).items()}
            self.assertEqual(set(seen), {"shop", "tour", "pay"})

            d.restart()
            log = d.log_text()
            self.assertIn("remembered 4 metrics", log)
            # No traffic since: everything is listed at once.
            now = services_of(d)
            self.assertEqual(set(now), {"shop", "tour", "pay"})
            for name in ("shop", "tour"):
                self.assertAlmostEqual(now[name]["last_seen"], seen[name],
                                       places=3)
                self.assertEqual(now[name]["metrics"],
                                 3 if name == "shop" else 1)
            after = metrics_of(d, "shop")
            self.assertEqual(after.keys(), before.keys())
            for k, m in after.items():
                self.assertEqual(m["type"], before[k]["type"])
                self.assertAlmostEqual(m["last_seen"], before[k]["last_seen"],
                                       places=3)
                self.assertEqual(m["window"]["samples"], 0)
            self.assertEqual(after[("queue", ())]["window"]["value"], 7)
            # Prometheus still sees every series: the gauge with its value,
            # counters from 0 (a reset, as rate() expects after a restart).
            shop = frozenset({("service", "shop")})
            m = wait_for(lambda: (lambda m: m if ("queue", shop) in m
                                  else None)(d.metrics()), timeout=10,
                         what="the first window after the restart")
            self.assertEqual(m[("queue", shop)], 7)
            self.assertEqual(m[("orders_total", shop)], 0)
            self.assertIn(("visits_total", frozenset({("service", "tour")})),
                          m)
            self.assertIn('http_get_seconds_count{service="shop",'
                          'route="/cart"}', d.metrics_text())

            # Each metric's graph, drawn from its file, with data in it.
            q = urllib.parse.urlencode({"service": "shop",
                                        "metric": "http.get",
                                        "labels": "route:/cart",
                                        "stat": "p99", "from": "-10m"})
            pts = d.get("/api/v1/series?" + q).json()["points"]
            self.assertTrue([p for p in pts if p[1] is not None], pts)
            page = d.get("/services/shop").text
            for metric in ("http.get.svg", "orders.svg", "queue.svg"):
                self.assertIn(metric, page)
            with browser.Browser(1920, 1080) as b:
                b.open(d.url("/services/shop"))
                b.eval("Promise.all(Array.from(document.images).map(i => "
                       "{ i.loading = 'eager'; return i.decode()"
                       ".catch(() => null); }))", timeout=180)
                n = b.eval("document.querySelectorAll('.graph img').length")
                self.assertGreaterEqual(n, 3)   # at least one per metric
                bad = b.eval("Array.from(document.querySelectorAll("
                             "'.graph img')).filter(i => !i.complete || "
                             "i.naturalWidth == 0).map(i => i.src)")
                self.assertEqual(bad, [])
                text = b.eval("document.body.innerText")
                self.assertIn("3 metrics", text)
                b.open(d.url("/"))
                names = b.eval("Array.from(document.querySelectorAll("
                               "'.tile')).map(t => t.dataset.service)")
                self.assertEqual(sorted(names), ["pay", "shop", "tour"])

            # A metric sending again is one metric, not two.
            d.send_udp("shop.queue:9|g")
            wait_for(lambda: metrics_of(d, "shop")[("queue", ())]
                     ["window"]["value"] == 9, timeout=10,
                     what="the gauge's new value")
            self.assertEqual(len(metrics_of(d, "shop")), 3)

    def test_a_kill_9_keeps_what_was_saved_and_delete_sticks(self):
        with Vitalsd(flush="1s") as d:
            self.send(d)
            wait_for(lambda: {"shop", "tour"} <= set(services_of(d)),
                     timeout=15, what="services")
            # New names are saved within 10 s; wait for the file.
            path = os.path.join(d.data_dir, "catalogue.json")
            wait_for(lambda: os.path.exists(path) and
                     b"tour" in open(path, "rb").read(), timeout=20,
                     what="catalogue.json")
            wait_for(lambda: glob.glob(os.path.join(d.data_dir, "tour",
                                                    "*.rrd")), timeout=20,
                     what="tour's RRD file")
            d.restart(signal.SIGKILL)
            self.assertTrue({"shop", "tour"} <= set(services_of(d)))

            r = http("DELETE", d.url("/api/v1/services/tour"))
            self.assertEqual(r.status, 202, r.text)
            self.assertNotIn("tour", services_of(d))
            d.restart()
            self.assertNotIn("tour", services_of(d))
            self.assertIn("shop", services_of(d))
            # Its file stays.
            self.assertTrue(glob.glob(os.path.join(d.data_dir, "tour",
                                                   "*.rrd")))

    def test_an_idle_metric_retires_but_its_file_stays(self):
        cfg = {"metric_ttl": "2s", "retire_after": "5s"}
        with Vitalsd(flush="1s", config=cfg) as d:
            d.send_udp("old.jobs:1|c")
            wait_for(lambda: "old" in services_of(d), timeout=10,
                     what="old listed")
            t0 = time.time()
            # Out of memory after 2 s, still listed (idle) until 5 s.
            wait_for(lambda: time.time() - t0 > 3.5, timeout=10)
            self.assertIn("old", services_of(d))
            self.assertEqual(metrics_of(d, "old")[("jobs", ())]["window"]
                             ["samples"], 0)
            self.assertNotIn("jobs", d.metrics_text())   # out of memory
            wait_for(lambda: "old" not in services_of(d), timeout=10,
                     what="old retired")
            self.assertEqual(d.get("/api/v1/services/old").status, 404)
            self.assertTrue(glob.glob(os.path.join(d.data_dir, "old",
                                                   "*.rrd")))
            d.restart()
            self.assertNotIn("old", services_of(d))

    def test_a_service_quiet_for_an_hour_is_shown_idle(self):
        with Vitalsd(flush="1s") as d:
            d.send_udp("busy.jobs:1|c")
            d.send_udp("quiet.jobs:1|c")
            wait_for(lambda: {"busy", "quiet"} <= set(services_of(d)),
                     timeout=10, what="services")
            d.stop()
            # As if quiet had last sent an hour before the restart.
            path = os.path.join(d.data_dir, "catalogue.json")
            with open(path) as f:
                cat = json.load(f)
            for m in cat["metrics"]:
                if m["service"] == "quiet":
                    m["last_seen"] -= 3600
            with open(path, "w") as f:
                json.dump(cat, f)
            d.returncode = None
            d.start()
            s = services_of(d)
            self.assertTrue(s["quiet"]["idle"])
            self.assertFalse(s["busy"]["idle"])
            page = d.get("/").text
            self.assertRegex(page, r'class="tile [^"]*is-idle[^"]*" '
                             r'href="/services/quiet"')
            self.assertNotRegex(page, r'class="tile [^"]*is-idle[^"]*" '
                                r'href="/services/busy"')
            self.assertIn("IDLE", d.get("/?wall=1").text)
