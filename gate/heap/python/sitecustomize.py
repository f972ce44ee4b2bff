"""memgate's tracemalloc helper (Python heap attribution).

memgate injects this directory with PYTHONPATH=<this dir>:$PYTHONPATH when a
fixture says "python": {"heap": "tracemalloc", "top": N}, and sets
MEMGATE_PYHEAP_OUT (report path) and MEMGATE_PYHEAP_TOP (N, default 10).
Python's site module imports it as "sitecustomize" at start-up. It then:

1. starts tracemalloc at once (before anything else, even before importing the
   tracemalloc module), keeping MEMGATE_PYHEAP_FRAMES frames (default 16);
   when tracemalloc already runs (PYTHONTRACEMALLOC, -X tracemalloc) it is
   left as it is;
2. imports the sitecustomize that Python would have imported without us (the
   first one on sys.path outside this directory, e.g. Debian's
   /usr/lib/python3.11/sitecustomize.py); its errors are reported, not raised;
3. takes the start snapshot;
4. writes the report once, at the first of: SIGTERM (the handler writes, then
   does what the program's own disposition says: default -> the process dies
   by SIGTERM, as without us; a handler installed by the program, before or
   after us, is called; SIG_IGN set by the program or inherited -> ignored,
   no report until exit), or normal interpreter exit (atexit, which runs
   after the program's own atexit functions). signal.signal/getsignal are
   wrapped for SIGTERM only, so the program sees its own handler while ours
   stays installed in front of it.

The report is JSON, written atomically (PATH.tmp.PID, then rename to PATH):

  {"tool": "tracemalloc", "peak_bytes": P, "current_bytes": C,
   "top": [{"location": "file:line", "size_bytes": N, "count": N}, ...],
   "domains": [{"domain": 0, "size_bytes": N}, {"domain": 389047, ...}]}

peak/current: tracemalloc.get_traced_memory() just before the end snapshot.
top: growth from the start snapshot to the end snapshot per site, positive
size growth only, largest first, at most MEMGATE_PYHEAP_TOP entries; count is
the number of live blocks the site gained (0 when it holds no more blocks
than at the start, e.g. fewer but larger ones). domains: the
end snapshot's traced bytes per tracemalloc domain, ascending (0 = Python's
allocators; 389047 = NumPy's data buffers); domain 0 is always listed.

Site of an allocation: its traceback's innermost frame that is neither in
the standard library (nor "<frozen ...>"-like) nor in site-packages /
dist-packages; failing that the innermost frame outside the standard library;
failing that the innermost frame. So np.ones(...) is charged to the caller's
line, not to numpy/core/numeric.py. Files under the start-up working
directory are shown relative to it, other files as tracemalloc names them.
Memory whose site is this helper itself (the start snapshot) is left out of
"top" and "domains" (it is in current/peak).

Only one process writes: the first Python process of the tree that imports
this helper records its pid in MEMGATE_PYHEAP_PID; Python processes started
from it (subprocess, multiprocessing spawn) see another pid there and do not
trace at all; forked children inherit tracing but never write (pid check).
Without MEMGATE_PYHEAP_OUT the helper only chains to the other sitecustomize.

Cost (CPython 3.11, measured): tracemalloc keeps one trace per live block,
so a program of many small objects needs about twice its memory under it
(1M-entry dict of str: peak RSS 145 MiB -> 332 MiB), and the end snapshot
briefly needs as much again (-> 690 MiB: tracemalloc copies its table and
builds one tuple per block); a program of large buffers barely notices (the
lab service: +3%). When the helper started tracemalloc itself, it stops it
right after the end snapshot, so the grouping runs untraced. Start-up costs
~0.1 s (importing tracemalloc, the start snapshot).

The helper never breaks its host: any failure is one line
"memgate-pyheap: ..." on stderr and the program goes on; exit statuses are
unchanged.
"""

import os as _os
import sys as _sys

_PREFIX = "memgate-pyheap: "
_DEFAULT_TOP = 10
_DEFAULT_FRAMES = 16


def _warn(msg):
    try:
        _sys.stderr.write(_PREFIX + " ".join(str(msg).split()) + "\n")
        _sys.stderr.flush()
    except Exception:
        pass


def _env_int(name, default, lo, hi):
    text = _os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        _warn("%s=%r is not an integer in %d..%d; using %d" % (name, text, lo, hi, default))
        return default
    return value


class _Helper:
    """All of the helper's state: one instance, created at import."""

    def __init__(self, out):
        self.out = out
        self.pid = _os.getpid()
        self.cwd = _os.getcwd()
        self.file = _os.path.abspath(__file__)
        self.top = _env_int("MEMGATE_PYHEAP_TOP", _DEFAULT_TOP, 0, 100000)
        self.start = None
        self.started_tracing = False   # True when this helper (not the program) started tracemalloc
        self.written = False
        self.term_view = None          # the SIGTERM handler as the program sees it
        self.real_signal = None
        self.real_getsignal = None
        self.lib_cache = {}
        self.lib_prefixes = None

    # -- start ------------------------------------------------------------

    def start_tracing(self):
        import _tracemalloc

        if not _tracemalloc.is_tracing():
            _tracemalloc.start(_env_int("MEMGATE_PYHEAP_FRAMES", _DEFAULT_FRAMES, 1, 1000))
            self.started_tracing = True

    def take_start_snapshot(self):
        import tracemalloc

        self.start = tracemalloc.take_snapshot()

    def install(self):
        import atexit
        import signal

        atexit.register(self.at_exit)
        term = signal.SIGTERM
        prev = signal.getsignal(term)
        self.term_view = prev
        self.real_signal = signal.signal
        self.real_getsignal = signal.getsignal
        if not self.is_ign(prev):
            signal.signal(term, self.on_sigterm)
        helper = self

        def memgate_signal(signalnum, handler):
            if signalnum != term:
                return helper.real_signal(signalnum, handler)
            # the real call validates (main thread, handler type) and raises as usual
            helper.real_signal(signalnum, handler)
            previous, helper.term_view = helper.term_view, handler
            if not helper.is_ign(handler):
                helper.real_signal(term, helper.on_sigterm)
            return previous

        def memgate_getsignal(signalnum):
            if signalnum == term:
                return helper.term_view
            return helper.real_getsignal(signalnum)

        memgate_signal.__doc__ = signal.signal.__doc__
        memgate_getsignal.__doc__ = signal.getsignal.__doc__
        signal.signal = memgate_signal
        signal.getsignal = memgate_getsignal

    @staticmethod
    def is_ign(handler):
        import signal

        return not callable(handler) and handler is not None and handler == signal.SIG_IGN

    # -- end --------------------------------------------------------------

    def on_sigterm(self, signum, frame):
        import signal

        self.write_report()
        handler = self.term_view
        if callable(handler):
            return handler(signum, frame)
        if self.is_ign(handler):
            return None
        # SIG_DFL (or a disposition not set from Python): die by the signal, as without us
        try:
            self.real_signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        except Exception as e:
            _warn("could not re-raise signal %d: %s" % (signum, e))
        _os._exit(128 + signum)

    def at_exit(self):
        self.write_report()

    def write_report(self):
        if self.written or _os.getpid() != self.pid:
            return
        self.written = True
        tmp = None
        try:
            import json
            import tracemalloc

            if not tracemalloc.is_tracing():
                raise RuntimeError("tracemalloc was stopped by the program; no end snapshot")
            current, peak = tracemalloc.get_traced_memory()
            end = tracemalloc.take_snapshot()
            if self.started_tracing:
                # Free tracemalloc's tables before the Python-level grouping, which then
                # runs untraced: less peak memory and about half the time at exit.
                tracemalloc.stop()
            doc = self.build(current, peak, end)
            del end
            tmp = "%s.tmp.%d" % (self.out, self.pid)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
            _os.replace(tmp, self.out)
            tmp = None
        except Exception as e:
            _warn("no report written to %s: %s: %s" % (self.out, type(e).__name__, e))
        finally:
            if tmp is not None:
                try:
                    _os.unlink(tmp)
                except OSError:
                    pass

    # -- attribution ------------------------------------------------------

    def build(self, current, peak, end):
        start_sites, _ = self.group(self.start)
        end_sites, domains = self.group(end)
        growth = []
        for site, (size, count) in end_sites.items():
            size0, count0 = start_sites.get(site, (0, 0))
            if size > size0:
                growth.append((size - size0, max(count - count0, 0), site))
        growth.sort(key=lambda g: (-g[0], g[2]))
        domains.setdefault(0, 0)
        return {
            "tool": "tracemalloc",
            "peak_bytes": peak,
            "current_bytes": current,
            "top": [{"location": site, "size_bytes": size, "count": count}
                    for size, count, site in growth[:self.top]],
            "domains": [{"domain": d, "size_bytes": domains[d]} for d in sorted(domains)],
        }

    def group(self, snapshot):
        """{site: (bytes, blocks)} and {domain: bytes} of one snapshot."""
        sites = {}
        domains = {}
        if snapshot is None:
            return sites, domains
        site_of = {}
        for domain, size, frames in self.raw_traces(snapshot):
            site = site_of.get(frames, False)
            if site is False:
                site = site_of[frames] = self.site(frames)
            if site is None:
                continue
            entry = sites.get(site)
            if entry is None:
                sites[site] = [size, 1]
            else:
                entry[0] += size
                entry[1] += 1
            domains[domain] = domains.get(domain, 0) + size
        return {k: (v[0], v[1]) for k, v in sites.items()}, domains

    @staticmethod
    def raw_traces(snapshot):
        """(domain, size, ((file, line), ...) innermost first) per trace."""
        raw = getattr(snapshot.traces, "_traces", None)
        if isinstance(raw, list) and (not raw or (isinstance(raw[0], tuple) and len(raw[0]) >= 3)):
            for t in raw:
                yield t[0], t[1], t[2]
            return
        for trace in snapshot.traces:   # public API: frames oldest first
            yield trace.domain, trace.size, tuple((f.filename, f.lineno) for f in trace.traceback)[::-1]

    def site(self, frames):
        """"file:line" of the most relevant frame, or None for our own memory."""
        if not frames:
            return "<unknown>:0"
        pick = None
        for filename, lineno in frames:
            if self.lib_kind(filename) == 0:
                pick = (filename, lineno)
                break
        if pick is None:
            for filename, lineno in frames:
                if self.lib_kind(filename) == 1:
                    pick = (filename, lineno)
                    break
        if pick is None:
            pick = frames[0]
        if pick[0] == self.file:
            return None
        return "%s:%d" % (self.show(pick[0]), pick[1])

    def lib_kind(self, filename):
        """0: the program's own code, 1: site-packages, 2: standard library / frozen."""
        kind = self.lib_cache.get(filename)
        if kind is None:
            kind = self.lib_cache[filename] = self.classify(filename)
        return kind

    def classify(self, filename):
        if filename.startswith("<") or not filename:
            return 2
        path = _os.path.abspath(filename)
        parts = path.split(_os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            return 1
        if self.lib_prefixes is None:
            self.lib_prefixes = self.stdlib_prefixes()
        for prefix in self.lib_prefixes:
            if path.startswith(prefix):
                return 2
        return 0

    @staticmethod
    def stdlib_prefixes():
        """The standard library's directory (where os.py is), also for a venv's interpreter."""
        found = {_os.path.dirname(_os.path.abspath(_os.__file__))}
        for prefix in {_sys.prefix, _sys.base_prefix, _sys.exec_prefix, _sys.base_exec_prefix}:
            found.add(_os.path.join(prefix, "lib", "python%d.%d" % _sys.version_info[:2]))
        return tuple(p.rstrip(_os.sep) + _os.sep for p in found)

    def show(self, filename):
        # a file name that is not UTF-8 arrives with lone surrogates, which
        # json.dump writes and memgate's JSON reader refuses (the whole
        # report lost): they are shown as \udcXX text instead
        filename = filename.encode("utf-8", "backslashreplace").decode("utf-8")
        if not _os.path.isabs(filename):
            return filename
        rel = _os.path.relpath(filename, self.cwd)
        if rel == _os.pardir or rel.startswith(_os.pardir + _os.sep):
            return filename
        return rel


def _chain():
    """Run the sitecustomize Python would have imported without this one."""
    try:
        import importlib.machinery
        import importlib.util

        here = _os.path.realpath(_os.path.dirname(_os.path.abspath(__file__)))
        path = []
        for entry in _sys.path:
            try:
                if _os.path.realpath(entry or _os.curdir) == here:
                    continue
            except (OSError, ValueError):
                pass
            path.append(entry)
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception as e:
        _warn("error in the chained sitecustomize: %s: %s" % (type(e).__name__, e))
        return None


def _main():
    out = _os.environ.get("MEMGATE_PYHEAP_OUT")
    owner = _os.environ.get("MEMGATE_PYHEAP_PID")
    helper = None
    if out and (not owner or owner == str(_os.getpid())):
        try:
            helper = _Helper(out)
            helper.start_tracing()
            _os.environ["MEMGATE_PYHEAP_PID"] = str(helper.pid)
        except Exception as e:
            _warn("tracemalloc not started: %s: %s" % (type(e).__name__, e))
            helper = None
    chained = _chain()
    if helper is not None:
        try:
            helper.take_start_snapshot()
            helper.install()
        except Exception as e:
            _warn("tracing set-up failed: %s: %s" % (type(e).__name__, e))
    return helper, chained


_memgate_pyheap, _memgate_chained_sitecustomize = _main()
