"""The command line, the config file, the HTTP surface and the orderly
stop, as an operator meets them."""
import json
import os
import re
import signal
import subprocess
import tempfile

from harness import TestCase, Vitalsd, run_vitalsd, wait_for


class CommandLine(TestCase):
    def test_help_and_version_exit_zero(self):
        r = run_vitalsd(["--help"])
        self.assertEqual(r.returncode, 0)
        for flag in ("--statsd", "--http", "--data-dir", "--amqp", "--flush",
                     "--check-config", "-c"):
            self.assertIn(flag, r.stdout)
        r = run_vitalsd(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^vitalsd \S+")

    def test_unknown_flag_exits_2_naming_it(self):
        r = run_vitalsd(["--frobnicate"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--frobnicate", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)

    def _config(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_bad_config_value_exits_2_naming_file_and_key(self):
        path = self._config('{"flush_interval": "ten"}')
        r = run_vitalsd(["-c", path])
        self.assertEqual(r.returncode, 2)
        self.assertIn(path, r.stderr)
        self.assertIn("flush_interval", r.stderr)

    def test_unknown_config_key_exits_2(self):
        path = self._config('{"statsd": {"lisen": "0.0.0.0:1"}}')
        r = run_vitalsd(["-c", path, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("statsd.lisen", r.stderr)

    def test_check_config_accepts_the_example_with_comments(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        example = os.path.join(root, "contrib", "vitals.example.json")
        r = run_vitalsd(["-c", example, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_config_stdout_is_one_json_document(self):
        # `vitalsd --check-config | jq .` must work: the verdict goes to
        # stderr, stdout is the document alone.
        path = self._config('{"flush_interval": "5s"}')
        r = run_vitalsd(["-c", path, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["flush_interval"], "5s")
        self.assertNotIn("configuration ok", r.stdout)
        self.assertIn("configuration ok", r.stderr)

    def test_check_config_prints_bytes_per_kind_and_disk(self):
        """Issue 19: the bytes a new file of each kind takes and the disk
        for N metrics, on stderr (stdout stays the JSON document); they
        follow rrd.timer_stats, rrd.max_archives and the step."""
        def sizes(config, *flags):
            r = run_vitalsd(["-c", self._config(config), "--check-config"]
                            + list(flags))
            self.assertEqual(r.returncode, 0, r.stderr)
            json.loads(r.stdout)
            self.assertNotIn(" bytes (", r.stdout)
            kinds, disk = {}, {}
            for line in r.stderr.splitlines():
                p = line.split()
                if len(p) >= 3 and p[2] == "bytes":
                    kinds[p[0]] = int(p[1])
                elif "metrics, a quarter each" in line:
                    disk[int(p[0])] = float(p[-2])
            return kinds, disk, r.stderr
        kinds, disk, err = sizes("{}")
        self.assertEqual(kinds, {"counter": 72320, "gauge": 36808,
                                 "set": 36808, "timer": 214368,
                                 "histogram": 214368, "check": 36808})
        self.assertIn("timer        214368 bytes (count, rate, p50, p90, "
                      "p95, p99)", err)
        self.assertEqual(disk, {10000: 0.9, 100000: 9.01})
        # Two more timer statistics, no MAX archives, 1 s windows.
        more, _, err = sizes('{"rrd": {"timer_stats": "rate,mean,max"}}')
        self.assertIn("(rate, mean, max, p50, p90, p95, p99)", err)
        self.assertGreater(more["timer"], kinds["timer"])
        self.assertEqual(more["counter"], kinds["counter"])
        nomax, _, _ = sizes('{"rrd": {"max_archives": false}}')
        self.assertLess(nomax["counter"], kinds["counter"] * 0.6)
        fine, _, err = sizes("{}", "--flush", "1s")
        self.assertIn("1s step", err)
        self.assertEqual(fine["counter"], 124800)
        # Overrides per pattern: each entry's bytes per kind.
        _, _, err = sizes('{"rrd": {"overrides": [{"service": "b*", '
                          '"points_per_range": 1000, "max_archives": '
                          'false}]}}')
        self.assertIn('override 0 (service "b*", metric ""): 1000 points, '
                      'MAX archives none, 366 days back: counter 71040 ', err)
        r = run_vitalsd(["-c", self._config(
            '{"rrd": {"overrides": [{"points_per_range": 1000}]}}'),
            "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("rrd.overrides[0]", r.stderr)
        # A bad statistic is a configuration error naming the key.
        r = run_vitalsd(["-c", self._config(
            '{"rrd": {"counter_stats": "mean"}}'), "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("rrd.counter_stats", r.stderr)

    def test_flags_override_config_file(self):
        path = self._config('// comment\n{"flush_interval": "1h"}')
        r = run_vitalsd(["-c", path, "--flush", "5s", "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'"flush_interval":\s*"?5')

    def test_port_in_use_fails_to_start_with_message(self):
        with Vitalsd() as d:
            r = run_vitalsd(["--statsd", "127.0.0.1:%d" % d.statsd_port,
                             "--http", "127.0.0.1:0",
                             "--data-dir", d.data_dir])
            self.assertEqual(r.returncode, 1)
            self.assertIn("in use", r.stderr)


class HttpSurface(TestCase):
    def test_healthz(self):
        with Vitalsd() as d:
            r = d.get("/healthz")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["status"], "ok")

    def test_unknown_path_is_404_json(self):
        with Vitalsd() as d:
            r = d.get("/nope")
            self.assertEqual(r.status, 404)
            self.assertIn("error", r.json())
            r = d.post("/metrics", "x")
            self.assertEqual(r.status, 405)

    def test_promtool_finds_no_errors(self):
        with Vitalsd() as d:
            d.send_udp("\n".join([
                "payments.http.get:12|ms|#route:/pay",
                "payments.requests:1|c|#code:200",
                "payments.requests:1|c|#code:500",
                "payments.queue:3|g",
                "payments.users:u1|s",
                "batch.size:10|h",
                'weird.na-me.with"quote:1|c|#label:va"l\\ue',
                "svc.x:1|c", "svc.x_total:1|g",      # family conflict
                "a.dup:1|c", "b.dup:1|c",            # same name, 2 services
            ]))
            d.wait_value("vitals_lines_total", 11.0, result="ok")
            text = d.metrics_text()
            p = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
            self.assertNotIn("error", (p.stdout + p.stderr).lower(),
                             p.stdout + p.stderr + "\n" + text)
            self.assertEqual(d.value("vitals_prometheus_conflicts"), 1.0)

    def test_openmetrics_on_request(self):
        with Vitalsd() as d:
            d.send_udp("om.c:1|c")
            d.wait_value("c_total", 1.0, service="om")
            r = d.get("/metrics",
                      {"Accept": "application/openmetrics-text; version=1.0.0"})
            self.assertIn("application/openmetrics-text",
                          r.headers["Content-Type"])
            self.assertTrue(r.text.endswith("# EOF\n"))
            p = subprocess.run(["promtool", "check", "metrics"],
                               input=d.get("/metrics").text,
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_writes_refused_without_body(self):
        with Vitalsd() as d:
            self.assertEqual(d.post("/api/v1/metrics", "").status, 400)


class OrderlyStop(TestCase):
    def test_sigterm_flushes_open_window_and_exits_0(self):
        d = Vitalsd(flush="1h")
        try:
            d.start()
            d.send_udp("stop.c:1|c\nstop.c:1|c")
            rc = d.stop(signal.SIGTERM)
            self.assertEqual(rc, 0, d.log_text())
            log = d.log_text()
            m = re.search(r"final window flushed: (\d+) metrics, (\d+) lines",
                          log)
            self.assertIsNotNone(m, log)
            self.assertEqual(m.group(1), "1", log)
            self.assertEqual(m.group(2), "2", log)
            d.assert_clean_log()
        finally:
            d.cleanup()

    def test_sigint_exits_0(self):
        d = Vitalsd()
        try:
            d.start()
            self.assertEqual(d.stop(signal.SIGINT), 0, d.log_text())
            d.assert_clean_log()
        finally:
            d.cleanup()
