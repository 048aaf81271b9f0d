"""Healthchecks end to end through the real binary: JSON over UDP (nc and
raw sockets), DogStatsD _sc lines over UDP and TCP, POST /api/v1/health
(curl), staleness, worst-of, restarts (SIGTERM and kill -9), a corrupt
state file, DELETE, Server-Sent Events, /metrics through promtool, the
vitals-send tool and Node's hot-shots client."""
import glob
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import TestCase, Vitalsd, http, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def service(d, name):
    r = d.get("/api/v1/services/" + name)
    return r.json() if r.status == 200 else None


def check_of(d, svc, check, instance=None):
    s = service(d, svc)
    for c in (s or {}).get("checks", []):
        if c["check"] == check and (instance is None
                                    or c["instance"] == instance):
            return c
    return None


def wait_check(d, svc, check, instance=None, status=None, timeout=10):
    def ok():
        c = check_of(d, svc, check, instance)
        if c is None or (status is not None and c["status"] != status):
            return None
        return c
    return wait_for(ok, timeout=timeout,
                    what="check %s/%s %s" % (svc, check, status or ""))


class JsonChecks(TestCase):
    def test_udp_object_array_and_batch(self):
        with Vitalsd() as d:
            # A single object with nc, as a shell script would send it.
            body = json.dumps({"service": "payments",
                               "instance": "pay-1:4001",
                               "check": "cassandra", "status": "ok",
                               "output": "3/3 nodes up", "ttl": 30,
                               "timestamp": 1795000000})
            # -q0, not -w0: OpenBSD nc with -w0 may exit before its
            # datagram leaves (11 of 300 lost on this machine).
            subprocess.run(["nc", "-u", "-q0", "127.0.0.1",
                            str(d.statsd_port)], input=body.encode(),
                           check=True, timeout=10)
            d.send_udp(json.dumps([
                {"service": "payments", "check": "disk", "status": 1,
                 "output": "81% full"},
                {"service": "search", "check": "index", "status": "OK"}]))
            d.send_udp(json.dumps({
                "service": "billing", "instance": "bill-1", "ttl": "5m",
                "checks": [{"check": "db", "status": "ok"},
                           {"check": "queue", "status": "critical",
                            "output": "depth 9000", "instance": "bill-2"},
                           {"check": "broken", "status": "so-so"}]}))

            c = wait_check(d, "payments", "cassandra")
            self.assertEqual(c["instance"], "pay-1:4001")
            self.assertEqual(c["status"], "ok")
            self.assertEqual(c["output"], "3/3 nodes up")
            self.assertEqual(c["ttl"], 30)
            self.assertEqual(c["timestamp"], 1795000000)
            disk = wait_check(d, "payments", "disk")
            self.assertEqual(disk["instance"], "127.0.0.1")  # sender's IP
            self.assertEqual(disk["ttl"], 60)                # default
            self.assertEqual(service(d, "payments")["status"], "warning")
            wait_check(d, "search", "index", status="ok")
            q = wait_check(d, "billing", "queue", "bill-2", "critical")
            self.assertEqual(q["ttl"], 300)
            self.assertEqual(check_of(d, "billing", "db")["instance"],
                             "bill-1")
            self.assertIsNone(check_of(d, "billing", "broken"))
            self.assertEqual(d.wait_value("vitals_checks_received_total", 1,
                                          format="json",
                                          result="bad_status"), 1)
            self.assertEqual(d.value("vitals_checks_received_total",
                                     format="json", result="ok"), 5)

    def test_invalid_datagrams_counted_never_disturb(self):
        with Vitalsd() as d:
            d.send_udp('{"service": "x", "check": ')
            d.send_udp('[{"service": "a", "check": "b", "status": 0},'
                       ' {"service": "a", "check": "c", "ttl": "soon",'
                       '  "status": 0}, 42]')
            wait_check(d, "a", "b", status="ok")
            self.assertIsNone(check_of(d, "a", "c"))
            for result, n in (("bad_json", 1), ("bad_ttl", 1),
                              ("bad_field", 1), ("ok", 1)):
                self.assertEqual(d.wait_value("vitals_checks_received_total",
                                              n, format="json",
                                              result=result), n)


class ServiceCheckLines(TestCase):
    def test_sc_over_udp_and_tcp(self):
        with Vitalsd() as d:
            d.send_udp("_sc|billing.broker|1|#env:prod,ttl:30s|m:lagging\n"
                       "deploys:1|c")
            d.send_tcp("_sc|billing.db|2|h:db-1|m:replica down\n"
                       "_sc|ping|0|#service:edge\n")
            broker = wait_check(d, "billing", "broker", status="warning")
            self.assertEqual(broker["instance"], "127.0.0.1")
            self.assertEqual(broker["ttl"], 30)
            self.assertEqual(broker["output"], "lagging")
            db = wait_check(d, "billing", "db", "db-1", "critical")
            self.assertEqual(db["output"], "replica down")
            wait_check(d, "edge", "ping", status="ok")
            self.assertEqual(service(d, "billing")["status"], "critical")
            self.assertEqual(d.wait_value("vitals_checks_received_total", 3,
                                          format="dogstatsd", result="ok"),
                             3)
            d.send_udp("_sc|billing.broker|0|#ttl:forever")
            self.assertEqual(d.wait_value("vitals_checks_received_total", 1,
                                          format="dogstatsd",
                                          result="bad_ttl"), 1)


class HttpPost(TestCase):
    def curl(self, d, body):
        out = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-X", "POST",
             "-H", "Content-Type: application/json", "--data-binary", body,
             d.url("/api/v1/health")], capture_output=True, text=True,
            timeout=10, check=True).stdout
        text, code = out.rsplit("\n", 1)
        return int(code), json.loads(text)

    def test_post_accepted_and_400_naming_the_field(self):
        with Vitalsd() as d:
            code, r = self.curl(d, json.dumps(
                {"service": "api", "check": "db", "status": "ok",
                 "output": "fine"}))
            self.assertEqual((code, r), (202, {"accepted": 1,
                                               "rejected": 0}))
            code, r = self.curl(d, json.dumps(
                {"service": "api", "instance": "api-1",
                 "checks": [{"check": "cache", "status": "warning"},
                            {"check": "queue", "status": "fine"},
                            {"check": "disk", "status": 2}]}))
            self.assertEqual(code, 400)
            self.assertEqual(r["error"], "checks[1].status: expected ok, "
                             "warning, critical, unknown or 0-3")
            self.assertEqual((r["accepted"], r["rejected"]), (2, 1))
            # the valid checks of the same batch were applied
            wait_check(d, "api", "disk", "api-1", "critical")
            wait_check(d, "api", "cache", "api-1", "warning")
            self.assertIsNone(check_of(d, "api", "queue"))

            code, r = self.curl(d, '{"service": "api"')
            self.assertEqual(code, 400)
            self.assertTrue(r["error"].startswith("body: not valid JSON"),
                            r)
            code, r = self.curl(d, '{"check": "x", "status": 0}')
            self.assertEqual((code, r["error"]), (400, "service: required"))
            r = d.post("/api/v1/health", "")
            self.assertEqual(r.status, 400)
            self.assertIn("error", r.json())


class Staleness(TestCase):
    def test_ttl_turns_critical_within_a_second(self):
        with Vitalsd() as d:
            d.send_udp(json.dumps({"service": "cron", "check": "job",
                                   "status": "ok", "ttl": 2}))
            sent = time.time()
            wait_check(d, "cron", "job", status="ok")

            def stale():
                c = check_of(d, "cron", "job")
                return c if c and c["stale"] else None
            c = wait_for(stale, timeout=10, interval=0.05, what="stale")
            elapsed = time.time() - sent
            self.assertGreaterEqual(elapsed, 2.0)
            # Within a second of the TTL, by the daemon's own clock: the
            # transition's time against the last report (the client's
            # polling would add the machine's load to the figure).
            went_stale = c["history"][-1]["time"] - c["last_report"]
            self.assertGreaterEqual(went_stale, 2.0)
            self.assertLessEqual(went_stale, 3.05)
            self.assertEqual(c["status"], "critical")
            self.assertEqual(c["output"], "stale: no report for 2s")
            self.assertEqual(c["history"][-1]["from"], "ok")
            self.assertEqual(c["history"][-1]["to"], "critical")
            self.assertEqual(d.wait_value("vitals_check_status", 2,
                                          service="cron", check="job",
                                          instance_id="127.0.0.1"), 2)
            # a report brings it back
            d.send_udp('{"service":"cron","check":"job","status":"ok"}')
            self.assertFalse(wait_check(d, "cron", "job",
                                        status="ok")["stale"])

    def test_worst_of_and_every_instance_stale(self):
        with Vitalsd() as d:
            d.send_udp(json.dumps([
                {"service": "w", "check": "a", "status": "ok"},
                {"service": "w", "check": "b", "status": "unknown"},
                {"service": "u", "check": "a", "status": "ok"},
                {"service": "u", "check": "b", "status": "unknown"},
                {"service": "c", "check": "a", "status": "warning"},
                {"service": "c", "check": "b", "status": "critical"},
                {"service": "c", "check": "c", "status": "unknown"},
                {"service": "gone", "instance": "g1", "check": "x",
                 "status": "ok", "ttl": 1},
                {"service": "gone", "instance": "g2", "check": "x",
                 "status": "ok", "ttl": 2}]))
            wait_check(d, "c", "c")
            self.assertEqual(service(d, "u")["status"], "unknown")
            self.assertEqual(service(d, "c")["status"], "critical")
            d.send_udp('{"service":"w","check":"b","status":"warning"}')
            wait_for(lambda: service(d, "w")["status"] == "warning",
                     what="w warning")
            self.assertEqual(d.wait_value("vitals_service_status", 2,
                                          service="c"), 2)

            def half():
                s = service(d, "gone")
                inst = {i["instance"]: i["stale"] for i in s["instances"]}
                return s if inst == {"g1": True, "g2": False} else None
            s = wait_for(half, timeout=5, what="g1 stale, g2 fresh")
            self.assertFalse(s["stale"])
            wait_for(lambda: service(d, "gone")["stale"], timeout=5,
                     what="every instance stale")
            listed = {x["name"]: x for x in
                      d.get("/api/v1/services").json()["services"]}
            self.assertTrue(listed["gone"]["stale"])
            self.assertEqual(listed["gone"]["status"], "critical")
            self.assertEqual(listed["c"]["counts"],
                             {"ok": 0, "warning": 1, "critical": 1,
                              "unknown": 1})


class Persistence(TestCase):
    def test_sigterm_restart_keeps_state(self):
        d1 = Vitalsd()
        try:
            d1.start()
            d1.send_udp(json.dumps({"service": "db", "instance": "db-1",
                                    "check": "repl", "status": "warning",
                                    "output": "lag 3s", "ttl": "1h"}))
            before = wait_check(d1, "db", "repl", status="warning")
            self.assertEqual(d1.stop(), 0)
            self.assertTrue(os.path.exists(
                os.path.join(d1.data_dir, "health.json")))
            with Vitalsd(args=["--data-dir", d1.data_dir]) as d2:
                c = check_of(d2, "db", "repl")
                self.assertIsNotNone(c, "check lost over a restart")
                for k in ("status", "output", "ttl", "instance",
                          "first_seen", "last_report", "last_change"):
                    self.assertEqual(c[k], before[k], k)
                self.assertIn("restored 1 checks", d2.log_text())
        finally:
            d1.cleanup()

    def test_kill9_loses_at_most_the_save_interval(self):
        cfg = {"health": {"save_interval": "1s"}}
        d1 = Vitalsd(config=cfg)
        try:
            d1.start()
            d1.send_udp('{"service":"k","check":"saved","status":"ok"}')
            wait_check(d1, "k", "saved")
            time.sleep(2.5)                 # more than one save interval
            d1.send_udp('{"service":"k","check":"late","status":"ok"}')
            d1.stop(sig=signal.SIGKILL)
            with Vitalsd(config=cfg, args=["--data-dir", d1.data_dir]) as d2:
                self.assertIsNotNone(check_of(d2, "k", "saved"))
        finally:
            d1.cleanup()

    def test_corrupt_state_file_is_set_aside(self):
        d = Vitalsd()
        try:
            os.makedirs(d.data_dir)
            with open(os.path.join(d.data_dir, "health.json"), "w") as f:
                f.write('{"format": "vitals-health", "version": 1, '
                        '"checks": [{"service": "tr')
            d.start()
            self.assertEqual(d.get("/api/v1/services").json()["services"],
                             [])
            aside = glob.glob(os.path.join(d.data_dir,
                                           "health.json.corrupt-*"))
            self.assertEqual(len(aside), 1)
            self.assertIn("not valid JSON", d.log_text())
            self.assertIn("moved to", d.log_text())
            d.send_udp('{"service":"fresh","check":"x","status":"ok"}')
            wait_check(d, "fresh", "x")
            self.assertEqual(d.stop(), 0)
            d.assert_clean_log()
        finally:
            d.cleanup()


class DeleteAndEvents(TestCase):
    def test_delete_forgets_checks_and_metrics(self):
        with Vitalsd() as d:
            d.send_udp('{"service":"old","check":"x","status":"ok"}')
            d.send_udp("old.requests:1|c")
            d.send_udp('{"service":"keep","check":"x","status":"ok"}')
            wait_for(lambda: (service(d, "old") or {}).get("metrics"),
                     what="old has metrics")
            r = http("DELETE", d.url("/api/v1/services/old"))
            self.assertEqual(r.status, 202)
            self.assertEqual(r.json(), {"service": "old", "forgotten": True})
            wait_for(lambda: service(d, "old") is None, timeout=5,
                     what="old gone")
            self.assertIsNotNone(service(d, "keep"))
            self.assertIsNone(d.value("vitals_service_status",
                                      service="old"))
            self.assertEqual(http("DELETE",
                                  d.url("/api/v1/services/old")).status, 404)

    def test_delete_leaves_every_view_at_once(self):
        # A metric-only service and one with checks and metrics: once
        # DELETE has answered, neither the list, the service page nor the
        # overview shows them, without waiting for the next flush.
        with Vitalsd() as d:
            d.send_udp("onlymetrics.requests:1|c")
            d.send_udp("onlymetrics.http.get:12|ms")
            d.send_udp('{"service":"withchecks","check":"db",'
                       '"status":"ok"}')
            d.send_udp("withchecks.queue.depth:3|g")
            d.send_udp('{"service":"stays","check":"x","status":"ok"}')
            d.send_udp("stays.requests:1|c")

            def listed():
                names = {s["name"] for s in
                         d.get("/api/v1/services").json()["services"]}
                page = d.get("/").text
                return {n for n in ("onlymetrics", "withchecks", "stays")
                        if n in names and n in page and
                        (service(d, n) or {}).get("metrics")}
            wait_for(lambda: len(listed()) == 3, timeout=10,
                     what="three services listed with metrics")
            for name in ("onlymetrics", "withchecks"):
                r = http("DELETE", d.url("/api/v1/services/" + name))
                self.assertEqual(r.status, 202, r.text)
                names = {s["name"] for s in
                         d.get("/api/v1/services").json()["services"]}
                self.assertNotIn(name, names)
                self.assertIn("stays", names)
                self.assertEqual(d.get("/api/v1/services/" + name).status,
                                 404)
                page = d.get("/").text
                self.assertNotIn(name, page)
                self.assertIn("stays", page)
                self.assertEqual(d.get("/services/" + name).status, 404)
            # and a window that closes later does not bring them back
            time.sleep(2.2)
            names = {s["name"] for s in
                     d.get("/api/v1/services").json()["services"]}
            self.assertEqual(names & {"onlymetrics", "withchecks"}, set())
            self.assertNotIn("onlymetrics", d.get("/").text)

    def test_sse_pushes_status_changes(self):
        with Vitalsd() as d:
            d.send_udp('{"service":"web","check":"http","status":"ok"}')
            wait_check(d, "web", "http")
            events = queue.Queue()

            def reader():
                req = urllib.request.Request(d.url("/api/v1/events"))
                with urllib.request.urlopen(req, timeout=30) as r:
                    events.put(("headers", r.headers["Content-Type"]))
                    name = None
                    for raw in r:
                        line = raw.decode().rstrip("\n")
                        if line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("data: "):
                            events.put((name, json.loads(line[6:])))
                            if name == "status":
                                return
            t = threading.Thread(target=reader, daemon=True)
            t.start()
            kind, ctype = events.get(timeout=10)
            self.assertTrue(ctype.startswith("text/event-stream"))
            kind, hello = events.get(timeout=10)
            self.assertEqual(kind, "hello")
            self.assertEqual(hello["services"],
                             [{"name": "web", "status": "ok",
                               "stale": False}])
            d.send_udp('{"service":"web","check":"http","status":2,'
                       '"output":"502 from upstream"}')
            kind, ev = events.get(timeout=10)
            self.assertEqual(kind, "status")
            self.assertEqual((ev["service"], ev["check"], ev["status"],
                              ev["previous"], ev["service_status"],
                              ev["output"], ev["stale"]),
                             ("web", "http", "critical", "ok", "critical",
                              "502 from upstream", False))
            t.join(timeout=10)


class Exposition(TestCase):
    def test_metrics_pass_promtool(self):
        with Vitalsd() as d:
            d.send_udp(json.dumps([
                {"service": 'we"ird\\svc', "instance": "h\u00e9\u00e9",
                 "check": "sp ace/\u00fc", "status": 0},
                {"service": "pay", "check": "db", "status": "critical"}]))
            self.assertEqual(d.wait_value("vitals_service_status", 2,
                                          service="pay"), 2)
            text = d.metrics_text()
            for family in ("vitals_check_status", "vitals_service_status",
                           "vitals_check_age_seconds", "vitals_checks",
                           "vitals_checks_received_total"):
                self.assertIn("# TYPE %s " % family, text)
            self.assertEqual(d.value("vitals_checks"), 2.0)
            self.assertIn('vitals_check_status{service="we\\"ird\\\\svc",'
                          'instance_id="h\u00e9\u00e9",check="sp ace/\u00fc"}'
                          ' 0\n', text)
            p = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class Clients(TestCase):
    def test_vitals_send(self):
        tmp = tempfile.mkdtemp(prefix="vitals-send-")
        try:
            # The one `make` built (with the static client library), or,
            # run by hand, a fresh build of the same sources.
            exe = os.environ.get("VITALS_SEND")
            if not exe:
                cc = shutil.which("cc")
                if cc is None:
                    self.skipTest("no C compiler")
                exe = os.path.join(tmp, "vitals-send")
                subprocess.run([cc, "-std=c11", "-O2", "-iquote",
                                os.path.join(ROOT, "include"), "-o", exe,
                                os.path.join(ROOT, "contrib", "vitals-send.c"),
                                os.path.join(ROOT, "contrib", "client",
                                             "vitals_client.c"), "-lm"],
                               check=True, timeout=60)
            with Vitalsd() as d:
                env = dict(os.environ, VITALS_PORT=str(d.statsd_port))
                run = lambda *a, **kw: subprocess.run(  # noqa: E731
                    [exe] + list(a), env=env, capture_output=True,
                    text=True, timeout=10, **kw)
                r = run("check", "backup", "nightly", "ok", "--ttl", "26h",
                        "--output", "3.2 GB")
                self.assertEqual(r.returncode, 0, r.stderr)
                c = wait_check(d, "backup", "nightly", status="ok")
                self.assertEqual((c["ttl"], c["output"]), (93600, "3.2 GB"))
                r = run("--http", d.url(""), "check", "backup", "weekly",
                        "critical", "-i", "nas-2", "-o", "-",
                        input="disk full\n")
                self.assertEqual(r.returncode, 0, r.stderr)
                c = wait_check(d, "backup", "weekly", "nas-2", "critical")
                self.assertEqual(c["output"], "disk full")
                r = run("timing", "backup", "duration", "1500")
                self.assertEqual(r.returncode, 0, r.stderr)
                d.wait_value("duration_seconds_count", 1.0, service="backup")
                r = run("check", "backup", "x", "fine")
                self.assertEqual(r.returncode, 2)
                self.assertIn("not a status", r.stderr)
                r = run("--http", d.url(""), "check", "a\nb", "x", "ok")
                self.assertEqual(r.returncode, 1)
                self.assertIn("HTTP 400", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_hot_shots_check(self):
        """Node's hot-shots DogStatsD client, installed from npm if it can
        be (skipped offline)."""
        node, npm = shutil.which("node"), shutil.which("npm")
        if not node or not npm:
            self.skipTest("node/npm not installed")
        tmp = tempfile.mkdtemp(prefix="vitals-hotshots-")
        try:
            p = subprocess.run([npm, "install", "--silent", "--no-audit",
                                "--no-fund", "hot-shots@10"], cwd=tmp,
                               capture_output=True, text=True, timeout=180)
            if p.returncode != 0:
                self.skipTest("npm install hot-shots failed: " +
                              p.stderr[-300:])
            with Vitalsd() as d:
                script = (
                    "const S = require('hot-shots');"
                    "const c = new S({host: '127.0.0.1', port: %d});"
                    "c.check('billing.broker', c.CHECKS.WARNING,"
                    " {hostname: 'bill-1', message: 'lag 5s'}, ['ttl:90s']);"
                    "c.check('ping', c.CHECKS.OK, {}, ['service:edge']);"
                    "c.close(() => {});" % d.statsd_port)
                subprocess.run([node, "-e", script], cwd=tmp, check=True,
                               timeout=30)
                c = wait_check(d, "billing", "broker", "bill-1", "warning")
                self.assertEqual((c["output"], c["ttl"]), ("lag 5s", 90))
                wait_check(d, "edge", "ping", status="ok")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
