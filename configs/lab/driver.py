#!/usr/bin/env python3
"""Find the Leak lab: load driver for configs/lab/service*.py.

    driver.py --port N --requests N [--concurrency C] [--id-start K] [--timeout S]

Sends N requests GET http://127.0.0.1:PORT/item?id=K with K = id-start,
id-start+1, ... (distinct ids, so a cache keyed by id sees a new key on every
request), C at a time (default 4), and checks each answer (status 200, a JSON
body echoing the id). The last line on stdout is always "requests=M", M being
the number of requests that succeeded; each failure is described on stderr.
Exit status: 0 when all N succeeded, 1 when any failed, 2 on usage errors.
Standard library only.
"""

import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def fetch(base, key, timeout):
    url = "%s/item?id=%s" % (base, key)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except (urllib.error.URLError, OSError) as e:
        return "GET %s: %s" % (url, e)
    if status != 200:
        return "GET %s: HTTP %d" % (url, status)
    try:
        doc = json.loads(body)
    except ValueError:
        return "GET %s: body is not JSON: %r" % (url, body[:80])
    if not isinstance(doc, dict) or doc.get("id") != str(key):
        return "GET %s: unexpected body %r" % (url, body[:80])
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Drive N GET /item requests at the lab service")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--id-start", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = ap.parse_args(argv)
    if args.requests < 0 or args.concurrency < 1 or not 0 < args.port < 65536:
        ap.error("need --requests >= 0, --concurrency >= 1 and a port in 1..65535")

    base = "http://%s:%d" % (args.host, args.port)
    ok = 0
    failed = 0
    lock = threading.Lock()

    def one(i):
        nonlocal ok, failed
        err = fetch(base, args.id_start + i, args.timeout)
        with lock:
            if err is None:
                ok += 1
            else:
                failed += 1
                if failed <= 10:
                    print("driver: " + err, file=sys.stderr, flush=True)

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for _ in pool.map(one, range(args.requests)):
            pass
    if failed > 10:
        print("driver: ... %d failures in all" % failed, file=sys.stderr)
    print("requests=%d" % ok, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
