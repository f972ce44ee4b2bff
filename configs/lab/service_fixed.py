#!/usr/bin/env python3
"""Find the Leak lab: configs/lab/service.py with its three leaks fixed.

    service_fixed.py --port N [--leak cache,closure,cycle]

Same endpoints, same answers, same start-up line and SIGTERM behaviour as
service.py. The fixes, at the same three sites (same "site: ..." markers):

  cache    functools.lru_cache(maxsize=CACHE_ENTRIES) instead of a dict that
           is never evicted: at most 16 x 64 KiB = 1 MiB of payloads
  closure  no hook closure at all: the only thing the hook ever needed was
           the part's size, which goes into a bounded deque of ints
  cycle    a Session refers to its peer through weakref.ref, so there is no
           strong cycle and reference counting frees both at once

CLI decision: --leak is accepted (and validated) for compatibility, so a
fixture or a test can swap service.py for service_fixed.py without touching
the rest of the command line, but it changes nothing: this service has no
leak to switch on. Automatic GC stays disabled, as in the leaky service with
--leak cycle: the "latency tuning" is kept, and the fix is that nothing here
depends on the cyclic GC any more.
Standard library only.
"""

import argparse
import collections
import functools
import gc
import hashlib
import json
import signal
import sys
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LEAK_NAMES = ("cache", "closure", "cycle")
PAYLOAD_BYTES = 64 * 1024
PART_BYTES = 64 * 1024
PARTS = 2
SESSION_BYTES = 32 * 1024
CACHE_ENTRIES = 16


# --- fix 1: a bounded cache ----------------------------------------------------

@functools.lru_cache(maxsize=CACHE_ENTRIES)
def cached_payload(key):
    return hashlib.sha256(key.encode()).digest() * (PAYLOAD_BYTES // 32)  # site: cache


# --- fix 2: keep the size, not the part ---------------------------------------

PART_SIZES = collections.deque(maxlen=256)   # bounded, holds ints only


def make_part(key, index):
    return (b"%s/%d;" % (key.encode(), index)).ljust(PART_BYTES, b".")  # site: closure


def checksum_parts(key):
    parts = [make_part(key, i) for i in range(PARTS)]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        PART_SIZES.append(len(part))
    return digest.hexdigest()


# --- fix 3: no strong cycle --------------------------------------------------------

STATS = {"sessions_closed": 0}


class Session:
    def __init__(self, key):
        self.key = key
        self.buffer = bytearray(SESSION_BYTES)  # site: cycle
        self._peer = None

    @property
    def peer(self):
        return self._peer() if self._peer is not None else None

    @peer.setter
    def peer(self, other):
        self._peer = weakref.ref(other)

    def __del__(self):
        STATS["sessions_closed"] += 1


def open_sessions(key):
    client, upstream = Session(key), Session(key)
    client.peer = upstream
    upstream.peer = client     # weak both ways: freed when the locals go
    return len(client.buffer) + len(upstream.buffer)


# --- the service -------------------------------------------------------------

def handle_item(key):
    payload = cached_payload(key)
    parts_digest = checksum_parts(key)
    session_bytes = open_sessions(key)
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
    ap = argparse.ArgumentParser(description="Find the Leak lab service (fixed)")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--leak", type=parse_leaks, default=set(),
                    help="accepted for compatibility with service.py; ignored (nothing leaks here)")
    args = ap.parse_args(argv)
    gc.disable()    # kept from the leaky service: nothing here needs the cyclic GC

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
