"""Crash safety: kill -9 at random moments while vitalsd writes.

Every RRD file must stay readable by the real `rrdtool info`, the check
state file must be whole (the old or the new one, never torn), and a
daemon restarted on the same data directory must start cleanly, restore
the checks and keep writing the files it left behind.
"""

import glob
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time

from harness import TestCase, Vitalsd, wait_for

ROUNDS = 6
NAMES = 150


def rrdtool_info_all(paths):
    """Run the real `rrdtool info` on every path in one `rrdtool -`
    process. Returns [(path, error)] for the files it could not read."""
    script = "".join("info %s\n" % p for p in paths)
    r = subprocess.run(["rrdtool", "-"], input=script, capture_output=True,
                       text=True, timeout=120)
    results = [line for line in r.stdout.splitlines()
               if line.startswith(("OK ", "ERROR"))]
    assert len(results) == len(paths), (len(results), len(paths), r.stderr)
    return [(p, res) for p, res in zip(paths, results)
            if not res.startswith("OK ")]


class Load(threading.Thread):
    """statsd and JSON checks over UDP, as fast as a small client sends."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        i = 0
        while not self.stop.is_set():
            lines = []
            for k in range(40):
                n = (i + k) % NAMES
                lines.append("svc%d.req%d:%d|c" % (n % 7, n, k))
                lines.append("svc%d.lat%d:%d|ms" % (n % 7, n, k % 50))
            i += 40
            try:
                s.sendto("\n".join(lines).encode(), ("127.0.0.1", self.port))
                checks = [{"service": "svc%d" % j, "check": "c%d" % (i % 5),
                           "status": random.choice(["ok", "warning"]),
                           "output": "round %d" % i, "ttl": 3600}
                          for j in range(7)]
                s.sendto(json.dumps(checks).encode(),
                         ("127.0.0.1", self.port))
            except OSError:
                pass   # the daemon is between lives
            time.sleep(0.002)
        s.close()


class CrashSafetyTest(TestCase):

    def test_kill_9_never_leaves_a_torn_file(self):
        rng = random.Random(int(os.environ.get("VT_CRASH_SEED", "7")))
        d = Vitalsd(config={"health": {"save_interval": "1s"}}, flush="1s")
        load = None
        try:
            d.start()
            load = Load(d.statsd_port)
            load.start()
            for rnd in range(ROUNDS):
                # Let it create files, write windows and save state, then
                # kill it at a random point of a window.
                wait_for(lambda: glob.glob(os.path.join(
                    d.data_dir, "svc*", "*.rrd")), timeout=20,
                    what="RRD files")
                time.sleep(1.0 + rng.random() * 1.5)
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                d.log.close()
                self.assert_data_dir_whole(d.data_dir, rnd)
                d.returncode = None
                d.start()
                # The restarted daemon restored the checks it had saved.
                r = d.get("/api/v1/services/svc1")
                self.assertEqual(r.status, 200, r.text)
                self.assertTrue(r.json().get("checks"), r.text)
                self.assertNotIn("corrupt", d.log_text())
            load.stop.set()
            load.join()
            load = None
            # After the last restart the files keep being written.
            path = sorted(glob.glob(os.path.join(d.data_dir, "svc1",
                                                 "req*.rrd")))[0]
            before = self.last_update(path)
            d.send_udp("svc1.%s:1|c" % os.path.basename(path)[:-4])
            wait_for(lambda: self.last_update(path) > before, timeout=10,
                     what="an update after the restarts")
            self.assertEqual(d.stop(), 0, d.log_text())
            d.assert_clean_log()
            self.assert_data_dir_whole(d.data_dir, "end")
            # Half-created files a kill left behind were swept at start.
            leftovers = [p for p in glob.glob(os.path.join(
                d.data_dir, "**", "*.rrd?*"), recursive=True)]
            self.assertEqual(leftovers, [])
        finally:
            if load is not None:
                load.stop.set()
                load.join()
            d.cleanup()

    def test_a_status_change_survives_a_kill_soon_after(self):
        """Issue 21: state was saved only every save_interval (10 s), so a
        daemon that crashed within it lost the checks it had just seen.
        A change of status reaches health.json within a second or two."""
        d = Vitalsd(flush="1s")       # save_interval: the default, 10 s
        try:
            d.start()
            state = os.path.join(d.data_dir, "health.json")
            wait_for(lambda: os.path.exists(state), timeout=10,
                     what="health.json saved at start")
            d.send_udp("_sc|pay.db|2|m:down")
            wait_for(lambda: d.get("/api/v1/services/pay").status == 200,
                     timeout=10, what="pay listed")

            def saved():
                with open(state) as f:
                    return "pay" in f.read()
            wait_for(saved, timeout=4, interval=0.1,
                     what="the new check saved within seconds")
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            d.returncode = None
            d.start()
            r = d.get("/api/v1/services/pay")
            self.assertEqual(r.status, 200, r.text)
            checks = r.json()["checks"]
            self.assertEqual([(c["check"], c["status"]) for c in checks],
                             [("db", "critical")], r.text)
        finally:
            d.cleanup()

    def last_update(self, path):
        r = subprocess.run(["rrdtool", "last", path], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout.strip())

    def assert_data_dir_whole(self, data_dir, rnd):
        """Every file passes rrdtool info; the state file is whole JSON."""
        files = glob.glob(os.path.join(data_dir, "**", "*.rrd"),
                          recursive=True)
        self.assertGreater(len(files), NAMES, "round %s" % rnd)
        self.assertEqual(rrdtool_info_all(files), [], "round %s" % rnd)
        state = os.path.join(data_dir, "health.json")
        self.assertTrue(os.path.exists(state), "round %s" % rnd)
        with open(state) as f:
            json.load(f)   # whole JSON: the old file or the new one
