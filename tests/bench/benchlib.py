"""What the benchmark scripts in tests/bench/ share (Python 3 standard
library only)."""
import platform
import time
import urllib.request


class BenchError(Exception):
    """A benchmark could not run (the daemon died, a wait timed out)."""


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, for the machine line every
    benchmark prints."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return val.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def wait_for(pred, timeout, what, interval=0.5):
    """pred()'s first true value within timeout seconds, else BenchError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise BenchError("timed out after %ds waiting for %s" % (timeout, what))


def wait_healthy(daemon, http_port, timeout=30):
    """Wait until the vitalsd started as daemon (a Popen) answers /healthz;
    BenchError when it exits first or does not answer in time."""
    def healthy():
        if daemon.poll() is not None:
            raise BenchError("vitalsd exited with %s" % daemon.returncode)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" %
                                   http_port, timeout=2).read()
            return True
        except OSError:
            return False
    wait_for(healthy, timeout, "vitalsd /healthz", 0.1)
