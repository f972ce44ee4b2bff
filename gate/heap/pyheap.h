/* pyheap: Python heap attribution reports.
 *
 * Two sources, one struct:
 *  - the JSON report of memgate's tracemalloc helper (gate/heap/python/sitecustomize.py,
 *    injected with PYTHONPATH, writes MEMGATE_PYHEAP_OUT):
 *      {"tool": "tracemalloc", "peak_bytes": P, "current_bytes": C,
 *       "top": [{"location": "file:line", "size_bytes": N, "count": N}, ...],
 *       "domains": [{"domain": 0, "size_bytes": N}, {"domain": 389047, ...}]}
 *    top = growth per site between the helper's start and end snapshots,
 *    largest first; count = live blocks the site gained (>= 0);
 *    domains = traced bytes per tracemalloc domain at the end (389047 is NumPy).
 *  - `memray stats --json` (memray 1.20.0): metadata.peak_memory and
 *    top_allocations_by_size ("function:file:line" -> location "file:line" +
 *    function); counts from top_allocations_by_count for the same location.
 *    memray's size is the total allocated at that location over the whole
 *    run (freed or not), not a growth; it has no current figure and no domains.
 *
 * Parsers are strict about what they read: wrong types, negative sizes and
 * missing keys are errors naming the JSON path ("ORIGIN: top[2].size_bytes:
 * expected an integer, got a string"); JSON syntax errors are
 * "ORIGIN:LINE:COL: message". Unknown keys are errors in the helper's report
 * (it ships with this parser) and ignored in memray's (a third-party format
 * that grows keys between versions). Entries beyond the fixed capacities are
 * dropped and counted in *_omitted.
 *
 * Also: the pure command-line builder for memray and the interpretation of
 * memray's exit statuses (see mg_memray_interpret_run). No global state.
 */
#ifndef MG_PYHEAP_H
#define MG_PYHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "heap.h"

/* Every parser returns 0, or -1 with one line in err; *out is fully
 * (re)initialised either way. origin names the text in messages (a path). */
int mg_pyheap_parse_tracemalloc(const char *text, const char *origin, struct mg_pyheap *out,
				char *err, size_t errlen);
int mg_pyheap_load_tracemalloc(const char *path, struct mg_pyheap *out, char *err, size_t errlen);
int mg_pyheap_parse_memray_stats(const char *text, const char *origin, struct mg_pyheap *out,
				 char *err, size_t errlen);
int mg_pyheap_load_memray_stats(const char *path, struct mg_pyheap *out, char *err, size_t errlen);

/* The report shape: {"tool", "peak_bytes", "current_bytes" (null when unknown),
 * "top": [{"location", "size_bytes", "count" (null when unknown)
 *          [, "function" when non-empty]}], "domains": [{"domain", "size_bytes"}]}.
 * A new reference (NULL only when out of memory). For a tracemalloc report,
 * mg_pyheap_parse_tracemalloc(json_dumps(mg_pyheap_json(h))) gives h back. */
json_t *mg_pyheap_json(const struct mg_pyheap *h);

/* Bytes traced in a domain, 0 when the domain is not listed. */
int64_t mg_pyheap_domain_bytes(const struct mg_pyheap *h, uint32_t domain);

/* ---- memray ------------------------------------------------------------ */

struct mg_memray_opts {
	const char *capture;    /* memray run -o FILE (required); the caller removes it before the run */
	const char *stats_out;  /* memray stats --json -o OUT (required) */
	int top;                /* memray stats -n N; 0: memray's default (5) */
	bool native;            /* --native */
	bool follow_fork;       /* --follow-fork (children write CAPTURE.<pid>) */
	bool trace_python_allocators; /* --trace-python-allocators */
	bool aggregate;         /* --aggregate: refused, `memray stats` cannot read such captures */
};

struct mg_memray_cmds {
	char **run;   /* NULL-terminated argv */
	size_t nrun;
	char **stats; /* NULL-terminated argv */
	size_t nstats;
};

/* Build both command lines from a fixture command whose argv[0] is a Python
 * interpreter, e.g. {"python3", "-X", "dev", "app.py", "--port", "0"} gives
 *   run:   python3 -X dev -m memray run -q -o CAPTURE -f app.py --port 0
 *   stats: python3 -m memray stats --json -o OUT -f [-n TOP] CAPTURE
 * The interpreter's own options stay in front of "-m memray"; "-m MODULE"
 * and "-c CODE" (also in clusters such as -um MODULE) become memray run's
 * -m/-c. -q keeps memray's banner off the program's stdout; -f because the
 * caller owns the path. Pure (no I/O). 0, or -1 with err (no script, "-"
 * (stdin), --aggregate requested, missing option argument). */
int mg_memray_commands(char *const *argv, size_t argc, const struct mg_memray_opts *o,
		       struct mg_memray_cmds *out, char *err, size_t errlen);
void mg_memray_cmds_free(struct mg_memray_cmds *c);

/* How a `memray run` ended. memray runs the program in-process (runpy), so
 * the program's exit status passes through unchanged, and memray's own
 * errors are exit status 1 too. What the memray 1.20.0 logs show
 * (../shared/data/memray, commands-and-exit-codes.txt, exit-codes-extra.txt):
 *   program exits 0 / sys.exit(3) / uncaught exception -> 0 / 3 / 1, and the
 *     capture is finalised ("[memray] Successfully generated profile results.")
 *     before the status surfaces; also with -q, --native, --aggregate,
 *     --follow-fork and -c; SystemExit('boom') -> 1 with "boom" printed
 *   program killed by SIGTERM -> killed by the signal (143 from a shell); a
 *     4 KB partial capture remained and `memray stats` could still read it
 *   memray's own errors -> 1: output exists without --force (message only),
 *     script not found ("[Errno 2] No such file or directory: ..."), and
 *     (memray's source) argument errors -> 2 (argparse)
 * So: with the capture removed beforehand, "the capture exists" means memray
 * got as far as running the program, and the status is the program's; no
 * capture means memray failed by itself. Known blind spot (memray source, not
 * in the logs): `-m MODULE` whose import fails exits 1 after the capture was
 * created, and is reported as the program exiting 1. */
enum mg_memray_end {
	MG_MEMRAY_PROGRAM_EXITED, /* code: the program's exit status */
	MG_MEMRAY_PROGRAM_KILLED, /* signal: the program (and memray with it) was killed */
	MG_MEMRAY_TOOL_FAILED,    /* code: memray's status; the program never ran under it */
};

struct mg_memray_outcome {
	enum mg_memray_end end;
	int code;
	int signal;
	bool capture_usable;      /* a capture exists to run `memray stats` on */
};

/* wait_status as from waitpid(); capture_exists as the caller found it after the run. */
void mg_memray_interpret_run(int wait_status, bool capture_exists, struct mg_memray_outcome *out);
/* One line, e.g. "program exited with status 3", "memray failed (exit status 1)
 * before running the program; see its stderr". */
void mg_memray_describe(const struct mg_memray_outcome *o, char *buf, size_t len);

/* How a `memray stats --json` ended: 0 when it exited 0 and wrote its file,
 * else -1 with a clear one-line reason in err. Recognised in its output
 * (stdout+stderr, may be NULL), as the 1.20.0 logs show them: a capture made
 * with --aggregate ("NotImplementedError: Can't compute statistics using a
 * pre-aggregated capture file.", exit 1, stats-aggregate.ERROR.txt) and a
 * missing capture ("No such file: ...", exit 1); otherwise the status and the
 * last line of the output. */
int mg_memray_interpret_stats(int wait_status, const char *output, bool stats_exists,
			      char *err, size_t errlen);

#endif
