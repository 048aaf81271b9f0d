"""SIGHUP reloads what can change while running, key by key (issue 20,
item 6): the file and flags are read again; applied keys take effect at
once and are logged as applied, the others are logged as needing a
restart and keep their running value; a broken file keeps everything."""
import json
import os
import shutil
import signal
import tempfile
import time

from harness import TestCase, Vitalsd, wait_for


class ReloadTest(TestCase):

    def write(self, d, cfg):
        # As the harness does at start: a changed rrd.write_delay would
        # be one more key needing a restart.
        cfg = dict(cfg, rrd=dict(cfg.get("rrd", {}), write_delay=0))
        with open(os.path.join(d.dir, "vitals.json"), "w") as f:
            json.dump(cfg, f)

    def hup(self, d, expect):
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: expect in d.log_text(), timeout=10,
                 what="the log to say %r" % expect)

    def post(self, d, size):
        body = json.dumps({"service": "s", "check": "c", "status": "ok",
                           "output": "x" * size})
        return d.post("/api/v1/health", body).status

    def test_sighup_applies_what_it_can_and_names_the_rest(self):
        base = {"self_metrics": False, "http": {"max_body": "64KiB"}}
        with Vitalsd(config=base, flush="2s") as d:
            self.assertEqual(self.post(d, 3000), 202)
            d.send_udp("web.hits:1|c")
            wait_for(lambda: d.get("/api/v1/services/web").status == 200,
                     what="web")
            self.write(d, {"self_metrics": False,
                           "http": {"max_body": "2KiB", "token": "s3cret"},
                           "log": {"level": "debug"},
                           "percentiles": [50, 99],
                           "metric_ttl": "2h"})
            self.hup(d, "SIGHUP: configuration read again")
            log = d.log_text()
            self.assertIn('SIGHUP: http.max_body: 65536 -> 2048 (applied)',
                          log)
            self.assertIn('SIGHUP: http.token: "" -> "***" (applied)', log)
            self.assertIn('SIGHUP: log.level: "info" -> "debug" (applied)',
                          log)
            self.assertIn('SIGHUP: metric_ttl: "1h" -> "2h" (applied)', log)
            self.assertIn("SIGHUP: percentiles: [50, 90, 95, 99] -> [50, 99] "
                          "needs a restart; still [50, 90, 95, 99]", log)
            self.assertIn("5 keys changed, 4 applied, 1 needs a restart",
                          log)
            self.assertNotIn("s3cret", log)
            # Applied: the new body cap answers at once.
            self.assertEqual(self.post(d, 3000), 413)
            self.assertEqual(self.post(d, 100), 202)
            # Not applied: the window is still 2 s (--flush is a flag, read
            # again too) with four percentiles.
            d.send_udp("web.hits:1|c")
            wait_for(lambda: d.get("/api/v1/services/web").json()
                     ["metrics"][0]["window"]["samples"] == 1,
                     what="a line after the reload")
            wait_for(lambda: abs(d.get("/api/v1/services/web").json()
                                 ["window"]["seconds"] - 2) < 0.3,
                     what="a 2 s window after the reload")
            d.send_udp("web.t:5|ms")
            wait_for(lambda: any(m["name"] == "t" for m in d.get(
                "/api/v1/services/web").json()["metrics"]), what="timer")
            t = [m for m in d.get("/api/v1/services/web").json()["metrics"]
                 if m["name"] == "t"][0]
            self.assertEqual(sorted(t["percentiles_1m"]),
                             ["p50", "p90", "p95", "p99"])

            # A broken file: an error naming the key, nothing changes.
            with open(os.path.join(d.dir, "vitals.json"), "w") as f:
                f.write('{"self_metrics": false, "http": {"max_body": '
                        '"1MiB"}, "bogus": 1}')
            self.hup(d, "keeping the running configuration")
            self.assertIn("bogus", d.log_text())
            self.assertEqual(self.post(d, 3000), 413)
            self.assertIsNone(d.proc.poll())

    def test_sighup_reads_the_mapping_file_again(self):
        """statsd_exporter reads its mapping file again on SIGHUP, and so
        does vitalsd: the new rules apply from the next window, a series
        they map differently starts afresh, a broken file keeps the
        running rules."""
        rules_v1 = ('mappings:\n'
                    '- match: "api.*.http.*"\n'
                    '  name: "http_requests"\n'
                    '  labels: {host: "$1", code: "$2"}\n')
        rules_v2 = ('mappings:\n'
                    '- match: "api.*.http.*"\n'
                    '  name: "api_requests"\n'
                    '  labels: {host: "$1", status: "$2"}\n'
                    '- match: "debug.*"\n'
                    '  action: drop\n'
                    '  name: "x"\n')
        tmp = tempfile.mkdtemp(prefix="vitals-map-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "map.yml")
        with open(path, "w") as f:
            f.write(rules_v1)
        with Vitalsd(config={"self_metrics": False, "mapping_file": path},
                     flush="1s") as d:
            d.send_udp("api.h1.http.200:1|c")
            d.wait_value("http_requests_total", 1.0, service="api",
                         host="h1", code="200")
            with open(path, "w") as f:
                f.write(rules_v2)
            self.hup(d, "mapping rules read again; they apply")
            wait_for(lambda: "live series mapped differently" in
                     d.log_text(), what="the rules applied at a close")
            d.send_udp("api.h1.http.200:1|c\ndebug.x:1|c")
            d.wait_value("api_requests_total", 1.0, service="api",
                         host="h1", status="200")
            wait_for(lambda: d.lines("dropped_by_mapping") == 1.0,
                     what="debug.x dropped by the new rules")
            # A broken file names its line and key; the rules stay.
            with open(path, "w") as f:
                f.write(rules_v2 + '  bogus_key: 1\n')
            self.hup(d, "keeping the running configuration")
            self.assertRegex(d.log_text(), r"map\.yml:\d+.*bogus_key")
            d.send_udp("api.h1.http.200:1|c")
            d.wait_value("api_requests_total", 2.0, service="api",
                         host="h1", status="200")
            self.assertIsNone(d.proc.poll())
