"""The dashboards (SPEC 6) in a real headless Chromium against the real
vitalsd: overview tiles, the wall's live updates and banner, the service
page and its graphs, escaping of hostile text, the security headers.

Screenshots of the three pages (wall 1920x1080, laptop 1366x768) are
written to $SCREENSHOT_DIR (default build/screenshots) for people to look
at; no test compares pixels or asserts timings.
"""
import json
import math
import os
import random
import re
import threading
import time
import unittest

import browser
from harness import TestCase, Vitalsd, wait_for

try:
    import statsd          # Debian's python3-statsd: a real client
except ImportError:        # pragma: no cover - ensure-deps installs it
    statsd = None

SHOTS = os.environ.get("SCREENSHOT_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "screenshots"))

SELF = {"self_metrics": True}    # the harness turns it off by default

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
]


def check(d, service, check, status, output="", instance="i-1", ttl=60):
    d.send_udp(json.dumps({"service": service, "instance": instance,
                           "check": check, "status": status,
                           "output": output, "ttl": ttl}))


def send_metrics(d, service, n=50):
    """Timings and counters through the real statsd client."""
    c = statsd.StatsClient("127.0.0.1", d.statsd_port)
    for i in range(n):
        c.timing("%s.http.get" % service, 10 + i % 30)
    c.incr("%s.requests" % service, n)
    c.gauge("%s.queue" % service, 7)
    c.set("%s.users" % service, "alice")


def wait_service(d, name, timeout=10):
    return wait_for(lambda: d.get("/services/" + name).status == 200,
                    timeout=timeout, what="service page of " + name)


def tiles(b):
    return b.eval("Array.from(document.querySelectorAll('.tile'))"
                  ".map(t => [t.dataset.service, t.dataset.status])")


@unittest.skipUnless(browser.available(), "chromium not installed")
@unittest.skipIf(statsd is None, "python3-statsd not installed")
class Dashboards(TestCase):
    def test_overview_lists_every_service_worst_first(self):
        with Vitalsd(config=SELF) as d:
            send_metrics(d, "shop")
            check(d, "shop", "db", "ok", "3/3 nodes up")
            check(d, "billing", "broker", "critical", "connection refused")
            check(d, "mail", "smtp", "warning", "queue 4k")
            wait_service(d, "shop")
            wait_for(lambda: "http.get" in d.get("/").text, what="figures")
            with browser.Browser(1366, 768) as b:
                b.open(d.url("/"))
                got = tiles(b)
                names = [n for n, _ in got]
                self.assertEqual(names[:3], ["billing", "mail", "shop"])
                self.assertIn("vitals", names)     # the daemon itself
                self.assertEqual(dict(got)["billing"], "critical")
                text = b.eval("document.body.innerText")
                for s in ("connection refused", "queue 4k", "3/3 nodes up",
                          "CRITICAL", "WARNING", "OK"):
                    self.assertIn(s, text)
                self.assertEqual(b.eval(
                    "document.querySelector('.tile[data-service=shop]')"
                    ".getAttribute('href')"), "/services/shop")
                self.assertIn("p99", b.eval(
                    "document.querySelector('.tile[data-service=shop]')"
                    ".innerText"))
                # the filter box narrows the tiles as you type
                b.eval("(() => { const i = document.getElementById('filter');"
                       " i.value = 'bil'; i.dispatchEvent(new Event('input'));"
                       " })()")
                shown = b.eval("Array.from(document.querySelectorAll("
                               "'.tile:not(.is-hidden)'))"
                               ".map(t => t.dataset.service)")
                self.assertEqual(shown, ["billing"])
                self.assertEqual(b.console_errors(), [])
            # and without JavaScript, on the server
            self.assertNotIn('data-service="shop"', d.get("/?q=bil").text)

    def test_pages_work_with_javascript_off(self):
        with Vitalsd() as d:
            send_metrics(d, "shop")
            check(d, "shop", "db", "warning", "lag 3s")
            wait_service(d, "shop")
            with browser.Browser(1366, 768, javascript=False) as b:
                for path in ("/", "/?wall=1", "/services/shop"):
                    b.open(d.url(path))
                    self.assertIn("shop", b.eval("document.body.innerText"))
                    self.assertIn("lag 3s", b.eval("document.body.innerText"))

    def test_hostile_text_shows_as_text_and_never_runs(self):
        with Vitalsd() as d:
            for i, evil in enumerate(HOSTILE):
                check(d, "evil", "c%d" % i, "critical", evil,
                      instance="<i>x%d</i>" % i)
            check(d, "evil", "<b>bold</b>", "warning", HOSTILE[1])
            wait_for(lambda: d.get("/services/evil").status == 200 and
                     "c2" in d.get("/services/evil").text, what="checks")
            with browser.Browser(1366, 768) as b:
                for path in ("/", "/?wall=1", "/services/evil"):
                    b.open(d.url(path))
                    time.sleep(0.5)
                    body = b.eval("document.body.innerText")
                    self.assertIn("alert(1)", body, path)
                    counts = b.eval(
                        "[document.querySelectorAll('main script, table "
                        "script, .tile script').length, "
                        "document.querySelectorAll('img[src=x], svg[onload],"
                        " [onerror], [onload], .t-output *, .t-check *, "
                        "td.output *, td.name *, .history *:not(li):not(span)"
                        "').length]")
                    self.assertEqual(counts, [0, 0], path)
                    self.assertEqual(b.eval("window.__vitals_alerts"), [],
                                     path)
                b.open(d.url("/services/evil"))
                body = b.eval("document.body.innerText")
                for evil in HOSTILE:
                    self.assertIn(evil, body)
                self.assertIn("<b>bold</b>", body)
                self.assertIn("<i>x0</i>", body)

    def test_security_headers_and_no_inline_script(self):
        with Vitalsd() as d:
            check(d, "web", "http", "ok", "fine")
            wait_service(d, "web")
            for path in ("/", "/?wall=1", "/services/web"):
                r = d.get(path)
                self.assertEqual(r.status, 200, path)
                self.assertTrue(r.headers["Content-Type"].startswith(
                    "text/html"), path)
                csp = r.headers["Content-Security-Policy"]
                self.assertIn("script-src 'self'", csp)
                self.assertIn("frame-ancestors", csp)
                self.assertNotIn("unsafe-inline", csp)
                self.assertEqual(r.headers["X-Content-Type-Options"],
                                 "nosniff")
                # every script is a file of ours; no handlers, no style attrs
                for tag in re.findall(r"<script\b[^>]*>", r.text):
                    self.assertRegex(tag, r'src="/assets/')
                self.assertIsNone(re.search(r"<[^>]+\son\w+=", r.text), path)
                self.assertIsNone(re.search(r"<[^>]+\sstyle=", r.text), path)
                self.assertNotIn("http://", r.text.replace(
                    "http://www.w3.org", ""))
            for asset in re.findall(r'(?:href|src)="(/assets/[^"]+)"',
                                    d.get("/").text):
                self.assertEqual(d.get(asset.replace("&amp;", "&")).status,
                                 200, asset)
            self.assertEqual(d.get("/assets/nope.js").status, 404)
            self.assertEqual(d.get("/services/nope").status, 404)
            self.assertEqual(d.get("/services/web?range=2m").status, 400)
            self.assertEqual(d.get("/nope").status, 404)     # / is exact

    def test_wall_updates_live_over_sse(self):
        with Vitalsd() as d:
            check(d, "orders", "db", "ok", "all good")
            check(d, "quotes", "api", "ok", "fine")
            wait_service(d, "orders")
            with browser.Browser(1920, 1080) as b:
                b.open(d.url("/?wall=1"))
                b.wait("document.getElementById('live').textContent == 'live'",
                       what="the event stream to open")
                b.eval("window.__same_page = 42")
                self.assertEqual(dict(tiles(b))["orders"], "ok")
                check(d, "orders", "db", "critical", "disk full on /data")
                b.wait("(document.querySelector('.tile[data-service=orders]')"
                       " || {}).dataset.status == 'critical'",
                       what="orders to turn critical on the wall")
                b.wait("document.body.innerText.includes('disk full on /data')",
                       what="the new output")
                self.assertEqual(b.eval("window.__same_page"), 42,
                                 "the page was reloaded")
                self.assertEqual(tiles(b)[0][0], "orders")   # worst first
                self.assertTrue(b.eval("document.getElementById('banner')"
                                       ".hidden"))

    def test_wall_fits_sixty_services_without_scrolling(self):
        with Vitalsd() as d:
            names = ["svc-%02d" % i for i in range(60)]
            for i, n in enumerate(names):
                check(d, n, "alive", "critical" if i % 17 == 0 else "ok",
                      "pid 42 up 3d")
            wait_for(lambda: d.get("/").text.count('class="tile ') == 60,
                     what="60 tiles")
            for w, h in ((1920, 1080), (1366, 768)):
                with browser.Browser(w, h) as b:
                    b.open(d.url("/?wall=1"))
                    self.assertEqual(len(tiles(b)), 60)
                    # all on one screen: the wall made no pages (a tile on
                    # another page is hidden and would pass the test below)
                    self.assertFalse(b.eval(
                        "(() => { const p = document.getElementById('page');"
                        " return !!p && !p.hidden; })()"), "%dx%d" % (w, h))
                    self.assertLessEqual(b.eval(
                        "document.documentElement.scrollHeight"), h + 1)
                    # every tile inside the screen, every name whole
                    out = b.eval(
                        "Array.from(document.querySelectorAll('.tile'))"
                        ".filter(t => { const r = t.getBoundingClientRect();"
                        " const n = t.querySelector('.t-name');"
                        " return r.bottom > innerHeight + 1 || r.right > "
                        "innerWidth + 1 || n.scrollWidth > n.clientWidth + 1;"
                        " }).map(t => t.dataset.service)")
                    self.assertEqual(out, [], "%dx%d" % (w, h))
                    if w == 1920:
                        b.screenshot(os.path.join(SHOTS, "wall-60.png"))

    def test_wall_banner_when_collector_is_gone(self):
        d = Vitalsd()
        try:
            d.start()
            check(d, "orders", "db", "ok", "all good")
            wait_service(d, "orders")
            with browser.Browser(1920, 1080) as b:
                b.open(d.url("/?wall=1"))
                b.wait("document.getElementById('live').textContent == 'live'")
                self.assertEqual(d.stop(), 0)
                b.wait("!document.getElementById('banner').hidden",
                       timeout=20, what="the banner")
                text = b.eval("document.getElementById('banner').innerText")
                self.assertIn("unreachable", text.lower())
                self.assertTrue(b.eval(
                    "document.body.classList.contains('is-stale')"))
                b.screenshot(os.path.join(SHOTS, "wall-unreachable.png"))
                # the collector comes back on the same ports: the wall
                # reconnects by itself and the banner goes
                d2 = Vitalsd(args=[
                    "--http", "127.0.0.1:%d" % d.http_port,
                    "--statsd", "127.0.0.1:%d" % d.statsd_port,
                    "--data-dir", d.data_dir])
                d2.http_port, d2.statsd_port = d.http_port, d.statsd_port
                try:
                    d2.start()
                    b.wait("document.getElementById('banner').hidden && "
                           "document.getElementById('live').textContent "
                           "== 'live'", timeout=40,
                           what="the wall to reconnect")
                    self.assertIn("orders", b.eval("document.body.innerText"))
                    self.assertEqual(d2.stop(), 0)
                finally:
                    d2.cleanup()
        finally:
            d.cleanup()

    def test_service_page_graphs_are_real_svg(self):
        with Vitalsd() as d:
            for _ in range(3):
                send_metrics(d, "shop")
                time.sleep(1.1)
            check(d, "shop", "db", "warning", "replication lag 12s")
            wait_for(lambda: 'stat=p50,p90,p99' in
                     d.get("/services/shop").text, what="timer graphs")
            page = d.get("/services/shop").text
            srcs = [s.replace("&amp;", "&") for s in
                    re.findall(r'<img[^>]+src="(/graph/[^"]+)"', page)]
            stats = {re.search(r"stat=([^&]+)", s).group(1) for s in srcs}
            # a timer's percentiles share one graph (test_service_page.py)
            self.assertTrue({"p50,p90,p99", "rate", "value"} <= stats,
                            stats)
            for metric in ("http.get", "requests", "queue", "users"):
                self.assertTrue(any("/" + metric + ".svg" in s for s in srcs),
                                metric)
            for src in srcs:
                r = wait_for(lambda: (lambda r: r if r.status == 200
                                      else None)(d.get(src)),
                             timeout=15, what=src)
                self.assertEqual(r.headers["Content-Type"], "image/svg+xml")
                self.assertIn(b"<svg", r.body[:400])
            with browser.Browser(1440, 900) as b:
                b.open(d.url("/services/shop?range=6h"))
                text = b.eval("document.body.innerText").lower()
                for s in ("replication lag 12s", "http.get", "p99",
                          "1m rate", "timers", "counters", "gauges", "sets"):
                    self.assertIn(s, text)
                # Every graph is drawn by librrd on request: under the
                # sanitizers a page of them takes a while.
                b.eval("Promise.all(Array.from(document.images).map(i => "
                       "{ i.loading = 'eager'; return i.decode()"
                       ".catch(() => null); }))", timeout=180)
                bad = b.eval("Array.from(document.querySelectorAll("
                             "'.graph img')).filter(i => !i.complete || "
                             "i.naturalWidth == 0).map(i => i.src)")
                self.assertEqual(bad, [])
                self.assertIn("-6h", b.eval(
                    "document.querySelector('.graph img').src"))

    def test_the_daemon_is_a_service(self):
        with Vitalsd(config=SELF) as d:
            send_metrics(d, "shop")
            wait_service(d, "vitals")
            page = wait_for(lambda: (lambda t: t if "udp.packets" in t and
                                     "flush.time" in t else None)(
                d.get("/services/vitals").text), what="self metrics")
            for m in ("lines.ok", "lines.invalid", "udp.kernel_drops",
                      "storage.queue", "metrics.live"):
                self.assertIn(m, page)

    def test_screenshots(self):
        """Pictures of a small fleet for people to judge (not compared)."""
        fleet = ["api", "auth", "billing", "checkout", "inventory",
                 "mail", "payments", "search", "shipping", "users"]
        stop = threading.Event()

        def feed(d):
            """Traffic all along, so figures and sparklines are live."""
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            rnd = random.Random(7)
            while not stop.is_set():
                for k, s in enumerate(fleet):
                    base = 8 + 9 * k
                    for _ in range(3 + k):
                        c.timing("%s.http.get" % s,
                                 rnd.lognormvariate(math.log(base), 0.4))
                    c.incr("%s.requests" % s, 3 + k)
                    c.gauge("%s.queue" % s, rnd.randint(0, 40))
                    c.set("%s.users" % s, "u%d" % rnd.randint(1, 50))
                stop.wait(0.25)

        with Vitalsd(config=SELF) as d:
            t = threading.Thread(target=feed, args=(d,), daemon=True)
            t.start()
            try:
                for s in fleet:
                    check(d, s, "health", "ok", "all good")
                time.sleep(6)          # a few windows of history
                check(d, "payments", "cassandra", "critical",
                      "0 of 3 nodes up")
                check(d, "search", "index", "warning", "index 2h old")
                check(d, "mail", "smtp", "unknown", "no answer from probe")
                wait_for(lambda: "0 of 3 nodes up" in d.get("/").text,
                         what="incident on the overview")
                self._shoot(d)
            finally:
                stop.set()
                t.join(timeout=5)

    def _shoot(self, d):
        shots = []
        for size, w, h in (("wall", 1920, 1080), ("laptop", 1366, 768)):
            with browser.Browser(w, h) as b:
                b.open(d.url("/?wall=1"))
                b.wait("document.getElementById('live').textContent "
                       "== 'live'")
                shots.append(b.screenshot(os.path.join(
                    SHOTS, "wall-%s.png" % size)))
                self.assertEqual(b.console_errors(), [])
                # no scrolling on the wall
                self.assertLessEqual(b.eval(
                    "document.documentElement.scrollHeight"), h + 1)
                b.open(d.url("/"))
                shots.append(b.screenshot(os.path.join(
                    SHOTS, "overview-%s.png" % size)))
                self.assertEqual(b.console_errors(), [])
                b.open(d.url("/services/payments"))
                # Every graph is drawn by librrd on request: under the
                # sanitizers a page of them takes a while.
                b.eval("Promise.all(Array.from(document.images).map(i => "
                       "{ i.loading = 'eager'; return i.decode()"
                       ".catch(() => null); }))", timeout=180)
                shots.append(b.screenshot(os.path.join(
                    SHOTS, "service-%s.png" % size), full_page=True))
                self.assertEqual(b.console_errors(), [])
        for p in shots:
            self.assertGreater(os.path.getsize(p), 10000, p)

if __name__ == "__main__":
    unittest.main()
