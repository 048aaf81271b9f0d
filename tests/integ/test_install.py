"""make install / make uninstall: the exact files under DESTDIR, the
client library's soname, pkg-config against the installed tree building a
client that sends a metric (statically and against the .so), the man pages
rendering without a warning, and uninstall removing exactly what install
wrote. The release build is used (and built if missing)."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import SANITIZE

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What make install writes under DESTDIR with PREFIX=/usr, besides the
# hooks and the systemd unit, which follow the tree (see expected()).
FILES = {
    "usr/sbin/vitalsd": 0o755,
    "usr/bin/vitals-send": 0o755,
    "usr/lib/libvitals_client.a": 0o644,
    "usr/lib/libvitals_client.so.0.1.0": 0o644,
    "usr/include/vitals_client.h": 0o644,
    "usr/lib/pkgconfig/vitals-client.pc": 0o644,
    "usr/share/man/man1/vitals-send.1": 0o644,
    "usr/share/man/man5/vitals.json.5": 0o644,
    "usr/share/man/man8/vitalsd.8": 0o644,
    "usr/share/vitals/vitals.example.json": 0o644,
}
LINKS = {
    "usr/lib/libvitals_client.so.0": "libvitals_client.so.0.1.0",
    "usr/lib/libvitals_client.so": "libvitals_client.so.0",
}
SONAME = "libvitals_client.so.0"

CLIENT_C = r"""
#include <stdio.h>
#include <vitals_client.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	vitals_client *c = vitals_client_open("127.0.0.1", argv[1]);
	if (c == NULL) {
		perror("vitals_client_open");
		return 1;
	}
	int rc = vitals_client_count(c, "installed", argv[2], 3);
	/* a call for the service map: a timer tagged with its callee */
	if (rc == 0)
		rc = vitals_client_call(c, "installed", "peer-svc", "probe.call",
		    5, 503);
	vitals_client_close(c);
	return rc == 0 ? 0 : 1;
}
"""


def expected(prefix="usr"):
    """{relative path: mode or link target} of a whole install."""
    files = {p.replace("usr/", prefix + "/", 1): m for p, m in FILES.items()}
    for hook in sorted(glob.glob(os.path.join(ROOT, "contrib/hooks/*.sh"))):
        files[prefix + "/share/vitals/hooks/" + os.path.basename(hook)] = 0o755
    if os.path.exists(os.path.join(ROOT, "contrib/systemd/vitalsd.service")):
        files[prefix + "/lib/systemd/system/vitalsd.service"] = 0o644
    links = {p.replace("usr/", prefix + "/", 1): t for p, t in LINKS.items()}
    return files, links


def make_env():
    """The environment without what an outer make or a sanitizer build
    would pass down: the installed tree is the release build."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
              "SANITIZE", "BUILD"):
        env.pop(k, None)
    env["LC_ALL"] = "C.UTF-8"
    return env


def make(*args):
    r = subprocess.run(["make", "-s", "-C", ROOT, "BUILD=build/release",
                        "SANITIZE="] + list(args),
                       capture_output=True, text=True, timeout=900,
                       env=make_env())
    if r.returncode != 0:
        raise AssertionError("make %s failed:\n%s%s"
                             % (" ".join(args), r.stdout, r.stderr))
    return r


def tree(destdir):
    """({relative file: mode}, {relative symlink: target}) under destdir."""
    files, links = {}, {}
    for d, dirs, names in os.walk(destdir):
        for n in names + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, destdir)
            if os.path.islink(p):
                links[rel] = os.readlink(p)
            else:
                files[rel] = os.stat(p).st_mode & 0o7777
    return files, links


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          **kw)


@unittest.skipIf(SANITIZE, "builds and tests the release binaries, "
                 "which the run without SANITIZE already did")
class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vt-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        make("install", "DESTDIR=" + cls.dest, "PREFIX=/usr")
        cls.lib = os.path.join(cls.dest, "usr/lib")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_the_exact_file_list(self):
        files, links = tree(self.dest)
        want_files, want_links = expected()
        self.assertEqual(sorted(files), sorted(want_files))
        self.assertEqual(links, want_links)
        for path, mode in want_files.items():
            self.assertEqual(oct(files[path]), oct(mode), path)

    def test_installed_programs_run(self):
        r = run([os.path.join(self.dest, "usr/sbin/vitalsd"), "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("vitalsd 0.1.0", r.stdout)
        r = run([os.path.join(self.dest, "usr/bin/vitals-send"), "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("usage: vitals-send", r.stdout)

    def test_shared_library_soname(self):
        r = run(["readelf", "-d",
                 os.path.join(self.lib, "libvitals_client.so.0.1.0")])
        self.assertEqual(r.returncode, 0, r.stderr)
        sonames = [l for l in r.stdout.splitlines() if "(SONAME)" in l]
        self.assertEqual(len(sonames), 1, r.stdout)
        self.assertIn("[%s]" % SONAME, sonames[0])
        # The soname and the link name lead to the real file.
        real = os.path.realpath(os.path.join(self.lib, "libvitals_client.so"))
        self.assertEqual(os.path.basename(real), "libvitals_client.so.0.1.0")

    def test_pkg_config_file(self):
        with open(os.path.join(self.lib, "pkgconfig/vitals-client.pc")) as f:
            pc = f.read()
        for line in ("prefix=/usr\n", "libdir=/usr/lib\n",
                     "includedir=/usr/include\n", "Version: 0.1.0\n"):
            self.assertIn(line, pc)
        self.assertNotIn("@", pc)

    def pkg_config(self, *args):
        env = make_env()
        env["PKG_CONFIG_LIBDIR"] = os.path.join(self.lib, "pkgconfig")
        env["PKG_CONFIG_PATH"] = os.path.join(self.lib, "pkgconfig")
        env["PKG_CONFIG_SYSROOT_DIR"] = self.dest
        r = run(["pkg-config"] + list(args) + ["vitals-client"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    def build_and_send(self, name, flags, env=None):
        """Build CLIENT_C with flags, run it against a UDP socket and
        return (the line received, readelf -d of the program)."""
        src = os.path.join(self.tmp, name + ".c")
        prog = os.path.join(self.tmp, name)
        with open(src, "w") as f:
            f.write(CLIENT_C)
        r = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", prog,
                 src] + flags)
        self.assertEqual(r.returncode, 0, " ".join(flags) + "\n" + r.stderr)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = str(sock.getsockname()[1])
        r = run([prog, port, "probe." + name], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        data, _ = sock.recvfrom(65536)
        call, _ = sock.recvfrom(65536)
        self.assertEqual(call.decode(), "probe.call:5|ms|#service:installed,"
                         "peer.service:peer-svc,status:503")
        dyn = run(["readelf", "-d", prog]).stdout
        return data.decode(), dyn

    def test_pkg_config_flags_point_into_the_tree(self):
        flags = self.pkg_config("--cflags", "--libs")
        self.assertEqual(flags, ["-I" + os.path.join(self.dest, "usr/include"),
                                 "-L" + self.lib, "-lvitals_client"])

    def test_a_client_linked_statically_sends_a_metric(self):
        flags = self.pkg_config("--cflags", "--libs", "--static")
        self.assertIn("-lvitals_client", flags)
        flags = ["-l:libvitals_client.a" if f == "-lvitals_client" else f
                 for f in flags]
        line, dyn = self.build_and_send("static", flags)
        self.assertEqual(line, "probe.static:3|c|#service:installed")
        self.assertNotIn("libvitals_client", dyn)

    def test_a_client_linked_against_the_shared_library_sends_a_metric(self):
        flags = self.pkg_config("--cflags", "--libs")
        env = make_env()
        env["LD_LIBRARY_PATH"] = self.lib
        line, dyn = self.build_and_send("shared", flags, env)
        self.assertEqual(line, "probe.shared:3|c|#service:installed")
        self.assertIn("Shared library: [%s]" % SONAME, dyn)

    def test_man_pages_render_without_warnings(self):
        pages = sorted(glob.glob(os.path.join(self.dest,
                                              "usr/share/man/man*/*")))
        self.assertEqual([os.path.basename(p) for p in pages],
                         ["vitals-send.1", "vitals.json.5", "vitalsd.8"])
        env = make_env()
        env["MANWIDTH"] = "80"
        for page in pages:
            r = run(["man", "-l", "--warnings", "-E", "UTF-8", page], env=env)
            self.assertEqual(r.returncode, 0, page + ": " + r.stderr)
            self.assertEqual(r.stderr, "", page)
            self.assertIn("NAME", r.stdout, page)
            self.assertIn("SEE ALSO", r.stdout, page)


@unittest.skipIf(SANITIZE, "builds and tests the release binaries, "
                 "which the run without SANITIZE already did")
class Uninstall(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="vt-uninstall-")
        self.addCleanup(shutil.rmtree, self.dest)

    def test_default_prefix_and_uninstall_leaves_no_files(self):
        make("install", "DESTDIR=" + self.dest)
        files, links = tree(self.dest)
        want_files, want_links = expected("usr/local")
        self.assertEqual(sorted(files), sorted(want_files))
        self.assertEqual(links, want_links)
        with open(os.path.join(
                self.dest, "usr/local/lib/pkgconfig/vitals-client.pc")) as f:
            self.assertIn("prefix=/usr/local\n", f.read())
        make("uninstall", "DESTDIR=" + self.dest)
        self.assertEqual(tree(self.dest), ({}, {}))
        self.assertFalse(os.path.exists(
            os.path.join(self.dest, "usr/local/share/vitals")))

    def test_uninstall_removes_only_what_install_wrote(self):
        make("install", "DESTDIR=" + self.dest, "PREFIX=/usr")
        theirs = ["usr/lib/libother.so.1", "usr/share/vitals/local.json",
                  "usr/bin/other-tool"]
        for rel in theirs:
            with open(os.path.join(self.dest, rel), "w") as f:
                f.write("not vitals\n")
        make("uninstall", "DESTDIR=" + self.dest, "PREFIX=/usr")
        files, links = tree(self.dest)
        self.assertEqual(sorted(files), sorted(theirs))
        self.assertEqual(links, {})


if __name__ == "__main__":
    unittest.main()
