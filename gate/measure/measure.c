/* measure: one fixture, measured (measure.h). */
#include "error.h"
#include "measure/measure.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap/heaptrack.h"
#include "heap/memray.h"
#include "heap/memray_csv.h"
#include "heap/pyheap.h"
#include "measure/run.h"
#include "measure/spawn.h"
#include "measure/tool.h"
#include "measure/watchdog.h"
#include "tmpdir.h"

#define TOOL_TIMEOUT_MS 120000          /* one memray or heaptrack_print step, a probe */
#define LOG_MAX ((size_t)64 << 10)      /* a tool's output: its tail is what matters */
#define CSV_MAX ((size_t)512 << 20)     /* one capture's CSV */
#define HEAPTRACK_STOP_ENV "DUMP_HEAPTRACK_OUTPUT" /* set by heaptrack's script for the program only */
#define MEMRAY_VERSION "1.20.0"         /* the one memgate is tested with (tests/requirements.txt) */

/* snprintf without the truncation warning: a cut message still reads */
__attribute__((format(printf, 3, 4)))
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- files ---------------------------------------------------------------- */

/* A file's text, at most max bytes (a longer file: its last max bytes when
 * tail, else NULL with *too_long). NULL when it cannot be read. */
static char *read_text(const char *path, size_t max, bool tail, size_t *len_out, bool *too_long)
{
	if (too_long)
		*too_long = false;
	/* the scratch dir is the fixture's to write to (it runs there under
	 * the tool): a FIFO put in a file's place must not block memgate's
	 * open, a link must not lead it elsewhere */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	if (size > max) {
		if (!tail) {
			if (too_long)
				*too_long = true;
			fclose(f);
			return NULL;
		}
		fseek(f, -(long)max, SEEK_END);
		size = max;
	}
	char *buf = malloc(size + 1);
	size_t n = buf ? fread(buf, 1, size, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len_out)
		*len_out = n;
	return buf;
}

/* A pass's private scratch directory (0700, the user's under sudo: files
 * are opened with the user's rights, identity.h), and the watchdog that
 * removes it should memgate be killed while no run's watchdog guards it
 * (the probe, the tool's summary after the run). */
struct scratch {
	struct mg_tmpdir dir;
	struct mg_watchdog wd;
};

/* Its own watchdog on: 0, or -1 with r->error. */
static int scratch_guard(struct scratch *s, struct mg_result *r)
{
	char err[256];
	const struct mg_tmpdir *dirs[] = {&s->dir};
	if (mg_watchdog_start(&s->wd, NULL, 0, dirs, 1, err, sizeof err) < 0) {
		mg_run_error(r, "%s", err);
		return -1;
	}
	return 0;
}

/* Around a supervised run, whose own watchdog guards it (opts.scratch): a
 * second watchdog, a child of memgate, would be taken for the fixture's. */
static void scratch_unguard(struct scratch *s)
{
	mg_watchdog_stop(&s->wd);
}

/* 0, or -1 with r->error. */
static int make_scratch(const char *what, struct scratch *s, struct mg_result *r)
{
	char prefix[32], err[PATH_MAX + 160];
	s->dir = (struct mg_tmpdir)MG_TMPDIR_NONE;
	s->wd = (struct mg_watchdog){.pid = -1, .fd = -1};
	snprintf(prefix, sizeof prefix, "memgate-%s", what);
	if (mg_tmpdir_make(&s->dir, prefix, err, sizeof err) < 0) {
		mg_run_error(r, "%s: %s", what, err);
		return -1;
	}
	if (scratch_guard(s, r) < 0) {
		mg_tmpdir_remove(&s->dir);
		return -1;
	}
	return 0;
}

/* Remove the scratch directory and everything in it (the tools write files
 * memgate does not name, such as memray's CAPTURE.<pid> per forked child),
 * by descriptor (tmpdir.h); then its watchdog may go. */
static void remove_scratch(struct scratch *s, struct mg_result *r)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", s->dir.path);
	mg_tmpdir_remove(&s->dir);
	if (path[0] && access(path, F_OK) == 0)
		mg_result_note(r, "cannot remove the temp dir %s (something in it could not be removed)", path);
	mg_watchdog_stop(&s->wd);
}

/* ---- helper runs -------------------------------------------------------- */

/* A helper tool for fixture f: its user, cwd and environment. Its wait
 * status, or -1 with err (could not start, or did not finish). */
static int run_tool(struct mg_supervisor *sv, const struct mg_fixture *f, char *const *argv, const char *log,
		    const char *what, char *err, size_t len)
{
	struct mg_tool t = {.argv = argv, .env = f->env, .cwd = f->cwd, .run_as = &sv->run_as,
			    .child_mask = &sv->child_mask, .log = log, .timeout_ms = TOOL_TIMEOUT_MS, .what = what};
	return mg_run_tool(&t, err, len);
}

/* The last line of a tool's log that says something. */
static void log_line(const char *log, char *line, size_t len)
{
	char *text = read_text(log, LOG_MAX, true, NULL, NULL);
	mg_memray_last_line(text, line, len);
	free(text);
}

/* The same fixture under a profiler: measured (so a hang is caught and the
 * tree torn down), never judged. o says how it differs. */
static void attribution_run(struct mg_supervisor *sv, const struct mg_fixture *f, char **argv, size_t argc,
			    const struct mg_supervise_opts *o, struct mg_result *mr)
{
	struct mg_fixture copy = *f;
	copy.argv = argv;
	copy.argc = argc;
	copy.heap.tool = MG_HEAP_NONE;
	copy.kill_above = MG_NO_LIMIT;
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		copy.limits[i] = MG_NO_LIMIT;
	mg_result_init(mr);
	mg_supervise_with(sv, &copy, o, mr);
}

/* The heap result of r, emptied for tool; NULL when out of memory (r->error set). */
static struct mg_pyheap *heap_of(struct mg_result *r, const char *tool)
{
	if (!r->python_heap)
		r->python_heap = malloc(sizeof *r->python_heap);
	if (!r->python_heap) {
		mg_run_error(r, "%s: out of memory", tool);
		return NULL;
	}
	mg_pyheap_init(r->python_heap, tool);
	return r->python_heap;
}

/* The attribution run's output: its log (command mode), or what service
 * mode kept of the service's stderr. Malloc'd, may be NULL. */
static char *run_output(const struct mg_fixture *f, const struct mg_result *mr, const char *log)
{
	if (f->has_service)
		return mr->service.service_stderr ? strdup(mr->service.service_stderr) : NULL;
	return read_text(log, LOG_MAX, true, NULL, NULL);
}

/* ---- memray ------------------------------------------------------------- */

/* The interpreter option of the command that hides installed packages
 * (-S: no site, -I: isolated, -E: no PYTHON* variables), or NULL. */
static const char *site_hiding_option(const struct mg_fixture *f)
{
	for (size_t i = 1; i < f->argc && f->argv[i][0] == '-' && f->argv[i][1] != '-'; i++)
		for (const char *c = f->argv[i] + 1; *c; c++) {
			if (*c == 'S' || *c == 'I' || *c == 'E')
				return f->argv[i];
			if (*c == 'c' || *c == 'm') /* the program follows */
				return NULL;
			if (*c == 'W' || *c == 'X') { /* the rest, or the next word, is its argument */
				i += c[1] == '\0';
				break;
			}
		}
	return NULL;
}

/* Debian 12's python refuses `pip install` (PEP 668) and has no memray
 * package: a venv is what works (tests/data/memray-real/NOTES.md, item 7). */
static void memray_missing(const struct mg_fixture *f, bool in_venv, const char *why, struct mg_result *r)
{
	char hint[400];
	if (in_venv)
		snprintf(hint, sizeof hint, "%s -m pip install memray==" MEMRAY_VERSION, f->argv[0]);
	else
		snprintf(hint, sizeof hint,
			 "%s -m venv --system-site-packages .venv && .venv/bin/python -m pip install memray=="
			 MEMRAY_VERSION ", then start the fixture's command with .venv/bin/python", f->argv[0]);
	if (f->heap.optional) {
		mg_result_note(r, "memray is not installed for %s (%s): Python heap attribution skipped "
				  "(\"optional\": true); install it with: %s", f->argv[0], why, hint);
		return;
	}
	const char *opt = site_hiding_option(f);
	if (opt) /* the probe ran with it: what pip installed may be there, hidden (NOTES.md item 2) */
		mg_run_error(r, "heap.tool is \"memray\" but %s %s cannot import memray (%s): %s hides site-packages or "
			     "PYTHONPATH; drop it, or install memray with: %s (or set \"optional\": true)", f->argv[0],
			     opt, why, opt, hint);
	else
		mg_run_error(r, "heap.tool is \"memray\" but %s cannot import memray (%s); install it with: %s "
			     "(or set \"optional\": true, or use \"tracemalloc\")", f->argv[0], why, hint);
}

/* Is memray there for this command, and is the program? true: go on. */
static bool memray_probe(struct mg_supervisor *sv, const struct mg_fixture *f, char **probe, const char *log,
			 struct mg_result *r)
{
	char err[256], line[200];
	int st = run_tool(sv, f, probe, log, "the memray probe", err, sizeof err);
	if (st < 0) {
		if (f->heap.optional && mg_spawn_not_found(err)) {
			mg_result_note(r, "memray: %s: Python heap attribution skipped (\"optional\": true)", err);
			return false;
		}
		mg_run_error(r, "memray: %s", err);
		return false;
	}
	log_line(log, line, sizeof line);
	switch (mg_memray_interpret_probe(st)) {
	case MG_MEMRAY_PROBE_OK:
		return true;
	case MG_MEMRAY_PROBE_NO_MEMRAY:
	case MG_MEMRAY_PROBE_NO_MEMRAY_IN_VENV:
		memray_missing(f, mg_memray_interpret_probe(st) == MG_MEMRAY_PROBE_NO_MEMRAY_IN_VENV,
			       line[0] ? line : "no reason given", r);
		return false;
	case MG_MEMRAY_PROBE_NO_MODULE:
	case MG_MEMRAY_PROBE_NO_SCRIPT:
		/* memray would run nothing, and exit 1 like a failed program */
		if (r->exited && r->exit_code == 0)
			mg_run_error(r,
				 "memray: the measured run exited 0, but under memray's probe %s (%s): check the "
				 "fixture's cwd and env", f->argv[0], line);
		else
			mg_result_note(r, "memray: skipped: %s; the program did not run, so there is no heap to "
					  "attribute", line);
		return false;
	default:
		mg_run_error(r, "memray: %s did not run memgate's probe (%s %d%s%s): is it a Python interpreter?",
			     f->argv[0], WIFEXITED(st) ? "exit status" : "killed by signal",
			     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), line[0] ? "; " : "", line);
		return false;
	}
}

/* One capture: `memray transform csv`, read into acc. 0, or -1 with err. */
static int memray_summarise(struct mg_supervisor *sv, const struct mg_fixture *f, const char *dir,
			    const char *capture, int n, struct mg_memray_acc *acc, int64_t *peak, char *err,
			    size_t len)
{
	char csv[PATH_MAX + 32], log[PATH_MAX + 32], line[200];
	snprintf(csv, sizeof csv, "%s/sites-%d.csv", dir, n);
	snprintf(log, sizeof log, "%s/sites-%d.log", dir, n);
	char **argv = mg_memray_csv_argv(f->argv[0], capture, csv);
	if (!argv) {
		say(err, len, "out of memory");
		return -1;
	}
	int st = run_tool(sv, f, argv, log, "memray transform csv", err, len);
	mg_memray_argv_free(argv);
	if (st < 0)
		return -1;
	size_t tlen = 0;
	bool too_long;
	char *text = read_text(csv, CSV_MAX, false, &tlen, &too_long);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !text) {
		log_line(log, line, sizeof line);
		if (too_long)
			say(err, len, "memray transform csv: %s is larger than %zu MiB", csv, CSV_MAX >> 20);
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			say(err, len, "memray transform csv exited 0 but wrote no %s%s%s", csv, line[0] ? ": " : "",
				 line);
		else
			say(err, len, "memray transform csv %s: %s %d%s%s", capture,
				 WIFEXITED(st) ? "exit status" : "killed by signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), line[0] ? ": " : "", line);
		free(text);
		return -1;
	}
	int rc = mg_memray_csv_add(acc, text, tlen, csv, f->heap.native, peak, err, len);
	free(text);
	unlink(csv);
	unlink(log);
	return rc;
}

/* Every capture of the run, the program's first: "capture.bin" and, with
 * --follow-fork, "capture.bin.<pid>" per forked child (NOTES.md, item 3). */
static int memray_captures(const char *dir, int *pids, int max, int *n, int *omitted)
{
	*n = 0;
	*omitted = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	bool main_seen = false;
	while ((e = readdir(d))) {
		int pid = mg_memray_child_capture_pid(e->d_name, "capture.bin");
		if (strcmp(e->d_name, "capture.bin") == 0)
			main_seen = true;
		else if (pid > 0 && *n < max - 1)
			pids[1 + (*n)++] = pid;
		else if (pid > 0)
			(*omitted)++;
	}
	closedir(d);
	if (!main_seen)
		return -1;
	pids[0] = 0; /* the program's own */
	(*n)++;
	/* children in pid order: the same report for the same run */
	for (int i = 2; i < *n; i++)
		for (int j = i; j > 1 && pids[j - 1] > pids[j]; j--) {
			int t = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
	return 0;
}

/* memray's flame graph of the program's capture, into --artifacts DIR. */
static void memray_flamegraph(struct mg_supervisor *sv, const struct mg_fixture *f, const char *dir,
			      const char *capture, struct mg_pyheap *h, struct mg_result *r)
{
	if (!sv->artifacts_dir)
		return;
	char out[PATH_MAX], log[PATH_MAX + 32], err[256], line[200];
	int n = snprintf(out, sizeof out, "%s/%s.html", sv->artifacts_dir, f->name);
	snprintf(log, sizeof log, "%s/flamegraph.log", dir);
	char **argv = n > 0 && (size_t)n < sizeof out ? mg_memray_flamegraph_argv(f->argv[0], capture, out) : NULL;
	if (!argv) {
		mg_result_note(r, "memray flamegraph: %s", n > 0 && (size_t)n < sizeof out ? "out of memory"
											  : "the artifacts path is too long");
		return;
	}
	int st = run_tool(sv, f, argv, log, "memray flamegraph", err, sizeof err);
	mg_memray_argv_free(argv);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || access(out, F_OK) < 0) {
		log_line(log, line, sizeof line);
		mg_result_note(r, "memray flamegraph: no %s: %s", out, st < 0 ? err : line[0] ? line : "no reason given");
		return;
	}
	/* heap.flamegraph: the text, markdown and JUnit name it with the heap; no note says it again */
	snprintf(h->flamegraph, sizeof h->flamegraph, "%s/%s.html", sv->artifacts_shown, f->name);
}

/* The memray run (a no-op unless heap.tool is memray). */
static void memray_pass(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	char capture[PATH_MAX + 32], log[PATH_MAX + 32], err[384];
	struct mg_memray_cmds cmds = {0};
	struct mg_memray_acc acc = {0};
	char *output = NULL;
	struct scratch sc;
	if (make_scratch("memray", &sc, r) < 0)
		return;
	const char *dir = sc.dir.path;
	snprintf(capture, sizeof capture, "%s/capture.bin", dir);
	snprintf(log, sizeof log, "%s/probe.log", dir);
	struct mg_memray_opts o = {.capture = capture, .native = f->heap.native, .follow_fork = f->heap.follow_fork};
	if (mg_memray_commands(f->argv, f->argc, &o, &cmds, err, sizeof err) < 0) {
		mg_run_error(r, "%s", err);
		goto out;
	}
	if (!memray_probe(sv, f, cmds.probe, log, r))
		goto out;

	snprintf(log, sizeof log, "%s/run.log", dir);
	struct mg_supervise_opts so = {.output_path = log, .scratch = &sc.dir};
	struct mg_result mr;
	scratch_unguard(&sc);
	attribution_run(sv, f, cmds.run, cmds.nrun, &so, &mr);
	if (scratch_guard(&sc, r) < 0) {
		mg_result_free(&mr);
		goto out;
	}
	if (mr.error[0]) {
		mg_run_error(r, "memray run: %.480s", mr.error);
		mg_result_free(&mr);
		goto out;
	}
	int status = mr.exited ? (mr.exit_code << 8) : mr.signal; /* a wait status again */
	struct mg_memray_outcome oc;
	mg_memray_interpret_run(status, access(capture, F_OK) == 0, &oc);
	output = run_output(f, &mr, log);
	pid_t main_pid = mr.main_pid;
	bool stopped = mr.service.stopped;
	mg_result_free(&mr);
	mg_memray_describe(&oc, output, err, sizeof err);
	if (!oc.capture_usable) {
		mg_run_error(r, "memray run: %s", err);
		goto out;
	}
	if (oc.end == MG_MEMRAY_PROGRAM_KILLED && !(stopped && oc.signal == f->service.stop_signal))
		mg_result_note(r, "under memray, the %s", err);
	else if (oc.end == MG_MEMRAY_PROGRAM_EXITED && oc.code != 0)
		mg_result_note(r, "under memray, the %s (memray passes the program's status through)", err);

	int pids[MG_PYHEAP_MAX_PROCS], n, omitted;
	if (memray_captures(dir, pids, MG_PYHEAP_MAX_PROCS, &n, &omitted) < 0) {
		mg_run_error(r, "memray: the capture %s is gone", capture);
		goto out;
	}
	struct mg_pyheap *h = heap_of(r, "memray");
	if (!h)
		goto out;
	h->peak_bytes = 0;
	for (int i = 0; i < n; i++) {
		char child[PATH_MAX + 48];
		snprintf(child, sizeof child, "%s.%d", capture, pids[i]);
		int64_t peak = 0;
		if (memray_summarise(sv, f, dir, i ? child : capture, i, &acc, &peak, err, sizeof err) < 0) {
			mg_run_error(r, "memray: %s", err);
			free(r->python_heap);
			r->python_heap = NULL;
			goto out;
		}
		h->procs[h->nprocs++] = (struct mg_pyheap_proc){i ? pids[i] : (int)main_pid, i > 0, peak};
		h->peak_bytes = h->peak_bytes > INT64_MAX - peak ? INT64_MAX : h->peak_bytes + peak;
	}
	h->procs_omitted = omitted;
	if (omitted)
		mg_result_note(r, "memray: %d more forked children were captured than the report lists (%d); "
				  "their sites are not in it", omitted, MG_PYHEAP_MAX_PROCS);
	mg_memray_acc_top(&acc, f->heap.top, h);
	r->python_heap_bytes = h->peak_bytes;
	mg_result_note(r, "heap attribution from a second run under memray (RSS measured without it): the "
			  "sites held at %s", n > 1 ? "each process's peak, summed over the processes"
					       : "the heap's peak");
	memray_flamegraph(sv, f, dir, capture, h, r);
out:
	free(output);
	mg_memray_acc_free(&acc);
	mg_memray_cmds_free(&cmds);
	remove_scratch(&sc, r);
}

/* ---- heaptrack ------------------------------------------------------------- */

static void heaptrack_missing(const struct mg_fixture *f, const char *why, struct mg_result *r)
{
	if (f->heap.optional) {
		mg_result_note(r, "heaptrack is not installed (%s): native heap attribution skipped (\"optional\": "
				  "true); install it with: sudo apt-get install heaptrack", why);
		return;
	}
	mg_run_error(r,
		 "heap.tool is \"heaptrack\" but heaptrack is not installed (%s); install it with: sudo apt-get "
		 "install heaptrack (or set \"optional\": true)", why);
}

/* heaptrack and heaptrack_print, found on the PATH the fixture runs with? */
static bool heaptrack_probe(struct mg_supervisor *sv, const struct mg_fixture *f, const char *log,
			    struct mg_result *r)
{
	static const char *const tools[] = {"heaptrack", "heaptrack_print"};
	for (size_t i = 0; i < 2; i++) {
		char err[256], line[200];
		char *const argv[] = {(char *)tools[i], "--version", NULL};
		int st = run_tool(sv, f, argv, log, tools[i], err, sizeof err);
		if (st < 0 && mg_spawn_not_found(err)) {
			heaptrack_missing(f, err, r);
			return false;
		}
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			log_line(log, line, sizeof line);
			mg_run_error(r, "heaptrack: `%s --version` failed: %s", tools[i],
				 st < 0 ? err : line[0] ? line : "no output");
			return false;
		}
	}
	return true;
}

/* heaptrack -o DIR/data ARGV...; NULL when out of memory. */
static char **heaptrack_argv(const struct mg_fixture *f, const char *data, size_t *argc)
{
	char **v = calloc(f->argc + 4, sizeof *v);
	if (!v)
		return NULL;
	v[0] = "heaptrack";
	v[1] = "-o";
	v[2] = (char *)data;
	for (size_t i = 0; i < f->argc; i++)
		v[3 + i] = f->argv[i];
	*argc = f->argc + 3;
	return v;
}

/* The data file heaptrack wrote: DATA.zst with zstd on PATH, else DATA.gz. */
static bool heaptrack_data(const char *data, char *file, size_t len)
{
	static const char *const ext[] = {".zst", ".gz"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(file, len, "%s%s", data, ext[i]);
		if (access(file, F_OK) == 0)
			return true;
	}
	return false;
}

/* The heaptrack run (a no-op unless heap.tool is heaptrack). */
static void heaptrack_pass(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	char data[PATH_MAX + 32], file[PATH_MAX + 48], log[PATH_MAX + 32], print[PATH_MAX + 32];
	char err[384], line[200], top[16];
	char *output = NULL, *text = NULL;
	struct mg_heaptrack *ht = NULL;
	struct scratch sc;
	if (make_scratch("heaptrack", &sc, r) < 0)
		return;
	const char *dir = sc.dir.path;
	snprintf(log, sizeof log, "%s/probe.log", dir);
	if (!heaptrack_probe(sv, f, log, r))
		goto out;
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/run.log", dir);
	size_t argc;
	char **argv = heaptrack_argv(f, data, &argc);
	if (!argv) {
		mg_run_error(r, "heaptrack: out of memory");
		goto out;
	}
	/* the script must outlive the program to write the data: the stop
	 * signal goes to the program (tests/data/heaptrack/NOTES.md) */
	struct mg_supervise_opts so = {.output_path = log, .stop_child_env = HEAPTRACK_STOP_ENV, .scratch = &sc.dir};
	struct mg_result mr;
	scratch_unguard(&sc);
	attribution_run(sv, f, argv, argc, &so, &mr);
	free(argv);
	if (scratch_guard(&sc, r) < 0) {
		mg_result_free(&mr);
		goto out;
	}
	if (mr.error[0]) {
		mg_run_error(r, "heaptrack run: %.480s", mr.error);
		mg_result_free(&mr);
		goto out;
	}
	output = run_output(f, &mr, log);
	if (mr.signal && !(mr.service.stopped && mr.signal == f->service.stop_signal))
		mg_result_note(r, "under heaptrack, the program was killed by signal %d: its data may be partial",
			       mr.signal);
	else if (mr.exited && mr.exit_code != 0)
		mg_result_note(r, "under heaptrack, the program exited with status %d", mr.exit_code);
	mg_result_free(&mr);
	if (!heaptrack_data(data, file, sizeof file)) {
		mg_memray_last_line(output, line, sizeof line);
		mg_run_error(r, "heaptrack wrote no data file (%s.zst or .gz)%s%s", data,
			 line[0] ? ": " : "", line);
		goto out;
	}
	snprintf(print, sizeof print, "%s/print.txt", dir);
	snprintf(top, sizeof top, "%d", f->heap.top);
	char *const pargv[] = {"heaptrack_print", "-f", file, "--print-leaks", "1", "--print-peaks", "1",
			       "--print-allocators", "0", "--print-temporary", "0", "-n", top, NULL};
	int st = run_tool(sv, f, pargv, print, "heaptrack_print", err, sizeof err);
	text = st >= 0 ? read_text(print, CSV_MAX, false, NULL, NULL) : NULL;
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !text) {
		mg_memray_last_line(text, line, sizeof line);
		mg_run_error(r, "heaptrack_print -f %s: %s", file,
			 st < 0 ? err : line[0] ? line : "failed without a word");
		goto out;
	}
	ht = malloc(sizeof *ht);
	if (!ht) {
		mg_run_error(r, "heaptrack: out of memory");
		goto out;
	}
	if (mg_heaptrack_parse(text, ht, err, sizeof err) < 0) {
		struct stat sb;
		long long size = stat(file, &sb) == 0 ? (long long)sb.st_size : -1LL;
		bool failed = !r->exited || r->exit_code != 0;
		if (strstr(text, "Debuggee command was:"))
			mg_run_error(r, "heaptrack: %s", err);
		else if (failed) /* the fixture fails for the program already */
			mg_result_note(r, "heaptrack recorded no allocation (%s, %lld bytes): no heap to attribute", file,
				       size);
		else
			mg_run_error(r, "heaptrack recorded nothing: %s (%lld bytes) holds no allocation, which "
				     "heaptrack_print says only by a zero summary: the program allocated nothing under "
				     "heaptrack, or was stopped before heaptrack wrote its data", file, size);
		goto out;
	}
	struct mg_pyheap *h = heap_of(r, "heaptrack");
	if (!h)
		goto out;
	mg_heaptrack_to_heap(ht, f->heap.top, h);
	r->python_heap_bytes = h->peak_bytes; /* the heap and python_heap limits judge it */
	mg_result_note(r, "native heap attribution from a second run under heaptrack (RSS measured without "
			  "it): the sites held at the heap's peak, and the leaks");
out:
	free(ht);
	free(text);
	free(output);
	remove_scratch(&sc, r);
}

void mg_measure_fixture(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	mg_supervise(sv, f, r);
	/* after the measured run: a profiler inflates RSS */
	if (sv->interrupted_by || !r->started || r->error[0])
		return;
	if (f->heap.tool == MG_HEAP_MEMRAY)
		memray_pass(sv, f, r);
	else if (f->heap.tool == MG_HEAP_HEAPTRACK)
		heaptrack_pass(sv, f, r);
}
