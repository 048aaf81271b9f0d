"""Run every integration test (tests/integ/test_*.py) and print the
closing line 'N passed, N failed'. Exit status 1 when any test failed."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class TimedResult(unittest.TextTestResult):
    """Adds up the wall time of each test file, so the slowest files can
    be printed: CI has a time budget and this says where it goes. The
    time between two tests (class set-ups, mostly) is charged to the
    file of the test that follows it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.per_file = {}
        self._mark = time.monotonic()

    def _charge(self, test):
        now = time.monotonic()
        name = type(test).__module__
        self.per_file[name] = self.per_file.get(name, 0.0) + now - self._mark
        self._mark = now

    def startTest(self, test):
        self._charge(test)
        super().startTest(test)

    def stopTest(self, test):
        self._charge(test)
        super().stopTest(test)


def print_slowest(result, n=12):
    files = sorted(result.per_file.items(), key=lambda kv: -kv[1])
    total = sum(t for _, t in files)
    print("integration: %.0f s in all; slowest files:" % total)
    for name, secs in files[:n]:
        print("  %6.1f s  %s" % (secs, name))


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult)
    result = runner.run(suite)
    print_slowest(result)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    line = "%d passed, %d failed" % (passed, failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    print("integration: " + line)
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
