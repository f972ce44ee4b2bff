"""Parts 3-6: what --pss costs the measured program, memgate's fixed cost
per command, a long run at 1 ms (RSS flat? series bounded?), and what phase
marks cost a program that marks 10,000 times."""
import os
import threading
import time

from benchlib import (MiB, RUNS, WORKLOAD, achieved_hz, cpu_pct, median, memgate, mib, run, skipped, table,
                      which)

PSS_MAPS = int(os.environ.get("BENCH_PSS_MAPS", "1500"))
PSS_KIB = int(os.environ.get("BENCH_PSS_KIB", "128"))  # 1500 x 128 KiB: about node's RSS in issue 11
PSS_ROUNDS = int(os.environ.get("BENCH_PSS_ROUNDS", "7500"))  # about 1 s bare on the 2-core VM
FIXED_RUNS = int(os.environ.get("BENCH_FIXED_RUNS", "20"))
MARKS = int(os.environ.get("BENCH_MARKS", "10000"))
MARK_ROUNDS = int(os.environ.get("BENCH_MARK_ROUNDS", "2000"))  # about 0.5 ms of work per mark here
# A GC-heavy node script of fixed work (about 1 s here); it prints its mapping count.
NODE_JS = ("let keep = [], x = 0;"
           "for (let i = 0; i < 6e6; i++) {"
           " const o = {a: i, b: 'v' + (i % 1000), c: [i, i + 1, i + 2]};"
           " keep.push(o); if (keep.length > 200000) keep = []; x += o.c[1]; }"
           "console.log('mappings=' + (require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').length - 1));")


def pss(modes):
    programs = [(f"workload maps {PSS_MAPS} {PSS_ROUNDS} {PSS_KIB}",
                 [WORKLOAD, "maps", str(PSS_MAPS), str(PSS_ROUNDS), str(PSS_KIB)])]
    node = which("node", "nodejs")
    notes = []
    if node:
        programs.append(("node -e <GC-heavy loop>", [node, "-e", NODE_JS]))
    else:
        notes.append("  node: skipped: not on PATH")
    have = [m for m, why in modes if not why]
    auto = have[0] if have else None
    configs = [("bare", None, False), (f"memgate {auto}", auto, False), (f"memgate {auto} --pss", auto, True)]
    if "proc" in have and auto != "proc":
        configs += [("memgate proc", "proc", False), ("memgate proc --pss", "proc", True)]
    runs = max(RUNS, 3)
    rows = []
    for label, argv in programs:
        got = {c: [] for c in configs}
        maps = []
        for k in range(runs):
            order = configs[k % len(configs):] + configs[:k % len(configs)]
            for c in order:
                name, mode, with_pss = c
                if mode is None:
                    r = run(argv)
                    got[c].append((r, None))
                    maps += [int(line.split("=")[1]) for line in r.out.splitlines() if line.startswith("mappings=")]
                else:
                    got[c].append(memgate(argv, mode=mode, pss=with_pss))
        bare = median(r.wall for r, _ in got[configs[0]])
        for i, c in enumerate(configs):
            reps = [rep for _, rep in got[c] if rep]
            w = median(r.wall for r, _ in got[c])
            rows.append([label if i == 0 else "", (f"{median(maps):.0f}" if maps else None) if i == 0 else "",
                         c[0], f"{w:.3f} s", f"{w / bare:.2f}x", "<= 1.05x" if c[2] else None,
                         f"{median(cpu_pct(x) for x in reps):.1f}%" if reps else None,
                         f"{median(achieved_hz(x) for x in reps):.0f} Hz" if reps else None,
                         f"{mib(median(x['peak']['tree_rss_bytes'] for x in reps))} MiB" if reps else None,
                         f"{mib(median(x['peak']['tree_pss_bytes'] for x in reps))} MiB" if c[2] else None])
    table(f"3. the cost of --pss to the measured program (median of {runs} interleaved runs)",
          ["program", "mappings", "run", "wall", "vs bare", "target", "memgate CPU", "achieved (of 100 Hz)",
           "peak RSS", "peak PSS"], rows, left=3,
          notes=notes + [
              f"  workload maps: {PSS_MAPS} separate {PSS_KIB} KiB mappings, touched, then fixed work of arithmetic",
              "    and 256 KiB mmap/touch/munmap rounds (page faults and mmap_lock writes, as a GC does);",
              "    mappings = lines in /proc/PID/maps at the end (issue 11: 4.3x on node with 1478 mappings)"])


def fixed(modes):
    true = which("/bin/true", "/usr/bin/true")
    configs = [("bare", None), ("/usr/bin/time", ["/usr/bin/time", "-f", ""])]
    configs += [(f"memgate {m}", m) for m, why in modes if not why]
    got = {c[0]: [] for c in configs}
    for k in range(FIXED_RUNS):
        order = configs[k % len(configs):] + configs[:k % len(configs)]
        for name, how in order:
            if how is None:
                got[name].append(run([true]).wall)
            elif isinstance(how, list):
                got[name].append(run(how + [true]).wall)
            else:
                got[name].append(memgate([true], mode=how)[0].wall)
    t = median(got["/usr/bin/time"])
    rows = []
    for name, how in configs:
        m = median(got[name])
        rows.append([f"{true} {name}" if name == "bare" else f"{name} {true}", f"{m * 1000:.1f} ms",
                     f"{min(got[name]) * 1000:.1f} ms", f"{(m - t) * 1000:+.1f} ms",
                     "<= +3 ms" if name == "memgate proc" else None])
    table(f"4. fixed cost: /bin/true (median of {FIXED_RUNS} interleaved runs)",
          ["run", "median", "min", "vs /usr/bin/time", "target"], rows,
          notes=["  wall from the bench's fork to wait4's return (Python's spawn cost is in every row)"])


def long_run(modes):
    if os.environ.get("BENCH_LONG") != "1":
        skipped("5. long run", "off by default (BENCH_LONG=1 runs it; BENCH_LONG_SECONDS, default 180)")
        return
    secs = int(os.environ.get("BENCH_LONG_SECONDS", "180"))
    every = int(os.environ.get("BENCH_LONG_EVERY", "30"))
    have = [m for m, why in modes if not why]
    mode = have[0] if have else None
    argv = [WORKLOAD, "tree", "4", "16", str(secs * 1000)]
    print(f"\n5. long run: memgate {mode} --interval 1ms on workload tree 4 16 {secs * 1000} ({secs} s);"
          f" memgate's RSS every {every} s", flush=True)
    stop = threading.Event()
    seen = []

    def watch(pid):
        def loop():
            t0 = time.monotonic()
            while not stop.wait(every):
                try:
                    with open(f"/proc/{pid}/status") as f:
                        st = dict(line.split(":", 1) for line in f if ":" in line)
                except OSError:
                    return
                rss, hwm = (int(st[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM"))
                seen.append(rss)
                print(f"  {time.monotonic() - t0:6.0f} s   RSS {rss / MiB:6.2f} MiB   HWM {hwm / MiB:6.2f} MiB",
                      flush=True)
        threading.Thread(target=loop, daemon=True).start()

    try:
        r, rep = memgate(argv, mode=mode, interval="1ms", timeout=secs + 120, on_start=watch)
    finally:
        stop.set()
    m = rep["measurement"]
    print(f"  end: {m['samples']} samples in {rep['wall_ms'] / 1000:.1f} s ({achieved_hz(rep):.0f} Hz of 1000),"
          f" series length {len(rep.get('series') or [])} points, memgate CPU {cpu_pct(rep):.1f}%,"
          f" self_maxrss {mib(m['self_maxrss_bytes'], '.2f')} MiB", flush=True)
    if len(seen) >= 2:
        print(f"  RSS from the first reading to the last: {(seen[-1] - seen[0]) / 1024:+.0f} KiB"
              " (target: <= 4 MiB and flat)", flush=True)
    print()


def marks(modes):
    """The program's own wall time (it times itself: marks and work, not
    memgate's start) with and without marks, under memgate."""
    have = [m for m, why in modes if not why]
    mode = have[0] if have else None
    argv = [WORKLOAD, "marks", str(MARKS), str(MARK_ROUNDS)]
    base = dict(os.environ)
    base.pop("MEMGATE_MARK", None)
    base.pop("MEMGATE_MARK_SYNC", None)
    configs = [("bare, no memgate", None, {}),
               (f"memgate {mode}, marks off", mode, {"MARKS_OFF": "1"}),
               (f"memgate {mode}, FIFO marks", mode, {"MARKS_ASYNC": "1"}),
               (f"memgate {mode}, sync marks", mode, {})]
    runs = max(RUNS, 3)
    got = {c[0]: [] for c in configs}
    for k in range(runs):
        order = configs[k % len(configs):] + configs[:k % len(configs)]
        for name, m, extra in order:
            env = dict(base, **extra)
            if m is None:
                r, rep = run(argv, env=env), None
            else:
                r, rep = memgate(argv, mode=m, env=env)
            us = [int(line.split("=")[1]) for line in r.out.splitlines() if line.startswith("elapsed_us=")]
            got[name].append((us[0] / 1e6 if us else None, rep))
    off = median(t for t, _ in got[configs[1][0]])
    rows = []
    for name, m, extra in configs:
        t = median(x for x, _ in got[name])
        reps = [rep for _, rep in got[name] if rep]
        per_mark = (f"{median(rep['measurement']['self_cpu_ms'] for rep in reps) * 1000 / MARKS:.0f} us"
                    if reps and "MARKS_OFF" not in extra else None)
        missed = (f"{median(sum(1 for p in rep.get('phases') or [] if p['peak']['max_process_hwm_bytes'] is None) for rep in reps):.0f}"
                  if reps and "MARKS_OFF" not in extra else None)
        rows.append([name, f"{t:.3f} s", f"{(t / off - 1) * 100:+.1f}%" if m else None,
                     "< 2%" if m and "MARKS_OFF" not in extra else None, per_mark, missed])
    table(f"6. phase marks: {MARKS} marks, {MARK_ROUNDS} rounds of work after each (median of {runs} interleaved runs)",
          ["run", "program's wall", "vs marks off", "target", "memgate CPU per mark", "phases missed"], rows,
          notes=["  program's wall: workload marks times itself (marks and work), so memgate's start is not in it",
                 "  FIFO marks: open, write, close of $MEMGATE_MARK (a shell's echo); sync: a datagram to",
                 "    $MEMGATE_MARK_SYNC and memgate's answer once the boundary is done (memgate_mark, memgate mark)",
                 "  phases missed: FIFO marks that came faster than memgate read them (listed without figures)",
                 "  memgate CPU per mark: all of memgate's CPU over the run / marks (sampling included)"])
