"""Part 1: memgate beside its peers on workloads of known memory.

Every tool samples at 10 ms where it has a setting (memgate's default; the
peers' own defaults are 100 ms for mprof and peak-mem, as fast as it can for
psrecord). The truth is the peak of the bare workload in a memory cgroup of
the bench's own (else the known size)."""
import json
import os
import shlex
import sys
import tempfile

from benchlib import (MiB, PEERS, RUNS, WORKLOAD, Truth, cpu_pct, median, memgate, mib, run, table,
                      which)

WORKLOADS = [  # label, known bytes, argv
    ("hold 64 MiB, 1 s", 64 * MiB, [WORKLOAD, "hold", "64", "1000"]),
    ("tree 4x32 MiB, 1 s", 128 * MiB, [WORKLOAD, "tree", "4", "32", "1000"]),
    ("spike 4 MiB for ~1.5 ms, 1 s idle", 4 * MiB, [WORKLOAD, "spike", "4", "1000"]),
    ("shared 100 MiB by 1+4 processes, 1 s", 100 * MiB, [WORKLOAD, "shared", "100", "4", "1000"]),
    ("tree 500x1 MiB, 2 s", 500 * MiB, [WORKLOAD, "tree", "500", "1", "2000"]),
]


class Tool:
    """A way to run the workload: fn(argv) -> (Run, [bytes of each figure], cpu).
    cpu is ('report', s, %) as the tool says, ('minus-bare', s) when wait4
    covers the tool and the workload it reaped, ('self', s) when it covers the
    tool alone."""

    def __init__(self, name, figures, fn, version=None):
        self.name, self.figures, self.fn, self.version = name, figures, fn, version


def time_v(argv):
    r = run(["/usr/bin/time", "-v"] + argv)
    for line in r.err.splitlines():
        if "Maximum resident set size (kbytes):" in line:
            return r, [int(line.split(":")[1]) * 1024], ("minus-bare", r.cpu)
    return r, [None], ("minus-bare", r.cpu)


def memgate_tool(mode, figures):
    def fn(argv):
        r, rep = memgate(argv, mode=mode)
        return r, [rep["peak"][f] for f in figures], ("report", rep["measurement"]["self_cpu_ms"] / 1000.0,
                                                     cpu_pct(rep))
    return fn


def psrecord_tool(exe):
    def fn(argv):
        with tempfile.TemporaryDirectory(prefix="bench-psrecord-") as d:
            log = os.path.join(d, "log")
            r = run([exe, shlex.join(argv), "--include-children", "--interval", "0.01", "--log", log])
            peak = None
            with open(log) as f:
                for line in f:
                    if not line.startswith("#") and line.split():
                        v = float(line.split()[2]) * MiB  # "Real (MB)" is rss / 1024**2
                        peak = v if peak is None else max(peak, v)
        # psrecord never waits for its child (it exits when it sees a zombie):
        # wait4's figures are psrecord's own.
        return r, [peak], ("self", r.cpu)
    return fn


def mprof_tool(exe):
    def fn(argv):
        with tempfile.TemporaryDirectory(prefix="bench-mprof-") as d:
            dat = os.path.join(d, "m.dat")
            r = run([exe, "run", "--include-children", "--interval", "0.01", "--output", dat] + argv)
            peak = None
            with open(dat) as f:
                for line in f:
                    if line.startswith("MEM "):
                        v = float(line.split()[1]) * MiB  # "MiB" in psutil's rss / 2**20
                        peak = v if peak is None else max(peak, v)
        return r, [peak], ("minus-bare", r.cpu)
    return fn


def peakmem_tool(exe):
    def fn(argv):
        r = run([exe, "--json", "--interval", "10", "--"] + argv)
        i = r.out.rfind("\n{")
        doc = json.loads(r.out[i + 1:] if i >= 0 else r.out)
        return r, [doc["peak_rss_bytes"]], ("minus-bare", r.cpu)
    return fn


def first_line(argv):
    try:
        r = run(argv, timeout=60)
        return (r.out + r.err).strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def tools(modes):
    """The tools to compare, and notes about those skipped."""
    ts, notes = [], []
    v = first_line(["/usr/bin/time", "--version"])
    if not v or "UNKNOWN" in v:  # Debian's GNU time says "UNKNOWN"; its package knows
        v = first_line(["dpkg-query", "-W", "-f", "GNU time ${Version}\\n", "time"]) or v
    ts.append(Tool("/usr/bin/time -v", ["max RSS of one process"], time_v, v))
    for mode, why in modes:
        if why:
            notes.append(f"  memgate {mode}: skipped: {why}")
            continue
        figs = ["cgroup_bytes", "tree_rss_bytes"] if mode.startswith("cgroup") else ["tree_rss_bytes"]
        ts.append(Tool(f"memgate {mode}", ["peak." + f for f in figs], memgate_tool(mode, figs)))
    exe = os.path.join(PEERS, "venv", "bin", "psrecord")
    if os.access(exe, os.X_OK):
        v = first_line([os.path.join(PEERS, "venv", "bin", "python"), "-c",
                        "import importlib.metadata as m; print(m.version('psrecord'), 'psutil', m.version('psutil'))"])
        ts.append(Tool("psrecord", ["max sum of RSS"], psrecord_tool(exe), v))
    else:
        notes.append(f"  psrecord: skipped: {exe} missing (tests/bench/install-peers)")
    exe = which("mprof", "python3-mprof")
    if exe:
        with open(exe, errors="replace") as f:  # a Python script: ask its interpreter for the version
            line = f.readline()
        py = line[2:].split() if line.startswith("#!") else None
        v = first_line((py or [sys.executable]) + ["-c", "import memory_profiler as m; print(m.__version__)"])
        ts.append(Tool("mprof", ["max sum of RSS"], mprof_tool(exe), f"memory-profiler {v}"))
    else:
        notes.append("  mprof: skipped: neither mprof nor python3-mprof on PATH (tests/bench/install-peers)")
    exe = os.path.join(PEERS, "cargo", "bin", "peak-mem")
    if os.access(exe, os.X_OK):
        ts.append(Tool("peak-mem", ["peak_rss_bytes"], peakmem_tool(exe), first_line([exe, "--version"])))
    else:
        notes.append(f"  peak-mem: skipped: {exe} missing (tests/bench/install-peers)")
    return ts, notes


def bench(modes):
    truth = Truth()
    ts, notes = tools(modes)
    print("peers: " + "; ".join(f"{t.name}: {t.version}" for t in ts if t.version and not t.name.startswith("memgate")),
          flush=True)
    rows = []
    for label, known, argv in WORKLOADS:
        bare, truths = [], []
        got = {i: [] for i in range(len(ts))}
        errors = {}
        for k in range(RUNS):  # interleaved: one run of each, rotated
            order = list(range(-2, len(ts)))
            order = order[k % len(order):] + order[:k % len(order)]
            for i in order:
                if i == -2:
                    bare.append(run(argv))
                elif i == -1:
                    if truth.base:
                        truths.append(truth.measure(argv)[1])
                else:
                    try:
                        got[i].append(ts[i].fn(argv))
                    except (RuntimeError, OSError, ValueError, KeyError) as e:
                        errors[i] = str(e)
        bare_wall = median(r.wall for r in bare)
        bare_cpu = median(r.cpu for r in bare)
        ref = median(truths) if truths else known
        rows.append([label, "truth (own cgroup)" if truth.base else "truth", truth.name, mib(ref), "", "", ""])
        rows.append(["", "bare command", "", "", "", f"{bare_wall:.3f} s", f"{bare_cpu * 1000:.0f} ms (its own)"])
        for i, t in enumerate(ts):
            if i in errors and not got[i]:
                rows.append(["", t.name, t.figures[0], "error", "", "", errors[i][:60]])
                continue
            wall = median(g[0].wall for g in got[i])
            kind = got[i][0][2][0]
            c = median(g[2][1] for g in got[i])
            if kind == "report":
                cpu = f"{c * 1000:.0f} ms, {median(g[2][2] for g in got[i]):.1f}%"
            else:
                c = max(c - bare_cpu, 0.0) if kind == "minus-bare" else c
                cpu = f"~{c * 1000:.0f} ms, {100 * c / wall:.1f}%"
            for j, figure in enumerate(t.figures):
                fig = median(g[1][j] for g in got[i])
                diff = None if fig is None else f"{100.0 * (fig - ref) / ref:+.0f}%"
                rows.append(["", t.name if j == 0 else "", figure, mib(fig), diff,
                             f"{wall / bare_wall:.3f}x" if j == 0 else "", cpu if j == 0 else ""])
    if not truth.base:
        notes.append(f"  truth: no cgroup ({truth.why}): the known size instead")
    table(f"1. memgate and its peers (median of {RUNS} interleaved runs; every sampler at 10 ms)",
          ["workload", "tool", "figure", "MiB", "vs truth", "wall vs bare", "tool's own CPU, % of a core"],
          rows, left=3,
          notes=notes + [
              "  truth: the bare workload alone in a fresh memory cgroup of the bench's (page cache and kernel",
              "    memory charged to it included); 'vs truth' is the figure's difference from it",
              "  own CPU: memgate's from its report (self_cpu_ms); '~' = wait4 CPU of the tool, less the bare",
              "    command's where the tool reaps it (time, mprof, peak-mem); psrecord never reaps it: its own"])
