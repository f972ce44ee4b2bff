#!/usr/bin/env python3
"""Find the Leak lab: a small HTTP service with three deliberate leaks.

    service.py --port N [--leak cache,closure,cycle]

GET /health     -> 200 "ok"
GET /item?id=K  -> 200, a small JSON body (id, digest, sizes)

Each leak switched on with --leak keeps about 64 KiB per /item request alive
for good, so 2000 requests leak about 125 MiB per leak:

  cache    every payload is memoised in a dict that is never evicted; the dict
           is created once, as a default argument (ruff B008 flags the line)
  closure  a hook closure per response part is kept in a module-level list;
           the closure late-binds the loop variable (ruff B023 flags it) and
           so keeps the last 64 KiB part of every request alive
  cycle    two Session objects per request point at each other and define
           __del__; automatic GC is switched off "for latency", so the cycles
           are never collected

The three allocation sites carry the marker comments "site: cache",
"site: closure" and "site: cycle" (tests/lab/test_lab.py finds them by these
markers); configs/lab/service_fixed.py is the same service with the fixes.

Binds 127.0.0.1 only. Prints "listening on 127.0.0.1:N" (flushed) when ready;
on SIGTERM it stops serving and exits 0 without printing anything.
Standard library only.
"""

import argparse
import gc
import hashlib
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LEAK_NAMES = ("cache", "closure", "cycle")
PAYLOAD_BYTES = 64 * 1024   # one cached payload per request
PART_BYTES = 64 * 1024      # each response is built from PARTS parts
PARTS = 2
SESSION_BYTES = 32 * 1024   # two sessions (one cycle) per request

LEAKS = set()               # filled from --leak at start-up


# --- leak 1: an unbounded cache ---------------------------------------------

def new_cache():
    return {}


def render_payload(key):
    """The expensive part of a response: 64 KiB derived from the key."""
    return hashlib.sha256(key.encode()).digest() * (PAYLOAD_BYTES // 32)


def cached_payload(key, cache=new_cache()):  # noqa: B008 -- deliberate: one dict shared by every call, never evicted
    value = cache.get(key)
    if value is None:
        value = cache[key] = hashlib.sha256(key.encode()).digest() * (PAYLOAD_BYTES // 32)  # site: cache
    return value


# --- leak 2: a closure that captures a large object -------------------------

ON_CLOSE = []   # module-level registry of hooks, never cleared


def make_part(key, index):
    return (b"%s/%d;" % (key.encode(), index)).ljust(PART_BYTES, b".")  # site: closure


def checksum_parts(key):
    parts = [make_part(key, i) for i in range(PARTS)]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        if "closure" in LEAKS:
            ON_CLOSE.append(lambda: len(part))  # noqa: B023 -- deliberate: the hook captures the 64 KiB part
    return digest.hexdigest()


# --- leak 3: reference cycles of objects with __del__, GC switched off ------

STATS = {"sessions_closed": 0}


class Session:
    def __init__(self, key):
        self.key = key
        self.buffer = bytearray(SESSION_BYTES)  # site: cycle
        self.peer = None

    def __del__(self):
        STATS["sessions_closed"] += 1


def open_sessions(key):
    client, upstream = Session(key), Session(key)
    client.peer = upstream
    upstream.peer = client     # a cycle: only the cyclic GC could free it
    return len(client.buffer) + len(upstream.buffer)


# --- the service -------------------------------------------------------------

def handle_item(key):
    if "cache" in LEAKS:
        payload = cached_payload(key)
    else:
        payload = render_payload(key)
    parts_digest = checksum_parts(key)
    session_bytes = open_sessions(key) if "cycle" in LEAKS else 0
    return {
        "id": key,
        "digest": hashlib.sha256(payload).hexdigest()[:16],
        "parts": parts_digest[:16],
        "session_bytes": session_bytes,
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "memgate-lab/1"

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            self.reply(200, b"ok", "text/plain")
        elif url.path == "/item":
            key = parse_qs(url.query).get("id", [""])[0]
            if not key:
                self.reply(400, b"missing id\n", "text/plain")
                return
            body = json.dumps(handle_item(key)).encode()
            self.reply(200, body, "application/json")
        else:
            self.reply(404, b"not found\n", "text/plain")

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):   # quiet: no line per request
        pass


class Stop(Exception):
    pass


def parse_leaks(text):
    leaks = {name.strip() for name in text.split(",") if name.strip()}
    unknown = leaks - set(LEAK_NAMES)
    if unknown:
        raise argparse.ArgumentTypeError(
            "unknown leak %s (choose from %s)" % (", ".join(sorted(unknown)), ",".join(LEAK_NAMES)))
    return leaks


def main(argv=None):
    ap = argparse.ArgumentParser(description="Find the Leak lab service (leaky)")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--leak", type=parse_leaks, default=set(),
                    help="comma-separated subset of " + ",".join(LEAK_NAMES) + " (default: none)")
    args = ap.parse_args(argv)
    LEAKS.update(args.leak)
    if "cycle" in LEAKS:
        gc.disable()    # "for latency": from now on cycles are never collected

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)

    def on_term(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_term)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except Stop:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
