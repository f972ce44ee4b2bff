"""Part 6: memray's overhead on the Python lab (configs/lab/service.py with
its three leaks, driven by configs/lab/driver.py): wall and RSS of the
service run under `python -m memray run -q -o X` (as memgate runs it for
"heap": "memray") against a plain run, as ratios. Optional: needs memray in
build/venv (tests/venv makes it; BENCH_VENV names another venv)."""
import os
import signal
import socket
import subprocess
import tempfile
import time

from benchlib import MiB, RUNS, median, skipped, table

VENV = os.environ.get("BENCH_VENV", os.path.join("build", "venv"))
REQUESTS = int(os.environ.get("BENCH_LAB_REQUESTS", "1000"))
LEAKS = "cache,closure,cycle"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one(py, memray, tmp):
    """One lab run: start the service, wait for "listening", drive REQUESTS,
    read the service's VmHWM, SIGTERM it. Returns (wall s, HWM bytes)."""
    port = free_port()
    cmd = [py]
    if memray:
        cap = os.path.join(tmp, f"cap-{port}.bin")
        cmd += ["-m", "memray", "run", "-q", "-o", cap]
    cmd += ["configs/lab/service.py", "--port", str(port), "--leak", LEAKS]
    t0 = time.perf_counter()
    svc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, start_new_session=True)
    try:
        for line in svc.stdout:
            if line.startswith("listening on"):
                break
        else:
            raise RuntimeError(f"the service exited ({svc.wait()}) before listening")
        d = subprocess.run([py, "configs/lab/driver.py", "--port", str(port), "--requests", str(REQUESTS)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        if d.returncode != 0:
            raise RuntimeError(f"driver failed: {d.stderr.strip()[-200:]}")
        with open(f"/proc/{svc.pid}/status") as f:
            hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
        return wall, hwm
    finally:
        svc.send_signal(signal.SIGTERM)
        try:
            svc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(svc.pid, signal.SIGKILL)
            svc.wait()


def bench():
    py = os.path.join(VENV, "bin", "python")
    probe = None
    if os.access(py, os.X_OK):
        probe = subprocess.run([py, "-c", "import memray; print(memray.__version__)"], capture_output=True, text=True)
    if probe is None or probe.returncode != 0:
        skipped("7. memray on the lab", f"no {VENV} with memray (run tests/venv)")
        return
    got = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench-memray-") as tmp:
        for k in range(RUNS):
            for memray in ((False, True) if k % 2 == 0 else (True, False)):
                got[memray].append(one(py, memray, tmp))
    pw, ph = median(w for w, _ in got[False]), median(h for _, h in got[False])
    mw, mh = median(w for w, _ in got[True]), median(h for _, h in got[True])
    table(f"7. memray {probe.stdout.strip()} on the lab service (--leak {LEAKS}, {REQUESTS} requests;"
          f" median of {RUNS} interleaved runs)",
          ["run", "wall", "service peak RSS (VmHWM)", "wall ratio", "RSS ratio"],
          [["plain", f"{pw:.2f} s", f"{ph / MiB:.1f} MiB", "1.00x", "1.00x"],
           ["memray run -q -o X", f"{mw:.2f} s", f"{mh / MiB:.1f} MiB", f"{mw / pw:.2f}x", f"{mh / ph:.2f}x"]],
          notes=[f"  interpreter {py}; wall from the service's start to the driver's last answer"])
