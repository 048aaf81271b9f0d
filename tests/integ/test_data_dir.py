"""The data directory at start (issue 21, finding 5): a --data-dir that
resolves to the root or a system directory is refused before anything is
written, with a message naming where it leads; a good one is created and
its resolved path logged."""
import os
import shutil
import tempfile

from harness import TestCase, Vitalsd, free_port, run_vitalsd


class DataDirectory(TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vitals-datadir-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def start(self, data_dir):
        return run_vitalsd(["--statsd", "127.0.0.1:%d" % free_port(),
                            "--http", "127.0.0.1:%d" % free_port(),
                            "--data-dir", data_dir], timeout=20)

    def test_links_to_system_directories_are_refused(self):
        # Only trees nothing can be written into: the refusal of "/" and
        # /etc themselves is in the unit suite (test_data_dir.c).
        for target, shown in (("/sys", "/sys"), ("/proc/self", "/proc/"),
                              ("/dev", "/dev")):
            link = os.path.join(self.tmp, "d" + target.replace("/", "_"))
            os.symlink(target, link)
            r = self.start(link)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("data_dir %s resolves to %s" % (link, shown),
                          r.stderr)
            self.assertIn("refusing", r.stderr)

    def test_a_good_directory_is_made_and_logged_resolved(self):
        real = os.path.join(self.tmp, "real")
        os.mkdir(real)
        link = os.path.join(self.tmp, "link")
        os.symlink(real, link)
        with Vitalsd(args=["--data-dir", os.path.join(link, "a", "b")]) as v:
            self.assertTrue(os.path.isdir(os.path.join(real, "a", "b")))
            self.assertIn("data directory %s" % os.path.join(real, "a", "b"),
                          v.log_text())
