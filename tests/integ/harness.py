"""Integration-test harness: runs the real vitalsd on free loopback ports
in a temporary data directory and talks to it over real sockets.

Environment: VITALSD (path of the binary, required), SANITIZE=1 when the
binary is built with ASan/UBSan (the harness then fails a test whose
daemon printed a sanitizer report, leaks included, at exit).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

VITALSD = os.environ.get("VITALSD", "build/release/vitalsd")
SANITIZE = os.environ.get("SANITIZE") == "1"


_GIVEN_PORTS = set()


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1, and not one this
    process handed out before: the kernel may offer a port again as soon
    as the probe closes it, so two calls in a row (statsd, then HTTP)
    could otherwise get the same one."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if port in _GIVEN_PORTS:
                continue
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        _GIVEN_PORTS.add(port)
        return port
    raise RuntimeError("no free port")


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                         % (timeout, what, last))


def terminate(proc, timeout=20):
    """SIGTERM a helper process (a server a test started); SIGKILL it
    when it has not exited after timeout seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class HttpResult:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


def http(method, url, body=None, headers=None, timeout=10):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return HttpResult(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return HttpResult(e.code, e.headers, e.read())


_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{(name, frozenset(labels.items())): float} from text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("unparseable exposition line: %r" % line)
        labels = {}
        if m.group(3):
            for k, v in _LABEL.findall(m.group(3)):
                labels[k] = v.encode().decode("unicode_escape")
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


class Vitalsd:
    """One vitalsd process. Use as a context manager or start()/stop()."""

    def __init__(self, args=(), config=None, flush="1s", env=None):
        self.dir = tempfile.mkdtemp(prefix="vitals-test-")
        self.statsd_port = free_port()
        self.http_port = free_port()
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "vitalsd.log")
        self.args = [VITALSD,
                     "--statsd", "127.0.0.1:%d" % self.statsd_port,
                     "--http", "127.0.0.1:%d" % self.http_port,
                     "--data-dir", self.data_dir]
        if flush:
            self.args += ["--flush", flush]
        # The daemon's own service (self_metrics) would add its series to
        # every count a test makes; tests that want it ask for it.
        # Storage writes every window at once (rrd.write_delay 0) so tests
        # can read files with rrdtool as soon as a window closed; tests of
        # write-behind ask for a delay.
        if config is None:
            config = {"self_metrics": False, "rrd": {"write_delay": 0}}
        elif isinstance(config, dict):
            config = dict(config)
            config.setdefault("self_metrics", False)
            if isinstance(config.get("rrd", {}), dict):
                config["rrd"] = dict(config.get("rrd", {}))
                config["rrd"].setdefault("write_delay", 0)
        if config is not None:
            path = os.path.join(self.dir, "vitals.json")
            with open(path, "w") as f:
                f.write(config if isinstance(config, str)
                        else json.dumps(config))
            self.args += ["-c", path]
        self.args += list(args)
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS",
                            "detect_leaks=1:abort_on_error=0:exitcode=99")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        if env:
            self.env.update(env)
        self.proc = None
        self.returncode = None

    # -- life cycle ---------------------------------------------------
    def start(self, wait=True):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        if wait:
            wait_for(self._healthy, timeout=20, what="vitalsd /healthz")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError("vitalsd exited with %s:\n%s"
                                 % (self.proc.returncode, self.log_text()))
        try:
            return self.get("/healthz").status == 200
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.returncode is not None:
            return self.returncode
        self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
            raise AssertionError("vitalsd did not stop within %ds" % timeout)
        self.log.close()
        return self.returncode

    def restart(self, sig=signal.SIGTERM):
        """Stop (SIGTERM: must exit 0) or kill with sig, then start again
        on the same data directory, ports and config."""
        if sig == signal.SIGTERM:
            rc = self.stop()
            assert rc == 0, "vitalsd exit status %s:\n%s" % (
                rc, self.log_text())
        else:
            self.proc.send_signal(sig)
            self.proc.wait()
            self.log.close()
        self.returncode = None
        return self.start()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                rc = self.stop()
                assert rc == 0, "vitalsd exit status %s:\n%s" % (
                    rc, self.log_text())
                self.assert_clean_log()
        finally:
            self.cleanup()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def assert_clean_log(self):
        text = self.log_text()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                       "UndefinedBehaviorSanitizer"):
            assert marker not in text, "sanitizer report:\n" + text

    # -- talking to it ------------------------------------------------
    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.http_port, path)

    def get(self, path, headers=None):
        return http("GET", self.url(path), headers=headers)

    def post(self, path, body, headers=None):
        return http("POST", self.url(path), body, headers)

    def send_udp(self, payload):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(payload.encode() if isinstance(payload, str) else payload,
                 ("127.0.0.1", self.statsd_port))
        s.close()

    def send_tcp(self, payload):
        with socket.create_connection(("127.0.0.1", self.statsd_port)) as s:
            s.sendall(payload.encode() if isinstance(payload, str)
                      else payload)

    def metrics_text(self):
        r = self.get("/metrics")
        assert r.status == 200, r.status
        return r.text

    def metrics(self):
        return parse_exposition(self.metrics_text())

    def value(self, name, **labels):
        """The sample's value, or None when absent."""
        return self.metrics().get((name, frozenset(labels.items())))

    def wait_value(self, name, expected=None, timeout=10, **labels):
        """Wait until the sample exists (and equals expected, if given)."""
        def check():
            v = self.value(name, **labels)
            if v is None:
                return None
            if expected is not None and v != expected:
                return None
            return ("ok", v)
        return wait_for(check, timeout=timeout,
                        what="%s%r = %r" % (name, labels, expected))[1]

    def lines(self, result):
        return self.value("vitals_lines_total", result=result) or 0.0


def own_unit_messages(stderr, path):
    """systemd-analyze verify's messages without those about other units
    installed on this machine: it loads the units ours pulls in, and some
    packages (Debian's graphite-carbon, a test dependency) ship units it
    warns about."""
    own = os.path.realpath(path)
    kept = []
    for line in stderr.splitlines():
        m = re.match(r"(/\S+\.(?:service|socket|target|timer|mount|path)):"
                     r"\d+: ", line)
        if m and os.path.realpath(m.group(1)) != own:
            continue
        kept.append(line)
    return "\n".join(kept)


def run_vitalsd(args, timeout=20):
    """Run vitalsd to completion (for --help, --check-config, bad config)."""
    return subprocess.run([VITALSD] + list(args), capture_output=True,
                          text=True, timeout=timeout)


class TestCase(unittest.TestCase):
    maxDiff = None
