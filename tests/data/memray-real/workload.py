"""The workload behind tests/data/memray-real/ (see NOTES.md there).

    python workload.py ok|raise|exit3|pool

Keeps about 6 MiB alive in two places, then by mode: ok -> exit 0; raise ->
an uncaught RuntimeError (exit 1); exit3 -> sys.exit(3); pool -> a
multiprocessing pool of 2 forked workers, each of which keeps about 2 MiB
more per task (4 tasks), then exit 0.
"""
import multiprocessing
import sys

CACHE = {}   # never evicted
HELD = []    # never cleared


def fill_cache(n):
    for i in range(n):
        CACHE[i] = ("item-%d-" % i) * 40          # CACHE-LINE: ~0.3 KB each, kept


def hold_buffers(n, size):
    for _ in range(n):
        HELD.append(bytearray(size))              # HELD-LINE: 64 KiB each, kept


def worker_task(k):
    HELD.append([float(i) for i in range(65536)])  # WORKER-LINE: ~2 MiB per task in the worker
    return k * k


def main(mode):
    fill_cache(10000)
    hold_buffers(48, 65536)
    print("cache=%d held=%d" % (len(CACHE), len(HELD)), flush=True)
    if mode == "raise":
        raise RuntimeError("deliberate failure after allocating")
    if mode == "exit3":
        sys.exit(3)
    if mode == "pool":
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            print("squares=%s" % pool.map(worker_task, range(4), chunksize=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "ok"))
