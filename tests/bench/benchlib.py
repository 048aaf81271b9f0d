"""What the benchmark scripts in tests/bench/ share (Python 3 standard
library only)."""
import platform


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, for the machine line every
    benchmark prints."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return val.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
