"""Helper processes under attack (issue 21, findings 1 and 4).

Finding 1: losing the fork server's spare, then the server, then both at
once must never deadlock storage, graphs or shutdown: a dead spare is
replaced at once, a dead server by its spare, and when both are gone a
fresh pair is started by exec (never a fork of the threaded daemon);
meanwhile graphs fail fast. No helper outlives the daemon, and none keeps
a listening socket (a restart on the same ports works after kill -9).

Finding 4: a stopped writer (SIGSTOP of vitals-rrdw) must not hold
SIGTERM past shutdown_timeout; what was not written is logged.
"""
import os
import signal
import socket
import subprocess
import threading
import time

from harness import TestCase, Vitalsd, wait_for


def stat(pid):
    """(comm, ppid, state, starttime) of pid, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return comm, int(rest[1]), rest[0], int(rest[19])


def alive(pid, start=None):
    s = stat(pid)
    return s is not None and s[2] != "Z" and (start is None or s[3] == start)


def children(pid, comm=None):
    """Live children of pid (of any of its threads: a helper started by
    the watcher thread is that thread's child)."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return []
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    out = []
    for k in kids:
        s = stat(k)
        if s and s[2] != "Z" and (comm is None or s[0] == comm):
            out.append(k)
    return out


def port_inodes(port):
    """Inodes of the sockets bound to port on 127.0.0.1 (TCP and UDP)."""
    out = set()
    for name in ("tcp", "udp"):
        with open("/proc/net/" + name) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if int(cols[1].split(":")[1], 16) == port:
                    out.add(int(cols[9]))
    return out


def socket_inodes(pid):
    out = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return out
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(int(link[8:-1]))
    return out


class Family:
    """Every process seen below the daemon (remembered with its start
    time: a spare that took over is reparented away from the daemon)."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.seen = {}

    def scan(self):
        roots = [self.daemon] + [p for p, t in self.seen.items()
                                 if alive(p, t)]
        unvisited = list(roots)
        while unvisited:
            p = unvisited.pop()
            for k in children(p):
                if k not in self.seen:
                    s = stat(k)
                    if s:
                        self.seen[k] = s[3]
                        unvisited.append(k)
        return self

    def living(self):
        return [p for p, t in self.seen.items() if alive(p, t)]

    def server(self):
        """The fork server: the live vitalsd helper whose own vitalsd
        child is its spare (the server may have been reparented)."""
        self.scan()
        for p in self.living():
            s = stat(p)
            if s and s[0] == "vitalsd" and children(p, "vitalsd"):
                spare = children(p, "vitalsd")
                if len(spare) == 1:
                    return p, spare[0]
        return None


class Traffic:
    """Counter traffic every 50 ms until stopped."""

    def __init__(self, d, metric="shop.orders"):
        self.d, self.metric = d, metric
        self.stop = threading.Event()
        self.sent = 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while not self.stop.is_set():
            s.sendto(("%s:1|c" % self.metric).encode(),
                     ("127.0.0.1", self.d.statsd_port))
            self.sent += 1
            time.sleep(0.05)
        s.close()

    def close(self):
        self.stop.set()
        self.t.join()


def timed_get(d, path):
    t0 = time.time()
    try:
        status = d.get(path).status
    except OSError as e:
        status = repr(e)
    return status, time.time() - t0


class HelperKills(TestCase):
    def test_losing_both_helpers_recovers_and_stops(self):
        """Finding 1: kill -9 the spare, then the server, then both: a new
        spare at once, a takeover, then a fresh pair by exec; graphs fail
        fast in between and work again within 15 s, storage goes on, SIGTERM
        ends the daemon and no helper outlives it."""
        d = Vitalsd(flush="1s")
        traffic = None
        try:
            d.start()
            traffic = Traffic(d)
            path = os.path.join(d.data_dir, "shop", "orders.rrd")
            wait_for(lambda: os.path.exists(path), timeout=15,
                     what="orders.rrd")
            self.assertEqual(d.get("/graph/shop/orders.svg").status, 200)
            fam = Family(d.proc.pid)
            server, spare = wait_for(fam.server, what="server and spare")
            self.assertIn(server, children(d.proc.pid, "vitalsd"))

            # 1. The spare: replaced at once, without any request.
            os.kill(spare, signal.SIGKILL)
            pair = wait_for(lambda: (fam.server() or (0, spare))[1] != spare
                            and fam.server(), timeout=5,
                            what="a new spare")
            self.assertEqual(pair[0], server)
            spare = pair[1]

            # 2. The server: its spare takes over and makes a new spare.
            os.kill(server, signal.SIGKILL)
            pair = wait_for(lambda: (fam.server() or (server,))[0] != server
                            and fam.server(), timeout=5,
                            what="the spare taking over")
            self.assertEqual(pair[0], spare)
            d.wait_value("vitals_forkserver_takeovers_total", 1)
            self.assertEqual(d.get("/graph/shop/orders.svg").status, 200)
            server, spare = pair

            # 3. Both at once: requests fail fast, a fresh pair comes.
            written = d.value("vitals_storage_updates_total")
            os.kill(spare, signal.SIGKILL)
            os.kill(server, signal.SIGKILL)
            t_kill = time.time()
            slowest = 0.0
            ok = None
            while time.time() - t_kill < 15:
                g, took = timed_get(d, "/graph/shop/orders.svg")
                s, took2 = timed_get(d, "/api/v1/series?service=shop"
                                     "&metric=orders&stat=count&from=-1m")
                slowest = max(slowest, took, took2)
                if g == 200 and s == 200:
                    ok = time.time() - t_kill
                    break
                self.assertIn(g, (200, 503))
                time.sleep(0.2)
            self.assertIsNotNone(ok, "graphs did not come back in 15 s")
            self.assertLess(slowest, 3.0, "a request was held %.1fs" %
                            slowest)
            wait_for(lambda: d.value("vitals_storage_updates_total")
                     > written + 3, timeout=15 - (time.time() - t_kill),
                     interval=0.3, what="storage after both were killed")
            pair = wait_for(fam.server, what="a fresh pair")
            self.assertIn(pair[0], children(d.proc.pid, "vitalsd"))
            self.assertGreaterEqual(
                d.value("vitals_forkserver_respawns_total"), 1)
            self.assertIn("new fork server", d.log_text())
            with open("/proc/%d/maps" % d.proc.pid) as f:
                self.assertNotIn("librrd", f.read())

            # 4. SIGTERM ends the daemon, no helper is left.
            traffic.close()
            traffic = None
            fam.scan()
            t0 = time.time()
            self.assertEqual(d.stop(signal.SIGTERM, timeout=15), 0)
            self.assertLess(time.time() - t0, 10)
            wait_for(lambda: not fam.living(), timeout=5,
                     what="every helper gone: %r" % fam.living())
            self.assertIn("final window written", d.log_text())
            d.assert_clean_log()
        finally:
            if traffic:
                traffic.close()
            d.cleanup()

    def test_kill_9_of_the_daemon_leaves_nothing_behind(self):
        """After a fresh pair was made by exec, kill -9 of the daemon: every
        helper dies with it and a new daemon binds the same ports."""
        d = Vitalsd(flush="1s")
        try:
            d.start()
            d.send_udp("shop.orders:1|c")
            fam = Family(d.proc.pid)
            server, spare = wait_for(fam.server, what="server and spare")
            os.kill(spare, signal.SIGKILL)
            os.kill(server, signal.SIGKILL)
            wait_for(lambda: d.get("/graph/shop/orders.svg").status == 200,
                     timeout=15, what="graphs again")
            # A new server and spare (the worker comes back with the
            # next librrd call the writer needs: updates and new files
            # are written in place).
            wait_for(lambda: (fam.server() or (server, spare)) !=
                     (server, spare), timeout=15,
                     what="a new server and spare")
            # No helper holds the daemon's statsd or HTTP sockets.
            listening = port_inodes(d.statsd_port) | port_inodes(d.http_port)
            self.assertTrue(listening)
            fam.scan()
            for p in fam.living():
                self.assertFalse(socket_inodes(p) & listening,
                                 "%d holds a listening socket" % p)
            os.kill(d.proc.pid, signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            d.returncode = None
            wait_for(lambda: not fam.living(), timeout=5,
                     what="every helper gone: %r" % fam.living())
            d.start()       # the same ports: nobody holds them
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()


class StalledWriter(TestCase):
    def test_sigterm_with_a_stopped_writer_is_bounded(self):
        """Finding 4: SIGSTOP the RRD worker while the writer needs it,
        SIGTERM the daemon: it ends within shutdown_timeout (3 s here),
        logs what was not written, and the stopped worker does not
        outlive it. Updates and new files are written in place; the
        worker writes files only librrd writes, as this one made by hand
        with COUNTER sources."""
        d = Vitalsd(flush="1s", config={"self_metrics": False,
                                        "shutdown_timeout": "3s",
                                        "rrd": {"write_delay": "0s"}})
        traffic = None
        try:
            os.makedirs(os.path.join(d.data_dir, "shop"), exist_ok=True)
            subprocess.run(
                ["rrdtool", "create",
                 os.path.join(d.data_dir, "shop", "legacy.rrd"),
                 "--step", "1", "--start", str(int(time.time()) - 2),
                 "DS:count:COUNTER:2:U:U", "DS:rate:COUNTER:2:U:U",
                 "RRA:AVERAGE:0.5:1:100"], check=True)
            d.start()
            traffic = Traffic(d)
            written = d.wait_value("vitals_storage_updates_total")
            wait_for(lambda: d.value("vitals_storage_updates_total")
                     > written, what="a first update")
            fam = Family(d.proc.pid).scan()
            [rrdw] = [p for p in fam.living() if stat(p)[0] == "vitals-rrdw"]
            os.kill(rrdw, signal.SIGSTOP)
            d.send_udp("shop.legacy:1|c")
            # The stall shows: the round in progress grows, the queue too.
            wait_for(lambda: (d.value("vitals_storage_round_running_seconds")
                              or 0) >= 2, timeout=10,
                     what="the stalled round")
            self.assertGreater(d.value("vitals_storage_queue"), 0)
            traffic.close()
            traffic = None
            fam.scan()
            t0 = time.time()
            d.proc.send_signal(signal.SIGTERM)
            rc = d.proc.wait(timeout=20)
            took = time.time() - t0
            d.log.close()
            d.returncode = rc
            self.assertEqual(rc, 0, d.log_text())
            self.assertLess(took, 3 + 2.0, "SIGTERM took %.1fs" % took)
            self.assertGreater(took, 2.0)
            log = d.log_text()
            self.assertIn("not written", log)
            self.assertIn("shutdown_timeout", log)
            wait_for(lambda: not fam.living(), timeout=5,
                     what="every helper gone: %r" % fam.living())
            d.assert_clean_log()
        finally:
            if traffic:
                traffic.close()
            d.cleanup()

    def test_sigterm_after_sigcont_writes_everything(self):
        """A writer stopped and continued within the bound: SIGTERM
        still writes the final window, nothing is reported lost."""
        d = Vitalsd(flush="1s")
        try:
            d.start()
            d.send_udp("shop.orders:1|c")
            path = os.path.join(d.data_dir, "shop", "orders.rrd")
            wait_for(lambda: os.path.exists(path), timeout=15,
                     what="orders.rrd")
            fam = Family(d.proc.pid).scan()
            [rrdw] = [p for p in fam.living() if stat(p)[0] == "vitals-rrdw"]
            os.kill(rrdw, signal.SIGSTOP)
            d.send_udp("shop.orders:2|c")
            time.sleep(2.5)
            os.kill(rrdw, signal.SIGCONT)
            self.assertEqual(d.stop(signal.SIGTERM, timeout=15), 0)
            log = d.log_text()
            self.assertIn("final window written", log)
            self.assertNotIn("not written", log)
            d.assert_clean_log()
        finally:
            d.cleanup()


if __name__ == "__main__":
    import unittest
    unittest.main()
