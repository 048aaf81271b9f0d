"""Expectations end to end through the real binary (docs/alerts.md,
"Expectations"): real statsd traffic from Debian's python3-statsd client
(and raw lines over UDP) against a config with an "expectations" section.
The check expect:<name> of the service holds (ok, with the statistic in
its output), fails only once it has failed for its `for` and then fires a
check alert, recovers at once, says so when there is no traffic (unknown
after `for`, and "no traffic yet" before any), shows in
/api/v1/services/<s>, in vitals_check_status and on the service page;
--check-config refuses a bad entry naming file and key; SIGHUP reloads."""
import json
import signal
import threading
import time

import statsd          # Debian's python3-statsd: a real client

from harness import TestCase, Vitalsd, run_vitalsd, wait_for

FAST = {"name": "fast", "service": "pay", "metric": "http.get",
        "stat": "p99", "op": "<", "value": 250, "for": "3s"}


def config(*expectations, rules=()):
    c = {"expectations": list(expectations)}
    if rules:
        c["alerts"] = {"rules": list(rules)}
    return c


def check_of(d, svc, check):
    r = d.get("/api/v1/services/" + svc)
    if r.status != 200:
        return None
    for c in r.json()["checks"]:
        if c["check"] == check:
            return c
    return None


def wait_check(d, svc, check, status, timeout=10, output=None):
    def ok():
        c = check_of(d, svc, check)
        if c and c["status"] == status and (output is None
                                            or output in c["output"]):
            return c
        return None
    return wait_for(ok, timeout=timeout,
                    what="%s/%s %s %r" % (svc, check, status, output))


class Pump:
    """Sends a timing through python3-statsd every 0.1 s from a thread;
    `ms` can change on the fly, None stops sending."""

    def __init__(self, d, ms):
        self.client = statsd.StatsClient("127.0.0.1", d.statsd_port,
                                         prefix="pay")
        self.ms = ms
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            ms = self.ms
            if ms is not None:
                self.client.timing("http.get", ms)
            time.sleep(0.1)

    def close(self):
        self.stop.set()
        self.thread.join()


class Expectations(TestCase):
    def pump(self, d, ms):
        p = Pump(d, ms)
        self.addCleanup(p.close)
        return p

    def test_holds_and_shows_everywhere(self):
        with Vitalsd(config=config(FAST)) as d:
            self.pump(d, 120)
            c = wait_check(d, "pay", "expect:fast", "ok",
                           output="p99 120 ms")
            self.assertEqual(c["output"], "p99 120 ms, expected < 250 ms")
            self.assertEqual(c["instance"], "vitalsd")
            self.assertLessEqual(c["ttl"], 10)
            self.assertEqual(d.get("/api/v1/services/pay").json()["status"],
                             "ok")
            self.assertEqual(d.value("vitals_check_status", service="pay",
                                     instance_id="vitalsd",
                                     check="expect:fast"), 0)
            page = d.get("/services/pay").text
            self.assertIn("expect:fast", page)
            self.assertIn("p99 120 ms, expected &lt; 250 ms", page)
            # The collector's own "vitalsd" is listed with the instances
            # but not counted as one: with one real instance reporting,
            # the service has 1 instance on the API, its page and the
            # overview's tile.
            d.send_udp(json.dumps({"service": "pay", "instance": "pay-1",
                                   "check": "db", "status": "ok",
                                   "ttl": 60}))
            wait_check(d, "pay", "db", "ok")
            [svc] = [x for x in d.get("/api/v1/services").json()["services"]
                     if x["name"] == "pay"]
            self.assertEqual(svc["instances"], 1)
            self.assertEqual(
                sorted(i["instance"] for i in
                       d.get("/api/v1/services/pay").json()["instances"]),
                ["pay-1", "vitalsd"])
            self.assertIn("2 checks \u00b7 1 instance \u00b7",
                          d.get("/services/pay").text)
            self.assertIn("1 instance</span>", d.get("/").text)

    def test_fails_for_its_for_fires_an_alert_and_recovers(self):
        rule = {"name": "expectation", "type": "check",
                "check": "expect:fast"}
        with Vitalsd(config=config(FAST, rules=[rule])) as d:
            p = self.pump(d, 100)
            wait_check(d, "pay", "expect:fast", "ok", output="p99 100 ms")
            t0 = time.time()
            p.ms = 312
            # Failing, but not yet for 3 s: still ok, and it says so.
            c = wait_check(d, "pay", "expect:fast", "ok",
                           output="failing for")
            # (the first window may mix 100 ms and 312 ms samples)
            self.assertRegex(c["output"], r"^p99 \d+ ms, expected < 250 ms; "
                             r"failing for \d+s, warning after 3s$")
            self.assertEqual(d.get("/api/v1/alerts").json()["alerts"], [])
            c = wait_check(d, "pay", "expect:fast", "warning")
            held = time.time() - t0
            # the first failing window may have begun up to 1 s earlier
            self.assertGreaterEqual(held, 2.0)
            self.assertLess(held, 6.0)
            self.assertRegex(c["output"], r"^p99 312 ms, expected < 250 ms; "
                             r"failing for \d+s$")
            self.assertEqual(d.get("/api/v1/services/pay").json()["status"],
                             "warning")
            d.wait_value("vitals_check_status", 1, service="pay",
                         instance_id="vitalsd", check="expect:fast")
            alerts = wait_for(lambda: d.get("/api/v1/alerts").json()
                              ["alerts"], what="the check alert")
            self.assertEqual(alerts[0]["alert"], "expectation")
            self.assertEqual(alerts[0]["check"], "expect:fast")
            self.assertEqual(alerts[0]["status"], "warning")
            # Recovers within a window or two, and the alert resolves.
            t1 = time.time()
            p.ms = 90
            wait_check(d, "pay", "expect:fast", "ok", output="p99 90 ms")
            self.assertLess(time.time() - t1, 3.5)
            wait_for(lambda: d.get("/api/v1/alerts").json()["alerts"] == [],
                     what="the alert resolved")
            self.assertIn("expectation firing", d.log_text())
            self.assertIn("expectation resolved", d.log_text())

    def test_a_single_bad_window_is_not_a_failure(self):
        with Vitalsd(config=config(FAST)) as d:
            p = self.pump(d, 100)
            wait_check(d, "pay", "expect:fast", "ok", output="p99 100 ms")
            p.ms = 900
            time.sleep(0.6)
            p.ms = 100
            deadline = time.time() + 4
            while time.time() < deadline:
                self.assertEqual(check_of(d, "pay", "expect:fast")["status"],
                                 "ok")
                time.sleep(0.2)

    def test_no_traffic_says_so_and_is_unknown_after_for(self):
        idle = {"name": "orders", "service": "pay", "metric": "orders",
                "stat": "rate", "op": ">", "value": 0}
        with Vitalsd(config=config(FAST, idle)) as d:
            # Never any traffic: unknown from the first window, not ok.
            c = wait_check(d, "pay", "expect:orders", "unknown")
            self.assertEqual(c["output"], "no orders traffic yet, expected "
                             "rate > 0/s")
            # Raw statsd lines: a counter holds while it counts.
            d.send_udp("pay.orders:2|c\npay.http.get:80|ms")
            wait_check(d, "pay", "expect:orders", "ok", output="rate 2/s")
            p = self.pump(d, 80)
            wait_check(d, "pay", "expect:fast", "ok", output="p99 80 ms")
            t0 = time.time()
            p.ms = None                       # traffic stops
            c = wait_check(d, "pay", "expect:fast", "ok",
                           output="no http.get traffic for")
            self.assertRegex(c["output"], r"^no http\.get traffic for \d+s, "
                             r"expected p99 < 250 ms; unknown after 3s$")
            c = wait_check(d, "pay", "expect:fast", "unknown")
            self.assertGreaterEqual(time.time() - t0, 2.0)
            self.assertRegex(c["output"], r"^no http\.get traffic for \d+s, "
                             r"expected p99 < 250 ms$")
            self.assertEqual(d.value("vitals_check_status", service="pay",
                                     instance_id="vitalsd",
                                     check="expect:fast"), 3)
            # Traffic again: ok again.
            p.ms = 50
            wait_check(d, "pay", "expect:fast", "ok", output="p99 50 ms")

    def test_sighup_adds_and_removes_expectations(self):
        with Vitalsd(config=config(FAST)) as d:
            self.pump(d, 120)
            wait_check(d, "pay", "expect:fast", "ok", output="p99 120 ms")
            path = d.args[d.args.index("-c") + 1]
            slow = dict(FAST, name="slow-enough", op=">", value=500,
                        severity="critical", **{"for": 0})
            with open(path, "w") as f:
                json.dump(config(slow), f)
            d.proc.send_signal(signal.SIGHUP)
            wait_check(d, "pay", "expect:slow-enough", "critical")
            c = wait_check(d, "pay", "expect:fast", "ok",
                           output="expectation removed")
            self.assertEqual(c["output"],
                             "expectation removed from the config")
            self.assertIn("SIGHUP: reloaded 1 expectation (1 before)",
                          d.log_text())
            # A bad section keeps the running ones.
            with open(path, "w") as f:
                f.write('{"expectations": [{"name": "x"}]}')
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "keeping the old expectations" in d.log_text(),
                     what="the reload refused")
            self.assertIn("expectations[0].service: required", d.log_text())
            wait_check(d, "pay", "expect:slow-enough", "critical")

    def test_check_config_refuses_a_bad_entry(self):
        d = Vitalsd(config=config(dict(FAST, stat="p97")))
        self.addCleanup(d.cleanup)
        path = d.args[d.args.index("-c") + 1]
        r = run_vitalsd(["-c", path, "--check-config"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(path, r.stderr)
        self.assertIn("expectations[0].stat: p97 is not one of the "
                      "configured percentiles", r.stderr)
        with open(path, "w") as f:
            json.dump(config(FAST), f)
        r = run_vitalsd(["-c", path, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # The daemon refuses to start on it too.
        with open(path, "w") as f:
            f.write('{"expectations": {"name": "x"}}')
        r = run_vitalsd(["-c", path, "--statsd", "127.0.0.1:0", "--http",
                         "127.0.0.1:0", "--data-dir", d.data_dir])
        self.assertEqual(r.returncode, 2)
        self.assertIn("expectations: expected an array", r.stderr)
