/* memray: a fixture's second run under memray (Python's memory profiler),
 * as command lines (pure: no I/O), and what memray's exit statuses mean.
 * The run itself is measure/measure.c's; each capture is summarised by
 * `memray transform csv` (what was live at its peak), read by memray_csv.c. */
#ifndef MG_MEMRAY_H
#define MG_MEMRAY_H

#include <stdbool.h>
#include <stddef.h>

struct mg_memray_opts {
	const char *capture;    /* memray run -o FILE (required); the caller removes it before the run */
	bool native;            /* --native */
	bool follow_fork;       /* --follow-fork (children write CAPTURE.<pid>) */
	bool trace_python_allocators; /* --trace-python-allocators */
	bool aggregate;         /* --aggregate: refused, `memray stats` cannot read such captures */
};

struct mg_memray_cmds {
	char **probe; /* NULL-terminated argv */
	char **run;   /* NULL-terminated argv */
	size_t nrun;
};

/* Build the probe and the run from a fixture command whose argv[0] is a
 * Python interpreter, e.g. {"python3", "-X", "dev", "app.py", "--port", "0"}:
 *   probe: python3 -X dev -c PROBE s app.py
 *   run:   python3 -X dev -m memray run -q -o CAPTURE -f app.py --port 0
 * The interpreter's own options stay in front of "-m memray" and of the
 * probe's -c (an option such as -S, -I or -E changes what imports: the
 * probe must see what the run will); "-m MODULE" and "-c CODE" (also in
 * clusters such as -um MODULE) become memray run's -m/-c. -q keeps
 * memray's banner off the program's stdout; -f because the caller owns the
 * path. The probe imports memray, and finds -m's module or the script
 * (memray exits 1 for an unimportable module after writing a capture, like
 * a program that failed: tests/data/memray-real/NOTES.md, item 1); its
 * exit status says which failed (mg_memray_interpret_probe). Pure (no
 * I/O). 0, or -1 with err (no script, "-" (stdin), --aggregate requested,
 * missing option argument). */
int mg_memray_commands(char *const *argv, size_t argc, const struct mg_memray_opts *o,
		       struct mg_memray_cmds *out, char *err, size_t errlen);
void mg_memray_cmds_free(struct mg_memray_cmds *c);

/* What the probe found. */
enum mg_memray_probe {
	MG_MEMRAY_PROBE_OK,
	MG_MEMRAY_PROBE_NO_MEMRAY,  /* the interpreter (with its options) cannot import memray */
	MG_MEMRAY_PROBE_NO_MEMRAY_IN_VENV, /* the same, and it is a venv's: pip install works there */
	MG_MEMRAY_PROBE_NO_MODULE,  /* -m MODULE: no such module */
	MG_MEMRAY_PROBE_NO_SCRIPT,  /* the script does not exist (relative to the fixture's cwd) */
	MG_MEMRAY_PROBE_FAILED,     /* anything else: the interpreter did not run the probe */
};
enum mg_memray_probe mg_memray_interpret_probe(int wait_status);

/* python -m memray transform csv -o OUT -f CAPTURE (the allocations live
 * at the capture's peak), and python -m memray flamegraph -o OUT -f CAPTURE.
 * NULL-terminated argv (free with mg_memray_argv_free), NULL when out of
 * memory. python is the fixture's argv[0]: the interpreter that has memray. */
char **mg_memray_csv_argv(const char *python, const char *capture, const char *out);
char **mg_memray_flamegraph_argv(const char *python, const char *capture, const char *out);
void mg_memray_argv_free(char **argv);

/* The pid of a child's capture, "CAPTURE.<pid>" (--follow-fork) for
 * name and capture's base name: > 0, or 0 when name is not one. */
int mg_memray_child_capture_pid(const char *name, const char *capture_base);

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
 * capture means memray failed by itself. The blind spot, `-m MODULE` whose
 * import fails (exit 1 after the capture was created, NOTES.md item 1), is
 * the probe's to catch before the run. */
enum mg_memray_end {
	MG_MEMRAY_PROGRAM_EXITED, /* code: the program's exit status */
	MG_MEMRAY_PROGRAM_KILLED, /* signal: the program (and memray with it) was killed */
	MG_MEMRAY_TOOL_FAILED,    /* code: memray's status; the program never ran under it */
};

struct mg_memray_outcome {
	enum mg_memray_end end;
	int code;
	int signal;
	bool capture_usable;      /* a capture exists to summarise */
};

/* wait_status as from waitpid(); capture_exists as the caller found it after the run. */
void mg_memray_interpret_run(int wait_status, bool capture_exists, struct mg_memray_outcome *out);
/* One line, e.g. "program exited with status 3", "memray failed (exit status 1)
 * before running the program: LAST LINE OF ITS OUTPUT" (output: memray's
 * stdout and stderr, may be NULL). */
void mg_memray_describe(const struct mg_memray_outcome *o, const char *output, char *buf, size_t len);
/* The last line of output that says something (not blank, not one of the
 * "Memray WARNING:" lines every run prints here), cleaned for a message. */
void mg_memray_last_line(const char *text, char *buf, size_t len);

#endif
