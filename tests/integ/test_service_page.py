"""Service pages (issue 22, items 2 and 3) against the real vitalsd, with
real traffic (python3-statsd and raw DogStatsD lines over UDP) and a real
headless Chromium:

- a timer's p50/p90/p99 are one graph (plus its rate), not three;
- a metric's tag sets are one graph, busiest first, the rest summed into
  "other", not one graph per tag set;
- the graph endpoint takes several stats or several labels=, and draws
  the per-step maximum only when asked;
- the default range fits the data the service has;
- "Latest values" keeps the last window with data and says its age;
- /services/vitals starts with a verdict, and the wall's collector tile
  follows the same verdict.

Screenshots (1920x1080) go to build/test-artifacts/service-page/.
"""
import os
import re
import time
import unittest

import browser
from harness import TestCase, Vitalsd, wait_for

try:
    import statsd          # Debian's python3-statsd: a real client
except ImportError:        # pragma: no cover - ensure-deps installs it
    statsd = None

SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "build",
                     "test-artifacts", "service-page")

# route -> requests per window: /pay is the busiest, /z3 the quietest
ROUTES = [("/pay", 40), ("/cart", 25), ("/home", 12), ("/search", 8),
          ("/login", 5), ("/z1", 3), ("/z2", 2), ("/z3", 1)]


def graph_srcs(page):
    return [s.replace("&amp;", "&") for s in
            re.findall(r'<img[^>]+src="(/graph/[^"]+)"', page)]


def arg(src, name):
    from urllib.parse import parse_qs, urlsplit
    return parse_qs(urlsplit(src).query, keep_blank_values=True).get(name, [])


def send_routes(d, windows=3):
    """A timer and a counter of service web, tagged with route."""
    for w in range(windows):
        for route, n in ROUTES:
            lines = ["http.get:%d|ms|#service:web,route:%s" % (5 + i % 40,
                                                              route)
                     for i in range(n)]
            lines.append("http.hits:%d|c|#service:web,route:%s" % (n, route))
            for k in range(0, len(lines), 20):
                d.send_udp("\n".join(lines[k:k + 20]))
        time.sleep(1.05)


def send_plain(d, service="shop", n=40):
    c = statsd.StatsClient("127.0.0.1", d.statsd_port)
    for i in range(n):
        c.timing("%s.http.get" % service, 10 + i % 30)
    c.incr("%s.requests" % service, n)
    c.gauge("%s.queue" % service, 7)


def fetch_ok(d, src):
    r = wait_for(lambda: (lambda r: r if r.status == 200 else None)(
        d.get(src)), timeout=15, what=src)
    return r


def load_images(b):
    b.eval("Promise.all(Array.from(document.images).map(i => "
           "{ i.loading = 'eager'; return i.decode()"
           ".catch(() => null); }))", timeout=180)
    return b.eval("Array.from(document.querySelectorAll('.graph img'))"
                  ".filter(i => !i.complete || i.naturalWidth == 0)"
                  ".map(i => i.src)")


@unittest.skipIf(statsd is None, "python3-statsd not installed")
class ServicePage(TestCase):
    def test_timer_percentiles_share_one_graph(self):
        with Vitalsd() as d:
            for _ in range(2):
                send_plain(d)
                time.sleep(1.05)
            page = wait_for(lambda: (lambda t: t if "stat=rate" in t
                                     else None)(d.get("/services/shop").text),
                            what="graphs")
            srcs = graph_srcs(page)
            timer = [s for s in srcs if "/http.get.svg" in s]
            stats = sorted(arg(s, "stat")[0] for s in timer)
            # one graph with the three percentiles, one with the rate
            self.assertEqual(stats, ["p50,p90,p99", "rate"], timer)
            self.assertEqual(len(srcs), 4, srcs)   # + requests + queue
            self.assertNotIn("max=", page)
            for s in srcs:
                r = fetch_ok(d, s)
                self.assertEqual(r.headers["Content-Type"], "image/svg+xml")
                self.assertIn(b"<svg", r.body[:400])
            # The endpoint: several stats, each checked.
            base = "/graph/shop/http.get.svg?from=-10m&stat="
            self.assertEqual(d.get(base + "p50,p99").status, 200)
            self.assertEqual(d.get(base + "p50,nope").status, 400)
            self.assertEqual(d.get(base + "a,b,c,d,e,f,g").status, 400)
            # The highest value of each step only when asked, and labelled
            # (so the picture differs).
            one = d.get("/graph/shop/http.get.png?from=-10m&stat=p99").body
            mx = d.get("/graph/shop/http.get.png?from=-10m&stat=p99&max=1")
            self.assertEqual(mx.status, 200)
            self.assertNotEqual(one, mx.body)
            self.assertEqual(d.get("/graph/shop/http.get.svg?max=2").status,
                             400)

    def test_tag_sets_are_overlaid_busiest_first(self):
        with Vitalsd() as d:
            send_routes(d)
            page = wait_for(lambda: (lambda t: t if t.count("labels=") > 10
                                     else None)(d.get("/services/web").text),
                            what="tagged graphs")
            srcs = graph_srcs(page)
            # 8 tag sets of a timer and a counter: 3 graphs, not 8*4 + 8
            self.assertEqual(len(srcs), 3, srcs)
            want = ["route:" + r for r, _ in ROUTES]
            by_stat = {}
            for s in srcs:
                self.assertEqual(arg(s, "labels"), want, s)  # busiest first
                self.assertEqual(arg(s, "top"), ["5"])
                by_stat.setdefault(s.split("?")[0], []).append(
                    arg(s, "stat")[0])
            self.assertEqual(sorted(by_stat["/graph/web/http.get.svg"]),
                             ["p99", "rate"])
            self.assertEqual(by_stat["/graph/web/http.hits.svg"], ["rate"])
            self.assertIn("the rest summed into other", page)
            for s in srcs:
                self.assertIn(b"<svg", fetch_ok(d, s).body[:400])
            # The endpoint: labels= repeated; unknown tag sets are skipped,
            # none known is a 404; stats and sets are not mixed.
            g = "/graph/web/http.hits.svg?from=-10m&stat=rate&top=2"
            self.assertEqual(d.get(g + "&labels=route:/pay&labels=route:/cart"
                                   "&labels=route:/nope").status, 200)
            self.assertEqual(d.get(g + "&labels=route:/x&labels=route:/y")
                             .status, 404)
            self.assertEqual(d.get(g.replace("stat=rate", "stat=rate,count")
                                   + "&labels=route:/pay&labels=route:/cart")
                             .status, 400)
            self.assertEqual(d.get(g.replace("top=2", "top=99") +
                                   "&labels=route:/pay&labels=route:/cart")
                             .status, 400)
            # "other" is the sum of the quieter sets: the PNG with top=1
            # differs from the one with top=8 (everything drawn alone).
            sets = "".join("&labels=" + w for w in want)
            p1 = d.get(g.replace(".svg", ".png").replace("top=2", "top=1")
                       + sets)
            p8 = d.get(g.replace(".svg", ".png").replace("top=2", "top=8")
                       + sets)
            self.assertEqual((p1.status, p8.status), (200, 200))
            self.assertNotEqual(p1.body, p8.body)

    def test_default_range_fits_the_data(self):
        with Vitalsd() as d:
            send_plain(d)
            time.sleep(1.1)
            page = wait_for(lambda: (lambda t: t if "stat=rate" in t
                                     else None)(d.get("/services/shop").text),
                            what="graphs")
            self.assertIn('href="/services/shop?range=auto" class="on"', page)
            self.assertIn("since first data 1m", page)
            for s in graph_srcs(page):
                # seconds of data: the floor (a minute, 30 windows of 1s)
                self.assertEqual(arg(s, "from"), ["-60"], s)
            page = d.get("/services/shop?range=6h").text
            self.assertTrue(all(arg(s, "from") == ["-6h"]
                                for s in graph_srcs(page)))
            self.assertEqual(d.get("/services/shop?range=2m").status, 400)
            self.assertEqual(d.get("/services/shop?range=auto").status, 200)

    def test_latest_values_keep_the_last_window_with_data(self):
        with Vitalsd() as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            for i in range(20):
                c.timing("quiet.http.get", 100 + i)
            c.incr("quiet.requests", 20)

            def row(metric):
                t = d.get("/services/quiet").text
                m = re.search(r'<tr[^>]*><td class="name">%s</td>.*?</tr>'
                              % re.escape(metric), t)
                return m.group(0) if m else None

            wait_for(lambda: row("http.get") and "this window" in
                     row("http.get"), what="the window with data")
            # Traffic stopped: later windows are empty, the row keeps the
            # last values and says how old they are.
            r = wait_for(lambda: (lambda r: r if r and 'class="kept"' in r
                                  else None)(row("http.get")),
                         timeout=10, what="an idle window")
            cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', r)
            self.assertIn("20", cells[0])            # count of that window
            self.assertRegex(cells[3], r"1\d\d ms")  # p99, not a dash
            self.assertRegex(cells[-1], r"^\d+s ago$")
            r = row("requests")
            self.assertIn('class="kept"', r)
            self.assertIn(">20 <small>", r)
            time.sleep(2.1)
            age = re.findall(r'<td class="num age">(\d+)s ago</td>',
                             row("http.get"))
            self.assertGreaterEqual(int(age[0]), 2)
            # New data replaces it.
            c.timing("quiet.http.get", 7)
            wait_for(lambda: "this window" in row("http.get"),
                     what="the new window")
            self.assertIn("7 ms", row("http.get"))

    def test_collector_verdict_on_its_page_and_the_wall(self):
        with Vitalsd(config={"self_metrics": True}) as d:
            send_plain(d, "shop")

            def verdict():
                t = d.get("/services/vitals").text
                m = re.search(r'data-verdict="(\w+)"', t)
                return m.group(1) if m else None

            def self_tile():
                t = d.get("/?wall=1&partial=1").text
                m = re.search(r'<a class="tile ([^"]*)"[^>]*data-service='
                              r'"vitals"[^>]*data-status="(\w+)"', t)
                return (m.group(1), m.group(2)) if m else None

            wait_for(lambda: verdict() == "ok", what="verdict ok")
            page = d.get("/services/vitals").text
            # the verdict comes first, with what was measured
            self.assertLess(page.index('id="verdict"'),
                            page.index("<h2>Checks"))
            for what in ("dropped by the kernel", "invalid lines",
                         "storage lag", "storage errors"):
                self.assertIn(what, page)
            self.assertIn("is-quiet", self_tile()[0])

            # Parse errors: more than 5% of lines and 0.1/s -> degraded,
            # on the page and on the wall alike.
            for _ in range(3):
                d.send_udp("\n".join("not a statsd line %d" % i
                                     for i in range(40)))
                d.send_udp("shop.ok:1|c")
                time.sleep(0.5)
            wait_for(lambda: verdict() == "degraded", what="degraded")
            page = d.get("/services/vitals").text
            self.assertRegex(page, r"<b>degraded</b> [\d.]+% of lines "
                             r"invalid")
            cls, status = wait_for(self_tile, what="tile")
            self.assertNotIn("is-quiet", cls)
            self.assertEqual(status, "warning")
            self.assertIn("collector degraded",
                          d.get("/?wall=1&partial=1").text)

            # A critical check about the collector -> failing, both.
            d.send_udp('{"service": "vitals", "check": "probe", "status": '
                       '"critical", "output": "no answer", "ttl": 60}')
            wait_for(lambda: verdict() == "failing", what="failing")
            self.assertIn("check probe", d.get("/services/vitals").text)
            self.assertEqual(self_tile()[1], "critical")

    @unittest.skipUnless(browser.available(), "chromium not installed")
    def test_screenshots(self):
        with Vitalsd(config={"self_metrics": True}) as d:
            send_routes(d, windows=4)
            for _ in range(3):
                send_plain(d, "shop")
                time.sleep(1.05)
            wait_for(lambda: d.get("/services/web").text.count("labels=") > 10,
                     what="graphs")
            time.sleep(2.5)      # the traffic stops: idle windows
            with browser.Browser(1920, 1080) as b:
                for name in ("web", "shop", "vitals"):
                    b.open(d.url("/services/" + name))
                    self.assertEqual(load_images(b), [])
                    text = b.eval("document.body.innerText")
                    if name == "vitals":
                        self.assertRegex(text, r"(OK|DEGRADED|FAILING)")
                    else:
                        self.assertIn("ago", text)
                    # no caption cut off
                    cut = b.eval(
                        "Array.from(document.querySelectorAll("
                        "'.graph figcaption')).filter(f => f.scrollWidth > "
                        "f.clientWidth + 1).length")
                    self.assertEqual(cut, 0)
                    self.assertEqual(b.console_errors(), [])
                    p = b.screenshot(os.path.join(SHOTS, "%s-1920.png"
                                                  % name), full_page=True)
                    self.assertGreater(os.path.getsize(p), 10000)


if __name__ == "__main__":
    unittest.main()
