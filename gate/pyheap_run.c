#include "pyheap_run.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pyheap.h"
#include "spawn.h"
#include "supervise.h"

#define TOOL_TIMEOUT_MS 120000 /* memray stats, the import probe */

static bool has_helper(const char *dir)
{
	char p[PATH_MAX + 64];
	if ((size_t)snprintf(p, sizeof p, "%s/sitecustomize.py", dir) >= sizeof p)
		return false;
	return access(p, R_OK) == 0;
}

int mg_pyheap_helper_dir(char *dir, size_t len)
{
	const char *env = getenv("MEMGATE_PYTHON_DIR");
	if (env && *env) {
		snprintf(dir, len, "%s", env);
		return has_helper(dir) ? 0 : -1;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	const char *bin = dirname(exe);
	/* installed; build/memgate; build/san/memgate */
	const char *rel[] = {"../share/memgate/python", "../gate/python", "../../gate/python"};
	for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
		char cand[PATH_MAX + 64], real[PATH_MAX];
		snprintf(cand, sizeof cand, "%s/%s", bin, rel[i]);
		if (has_helper(cand) && realpath(cand, real)) {
			snprintf(dir, len, "%s", real);
			return 0;
		}
	}
	return -1;
}

/* The fixture's own PYTHONPATH wins over memgate's environment. */
static const char *base_pythonpath(const struct mg_fixture *f)
{
	for (size_t i = 0; i < f->envc; i++)
		if (strncmp(f->env[i], "PYTHONPATH=", 11) == 0)
			return f->env[i] + 11;
	return getenv("PYTHONPATH");
}

int mg_pyheap_prepare(const struct mg_fixture *f, struct mg_pyheap_prep *p, char *err, size_t len)
{
	memset(p, 0, sizeof *p);
	if (f->python.heap != MG_PYHEAP_TRACEMALLOC)
		return 0;
	char helper[PATH_MAX];
	if (mg_pyheap_helper_dir(helper, sizeof helper) < 0) {
		snprintf(err, len, "python.heap: memgate's tracemalloc helper (sitecustomize.py) is not installed "
			 "next to memgate; set MEMGATE_PYTHON_DIR to its directory");
		return -1;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(p->dir, sizeof p->dir, "%s/memgate-pyheap-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(p->dir)) {
		snprintf(err, len, "python.heap: cannot create a temp dir in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
		p->dir[0] = '\0';
		return -1;
	}
	/* 0700, and under sudo owned by the invoking user (memgate's file
	 * system identity), who runs the fixture that writes here */
	snprintf(p->out, sizeof p->out, "%s/heap.json", p->dir);
	const char *base = base_pythonpath(f);
	if (asprintf(&p->env[0], "PYTHONPATH=%s%s%s", helper, base && *base ? ":" : "", base ? base : "") < 0 ||
	    asprintf(&p->env[1], "MEMGATE_PYHEAP_OUT=%s", p->out) < 0 ||
	    asprintf(&p->env[2], "MEMGATE_PYHEAP_TOP=%d", f->python.top) < 0) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	return 0;
}

static struct mg_pyheap *new_heap(struct mg_result *r)
{
	if (!r->python_heap)
		r->python_heap = calloc(1, sizeof *r->python_heap);
	return r->python_heap;
}

void mg_pyheap_collect(const struct mg_fixture *f, struct mg_pyheap_prep *p, struct mg_result *r)
{
	if (f->python.heap != MG_PYHEAP_TRACEMALLOC || !p->dir[0] || !r->started)
		return;
	char err[512];
	if (access(p->out, F_OK) != 0) {
		/* A tree killed with SIGKILL (timeout, OOM, no reaction to SIGTERM)
		 * cannot write; the verdict already says why. */
		bool killed = r->timed_out || r->oom_killed || r->service.killed_after_grace || r->interrupted_by ||
			      r->signal == SIGKILL;
		if (killed)
			mg_result_note(r, "no Python heap report: the process was killed before it could write one");
		else
			mg_result_note(r, "no Python heap report: is \"%s\" a Python program? (the tracemalloc helper "
					  "writes it at exit or SIGTERM)", f->argv[0]);
		return;
	}
	struct mg_pyheap *h = new_heap(r);
	if (!h || mg_pyheap_load_tracemalloc(p->out, h, err, sizeof err) < 0) {
		mg_result_note(r, "Python heap report unreadable: %s", h ? err : "out of memory");
		free(r->python_heap);
		r->python_heap = NULL;
		return;
	}
	r->python_heap_bytes = h->peak_bytes;
	/* tracemalloc keeps a trace per live block, in the measured process */
	mg_result_note(r, "RSS was measured with tracemalloc on (its traces add memory per live block; "
			  "many small objects inflate it most)");
}

void mg_pyheap_release(struct mg_pyheap_prep *p)
{
	for (int i = 0; i < 3; i++)
		free(p->env[i]);
	if (p->dir[0]) {
		unlink(p->out);
		rmdir(p->dir);
	}
	memset(p, 0, sizeof *p);
}

/* ---- memray ------------------------------------------------------------ */

/* Run a helper tool (memray itself, an import probe) to completion through
 * the one spawner: the fixture's user, cwd and environment, stdin from
 * /dev/null, stdout and stderr into log. Within the timeout, else killed.
 * Returns the wait status, or -1 (could not start / timed out). */
static int run_tool(struct mg_supervisor *sv, const struct mg_fixture *f, char *const *argv, const char *log,
		    int64_t timeout_ms)
{
	struct mg_spawn sp = {
		.argv = argv,
		.env = f->env,
		.cwd = f->cwd,
		.stdin_mode = MG_STDIN_NULL,
		.run_as = &sv->run_as,
		.child_mask = &sv->child_mask,
		.output_path = log ? log : "/dev/null",
		.die_with_memgate = true,
		.what = "memray",
	};
	struct mg_spawned out;
	char err[256];
	int rc = mg_spawn(&sp, &out, err, sizeof err);
	if (out.pid <= 0)
		return -1;
	int status;
	for (int64_t waited = 0;; waited += 10) {
		pid_t w = waitpid(out.pid, &status, WNOHANG);
		if (w == out.pid)
			return rc == 0 ? status : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			kill(out.pid, SIGKILL); /* our child, not reaped: its pid is still its own */
			waitpid(out.pid, &status, 0);
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

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
static bool memray_installed(struct mg_supervisor *sv, const struct mg_fixture *f)
{
	char *const argv[] = {f->argv[0], "-c", "import memray", NULL};
	int st = run_tool(sv, f, argv, NULL, TOOL_TIMEOUT_MS);
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

void mg_pyheap_memray(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
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
		snprintf(r->error, sizeof r->error, "memray: cannot create a temp dir: %s", strerror(errno));
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
	int st = run_tool(sv, f, cmds.stats, log, TOOL_TIMEOUT_MS);
	char *output = read_text(log);
	if (st < 0 || mg_memray_interpret_stats(st, output, access(stats, F_OK) == 0, err, sizeof err) < 0) {
		snprintf(r->error, sizeof r->error, "memray stats: %s", st < 0 ? "did not finish" : err);
		free(output);
		goto out;
	}
	free(output);
	struct mg_pyheap *h = new_heap(r);
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
