"""The Debian packages (debian/, `make deb`), as far as a machine without
systemd as PID 1 allows: they build with dpkg-buildpackage, lintian finds
no error or warning in them, each package holds the files it should (and
not the others'), the dependencies name the libraries vitalsd dlopen()s,
the packaged unit passes `systemd-analyze verify` (its man pages checked
against the packaged ones), the unit's own command line, with the
packaged /etc/default/vitalsd, starts the packaged vitalsd, which serves
/healthz and stores what the packaged vitals-send sends, and a client
builds against the -dev package through pkg-config.

Nothing is installed on this machine: the packages are unpacked with
`dpkg -x` into a temporary directory. `make deb`'s output in build/deb/
is reused when it is newer than every file of the tree; otherwise the
test runs `make deb` (about a minute on two cores)."""
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from harness import (SANITIZE, free_port, http, own_unit_messages,
                     terminate, wait_for)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEB_DIR = os.path.join(ROOT, "build", "deb")
VERSION = "0.1.0"
PACKAGES = ("vitals", "libvitals-client0", "libvitals-client-dev")

# A client of the packaged library: one counter to 127.0.0.1:argv[1].
CLIENT_C = r"""
#include <vitals_client.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	vitals_client *c = vitals_client_open("127.0.0.1", argv[1]);
	if (c == NULL)
		return 1;
	int rc = vitals_client_count(c, "debpkg", "packaged", 1);
	vitals_client_close(c);
	return rc == 0 ? 0 : 1;
}
"""


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout, **kw)


def make_env():
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
              "SANITIZE", "BUILD"):
        env.pop(k, None)
    env["LC_ALL"] = "C.UTF-8"
    return env


def tree_mtime():
    """The newest modification time of the files `make deb` copies."""
    r = run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"])
    if r.returncode != 0:
        return None
    newest = 0.0
    for rel in r.stdout.split("\0"):
        try:
            newest = max(newest, os.lstat(os.path.join(ROOT, rel)).st_mtime)
        except OSError:
            pass
    return newest


def fresh_changes():
    changes = glob.glob(os.path.join(DEB_DIR, "vitals_%s_*.changes" % VERSION))
    if len(changes) != 1:
        return None
    newest = tree_mtime()
    if newest is None or os.path.getmtime(changes[0]) < newest:
        return None
    return changes[0]


def build_packages(out):
    """The .changes of a build of the current tree, with the .debs beside
    it in out: make deb's build/deb/ copied when fresh, otherwise a build
    of its own there (another run or `make deb` may replace build/deb/
    meanwhile, so nothing is read from it later)."""
    os.makedirs(out)
    changes = fresh_changes()
    if changes is not None:
        with open(changes) as f:
            names = re.findall(r"^ [0-9a-f]{32} \d+ \S+ \S+ (\S+)$",
                               f.read(), re.M)
        for name in names + [os.path.basename(changes)]:
            shutil.copy2(os.path.join(DEB_DIR, name), out)
        os.makedirs(os.path.join(out, "src/build/gen"))
        shutil.copy2(os.path.join(DEB_DIR, "src/build/gen/sonames.h"),
                     os.path.join(out, "src/build/gen"))
    else:
        r = run(["make", "-s", "-C", ROOT, "deb", "DEB_DIR=" + out],
                timeout=1800, env=make_env())
        if r.returncode != 0:
            raise AssertionError("make deb failed:\n%s%s"
                                 % (r.stdout[-6000:], r.stderr[-6000:]))
    changes = glob.glob(os.path.join(out, "vitals_%s_*.changes" % VERSION))
    if len(changes) != 1:
        raise AssertionError("no .changes in " + out)
    return changes[0]


def parse_unit(text):
    """{section: [(key, value)]} of a systemd unit file."""
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            cur = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        cur.append((key.strip(), value.strip()))
    return sections


def one(pairs, key):
    values = [v for k, v in pairs if k == key]
    if len(values) != 1:
        raise AssertionError("%s: %r" % (key, values))
    return values[0]


def parse_env_file(text):
    """KEY=VALUE lines of an EnvironmentFile (quotes as systemd reads them)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        words = shlex.split(value)
        env[key.strip()] = " ".join(words)
    return env


def expand_exec(line, env):
    """An ExecStart= line into argv as systemd does: "$VAR" alone is split
    into words at whitespace, "${VAR}" is one word."""
    argv = []
    for word in shlex.split(line):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv += env.get(m.group(1), "").split()
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda m: env.get(m.group(1), ""), word))
    return argv


@unittest.skipUnless(shutil.which("dpkg-buildpackage") and shutil.which("dh")
                     and shutil.which("lintian"),
                     "dpkg-dev, debhelper and lintian not installed "
                     "(contrib/ensure-deps.sh deb)")
@unittest.skipIf(SANITIZE, "builds and tests the release binaries, "
                 "which the run without SANITIZE already did")
class DebianPackages(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vt-deb-")
        try:
            cls.unpack()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def unpack(cls):
        cls.out = os.path.join(cls.tmp, "deb")
        cls.changes = build_packages(cls.out)
        cls.arch = run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).stdout.strip()
        cls.multiarch = run(["dpkg-architecture",
                             "-qDEB_HOST_MULTIARCH"]).stdout.strip()
        cls.debs = {}
        for name in PACKAGES:
            path = os.path.join(cls.out, "%s_%s_%s.deb"
                                % (name, VERSION, cls.arch))
            assert os.path.isfile(path), path
            cls.debs[name] = path
        # Every package unpacked into one root, as if installed together.
        cls.root = os.path.join(cls.tmp, "root")
        for path in cls.debs.values():
            r = run(["dpkg-deb", "-x", path, cls.root])
            assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- what lintian and dpkg-deb say --------------------------------
    def test_lintian_reports_no_errors_or_warnings(self):
        r = run(["lintian", "--fail-on", "error,warning", "--pedantic", "-I",
                 self.changes], timeout=600)
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", l)]
        self.assertEqual([t for t in tags if t[0] in "EW"], [], r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The .changes lintian read names all three packages.
        with open(self.changes) as f:
            binary = re.search(r"^Binary: (.*)$", f.read(), re.M).group(1)
        for name in PACKAGES:
            self.assertIn(name, binary.split())

    def contents(self, name):
        """{path: (type, link target or None)} of dpkg-deb -c."""
        r = run(["dpkg-deb", "-c", self.debs[name]])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = {}
        for line in r.stdout.splitlines():
            fields = line.split(None, 5)
            perms, rest = fields[0], fields[5]
            if " -> " in rest:
                path, target = rest.split(" -> ", 1)
            else:
                path, target = rest, None
            path = path[1:] if path.startswith(".") else path
            out[path.rstrip("/") or "/"] = (perms, target)
        return out

    def files(self, name):
        return {p: v for p, v in self.contents(name).items()
                if v[0][0] in "-l"}

    def test_vitals_holds_the_daemon_sender_unit_and_pages(self):
        files = self.files("vitals")
        want = {
            "/usr/sbin/vitalsd": "-rwxr-xr-x",
            "/usr/bin/vitals-send": "-rwxr-xr-x",
            "/lib/systemd/system/vitalsd.service": "-rw-r--r--",
            "/etc/default/vitalsd": "-rw-r--r--",
            "/usr/share/man/man8/vitalsd.8.gz": "-rw-r--r--",
            "/usr/share/man/man1/vitals-send.1.gz": "-rw-r--r--",
            "/usr/share/man/man5/vitals.json.5.gz": "-rw-r--r--",
            "/usr/share/vitals/vitals.example.json": "-rw-r--r--",
            "/usr/share/doc/vitals/copyright": "-rw-r--r--",
            "/usr/share/doc/vitals/changelog.gz": "-rw-r--r--",
        }
        for hook in glob.glob(os.path.join(ROOT, "contrib/hooks/*.sh")):
            want["/usr/share/vitals/hooks/" + os.path.basename(hook)] = \
                "-rwxr-xr-x"
        self.assertEqual({p: v[0] for p, v in files.items()}, want)

    def test_the_library_package_holds_the_shared_library(self):
        lib = "/usr/lib/%s/" % self.multiarch
        self.assertEqual(self.files("libvitals-client0"), {
            lib + "libvitals_client.so.%s" % VERSION: ("-rw-r--r--", None),
            lib + "libvitals_client.so.0":
                ("lrwxrwxrwx", "libvitals_client.so.%s" % VERSION),
            "/usr/share/doc/libvitals-client0/copyright": ("-rw-r--r--", None),
            "/usr/share/doc/libvitals-client0/changelog.gz":
                ("-rw-r--r--", None),
        })

    def test_the_dev_package_holds_header_archive_link_and_pc(self):
        lib = "/usr/lib/%s/" % self.multiarch
        self.assertEqual(self.files("libvitals-client-dev"), {
            "/usr/include/vitals_client.h": ("-rw-r--r--", None),
            lib + "libvitals_client.a": ("-rw-r--r--", None),
            lib + "libvitals_client.so": ("lrwxrwxrwx", "libvitals_client.so.0"),
            lib + "pkgconfig/vitals-client.pc": ("-rw-r--r--", None),
            "/usr/share/doc/libvitals-client-dev/copyright": ("-rw-r--r--", None),
            "/usr/share/doc/libvitals-client-dev/changelog.gz":
                ("-rw-r--r--", None),
        })

    def field(self, name, key):
        r = run(["dpkg-deb", "-f", self.debs[name], key])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def owner_of_soname(self, macro):
        """The package that holds the soname the build dlopen()s."""
        with open(os.path.join(self.out, "src/build/gen/sonames.h")) as f:
            soname = re.search(r'VT_%s_SONAME "([^"]+)"' % macro,
                               f.read()).group(1)
        r = run(["dpkg-query", "-S",
                 "/usr/lib/%s/%s" % (self.multiarch, soname)])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split(":")[0]

    def test_dependencies_name_the_dlopened_libraries(self):
        depends = [d.strip() for d in self.field("vitals", "Depends").split(",")]
        recommends = [d.strip() for d in
                      self.field("vitals", "Recommends").split(",")]
        # Linked: found by dh_shlibdeps.
        self.assertTrue(any(d.startswith("libmicrohttpd") for d in depends),
                        depends)
        self.assertTrue(any(d.startswith("libcjson") for d in depends),
                        depends)
        # dlopen()ed: named by debian/rules from build/gen/sonames.h.
        self.assertIn(self.owner_of_soname("LIBRRD"), depends)
        self.assertIn(self.owner_of_soname("LIBCURL"), recommends)
        self.assertIn(self.owner_of_soname("LIBRABBITMQ"), recommends)
        self.assertIn("libvitals-client0 (= %s)" % VERSION,
                      self.field("libvitals-client-dev", "Depends"))
        self.assertEqual(self.field("libvitals-client0", "Multi-Arch"), "same")

    def test_maintainer_scripts_enable_the_unit_and_keep_the_conffile(self):
        ctl = os.path.join(self.tmp, "control")
        r = run(["dpkg-deb", "-e", self.debs["vitals"], ctl])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(ctl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/default/vitalsd"])
        with open(os.path.join(ctl, "postinst")) as f:
            postinst = f.read()
        self.assertIn("deb-systemd-helper enable 'vitalsd.service'", postinst)
        self.assertIn("deb-systemd-invoke $_dh_action 'vitalsd.service'",
                      postinst)
        # The library package registers its soname (shlibs and symbols).
        ctl = os.path.join(self.tmp, "control-lib")
        r = run(["dpkg-deb", "-e", self.debs["libvitals-client0"], ctl])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(ctl, "shlibs")) as f:
            self.assertIn("libvitals_client 0 libvitals-client0", f.read())
        with open(os.path.join(ctl, "symbols")) as f:
            self.assertIn("vitals_client_open@Base", f.read())

    def test_dependencies_resolve_on_this_release(self):
        """apt, simulating only, can install the three packages here."""
        if shutil.which("apt-get") is None:
            self.skipTest("no apt-get")
        r = run(["apt-get", "install", "--simulate", "-q"]
                + [self.debs[n] for n in PACKAGES], timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in PACKAGES:
            self.assertRegex(r.stdout, r"(?m)^Inst %s " % re.escape(name))

    # -- the packaged unit ---------------------------------------------
    def unit(self):
        with open(os.path.join(self.root,
                               "lib/systemd/system/vitalsd.service")) as f:
            return f.read()

    def test_packaged_unit_passes_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze not installed (Debian: systemd)")
        # verify checks that ExecStart's binary exists and runs `man` for
        # each Documentation= page: point both at the unpacked packages.
        text = self.unit()
        copy = text.replace("ExecStart=/usr/sbin/vitalsd ",
                            "ExecStart=%s/usr/sbin/vitalsd " % self.root)
        self.assertNotEqual(copy, text)
        d = os.path.join(self.tmp, "verify")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "vitalsd.service")
        with open(path, "w") as f:
            f.write(copy)
        env = make_env()
        env["MANPATH"] = os.path.join(self.root, "usr/share/man")
        r = run([tool, "verify", path], timeout=60, env=env)
        self.assertEqual((r.returncode, r.stdout,
                          own_unit_messages(r.stderr, path)), (0, "", ""))
        # Without the packaged pages the same check fails: it is real.
        env["MANPATH"] = os.path.join(self.tmp, "no-man")
        r = run([tool, "verify", path], timeout=60, env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("man vitalsd(8)", r.stderr)

    def test_unit_command_line_starts_the_packaged_daemon(self):
        """ExecStart as systemd would run it, with the packaged
        /etc/default/vitalsd plus listen addresses on free loopback ports
        added to VITALSD_OPTS (as an admin would), the binary and the
        state directory moved into the temporary root."""
        service = parse_unit(self.unit())["Service"]
        self.assertEqual(one(service, "StateDirectory"), "vitals")
        env_file = one(service, "EnvironmentFile")
        self.assertEqual(env_file, "-/etc/default/vitalsd")
        with open(os.path.join(self.root, env_file.lstrip("-").lstrip("/"))) as f:
            env = parse_env_file(f.read())
        self.assertIn("VITALSD_OPTS", env)
        http_port, statsd_port = free_port(), free_port()
        env["VITALSD_OPTS"] = (env["VITALSD_OPTS"] +
                               " --http 127.0.0.1:%d --statsd 127.0.0.1:%d"
                               " --flush 1s" % (http_port, statsd_port))
        argv = expand_exec(one(service, "ExecStart"), env)
        self.assertEqual(argv[0], "/usr/sbin/vitalsd")
        self.assertIn("/var/lib/vitals", argv)  # StateDirectory=vitals
        state = os.path.join(self.tmp, "state")
        argv = [os.path.join(self.root, "usr/sbin/vitalsd")] + [
            a.replace("/var/lib/vitals", state + "/vitals") for a in argv[1:]]
        data = os.path.join(state, "vitals")

        log_path = os.path.join(self.tmp, "vitalsd.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 env=make_env())
        self.addCleanup(terminate, p)

        def log_text():
            with open(log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")

        def healthy():
            if p.poll() is not None:
                raise AssertionError("vitalsd exited %s:\n%s"
                                     % (p.returncode, log_text()))
            try:
                return http("GET", "http://127.0.0.1:%d/healthz"
                            % http_port).status == 200
            except OSError:
                return False
        wait_for(healthy, timeout=20, what="/healthz")
        body = http("GET", "http://127.0.0.1:%d/healthz" % http_port).json()
        self.assertEqual((body["status"], body["version"]), ("ok", VERSION))

        # The packaged vitals-send reaches it, and the window reaches the
        # RRD files through the librrd the package depends on.
        send = os.path.join(self.root, "usr/bin/vitals-send")
        r = run([send, "-p", str(statsd_port), "count", "debpkg",
                 "requests", "3"])
        self.assertEqual(r.returncode, 0, r.stderr)

        def counted():
            text = http("GET", "http://127.0.0.1:%d/metrics" % http_port).text
            return 'requests_total{service="debpkg"} 3' in text
        wait_for(counted, timeout=20, what="the counter in /metrics")
        wait_for(lambda: glob.glob(os.path.join(data, "debpkg", "*.rrd")),
                 timeout=30, what="an RRD file under " + data)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=60), 0, log_text())
        self.assertNotIn("cannot load", log_text())

    # -- the -dev package ----------------------------------------------
    def test_a_client_builds_against_the_dev_package(self):
        pcdir = os.path.join(self.root, "usr/lib", self.multiarch, "pkgconfig")
        env = make_env()
        env.update(PKG_CONFIG_LIBDIR=pcdir, PKG_CONFIG_PATH=pcdir,
                   PKG_CONFIG_SYSROOT_DIR=self.root)
        r = run(["pkg-config", "--cflags", "--libs", "vitals-client"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        flags = r.stdout.split()
        lib = os.path.join(self.root, "usr/lib", self.multiarch)
        self.assertEqual(flags, ["-I" + os.path.join(self.root, "usr/include"),
                                 "-L" + lib, "-lvitals_client"])
        src = os.path.join(self.tmp, "client.c")
        prog = os.path.join(self.tmp, "client")
        with open(src, "w") as f:
            f.write(CLIENT_C)
        r = run(["cc", "-std=c11", "-Wall", "-Werror", "-o", prog, src]
                + flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        env["LD_LIBRARY_PATH"] = lib
        r = run(["ldd", prog], env=env)
        self.assertIn("libvitals_client.so.0 => %s/libvitals_client.so.0"
                      % lib, r.stdout)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        r = run([prog, str(sock.getsockname()[1])], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sock.recvfrom(65536)[0],
                         b"packaged:1|c|#service:debpkg")


if __name__ == "__main__":
    unittest.main()
