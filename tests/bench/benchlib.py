"""Shared pieces of `make bench`: running and timing a command, the truth
cgroup, memgate runs, medians and aligned tables. Standard library only."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEMGATE = os.environ.get("MEMGATE", "build/memgate")
WORKLOAD = os.environ.get("WORKLOAD", "build/workload")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PEERS = os.path.join("build", "bench-peers")
MiB = 1024 * 1024


class Run:
    """One finished command: wall seconds, exit code, the CPU seconds and
    max RSS of it and of the descendants it waited for (wait4's rusage),
    its stdout and stderr."""

    def __init__(self, wall, code, cpu, maxrss, out, err):
        self.wall, self.code, self.cpu, self.maxrss, self.out, self.err = wall, code, cpu, maxrss, out, err


def run(argv, preexec=None, timeout=600, env=None, on_start=None):
    """Run argv with no stdin, output to temporary files, and time it from
    just before the fork to wait4's return. on_start(pid) is called once it
    runs (the long-run check watches memgate's RSS from there)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=preexec,
                             env=env, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(p.pid, signal.SIGKILL))
        timer.start()
        try:
            if on_start:
                on_start(p.pid)
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Run(wall, p.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def memgate(argv, mode=None, interval=None, pss=False, timeout=600, on_start=None, env=None):
    """memgate measure on argv; returns (Run, the report's first fixture or None).
    env: the environment for memgate (and so the program), default ours."""
    with tempfile.TemporaryDirectory(prefix="memgate-bench-") as d:
        out = os.path.join(d, "r.json")
        cmd = [MEMGATE, "measure"]
        if mode:
            cmd += ["--measurement", mode]
        if interval:
            cmd += ["--interval", interval]
        if pss:
            cmd += ["--pss"]
        r = run(cmd + ["--json", out, "--"] + argv, timeout=timeout, on_start=on_start, env=env)
        rep = None
        if os.path.exists(out):
            with open(out) as f:
                rep = json.load(f)["fixtures"][0]
        if r.code not in (0, 1) or rep is None or rep.get("verdict") == "error":
            reason = "; ".join((rep or {}).get("reasons") or r.err.strip().splitlines()[-3:])
            raise RuntimeError(f"memgate {mode or 'auto'} failed (exit {r.code}): {reason}")
        return r, rep


def cpu_pct(rep):
    """memgate's own CPU as % of one core over the measured wall time."""
    m = rep["measurement"]
    return 100.0 * m["self_cpu_ms"] / max(rep["wall_ms"], 1)


def achieved_hz(rep):
    return rep["measurement"]["samples"] / max(rep["wall_ms"], 1) * 1000.0


def memgate_modes():
    """Which --measurement modes work here: [(mode, None)] or [(mode, reason)]."""
    found = []
    for mode in ("cgroup-v1", "cgroup-v2", "proc"):
        try:
            memgate([WORKLOAD, "exit", "0"], mode=mode, timeout=60)
            found.append((mode, None))
        except RuntimeError as e:  # keep the kernel's reason, not memgate's preamble
            why = str(e)
            found.append((mode, why.split("unavailable: ", 1)[-1] if "unavailable: " in why else why))
    return found


# ---- the truth: a memory cgroup of the bench's own ---------------------------

class Truth:
    """A memory cgroup under this process's own (v1: memory.max_usage_in_bytes,
    v2: memory.peak), one fresh child per run. .why says why there is none."""

    def __init__(self):
        self.base, self.kind, self.why, self.n = None, None, None, 0
        try:
            self._find()
        except OSError as e:
            self.why = str(e)

    def _find(self):
        cgs = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                for c in ctrls.split(",") if ctrls else [""]:
                    cgs[c] = path
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, right = line.split(" - ", 1)
                lf, rf = left.split(), right.split()
                mounts.append((lf[3], lf[4], rf[0], set(rf[2].split(","))))  # root, mountpoint, fstype, super opts
        if "memory" in cgs:
            for root, mnt, fstype, opts in mounts:
                if fstype == "cgroup" and "memory" in opts:
                    rel = cgs["memory"][len(root):] if cgs["memory"].startswith(root) else cgs["memory"]
                    base = os.path.normpath(mnt + "/" + rel)
                    if os.access(os.path.join(base, "memory.max_usage_in_bytes"), os.W_OK) or \
                            os.access(base, os.W_OK):
                        self.base, self.kind = base, "v1"
                        return
                    self.why = f"cgroup v1 memory: {base} is not writable"
                    return
        if "" in cgs:
            for root, mnt, fstype, opts in mounts:
                if fstype == "cgroup2":
                    base = os.path.normpath(mnt + "/" + cgs[""][len(root):])
                    try:
                        with open(os.path.join(base, "cgroup.subtree_control")) as f:
                            if "memory" in f.read().split():
                                self.base, self.kind = base, "v2"
                                return
                    except OSError:
                        pass
                    self.why = f"no cgroup v1 memory controller, and cgroup v2 {base} does not delegate memory"
                    return
        self.why = "no memory cgroup for this process"

    @property
    def name(self):
        return {"v1": "memory.max_usage_in_bytes", "v2": "memory.peak"}.get(self.kind, "known size")

    def measure(self, argv, timeout=600):
        """Run argv alone in a fresh child cgroup; returns (Run, peak bytes)."""
        self.n += 1
        path = os.path.join(self.base, f"memgate-bench-{os.getpid()}-{self.n}")
        os.mkdir(path)
        try:
            procs = os.path.join(path, "cgroup.procs")

            def enter():  # in the child, before exec: it allocates nothing outside
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            r = run(argv, preexec=enter, timeout=timeout)
            with open(os.path.join(path, "memory.max_usage_in_bytes" if self.kind == "v1" else "memory.peak")) as f:
                return r, int(f.read())
        finally:
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.02)


# ---- output -------------------------------------------------------------------

def fmt(v, spec="", none="-"):
    if v is None:
        return none
    if isinstance(v, str):
        return v
    return format(v, spec)


def mib(b, spec=".1f"):
    return None if b is None else format(b / MiB, spec)


def table(title, head, rows, left=1, notes=()):
    """Print a table: the first `left` columns left-aligned, the rest right."""
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]

    def line(r):
        return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    print()
    print(title)
    print(line(head))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    for n in notes:
        print(n)
    print(flush=True)


def skipped(part, reason):
    print(f"\n{part}: skipped: {reason}\n", flush=True)


def which(*names):
    for n in names:
        p = shutil.which(n) if not os.path.isabs(n) and "/" not in n else (n if os.access(n, os.X_OK) else None)
        if p:
            return p
    return None
