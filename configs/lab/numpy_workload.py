#!/usr/bin/python3
"""Find the Leak lab: "NumPy is a different memory world".

    /usr/bin/python3 numpy_workload.py [--mib N] [--hold SECONDS]

Needs NumPy (Debian: apt-get install python3-numpy; run it with
/usr/bin/python3, not a pyenv/venv interpreter without NumPy).

Allocates about N MiB (default 200) of real data in NumPy arrays (ones,
uniform random numbers, then arithmetic on them) and about 3 MiB of ordinary
Python objects (a list of 10,000 small dicts), holds it all for a moment and
exits 0. Everything stays referenced from module globals until exit, so a
snapshot taken at exit (gate/heap/python/sitecustomize.py, memray) still sees it.

Under tracemalloc, NumPy's data buffers are traced in their own domain
(389047) while Python objects are in domain 0: nearly all the traced memory
is NumPy's (measured: 200 MiB in 389047 against ~15 MiB in domain 0, of
which ~11 MiB is NumPy's own import), and pymalloc-level tools that only
look at domain 0 see a few MiB. Prints one summary line.
"""

import argparse
import sys
import time

import numpy as np

HELD = {}   # module-level: alive until interpreter exit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=200, help="MiB of NumPy data (default 200)")
    ap.add_argument("--hold", type=float, default=0.2, help="seconds to hold it (default 0.2)")
    args = ap.parse_args(argv)

    n = args.mib * 1024 * 1024 // 8 // 4        # four float64 arrays of n elements
    rng = np.random.default_rng(12345)
    ones = np.ones(n)                           # numpy: n * 8 bytes
    noise = rng.random(n)                       # numpy: n * 8 bytes
    scaled = ones * 3.0 + noise                 # numpy: n * 8 bytes (temporary freed)
    ramp = np.arange(n, dtype=np.float64)       # numpy: n * 8 bytes
    ramp /= n
    HELD["arrays"] = [ones, noise, scaled, ramp]

    # A few MiB of ordinary Python objects (pymalloc, domain 0).
    HELD["records"] = [{"id": i, "name": "record-%06d" % i, "score": i * 0.5} for i in range(10000)]

    total = float(scaled.sum() + ramp.mean())
    nbytes = sum(a.nbytes for a in HELD["arrays"])
    time.sleep(args.hold)
    print("numpy_bytes=%d python_records=%d checksum=%.3f" % (nbytes, len(HELD["records"]), total), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
