"""Acceptance test of the "Find the Leak" lab and of memgate's tracemalloc helper.

Run from the repo root:   /usr/bin/python3 -m unittest discover -s tests/lab -v

Needs NumPy for /usr/bin/python3 (Debian: apt-get install python3-numpy), or
LAB_NUMPY_PYTHON naming another interpreter that has it. No memgate: the test
starts every process itself, on 127.0.0.1, and always stops it.

What it shows, measured:
- the leaky service (configs/lab/service.py --leak cache,closure,cycle) under
  the helper: the three largest growth sites are exactly its three leak lines
  (found by their "# site: NAME" markers), each about REQUESTS x 64 KiB, and
  its RSS grows by hundreds of MiB;
- the fixed service (configs/lab/service_fixed.py): none of those lines grows
  by more than a bound, and its RSS flatlines;
- the NumPy workload: nearly all traced memory is in NumPy's domain 389047;
- the helper chains to an existing sitecustomize, keeps exit statuses (3,
  death by SIGTERM, the program's own SIGTERM handler), writes from the first
  process only, and reports its own failures on one stderr line.
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join("configs", "lab")
HELPER_DIR = os.path.join(REPO, "gate", "heap", "python")
NUMPY_PYTHON = os.environ.get("LAB_NUMPY_PYTHON", "/usr/bin/python3")
NUMPY_DOMAIN = 389047
KiB = 1024
MiB = 1024 * 1024

REQUESTS = 2000          # driven after the warm-up
WARMUP = 200
PER_LEAK = 64 * KiB      # what each leak keeps per request
FIXED_SITE_BOUND = 2 * MiB   # the fixed service's lru_cache holds 16 x 64 KiB
FIXED_RSS_BOUND = 8 * MiB


def marker_line(path, name):
    """Line number of the one line of path carrying "# site: NAME"."""
    found = []
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if re.search(r"#\s*site:\s*%s\b" % re.escape(name), line):
                found.append(lineno)
    if len(found) != 1:
        raise AssertionError("%s: expected one '# site: %s' marker, found %d" % (path, name, len(found)))
    return found[0]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KiB
    raise AssertionError("no VmRSS for pid %d" % pid)


def helper_env(out, extra_pythonpath=None, top=None):
    env = dict(os.environ)
    for k in ("MEMGATE_PYHEAP_PID", "MEMGATE_PYHEAP_TOP", "MEMGATE_PYHEAP_FRAMES", "PYTHONTRACEMALLOC"):
        env.pop(k, None)
    parts = [HELPER_DIR] + ([extra_pythonpath] if extra_pythonpath else [])
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["MEMGATE_PYHEAP_OUT"] = out
    env["PYTHONDONTWRITEBYTECODE"] = "1"    # no __pycache__ in gate/heap/python or configs/lab
    if top is not None:
        env["MEMGATE_PYHEAP_TOP"] = str(top)
    return env


def load_report(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["tool"] == "tracemalloc", doc
    return doc


def site_sizes(doc):
    return {e["location"]: e["size_bytes"] for e in doc["top"]}


class Service:
    """A lab service process: started, waited for, always stopped."""

    def __init__(self, script, leaks, env):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(LAB, script), "--port", str(self.port), "--leak", leaks],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = []
        self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._err_thread.start()
        self.first_line = self._read_line(15.0)
        self.extra_stdout = b""

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise AssertionError("service printed no ready line in %.0f s" % timeout)
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1)
                if not chunk:
                    self.stop()
                    raise AssertionError("service exited before it was ready: %s" % "".join(self.stderr))
                buf += chunk
        return buf.decode()

    def stop(self):
        """SIGTERM, 20 s grace, then SIGKILL. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.extra_stdout = self.proc.stdout.read()
        self.proc.stdout.close()
        self._err_thread.join(5)
        self.proc.stderr.close()
        return self.proc.returncode


def drive(port, requests, id_start=0):
    r = subprocess.run(
        [sys.executable, os.path.join(LAB, "driver.py"), "--port", str(port), "--requests", str(requests),
         "--concurrency", "4", "--id-start", str(id_start)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    lines = r.stdout.decode().splitlines()
    if r.returncode != 0 or not lines or lines[-1] != "requests=%d" % requests:
        raise AssertionError("driver failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))


def run_service(script, tmp, top=None):
    """Start under the helper, warm up, drive REQUESTS, SIGTERM; RSS growth and report."""
    out = os.path.join(tmp, script + ".json")
    svc = Service(script, "cache,closure,cycle", helper_env(out, top=top))
    try:
        assert svc.first_line == "listening on 127.0.0.1:%d\n" % svc.port, svc.first_line
        drive(svc.port, WARMUP, id_start=1000000)
        before = vmrss(svc.proc.pid)
        t0 = time.monotonic()
        drive(svc.port, REQUESTS)
        seconds = time.monotonic() - t0
        after = vmrss(svc.proc.pid)
    finally:
        rc = svc.stop()
    return {"rc": rc, "rss_growth": after - before, "rss_before": before, "rss_after": after,
            "drive_s": seconds, "report": load_report(out), "stderr": "".join(svc.stderr),
            "stdout_after_ready": svc.extra_stdout}


class LabServices(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="memgate-lab-")
        cls.leaky = run_service("service.py", cls.tmp.name)
        cls.fixed = run_service("service_fixed.py", cls.tmp.name, top=500)
        sys.stderr.write("\n  leaky: RSS +%.1f MiB over %d requests (%.1f s); fixed: RSS %+.2f MiB (%.1f s)\n" % (
            cls.leaky["rss_growth"] / MiB, REQUESTS, cls.leaky["drive_s"],
            cls.fixed["rss_growth"] / MiB, cls.fixed["drive_s"]))
        for e in cls.leaky["report"]["top"][:5]:
            sys.stderr.write("  leaky top: %-32s %10d bytes %6d blocks\n" % (e["location"], e["size_bytes"],
                                                                            e["count"]))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def leak_sites(self, script):
        path = os.path.join(LAB, script)
        return {name: "%s:%d" % (path, marker_line(path, name)) for name in ("cache", "closure", "cycle")}

    def test_services_stop_cleanly_on_sigterm(self):
        for run in (self.leaky, self.fixed):
            self.assertEqual(run["rc"], 0)
            self.assertEqual(run["stdout_after_ready"], b"")
            self.assertEqual(run["stderr"], "")   # no helper complaint, no traceback

    def test_leaky_top_sites_are_the_three_leak_lines(self):
        sites = self.leak_sites("service.py")
        top = self.leaky["report"]["top"]
        self.assertEqual({e["location"] for e in top[:3]}, set(sites.values()),
                         "top 3 growth sites: %s" % json.dumps(top[:5], indent=1))
        sizes = site_sizes(self.leaky["report"])
        for name, loc in sites.items():
            # every request of the run (warm-up included) keeps 64 KiB at this line
            self.assertGreaterEqual(sizes[loc], REQUESTS * PER_LEAK, name)
            self.assertLess(sizes[loc], 1.2 * (REQUESTS + WARMUP) * PER_LEAK, name)
        self.assertGreater(self.leaky["report"]["peak_bytes"], 3 * REQUESTS * PER_LEAK)

    def test_fixed_sites_do_not_grow(self):
        sites = self.leak_sites("service_fixed.py")
        top = self.fixed["report"]["top"]
        sizes = site_sizes(self.fixed["report"])
        floor = top[-1]["size_bytes"] if len(top) == 500 else 0   # a site not listed grew at most this
        for name, loc in sites.items():
            self.assertLessEqual(sizes.get(loc, floor), FIXED_SITE_BOUND, name)
        self.assertLess(self.fixed["report"]["current_bytes"], 40 * MiB)

    def test_rss_growth_leaky_vs_fixed(self):
        leaky, fixed = self.leaky["rss_growth"], self.fixed["rss_growth"]
        self.assertGreater(leaky, 2.5 * REQUESTS * PER_LEAK)       # ~375 MiB expected
        self.assertLess(fixed, FIXED_RSS_BOUND)                    # flatline
        self.assertGreater(leaky, 20 * max(fixed, 1 * MiB))


class LabNumpy(unittest.TestCase):
    def test_numpy_memory_is_in_numpy_domain(self):
        probe = subprocess.run([NUMPY_PYTHON, "-c", "import numpy"], stderr=subprocess.PIPE)
        if probe.returncode != 0:
            self.fail("%s cannot import numpy (Debian: apt-get install python3-numpy): %s"
                      % (NUMPY_PYTHON, probe.stderr.decode()[-200:]))
        with tempfile.TemporaryDirectory(prefix="memgate-lab-") as tmp:
            out = os.path.join(tmp, "numpy.json")
            r = subprocess.run([NUMPY_PYTHON, os.path.join(LAB, "numpy_workload.py")], cwd=REPO,
                               env=helper_env(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, b"")
            doc = load_report(out)
        domains = {d["domain"]: d["size_bytes"] for d in doc["domains"]}
        total = sum(domains.values())
        numpy_bytes = domains.get(NUMPY_DOMAIN, 0)
        sys.stderr.write("\n  numpy: domain %d %.1f MiB, domain 0 %.1f MiB, %.1f%% NumPy; peak %.1f MiB\n" % (
            NUMPY_DOMAIN, numpy_bytes / MiB, domains.get(0, 0) / MiB, 100.0 * numpy_bytes / total,
            doc["peak_bytes"] / MiB))
        self.assertGreaterEqual(numpy_bytes, 200 * MiB)
        self.assertGreater(numpy_bytes, 0.9 * total)
        self.assertLess(domains.get(0, 0), 0.1 * total)
        # charged to the workload's own lines, not to numpy/core/numeric.py
        self.assertTrue(doc["top"][0]["location"].startswith(os.path.join(LAB, "numpy_workload.py") + ":"),
                        doc["top"][:3])


class LabDriver(unittest.TestCase):
    def test_driver_fails_on_failed_requests(self):
        r = subprocess.run([sys.executable, os.path.join(LAB, "driver.py"), "--port", str(free_port()),
                            "--requests", "3"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.decode().splitlines()[-1], "requests=0")
        self.assertIn("Connection refused", r.stderr.decode())


class Helper(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="memgate-helper-")
        self.tmp = self._tmp.name
        self.out = os.path.join(self.tmp, "heap.json")

    def tearDown(self):
        self._tmp.cleanup()

    def run_py(self, code, env=None, timeout=60):
        return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env or helper_env(self.out),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)

    def test_chains_to_existing_sitecustomize(self):
        other = os.path.join(self.tmp, "other")
        os.mkdir(other)
        marker = os.path.join(self.tmp, "marker")
        with open(os.path.join(other, "sitecustomize.py"), "w") as f:
            f.write("import os\nopen(os.environ['LAB_MARKER'], 'w').write('chained %d' % os.getpid())\n")
        env = helper_env(self.out, extra_pythonpath=other)
        env["LAB_MARKER"] = marker
        r = self.run_py("import sitecustomize, os; print(os.path.relpath(sitecustomize.__file__)); "
                        "print(os.getpid())", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        shown, pid = r.stdout.decode().split()
        self.assertEqual(shown, os.path.join("gate", "heap", "python", "sitecustomize.py"))
        with open(marker) as f:
            self.assertEqual(f.read(), "chained " + pid)
        load_report(self.out)

    def test_broken_chained_sitecustomize_is_reported_not_raised(self):
        other = os.path.join(self.tmp, "other")
        os.mkdir(other)
        with open(os.path.join(other, "sitecustomize.py"), "w") as f:
            f.write("raise RuntimeError('boom')\n")
        r = self.run_py("print('ran')", env=helper_env(self.out, extra_pythonpath=other))
        self.assertEqual((r.returncode, r.stdout), (0, b"ran\n"))
        self.assertRegex(r.stderr.decode(), r"^memgate-pyheap: error in the chained sitecustomize: "
                                            r"RuntimeError: boom\n$")
        load_report(self.out)

    def test_exit_status_3_is_kept(self):
        r = self.run_py("import sys\nkeep = bytearray(8 << 20)\nsys.exit(3)\n")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stderr, b"")
        doc = load_report(self.out)
        self.assertEqual(doc["top"][0]["location"], "<string>:2")
        self.assertGreaterEqual(doc["top"][0]["size_bytes"], 8 << 20)

    def test_default_sigterm_still_kills_by_signal(self):
        p = subprocess.Popen([sys.executable, "-c", "import time\nkeep = bytearray(4 << 20)\n"
                              "print('up', flush=True)\ntime.sleep(60)\n"],
                             cwd=REPO, env=helper_env(self.out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertEqual(p.stdout.readline(), b"up\n")
            p.send_signal(signal.SIGTERM)
            p.wait(20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            err = p.stderr.read()
            p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGTERM, err)
        self.assertEqual(err, b"")
        self.assertEqual(load_report(self.out)["top"][0]["location"], "<string>:2")

    def test_programs_own_sigterm_handler_is_chained(self):
        code = ("import os, signal, sys, time\n"
                "def bye(signum, frame):\n"
                "    os.write(1, b'handler %d\\n' % signum)   # print() may be mid-flush here\n"
                "    sys.exit(7)\n"
                "old = signal.signal(signal.SIGTERM, bye)\n"
                "assert signal.getsignal(signal.SIGTERM) is bye\n"
                "print('up', old == signal.SIG_DFL, flush=True)\n"
                "time.sleep(60)\n")
        p = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=helper_env(self.out),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertEqual(p.stdout.readline(), b"up True\n")
            p.send_signal(signal.SIGTERM)
            p.wait(20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            rest = p.stdout.read()
            p.stdout.close()
            err = p.stderr.read()
            p.stderr.close()
        self.assertEqual((p.returncode, rest, err), (7, b"handler 15\n", b""))
        load_report(self.out)

    def test_ignored_sigterm_stays_ignored(self):
        code = ("import os, signal, sys\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "keep = bytearray(2 << 20)\n"
                "os.kill(os.getpid(), signal.SIGTERM)\n"
                "print('still here', signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)\n")
        r = self.run_py(code)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"still here True\n", b""))
        self.assertEqual(load_report(self.out)["top"][0]["location"], "<string>:3")   # written at exit

    def test_children_do_not_overwrite_the_report(self):
        prog = os.path.join(self.tmp, "forker.py")
        with open(prog, "w") as f:
            f.write("import os, subprocess, sys\n"
                    "parent_data = bytearray(3 << 20)\n"                       # line 2
                    "pid = os.fork()\n"
                    "if pid == 0:\n"
                    "    child_data = bytearray(40 << 20)\n"                   # line 5
                    "    sys.exit(0)\n"                                        # runs atexit in the child
                    "os.waitpid(pid, 0)\n"
                    "subprocess.run([sys.executable, '-c', 'x = bytearray(50 << 20)'], check=True)\n"
                    "print(os.getpid())\n")
        r = subprocess.run([sys.executable, prog], cwd=REPO, env=helper_env(self.out),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        doc = load_report(self.out)
        self.assertEqual(doc["top"][0]["location"], prog + ":2")
        self.assertLess(doc["peak_bytes"], 30 << 20)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["forker.py", "heap.json"])   # no tmp file left

    def test_helper_failure_is_one_stderr_line(self):
        env = helper_env(os.path.join(self.tmp, "no", "such", "dir", "heap.json"))
        r = self.run_py("import sys; print('ran'); sys.exit(4)", env=env)
        self.assertEqual((r.returncode, r.stdout), (4, b"ran\n"))
        lines = r.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("memgate-pyheap: no report written to "), lines[0])

    def test_no_output_variable_means_no_tracing(self):
        env = helper_env(self.out)
        del env["MEMGATE_PYHEAP_OUT"]
        r = self.run_py("import tracemalloc; print(tracemalloc.is_tracing())", env=env)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"False\n", b""))
        self.assertFalse(os.path.exists(self.out))

    def test_report_shape(self):
        r = self.run_py("keep = [bytes(1000) for _ in range(2000)]\n", env=helper_env(self.out, top=3))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = load_report(self.out)
        self.assertEqual(list(doc), ["tool", "peak_bytes", "current_bytes", "top", "domains"])
        self.assertLessEqual(len(doc["top"]), 3)
        self.assertGreaterEqual(doc["peak_bytes"], doc["current_bytes"])
        for e in doc["top"]:
            self.assertEqual(sorted(e), ["count", "location", "size_bytes"])
            self.assertGreater(e["size_bytes"], 0)
            self.assertGreaterEqual(e["count"], 0)
        sizes = [e["size_bytes"] for e in doc["top"]]
        self.assertEqual(sizes, sorted(sizes, reverse=True))
        self.assertEqual(doc["top"][0]["location"], "<string>:1")
        self.assertEqual(doc["domains"][0]["domain"], 0)


if __name__ == "__main__":
    unittest.main()
