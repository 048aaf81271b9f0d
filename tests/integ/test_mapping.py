"""Mapping rules end to end (issue 23 item 1): statsd_exporter mapping
files taken from statsd_exporter's own documentation load unchanged, real
python3-statsd traffic comes out of /metrics under the names and labels
those files promise, promtool accepts the result, and bad files stop the
start with exit status 2 naming the file, the line and the key.

The YAML documents below are statsd_exporter's README examples
(github.com/prometheus/statsd_exporter, README.md, "Metric Mapping and
Configuration" and the sections after it; Apache License 2.0), copied
byte for byte as test data.

Two things vitals adds to every series, as it does without mappings: a
`service` label (the rule's `service` label if it sets one, else the first
dotted component of the name as sent), and Prometheus' own renaming of a
label called `job` to `exported_job` (vitals' exposition reserves `job`
and `instance` for the scraper)."""
import os
import subprocess

import statsd

from harness import TestCase, Vitalsd, run_vitalsd, wait_for

# README: "An example mapping configuration".
README_EXAMPLE = """\
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
    job: "test_dispatcher"
- match: "*.signup.*.*"
  name: "signup_events_total"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
"""

# README: the name with $n references, its regex twin, and the help text.
README_NAMES = """\
mappings:
- match: "test.*.*.counter"
  name: "${2}_total"
  labels:
    provider: "$1"
- match: "test\\\\.(\\\\w+)\\\\.(\\\\w+)\\\\.counter"
  match_type: regex
  name: "${2}_total"
  labels:
    provider: "$1"
- match: "http.request.*"
  help: "Total number of http requests"
  name: "http_requests_total"
  labels:
    code: "$1"
- match: (.*)\\.(.*)--(.*)\\.status\\.(.*)\\.count
  match_type: regex
  name: "request_total"
  labels:
    hostname: "$1"
    exec: "$2"
    protocol: "$3"
    code: "$4"
"""

# README: "Global defaults".
README_DEFAULTS = """\
defaults:
  timer_type: histogram
  buckets: [.005, .01, .025, .05, .1, .25, .5, 1, 2.5 ]
  match_type: glob
  glob_disable_ordering: false
  ttl: 0 # metrics do not expire
mappings:
# This will be a histogram using the buckets set in `defaults`.
- match: "test.timing.*.*.*"
  name: "my_timer"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
# This will be a summary timer.
- match: "other.timing.*.*.*"
  timer_type: summary
  name: "other_timer"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server_other"
"""

# README: "`drop` action", then "Explicit metric type mapping".
README_DROP = """\
mappings:
# This metric would match as normal.
- match: "test.timing.*.*.*"
  name: "my_timer"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
- match: "test.foo.*"
  name: "test_foo"
  match_metric_type: counter
  labels:
    provider: "$1"
# Any metric not matched will be dropped because "." matches all metrics.
- match: "."
  match_type: regex
  action: drop
  name: "dropped"
"""


def with_mapping(test, yaml_text, extra=None):
    """A daemon whose config names a mapping file holding yaml_text."""
    d = Vitalsd(config=dict({"mapping_file": "PLACEHOLDER"}, **(extra or {})))
    path = os.path.join(d.dir, "statsd_mapping.yml")
    with open(path, "w") as f:
        f.write(yaml_text)
    cfg = os.path.join(d.dir, "vitals.json")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("PLACEHOLDER", path))
    return d


def promtool_ok(test, text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    test.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class DocumentedFilesLoadUnchanged(TestCase):

    def test_readme_example_maps_python_statsd_traffic(self):
        with with_mapping(self, README_EXAMPLE) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            for _ in range(3):
                c.incr("test.dispatcher.FooProcessor.send.success")
            c.incr("foo_product.signup.facebook.failure")
            c.incr("test.web-server.foo.bar")
            self.assertEqual(d.wait_value(
                "dispatcher_events_total", 3.0, service="test",
                processor="FooProcessor", action="send", outcome="success",
                exported_job="test_dispatcher"), 3.0)
            self.assertEqual(d.wait_value(
                "signup_events_total", 1.0, service="foo_product",
                provider="facebook", outcome="failure",
                exported_job="foo_product_server"), 1.0)
            # unmapped: as without a mapping file
            self.assertEqual(d.wait_value("web_server_foo_bar_total", 1.0,
                                          service="test"), 1.0)
            text = d.metrics_text()
            self.assertNotIn("FooProcessor_send", text)
            promtool_ok(self, text)
            self.assertEqual(d.lines("ok"), 5.0)

    def test_names_from_captures_regex_and_help(self):
        with with_mapping(self, README_NAMES) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            c.incr("test.aws.requests.counter", 2)
            c.incr("http.request.404")
            c.incr("web1.exec--http.status.200.count")
            self.assertEqual(d.wait_value("requests_total", 2.0,
                                          service="test", provider="aws"),
                             2.0)
            self.assertEqual(d.wait_value("http_requests_total", 1.0,
                                          service="http", code="404"), 1.0)
            self.assertEqual(d.wait_value(
                "request_total", 1.0, service="web1", hostname="web1",
                exec="exec", protocol="http", code="200"), 1.0)
            promtool_ok(self, d.metrics_text())

    def test_global_defaults_timers(self):
        with with_mapping(self, README_DEFAULTS) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            for ms in (10, 20, 30, 40):
                c.timing("test.timing.myserver.aws.success", ms)
            c.timing("other.timing.myserver.gcp.failure", 5)
            labels = dict(service="test", provider="aws", outcome="success",
                          exported_job="myserver_server")
            self.assertEqual(d.wait_value("my_timer_seconds_count", 4.0,
                                          **labels), 4.0)
            self.assertAlmostEqual(d.value("my_timer_seconds_sum", **labels),
                                   0.1, places=9)
            self.assertEqual(d.wait_value(
                "other_timer_seconds_count", 1.0, service="other",
                provider="gcp", outcome="failure",
                exported_job="myserver_server_other"), 1.0)
            # the comments hold (item 2): my_timer is a histogram with the
            # defaults' buckets, other_timer a summary
            text = d.metrics_text()
            self.assertIn("# TYPE my_timer_seconds histogram\n", text)
            self.assertIn("# TYPE other_timer_seconds summary\n", text)
            b = lambda le: d.value("my_timer_seconds_bucket", le=le, **labels)
            self.assertEqual([b(le) for le in ("0.005", "0.01", "0.025",
                                               "0.05", "2.5", "+Inf")],
                             [0, 1, 2, 4, 4, 4])
            self.assertIsNone(b("5"))
            promtool_ok(self, text)

    def test_drop_and_metric_type(self):
        with with_mapping(self, README_DROP) as d:
            c = statsd.StatsClient("127.0.0.1", d.statsd_port)
            c.timing("test.timing.a.b.c", 7)
            c.incr("test.foo.bar")
            c.gauge("test.foo.baz", 3)      # a gauge: only "." matches it
            c.incr("anything.else")
            for _ in range(4):
                c.incr("noise")
            self.assertEqual(d.wait_value(
                "my_timer_seconds_count", 1.0, service="test", provider="b",
                outcome="c", exported_job="a_server"), 1.0)
            self.assertEqual(d.wait_value("test_foo_total", 1.0,
                                          service="test", provider="bar"),
                             1.0)
            wait_for(lambda: d.lines("dropped_by_mapping") == 6.0,
                     what="6 lines dropped by mapping")
            self.assertEqual(d.lines("ok"), 2.0)
            text = d.metrics_text()
            self.assertNotIn("noise", text)
            self.assertNotIn("baz", text)
            promtool_ok(self, text)


class ServiceLabelsAndTheConfigSection(TestCase):

    def test_section_service_label_and_tags(self):
        config = {"mappings": [
            {"match": "api.*.http.*", "name": "http_requests",
             "labels": {"service": "api", "host": "$1", "code": "$2"}},
            {"match": "debug.*", "action": "drop"},
        ]}
        with Vitalsd(config=config) as d:
            d.send_udp("api.host1.http.200:1|c\n"
                       "api.host2.http.500:2|c|#region:eu,host:spoofed\n"
                       "debug.x:1|c")
            self.assertEqual(d.wait_value("http_requests_total", 1.0,
                                          service="api", host="host1",
                                          code="200"), 1.0)
            # the rule's label wins over a tag of the same key
            self.assertEqual(d.wait_value("http_requests_total", 2.0,
                                          service="api", host="host2",
                                          code="500", region="eu"), 2.0)
            wait_for(lambda: d.lines("dropped_by_mapping") == 1.0,
                     what="the debug line dropped")
            r = d.get("/api/v1/services/api")
            self.assertEqual(r.status, 200)
            promtool_ok(self, d.metrics_text())

    def test_check_config_accepts_the_documented_files(self):
        for text in (README_EXAMPLE, README_NAMES, README_DEFAULTS,
                     README_DROP):
            d = with_mapping(self, text)
            try:
                p = run_vitalsd(["-c", os.path.join(d.dir, "vitals.json"),
                                 "--check-config"])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("configuration ok", p.stderr)
            finally:
                d.cleanup()


BAD_FILES = [
    ("mappings:\n- match: a.*\n  name: x\n  colour: red\n",
     ":4: mappings[0].colour: unknown key"),
    ("mappings:\n- match: a.b\n  name: x\n- match: a.*\n  name: y\n"
     "  scale: 1000\n",
     ":6: mappings[1].scale: not supported by vitalsd"),
    ("mappings:\n- match: a.b\n  name: x\n\n- match: \"a*.b\"\n  name: y\n",
     ":5: mappings[1].match: a '*' must be a whole"),
    ("mappings:\n- match: a.*.*\n  name: x\n  labels:\n    k: $3\n",
     ":5: mappings[0].labels.k: refers to $3"),
    ("mappings:\n- match: a.*\n  name: [x\n", ":4: invalid YAML"),
    ("defaults:\n  observer_type: native\nmappings: []\n",
     ":2: defaults.observer_type: expected \"summary\" or \"histogram\""),
]


class BadFilesStopTheStart(TestCase):

    def test_bad_mapping_files_exit_2_naming_line_and_key(self):
        for text, want in BAD_FILES:
            d = with_mapping(self, text)
            try:
                path = os.path.join(d.dir, "statsd_mapping.yml")
                for extra in ([], ["--check-config"]):
                    p = run_vitalsd(["-c", os.path.join(d.dir, "vitals.json"),
                                     "--statsd", "127.0.0.1:%d"
                                     % d.statsd_port,
                                     "--http", "127.0.0.1:%d" % d.http_port,
                                     "--data-dir", d.data_dir] + extra)
                    self.assertEqual(p.returncode, 2, (text, p.stderr))
                    self.assertEqual(p.stdout, "")
                    self.assertIn("vitalsd: " + path + want, p.stderr)
                    self.assertEqual(len(p.stderr.strip().splitlines()), 1,
                                     p.stderr)
            finally:
                d.cleanup()

    def test_missing_file_and_bad_section(self):
        d = Vitalsd(config={"mapping_file": "/nonexistent/map.yml"})
        try:
            p = run_vitalsd(["-c", os.path.join(d.dir, "vitals.json"),
                             "--check-config"])
            self.assertEqual(p.returncode, 2)
            self.assertIn("vitalsd: /nonexistent/map.yml: No such file",
                          p.stderr)
        finally:
            d.cleanup()
        d = Vitalsd(config={"mappings": [{"match": "a.*", "name": "x"},
                                         {"match": "b.*", "nmae": "y"}]})
        try:
            cfg = os.path.join(d.dir, "vitals.json")
            p = run_vitalsd(["-c", cfg, "--check-config"])
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stderr.strip(), "vitalsd: %s: line 1: "
                             "mappings[1].nmae: unknown key" % cfg)
        finally:
            d.cleanup()
