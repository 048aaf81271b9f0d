"""A real headless Chromium driven over the DevTools protocol, with the
Python standard library only (a minimal WebSocket client; no chromedriver,
no npm). Used by test_dashboards.py.

    with Browser() as b:
        b.open("http://127.0.0.1:8080/")
        names = b.eval("[...document.querySelectorAll('.tile')]"
                       ".map(t => t.dataset.service)")
        b.screenshot("overview.png")

CHROMIUM names the binary (default /usr/bin/chromium).
"""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

from harness import terminate

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames, client
    masking, continuation frames, ping/pong, close."""

    def __init__(self, url, timeout=30):
        assert url.startswith("ws://"), url
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)
        ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("websocket handshake: %r" % head[:200])
        self.buf = b""

    def send(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if op == 0x8:
                raise ConnectionError("websocket closed by peer")
            if op == 0x9:         # ping: answer, keep reading
                continue
            if op in (0x1, 0x2, 0x0):
                message += payload
                if b0 & 0x80:
                    return message.decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, width=1920, height=1080, javascript=True):
        self.width, self.height, self.javascript = width, height, javascript
        self.proc = None
        self.ws = None
        self.next_id = 0
        self.events = []
        self.profile = tempfile.mkdtemp(prefix="vitals-chromium-")

    def start(self):
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--hide-scrollbars",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (self.width, self.height), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("chromium did not start (%s)" % CHROMIUM)
            time.sleep(0.05)
        time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.readline())
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                    timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = WebSocket(pages[0]["webSocketDebuggerUrl"])
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")        # CSP violations, failed loads
        self.call("Emulation.setDeviceMetricsOverride", width=self.width,
                  height=self.height, deviceScaleFactor=1, mobile=False)
        if not self.javascript:
            self.call("Emulation.setScriptExecutionDisabled", value=True)
        # Anything that would run a dialog is recorded, never shown.
        self.call("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__vitals_alerts = [];"
            "window.alert = window.confirm = window.prompt = "
            "function (m) { window.__vitals_alerts.push(String(m)); };"))
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.ws:
            self.ws.close()
        if self.proc:
            terminate(self.proc, timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def open(self, url, timeout=60):
        """Navigate and wait for the load event."""
        self.events = []
        self.call("Page.navigate", url=url)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e["method"] == "Page.loadEventFired" for e in self.events):
                return
            self.ws.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                msg = json.loads(self.ws.recv())
            except socket.timeout:
                break
            finally:
                self.ws.sock.settimeout(30)
            if "method" in msg:
                self.events.append(msg)
        raise AssertionError("page did not load: %s" % url)

    def eval(self, expression, timeout=30):
        """The value of a JavaScript expression (JSON-able). Works with
        page scripts disabled too: evaluation is the test's, not the page's.
        A promise is awaited for up to timeout seconds."""
        self.ws.sock.settimeout(timeout)
        try:
            r = self.call("Runtime.evaluate", expression=expression,
                          returnByValue=True, awaitPromise=True)
        finally:
            self.ws.sock.settimeout(30)
        if "exceptionDetails" in r:
            raise AssertionError("JS error in %r: %s" % (
                expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expression, timeout=15, what=None):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.eval(expression)
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError("timed out after %ss waiting for %s (last: %r)"
                             % (timeout, what or expression, last))

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            h = self.eval("document.documentElement.scrollHeight")
            params["clip"] = {"x": 0, "y": 0, "width": self.width,
                              "height": max(h, self.height), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def console_errors(self):
        """Script exceptions, console.error calls and browser log errors
        (Content-Security-Policy violations, failed subresources) seen
        since the last open()."""
        self.eval("0")           # collect what arrived meanwhile
        return [e for e in self.events
                if e["method"] == "Runtime.exceptionThrown" or
                (e["method"] == "Runtime.consoleAPICalled" and
                 e["params"].get("type") == "error") or
                (e["method"] == "Log.entryAdded" and
                 e["params"]["entry"].get("level") == "error")]


def available():
    return os.access(CHROMIUM, os.X_OK)
