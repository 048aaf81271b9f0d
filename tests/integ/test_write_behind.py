"""Write-behind (rrd.write_delay, the default storage) with the real
vitalsd and rrdtool: windows the writer still holds appear in series and
graphs at once (a read has the file written first); a kill -9 loses at
most the write delay and the next start carries on; an old-layout data
directory still graphs with windows held. About 35 s in all."""

import os
import signal
import time
import urllib.parse

from harness import TestCase, Vitalsd, wait_for
from test_storage import (OLD_TIMER_DS, fetch, lastupdate, old_layout_args,
                          rrdtool)


def storage(d, name):
    for line in d.metrics_text().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def series(d, service, metric, stat, frm="-60s"):
    q = urllib.parse.urlencode({"service": service, "metric": metric,
                                "stat": stat, "from": frm})
    r = d.get("/api/v1/series?" + q)
    assert r.status == 200, (r.status, r.body[:300])
    return r.json()["points"]


class HeldWindowsAreRead(TestCase):

    def test_series_and_graphs_see_held_windows(self):
        # An hour's delay: without a reader nothing would reach the files
        # during the test (a file comes due at its phase of the hour).
        d = Vitalsd(config={"rrd": {"write_delay": "1h"}})
        try:
            d.start()
            sent = 0
            t_end = time.time() + 3.5
            while time.time() < t_end:
                d.send_udp("wb.hits:3|c\nwb.lat:12|ms")
                sent += 3
                time.sleep(0.25)
            hits = os.path.join(d.data_dir, "wb", "hits.rrd")
            lat = os.path.join(d.data_dir, "wb", "lat.rrd")
            # Every window with data closed, and held.
            time.sleep(2.2)
            wait_for(lambda: (storage(d, "vitals_storage_held_windows")
                              or 0) > 0, timeout=5, what="held windows")
            self.assertTrue(os.path.exists(hits) and os.path.exists(lat))

            # The series API shows every count sent, at once ...
            pts = series(d, "wb", "hits", "count")
            self.assertEqual(sum(v for _, v in pts if v is not None), sent)
            # ... because the read had the file written: it is on disk.
            on_disk = sum(r["count"] for _, r in fetch(hits, start="-60")
                          if r["count"] is not None)
            self.assertEqual(on_disk, sent)
            self.assertGreaterEqual(storage(d, "vitals_storage_read_syncs_total"),
                                    1)

            # A graph does the same for the timer's file.
            r = d.get("/graph/wb/lat.svg?from=-1m&stat=count")
            self.assertEqual(r.status, 200)
            counts = [r["count"] for _, r in fetch(lat, start="-60")
                      if r["count"] is not None]
            self.assertEqual(sum(counts), sent / 3)
            self.assertEqual(d.stop(), 0, d.log_text())
        finally:
            d.cleanup()

    def test_old_layout_directory_graphs_with_windows_held(self):
        d = Vitalsd(config={"rrd": {"write_delay": "1h"}})
        try:
            base = os.path.join(d.data_dir, "legacy")
            os.makedirs(base)
            t = os.path.join(base, "http.get.rrd")
            rrdtool("create", t, "--step", 1, "--start",
                    int(time.time()) - 30, *old_layout_args(OLD_TIMER_DS, 1))
            d.start()
            time.sleep(2.2)   # after the first window (stored unknown)
            d.send_udp("\n".join("legacy.http.get:%d|ms" % v
                                 for v in (10, 20, 30, 40)))
            time.sleep(2.2)
            pts = series(d, "legacy", "http.get", "mean", "-2m")
            self.assertIn(25, [v for _, v in pts])
            r = d.get("/graph/legacy/http.get.png?from=-10m&stat=p50,p99")
            self.assertEqual((r.status, r.body[:4]), (200, b"\x89PNG"))
            self.assertEqual(d.stop(), 0, d.log_text())
        finally:
            d.cleanup()


class KillNine(TestCase):

    DELAY = 4

    def test_kill_9_loses_at_most_the_write_delay(self):
        d = Vitalsd(config={"rrd": {"write_delay": "%ds" % self.DELAY}})
        path = os.path.join(d.data_dir, "crash", "steady.rrd")
        try:
            d.start()
            began = time.time()

            def send_for(seconds):
                end = time.time() + seconds
                while time.time() < end:
                    d.send_udp("crash.steady:1|c")
                    time.sleep(0.1)
            send_for(9)
            # Something reached the disk before the kill, without a read.
            self.assertGreater(lastupdate(path)[0], int(began) + 1)
            killed = time.time()
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            d.returncode = None
            d.start()
            ready = time.time()
            send_for(5)
            stop = time.time()
            self.assertEqual(d.stop(), 0, d.log_text())

            rows = dict(fetch(path, start=str(int(began) - 2)))
            real = [t for t, r in rows.items() if r["count"] is not None]
            self.assertTrue(real)
            # Every whole window closed more than the delay (plus the
            # round that writes it) before the kill is on disk.
            for t in range(int(began) + 2, int(killed - self.DELAY) - 1):
                self.assertIsNotNone(rows[t]["count"],
                                     "window ending %d, %.1f s before the "
                                     "kill, lost" % (t, killed - t))
            # What is missing around the kill: at most the delay, the
            # window the kill cut, the restart and its first window.
            lost = [t for t in range(int(began) + 2, int(stop) - 1)
                    if rows[t]["count"] is None]
            most = self.DELAY + 2 + (ready - killed) + 2
            self.assertLessEqual(len(lost), most, lost)
            self.assertTrue(all(killed - self.DELAY - 2 <= t <= ready + 2
                                for t in lost), (lost, killed, ready))
            # The next start carries on: its windows are all there.
            for t in range(int(ready) + 3, int(stop) - 1):
                self.assertIsNotNone(rows[t]["count"], t)
            self.assertNotIn("ERROR", d.log_text())
        finally:
            d.cleanup()
