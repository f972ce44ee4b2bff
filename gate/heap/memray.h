/* memray: a fixture's second run under memray (Python's memory profiler),
 * as command lines (pure: no I/O), and what memray's exit statuses mean.
 * The run itself is measure/measure.c's; its stats are parsed by pyheap.c. */
#ifndef MG_MEMRAY_H
#define MG_MEMRAY_H

#include <stdbool.h>
#include <stddef.h>

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
