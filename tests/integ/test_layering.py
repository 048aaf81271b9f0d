"""make layering: the check passes on the tree and fails, naming the file
and the folders, when an include points up a layer or closes a circle."""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "layering.py")


def run(root):
    return subprocess.run(["/usr/bin/python3", SCRIPT, root],
                          capture_output=True, text=True, timeout=60)


class Layering(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vt-layering-")
        for top in ("collector", "exporters", "dashboards"):
            shutil.copytree(os.path.join(ROOT, top),
                            os.path.join(self.tmp, top))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def add_line(self, rel, line):
        path = os.path.join(self.tmp, rel)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(line + "\n" + text)

    def test_the_tree_passes(self):
        r = run(self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("every include points down", r.stdout)

    def test_an_include_that_points_up_fails(self):
        self.add_line("collector/base/buf.c",
                      '#include "collector/daemon/daemon.h"')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('collector/base/buf.c: includes '
                      '"collector/daemon/daemon.h": collector/daemon is '
                      'above collector/base', r.stdout)

    def test_a_bare_module_include_fails(self):
        self.add_line("collector/agg/agg.c", '#include "buf.h"')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('collector/agg/agg.c: include "buf.h" by its path',
                      r.stdout)

    def test_a_circle_inside_a_folder_fails(self):
        self.add_line("collector/base/log.h", '#include "collector/base/buf.h"')
        self.add_line("collector/base/buf.h", '#include "collector/base/log.h"')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("include circle:", r.stdout)


if __name__ == "__main__":
    unittest.main()
