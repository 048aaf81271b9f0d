"""The hardened HTTP face: write endpoints refuse non-loopback clients
unless they present the bearer token; every response, errors included,
carries the security headers; nothing a client sends can add or change a
response header; HTTPS with a certificate made by openssl at test time."""
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import TestCase, Vitalsd, http as http_request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}


def non_loopback_address():
    """An address of this machine that is not loopback, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))       # no packet is sent
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


class SecurityHeaders(TestCase):
    def assert_secure(self, headers, what):
        for name, value in SECURITY_HEADERS.items():
            self.assertEqual(headers.get(name), value, "%s: %s" % (what, name))
        csp = headers.get("Content-Security-Policy") or ""
        self.assertIn("default-src 'self'", csp, what)
        self.assertIn("frame-ancestors", csp, what)

    def test_every_response_carries_them(self):
        with Vitalsd(config={"http": {"max_body": 1024}}) as v:
            cases = [("GET", "/healthz", None, 200),
                     ("GET", "/metrics", None, 200),
                     ("GET", "/api/v1/services", None, 200),
                     ("GET", "/no/such/path", None, 404),
                     ("PUT", "/healthz", b"x", 405),
                     ("GET", "/api/v1/series?service=a", None, 400),
                     ("POST", "/api/v1/metrics", b"a:1|c\n" * 400, 413),
                     ("POST", "/api/v1/metrics", b"a:1|c\n", 202),
                     ("HEAD", "/healthz", None, 200)]
            for method, path, body, status in cases:
                r = http_request(method, v.url(path), body)
                self.assertEqual(r.status, status, (method, path))
                self.assert_secure(r.headers, "%s %s" % (method, path))

    def test_client_input_never_becomes_a_header(self):
        with Vitalsd() as v:
            for path in ("/x%0d%0aX-Injected:%20yes",
                         "/api/v1/services/a%0d%0aX-Injected:%20yes",
                         "/graph/a%0d%0aSet-Cookie:%20a=b/m.svg",
                         "/api/v1/series?service=a%0d%0aX-Injected:%20yes"
                         "&metric=m%0aX-Injected:%20yes"):
                c = http.client.HTTPConnection("127.0.0.1", v.http_port,
                                               timeout=5)
                c.request("GET", path, headers={
                    "Accept": "text/html\r\n X-Injected: folded"})
                r = c.getresponse()
                body = r.read()
                names = [k.lower() for k, _ in r.getheaders()]
                self.assertNotIn("x-injected", names, path)
                self.assertNotIn("set-cookie", names, path)
                self.assertIn(r.status, (400, 404), path)
                self.assertNotIn(b"\r\nX-Injected", body)
                c.close()


class ControlBytesInQueries(TestCase):
    """A %00 decoded into a query argument would cut the C string a
    handler reads (issue 21: ?metric=http.get%00x answered with the series
    http.get); any control byte in an argument's name or value is a 400
    that names the argument, on every route."""

    def test_nul_and_control_bytes_are_refused(self):
        with Vitalsd() as v:
            for path in ("/api/v1/series?service=pay&metric=http.get%00x",
                         "/api/v1/series?service=pay%01&metric=m",
                         "/graph/pay/m.svg?from=-1h%7f",
                         "/?q=a%0ab",
                         "/metrics?x%00y=1",
                         "/healthz?a=%1b"):
                r = http_request("GET", v.url(path))
                self.assertEqual(r.status, 400, path)
                self.assertIn(b"control character", r.body, path)
            # the same arguments without the control byte are not refused
            # for it
            r = http_request("GET", v.url("/?q=ab"))
            self.assertEqual(r.status, 200)
            r = http_request("GET", v.url("/healthz?a=b"))
            self.assertEqual(r.status, 200)


class WriteGuard(TestCase):
    def setUp(self):
        self.addr = non_loopback_address()
        if self.addr is None:
            self.skipTest("no non-loopback address on this machine")

    def remote(self, v, method, path, body=None, token=None):
        """A request from the non-loopback address of this machine."""
        c = http.client.HTTPConnection(self.addr, v.http_port, timeout=5)
        headers = {"Authorization": "Bearer " + token} if token else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def start(self, **http_cfg):
        http_cfg["listen"] = "0.0.0.0:0"
        v = Vitalsd(config={"http": http_cfg})
        # The harness passes --http 127.0.0.1:PORT; widen it to every
        # address on the same port.
        i = v.args.index("--http")
        v.args[i + 1] = "0.0.0.0:%d" % v.http_port
        return v

    def test_writes_from_the_network_need_the_token(self):
        token = "s3cret-token-of-some-length"
        with self.start(token=token) as v:
            writes = [("POST", "/api/v1/metrics", b"net.writes:1|c\n"),
                      ("POST", "/api/v1/health",
                       b'{"service":"s","check":"c","status":"ok"}'),
                      ("DELETE", "/api/v1/services/s", None)]
            for method, path, body in writes:
                self.assertEqual(self.remote(v, method, path, body), 401,
                                 path)
                self.assertEqual(self.remote(v, method, path, body,
                                             token=token[:-1] + "X"), 401)
                self.assertEqual(self.remote(v, method, path, body,
                                             token=token + "x"), 401)
                self.assertEqual(self.remote(v, method, path, body,
                                             token=token[:5]), 401)
            self.assertEqual(self.remote(v, "POST", "/api/v1/metrics",
                                         b"net.writes:1|c\n", token=token),
                             202)
            self.assertEqual(v.value("vitals_http_refused_total",
                                     reason="unauthorized"), 12)
            # Reads stay open; loopback writes need no token.
            self.assertEqual(self.remote(v, "GET", "/healthz"), 200)
            self.assertEqual(v.post("/api/v1/metrics", "a:1|c\n").status,
                             202)

    def test_without_a_token_only_loopback_writes(self):
        with self.start() as v:
            self.assertEqual(self.remote(v, "POST", "/api/v1/metrics",
                                         b"a:1|c\n"), 403)
            self.assertEqual(self.remote(v, "POST", "/api/v1/metrics",
                                         b"a:1|c\n", token="anything"), 403)
            self.assertEqual(self.remote(v, "DELETE", "/api/v1/services/a"),
                             403)
            self.assertEqual(v.post("/api/v1/metrics", "a:1|c\n").status,
                             202)
            self.assertEqual(v.value("vitals_http_refused_total",
                                     reason="forbidden"), 3)
            self.assertEqual(v.value("vitals_http_refused_total",
                                     reason="unauthorized"), 0)


@unittest.skipIf(shutil.which("openssl") is None, "openssl not installed")
class Https(TestCase):
    def make_cert(self):
        d = tempfile.mkdtemp(prefix="vitals-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        return cert, key

    def test_https_with_a_configured_certificate(self):
        cert, key = self.make_cert()
        v = Vitalsd(config={"http": {"tls_cert": cert, "tls_key": key}})
        v._healthy = lambda: self._https_healthy(v, cert)
        with v:
            ctx = ssl.create_default_context(cafile=cert)
            c = http.client.HTTPSConnection("127.0.0.1", v.http_port,
                                            context=ctx, timeout=5)
            c.request("GET", "/metrics")
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.status, 200)
            self.assertIn(b"vitals_build_info", body)
            self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
            c.request("POST", "/api/v1/metrics", body=b"tls.m:1|c\n")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 202)
            c.close()
            # Plain HTTP on the TLS port gets no HTTP answer.
            plain = http.client.HTTPConnection("127.0.0.1", v.http_port,
                                               timeout=5)
            with self.assertRaises((OSError, http.client.HTTPException)):
                plain.request("GET", "/healthz")
                plain.getresponse()
            plain.close()

    def _https_healthy(self, v, cert):
        if v.proc.poll() is not None:
            raise AssertionError("vitalsd exited:\n" + v.log_text())
        try:
            ctx = ssl.create_default_context(cafile=cert)
            c = http.client.HTTPSConnection("127.0.0.1", v.http_port,
                                            context=ctx, timeout=2)
            c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except (OSError, ssl.SSLError):
            return False

    def test_missing_or_mismatched_files_exit_2(self):
        cert, key = self.make_cert()
        _, other_key = self.make_cert()
        # A half-configured HTTPS is bad configuration (2); files that
        # cannot be read or do not match keep the daemon from starting (1).
        for cfg, word, status in (
                ({"tls_cert": cert}, "http.tls_key", 2),
                ({"tls_cert": cert, "tls_key": "/nonexistent"},
                 "http.tls_key /nonexistent", 1),
                ({"tls_cert": cert, "tls_key": other_key}, "certificate", 1)):
            v = Vitalsd(config={"http": cfg})
            try:
                v.start(wait=False)
                rc = v.proc.wait(timeout=20)
                v.log.close()
                self.assertEqual(rc, status, v.log_text())
                self.assertIn(word, v.log_text())
            finally:
                v.cleanup()
