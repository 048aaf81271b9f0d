"""Round-robin storage end to end (SPEC 5 and 6): real traffic into the
real binary, then the files read back with the real `rrdtool info`,
`lastupdate` and `fetch`; hostile names that must not leave the data
directory; the series and graph endpoints; the final window on SIGTERM;
recovery from an unwritable directory; and the same through a real
rrdcached started here."""
import glob
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import statsd

from harness import TestCase, Vitalsd, terminate, wait_for

RRDTOOL = shutil.which("rrdtool") or "/usr/bin/rrdtool"
RRDCACHED = shutil.which("rrdcached") or "/usr/bin/rrdcached"

# One-second windows with one row per window in the finest archive, so a
# window's values can be read back exactly.
FINE = {"rrd": {"points_per_range": 3600}}
# The same, with timer files storing every statistic (rrd.timer_stats):
# new files keep count, rate and the percentiles by default (issue 19).
TIMER_ALL = "count,rate,sum,mean,min,max,stddev"
FINE_ALL = {"rrd": {"points_per_range": 3600, "timer_stats": TIMER_ALL}}


def rrdtool(*args):
    r = subprocess.run([RRDTOOL] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("rrdtool %s: %s" % (" ".join(map(str, args)),
                                                 r.stderr))
    return r.stdout


def number(text):
    v = float(text)
    return None if math.isnan(v) else v


def lastupdate(path, daemon=None):
    """(timestamp, {ds: value}) from `rrdtool lastupdate`."""
    args = ["lastupdate", path]
    if daemon:
        args += ["--daemon", daemon]
    lines = [l for l in rrdtool(*args).splitlines() if l.strip()]
    names = lines[0].split()
    ts, vals = lines[-1].split(":", 1)
    return int(ts), dict(zip(names, [None if v == "U" else number(v)
                                     for v in vals.split()]))


def fetch(path, cf="AVERAGE", start="-300", daemon=None):
    """[(timestamp, {ds: value or None})] from `rrdtool fetch`."""
    args = ["fetch", path, cf, "-s", start, "-e", "now", "-r", "1"]
    if daemon:
        args += ["--daemon", daemon]
    lines = [l for l in rrdtool(*args).splitlines() if l.strip()]
    names = lines[0].split()
    rows = []
    for line in lines[1:]:
        ts, vals = line.split(":", 1)
        rows.append((int(ts), dict(zip(names, map(number, vals.split())))))
    return rows


def info(path):
    out = {}
    for line in rrdtool("info", path).splitlines():
        k, _, v = line.partition(" = ")
        out[k] = v.strip('"')
    return out


def rows_with(path, ds, predicate, **kw):
    return [r for _, r in fetch(path, **kw) if r.get(ds) is not None
            and predicate(r)]


def wait_row(path, ds, predicate, timeout=15, **kw):
    """Wait until the file has a row whose ds satisfies predicate."""
    def found():
        if not os.path.exists(path):
            return None
        rows = rows_with(path, ds, predicate, **kw)
        return rows[0] if rows else None
    return wait_for(found, timeout=timeout, interval=0.2,
                    what="a row of %s with %s" % (path, ds))


def all_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            yield os.path.join(dirpath, n)


class KindsOnDisk(TestCase):
    """Counters, gauges, timers and sets land in their files."""

    def test_values_read_back_with_rrdtool(self):
        with Vitalsd(config=FINE_ALL) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            c.gauge("payments.queue.depth", 7)
            # One datagram: every line lands in the same window.
            d.send_udp("\n".join(["payments.http.requests:1|c"] * 3 +
                                 ["payments.http.get:%d|ms" % v
                                  for v in (10, 20, 30, 40)] +
                                 ["payments.users:alice|s",
                                  "payments.users:bob|s"]))
            data = d.data_dir
            req = os.path.join(data, "payments", "http.requests.rrd")
            row = wait_row(req, "count", lambda r: r["count"] == 3)
            # count / the window's length: a second, or less for the
            # first window after start.
            self.assertGreaterEqual(row["rate"], 2.9)
            self.assertLessEqual(row["rate"], 30)

            get = os.path.join(data, "payments", "http.get.rrd")
            row = wait_row(get, "count", lambda r: r["count"] == 4)
            self.assertEqual(row["min"], 10)
            self.assertEqual(row["max"], 40)
            self.assertEqual(row["mean"], 25)
            self.assertEqual(row["sum"], 100)
            # Percentiles as the aggregator's sketch computes them (the
            # same numbers /metrics shows): within the samples' range.
            self.assertAlmostEqual(row["p50"], 20, delta=1)
            self.assertTrue(29 <= row["p99"] <= 41, row["p99"])

            users = os.path.join(data, "payments", "users.rrd")
            wait_row(users, "value", lambda r: r["value"] == 2)
            depth = os.path.join(data, "payments", "queue.depth.rrd")
            wait_row(depth, "value", lambda r: r["value"] == 7)

            # Windows after the traffic: counters 0, gauges keep their
            # value, timer statistics unknown.
            wait_for(lambda: lastupdate(req)[1]["count"] == 0,
                     what="an empty counter window")
            self.assertEqual(lastupdate(depth)[1]["value"], 7)
            ts, last = lastupdate(get)
            self.assertEqual(last["count"], 0)
            self.assertIsNone(last["p99"])
            self.assertLessEqual(abs(ts - time.time()), 5)

            i = info(get)
            self.assertEqual(i["step"], "1")
            names = [k[3:-7] for k in i if k.startswith("ds[")
                     and k.endswith("].index")]
            self.assertEqual(sorted(names), sorted(
                ["count", "rate", "sum", "mean", "min", "max", "stddev",
                 "p50", "p90", "p95", "p99"]))
            m = d.metrics()
            self.assertGreaterEqual(
                m[("vitals_storage_updates_total", frozenset())], 4)
            self.assertEqual(m[("vitals_storage_errors_total", frozenset())],
                             0)
            self.assertEqual(m[("vitals_storage_files", frozenset())], 4)

    def test_labels_and_tagged_service(self):
        with Vitalsd(config=FINE) as d:
            d.send_udp("http.req:2|c|#service:api,method:GET\n"
                       "http.req:5|c|#service:api,method:POST")
            svc = os.path.join(d.data_dir, "api")
            # Only finished files: librrd creates "<name>.rrdXXXXXX" first
            # and renames it when complete.
            def rrds():
                return sorted(f for f in os.listdir(svc)
                              if f.endswith(".rrd"))
            files = wait_for(lambda: len(rrds()) == 2 and rrds()
                             if os.path.isdir(svc) else None,
                             what="two labelled files")
            for f in files:
                self.assertRegex(f, r"^http\.req_method_(GET|POST)-"
                                 r"[0-9a-f]{12}\.rrd$")
            r = wait_for(lambda: d.get(
                "/api/v1/series?service=api&metric=http.req&from=-60"
                "&labels=method:POST&stat=count").json().get("points") and
                any(p[1] == 5 for p in d.get(
                    "/api/v1/series?service=api&metric=http.req&from=-60"
                    "&labels=method:POST&stat=count").json()["points"]),
                what="POST series with 5")
            self.assertTrue(r)
            # Without labels there is no unlabelled file.
            self.assertEqual(d.get("/api/v1/series?service=api&metric="
                                   "http.req").status, 404)

    def test_default_archives_and_file_size(self):
        """The default layout (issue 19): 10 s step, 500 rows per range
        past the hour, MAX only where a row holds several windows; the
        sizes on disk within the targets (a timer <= 250 KB, a counter,
        gauge or set <= 80 KB) and equal to what --check-config says."""
        d = Vitalsd(flush=None)
        try:
            d.start()
            d.send_udp("sizes.c:1|c\nsizes.g:1|g\nsizes.t:1|ms\n"
                       "sizes.s:a|s\nsizes.h:1|h")
            self.assertEqual(d.post("/api/v1/health", json.dumps(
                {"service": "sizes", "instance": "i", "check": "k",
                 "status": "ok"})).status // 100, 2)
            time.sleep(0.3)
            self.assertEqual(d.stop(), 0)
            base = os.path.join(d.data_dir, "sizes")
            paths = {n: os.path.join(base, n + ".rrd")
                     for n in ("c", "g", "t", "s", "h")}
            paths["check"] = os.path.join(base, "checks", "i", "k.rrd")
            sizes = {n: os.path.getsize(p) for n, p in paths.items()}
            print("\nbytes per file, default layout at a 10 s step: %s"
                  % sizes, file=sys.stderr)
            # 144 + 232 D + 128 R + 80 D R + 8 D ROWS, R = 9,
            # ROWS = 2340 AVERAGE + 1980 MAX
            def formula(ds):
                return 144 + 232 * ds + 128 * 9 + 80 * ds * 9 + \
                    8 * ds * 4320
            self.assertEqual(sizes["c"], formula(2))
            self.assertEqual(sizes["g"], formula(1))
            self.assertEqual(sizes["s"], formula(1))
            self.assertEqual(sizes["check"], formula(1))
            self.assertEqual(sizes["t"], formula(6))
            self.assertEqual(sizes["h"], formula(6))
            self.assertLessEqual(sizes["t"], 250000)
            for k in ("c", "g", "s"):
                self.assertLessEqual(sizes[k], 80000, k)
            i = info(paths["c"])
            self.assertEqual(i["step"], "10")
            self.assertEqual(i["ds[count].minimal_heartbeat"], "20")
            rras = [(i["rra[%d].cf" % k], int(i["rra[%d].pdp_per_row" % k]),
                     int(i["rra[%d].rows" % k])) for k in range(9)]
            self.assertEqual(rras, [("AVERAGE", 1, 360),
                                    ("AVERAGE", 18, 480),
                                    ("AVERAGE", 121, 500),
                                    ("AVERAGE", 536, 500),
                                    ("AVERAGE", 6325, 500),
                                    ("MAX", 18, 480),
                                    ("MAX", 121, 500),
                                    ("MAX", 536, 500),
                                    ("MAX", 6325, 500)])
            self.assertNotIn("rra[9].cf", i)
            i = info(paths["t"])
            names = sorted(k[3:-7] for k in i if k.startswith("ds[")
                           and k.endswith("].index"))
            self.assertEqual(names, sorted(["count", "rate", "p50", "p90",
                                            "p95", "p99"]))
            # --check-config prints the same bytes per kind (stderr).
            r = subprocess.run([d.args[0], "--check-config", "--data-dir",
                                d.data_dir], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            said = {}
            for line in r.stderr.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "bytes":
                    said[parts[0]] = int(parts[1])
            self.assertEqual(said, {
                "counter": sizes["c"], "gauge": sizes["g"],
                "set": sizes["s"], "timer": sizes["t"],
                "histogram": sizes["h"], "check": sizes["check"]})
        finally:
            d.cleanup()


# Layout 1: every file made before issue 19 (rrd_layout.h). Timers stored
# every statistic, every range had an AVERAGE and a MAX archive, 1000
# points per range; this is the old code's vt_rrd_layout_create_args.
OLD_TIMER_DS = ["count", "rate", "sum", "mean", "min", "max", "stddev",
                "p50", "p90", "p95", "p99"]


def old_layout_args(ds, step, points=1000):
    ranges = [3600, 86400, 7 * 86400, 31 * 86400, 366 * 86400]
    archives = []
    for i, r in enumerate(ranges):
        pdp = 1 if i == 0 else max(1, -(-r // (step * points)))
        rows = max(2, -(-r // (step * pdp)))
        if archives and archives[-1][0] == pdp:
            archives[-1] = (pdp, rows)
            continue
        archives.append((pdp, rows))
    args = ["DS:%s:GAUGE:%d:U:U" % (n, 2 * step) for n in ds]
    for cf in ("AVERAGE", "MAX"):
        args += ["RRA:%s:0.5:%d:%d" % (cf, p, n) for p, n in archives]
    return args


def ds_names(path):
    i = info(path)
    return sorted(k[3:-7] for k in i if k.startswith("ds[")
                  and k.endswith("].index"))


class OldLayout(TestCase):
    """A data directory made by the layout before issue 19 keeps being
    written as it is and graphs; new files beside it get the new layout;
    files of another step are left alone, with a warning."""

    def test_old_layout_directory_still_graphs(self):
        d = Vitalsd()          # the default layout, 1 s windows
        try:
            base = os.path.join(d.data_dir, "legacy")
            os.makedirs(base)
            start = int(time.time()) - 30
            t = os.path.join(base, "http.get.rrd")
            c = os.path.join(base, "hits.rrd")
            rrdtool("create", t, "--step", 1, "--start", start,
                    *old_layout_args(OLD_TIMER_DS, 1))
            rrdtool("create", c, "--step", 1, "--start", start,
                    *old_layout_args(["count", "rate"], 1))
            size_t, size_c = os.path.getsize(t), os.path.getsize(c)
            d.start()
            # The first window after a start is stored unknown in files
            # from before (rrd_files.c, HOLE_CUT): send after it.
            time.sleep(2.2)
            d.send_udp("\n".join(["legacy.http.get:%d|ms" % v
                                   for v in (10, 20, 30, 40)] +
                                  ["legacy.hits:3|c", "legacy.fresh:7|ms"]))
            row = wait_row(t, "count", lambda r: r["count"] == 4)
            # Written with every data source the old file has.
            self.assertEqual((row["min"], row["max"], row["mean"],
                              row["sum"]), (10, 40, 25, 100))
            self.assertAlmostEqual(row["p50"], 20, delta=1)
            wait_row(c, "count", lambda r: r["count"] == 3)
            self.assertEqual(os.path.getsize(t), size_t)
            self.assertEqual(os.path.getsize(c), size_c)
            self.assertEqual(ds_names(t), sorted(OLD_TIMER_DS))
            # A new file beside them has the new layout.
            fresh = os.path.join(base, "fresh.rrd")
            wait_row(fresh, "count", lambda r: r["count"] == 1)
            self.assertEqual(ds_names(fresh), sorted(
                ["count", "rate", "p50", "p90", "p95", "p99"]))
            self.assertLess(os.path.getsize(fresh), size_t / 3)
            print("\nbytes per timer file at a 1 s step: layout 1 %d, new "
                  "%d" % (size_t, os.path.getsize(fresh)), file=sys.stderr)

            # The old file: series and graphs of every stat, MAX too.
            url = "/api/v1/series?service=legacy&metric=http.get&from=-2m"
            j = d.get(url + "&stat=mean").json()
            self.assertIn(25, [p[1] for p in j["points"]])
            self.assertEqual(d.get(url + "&stat=max&cf=MAX").status, 200)
            for q in ("stat=mean&max=1", "stat=p50,p90,p99",
                      "stat=max&cf=MAX&max=1"):
                r = d.get("/graph/legacy/http.get.png?from=-10m&" + q)
                self.assertEqual(r.status, 200, q)
                self.assertEqual(r.body[:4], b"\x89PNG", q)
            self.assertEqual(d.get("/graph/legacy/hits.svg?from=-1h")
                             .status, 200)

            # The new file: no MAX archive at one row per window, so MAX
            # over the last hour reads the same values from AVERAGE; a
            # statistic it does not store is a 400 naming it.
            for q in ("max=1", "cf=MAX&max=1", "cf=MAX&from=-1d",
                      "stat=p50,p99&cf=MAX"):
                r = d.get("/graph/legacy/fresh.png?from=-10m&" + q)
                self.assertEqual(r.status, 200, (q, r.body[:200]))
            r = d.get("/api/v1/series?service=legacy&metric=fresh"
                      "&stat=mean&from=-2m")
            self.assertEqual(r.status, 400)
            self.assertIn("mean", r.json()["error"])
            r = d.get("/graph/legacy/fresh.png?stat=mean")
            self.assertEqual(r.status, 400)
            self.assertNotIn("have a step", d.log_text())
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_other_step_is_warned_and_not_written(self):
        d = Vitalsd()          # 1 s windows
        try:
            base = os.path.join(d.data_dir, "legacy")
            os.makedirs(base)
            ten = os.path.join(base, "ten.rrd")
            rrdtool("create", ten, "--step", 10, "--start",
                    int(time.time()) - 100,
                    *old_layout_args(["count", "rate"], 10))
            before = lastupdate(ten)
            d.start()
            d.send_udp("legacy.ten:5|c\nlegacy.one:1|c")
            wait_row(os.path.join(base, "one.rrd"), "count",
                     lambda r: r["count"] == 1)
            wait_for(lambda: "have a step of 10s" in d.log_text(),
                     what="the step warning")
            time.sleep(2.5)
            d.send_udp("legacy.ten:5|c")
            time.sleep(1.5)
            # Never a 1 s window in a 10 s file.
            self.assertEqual(lastupdate(ten), before)
            self.assertGreaterEqual(d.value("vitals_storage_skipped_total",
                                            reason="conflict"), 1)
            self.assertEqual(d.stop(), 0)
            log = d.log_text()
            self.assertEqual(log.count("have a step of 10s"), 1, log)
            self.assertIn("1 existing files (1 so far) have a step of 10s, "
                          "not the flush interval's 1s", log)
            self.assertIn("--flush 10", log)
        finally:
            d.cleanup()


class Overrides(TestCase):
    def test_overrides_per_service_or_metric_pattern(self):
        """rrd.overrides: the first entry whose globs match a new file
        decides what it stores and its rows; other files keep the
        defaults."""
        cfg = {"rrd": {"overrides": [
            {"service": "billing*", "timer_stats": "count,rate,mean,max",
             "points_per_range": 1000},
            {"metric": "debug.*", "max_archives": False,
             "counter_stats": "rate"},
            {"metric": "short.*", "retention": "31d"}]}}
        with Vitalsd(config=cfg) as d:
            d.send_udp("billing.api.t:5|ms\nshop.api.t:5|ms\n"
                       "shop.debug.c:1|c\nshop.c:1|c\nshop.short.c:1|c")
            paths = {k: os.path.join(d.data_dir, *k.split("/"))
                     for k in ("billing/api.t.rrd", "shop/api.t.rrd",
                               "shop/debug.c.rrd", "shop/c.rrd",
                               "shop/short.c.rrd")}
            for p in paths.values():
                wait_for(lambda: os.path.exists(p), what=p)
            self.assertEqual(ds_names(paths["billing/api.t.rrd"]), sorted(
                ["count", "rate", "mean", "max", "p50", "p90", "p95",
                 "p99"]))
            self.assertEqual(ds_names(paths["shop/api.t.rrd"]), sorted(
                ["count", "rate", "p50", "p90", "p95", "p99"]))
            self.assertEqual(ds_names(paths["shop/debug.c.rrd"]), ["rate"])
            self.assertEqual(ds_names(paths["shop/c.rrd"]),
                             ["count", "rate"])
            i = info(paths["billing/api.t.rrd"])
            self.assertEqual(i["rra[1].rows"], "994")      # 1000 points
            cfs = [v for k, v in info(paths["shop/debug.c.rrd"]).items()
                   if k.endswith("].cf")]
            self.assertEqual(set(cfs), {"AVERAGE"})
            # retention 31d: 1 h, 1 d, 1 w and 31 d; the year is gone.
            i = info(paths["shop/short.c.rrd"])
            avg = sorted(int(i["rra[%d].pdp_per_row" % k]) * int(
                i["rra[%d].rows" % k]) for k in range(8)
                if i.get("rra[%d].cf" % k) == "AVERAGE")
            self.assertEqual(len(avg), 4)
            self.assertGreaterEqual(avg[-1], 31 * 86400)
            self.assertLess(avg[-1], 32 * 86400)
            self.assertLess(os.path.getsize(paths["shop/short.c.rrd"]),
                            os.path.getsize(paths["shop/c.rrd"]))
            self.assertEqual(d.get("/graph/shop/short.c.png?from=-1y")
                             .status, 200)
            # The stats the override keeps answer; the default file's not.
            wait_row(paths["billing/api.t.rrd"], "mean",
                     lambda r: r["mean"] == 5)
            self.assertEqual(d.get("/api/v1/series?service=billing&metric="
                                   "api.t&stat=mean").status, 200)
            self.assertEqual(d.get("/api/v1/series?service=shop&metric="
                                   "api.t&stat=mean").status, 400)
            self.assertEqual(d.get("/graph/shop/debug.c.png?max=1&from=-1d")
                             .status, 200)


class FinalWindow(TestCase):
    def test_sigterm_writes_the_final_window(self):
        d = Vitalsd(flush="1h", config={"rrd": {"timer_stats": TIMER_ALL}})
        try:
            d.start()
            d.send_udp("shop.orders:4|c\nshop.orders:2|c\nshop.stock:42|g\n"
                       "shop.checkout:120|ms\nshop.checkout:80|ms")
            time.sleep(0.3)   # /metrics shows nothing before a window
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            base = os.path.join(d.data_dir, "shop")
            ts, orders = lastupdate(os.path.join(base, "orders.rrd"))
            self.assertEqual(orders["count"], 6)
            self.assertLessEqual(abs(ts - time.time()), 10)
            self.assertEqual(lastupdate(os.path.join(base, "stock.rrd"))[1],
                             {"value": 42})
            _, co = lastupdate(os.path.join(base, "checkout.rrd"))
            self.assertEqual(co["count"], 2)
            self.assertEqual(co["mean"], 100)
            self.assertEqual(co["max"], 120)
            self.assertEqual(info(os.path.join(base, "orders.rrd"))["step"],
                             "3600")
            self.assertIn("final window written", d.log_text())
        finally:
            d.cleanup()


def pids_named(*names):
    """{pid: comm} of the processes whose comm is one of names."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            out[int(entry)] = comm
    return out


def family_of(d):
    """{pid: comm} of d and its helpers, wherever they were reparented
    (a spare that took over is init's child): every vitalsd or
    vitals-rrdw whose command line names d's data directory."""
    out = {}
    for p, comm in pids_named("vitalsd", "vitals-rrdw").items():
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if d.data_dir.encode() in args:
            out[p] = comm
    return out


def children_of(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


class Helpers(TestCase):
    def test_killed_fork_server_is_replaced(self):
        """kill -9 of the fork server: its spare takes over, graphs, the
        series API and storage go on; the daemon never maps librrd; after
        SIGTERM no helper is left."""
        d = Vitalsd(flush="1s")
        try:
            d.start()
            d.send_udp("shop.orders:1|c")
            path = os.path.join(d.data_dir, "shop", "orders.rrd")
            wait_for(lambda: os.path.exists(path), timeout=15,
                     what="orders.rrd")
            self.assertEqual(d.get("/graph/shop/orders.svg").status, 200)
            [server] = children_of(d.proc.pid)
            os.kill(server, signal.SIGKILL)
            written = d.value("vitals_storage_updates_total")

            def storing():
                d.send_udp("shop.orders:1|c")
                return d.value("vitals_storage_updates_total") > written + 3
            wait_for(storing, timeout=20, interval=0.5,
                     what="updates after the kill")
            self.assertEqual(d.value("vitals_forkserver_takeovers_total"), 1)
            self.assertEqual(d.get("/graph/shop/orders.svg").status, 200)
            r = d.get("/api/v1/series?service=shop&metric=orders&stat=count"
                      "&from=-1m")
            self.assertEqual(r.status, 200)
            self.assertTrue(any(v for _, v in r.json()["points"]))
            self.assertIn("spare took over", d.log_text())
            with open("/proc/%d/maps" % d.proc.pid) as f:
                self.assertNotIn("librrd", f.read())

            # The daemon, the server and its spare (once the short-lived
            # children of the reads above have exited), and the worker
            # when a file was made since: updates are written in place,
            # so the worker the kill took with it comes back only when
            # the writer next needs librrd.
            def settled():
                new = family_of(d)
                names = sorted(new.values())
                return new if names in (
                    ["vitals-rrdw", "vitalsd", "vitalsd", "vitalsd"],
                    ["vitalsd", "vitalsd", "vitalsd"]) else None
            helpers = set(wait_for(settled, timeout=15,
                                   what="daemon, server, spare, worker"))
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            wait_for(lambda: not (set(pids_named("vitalsd", "vitals-rrdw"))
                                  & helpers),
                     timeout=10, what="every helper gone")
        finally:
            d.cleanup()


    def test_sigterm_to_every_process_writes_the_final_window(self):
        """systemd stops a unit by sending SIGTERM to all its processes at
        once: the helpers must outlive the daemon's final window."""
        d = Vitalsd(flush="1h")
        try:
            d.start()
            d.send_udp("shop.orders:5|c")

            def family():   # the daemon, server, spare and worker
                pids = [d.proc.pid]
                for p in pids:
                    pids += children_of(p)
                return pids if len(pids) >= 4 else None
            pids = wait_for(family, what="the helper processes")
            d.value("vitals_storage_queue")   # the line is in by now
            for p in pids:
                os.kill(p, signal.SIGTERM)
            self.assertEqual(d.proc.wait(timeout=30), 0)
            _, orders = lastupdate(os.path.join(d.data_dir, "shop",
                                                "orders.rrd"))
            self.assertEqual(orders["count"], 5)
            self.assertNotIn("ERROR", d.log_text())
            self.assertIn("final window written", d.log_text())
        finally:
            d.cleanup()


HOSTILE = [
    "../../../escape1:1|c",
    "x:1|c|#service:../../..",
    "esc2:1|c|#service:/tmp",
    "a/b/../../c.esc3:1|c",
    "..%2f..%2fesc4:1|c",
    "..:1|c",
    "svc./..:1|c",
    "\u00e9t\u00e9.\u00fc/esc5:1|c",
    "svc.nul\x00esc6:1|c",
    "svc.tab\tesc7:1|c",
    "svc." + "L" * 480 + ":1|c",
    "svc." + "M" * 600 + ":1|c",
    "svc.x:1|c|#../k:../v",
]


class HostileNames(TestCase):
    def test_nothing_outside_the_data_dir(self):
        with Vitalsd(config=FINE) as d:
            for line in HOSTILE:
                d.send_udp(line.encode("utf-8"))
            wait_for(lambda: (d.value("vitals_storage_files") or 0) >= 8,
                     what="files for the hostile names")
            data = os.path.realpath(d.data_dir)
            top = os.path.realpath(d.dir)
            for p in all_files(top):
                real = os.path.realpath(p)
                if real.startswith(data + os.sep) or real == data:
                    self.assertFalse(os.path.islink(p), p)
                    continue
                self.assertIn(os.path.basename(p),
                              ("data", "vitalsd.log", "vitals.json"), p)
            for p in all_files(data):
                name = os.path.basename(p)
                self.assertRegex(name, r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
                self.assertLess(len(name), 256)
            self.assertEqual(glob.glob("/tmp/*esc[0-9]*"), [])
            self.assertEqual(glob.glob(os.path.join(top, "*.rrd")), [])
            self.assertEqual(d.value("vitals_storage_errors_total"), 0)
            # Distinct names, distinct files: "svc.a/b" and "svc.a_b".
            d.send_udp("svc.a/b:1|c\nsvc.a_b:2|c")
            wait_for(lambda: os.path.exists(os.path.join(data, "svc",
                                                         "a_b.rrd")),
                     what="svc/a_b.rrd")
            other = wait_for(lambda: [f for f in os.listdir(
                os.path.join(data, "svc")) if f.startswith("a_b-")
                and f.endswith(".rrd")], what="the file of svc.a/b")
            self.assertEqual(len(other), 1)

    def test_http_paths_cannot_escape(self):
        with Vitalsd(config=FINE) as d:
            d.send_udp("svc.ok:1|c")
            wait_for(lambda: os.path.exists(os.path.join(
                d.data_dir, "svc", "ok.rrd")), what="svc/ok.rrd")
            secret = os.path.join(d.dir, "secret.rrd")
            shutil.copy(os.path.join(d.data_dir, "svc", "ok.rrd"), secret)
            for path in ("/graph/..%2f..%2fsecret.png",
                         "/graph/../secret.png",
                         "/graph/svc/..%2f..%2fsecret.svg",
                         "/graph/%2e%2e/secret.png",
                         "/graph/svc/%00ok.png",
                         "/api/v1/series?service=..&metric=secret",
                         "/api/v1/series?service=svc&metric=../../secret",
                         "/api/v1/series?service=svc&metric=ok&labels="
                         "..:..%2f..%2fsecret"):
                r = d.get(path)
                self.assertIn(r.status, (400, 404), path)
                self.assertEqual(r.headers["Content-Type"],
                                 "application/json", path)
                self.assertIn("error", r.json())


class SeriesAndGraphs(TestCase):
    def test_series_json_and_errors(self):
        with Vitalsd(config=FINE_ALL) as d:
            d.send_udp("web.latency:100|ms\nweb.latency:300|ms")
            url = "/api/v1/series?service=web&metric=latency&from=-2m"

            def has_point():
                r = d.get(url + "&stat=mean")
                return r.status == 200 and [p for p in r.json()["points"]
                                            if p[1] == 200]
            wait_for(has_point, what="mean 200 in the series")
            j = d.get(url + "&stat=mean").json()
            self.assertEqual((j["service"], j["metric"], j["stat"],
                              j["unit"], j["kind"], j["cf"], j["step"]),
                             ("web", "latency", "mean", "ms", "timer",
                              "AVERAGE", 1))
            self.assertTrue(all(len(p) == 2 and isinstance(p[0], int)
                                for p in j["points"]))
            self.assertIn(None, [p[1] for p in j["points"]])  # gaps
            ts = [p[0] for p in j["points"]]
            self.assertEqual(ts, sorted(ts))
            # Defaults: p99 for a timer; unix seconds accepted.
            now = int(time.time())
            j = d.get("/api/v1/series?service=web&metric=latency&from=%d"
                      "&until=%d" % (now - 60, now)).json()
            self.assertEqual(j["stat"], "p99")
            self.assertEqual(j["until"], now)
            self.assertEqual(d.get(url + "&stat=p99.0").status, 400)
            self.assertEqual(d.get(url + "&cf=MAX&stat=max").status, 200)
            base = "/api/v1/series?service=web&metric=latency"
            for bad in ("&from=yesterday", "&until=-1h&from=now",
                        "&from=-5y", "&stat=p42", "&cf=MIN",
                        "&from=-1h;rm", "&labels=service:x", "&from=-1x",
                        "&until=12345678901234"):
                r = d.get(base + bad)
                self.assertEqual(r.status, 400, bad)
                self.assertIn("error", r.json())
            self.assertEqual(d.get("/api/v1/series?service=web").status, 400)
            r = d.get("/api/v1/series?service=web&metric=nope")
            self.assertEqual(r.status, 404)
            self.assertEqual(r.json()["error"], "no such series")

    def test_max_reads_average_where_a_file_has_no_max_archive(self):
        """rrd.max_archives false: no MAX archive at all; cf=MAX and
        max=1 read AVERAGE at the resolution that covers the range."""
        with Vitalsd(config={"rrd": {"max_archives": False}}) as d:
            time.sleep(2.2)
            d.send_udp("nomax.t:5|ms")
            path = os.path.join(d.data_dir, "nomax", "t.rrd")
            wait_row(path, "count", lambda r: r["count"] == 1)
            i = info(path)
            self.assertEqual({v for k, v in i.items()
                              if k.endswith("].cf")}, {"AVERAGE"})
            url = "/api/v1/series?service=nomax&metric=t&stat=p99"
            for span in ("-1h", "-2d", "-1y"):
                a = d.get(url + "&from=" + span).json()
                m = d.get(url + "&cf=MAX&from=" + span).json()
                self.assertEqual((m["step"], len(m["points"])),
                                 (a["step"], len(a["points"])), span)
                self.assertLessEqual(len(m["points"]), 3601, span)
            self.assertIn(5, [p[1] for p in d.get(
                url + "&cf=MAX&from=-5m").json()["points"]])
            for q in ("max=1&from=-1d", "cf=MAX&from=-1h",
                      "stat=p50,p99&cf=MAX&from=-1w"):
                r = d.get("/graph/nomax/t.png?" + q)
                self.assertEqual(r.status, 200, (q, r.body[:200]))

    def test_png_and_svg_graphs(self):
        with Vitalsd(config=FINE) as d:
            for v in (5, 15, 25):
                d.send_udp("api.db.query:%d|ms\napi.hits:1|c" % v)
                time.sleep(1.1)
            path = os.path.join(d.data_dir, "api", "db.query.rrd")
            wait_row(path, "count", lambda r: r["count"] >= 1)
            r = d.get("/graph/api/db.query.png?from=-5m&stat=p99")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "image/png")
            self.assertEqual(r.body[:8], b"\x89PNG\r\n\x1a\n")
            with open("/tmp/vitals-graph-test.png", "wb") as f:
                f.write(r.body)   # for a human to look at
            r = d.get("/graph/api/hits.svg?from=-5m&theme=light"
                      "&width=300&height=100")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "image/svg+xml")
            root = ET.fromstring(r.body)
            self.assertTrue(root.tag.endswith("svg"))
            self.assertGreater(len(r.body), 1000)
            for bad, status in (("/graph/api/db.query.gif", 404),
                                ("/graph/api/db.query", 404),
                                ("/graph/api/nope.png", 404),
                                ("/graph/api.png", 404),
                                ("/graph/api/db.query.png?width=5", 400),
                                ("/graph/api/db.query.png?height=x", 400),
                                ("/graph/api/db.query.png?stat=zz", 400),
                                ("/graph/api/db.query.png?from=foo", 400),
                                ("/graph/api/db.query.png?theme=pink",
                                 400)):
                r = d.get(bad)
                self.assertEqual(r.status, status, bad)
                self.assertEqual(r.headers["Content-Type"],
                                 "application/json", bad)

    def test_check_status_history(self):
        with Vitalsd(config=FINE) as d:
            body = json.dumps({"service": "billing", "instance": "bill-1",
                               "check": "db", "status": "warning"})
            self.assertEqual(d.post("/api/v1/health", body).status // 100, 2)
            path = os.path.join(d.data_dir, "billing", "checks", "bill-1",
                                "db.rrd")
            wait_row(path, "status", lambda r: r["status"] == 1)
            j = wait_for(lambda: d.get(
                "/api/v1/series?service=billing&check=db&instance=bill-1"
                "&from=-1m").json(), what="check series")
            self.assertEqual(j["stat"], "status")
            self.assertEqual(j["kind"], "check")
            self.assertIn(1, [p[1] for p in j["points"]])
            r = d.get("/graph/billing/db.png?instance=bill-1&from=-10m")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body[:4], b"\x89PNG")
            self.assertEqual(d.get("/graph/billing/db.png?instance=x")
                             .status, 404)


class Recovery(TestCase):
    def test_unwritable_directory_is_counted_and_recovers(self):
        with Vitalsd(config=FINE) as d:
            os.makedirs(d.data_dir, exist_ok=True)
            blocker = os.path.join(d.data_dir, "blocked")
            with open(blocker, "w") as f:
                f.write("in the way of a service directory\n")
            d.send_udp("blocked.c:1|c")
            wait_for(lambda: (d.value("vitals_storage_errors_total") or 0)
                     >= 2, what="storage errors counted")
            log = d.log_text()
            self.assertEqual(log.count("cannot create or open files"), 1)
            self.assertIsNotNone(d.value("vitals_lines_total", result="ok"))
            os.unlink(blocker)
            d.send_udp("blocked.c:1|c")
            wait_for(lambda: os.path.exists(os.path.join(blocker, "c.rrd")),
                     what="the file once the directory can be made")
            wait_for(lambda: "files can be created again" in d.log_text(),
                     what="recovery logged")


class Rrdcached(TestCase):
    """Updates and fetches through a real rrdcached."""

    def setUp(self):
        self.d = Vitalsd(config=None)
        os.makedirs(self.d.data_dir)
        self.sock = os.path.join(self.d.dir, "rrdcached.sock")
        self.cached = subprocess.Popen(
            [RRDCACHED, "-g", "-F", "-B", "-b", self.d.data_dir,
             "-l", "unix:" + self.sock, "-p",
             os.path.join(self.d.dir, "rrdcached.pid"),
             "-w", "3600", "-z", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.sock), what="rrdcached socket")

    def tearDown(self):
        terminate(self.cached)
        self.d.cleanup()

    def stats(self):
        """rrdcached's STATS, e.g. {"UpdatesReceived": 12, ...}."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.sock)
        s.sendall(b"STATS\n")
        data = b""
        while True:
            lines = data.split(b"\n")
            if len(lines) > 1 and len(lines) - 1 >= 1 + int(
                    lines[0].split(b" ", 1)[0]):
                break
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        out = {}
        for line in data.decode().splitlines()[1:]:
            k, _, v = line.partition(": ")
            out[k] = int(v)
        return out

    def start(self, rrd):
        d = self.d
        path = os.path.join(d.dir, "vitals.json")
        with open(path, "w") as f:
            json.dump({"rrd": rrd, "self_metrics": False}, f)
        d.args += ["-c", path]
        d.start()
        return d

    def stop(self):
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.d.assert_clean_log()

    def test_updates_and_fetches_go_through_rrdcached(self):
        daemon = "unix:" + self.sock
        d = self.start({"cached": daemon, "points_per_range": 3600})
        d.send_udp("cached.hits:7|c\ncached.temp:21|g\ncached.rt:40|ms")
        wait_for(lambda: self.stats().get("UpdatesReceived", 0) >= 6,
                 what="updates received by rrdcached")
        path = os.path.join(d.data_dir, "cached", "hits.rrd")
        self.assertTrue(os.path.exists(path))
        # rrdcached holds the updates (-w 3600): the file on disk is
        # behind until rrdcached writes it, which reading through it does.
        disk_ts = int(info(path)["last_update"])
        ts, _ = lastupdate(path, daemon=daemon)
        self.assertGreater(ts, disk_ts)
        rows = rows_with(path, "count", lambda r: r["count"] == 7,
                         daemon=daemon)
        self.assertEqual(len(rows), 1)
        # The series API fetches through rrdcached.
        temp = os.path.join(d.data_dir, "cached", "temp.rrd")
        disk_ts = int(info(temp)["last_update"])
        j = d.get("/api/v1/series?service=cached&metric=temp"
                  "&from=-2m").json()
        self.assertIn(21, [p[1] for p in j["points"]])
        self.assertGreater(j["points"][-1][0], disk_ts - 1)
        j = d.get("/api/v1/series?service=cached&metric=hits"
                  "&stat=count&from=-2m").json()
        self.assertIn(7, [p[1] for p in j["points"]])
        r = d.get("/graph/cached/rt.svg?from=-5m")
        self.assertEqual(r.status, 200)
        ET.fromstring(r.body)
        self.assertEqual(d.value("vitals_storage_errors_total"), 0)
        received = self.stats()["UpdatesReceived"]
        self.stop()
        # SIGTERM: the final window went to rrdcached too.
        self.assertEqual(self.stats()["UpdatesReceived"], received + 3)

    def test_rrdcached_away_is_counted_and_recovers(self):
        d = self.start({"cached": "unix:" + self.sock})
        d.send_udp("away.c:1|c")
        wait_for(lambda: (d.value("vitals_storage_updates_total") or 0)
                 >= 1, what="first update")
        self.cached.send_signal(signal.SIGTERM)
        self.cached.wait(timeout=20)
        wait_for(lambda: (d.value("vitals_storage_errors_total") or 0)
                 >= 1, what="errors while rrdcached is away")
        self.assertIn("rrdcached", d.log_text())
        # Ingest goes on meanwhile.
        d.send_udp("away.c:1|c")
        wait_for(lambda: d.value("c_total", service="away") == 2,
                 what="ingest while storage is away")
        self.cached = subprocess.Popen(
            [RRDCACHED, "-g", "-F", "-B", "-b", d.data_dir,
             "-l", "unix:" + self.sock, "-p",
             os.path.join(d.dir, "rrdcached2.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        before = d.value("vitals_storage_updates_total")
        wait_for(lambda: d.value("vitals_storage_updates_total") > before,
                 what="updates after rrdcached is back")
        wait_for(lambda: "rrdcached unix:%s is back" % self.sock
                 in d.log_text(), what="recovery logged")
        self.stop()
