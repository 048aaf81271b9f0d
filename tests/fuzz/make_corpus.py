#!/usr/bin/python3
"""Build the fuzz seed corpora under tests/fuzz/corpus/<target>/ from the
string literals of the unit tests (tests/test_*.c), so every case a unit
test spells out is also a starting point for the fuzzer.

    /usr/bin/python3 tests/fuzz/make_corpus.py      (from the top directory)

Adjacent C literals are joined and their escapes decoded. Each target
keeps the literals shaped like its input; files are named by content hash,
so running again only adds what is new. The result is committed.
"""
import hashlib
import os
import re
import urllib.parse

TOP = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")

_LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_GAP = re.compile(r'(?:\s|//[^\n]*\n|/\*.*?\*/)*', re.S)
_ESC = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39,
        "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}


def decode(body):
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            out.append(int(m.group(0), 16) & 0xff)
            i += 2 + len(m.group(0))
        elif e in "01234567" and re.match(r"[0-7]{1,3}", body[i + 1:]):
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(int(m.group(0), 8) & 0xff)
            i += 1 + len(m.group(0))
        else:
            out.append(_ESC.get(e, ord(e)))
            i += 2
    return bytes(out)


def literals(path):
    """Every maximal run of adjacent string literals, joined and decoded."""
    src = open(path, encoding="utf-8", errors="replace").read()
    src = re.sub(r"^#\s*include.*$", "", src, flags=re.M)
    found = []
    pos = 0
    while True:
        m = _LIT.search(src, pos)
        if not m:
            break
        parts = [m.group(1)]
        end = m.end()
        while True:
            g = _GAP.match(src, end)
            n = _LIT.match(src, g.end())
            if not n:
                break
            parts.append(n.group(1))
            end = n.end()
        # A literal inside a character constant such as '"' is not one.
        if m.start() == 0 or src[m.start() - 1] != "'":
            found.append(decode("".join(parts)))
        pos = end
    return found


def test_literals(*names):
    out = []
    for n in names:
        out += literals(os.path.join(TOP, "tests", n))
    return out


def write(target, seeds):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    added = 0
    for s in sorted(set(seeds)):
        name = hashlib.sha1(s).hexdigest()[:16]
        p = os.path.join(d, name)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(s)
            added += 1
    print("%-14s %4d seeds (%d new)" % (target, len(set(seeds)), added))


def enc(b):
    """Percent-encode newlines and '%' so a name fits one http_path field."""
    return urllib.parse.quote(b, safe=bytes(range(32, 127)).replace(b"%", b"")
                              .decode()).encode()


def main():
    statsd = test_literals("test_statsd.c", "test_agg.c", "test_prom.c")
    health = test_literals("test_health_json.c", "test_health.c",
                           "test_health_store.c")
    lines = [l for l in statsd if b":" in l and b"|" in l
             and not l.startswith(b"_sc|")]
    write("statsd", lines)
    # Datagrams for the whole pipeline: each line alone, and runs of
    # lines as one datagram (kinds and tags that meet in one window).
    lines = sorted(set(lines))
    grams = list(lines)
    for i in range(0, len(lines), 8):
        grams.append(b"\n".join(lines[i:i + 8]) + b"\n")
    write("pipeline", grams)
    write("service_check",
          [l for l in statsd + health if l.lstrip().startswith(b"_sc|")])
    write("health_json",
          [l for l in health if l.lstrip()[:1] in (b"{", b"[")])
    config = [l for l in test_literals("test_config.c")
              if l.lstrip()[:1] in (b"{", b"/") or l.endswith(b"s")]
    config.append(open(os.path.join(TOP, "contrib", "vitals.example.json"),
                       "rb").read())
    write("config", config)

    names = [l for l in test_literals("test_rrd_layout.c", "test_names.c")
             if 0 < len(l) < 600]
    seeds = [b"payments/http.get.svg\n-6h\nnow\n\npayments\nhttp.get\n"
             b"pay-1:4001\ncassandra",
             b"billing/checks/db.png\nnow-1d\n1795000000\nmethod:GET,code:200"
             b"\nbilling\nqueue.depth\n10.0.0.1\ndb",
             b"a/b%2Fc.svg\n-1mon\n+30m\nk:v\n..\n../../etc/passwd\n.\n/x",
             b"svc/m.png\n-300\n-1y\nservice:x\n%2E%2E\n%2F\n%00\n%0A"]
    for i, n in enumerate(names):
        e = enc(n)
        seeds.append(b"%s/%s.svg\n-1h\nnow\nk:%s\n%s\n%s\n%s\n%s" %
                     (e, e, e, e, e, e, e))
    write("http_path", seeds)

    # Whole requests: method, target, one header line, body.
    reqs = [b"GET\n/healthz\n", b"HEAD\n/healthz\n", b"PUT\n/healthz\nX: y\nz",
            b"POST\n/api/v1/metrics\nContent-Type: text/plain\na:1|c\n",
            b"DELETE\n/api/v1/services/payments\n",
            b"GET\n/api/v1/services/pay%2Fments?x=1\n",
            b"GET\n/go/a%0d%0aX-Injected:%20yes\n",
            b"GET\n/go/%E2%82%AC%00x\n",
            b"GET\n/api/v1/series?from=-6h&until=now&from=1\n",
            b"GET\n/api/v1/series?from=now-1mon&until=%2B30m\n",
            b"GET\n/graph/svc/http.get.svg?width=600\n",
            b"GET\n/graph/svc/a%2Fb.png\n", b"GET\n/graph/.svg\n",
            b"GET\nhttp://host/healthz\n", b"GET\n*\n",
            b"GET\n/healthz?a=%zz&&=&b\n", b"OPTIONS\n/\n",
            b"POST\n/api/v1/metrics\nExpect: 100-continue\n" + b"x" * 5000]
    for n in names[:40]:
        reqs.append(b"GET\n/go/" + urllib.parse.quote(n).encode() + b"\n")
    write("http_request", reqs)


if __name__ == "__main__":
    main()
