"""vitalsd under systemd, as far as a machine without systemd as PID 1
allows: the real binary speaks the notification protocol to a datagram
socket the test binds and names in $NOTIFY_SOCKET, as the service manager
does (READY=1 once /healthz answers, watchdog pings, RELOADING=1 then
READY=1 on SIGHUP, STOPPING=1 on SIGTERM), in relay mode too; with $JOURNAL_STREAM naming its
stderr it logs "<N>subsystem: message" lines without a time of their own;
and contrib/systemd/vitalsd.service passes `systemd-analyze verify` and
its own command line starts the daemon."""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import (VITALSD, TestCase, Vitalsd, free_port, http,
                     own_unit_messages, terminate, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "..", "contrib", "systemd", "vitalsd.service")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


class Manager:
    """The service manager's end: a bound AF_UNIX datagram socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vitals-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def expect(self, prefix, timeout=20):
        """The next message starting with prefix; watchdog pings in
        between are skipped, any other message fails."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %r within %ss" % (prefix, timeout))
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            if msg.startswith(prefix):
                return msg
            if msg != "WATCHDOG=1":
                raise AssertionError("want %r, got %r" % (prefix, msg))


class NotifyTest(TestCase):
    def setUp(self):
        self.manager = Manager()
        self.addCleanup(self.manager.close)

    def daemon(self, **env):
        d = Vitalsd(env=dict(NOTIFY_SOCKET=self.manager.path, **env))
        self.addCleanup(d.cleanup)
        return d

    def test_ready_watchdog_reload_and_stop(self):
        d = self.daemon(WATCHDOG_USEC="2000000")
        d.start(wait=False)
        self.assertEqual(self.manager.expect("READY=1"), "READY=1")
        # Ready means ready: the HTTP port already answers.
        self.assertEqual(d.get("/healthz").status, 200)
        # A 2 s watchdog: a ping at least every second.
        self.manager.sock.settimeout(10)
        pings = [self.manager.sock.recv(64) for _ in range(3)]
        self.assertEqual(pings, [b"WATCHDOG=1"] * 3)
        d.proc.send_signal(signal.SIGHUP)
        msg = self.manager.expect("RELOADING=1")
        self.assertRegex(msg, r"^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$")
        usec = int(msg.rsplit("=", 1)[1])
        self.assertLessEqual(usec, time.monotonic_ns() // 1000)
        self.assertEqual(self.manager.expect("READY=1"), "READY=1")
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.manager.expect("STOPPING=1"), "STOPPING=1")
        self.assertEqual(d.stop(), 0, d.log_text())
        self.assertIn("systemd watchdog: a ping every 1s", d.log_text())

    def test_watchdog_of_another_process_is_not_ours(self):
        d = self.daemon(WATCHDOG_USEC="2000000", WATCHDOG_PID="1")
        d.start(wait=False)
        self.manager.expect("READY=1")
        d.send_udp("a.b:1|c")
        d.proc.send_signal(signal.SIGTERM)
        # Only STOPPING=1 follows: Manager.expect fails on anything else
        # but a ping, so look at the raw messages.
        self.manager.sock.settimeout(20)
        self.assertEqual(self.manager.sock.recv(64), b"STOPPING=1")
        self.assertEqual(d.stop(), 0, d.log_text())
        self.assertNotIn("watchdog", d.log_text())

    def test_relay_mode_notifies_too(self):
        # No broker is needed: the relay buffers and keeps retrying.
        d = Vitalsd(args=["--relay", "--amqp", "amqp://127.0.0.1:1/"],
                    env={"NOTIFY_SOCKET": self.manager.path,
                         "WATCHDOG_USEC": "2000000"})
        self.addCleanup(d.cleanup)
        d.start(wait=False)
        self.manager.expect("READY=1")
        self.assertEqual(d.get("/healthz").status, 200)
        self.assertEqual(self.manager.expect("WATCHDOG=1"), "WATCHDOG=1")
        d.proc.send_signal(signal.SIGHUP)
        self.manager.expect("RELOADING=1")
        self.manager.expect("READY=1")
        d.proc.send_signal(signal.SIGTERM)
        self.manager.expect("STOPPING=1")
        self.assertEqual(d.stop(), 0, d.log_text())

    def test_without_notify_socket_nothing_changes(self):
        with Vitalsd(env={"NOTIFY_SOCKET": ""}) as d:
            self.assertEqual(d.get("/healthz").status, 200)
        self.manager.sock.settimeout(0.5)
        self.assertRaises(socket.timeout, self.manager.sock.recv, 64)


class JournalTest(TestCase):
    def start(self, match):
        d = Vitalsd()
        self.addCleanup(d.cleanup)
        # The harness makes this file vitalsd's stderr (truncating the
        # same inode), so its device:inode is what systemd would set.
        open(d.log_path, "wb").close()
        st = os.stat(d.log_path)
        d.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev,
                                             st.st_ino + (0 if match else 1))
        d.start()
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP" in d.log_text(), what="reload logged")
        self.assertEqual(d.stop(), 0, d.log_text())
        return d.log_text().splitlines()

    def test_lines_for_the_journal_carry_level_not_time(self):
        lines = self.start(match=True)
        self.assertTrue(any(re.match(r"<6>main: vitalsd \S+: statsd udp/tcp ",
                                     line) for line in lines), lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>[a-z_]+: ")
            self.assertNotRegex(line, TIMESTAMP)

    def test_stderr_elsewhere_keeps_timestamps(self):
        for line in self.start(match=False):
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT[0-9:.]+Z [A-Z]+ ")


class UnitTest(TestCase):
    def unit(self):
        with open(UNIT) as f:
            return f.read()

    def exec_start(self, text):
        return re.search(r"^ExecStart=(.*)$", text, re.M).group(1)

    def test_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze not installed (Debian: systemd)")
        # ExecStart names /usr/sbin/vitalsd, where the package installs
        # it; verify checks that it exists and is executable, so verify a
        # copy that points at the binary under test. Its man pages are
        # installed by the package too, hence --man=no.
        text = self.unit()
        binary = os.path.abspath(VITALSD)
        copy = text.replace("ExecStart=/usr/sbin/vitalsd ",
                            "ExecStart=%s " % binary)
        self.assertNotEqual(copy, text)
        tmp = tempfile.mkdtemp(prefix="vitals-unit-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "vitalsd.service")
        with open(path, "w") as f:
            f.write(copy)
        r = subprocess.run([tool, "verify", "--man=no", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout,
                          own_unit_messages(r.stderr, path)), (0, "", ""))

    def test_unit_settings(self):
        text = self.unit()
        for setting in ("Type=notify", "DynamicUser=yes",
                        "StateDirectory=vitals", "ProtectSystem=strict",
                        "ExecReload=/bin/kill -HUP $MAINPID",
                        "Restart=on-failure"):
            self.assertRegex(text, r"(?m)^%s$" % re.escape(setting))
        self.assertRegex(text, r"(?m)^WatchdogSec=\d+s$")
        self.assertIn("--data-dir /var/lib/vitals", self.exec_start(text))

    def test_unit_command_line_starts_vitalsd(self):
        """ExecStart as systemd runs it: the state directory for
        /var/lib/vitals, options from $VITALSD_OPTS (EnvironmentFile)."""
        argv = shlex.split(self.exec_start(self.unit()))
        self.assertEqual(argv[0], "/usr/sbin/vitalsd")
        tmp = tempfile.mkdtemp(prefix="vitals-unit-")
        self.addCleanup(shutil.rmtree, tmp, True)
        http_port, statsd_port = free_port(), free_port()
        opts = ["--http", "127.0.0.1:%d" % http_port,
                "--statsd", "127.0.0.1:%d" % statsd_port]
        args = [VITALSD]
        for a in argv[1:]:
            if a == "$VITALSD_OPTS":
                args += opts
            else:
                args.append(a.replace("/var/lib/vitals", tmp + "/vitals"))
        with open(os.path.join(tmp, "log"), "wb") as log:
            p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
            self.addCleanup(terminate, p)

            def healthy():
                self.assertIsNone(p.poll(), args)
                try:
                    return http("GET", "http://127.0.0.1:%d/healthz"
                                % http_port).status == 200
                except OSError:
                    return False
            wait_for(healthy, timeout=20, what="/healthz")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=30), 0)
        self.assertTrue(os.path.isdir(os.path.join(tmp, "vitals")))
