/* measure: one fixture, measured (measure.h). */
#include "error.h"
#include "measure/measure.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap/memray.h"
#include "heap/pyheap.h"
#include "measure/tool.h"

#define TOOL_TIMEOUT_MS 120000 /* memray stats, the import probe */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 16384);
	size_t n = buf ? fread(buf, 1, 16383, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

/* Is memray importable by the fixture's interpreter? */
/* A helper tool for fixture f: its user, cwd and environment. */
static int run_tool(struct mg_supervisor *sv, const struct mg_fixture *f, char *const *argv, const char *log)
{
	struct mg_tool t = {.argv = argv, .env = f->env, .cwd = f->cwd, .run_as = &sv->run_as,
			    .child_mask = &sv->child_mask, .log = log, .timeout_ms = TOOL_TIMEOUT_MS, .what = "memray"};
	char err[256];
	return mg_run_tool(&t, err, sizeof err);
}

static bool memray_installed(struct mg_supervisor *sv, const struct mg_fixture *f)
{
	char *const argv[] = {f->argv[0], "-c", "import memray", NULL};
	int st = run_tool(sv, f, argv, NULL);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void memray_missing(const struct mg_fixture *f, struct mg_result *r)
{
	if (f->python.optional) {
		mg_result_note(r, "memray is not installed for %s: Python heap attribution skipped "
				  "(\"optional\": true); install it with: %s -m pip install memray",
			       f->argv[0], f->argv[0]);
		return;
	}
	snprintf(r->error, sizeof r->error,
		 "python.heap is \"memray\" but memray is not installed for %s; install it with: %s -m pip install "
		 "memray (or set \"python\": {\"optional\": true}, or use \"heap\": \"tracemalloc\")",
		 f->argv[0], f->argv[0]);
}

/* The attribution run: the same fixture under memray, measured but not judged. */
static int memray_attribution_run(struct mg_supervisor *sv, const struct mg_fixture *f, char **argv, size_t argc,
				  struct mg_result *mr)
{
	struct mg_fixture copy = *f;
	copy.argv = argv;
	copy.argc = argc;
	copy.python.heap = MG_PYHEAP_NONE;
	copy.kill_above = MG_NO_LIMIT;
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		copy.limits[i] = MG_NO_LIMIT;
	mg_result_init(mr);
	mg_supervise(sv, &copy, mr);
	return mr->error[0] ? -1 : 0;
}

/* The memray run (a no-op unless python.heap is memray). */
static void memray_pass(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	if (f->python.heap != MG_PYHEAP_MEMRAY || !r->started || r->error[0])
		return;
	if (!memray_installed(sv, f)) {
		memray_missing(f, r);
		return;
	}
	char dir[PATH_MAX], capture[PATH_MAX + 32], stats[PATH_MAX + 32], log[PATH_MAX + 32], err[384];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/memgate-memray-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) { /* 0700, the user's under sudo: see mg_pyheap_prepare */
		snprintf(r->error, sizeof r->error, "memray: cannot create a temp dir: %s (%s)", mg_errname(errno), strerror(errno));
		return;
	}
	snprintf(capture, sizeof capture, "%s/capture.bin", dir);
	snprintf(stats, sizeof stats, "%s/stats.json", dir);
	snprintf(log, sizeof log, "%s/stats.log", dir);
	struct mg_memray_opts o = {.capture = capture, .stats_out = stats, .top = f->python.top};
	struct mg_memray_cmds cmds = {0};
	struct mg_result mr;
	if (mg_memray_commands(f->argv, f->argc, &o, &cmds, err, sizeof err) < 0) {
		snprintf(r->error, sizeof r->error, "memray: %s", err);
		goto out;
	}
	if (memray_attribution_run(sv, f, cmds.run, cmds.nrun, &mr) < 0) {
		snprintf(r->error, sizeof r->error, "memray run: %.480s", mr.error);
		mg_result_free(&mr);
		goto out;
	}
	int status = mr.exited ? (mr.exit_code << 8) : mr.signal; /* a wait status again */
	struct mg_memray_outcome oc;
	mg_memray_interpret_run(status, access(capture, F_OK) == 0, &oc);
	mg_result_free(&mr);
	if (!oc.capture_usable) {
		mg_memray_describe(&oc, err, sizeof err);
		snprintf(r->error, sizeof r->error, "memray run: %s", err);
		goto out;
	}
	int st = run_tool(sv, f, cmds.stats, log);
	char *output = read_text(log);
	if (st < 0 || mg_memray_interpret_stats(st, output, access(stats, F_OK) == 0, err, sizeof err) < 0) {
		snprintf(r->error, sizeof r->error, "memray stats: %s", st < 0 ? "did not finish" : err);
		free(output);
		goto out;
	}
	free(output);
	struct mg_pyheap *h = r->python_heap ? r->python_heap : (r->python_heap = calloc(1, sizeof *r->python_heap));
	if (!h || mg_pyheap_load_memray_stats(stats, h, err, sizeof err) < 0) {
		snprintf(r->error, sizeof r->error, "memray stats: %s", h ? err : "out of memory");
		free(r->python_heap);
		r->python_heap = NULL;
		goto out;
	}
	r->python_heap_bytes = h->peak_bytes;
	mg_result_note(r, "Python heap attribution from a second run under memray (RSS measured without it)");
out:
	mg_memray_cmds_free(&cmds);
	unlink(capture);
	unlink(stats);
	unlink(log);
	rmdir(dir);
}

void mg_measure_fixture(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	mg_supervise(sv, f, r);
	if (!sv->interrupted_by)
		memray_pass(sv, f, r); /* after the measured run: memray inflates RSS */
}
