"""Honest history (issue 21, finding 3): a window the daemon never closed
is stored as unknown, never filled in with another window's value.

A real client (`vitals-send`) sends a counter steadily; the daemon is
killed with SIGKILL in the middle of a window and started again at once
on the same data directory. The real `rrdtool fetch -r <step>` must then
show the killed window as unknown (nan) - before the fix it showed the
part the new daemon saw, or (restart after the next boundary) the next
window's value, because the heartbeat (2 x step) lets librrd stretch an
update over the gap - while every window wholly inside one daemon's life
holds the counts the client sent in it.

Every send is timed (before and after `vitals-send` runs), so the counts
each window must hold are known to within the sends made near its
boundaries.
"""

import glob
import math
import os
import signal
import subprocess
import threading
import time
import urllib.parse

from harness import TestCase, Vitalsd, VITALSD, wait_for

VITALS_SEND = os.environ.get("VITALS_SEND") or os.path.join(
    os.path.dirname(os.path.abspath(VITALSD)), "vitals-send")
PER_SEND = 10          # counts in one send
SEND_EVERY = 0.05      # seconds between sends
EDGE = 0.3             # a send this close to a boundary may land either side


class Client(threading.Thread):
    """`vitals-send count SERVICE METRIC 10` every 50 ms while `on` is
    set; records (before, after) of every send."""

    def __init__(self, port, service, metric):
        super().__init__(daemon=True)
        self.port, self.service, self.metric = port, service, metric
        self.on = threading.Event()
        self.on.set()
        self.stop = threading.Event()
        self.sends = []

    def run(self):
        while not self.stop.is_set():
            if self.on.is_set():
                t0 = time.time()
                subprocess.run([VITALS_SEND, "-p", str(self.port), "count",
                                self.service, self.metric, str(PER_SEND)],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10)
                self.sends.append((t0, time.time()))
            time.sleep(SEND_EVERY)

    def expected(self, start, end):
        """(least, most) counts sent within the window (start, end]."""
        least = most = 0
        for t0, t1 in self.sends:
            if t0 > start + EDGE and t1 < end - EDGE:
                least += PER_SEND
            if t1 > start - EDGE and t0 < end + EDGE:
                most += PER_SEND
        return least, most


# The default storage: windows held up to rrd.write_delay (read through
# the daemon, sync(), to see them before it writes them).
WRITE_BEHIND = {"rrd": {"write_delay": "30s"}}


def sync(d, path):
    """Have the daemon write what it holds for path (rrd.write_delay):
    any read of a file through it does that first."""
    parts = os.path.relpath(path, d.data_dir)[:-len(".rrd")].split("/")
    if len(parts) == 4 and parts[1] == "checks":
        q = {"service": parts[0], "instance": parts[2], "check": parts[3]}
    else:
        q = {"service": parts[0], "metric": "/".join(parts[1:])}
    try:
        d.get("/api/v1/series?" + urllib.parse.urlencode(q))
    except Exception:          # no file yet: nothing to write either
        pass


def rrd_last(path, d=None):
    if d is not None:
        sync(d, path)
    r = subprocess.run(["rrdtool", "last", path], capture_output=True,
                       text=True, timeout=30)
    return int(r.stdout.strip()) if r.returncode == 0 else 0


def last_status(path, d=None):
    if d is not None:
        sync(d, path)
    r = subprocess.run(["rrdtool", "lastupdate", path], capture_output=True,
                       text=True, timeout=30)
    try:
        return float(r.stdout.strip().splitlines()[-1].split(":")[1])
    except (IndexError, ValueError):
        return None


def rrd_info(path):
    r = subprocess.run(["rrdtool", "info", path], capture_output=True,
                       text=True, timeout=30, check=True)
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" = ")
        out[k] = v.strip('"')
    return out


def rrd_fetch(path, step, start, end):
    """{row end time: {ds: value or None}} from `rrdtool fetch -r step`,
    and the distance between rows."""
    r = subprocess.run(["rrdtool", "fetch", path, "AVERAGE", "-r", str(step),
                        "-s", str(start), "-e", str(end)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    names = lines[0].split()
    rows = {}
    for line in lines[1:]:
        ts, _, vals = line.partition(":")
        vs = [float(v) for v in vals.split()]
        rows[int(ts)] = {n: (None if math.isnan(v) else v)
                         for n, v in zip(names, vs)}
    times = sorted(rows)
    return rows, times[1] - times[0]


def next_boundary(step, after):
    return (math.floor(after / step) + 1) * step


class HonestHistoryTest(TestCase):

    def kill_mid_window_and_restart(self, d, step, path, delay, before):
        """Kill -9 in the middle of a window whose predecessor is on disk
        (calling before() just before), start again after delay seconds;
        returns (killed window's end, kill time, restart began, ready)."""
        # Mid-window, at least three whole windows after the first.
        b = next_boundary(step, time.time() + 2 * step)
        time.sleep(max(0.0, b + step / 2.0 - time.time()))
        wait_for(lambda: rrd_last(path, d) >= b, timeout=step,
                 what="the window before the kill on disk")
        before()
        killed_at = time.time()
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.log.close()
        d.returncode = None
        time.sleep(delay)
        began = time.time()
        d.start()
        ready = time.time()
        self.assertLess(killed_at, b + step, "the kill missed its window")
        return b + step, killed_at, began, ready

    def assert_real(self, rows, step, client, ends, what):
        for end in ends:
            least, most = client.expected(end - step, end)
            count = rows[end]["count"]
            self.assertIsNotNone(count, "%s: window ending %d unknown"
                                 % (what, end))
            self.assertTrue(least <= count <= most,
                            "%s: window ending %d holds %s, the client sent "
                            "%d..%d" % (what, end, count, least, most))
            self.assertGreater(least, 0, "the client was not steady")

    def assert_unknown(self, rows, ends, what):
        for end in ends:
            self.assertEqual(rows[end], {"count": None, "rate": None},
                             "%s: window ending %d was never closed, yet "
                             "holds %r" % (what, end, rows[end]))

    def run_case(self, step, delay):
        d = Vitalsd(flush="%ds" % step, config=WRITE_BEHIND)
        steady = pause = None
        try:
            d.start()
            first_ready = time.time()
            steady = Client(d.statsd_port, "pay", "req")
            pause = Client(d.statsd_port, "pay", "paused")
            steady.start()
            pause.start()
            req = os.path.join(d.data_dir, "pay", "req.rrd")
            paused = os.path.join(d.data_dir, "pay", "paused.rrd")
            wait_for(lambda: os.path.exists(req) and os.path.exists(paused),
                     timeout=4 * step, what="the counters' files")

            # The second counter is quiet from the kill until a whole
            # window after the restart: the file's first update after the
            # crash comes two or more windows later.
            killed_end, killed_at, began, ready = \
                self.kill_mid_window_and_restart(
                    d, step, req, delay,
                    lambda: (rrd_last(paused, d), pause.on.clear()))
            quiet_until = next_boundary(step, ready) + step / 2.0
            time.sleep(max(0.0, quiet_until - time.time()))
            pause.on.set()
            resumed = time.time()
            # Three whole windows after the paused one resumed.
            last = next_boundary(step, resumed) + 3 * step
            wait_for(lambda: rrd_last(req, d) >= last and
                     rrd_last(paused, d) >= last, timeout=6 * step,
                     what="three windows after the restart")
            steady.stop.set()
            pause.stop.set()
            steady.join()
            pause.join()
            self.assertEqual(d.stop(), 0, d.log_text())

            start = killed_end - 4 * step
            rows, spacing = rrd_fetch(req, step, start, last)
            self.assertEqual(spacing, step, "rows of one window each")
            # Windows the first daemon closed whole.
            before = [e for e in range(start + step, killed_end, step)
                      if e - step > first_ready]
            self.assertGreaterEqual(len(before), 2)
            self.assert_real(rows, step, steady, before, "before the kill")
            # The killed window, and any window that began before the
            # new daemon was up: unknown.
            cut = list(range(killed_end,
                             next_boundary(step, began - 1e-3) + 1, step))
            self.assert_unknown(rows, cut, "the killed window")
            # Whole windows of the new daemon.
            after = [e for e in range(killed_end, last + 1, step)
                     if e - step > ready]
            self.assertGreaterEqual(len(after), 3)
            self.assert_real(rows, step, steady, after, "after the restart")

            # The counter that came back later: the killed window is not
            # filled with the value of the window it came back in.
            rows2, _ = rrd_fetch(paused, step, start, last)
            self.assert_real(rows2, step, pause, before[-1:], "paused, before")
            back = next_boundary(step, resumed)
            self.assert_unknown(rows2, range(killed_end, back, step),
                                "paused, until it sent again")
            self.assertIsNotNone(rows2[back]["count"])
            self.assert_real(rows2, step, pause, [back + step],
                             "paused, sending again")
            # The cut is logged once, with the number of files.
            self.assertIn("that window, seen only in part, is stored as "
                          "unknown", d.log_text())
            return rrd_info(req)
        finally:
            for c in (steady, pause):
                if c is not None:
                    c.stop.set()
            d.cleanup()

    def test_killed_window_is_unknown_with_4s_windows(self):
        """The finding as reported: --flush 4s, kill -9 mid-window,
        immediate restart."""
        info = self.run_case(4, 0.0)
        self.assertEqual(info["rra[0].pdp_per_row"], "1")

    def test_restart_after_the_next_boundary(self):
        """A restart that comes after the killed window's end: before the
        fix the killed window held the next window's value."""
        self.run_case(4, 2.5)

    def test_lost_window_is_visible_with_2s_windows(self):
        """With 2 s windows the finest archive averaged two windows, so a
        lost one could not be told from a real one. It now keeps one row
        per window for the whole hour."""
        info = self.run_case(2, 0.0)
        self.assertEqual(info["step"], "2")
        self.assertEqual(info["rra[0].cf"], "AVERAGE")
        self.assertEqual(info["rra[0].pdp_per_row"], "1")
        self.assertEqual(int(info["rra[0].rows"]), 3600 // 2)

    def test_check_history_is_not_stretched_over_a_crash(self):
        """Check files keep a long heartbeat (unchanged statuses are
        folded for up to 5 minutes), so a status written after a crash
        would stand for the time nobody watched: it is unknown up to the
        window the new daemon first closed."""
        d = Vitalsd(flush="2s", config=WRITE_BEHIND)
        try:
            d.start()
            d.send_udp("_sc|pay.db|1|m:slow")
            wait_for(lambda: glob.glob(os.path.join(
                d.data_dir, "pay", "checks", "*", "db.rrd")), timeout=10,
                what="the check's file")
            path = glob.glob(os.path.join(d.data_dir, "pay", "checks", "*",
                                          "db.rrd"))[0]
            # Unchanged, so folded: nothing is written after the first
            # windows. Then the daemon dies, and the status changes while
            # it is down.
            time.sleep(6)
            written = rrd_last(path)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            d.returncode = None
            d.start()
            ready = time.time()
            d.send_udp("_sc|pay.db|2|m:down")
            wait_for(lambda: last_status(path, d) == 2, timeout=20,
                     what="the new status on disk")
            self.assertEqual(d.stop(), 0, d.log_text())
            last = rrd_last(path)
            r = subprocess.run(["rrdtool", "fetch", path, "AVERAGE", "-r",
                                "2", "-s", str(written - 2), "-e", str(last)],
                               capture_output=True, text=True, timeout=30)
            rows = {}
            for line in r.stdout.splitlines()[1:]:
                if ":" in line:
                    ts, _, v = line.partition(":")
                    rows[int(ts)] = float(v)
            # Nothing after the last status written before the crash
            # holds the status reported after it, until the new daemon
            # was up.
            for ts, v in rows.items():
                if written < ts <= ready - 2:
                    self.assertTrue(math.isnan(v) or v == 1,
                                    "status %s at %d, before the new "
                                    "daemon saw it" % (v, ts))
            # After it, the status reported to the new daemon.
            seen = [v for ts, v in rows.items()
                    if ts > ready and not math.isnan(v)]
            self.assertTrue(seen and set(seen) == {2}, rows)
        finally:
            d.cleanup()
