"""statsd in, Prometheus out: the spine, end to end through the real
binary, a real statsd client (python3-statsd), raw UDP and TCP sockets."""
import math
import signal
import socket
import subprocess
import time

import statsd

from harness import TestCase, Vitalsd, wait_for


class StatsdClientToMetrics(TestCase):
    """What a service author sees with the statsd client they already have."""

    def test_python_statsd_client_all_kinds(self):
        with Vitalsd() as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            for _ in range(3):
                c.incr("payments.requests")
            c.decr("payments.requests")          # -1: window only
            c.gauge("payments.queue.depth", 7)
            c.gauge("payments.queue.depth", 3, delta=True)
            for ms in (10, 20, 30, 40):
                c.timing("payments.http.get", ms)
            # one datagram, so all three land in the same window
            d.send_udp("payments.users:alice|s\npayments.users:bob|s\n"
                       "payments.users:alice|s")

            total = d.wait_value("requests_total", 3.0, service="payments")
            self.assertEqual(total, 3.0)   # the decrement never lowers it
            self.assertEqual(d.wait_value("queue_depth", 10.0,
                                          service="payments"), 10.0)
            self.assertEqual(d.wait_value("users", 2.0, service="payments"),
                             2.0)
            count = d.wait_value("http_get_seconds_count", 4.0,
                                 service="payments")
            self.assertEqual(count, 4.0)
            s = d.value("http_get_seconds_sum", service="payments")
            self.assertAlmostEqual(s, 0.1, places=9)

    def test_timer_quantiles_in_seconds(self):
        with Vitalsd(flush="2s") as d:
            lines = "\n".join("api.latency:%d|ms" % v for v in range(1, 101))
            d.send_udp(lines)
            p99 = wait_for(lambda: d.value("latency_seconds", service="api",
                                           quantile="0.99"),
                           what="p99 of api.latency")
            self.assertTrue(math.isclose(p99, 0.099, rel_tol=0.02), p99)
            p50 = d.value("latency_seconds", service="api", quantile="0.5")
            self.assertTrue(math.isclose(p50, 0.050, rel_tol=0.03), p50)

    def test_histogram_keeps_the_unit_sent(self):
        with Vitalsd() as d:
            d.send_udp("batch.size:100|h\nbatch.size:300|d")
            self.assertEqual(d.wait_value("size_count", 2.0,
                                          service="batch"), 2.0)
            self.assertEqual(d.value("size_sum", service="batch"), 400.0)

    def test_netcat_udp(self):
        with Vitalsd() as d:
            # -q0: with -w0 OpenBSD nc may exit before sending (docs/wire-formats.md).
            subprocess.run("echo 'x:1|c' | nc -u -q0 127.0.0.1 %d"
                           % d.statsd_port, shell=True, check=True)
            self.assertEqual(d.wait_value("x_total", 1.0, service="default"),
                             1.0)


class Grammar(TestCase):
    def test_sample_rate_scales_counters_and_timer_counts(self):
        with Vitalsd() as d:
            d.send_udp("svc.hits:1|c|@0.1\nsvc.t:5|ms|@0.5")
            self.assertEqual(d.wait_value("hits_total", 10.0,
                                          service="svc"), 10.0)
            self.assertEqual(d.wait_value("t_seconds_count", 2.0,
                                          service="svc"), 2.0)

    def test_tags_become_labels_and_service_tag_names_service(self):
        with Vitalsd() as d:
            d.send_udp("http.requests:2|c|#service:checkout,route:/pay,"
                       "method:POST\n"
                       "http.requests:1|c|#method:POST,route:/pay,"
                       "service:checkout")
            v = d.wait_value("http_requests_total", 3.0, service="checkout",
                             route="/pay", method="POST")
            self.assertEqual(v, 3.0)

    def test_reserved_tag_names_are_renamed(self):
        with Vitalsd() as d:
            d.send_udp("web.hits:1|c|#instance:a,job:b,quantile:q")
            v = d.wait_value("hits_total", 1.0, service="web",
                             exported_instance="a", exported_job="b",
                             exported_quantile="q")
            self.assertEqual(v, 1.0)

    def test_bad_lines_counted_by_reason_rest_of_datagram_kept(self):
        with Vitalsd() as d:
            d.send_udp("good.a:1|c\n"
                       "nocolon\n"
                       "bad.value:abc|c\n"
                       "bad.nan:nan|ms\n"
                       "bad.type:1|x\n"
                       "bad.rate:1|c|@2\n"
                       "bad.tags:1|c|#a,,b\n"
                       "good.b:2|c\n")
            d.wait_value("b_total", 2.0, service="good")
            self.assertEqual(d.value("a_total", service="good"), 1.0)
            self.assertEqual(d.lines("ok"), 2.0)
            for reason in ("missing_value", "bad_value", "not_finite",
                           "bad_type", "bad_sample_rate", "bad_tags"):
                self.assertEqual(d.lines(reason), 1.0, reason)

    def test_type_conflict_is_counted_and_skipped(self):
        with Vitalsd() as d:
            d.send_udp("svc.thing:1|c")
            d.wait_value("thing_total", 1.0, service="svc")
            d.send_udp("svc.thing:5|g\nsvc.thing:1|c")
            d.wait_value("thing_total", 2.0, service="svc")
            self.assertEqual(d.lines("type_conflict"), 1.0)
            self.assertIsNone(d.value("thing", service="svc"))


class Transports(TestCase):
    def test_tcp_lines_including_unterminated_last_line(self):
        with Vitalsd() as d:
            d.send_tcp("tcp.a:1|c\ntcp.a:2|c\ntcp.b:5|g")
            self.assertEqual(d.wait_value("a_total", 3.0, service="tcp"), 3.0)
            self.assertEqual(d.wait_value("b", 5.0, service="tcp"), 5.0)

    def test_tcp_statsd_client(self):
        with Vitalsd() as d:
            c = statsd.TCPStatsClient("127.0.0.1", d.statsd_port)
            c.connect()
            c.incr("tcpclient.hits", 4)
            c.close()
            self.assertEqual(d.wait_value("hits_total", 4.0,
                                          service="tcpclient"), 4.0)

    def test_http_post_statsd_lines(self):
        with Vitalsd() as d:
            r = d.post("/api/v1/metrics", "pushed.jobs:3|c\npushed.jobs:4|c")
            self.assertEqual(r.status, 202)
            self.assertEqual(d.wait_value("jobs_total", 7.0,
                                          service="pushed"), 7.0)

    def test_large_datagram(self):
        # 3000 new metrics: without storage, which would create 3000 RRD
        # files (slow under the sanitizers) and is not what this tests.
        with Vitalsd(config={"rrd": {"enabled": False}}) as d:
            body = "\n".join("big.m%04d:1|c" % i for i in range(3000))
            self.assertGreater(len(body), 40000)
            d.send_udp(body)
            wait_for(lambda: d.lines("ok") == 3000.0, what="3000 lines")
            self.assertEqual(d.value("m2999_total", service="big"), 1.0)


class KernelDrops(TestCase):
    def test_datagrams_the_kernel_drops_are_counted(self):
        # A small receive buffer and a stopped daemon: the kernel drops
        # what does not fit. Every datagram is then either ingested or
        # counted as dropped, none unaccounted for.
        cfg = {"rrd": {"enabled": False},
               "statsd": {"udp_receive_buffer": 65536}}
        with Vitalsd(config=cfg) as d:
            self.assertEqual(d.value("vitals_udp_kernel_drops_total"), 0.0)
            body = "\n".join(["drops.hits:1|c"] * 50)        # 50 lines
            sent = 400
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            d.proc.send_signal(signal.SIGSTOP)
            try:
                for _ in range(sent):
                    s.sendto(body.encode(), ("127.0.0.1", d.statsd_port))
            finally:
                d.proc.send_signal(signal.SIGCONT)
                s.close()

            def settled():
                drops = d.value("vitals_udp_kernel_drops_total") or 0.0
                ok = d.lines("ok")
                return drops + ok / 50 == sent and (drops, ok)
            drops, ok = wait_for(settled, timeout=15,
                                 what="every datagram ingested or dropped")
            self.assertGreater(drops, 0)
            self.assertGreater(ok, 0)
            self.assertEqual(d.value("vitals_udp_packets_total"), sent - drops)


class Limits(TestCase):
    def test_max_metrics_cap_drops_new_names(self):
        with Vitalsd(args=["--max-metrics", "5"]) as d:
            d.send_udp("\n".join("cap.m%d:1|c" % i for i in range(10)))
            wait_for(lambda: d.lines("over_max_metrics") == 5.0,
                     what="5 lines over the cap")
            self.assertEqual(d.value("vitals_metrics"), 5.0)
            self.assertEqual(d.lines("ok"), 5.0)
            # existing names still count
            d.send_udp("cap.m0:1|c")
            d.wait_value("m0_total", 2.0, service="cap")

    def test_idle_metrics_expire_after_ttl(self):
        cfg = {"metric_ttl": "2s"}
        with Vitalsd(config=cfg) as d:
            d.send_udp("old.thing:1|c")
            d.wait_value("thing_total", 1.0, service="old")
            wait_for(lambda: d.value("thing_total", service="old") is None,
                     timeout=10, what="old.thing to expire")
            self.assertGreaterEqual(d.value("vitals_metrics_expired_total"),
                                    1.0)
            self.assertEqual(d.value("vitals_metrics"), 0.0)

    def test_window_without_samples_counters_zero_gauges_kept(self):
        with Vitalsd() as d:
            d.send_udp("w.c:5|c\nw.g:42|g")
            d.wait_value("c_total", 5.0, service="w")
            time.sleep(2.5)   # two empty windows
            self.assertEqual(d.value("c_total", service="w"), 5.0)
            self.assertEqual(d.value("g", service="w"), 42.0)
