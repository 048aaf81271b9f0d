"""make layering: the folders of the tree are layers, and an include only
points down.

LAYERS lists the subsystem folders from the bottom up. A file may include
headers of its own folder and of folders listed before it, never after.
Includes name a header from the top of the tree ("collector/base/buf.h"),
so the folder is in the include line; a bare name that is some module's
header is refused too. Includes between files must not close a circle.

  /usr/bin/python3 tests/layering.py [ROOT]

prints one line per violation and exits 1, or prints a summary and exits 0.
"""
import os
import re
import sys

LAYERS = [
    "collector/base",      # buffers, log, loop, clock, queue, parsing, JSON
    "collector/config",    # the config file, flags and their table
    "collector/statsd",    # the statsd grammar, tags and names (pure)
    "collector/agg",       # aggregation windows, sketches, flush, sinks
    "collector/ingest",    # sockets, inbox, lines -> parser -> aggregator
    "collector/health",    # healthcheck values, registry, state file
    "exporters/prom",      # the Prometheus sink and exposition
    "exporters/rrd",       # RRD files: layout, store, reads, fork server
    "exporters/recent",    # in-memory sinks the pages read
    "collector/alerts",    # rules, alert state, engine, hooks
    "collector/amqp",      # the AMQP connection and consumer
    "exporters/graphite",  # the Graphite sink (reuses the AMQP backoff)
    "collector/fleet",     # sharded collectors: membership, fan-out
    "dashboards/http",     # the HTTP server
    "dashboards/assets",   # compiled-in CSS, JS and icons
    "dashboards/pages",    # HTML pages
    "dashboards/api",      # JSON API, events, /metrics route
    "dashboards/graph",    # graphs drawn by librrd
    "collector/relay",     # vitalsd --relay
    "collector/daemon",    # main and the wiring
]
# Outside the layers: the public client header and generated headers.
PUBLIC = {"vitals_client.h", "sonames.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    return os.path.dirname(path)


def scan(root):
    """{relative path: [included paths]} for every source in the layers."""
    files = {}
    for layer in LAYERS:
        d = os.path.join(root, layer)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                rel = layer + "/" + name
                with open(os.path.join(root, rel), encoding="utf-8",
                          errors="replace") as f:
                    text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
                files[rel] = INCLUDE.findall(text)
    return files


def check(root):
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    files = scan(root)
    headers = {os.path.basename(p) for p in files if p.endswith(".h")}
    errors = []
    for rel, incs in sorted(files.items()):
        mine = rank[folder_of(rel)]
        for inc in incs:
            if inc in PUBLIC:
                continue
            if "/" not in inc:
                if inc in headers:
                    errors.append("%s: include \"%s\" by its path from the "
                                  "top of the tree" % (rel, inc))
                continue
            target = folder_of(inc)
            if target not in rank:
                errors.append("%s: \"%s\" is in no layer (tests/layering.py "
                              "lists them)" % (rel, inc))
            elif inc not in files:
                errors.append("%s: \"%s\" does not exist" % (rel, inc))
            elif rank[target] > mine:
                errors.append("%s: includes \"%s\": %s is above %s" %
                              (rel, inc, target, folder_of(rel)))
    errors += circles(files)
    return files, errors


def circles(files):
    """Include circles between files, each reported once."""
    found, state, stack = [], {}, []

    def visit(f):
        state[f] = 1
        stack.append(f)
        for g in files.get(f, []):
            if g not in files:
                continue
            if state.get(g) == 1:
                loop = stack[stack.index(g):] + [g]
                found.append("include circle: " + " -> ".join(loop))
            elif g not in state:
                visit(g)
        stack.pop()
        state[f] = 2

    for f in sorted(files):
        if f not in state:
            visit(f)
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files, errors = check(root)
    for e in errors:
        print("layering: " + e)
    if errors:
        print("layering: %d violation(s); the order of the folders is in "
              "tests/layering.py" % len(errors))
        return 1
    n = sum(len(v) for v in files.values())
    print("layering: %d files, %d includes, %d layers: every include points "
          "down, no circles" % (len(files), n, len(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
