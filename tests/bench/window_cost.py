"""CPU per closed window with N idle metrics, live or remembered.

    /usr/bin/python3 tests/bench/window_cost.py VITALSD LOADGEN N METRIC_TTL

Starts vitalsd (1 s windows, storage off, no self metrics), sends N new
counter names once, waits until they are idle (and, with a short
METRIC_TTL such as 5s, expired from memory but still remembered by the
pages), then prints the daemon's CPU per window over 30 s: what every
idle window costs the aggregator, the Prometheus sink, the latest view
with its catalogue, the tiles and the alert engine."""
import json, os, subprocess, sys, tempfile, time, urllib.request, socket, shutil
VITALSD, LOADGEN, N, TTL = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
tmp = tempfile.mkdtemp()
sp, hp = port(), port()
cfg = os.path.join(tmp, "c.json")
json.dump({"metric_ttl": TTL, "rrd": {"enabled": False}, "self_metrics": False,
           "max_metrics": 200000}, open(cfg, "w"))
p = subprocess.Popen([VITALSD, "-c", cfg, "--statsd", "127.0.0.1:%d" % sp, "--http",
                      "127.0.0.1:%d" % hp, "--data-dir", tmp + "/d", "--flush", "1s"],
                     stdout=open(tmp + "/log", "w"), stderr=subprocess.STDOUT)
time.sleep(1)
subprocess.run([LOADGEN, "--port", str(sp), "--names", str(N), "--max-lines", str(N),
                "--rate", "200000", "--duration", "30"], stdout=subprocess.DEVNULL)
time.sleep(8 if TTL != "1h" else 3)
def cpu():
    f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu(), time.time()
time.sleep(30)
c1, t1 = cpu(), time.time()
m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % hp).read().decode()
live = [l for l in m.splitlines() if l.startswith("vitals_metrics ")]
svc = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/v1/services" % hp).read())
nm = sum(s["metrics"] for s in svc["services"])
print("N=%d ttl=%s: %.1f ms CPU per 1 s window (%s; API lists %d metrics); RSS %s" % (
    N, TTL, (c1 - c0) / (t1 - t0) * 1000, live[0] if live else "?", nm,
    [l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmRSS")][0].strip()))
p.terminate(); p.wait(); shutil.rmtree(tmp)
