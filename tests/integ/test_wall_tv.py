"""The wall on a TV (issue 22): at 1920x1080 and 1366x768, with 8, 40
and 200 services whose names are 32 characters long, half of them
critical and stale, in a real headless Chromium against the real vitalsd
fed over UDP.

Asserted, on every page of tiles the wall shows: each tile's name element
is whole (scrollWidth <= clientWidth) and lies inside its tile and the
screen, which does not scroll; the status is a word and an icon in every
tile; secondary text, when shown, is at least the size the wall promises
for reading from about 3 m; sparklines are drawn in light colours; the
collector's own tile is hidden while it is healthy and shown with
?collector=1 or when a check about it fails; no console errors.

Screenshots (one per size and count, per page) are kept in
$SCREENSHOT_DIR (default build/test-artifacts/wall-tv/) for people to
look at; nothing compares pixels.
"""
import os
import socket
import threading
import time
import unittest

import browser
from harness import SANITIZE, TestCase, Vitalsd, wait_for

SHOTS = os.environ.get("SCREENSHOT_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-artifacts",
    "wall-tv"))

SIZES = ((1920, 1080), (1366, 768))

WORDS = ["payments", "settlement", "reconciler", "inventory", "warehouse",
         "notifications", "dispatcher", "recommendations", "ingest",
         "gateway", "identity", "mailer", "webhooks", "scheduler"]


def names(n):
    """n distinct service names of exactly 32 characters, some of them
    made of the widest lowercase letters."""
    out = []
    for i in range(n):
        if i % 5 == 0:
            stem = ("mw" * 16)[:28]
        else:
            stem = "-".join(WORDS[(i * k + k) % len(WORDS)]
                            for k in (1, 2, 3))
        out.append((stem + "-" * 32)[:28] + "-%03d" % i)
    assert all(len(s) == 32 for s in out)
    assert len(set(out)) == n
    return out


class Feed:
    """Statsd traffic for every service from one UDP socket, many lines
    per datagram, until stopped: a busy timer per service so that every
    tile has figures and a sparkline."""

    def __init__(self, d, services):
        self.addr = ("127.0.0.1", d.statsd_port)
        self.services = services
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def send_lines(self, lines):
        """Newline-separated lines, datagrams kept under 1,400 bytes."""
        batch = b""
        for line in lines:
            data = line.encode() + b"\n"
            if len(batch) + len(data) > 1400:
                self.sock.sendto(batch, self.addr)
                batch = b""
            batch += data
        if batch:
            self.sock.sendto(batch, self.addr)

    def run(self):
        tick = 0
        while not self.stop.is_set():
            lines = []
            for i, s in enumerate(self.services):
                for k in range(3):
                    lines.append("%s.http.get:%d|ms" % (
                        s, 5 + (i * 7 + tick * 3 + k * 11) % 60))
                lines.append("%s.requests:%d|c" % (s, 1 + (tick + i) % 5))
            self.send_lines(lines)
            tick += 1
            self.stop.wait(0.25)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def send_checks(feed, services):
    """Even services: critical with a 1 s TTL (so they go stale); every
    fourth one warning; the rest OK for an hour."""
    lines = []
    for i, s in enumerate(services):
        if i % 2 == 0:
            status, ttl, msg = 2, "1s", "connection refused by db-%d" % i
        elif i % 4 == 1:
            status, ttl, msg = 1, "1h", "replication lag %ds" % i
        else:
            status, ttl, msg = 0, "1h", "all good"
        lines.append("_sc|alive|%d|#service:%s,ttl:%s|m:%s"
                     % (status, s, ttl, msg))
    feed.send_lines(lines)


# One script, run in the page: everything the test asserts about the
# tiles shown now (the tiles of the current page).
MEASURE = r"""
(() => {
  const vh = innerHeight, vw = innerWidth;
  const grid = document.getElementById('grid');
  const sec = parseFloat(getComputedStyle(grid).getPropertyValue('--sec-fs'));
  const shown = Array.from(document.querySelectorAll('.tile'))
    .filter(t => getComputedStyle(t).display !== 'none');
  const bad = [], small = [], dim = [];
  let minName = 1e9;
  for (const t of shown) {
    const n = t.querySelector('.t-name');
    const r = n.getBoundingClientRect(), tr = t.getBoundingClientRect();
    const fs = parseFloat(getComputedStyle(n).fontSize);
    minName = Math.min(minName, fs);
    if (n.scrollWidth > n.clientWidth || n.textContent !== t.dataset.service
        || r.left < tr.left - 1 || r.right > tr.right + 1
        || r.top < tr.top - 1 || r.bottom > tr.bottom + 1
        || tr.bottom > vh + 1 || tr.right > vw + 1 || r.width < 1)
      bad.push(t.dataset.service);
    const badge = t.querySelector('.t-head .badge');
    const icon = badge && badge.querySelector('.icon');
    const word = badge && badge.querySelector('.word');
    if (!badge || !icon || !word || !icon.textContent.trim()
        || getComputedStyle(word).display === 'none'
        || word.getBoundingClientRect().width < 1
        || word.textContent !== t.dataset.status.toUpperCase()
           .replace('NONE', 'NO CHECKS'))
      bad.push('badge:' + t.dataset.service);
    if (t.classList.contains('is-stale')) {
      const s = t.querySelector('.badge.stale .word');
      if (!s || s.getBoundingClientRect().width < 1) bad.push('stale:' + t.dataset.service);
    }
    for (const el of t.querySelectorAll('.t-out, .t-foot, .fig span')) {
      if (getComputedStyle(el).display === 'none' || el.getBoundingClientRect().height < 1)
        continue;
      const f = parseFloat(getComputedStyle(el).fontSize);
      if (f < sec - 0.5) small.push(t.dataset.service + ':' + el.className + ':' + f);
    }
    for (const p of t.querySelectorAll('.spark-p99, .spark-rate')) {
      const cs = getComputedStyle(p);
      const c = (p.classList.contains('spark-p99') ? cs.stroke : cs.fill)
        .match(/\d+(\.\d+)?/g).map(Number);
      const lum = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
      if (lum < 0.45) dim.push(t.dataset.service + ':' + p.getAttribute('class'));
    }
  }
  const pageEl = document.getElementById('page');
  return {shown: shown.map(t => t.dataset.service), bad, small, dim, sec, minName,
          scroll: [document.documentElement.scrollHeight,
                   document.documentElement.scrollWidth],
          page: pageEl && !pageEl.hidden ? pageEl.textContent : '',
          sparks: document.querySelectorAll('.tile .spark-p99').length};
})()
"""


def next_page(b):
    b.eval("document.dispatchEvent(new KeyboardEvent('keydown', "
           "{key: 'ArrowRight'}))")


@unittest.skipUnless(browser.available(), "chromium not installed")
@unittest.skipIf(SANITIZE, "measures the wall's layout in Chromium; the "
                 "daemon's pages and event stream run under the sanitizers "
                 "in test_dashboards.py and test_map.py")
class WallOnATv(TestCase):
    def wall_case(self, count):
        services = names(count)
        stale = {s for i, s in enumerate(services) if i % 2 == 0}
        with Vitalsd(config={"self_metrics": True}) as d, \
                Feed(d, services) as feed:
            send_checks(feed, services)
            # every stale one stale, and a few windows of sparkline history
            wait_for(lambda: d.get("/").text.count("is-stale") == len(stale),
                     timeout=30, what="%d stale tiles" % len(stale))
            time.sleep(4)
            for w, h in SIZES:
                with browser.Browser(w, h) as b:
                    b.open(d.url("/?wall=1"))
                    b.wait("document.getElementById('live').textContent "
                           "== 'live'", what="the event stream")
                    time.sleep(1.0)
                    seen, order = set(), []
                    first = None
                    for turn in range(40):
                        m = b.eval(MEASURE)
                        where = "%dx%d, %d services, %s" % (
                            w, h, count, m["page"] or "one page")
                        self.assertEqual(m["bad"], [], where)
                        self.assertEqual(m["small"], [], where)
                        self.assertEqual(m["dim"], [], where)
                        self.assertLessEqual(m["scroll"][0], h + 1, where)
                        self.assertLessEqual(m["scroll"][1], w + 1, where)
                        self.assertNotIn("vitals", m["shown"], where)
                        self.assertGreater(m["sparks"], 0, where)
                        self.assertGreaterEqual(m["sec"], 16, where)
                        self.assertGreaterEqual(m["minName"], 14, where)
                        if first is None:
                            first = m
                        if m["shown"] and m["shown"][0] in seen:
                            break
                        seen.update(m["shown"])
                        order += m["shown"]
                        b.screenshot(os.path.join(SHOTS, "wall-%d-%dx%d-p%d.png"
                                                  % (count, w, h, turn + 1)))
                        if not m["page"]:
                            break
                        next_page(b)
                        time.sleep(0.3)
                    # every service is on some page, worst first
                    self.assertEqual(sorted(seen), sorted(services), where)
                    self.assertEqual(order[:len(stale)], sorted(stale), where)
                    # few services: one screen, no pages
                    if count <= 8 or (count <= 40 and w == 1920):
                        self.assertEqual(first["page"], "", where)
                    self.assertEqual(b.console_errors(), [], where)

    def test_8_services(self):
        self.wall_case(8)

    def test_40_services(self):
        self.wall_case(40)

    def test_200_services(self):
        self.wall_case(200)

    def test_collector_tile_only_when_unhealthy_or_asked(self):
        with Vitalsd(config={"self_metrics": True}) as d, \
                Feed(d, names(8)) as feed:
            send_checks(feed, names(8))
            wait_for(lambda: 'data-service="vitals"' in d.get("/").text,
                     timeout=15, what="the collector's tile")
            shown = ("Array.from(document.querySelectorAll('.tile'))"
                     ".filter(t => getComputedStyle(t).display !== 'none')"
                     ".map(t => t.dataset.service)")
            with browser.Browser(1920, 1080) as b:
                b.open(d.url("/?wall=1"))
                self.assertNotIn("vitals", b.eval(shown))
                self.assertEqual(b.eval("document.querySelector('#counts "
                                        ".total').textContent"), "8 services")
                b.open(d.url("/?wall=1&collector=1"))
                self.assertIn("vitals", b.eval(shown))
                # a failing check about the collector brings its tile back
                feed.send_lines(["_sc|storage|2|#service:vitals,ttl:1h|"
                                 "m:rrd queue 5000 behind"])
                b.open(d.url("/?wall=1"))
                b.wait("Array.from(document.querySelectorAll('.tile'))"
                       ".some(t => t.dataset.service == 'vitals' && "
                       "getComputedStyle(t).display !== 'none')",
                       what="the unhealthy collector on the wall")
                self.assertEqual(b.eval(
                    "document.querySelector('.tile[data-service=vitals]')"
                    ".dataset.status"), "critical")
                self.assertEqual(b.console_errors(), [])
                b.screenshot(os.path.join(SHOTS, "wall-collector-critical.png"))
            # the ordinary overview keeps the collector's tile
            self.assertIn('data-service="vitals"', d.get("/").text)


if __name__ == "__main__":
    unittest.main()
