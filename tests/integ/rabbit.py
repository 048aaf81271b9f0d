"""A throwaway RabbitMQ node for the AMQP integration tests: a real
rabbitmq-server on free loopback ports (AMQP, distribution and its own
epmd), with its database, logs, cookie and config in a temp dir, so it
never meets another node on the machine. Start takes several seconds:
share one per test class.

    b = Broker().start()
    b.url            # amqp://guest:guest@127.0.0.1:<port>/
    b.publish(body, routing_key, content_type=..., exchange=...)  # amqp-publish
    b.restart() / b.stop_node() / b.start_node()
    b.queue_messages("vitals.collector")   # ready + unacked, via rabbitmqctl
    b.cleanup()
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness import free_port, wait_for

PLUGINS = ["rabbitmq_consistent_hash_exchange"]
# Debian's /usr/sbin wrappers switch to the rabbitmq user (and its HOME and
# cookie); the real scripts run as whoever runs the tests.
_BIN = "/usr/lib/rabbitmq/bin"
SERVER = os.path.join(_BIN, "rabbitmq-server") \
    if os.path.exists(os.path.join(_BIN, "rabbitmq-server")) \
    else "rabbitmq-server"
CTL = os.path.join(_BIN, "rabbitmqctl") \
    if os.path.exists(os.path.join(_BIN, "rabbitmqctl")) else "rabbitmqctl"


class Broker:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vitals-rabbit-")
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.name = "vitals%d@localhost" % self.port
        self.tls_port = free_port()
        self._make_certs()
        conf = os.path.join(self.dir, "rabbitmq.conf")
        with open(conf, "w") as f:
            f.write("listeners.tcp.1 = 127.0.0.1:%d\n" % self.port
                    + "listeners.ssl.1 = 127.0.0.1:%d\n" % self.tls_port
                    + "ssl_options.cacertfile = %s\n" % self.ca_cert
                    + "ssl_options.certfile = %s\n" % self.server_cert
                    + "ssl_options.keyfile = %s\n" % self.server_key
                    + "ssl_options.verify = verify_none\n"
                    + "ssl_options.fail_if_no_peer_cert = false\n"
                    + "loopback_users = none\n"
                    + "log.console = false\n"
                    + "log.file.level = warning\n")
        plugins = os.path.join(self.dir, "enabled_plugins")
        with open(plugins, "w") as f:
            f.write("[%s].\n" % ",".join(PLUGINS))
        self.env = dict(os.environ)
        self.env.update({
            "HOME": self.dir,   # the Erlang cookie lives here
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_CONFIG_FILE": conf,
            "RABBITMQ_ENABLED_PLUGINS_FILE": plugins,
            "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(self.dir, "expand"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": os.path.join(self.dir,
                                                        "feature_flags"),
            "RABBITMQ_QUORUM_DIR": os.path.join(self.dir, "quorum"),
            "RABBITMQ_STREAM_DIR": os.path.join(self.dir, "stream"),
            "RABBITMQ_GENERATED_CONFIG_DIR": os.path.join(self.dir, "gen"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(self.dir,
                                                          "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.dir, "env.conf"),
            "RABBITMQ_SERVER_ERL_ARGS": "+S 1:1 +A 4",
            "RABBITMQ_CTL_ERL_ARGS": "+S 1:1",
        })
        self.proc = None
        # No trailing slash: in an AMQP URI "/" names the empty vhost.
        self.url = "amqp://guest:guest@127.0.0.1:%d" % self.port

    def _make_certs(self):
        """A throwaway CA and a server certificate for "localhost"."""
        d = os.path.join(self.dir, "tls")
        os.makedirs(d)
        self.ca_cert = os.path.join(d, "ca.pem")
        ca_key = os.path.join(d, "ca.key")
        self.server_cert = os.path.join(d, "server.pem")
        self.server_key = os.path.join(d, "server.key")
        csr = os.path.join(d, "server.csr")
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName = DNS:localhost\n")

        def ssl(*args):
            subprocess.run(["openssl"] + list(args), check=True,
                           capture_output=True, timeout=60)
        ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=vitals test CA", "-keyout", ca_key,
            "-out", self.ca_cert)
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/CN=localhost", "-keyout", self.server_key, "-out", csr)
        ssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey",
            ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext,
            "-out", self.server_cert)
        for f in (self.server_key, ca_key):
            os.chmod(f, 0o644)   # the node may run as another user

    # -- node life cycle --------------------------------------------
    def start(self):
        self.start_node()
        return self

    def start_node(self, timeout=90):
        self.log = open(os.path.join(self.dir, "server.out"), "ab")
        self.proc = subprocess.Popen([SERVER], env=self.env,
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while True:
            try:
                # Fails at once until the node has registered with epmd.
                self.ctl("await_startup", "--timeout", "60", timeout=70)
                break
            except (RuntimeError, subprocess.TimeoutExpired):
                if self.proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("rabbitmq-server did not start:\n"
                                         + self.server_log())
                time.sleep(0.5)
        wait_for(self._accepts, timeout=20, what="AMQP port open")

    def _accepts(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def stop_node(self):
        if self.proc is None:
            return
        try:
            self.ctl("stop", timeout=60)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.proc = None
        self.log.close()

    def restart(self):
        self.stop_node()
        self.start_node()

    def cleanup(self):
        self.stop_node()
        # The node started its own epmd on our private port; end it.
        subprocess.run(["epmd", "-kill"], env=self.env,
                       capture_output=True, timeout=10)
        if not os.environ.get("VITALS_KEEP_RABBIT"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def server_log(self):
        out = []
        for root, _, files in os.walk(self.dir):
            for f in files:
                if f.endswith(".log") or f == "server.out":
                    try:
                        with open(os.path.join(root, f), "rb") as fh:
                            out.append(fh.read()[-4000:].decode(
                                "utf-8", "replace"))
                    except OSError:
                        pass
        return "\n".join(out)

    # -- talking to it ----------------------------------------------
    def ctl(self, *args, timeout=60):
        r = subprocess.run([CTL, "-n", self.name] + list(args),
                           env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("rabbitmqctl %s: %s%s"
                               % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def publish(self, body, routing_key, content_type=None, exchange="vitals",
                headers=None, url=None, content_encoding=None):
        args = ["amqp-publish", "-u", url or self.url, "-e", exchange,
                "-r", routing_key, "-p", "-b", body]
        if content_type:
            args += ["-C", content_type]
        if content_encoding:
            args += ["-E", content_encoding]
        for k, v in (headers or {}).items():
            args += ["-H", "%s: %s" % (k, v)]
        subprocess.run(args, check=True, capture_output=True, timeout=30)

    def publish_lines(self, lines, routing_key, exchange="vitals"):
        """One persistent message per line, one amqp-publish process."""
        subprocess.run(["amqp-publish", "-u", self.url, "-e", exchange,
                        "-r", routing_key, "-p", "-l"],
                       input="".join(l + "\n" for l in lines).encode(),
                       check=True, capture_output=True, timeout=60)

    def queues(self):
        """{name: (ready, unacked, consumers)}"""
        out = self.ctl("list_queues", "-q", "--no-table-headers", "name",
                       "messages_ready", "messages_unacknowledged",
                       "consumers")
        res = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4:
                res[parts[0]] = tuple(int(p) for p in parts[1:])
        return res

    def queue_messages(self, name):
        q = self.queues().get(name)
        return None if q is None else q[0] + q[1]

    def delete_queue(self, name):
        try:
            self.ctl("delete_queue", name)
        except RuntimeError:
            pass
