"""AMQP ingest and relay mode (SPEC 3.3, 9), end to end against a real
rabbitmq-server (tests/integ/rabbit.py), publishing with the real
amqp-publish (amqp-tools) and through vitalsd --relay.

One broker serves the whole module (starting one takes seconds); each test
uses its own exchange and queue names so tests never see each other's
messages."""
import json
import re
import subprocess
import time

from harness import TestCase, Vitalsd, free_port, wait_for
from rabbit import Broker

BROKER = None


def setUpModule():
    global BROKER
    BROKER = Broker().start()


def tearDownModule():
    if BROKER is not None:
        BROKER.cleanup()


def amqp_config(name, **extra):
    """Config for exchange/queue names private to one test; quick
    reconnects so broker restarts are short."""
    amqp = {"exchange": "x." + name, "queue": "q." + name,
            "reconnect_min": "100ms", "reconnect_max": "1s"}
    amqp.update(extra)
    return {"amqp": amqp}


def collector(name, url=None, **extra):
    return Vitalsd(args=["--amqp", url or BROKER.url],
                   config=amqp_config(name, **extra))


def relay(name, url=None, **extra):
    cfg = amqp_config(name, **extra)
    cfg["relay"] = {"batch_interval": "200ms"}
    return Vitalsd(args=["--relay", "--amqp", url or BROKER.url],
                   config=cfg, flush=None)


def wait_connected(d, timeout=20):
    wait_for(lambda: '"amqp":"connected"' in d.get("/healthz").text,
             timeout=timeout, what="AMQP connected")


class Consumer(TestCase):

    def test_json_checks_and_statsd_bodies_applied_then_acked(self):
        with collector("apply") as d:
            wait_connected(d)
            BROKER.publish(json.dumps({
                "service": "payments", "instance": "pay-1",
                "check": "cassandra", "status": "warning",
                "output": "2/3 nodes up"}), "payments.health",
                content_type="application/json", exchange="x.apply")
            BROKER.publish("payments.requests:3|c\npayments.http.get:12|ms",
                           "payments.metrics", exchange="x.apply")
            self.assertEqual(d.wait_value("requests_total", 3.0,
                                          service="payments"), 3.0)
            svc = wait_for(lambda: next(
                (s for s in d.get("/api/v1/services").json()["services"]
                 if s["name"] == "payments" and s["checks"] == 1), None),
                what="payments check")
            self.assertEqual(svc["status"], "warning")
            d.wait_value("vitals_amqp_messages_acked_total", 2.0)
            wait_for(lambda: BROKER.queue_messages("q.apply") == 0,
                     what="queue empty (acked)")
            self.assertEqual(d.value("vitals_amqp_connected"), 1.0)

    def test_malformed_messages_rejected_without_requeue_and_counted(self):
        with collector("bad", max_body="1KiB") as d:
            wait_connected(d)
            BROKER.publish("{not json", "a.health",
                           content_type="application/json",
                           exchange="x.bad")
            BROKER.publish("no statsd here\nnor:here", "a.metrics",
                           exchange="x.bad")
            BROKER.publish("a.x:" + "1" * 2000 + "|c", "a.metrics",
                           exchange="x.bad")
            BROKER.publish("a.gz:1|c", "a.metrics", exchange="x.bad",
                           content_encoding="gzip")
            BROKER.publish("a.good:1|c", "a.metrics", exchange="x.bad")
            d.wait_value("good_total", 1.0, service="a")
            for reason in ("bad_json", "bad_statsd", "too_large",
                           "encoding"):
                d.wait_value("vitals_amqp_messages_rejected_total", 1.0,
                             reason=reason)
            self.assertEqual(d.value("vitals_amqp_messages_acked_total"),
                             1.0)
            wait_for(lambda: BROKER.queue_messages("q.bad") == 0,
                     what="rejected messages gone, not requeued")
            # the bad statsd lines were counted as lines too
            self.assertGreaterEqual(d.lines("bad_type"), 1.0)

    def test_published_while_collector_stopped_applied_after_start(self):
        d = collector("offline")
        try:
            d.start()
            wait_connected(d)        # declares the durable queue
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()
        for i in range(20):
            BROKER.publish("batch.jobs:1|c\nbatch.jobs:1|c", "batch.metrics",
                           exchange="x.offline")
        self.assertEqual(BROKER.queue_messages("q.offline"), 20)
        with collector("offline") as d2:
            self.assertEqual(d2.wait_value("jobs_total", 40.0,
                                           service="batch"), 40.0)
            d2.wait_value("vitals_amqp_messages_acked_total", 20.0)
        # SIGTERM acked everything applied: nothing is left or redelivered
        self.assertEqual(BROKER.queue_messages("q.offline"), 0)

    def test_sigterm_acks_exactly_what_was_applied(self):
        def lines_ok_at_exit(d):
            m = re.search(r"(\d+) lines ok since start", d.log_text())
            self.assertIsNotNone(m, d.log_text())
            return int(m.group(1))
        first = collector("term", prefetch=50)
        try:
            first.start()
            wait_connected(first)
            self.assertEqual(first.stop(), 0)
        finally:
            first.cleanup()
        BROKER.publish_lines(["term.n:1|c"] * 600, "term.metrics",
                             exchange="x.term")
        wait_for(lambda: BROKER.queue_messages("q.term") == 600,
                 what="600 queued")
        d = collector("term", prefetch=50)
        try:
            d.start()
            wait_for(lambda: (d.value("vitals_amqp_messages_acked_total")
                              or 0) > 0, interval=0.01, what="first acks")
            self.assertEqual(d.stop(), 0)       # in the middle of it
            applied = lines_ok_at_exit(d)
        finally:
            d.cleanup()
        left = BROKER.queue_messages("q.term")
        # acked == applied: what was not applied is still queued, and
        # nothing applied was left unacked (it would come back twice)
        self.assertEqual(applied + left, 600, "applied %d, left %d"
                         % (applied, left))
        if left > 0:
            with collector("term") as d2:
                d2.wait_value("n_total", float(left), service="term")
        self.assertEqual(BROKER.queue_messages("q.term"), 0)

    def test_broker_down_at_start_keeps_serving_and_hides_password(self):
        url = "amqp://vitals:s3cr3t-pw@127.0.0.1:%d/prod" % free_port()
        with collector("down", url=url) as d:
            text = d.get("/healthz").text
            self.assertRegex(text, r'"amqp":"(disconnected|connecting)"')
            d.send_udp("udp.still.works:1|c")
            d.wait_value("still_works_total", 1.0, service="udp")
            wait_for(lambda: (d.value(
                "vitals_amqp_connect_failures_total") or 0) >= 2,
                what="reconnect attempts with backoff")
            self.assertEqual(d.value("vitals_amqp_connected"), 0.0)
            for page in ("/metrics", "/healthz", "/api/v1/services"):
                self.assertNotIn("s3cr3t", d.get(page).text)
            log = d.log_text()
            self.assertIn("amqp://vitals@127.0.0.1", log)
            self.assertIn("cannot connect", log)
            self.assertNotIn("s3cr3t", log)

    def test_credentials_from_environment(self):
        # guest/guest from the environment, none in the URL
        url = "amqp://127.0.0.1:%d" % BROKER.port
        d = Vitalsd(args=["--amqp", url], config=amqp_config("envcred"),
                    env={"VITALS_AMQP_USER": "guest",
                         "VITALS_AMQP_PASSWORD": "guest"})
        with d:
            wait_connected(d)


class Tls(TestCase):

    def test_amqps_with_ca_verification(self):
        url = "amqps://guest:guest@localhost:%d" % BROKER.tls_port
        d = Vitalsd(args=["--amqp", url], config=amqp_config(
            "tls", ca_cert=BROKER.ca_cert))
        with d:
            wait_connected(d)
            BROKER.publish("tls.ok:1|c", "tls.metrics", exchange="x.tls")
            d.wait_value("ok_total", 1.0, service="tls")

    def test_amqps_refuses_an_unknown_ca(self):
        url = "amqps://guest:guest@localhost:%d" % BROKER.tls_port
        with collector("tlsbad", url=url) as d:   # system CAs only
            wait_for(lambda: (d.value("vitals_amqp_connect_failures_total")
                              or 0) >= 1, what="TLS verification failure")
            self.assertEqual(d.value("vitals_amqp_connected"), 0.0)
            self.assertIn("SSL peer cert verification failed",
                          d.log_text())

    def test_amqps_hostname_must_match(self):
        url = "amqps://guest:guest@127.0.0.1:%d" % BROKER.tls_port
        with collector("tlsname", url=url, ca_cert=BROKER.ca_cert) as d:
            wait_for(lambda: (d.value("vitals_amqp_connect_failures_total")
                              or 0) >= 1, what="hostname mismatch")
            self.assertEqual(d.value("vitals_amqp_connected"), 0.0)
            self.assertIn("SSL hostname verification failed", d.log_text())
        # without the hostname check the same broker is accepted
        with collector("tlsname", url=url, ca_cert=BROKER.ca_cert,
                       verify_hostname=False) as d:
            wait_connected(d)


class Relay(TestCase):

    def test_relay_to_collector_counts_every_line(self):
        with relay("e2e") as r, collector("e2e") as d:
            wait_connected(r)
            wait_connected(d)
            sent = 0
            for i in range(100):
                r.send_udp("\n".join("shop%d.orders:1|c" % (j % 4)
                                     for j in range(20)))
                sent += 20
            r.send_tcp("shop0.orders:1|c\nshop1.orders:1|c\n")
            sent += 2
            r.send_udp(json.dumps([{"service": "shop2", "check": "db",
                                    "status": "critical"}]))
            r.send_udp("not a line\n_e{1,1}:a|b")
            r.wait_value("vitals_relay_lines_confirmed_total", sent + 1.0)
            r.wait_value("vitals_relay_lines_total", 2.0, result="invalid")

            def total():
                return sum(d.value("orders_total", service="shop%d" % k)
                           or 0 for k in range(4))
            wait_for(lambda: total() == sent, what="%d lines" % sent)
            self.assertEqual(d.value("orders_total", service="shop0"),
                             501.0)
            # the JSON check got the sender's address as its instance
            svc = wait_for(lambda: next(
                (s for s in d.get("/api/v1/services/shop2").json().get(
                    "checks", []) if s.get("check") == "db"), None),
                what="shop2 check")
            self.assertEqual(svc["status"], "critical")
            self.assertEqual(svc["instance"], "127.0.0.1")
            # the relay serves only /healthz and /metrics
            self.assertEqual(r.get("/api/v1/services").status, 404)
            self.assertEqual(r.get("/").status, 404)
            # both daemons' text expositions pass promtool; OpenMetrics
            # ends in # EOF (a real Prometheus parses it:
            # test_prometheus_server.py)
            om = {"Accept": "application/openmetrics-text; version=1.0.0"}
            for daemon in (r, d):
                self.assertTrue(daemon.get("/metrics", om).text.endswith(
                    "# EOF\n"))
                p = subprocess.run(["promtool", "check", "metrics"],
                                   input=daemon.metrics_text(),
                                   capture_output=True, text=True)
                self.assertNotIn("error", (p.stdout + p.stderr).lower(),
                                 p.stdout + p.stderr)

    def test_relay_buffer_overflow_is_counted(self):
        url = "amqp://guest:guest@127.0.0.1:%d" % free_port()   # no broker
        cfg = amqp_config("overflow")
        cfg["relay"] = {"batch_interval": "10ms", "buffer": "64KiB",
                        "batch_bytes": "1KiB"}
        r = Vitalsd(args=["--relay", "--amqp", url], config=cfg, flush=None)
        with r:
            for _ in range(200):
                r.send_udp("\n".join("big.line%d:1|c" % j
                                     for j in range(40)))
            wait_for(lambda: (r.value("vitals_relay_batches_dropped_total")
                              or 0) > 0, what="dropped batches")
            buffered = r.value("vitals_relay_buffer_bytes")
            self.assertLessEqual(buffered, 64 * 1024)
            self.assertGreater(r.value("vitals_relay_lines_dropped_total"),
                               0)
            self.assertIn('"amqp":"disconnected"',
                          r.get("/healthz").text.replace(
                              '"connecting"', '"disconnected"'))


class BrokerRestart(TestCase):

    def test_collector_and_relay_reconnect_and_lose_nothing(self):
        with relay("restart") as r, collector("restart") as d:
            wait_connected(r)
            wait_connected(d)
            sent = 0

            def send(n):
                for i in range(n):
                    r.send_udp("\n".join("rs.lines:1|c" for _ in range(10)))
                return n * 10
            sent += send(50)
            r.wait_value("vitals_relay_lines_confirmed_total", float(sent))
            d.wait_value("lines_total", float(sent), service="rs")

            BROKER.stop_node()
            wait_for(lambda: d.value("vitals_amqp_connected") == 0.0,
                     what="collector sees the broker gone")
            # while the broker is away: relay buffers, collector serves UDP
            sent += send(30)
            d.send_udp("rs.direct:1|c")
            d.wait_value("direct_total", 1.0, service="rs")
            self.assertIn('"amqp":"', d.get("/healthz").text)
            BROKER.start_node()

            wait_connected(r, timeout=30)
            wait_connected(d, timeout=30)
            sent += send(20)
            r.wait_value("vitals_relay_lines_confirmed_total", float(sent),
                         timeout=30)
            d.wait_value("lines_total", float(sent), service="rs",
                         timeout=30)
            time.sleep(1.5)      # nothing arrives twice
            self.assertEqual(d.value("lines_total", service="rs"),
                             float(sent))
            self.assertGreaterEqual(
                d.value("vitals_amqp_connection_losses_total"), 1.0)
            self.assertGreaterEqual(d.value("vitals_amqp_connects_total"),
                                    2.0)
            self.assertGreaterEqual(r.value("vitals_amqp_connects_total"),
                                    2.0)


class ConsistentHash(TestCase):

    def test_two_collectors_split_services_none_counted_twice(self):
        def member(q):
            return Vitalsd(args=["--amqp", BROKER.url], config=amqp_config(
                "hash", queue="q.hash." + q, hash_exchange="x.hash.ring"))
        a, b = member("a"), member("b")
        r = relay("hash", hash_exchange="x.hash.ring")
        services = ["svc%02d" % i for i in range(24)]
        with r:
            # Before any collector is on the ring the broker returns the
            # batches (mandatory); the relay keeps and retries them.
            wait_connected(r)
            for s in services:
                r.send_udp("%s.hits:1|c" % s)
            wait_for(lambda: (r.value("vitals_relay_batches_returned_total")
                              or 0) > 0, what="returned batches")
            with a, b:
                for d in (a, b):
                    wait_connected(d)
                # The returned batches reach whichever members the ring
                # has when the relay retries them (maybe a alone, if b
                # joined a moment later): count them first, then check
                # how the traffic sent to the full ring is split.
                before = wait_for(
                    lambda: self._hits_if(a, b, services, 1.0),
                    timeout=20, what="the returned batches counted")
                for rep in range(5):
                    for s in services:
                        r.send_udp("%s.hits:1|c\n%s.hits:1|c" % (s, s))
                # amqp-publish with the service header lands the same way
                BROKER.publish("svc00.hits:1|c", "svc00.metrics",
                               exchange="x.hash",
                               headers={"service": "svc00"})
                self._check_split(a, b, services, before)

    @staticmethod
    def _hits(a, b, services):
        """{service: (hits on a, hits on b)}."""
        ma, mb = a.metrics(), b.metrics()
        out = {}
        for s in services:
            key = ("hits_total", frozenset({"service": s}.items()))
            out[s] = (ma.get(key) or 0, mb.get(key) or 0)
        return out

    def _hits_if(self, a, b, services, each):
        """The hits when every service has `each` in all, else None."""
        cur = self._hits(a, b, services)
        return cur if all(x + y == each for x, y in cur.values()) else None

    def _check_split(self, a, b, services, before):
        expected = {s: 10.0 for s in services}
        expected["svc00"] = 11.0

        def added():
            cur = self._hits(a, b, services)
            return {s: (x - before[s][0], y - before[s][1])
                    for s, (x, y) in cur.items()}

        def done():
            cur = added()
            return all(x + y == expected[s]
                       for s, (x, y) in cur.items()) and cur
        final = wait_for(done, timeout=20, what="every hit counted")
        on_a = [s for s, (x, y) in final.items() if x]
        on_b = [s for s, (x, y) in final.items() if y]
        self.assertFalse(set(on_a) & set(on_b),
                         "a service landed on both collectors")
        self.assertTrue(on_a and on_b, "one collector got nothing")
        self.assertEqual(sorted(on_a + on_b), services)
