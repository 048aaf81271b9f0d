"""Bounded resources, as a hostile or broken client meets them: a flood
of TCP connections, a line that never ends, a silent client, HTTP bodies
over the cap (announced or not), too many HTTP connections from one
address and a client too slow to finish its request. Every limit here is
reached, and every refusal is counted where /metrics can show it."""
import os
import resource
import socket
import time

from harness import TestCase, Vitalsd, http, wait_for


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def closed_by_peer(sock, timeout=5.0):
    """True when the server closes (or resets) the connection in time."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def raw_http(port, request, timeout=5.0):
    """Send request bytes, return what the server answers before it stops
    (b'' when it closes at once)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                out += data
                if b"\r\n\r\n" in out and b"Content-Length" in out:
                    head, _, body = out.partition(b"\r\n\r\n")
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            if len(body) >= int(line.split(b":")[1]):
                                return out
        except (ConnectionResetError, socket.timeout):
            pass
        return out


class TcpLimits(TestCase):
    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 <= hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))

    def test_thousands_of_connections_are_refused_and_counted(self):
        cfg = {"statsd": {"tcp_max_clients": 50}}
        with Vitalsd(config=cfg) as v:
            pid = v.proc.pid
            fds_before = open_fds(pid)
            socks = []
            try:
                for _ in range(1500):
                    socks.append(socket.create_connection(
                        ("127.0.0.1", v.statsd_port), timeout=5))
                refused = v.wait_value("vitals_tcp_refused_total", 1450,
                                       timeout=20)
                self.assertEqual(refused, 1450)
                self.assertEqual(v.value("vitals_tcp_open_connections"), 50)
                # The daemon holds the 50 it serves, not the 1500.
                self.assertLess(open_fds(pid), fds_before + 50 + 16)
                # Refused clients learn it: their connection is closed.
                self.assertTrue(closed_by_peer(socks[-1]))
            finally:
                for s in socks:
                    s.close()
            v.wait_value("vitals_tcp_open_connections", 0, timeout=10)
            # Room again: a new client is served.
            v.send_tcp("after.flood:1|c\n")
            wait_for(lambda: v.lines("ok") >= 1, what="line after flood")
            self.assertLess(open_fds(pid), fds_before + 16)

    def test_line_without_newline_is_bounded_then_dropped(self):
        with Vitalsd() as v:
            pid = v.proc.pid
            rss_before = rss_kib(pid)
            with socket.create_connection(("127.0.0.1", v.statsd_port)) as s:
                chunk = b"x" * 65536
                for _ in range(256):          # 16 MiB, no newline
                    s.sendall(chunk)
                s.sendall(b"\nafter.long:1|c\n")
                wait_for(lambda: v.lines("ok") >= 1, timeout=20,
                         what="the line after the long one")
            self.assertEqual(v.value("vitals_tcp_lines_too_long_total"), 1)
            self.assertEqual(v.lines("ok"), 1)
            # 16 MiB went through a buffer of at most 64 KiB.
            self.assertLess(rss_kib(pid) - rss_before, 8 * 1024)

    def test_silent_client_is_closed_after_idle_timeout(self):
        cfg = {"statsd": {"tcp_idle_timeout": "1s"}}
        with Vitalsd(config=cfg) as v:
            with socket.create_connection(("127.0.0.1", v.statsd_port)) as s:
                s.sendall(b"partial.line:1")     # and then nothing
                self.assertTrue(closed_by_peer(s, timeout=6))
            v.wait_value("vitals_tcp_idle_closed_total", 1)
            # What it had sent counts as its last line, as at EOF.
            wait_for(lambda: v.lines("missing_value") + v.lines("bad_type")
                     >= 1, what="the partial line counted")


class HttpLimits(TestCase):
    def test_body_over_max_body_is_413_without_reading_it(self):
        cfg = {"http": {"max_body": 1024}}
        with Vitalsd(config=cfg) as v:
            r = v.post("/api/v1/metrics", "a:1|c\n" * 400)   # 2400 bytes
            self.assertEqual(r.status, 413)
            self.assertIn("over 1024 bytes", r.json()["error"])
            ok = v.post("/api/v1/metrics", "a:1|c\n" * 100)
            self.assertEqual(ok.status, 202)
            # Announced as 100 MB, never sent: refused at once.
            t0 = time.time()
            out = raw_http(v.http_port,
                           b"POST /api/v1/metrics HTTP/1.1\r\n"
                           b"Host: x\r\nContent-Length: 100000000\r\n\r\n")
            self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:80])
            self.assertLess(time.time() - t0, 3)
            # Chunked, so the size is unknown until it crosses the cap:
            # a little over is read to its end and answered 413...
            chunked = (b"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n")
            body = (b"200\r\n" + b"a" * 512 + b"\r\n") * 3 + b"0\r\n\r\n"
            out = raw_http(v.http_port, chunked + body)
            self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:80])
            # ...an endless one is cut off: the server closes the
            # connection long before 64 MiB went through.
            with socket.create_connection(("127.0.0.1", v.http_port),
                                          timeout=5) as s:
                s.sendall(chunked)
                chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
                sent = 0
                with self.assertRaises(OSError):
                    for _ in range(1024):
                        s.sendall(chunk)
                        sent += len(chunk)
                self.assertLess(sent, 8 << 20)
            self.assertEqual(v.get("/healthz").status, 200)
            # Counted: the three refusals that got an answer.
            self.assertEqual(v.value("vitals_http_refused_total",
                                     reason="body_too_large"), 3)

    def assert_refused_past(self, v, n):
        """Hold n idle connections open, then check that a further one is
        closed unanswered; the n are closed again at the end."""
        time.sleep(0.5)        # the start-up probes' connections close
        fds = open_fds(v.proc.pid)
        idle = [socket.create_connection(("127.0.0.1", v.http_port))
                for _ in range(n)]
        try:
            # The server has accepted all n (one fd each) before the next
            # comes; else the next could take a free slot.
            wait_for(lambda: open_fds(v.proc.pid) >= fds + n,
                     what="the %d idle connections accepted" % n)
            out = raw_http(v.http_port,
                           b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(out, b"", "connection %d was served" % (n + 1))
        finally:
            for s in idle:
                s.close()
        # The server has seen the n close before anyone asks it anything
        # (the scrapes that follow would otherwise be refused and counted).
        wait_for(lambda: open_fds(v.proc.pid) <= fds,
                 what="the %d idle connections closed" % n)

    def assert_refusals(self, v, per_ip, total):
        """The refusals counted, by the config key that refused them."""
        name = "vitals_http_connections_refused_total"
        v.wait_value(name, per_ip, reason="max_connections_per_ip")
        v.wait_value(name, total, reason="max_connections")

    def test_connections_per_address_are_capped(self):
        cfg = {"http": {"max_connections_per_ip": 4}}
        with Vitalsd(config=cfg) as v:
            self.assert_refused_past(v, 4)
            self.assert_refusals(v, per_ip=1, total=0)

            def served():
                try:
                    return v.get("/healthz").status == 200
                except OSError:
                    return False
            wait_for(served, what="served again once the four closed")

    def test_connections_past_the_total_cap_are_refused_and_counted(self):
        cfg = {"http": {"max_connections": 6}}
        with Vitalsd(config=cfg) as v:
            self.assert_refused_past(v, 6)
            self.assert_refusals(v, per_ip=0, total=1)

    def test_slow_client_is_cut_off_after_timeout(self):
        cfg = {"http": {"timeout": "1s"}}
        with Vitalsd(config=cfg) as v:
            with socket.create_connection(("127.0.0.1", v.http_port)) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no end
                t0 = time.time()
                self.assertTrue(closed_by_peer(s, timeout=8))
                self.assertLess(time.time() - t0, 5)
            self.assertEqual(v.get("/healthz").status, 200)
