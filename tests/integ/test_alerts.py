"""Alerts and hooks end to end through the real binary (SPEC 8): a real
exec hook script and a local HTTP receiver (http.server in a thread) get
the documented JSON event exactly once per firing and per resolving;
staleness, a threshold held for 3 s (and not a single spike), flap
damping, a hook that hangs forever, a webhook receiver that fails twice,
bad rules (exit 2 naming the key), SIGHUP reloads and the default rule."""
import http.server
import json
import os
import re
import signal
import stat
import threading
import time

from harness import TestCase, Vitalsd, run_vitalsd, wait_for

EVENT_KEYS = {"version", "state", "reminder", "alert", "id", "kind",
              "severity", "labels", "summary", "service", "instance",
              "check", "status", "previous", "output", "metric", "tags",
              "stat", "op", "threshold", "value", "for", "since", "time",
              "flap_percent"}


def proc_state(pid):
    """The state letter of a process, None when it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


class Receiver:
    """A webhook receiver: records every POST; answers 500 to the first
    `fail` requests, then 200."""

    def __init__(self, fail=0):
        self.fail = fail
        self.requests = []     # (status answered, headers, body)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    code = 500 if len(outer.requests) < outer.fail else 200
                    outer.requests.append((code, dict(self.headers), body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def events(self):
        with self.lock:
            return [json.loads(b) for code, _, b in self.requests
                    if code == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AlertTest(TestCase):
    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        self.dir = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                "vitals-hooks-%d-%s" % (os.getpid(),
                                                        self.id()[-40:]))
        os.makedirs(self.dir, exist_ok=True)
        self.hook_log = os.path.join(self.dir, "hook.log")
        self.script = self.write_script("hook.sh", """#!/bin/sh
body=$(cat)
printf '%%s\\t%%s\\t%%s\\t%%s\\n' "$VITALS_ALERT" "$VITALS_STATE" \\
    "$VITALS_SERVICE" "$body" >> '%s'
echo "hook saw $VITALS_ALERT $VITALS_STATE"
""" % self.hook_log)

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def write_script(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, stat.S_IRWXU)
        return path

    def exec_events(self):
        """(alert, state, service, event) per run of the exec hook."""
        try:
            with open(self.hook_log) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            alert, state, service, body = line.split("\t", 3)
            out.append((alert, state, service, json.loads(body)))
        return out

    def hooks(self, rules, extra_hooks=(), **alerts):
        cfg = {"alerts": dict({
            "rules": rules,
            "hooks": [
                {"name": "script", "type": "exec", "argv": [self.script],
                 "timeout": "5s"},
                {"name": "web", "type": "webhook", "url": self.receiver.url,
                 "headers": {"Authorization": "Bearer s3cret"},
                 "timeout": "2s", "retries": 3, "backoff": "200ms"},
            ] + list(extra_hooks)}, **alerts)}
        return cfg

    @staticmethod
    def check(d, status, svc="payments", check="db", ttl="30s", out=""):
        r = d.post("/api/v1/health", json.dumps({
            "service": svc, "check": check, "status": status, "ttl": ttl,
            "instance": "pay-1", "output": out}))
        assert r.status in (200, 202), r.text

    def states(self, alert):
        """States notified for alert, as (exec hook, webhook) lists."""
        return ([s for a, s, _, _ in self.exec_events() if a == alert],
                [e["state"] for e in self.receiver.events()
                 if e["alert"] == alert])

    def wait_states(self, alert, expected, timeout=10):
        wait_for(lambda: self.states(alert) == (expected, expected),
                 timeout=timeout, what="%s notified %s (got %r)"
                 % (alert, expected, self.states(alert)))


class StatusAlerts(AlertTest):
    def test_ok_to_critical_fires_both_hooks_once_and_resolves_once(self):
        rule = {"name": "payments-down", "service": "payments",
                "notify": ["critical"], "severity": "page",
                "labels": {"team": "pay"}}
        with Vitalsd(config=self.hooks([rule])) as d:
            self.check(d, "ok")
            self.check(d, "critical", out="db unreachable")
            self.wait_states("payments-down", ["firing"])
            self.check(d, "critical", out="still down")   # no change
            alerts = d.get("/api/v1/alerts").json()["alerts"]
            self.assertEqual(len(alerts), 1)
            self.assertEqual(alerts[0]["alert"], "payments-down")
            self.assertEqual(alerts[0]["state"], "firing")
            self.assertEqual(alerts[0]["status"], "critical")
            time.sleep(1.5)
            self.assertEqual(self.states("payments-down"),
                             (["firing"], ["firing"]))
            self.check(d, "ok")
            self.wait_states("payments-down", ["firing", "resolved"])
            time.sleep(1.5)
            self.assertEqual(self.states("payments-down"),
                             (["firing", "resolved"], ["firing", "resolved"]))
            self.assertEqual(d.get("/api/v1/alerts").json(), {"alerts": []})

            fired = self.receiver.events()[0]
            self.assertEqual(set(fired), EVENT_KEYS)
            self.assertEqual(fired["version"], 1)
            self.assertEqual(fired["state"], "firing")
            self.assertEqual(fired["kind"], "service")
            self.assertEqual(fired["severity"], "page")
            self.assertEqual(fired["labels"], {"team": "pay"})
            self.assertEqual(fired["service"], "payments")
            self.assertEqual(fired["status"], "critical")
            self.assertEqual(fired["previous"], "ok")
            self.assertEqual(fired["summary"], "payments is critical")
            self.assertAlmostEqual(fired["time"], time.time(), delta=30)
            # the exec hook got the same document on stdin
            self.assertEqual(self.exec_events()[0][3], fired)
            self.assertEqual(self.exec_events()[0][:3],
                             ("payments-down", "firing", "payments"))
            resolved = self.receiver.events()[1]
            self.assertEqual(resolved["status"], "ok")
            self.assertEqual(resolved["previous"], "critical")
            _, headers, _ = self.receiver.requests[0]
            self.assertEqual(headers.get("Authorization"), "Bearer s3cret")
            self.assertEqual(headers.get("Content-Type"), "application/json")
            log = d.log_text()
            self.assertIn("hooks: script: | hook saw payments-down firing",
                          log)
            m = d.metrics()
            self.assertEqual(m[("vitals_alert_notifications_total",
                                frozenset({("state", "firing")}))], 1)
            self.assertEqual(m[("vitals_alert_hook_runs_total",
                                frozenset({("hook", "web"),
                                           ("result", "ok")}))], 2)

    def test_silent_service_fires_a_staleness_alert(self):
        rule = {"name": "payments-silent", "type": "stale",
                "service": "payments"}
        with Vitalsd(config=self.hooks([rule])) as d:
            self.check(d, "ok", ttl="1s")
            self.wait_states("payments-silent", ["firing"], timeout=8)
            ev = self.receiver.events()[0]
            self.assertEqual(ev["kind"], "stale")
            self.assertEqual((ev["service"], ev["check"], ev["instance"]),
                             ("payments", "db", "pay-1"))
            self.assertTrue(ev["output"].startswith("stale: "), ev)
            self.check(d, "ok", ttl="30s")    # it reports again
            self.wait_states("payments-silent", ["firing", "resolved"])

    def test_flapping_check_gives_one_flapping_notification(self):
        rule = {"name": "db-check", "type": "check", "service": "payments",
                "check": "db", "notify": ["critical"]}
        with Vitalsd(config=self.hooks([rule])) as d:
            for i in range(40):
                self.check(d, "critical" if i % 2 else "ok")
                time.sleep(0.02)
            wait_for(lambda: "flapping" in self.states("db-check")[1],
                     what="a flapping notification")
            time.sleep(2)
            exec_states, web_states = self.states("db-check")
            self.assertEqual(exec_states, web_states)
            self.assertEqual(web_states.count("flapping"), 1, web_states)
            # nothing but the one flapping notice after damping began
            self.assertEqual(web_states[-1], "flapping", web_states)
            self.assertLess(len(web_states), 15, web_states)
            alerts = d.get("/api/v1/alerts").json()["alerts"]
            self.assertTrue(all(a["flapping"] for a in alerts), alerts)
            self.assertEqual(d.value("vitals_alert_flapping"), 1)

    def test_hooks_without_rules_notify_every_service_status_change(self):
        with Vitalsd(config=self.hooks([])) as d:
            self.check(d, "ok", svc="fresh")      # a new service, ok: quiet
            self.check(d, "warning", svc="other")
            self.wait_states("service-status", ["firing"])
            self.check(d, "critical", svc="other")
            self.wait_states("service-status", ["firing", "firing"])
            self.check(d, "ok", svc="other")
            self.wait_states("service-status",
                             ["firing", "firing", "resolved"])
            services = {e["service"] for e in self.receiver.events()}
            self.assertEqual(services, {"other"})


class ThresholdAlerts(AlertTest):
    def test_for_3s_fires_only_after_holding_and_not_on_a_spike(self):
        rule = {"name": "hot", "service": "payments", "metric": "temp",
                "stat": "value", "op": ">", "value": 100, "for": "3s"}
        with Vitalsd(config=self.hooks([rule])) as d:
            d.send_udp("payments.temp:500|g")     # a single spike
            time.sleep(1.2)
            d.send_udp("payments.temp:10|g")
            time.sleep(4.5)
            self.assertEqual(self.states("hot"), ([], []))
            t0 = time.time()
            d.send_udp("payments.temp:500|g")
            wait_for(lambda: d.get("/api/v1/alerts").json()["alerts"],
                     what="a pending alert")
            pending = d.get("/api/v1/alerts").json()["alerts"][0]
            self.assertEqual(pending["state"], "pending")
            self.wait_states("hot", ["firing"], timeout=10)
            held = time.time() - t0
            self.assertGreaterEqual(held, 3.0)
            self.assertLess(held, 7.0)
            ev = self.receiver.events()[0]
            self.assertEqual((ev["metric"], ev["stat"], ev["op"],
                              ev["threshold"], ev["value"], ev["for"]),
                             ("temp", "value", ">", 100, 500, 3))
            self.assertEqual(ev["summary"],
                             "payments temp value = 500 (> 100) for 3s")
            d.send_udp("payments.temp:20|g")
            self.wait_states("hot", ["firing", "resolved"])

    def test_summary_reads_three_digits_with_the_unit(self):
        # A timer's p99 in ms and a rate per second, as a person reads
        # them; the JSON "value" keeps full precision.
        rules = [{"name": "slow", "service": "payments", "metric": "http.get",
                  "stat": "p99", "op": ">", "value": 400},
                 {"name": "busy", "service": "payments", "metric": "http.get",
                  "stat": "rate", "op": ">", "value": 0.5}]
        with Vitalsd(config=self.hooks(rules)) as d:
            def fired():
                d.send_udp("payments.http.get:848.34113061904191|ms")
                return {e["alert"]: e for e in self.receiver.events()
                        if e["state"] == "firing"}
            wait_for(lambda: len(fired()) == 2, timeout=10,
                     what="slow and busy firing")
            by = fired()
            self.assertEqual(by["slow"]["summary"],
                             "payments http.get p99 = 848 ms (> 400 ms)")
            self.assertAlmostEqual(by["slow"]["value"], 848.34113061904191)
            self.assertRegex(by["busy"]["summary"],
                             r"^payments http\.get rate = [0-9.]+/s "
                             r"\(> 0\.5/s\)$")
            listed = {a["alert"]: a["summary"]
                      for a in d.get("/api/v1/alerts").json()["alerts"]}
            if "slow" in listed:    # still firing while the timer is sent
                self.assertEqual(listed["slow"],
                                 "payments http.get p99 = 848 ms (> 400 ms)")


class Hooks(AlertTest):
    def test_hanging_hook_is_killed_and_blocks_nothing(self):
        pids = os.path.join(self.dir, "pids")
        hang = self.write_script("hang.sh", """#!/bin/sh
echo $$ > '%s'
sleep 1000 &
echo $! >> '%s'
wait
""" % (pids, pids))
        rule = {"name": "down", "service": "payments",
                "notify": ["critical"]}
        extra = [{"name": "hang", "type": "exec", "argv": [hang],
                  "timeout": "2s"}]
        with Vitalsd(config=self.hooks([rule], extra)) as d:
            self.check(d, "critical")
            t0 = time.time()
            self.wait_states("down", ["firing"], timeout=5)
            self.assertLess(time.time() - t0, 1.9)   # not behind hang
            d.send_udp("payments.req:1|c")           # ingest carries on
            d.wait_value("req_total", 1, service="payments")
            wait_for(lambda: d.value("vitals_alert_hook_runs_total",
                                     hook="hang", result="timeout") == 1,
                     what="the hanging hook killed at its limit")
            self.assertGreaterEqual(time.time() - t0, 1.9)
            with open(pids) as f:
                hook_pid, sleep_pid = f.read().split()
            # the hook itself is reaped by vitalsd: no zombie left
            self.assertFalse(os.path.exists("/proc/%s" % hook_pid))
            # its child was killed with the process group (an orphan,
            # so reaping it is init's business: dead or a zombie)
            self.assertIn(proc_state(sleep_pid), (None, "Z"))
            self.assertIn("hooks: hang timeout: time limit", d.log_text())
            self.check(d, "ok")       # the next notification still goes out
            self.wait_states("down", ["firing", "resolved"])

    def test_webhook_failing_twice_then_succeeding_delivers_once(self):
        self.receiver.fail = 2
        rule = {"name": "down", "service": "payments",
                "notify": ["critical"], "hooks": ["web"]}
        with Vitalsd(config=self.hooks([rule])) as d:
            self.check(d, "critical")
            wait_for(lambda: len(self.receiver.events()) == 1,
                     what="delivery after two failures")
            time.sleep(1)
            codes = [c for c, _, _ in self.receiver.requests]
            self.assertEqual(codes, [500, 500, 200])
            self.assertEqual(self.receiver.events()[0]["state"], "firing")
            self.assertEqual(self.exec_events(), [])   # not this rule's
            self.assertEqual(d.value("vitals_alert_hook_retries_total",
                                     hook="web"), 2)
            self.assertEqual(d.value("vitals_alert_hook_runs_total",
                                     hook="web", result="ok"), 1)


class Config(AlertTest):
    def run_config(self, cfg):
        path = os.path.join(self.dir, "bad.json")
        with open(path, "w") as f:
            f.write(json.dumps(cfg))
        return path, run_vitalsd(["--check-config", "-c", path])

    def test_bad_rules_exit_2_naming_the_key(self):
        good = {"name": "a", "service": "s"}
        cases = [
            ({"name": "c", "service": "s", "metric": "m", "stat": "p99",
              "op": ">", "value": 1, "for": "soon"}, "alerts.rules[2].for"),
            ({"name": "c", "metric": "m", "stat": "p75", "op": ">",
              "value": 1}, "alerts.rules[2].stat"),
            ({"name": "c", "metric": "m", "stat": "max", "op": "=>",
              "value": 1}, "alerts.rules[2].op"),
            ({"name": "c", "notify": ["bad"]}, "alerts.rules[2].notify[0]"),
            ({"name": "a"}, "alerts.rules[2].name"),
            ({"name": "c", "hooks": ["nope"]}, "alerts.rules[2].hooks[0]"),
            ({"name": "c", "colour": "red"}, "alerts.rules[2].colour"),
        ]
        for rule, key in cases:
            cfg = self.hooks([good, dict(good, name="b"), rule])
            path, r = self.run_config(cfg)
            self.assertEqual(r.returncode, 2, (rule, r.stderr))
            self.assertRegex(r.stderr, "%s: line [1-9][0-9]*: %s:"
                             % (re.escape(path), re.escape(key)))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        cfg = self.hooks([good])
        cfg["alerts"]["hooks"][0]["argv"] = []
        path, r = self.run_config(cfg)
        self.assertEqual(r.returncode, 2)
        self.assertIn("alerts.hooks[0].argv", r.stderr)
        path, r = self.run_config(self.hooks([good]))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_sighup_reloads_rules_and_a_bad_reload_keeps_them(self):
        rule = {"name": "first", "service": "payments",
                "notify": ["critical"]}
        with Vitalsd(config=self.hooks([rule])) as d:
            path = d.args[d.args.index("-c") + 1]
            with open(path, "w") as f:
                f.write(json.dumps(self.hooks([dict(rule, **{"for": "x"})])))
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reload failed, keeping the old rules"
                     in d.log_text(), what="the failed reload logged")
            self.assertIn("alerts.rules[0].for", d.log_text())
            self.check(d, "critical")
            self.wait_states("first", ["firing"])
            with open(path, "w") as f:
                f.write(json.dumps(self.hooks([dict(rule, name="second")])))
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "SIGHUP: reloaded 1 rule" in d.log_text(),
                     what="the reload logged")
            self.check(d, "ok")
            self.check(d, "critical")
            self.wait_states("second", ["firing"])
            self.assertEqual(self.states("first"), (["firing"], ["firing"]))
            self.assertEqual(d.value("vitals_alert_reloads_total",
                                     result="failed"), 1)


class ContribHooks(AlertTest):
    """contrib/hooks/ run for real: the chat hook against a local
    Slack-compatible receiver, the mail hook through a stand-in sendmail."""
    ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                        ".."))

    def test_chat_and_email_hooks(self):
        mailbox = os.path.join(self.dir, "mailbox")
        sendmail = self.write_script("sendmail", """#!/bin/sh
echo "ARGS $*" >> '%s'
cat >> '%s'
""" % (mailbox, mailbox))
        hooks = os.path.join(self.ROOT, "contrib", "hooks")
        cfg = {"alerts": {
            "rules": [{"name": "payments-down", "service": "payments",
                       "notify": ["critical"]}],
            "hooks": [
                {"name": "chat", "type": "exec", "timeout": "10s",
                 "argv": [os.path.join(hooks, "chat-webhook.sh"),
                          self.receiver.url]},
                {"name": "mail", "type": "exec", "timeout": "10s",
                 "argv": [os.path.join(hooks, "email-sendmail.sh"),
                          "oncall@example.com", "vitals@example.com"]}]}}
        with Vitalsd(config=cfg, env={"SENDMAIL": sendmail}) as d:
            self.check(d, "ok")
            self.check(d, "critical", out='db "primary" down')
            wait_for(lambda: self.receiver.events(), what="chat message")
            msg = self.receiver.events()[0]
            self.assertEqual(set(msg), {"text"})
            self.assertIn("firing", msg["text"])
            self.assertIn("payments-down: payments is critical",
                          msg["text"])
            def read_mailbox():
                with open(mailbox) as f:
                    return f.read()
            wait_for(lambda: os.path.exists(mailbox) and "event:" in
                     read_mailbox(), what="a mail")
            mail = read_mailbox()
            self.assertIn("ARGS -t -i -f vitals@example.com", mail)
            self.assertIn("To: oncall@example.com", mail)
            self.assertIn("Subject: [vitals] firing: payments is critical",
                          mail)
            body = mail.split("event:\n", 1)[1]
            self.assertEqual(json.loads(body)["alert"], "payments-down")
            wait_for(lambda: d.value("vitals_alert_hook_runs_total",
                                     hook="mail", result="ok") == 1,
                     what="mail hook ok")
            # The chat message arrived before its hook process ended:
            # wait for the run to be counted too.
            wait_for(lambda: d.value("vitals_alert_hook_runs_total",
                                     hook="chat", result="ok") == 1,
                     what="chat hook ok")


class AlertsAcrossRestarts(AlertTest):
    """Issue 20 item 2: alert state is kept with the health state."""

    def test_firing_alert_is_not_announced_twice_and_resolves_once(self):
        rule = {"name": "payments-down", "service": "payments",
                "notify": ["critical"]}
        with Vitalsd(config=self.hooks([rule])) as d:
            self.check(d, "critical", out="db unreachable", ttl="1h")
            self.wait_states("payments-down", ["firing"])
            d.restart()
            self.assertIn("restored 1 alert (1 firing)", d.log_text())
            alerts = d.get("/api/v1/alerts").json()["alerts"]
            self.assertEqual([(a["alert"], a["state"], a["notified"])
                              for a in alerts],
                             [("payments-down", "firing", True)])
            # Still critical after the restart: nothing new is sent.
            self.check(d, "critical", out="still down", ttl="1h")
            time.sleep(2)
            self.assertEqual(self.states("payments-down"),
                             (["firing"], ["firing"]))
            # A kill -9 keeps it too (saved within a second of a change).
            d.restart(signal.SIGKILL)
            self.assertEqual(len(d.get("/api/v1/alerts").json()["alerts"]),
                             1)
            self.check(d, "ok", ttl="1h")
            self.wait_states("payments-down", ["firing", "resolved"])
            time.sleep(1.5)
            self.assertEqual(self.states("payments-down"),
                             (["firing", "resolved"], ["firing", "resolved"]))
            d.restart()                     # resolved stays resolved
            time.sleep(1.5)
            self.assertEqual(d.get("/api/v1/alerts").json(), {"alerts": []})
            self.assertEqual(self.states("payments-down"),
                             (["firing", "resolved"], ["firing", "resolved"]))

    def test_a_threshold_that_cleared_while_down_resolves_after_start(self):
        rule = {"name": "hot", "service": "payments", "metric": "temp",
                "stat": "value", "op": ">", "value": 100}
        with Vitalsd(config=self.hooks([rule])) as d:
            d.send_udp("payments.temp:500|g")
            self.wait_states("hot", ["firing"])
            d.stop()
            # While it was down the gauge went back to normal.
            d.returncode = None
            d.start()
            d.send_udp("payments.temp:20|g")
            self.wait_states("hot", ["firing", "resolved"])
            time.sleep(1.5)
            self.assertEqual(self.states("hot"),
                             (["firing", "resolved"], ["firing", "resolved"]))

    def test_a_pending_alert_keeps_its_start(self):
        rule = {"name": "slow-down", "service": "payments",
                "notify": ["critical"], "for": "4s"}
        with Vitalsd(config=self.hooks([rule])) as d:
            self.check(d, "critical", ttl="1h")
            wait_for(lambda: d.get("/api/v1/alerts").json()["alerts"],
                     what="a pending alert")
            since = d.get("/api/v1/alerts").json()["alerts"][0]["since"]
            time.sleep(1.2)               # saved within a second
            d.restart()
            a = d.get("/api/v1/alerts").json()["alerts"]
            self.assertEqual([(x["state"], x["since"]) for x in a],
                             [("pending", since)])
            # It fires 4 s after it began, not 4 s after the restart.
            self.wait_states("slow-down", ["firing"], timeout=10)
            ev = self.receiver.events()[0]
            self.assertLess(ev["time"] - since, 6.5)
