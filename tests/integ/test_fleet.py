"""A fleet of sharded collectors (docs/amqp.md, "Fleet"), end to end: a
real RabbitMQ node (rabbit.py), two collectors "a" and "b" on one
consistent-hash exchange, one relay, 30 services sending checks and
metrics through the relay. Health reaches every collector, metrics stay
with one; pages work from either (Chromium); a status change pages once
fleet-wide, also across a restart; a stopped collector is shown gone and
its services not updated; a real Prometheus finds both through
/api/v1/sd.

One broker, one relay and the two collectors serve the whole module; the
tests run in order (their names are numbered) and the last one stops b."""
import http.client
import json
import os
import stat
import tempfile
import shutil
import unittest

import browser
from harness import TestCase, Vitalsd, wait_for
from harness import http as request
from rabbit import Broker
from test_prometheus_server import Prometheus
from test_service_page import load_images

SERVICES = ["fs%02d" % i for i in range(30)]
STATUS = {s: ("ok", "warning", "critical")[i % 3]
          for i, s in enumerate(SERVICES)}
ANNOUNCE = "500ms"


def collector(name, broker, hook):
    return Vitalsd(args=["--amqp", broker.url], config={
        "amqp": {"exchange": "x.fleet", "queue": "q.fleet." + name,
                 "hash_exchange": "x.fleet.hash",
                 "reconnect_min": "100ms", "reconnect_max": "1s"},
        "fleet": {"exchange": "x.fleet.members", "name": name,
                  "announce": ANNOUNCE},
        "alerts": {"rules": [], "hooks": [
            {"name": "script", "type": "exec", "argv": [hook, name],
             "timeout": "5s"}]},
    })


def relay(broker):
    return Vitalsd(args=["--relay", "--amqp", broker.url], config={
        "amqp": {"exchange": "x.fleet", "hash_exchange": "x.fleet.hash",
                 "reconnect_min": "100ms", "reconnect_max": "1s"},
        "relay": {"batch_interval": "200ms"}}, flush=None)


def services(d):
    return {s["name"]: s for s in d.get("/api/v1/services").json()[
        "services"]}


def collectors(d):
    return {c["name"]: c for c in d.get("/api/v1/collectors").json()[
        "collectors"]}


def status_code(d, path):
    """(status, Location) without following a redirect."""
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Location")
    finally:
        c.close()


class Fleet(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vitals-fleet-")
        cls.hook_log = os.path.join(cls.tmp, "hooks.log")
        cls.hook = os.path.join(cls.tmp, "hook.sh")
        with open(cls.hook, "w") as f:
            f.write("#!/bin/sh\nbody=$(cat)\nprintf '%%s\\t%%s\\t%%s\\t%%s\\n'"
                    " \"$1\" \"$VITALS_STATE\" \"$VITALS_SERVICE\" "
                    "\"$VITALS_REMINDER\" >> '%s'\n" % cls.hook_log)
        os.chmod(cls.hook, stat.S_IRWXU)
        cls.broker = Broker().start()
        cls.a = collector("a", cls.broker, cls.hook)
        cls.b = collector("b", cls.broker, cls.hook)
        cls.r = relay(cls.broker)
        for d in (cls.a, cls.b, cls.r):
            d.start()
        # both collectors know each other before anything is sent
        for d in (cls.a, cls.b):
            wait_for(lambda d=d: all(
                c["state"] == "up" for c in collectors(d).values())
                and len(collectors(d)) == 2, timeout=30,
                what="both collectors up")
        wait_for(lambda: '"amqp":"connected"' in cls.r.get("/healthz").text,
                 timeout=20, what="relay connected")
        cls.send_all()

    @classmethod
    def send_all(cls, statuses=None):
        lines = []
        for s in SERVICES:
            code = {"ok": 0, "warning": 1, "critical": 2}[
                (statuses or STATUS)[s]]
            lines.append("%s.hits:1|c" % s)
            lines.append("_sc|%s.db|%d|#ttl:10m|m:%s" % (s, code, s))
        for i in range(0, len(lines), 20):
            cls.r.send_udp("\n".join(lines[i:i + 20]))

    @classmethod
    def tearDownClass(cls):
        for d in (cls.r, cls.a, cls.b):
            d.stop()
            d.cleanup()
        cls.broker.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def hook_events(self):
        try:
            with open(self.hook_log) as f:
                return [tuple(line.split("\t")[:3])
                        for line in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def sent(self, state):
        """Notifications sent by both collectors (counted when sent)."""
        return sum(d.value("vitals_alert_notifications_total", state=state)
                   or 0 for d in (self.a, self.b))

    def owners(self):
        """{service: "a" or "b"}: where its hits are counted."""
        ma, mb = self.a.metrics(), self.b.metrics()
        out = {}
        for s in SERVICES:
            key = ("hits_total", frozenset({"service": s}.items()))
            on = [n for n, m in (("a", ma), ("b", mb)) if m.get(key)]
            self.assertLessEqual(len(on), 1, "%s counted on %s" % (s, on))
            if on:
                out[s] = on[0]
        return out

    def wait_owners(self):
        return wait_for(lambda: (lambda o: o if len(o) == 30 else None)(
            self.owners()), timeout=30, what="every service counted")

    def test_1_every_collector_lists_every_service_with_its_status(self):
        for d in (self.a, self.b):
            got = wait_for(lambda d=d: (lambda v: v if all(
                s in v and v[s]["checks"] == 1 for s in SERVICES) else None)(
                services(d)), timeout=30, what="30 services with a check")
            for s in SERVICES:
                self.assertEqual(got[s]["status"], STATUS[s], s)
                self.assertFalse(got[s]["stale"], s)
                self.assertIn(got[s]["owner"], ("a", "b"))
                self.assertEqual(got[s]["owner_state"], "up")

    def test_2_metrics_and_check_series_on_exactly_one_collector(self):
        owners = self.wait_owners()
        self.assertEqual(set(owners.values()), {"a", "b"},
                         "one collector holds every service")
        ma, mb = self.a.metrics(), self.b.metrics()
        for s in SERVICES:
            key = ("vitals_service_status", frozenset({"service": s}.items()))
            on = [n for n, m in (("a", ma), ("b", mb)) if key in m]
            self.assertEqual(on, [owners[s]], s)
        # the health API agrees with where the metrics are
        sa = services(self.a)
        for s in SERVICES:
            self.assertEqual(sa[s]["owner"], owners[s], s)

    def test_3_pages_of_the_other_collectors_services_work_from_either(self):
        owners = self.wait_owners()
        on_b = next(s for s in SERVICES if owners[s] == "b")
        on_a = next(s for s in SERVICES if owners[s] == "a")
        # the metrics' owner must have announced them: wait for the 307
        code, loc = wait_for(lambda: (lambda r: r if r[0] == 307 else None)(
            status_code(self.a, "/services/%s?range=1h" % on_b)),
            timeout=15, what="a forwards " + on_b)
        self.assertEqual(loc, self.b.url("/services/%s?range=1h" % on_b))
        code, loc = status_code(self.a, "/graph/%s/hits.svg" % on_b)
        self.assertEqual((code, loc), (307, self.b.url(
            "/graph/%s/hits.svg" % on_b)))
        self.assertEqual(status_code(self.a, "/services/" + on_a)[0], 200)
        detail = self.a.get("/api/v1/services/" + on_b).json()
        self.assertEqual(detail["owner"], "b")
        self.assertEqual(detail["metrics_at"], self.b.url(""))
        if not browser.available():
            self.skipTest("chromium not installed")
        with browser.Browser(1920, 1080) as br:
            for d, s, home in ((self.a, on_b, self.b), (self.b, on_a, self.a)):
                br.open(d.url("/services/" + s))
                self.assertEqual(br.eval("location.origin"),
                                 home.url("").rstrip("/"))
                wait_for(lambda: br.eval(
                    "document.querySelectorAll('.graph img').length") > 0,
                    what="graphs of " + s)
                self.assertEqual(load_images(br), [])

    def test_4_prometheus_finds_both_collectors_through_sd(self):
        sd = self.a.get("/api/v1/sd").json()
        self.assertEqual(sorted(g["labels"]["collector"] for g in sd),
                         ["a", "b"])
        # the example config of contrib/, pointed at a and b
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "..", "contrib",
                               "prometheus-fleet.yml")) as f:
            config = f.read()
        config = (config.replace("15s", "1s")
                  .replace("refresh_interval: 30s", "refresh_interval: 1s")
                  .replace("http://collector-a:8080", self.a.url(""))
                  .replace("http://collector-b:8080", self.b.url("")))
        config = config.replace("global:\n", "global:\n  scrape_timeout: 1s\n")
        prom = Prometheus(None, config_text=config)
        try:
            for name in ("a", "b"):
                prom.wait_value("up", 1.0, collector=name)
            targets = prom.api("targets")["activeTargets"]
            self.assertEqual(sorted(t["labels"]["collector"]
                                    for t in targets), ["a", "b"])
        finally:
            prom.stop()

    def test_4b_hostile_fleet_messages_are_refused_and_counted(self):
        x = "x.fleet.members"
        bad = [
            ({}, "[]", "headers"),                         # no origin
            ({"x-vitals-origin": "a b", "x-vitals-kind": "checks"}, "[]",
             "headers"),                                   # bad name
            ({"x-vitals-origin": "zz", "x-vitals-kind": "gossip"}, "[]",
             "headers"),                                   # bad kind
            ({"x-vitals-origin": "zz", "x-vitals-kind": "announce"},
             '{"name": "zz", "url": "javascript:alert(1)", "started": 1,'
             ' "announce": 5, "services": []}', "bad_announce"),
            ({"x-vitals-origin": "zz", "x-vitals-kind": "announce"},
             '{"name": "yy", "url": "http://yy:1", "started": 1,'
             ' "announce": 5, "services": []}', "bad_announce"),  # not its
        ]
        def rejected(d, reason):
            return d.value("vitals_fleet_messages_rejected_total",
                           reason=reason) or 0
        before = {(d.http_port, r): rejected(d, r) for d in (self.a, self.b)
                  for r in ("headers", "bad_announce")}
        for headers, body, _ in bad:
            self.broker.publish(body, "", exchange=x, headers=headers,
                                content_type="application/json")
        for d in (self.a, self.b):
            for reason in ("headers", "bad_announce"):
                n = sum(1 for _, _, r in bad if r == reason)
                wait_for(lambda d=d, reason=reason, n=n: rejected(d, reason)
                         == before[(d.http_port, reason)] + n, timeout=15,
                         what="%s rejected" % reason)
            self.assertNotIn("zz", collectors(d))
            self.assertNotIn("yy", collectors(d))
        # a check body from the fleet goes through the check parser: the
        # good entry is applied, the bad one (no service) is not
        self.broker.publish(json.dumps([
            {"service": "forged", "check": "c", "status": "ok",
             "instance": "i"}, {"service": "", "check": "c",
                                "status": "ok"}]), "", exchange=x,
            headers={"x-vitals-origin": "zz", "x-vitals-kind": "checks"},
            content_type="application/json")
        for d in (self.a, self.b):
            got = wait_for(lambda d=d: services(d).get("forged"),
                           timeout=15, what="the forged check applied")
            # its origin never announced itself: not updated, and not in
            # this collector's /metrics
            self.assertEqual((got["owner"], got["owner_state"],
                              got["stale"]), ("zz", "unknown", True))
            self.assertNotIn(("vitals_service_status", frozenset(
                {"service": "forged"}.items())), d.metrics())
        # the forged service is forgotten again on both
        for d in (self.a, self.b):
            request("DELETE", d.url("/api/v1/services/forged"))
            self.assertNotIn("forged", services(d))

    def test_5_a_status_change_pages_once_fleet_wide_across_a_restart(self):
        non_ok = [s for s in SERVICES if STATUS[s] != "ok"]

        def firing():
            return sorted(s for who, state, s in self.hook_events()
                          if state == "firing")
        wait_for(lambda: firing() == sorted(non_ok), timeout=30,
                 what="one firing per non-ok service (got %r)" % firing())
        # every collector decided: the other one recorded each transition
        wait_for(lambda: (self.a.value(
            "vitals_alert_notifications_skipped_total") or 0) + (self.b.value(
                "vitals_alert_notifications_skipped_total") or 0)
            == len(non_ok), timeout=20, what="the other side recorded")
        self.assertEqual(firing(), sorted(non_ok))
        self.assertEqual(self.sent("firing"), len(non_ok))
        owners = self.wait_owners()
        for who, state, s in self.hook_events():
            self.assertEqual(who, owners[s], "%s paged by %s" % (s, who))

        # restart a: it comes back with its alerts, sends nothing again
        self.a.restart()
        wait_for(lambda: collectors(self.b)["a"]["state"] == "up"
                 and collectors(self.a).get("b", {}).get("state") == "up",
                 timeout=30, what="a back in the fleet")
        self.send_all()     # the same statuses again: no transition
        fixed = {s: "ok" for s in SERVICES}
        self.send_all(fixed)

        def resolved():
            return sorted(s for who, state, s in self.hook_events()
                          if state == "resolved")
        wait_for(lambda: resolved() == sorted(non_ok), timeout=30,
                 what="one resolved per service (got %r)" % resolved())
        for d in (self.a, self.b):
            wait_for(lambda d=d: all(v["status"] == "ok" for v in
                                     services(d).values()
                                     if v["name"] in STATUS),
                     timeout=20, what="all ok")
        # both decided every resolution (counted as they decide)
        self.assertEqual(self.sent("resolved"), len(non_ok))
        self.assertEqual(firing(), sorted(non_ok))
        self.assertEqual(resolved(), sorted(non_ok))
        for who, state, s in self.hook_events():
            self.assertEqual(who, owners[s], "%s paged by %s" % (s, who))

    def test_6_a_stopped_collector_is_gone_and_its_services_not_updated(self):
        owners = self.wait_owners()
        on_b = sorted(s for s in SERVICES if owners[s] == "b")
        self.assertEqual(self.b.stop(), 0, self.b.log_text())
        self.b.assert_clean_log()
        wait_for(lambda: collectors(self.a)["b"]["state"] == "gone",
                 timeout=20, what="b gone")
        got = services(self.a)
        for s in SERVICES:
            self.assertIn(s, got, "%s dropped" % s)
            if s in on_b:
                self.assertTrue(got[s]["stale"], s)
                self.assertEqual((got[s]["owner"], got[s]["owner_state"]),
                                 ("b", "gone"), s)
            else:
                self.assertFalse(got[s]["stale"], s)
        page = self.a.get("/").text
        self.assertIn("NOT UPDATED", page)
        self.assertIn("metrics on collector b (gone)", page)
        sd = self.a.get("/api/v1/sd").json()
        self.assertEqual([g["labels"]["collector"] for g in sd], ["a"])
        # with b gone, a page for its service is a's own page again
        self.assertEqual(status_code(self.a, "/services/" + on_b[0])[0], 200)

    def test_7_the_others_stop_cleanly(self):
        for d in (self.r, self.a):
            self.assertEqual(d.stop(), 0, d.log_text())
            d.assert_clean_log()
        # nothing hostile came over the fleet exchange in this run
        self.assertNotIn("another collector is named", self.a.log_text())


if __name__ == "__main__":
    unittest.main()
