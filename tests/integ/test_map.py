"""The service map (issue 22 item 5): /map, /?wall=1&map=1 and
/api/v1/map from real statsd traffic carrying peer.service tags.

Asserted:
- from DogStatsD lines over UDP (and a python3-statsd client's plain
  lines, which make nodes but no calls): every caller and callee is a
  node with its status; every (caller, callee) an edge whose rate is the
  timers' count rate (else the counters' rate), whose error_rate is the
  share of 5xx / error:true calls and whose p99 is the timers' p99;
  peer_service works like peer.service;
- the page draws one arc per edge, from caller to callee, its width
  growing with the rate (the busiest the widest), nodes coloured by
  status, hostile names escaped, no inline script; the wall variant and
  the partial map.js fetches; vitals-send --peer/--tag;
- in a real headless Chromium at 1920x1080 and 1366x768 with 8 and with
  100 services and 500 edges, light and wall: every service's name is
  drawn whole inside the map and the screen, no console errors, and with
  JavaScript off the page is the same SVG; with it on, a new call shows
  without a reload.

Screenshots go to $SCREENSHOT_DIR (default build/test-artifacts/map/).
"""
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import browser
from harness import TestCase, Vitalsd, http, wait_for

try:
    import statsd          # Debian's python3-statsd: a real client
except ImportError:        # pragma: no cover
    statsd = None

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHOTS = os.environ.get("SCREENSHOT_DIR", os.path.join(
    ROOT, "build", "test-artifacts", "map"))
VITALS_SEND = os.environ.get("VITALS_SEND") or os.path.join(
    ROOT, "build", "release", "vitals-send")
SIZES = ((1920, 1080), (1366, 768))
WMIN, WMAX = 1.2, 14.0          # pages_map.h


class Sender:
    """Raw statsd lines over one UDP socket, batched under 1,400 bytes."""

    def __init__(self, d):
        self.addr = ("127.0.0.1", d.statsd_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, lines):
        batch = b""
        for line in lines:
            data = line.encode() + b"\n"
            if len(batch) + len(data) > 1400:
                self.sock.sendto(batch, self.addr)
                batch = b""
            batch += data
        if batch:
            self.sock.sendto(batch, self.addr)

    def close(self):
        self.sock.close()


class Loop:
    """Calls lines() every `every` seconds on a thread until stopped."""

    def __init__(self, sender, lines, every=0.1):
        self.sender, self.lines, self.every = sender, lines, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.sender.send(self.lines())
            self.stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


def edges_of(d):
    m = d.get("/api/v1/map").json()
    return m, {(e["from"], e["to"]): e for e in m["edges"]}


def svg_edges(html):
    """{(from, to): stroke width} of the arcs drawn in the page."""
    out = {}
    for tag in re.findall(r"<path class=\"edge [^>]*>", html):
        f = re.search(r'data-from="([^"]*)"', tag).group(1)
        t = re.search(r'data-to="([^"]*)"', tag).group(1)
        w = float(re.search(r'stroke-width="([0-9.]+)"', tag).group(1))
        out[(f, t)] = w
    return out


def node_class(html, service):
    m = re.search(r'<a class="node ([^"]*)" href="[^"]*" data-service="%s"'
                  % re.escape(service), html)
    return m and m.group(1)


# Per tick of 0.1 s (10 ticks/s): the calls each edge makes.
#   web -> payments        timer, 8 calls, 1 of them a 503  (80/s, 12.5%)
#   checkout -> payments   timer, 2 calls via peer_service  (20/s)
#   payments -> ledger     counter 4 + error:true counter 1 (50/s, 20%)
#   web -> search          timer, 1 call, 30 ms             (10/s)
def traffic():
    lines = []
    for i in range(7):
        lines.append("http.client:%d|ms|#service:web,peer.service:payments,"
                     "status:200" % (20 + i))
    lines.append("http.client:90|ms|#service:web,peer.service:payments,"
                 "status:503")
    for i in range(2):
        lines.append("rpc.call:15|ms|#service:checkout,peer_service:payments")
    lines.append("ledger.calls:4|c|#service:payments,peer.service:ledger")
    lines.append("ledger.calls:1|c|#service:payments,peer.service:ledger,"
                 "error:true")
    lines.append("http.client:30|ms|#service:web,peer.service:search")
    lines.append("hostile.calls:1|c|#service:web,"
                 "peer.service:x<script>alert(1)</script>")
    return lines


class MapFromTraffic(TestCase):
    def test_nodes_edges_rates_and_widths(self):
        with Vitalsd() as d:
            s = Sender(d)
            # a check makes payments critical; python3-statsd's plain
            # lines (no tags) make a node but no call
            s.send(["_sc|payments.db|2|#ttl:1h|m:replica down",
                    "_sc|search.index|0|#ttl:1h|m:fresh"])
            if statsd is not None:
                c = statsd.StatsClient("127.0.0.1", d.statsd_port)
                c.incr("batch.runs")
                c.timing("batch.run", 120)
            with Loop(s, traffic):
                # the 1-minute rates settle: compare shares, not values
                wait_for(lambda: len(edges_of(d)[1]) == 5, timeout=20,
                         what="five edges")
                time.sleep(4)
                m, e = edges_of(d)
                html = d.get("/map").text
                wall = d.get("/?wall=1&map=1")
                wall2 = d.get("/map?wall=1")
                part = d.get("/map?partial=1").text
            s.close()

            nodes = {n["service"]: n for n in m["nodes"]}
            for svc in ("web", "checkout", "payments", "ledger", "search",
                        "x<script>alert(1)</script>"):
                self.assertIn(svc, nodes)
            if statsd is not None:
                self.assertIn("batch", nodes)
                self.assertFalse(any("batch" in k for k in e))
            self.assertEqual(nodes["payments"]["status"], "critical")
            self.assertEqual(nodes["search"]["status"], "ok")
            self.assertEqual(nodes["web"]["status"], "none")
            self.assertEqual(set(e), {
                ("web", "payments"), ("checkout", "payments"),
                ("payments", "ledger"), ("web", "search"),
                ("web", "x<script>alert(1)</script>")})

            wp, cp = e[("web", "payments")], e[("checkout", "payments")]
            pl, ws = e[("payments", "ledger")], e[("web", "search")]
            # rates: the EWMA has not settled, but the ratios hold
            self.assertAlmostEqual(wp["rate"] / cp["rate"], 4, delta=0.4)
            self.assertAlmostEqual(wp["rate"] / ws["rate"], 8, delta=0.8)
            self.assertAlmostEqual(pl["rate"] / ws["rate"], 5, delta=0.5)
            self.assertAlmostEqual(wp["error_rate"], 1 / 8, delta=0.01)
            self.assertAlmostEqual(pl["error_rate"], 0.2, delta=0.01)
            self.assertEqual(cp["error_rate"], 0)
            self.assertAlmostEqual(cp["p99"], 15, delta=0.5)
            self.assertAlmostEqual(ws["p99"], 30, delta=1)
            self.assertGreater(wp["p99"], 60)      # the 90 ms 503s
            self.assertIsNone(pl["p99"])           # counters: no latency
            self.assertAlmostEqual(nodes["payments"]["rate_in"],
                                   wp["rate"] + cp["rate"], delta=1e-6)

            # the page: an arc per edge, widths in the order of the rates
            w = svg_edges(html)
            esc = "x&lt;script&gt;alert(1)&lt;/script&gt;"
            self.assertEqual(set(w), {
                ("web", "payments"), ("checkout", "payments"),
                ("payments", "ledger"), ("web", "search"), ("web", esc)})
            self.assertAlmostEqual(w[("web", "payments")], WMAX, delta=0.01)
            self.assertGreater(w[("web", "payments")], w[("payments", "ledger")])
            self.assertGreater(w[("payments", "ledger")], w[("checkout", "payments")])
            self.assertGreater(w[("checkout", "payments")], w[("web", "search")])
            self.assertGreaterEqual(w[("web", "search")], WMIN)
            # sqrt scale: a quarter of the rate, about half the extra width
            ratio = (w[("checkout", "payments")] - WMIN) / (WMAX - WMIN)
            self.assertAlmostEqual(ratio, 0.5, delta=0.08)
            self.assertIn("st-critical", node_class(html, "payments"))
            self.assertIn("st-ok", node_class(html, "search"))
            self.assertIn("st-none", node_class(html, "web"))
            # error share colours: 12.5% and 20% red, 0% blue
            self.assertRegex(html, r'class="edge e-err"[^>]*data-from="web" '
                             r'data-to="payments"')
            self.assertRegex(html, r'class="edge e-ok"[^>]*data-from="checkout"')
            # hover text: rate, error share and p99
            self.assertRegex(html, r"<title>web \u2192 payments: [0-9.]+ "
                             r"calls/s, 12.5% errors, p99 [0-9.]+ ms</title>")
            # escaped everywhere, no inline script anywhere
            self.assertNotIn("<script>alert", html)
            self.assertIn(esc, html)
            self.assertEqual(re.findall(r"<script(?![^>]*\bsrc=)", html), [])
            for page in (html, wall.text, wall2.text):
                self.assertIn('<main id="map"', page)
                self.assertIn("/assets/map.js", page)
                self.assertIn('http-equiv="refresh"', page)   # noscript
            self.assertIn('class="wall map-wall"', wall.text)
            self.assertEqual(wall.text.count("<path class=\"edge"),
                             html.count("<path class=\"edge"))
            self.assertNotIn("<html", part)
            self.assertIn('id="counts"', part)
            self.assertIn("script-src 'self'",
                          wall.headers.get("Content-Security-Policy", ""))

    def test_edges_leave_when_calls_stop_and_json_shape(self):
        # Retired as soon as it expires: the edge leaves in seconds (the
        # other way out, idle for 3 windows and 60 s, would take a
        # minute of CI).
        with Vitalsd(config={"metric_ttl": "3s",
                             "retire_after": "3s"}) as d:
            d.send_udp("c:1|c|#service:a,peer.service:b")
            m, e = wait_for(lambda: (lambda r: r if r[1] else None)(
                edges_of(d)), what="an edge")
            self.assertEqual(sorted(m), ["edges", "interval", "nodes",
                                         "time", "window"])
            self.assertEqual(sorted(m["nodes"][0]), [
                "checks", "rate_in", "rate_out", "service", "stale",
                "status"])
            self.assertEqual(sorted(e[("a", "b")]), [
                "error_rate", "errors", "from", "p99", "rate", "to"])
            # expired and retired: the edge goes
            wait_for(lambda: not edges_of(d)[1], timeout=30,
                     what="the edge to leave")

    def test_delete_takes_the_callers_edges_at_once(self):
        with Vitalsd(flush="10s") as d:
            d.send_udp("c:1|c|#service:a,peer.service:b\n"
                       "c:1|c|#service:x,peer.service:b")
            wait_for(lambda: len(edges_of(d)[1]) == 2, timeout=20,
                     what="two edges")
            r = http("DELETE", d.url("/api/v1/services/a"))
            self.assertEqual(r.status, 202, r.text)
            # No window has closed since (10 s windows): the map alone.
            self.assertEqual(sorted(edges_of(d)[1]), [("x", "b")])

    def test_vitals_send_peer_and_tag(self):
        if not os.access(VITALS_SEND, os.X_OK):
            self.skipTest("no vitals-send at %s" % VITALS_SEND)
        with Vitalsd() as d:
            env = dict(os.environ, VITALS_PORT=str(d.statsd_port))

            def run(*a):
                r = subprocess.run([VITALS_SEND] + list(a), env=env,
                                   capture_output=True, text=True,
                                   timeout=10)
                self.assertEqual(r.returncode, 0, r.stderr)

            run("timing", "web", "http.client", "40", "--peer", "payments")
            run("timing", "web", "http.client", "40", "--peer", "payments",
                "--tag", "status:500")
            run("count", "web", "queue.sent", "--peer", "mailer",
                "--tag", "error:true", "--tag", "region:eu")
            r = subprocess.run([VITALS_SEND, "count", "web", "x", "--tag",
                                "nocolon,comma"], env=env,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            _, e = wait_for(lambda: (lambda r: r if len(r[1]) == 2 and all(
                x["rate"] > 0 for x in r[1].values()) else None)(
                edges_of(d)), what="two edges with traffic")
            self.assertAlmostEqual(e[("web", "payments")]["error_rate"], 0.5,
                                   delta=0.01)
            self.assertEqual(e[("web", "mailer")]["error_rate"], 1)
            self.assertAlmostEqual(e[("web", "payments")]["p99"], 40, delta=1)


# ---- a fleet of 100 services and 500 calls, in Chromium ----

GROUPS = ["payments", "search", "inventory", "notifications", "identity",
          "recommendations", "shipping", "ledger", "gateway", "analytics"]


def fleet(n):
    """n services, in groups of ten, names up to 32 characters."""
    out = []
    for i in range(n):
        g = GROUPS[i % len(GROUPS)]
        tail = ["api", "worker", "db-proxy", "settlement-reconciler",
                "cache", "scheduler", "webhooks", "ingest", "mw", "exporter"]
        out.append(("%s-%s-%02d" % (g, tail[(i // len(GROUPS)) % 10], i))[:32])
    return out


def fleet_edges(services, count):
    """count distinct (caller, callee, calls per tick) pairs, deterministic,
    rates from 1 to 60 per tick."""
    n, out, seen, k = len(services), [], set(), 0
    while len(out) < count:
        a = (k * 7) % n
        b = (a + 1 + (k * 13 + k // n) % (n - 1)) % n
        k += 1
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        out.append((services[a], services[b], 1 + (k * 37) % 60))
    return out


MEASURE = r"""
(() => {
  const svg = document.getElementById('map-svg');
  const sr = svg.getBoundingClientRect();
  const bad = [], sizes = [];
  for (const n of svg.querySelectorAll('.node')) {
    const t = n.querySelector('text'), name = n.querySelector('.n-name');
    const r = t.getBoundingClientRect();
    if (name.textContent !== n.dataset.service || r.width < 1
        || r.left < sr.left - 1 || r.right > sr.right + 1
        || r.top < sr.top - 1 || r.bottom > sr.bottom + 1
        || r.right > innerWidth + 1 || r.bottom > innerHeight + 1
        || r.left < -1 || r.top < -1)
      bad.push(n.dataset.service);
    sizes.push(parseFloat(t.getAttribute('font-size')) *
               svg.getScreenCTM().a);
  }
  return {bad, nodes: svg.querySelectorAll('.node').length,
          edges: svg.querySelectorAll('.edge').length,
          minFont: Math.min(...sizes),
          scroll: [document.documentElement.scrollWidth,
                   document.documentElement.scrollHeight]};
})()
"""


@unittest.skipUnless(browser.available(), "chromium not installed")
class MapInChromium(TestCase):
    def look(self, d, label, nservices, nedges, min_font):
        for w, h in SIZES:
            for path, kind in (("/map", "page"), ("/?wall=1&map=1", "wall")):
                with browser.Browser(w, h) as b:
                    b.open(d.url(path))
                    b.wait("document.getElementById('live') && "
                           "document.getElementById('live').textContent "
                           "== 'live'", what="the event stream")
                    time.sleep(0.5)
                    r = b.eval(MEASURE)
                    b.screenshot(os.path.join(SHOTS, "%s-%s-%dx%d.png" % (
                        label, kind, w, h)))
                    where = "%s %s %dx%d" % (label, kind, w, h)
                    self.assertEqual(r["bad"], [], where)
                    self.assertEqual(r["nodes"], nservices, where)
                    self.assertEqual(r["edges"], nedges, where)
                    self.assertGreaterEqual(r["minFont"], min_font, where)
                    self.assertLessEqual(r["scroll"][0], w, where)
                    self.assertLessEqual(r["scroll"][1], h, where)
                    self.assertEqual(b.console_errors(), [], where)

    def test_small_fleet_live_and_without_javascript(self):
        services = ["web", "api-gateway", "auth", "payments", "checkout",
                    "search", "inventory", "notifications-dispatcher-eu-32"]
        calls = [("web", "api-gateway", 30), ("api-gateway", "auth", 20),
                 ("api-gateway", "checkout", 6), ("checkout", "payments", 5),
                 ("api-gateway", "search", 12), ("search", "inventory", 3),
                 ("checkout", "notifications-dispatcher-eu-32", 2)]

        def lines():
            out = []
            for a, b, n in calls:
                for i in range(n):
                    out.append("http.client:%d|ms|#service:%s,peer.service:%s"
                               % (10 + i % 20, a, b))
            out.append("http.client:200|ms|#service:checkout,peer.service:"
                       "payments,status:502")
            return out

        with Vitalsd() as d:
            s = Sender(d)
            s.send(["_sc|payments.psp|2|#ttl:1h|m:timeout",
                    "_sc|search.index|1|#ttl:1h|m:lag",
                    "_sc|auth.ldap|0|#ttl:1h|m:ok"])
            with Loop(s, lines):
                wait_for(lambda: len(edges_of(d)[1]) == len(calls),
                         timeout=20, what="the calls")
                time.sleep(2)
                self.look(d, "8", len(services), len(calls), 12)
                # JavaScript off: the same SVG, from the server alone
                with browser.Browser(1920, 1080, javascript=False) as b:
                    b.open(d.url("/map"))
                    r = b.eval(MEASURE)
                    self.assertEqual((r["bad"], r["nodes"], r["edges"]),
                                     ([], len(services), len(calls)))
                    b.screenshot(os.path.join(SHOTS, "8-nojs-1920x1080.png"))
                # live: a new call appears without a reload
                with browser.Browser(1366, 768) as b:
                    b.open(d.url("/map"))
                    b.eval("window.__same = 1")
                    calls.append(("inventory", "auth", 4))
                    b.wait("document.querySelector('.edge[data-from=\"inventory\"]"
                           "[data-to=\"auth\"]') !== null", timeout=20,
                           what="the new call drawn live")
                    self.assertEqual(b.eval("window.__same"), 1)
                    self.assertEqual(b.console_errors(), [])
            s.close()

    def test_hundred_services_five_hundred_calls(self):
        services = fleet(100)
        calls = fleet_edges(services, 500)

        def lines():
            out = ["c:%d|c|#service:%s,peer.service:%s%s" % (
                n, a, b, ",status:503" if (i % 23) == 0 else "")
                for i, (a, b, n) in enumerate(calls)]
            return out

        with Vitalsd() as d:
            s = Sender(d)
            s.send(["_sc|%s.alive|%d|#ttl:1h|m:x" % (svc, 2 if i % 9 == 0 else
                                                      1 if i % 7 == 0 else 0)
                    for i, svc in enumerate(services)])
            with Loop(s, lines, every=0.25):
                wait_for(lambda: len(edges_of(d)[1]) == 500, timeout=30,
                         what="500 calls")
                time.sleep(2)
                self.look(d, "100", 100, 500, 7)
            s.close()


if __name__ == "__main__":
    unittest.main()
