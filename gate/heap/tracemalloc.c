#include "error.h"
#include "heap/tracemalloc.h"

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

#include "heap/pyheap.h"


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
	const char *rel[] = {"../share/memgate/python", "../gate/heap/python", "../../gate/heap/python"};
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
	p->dir = (struct mg_tmpdir)MG_TMPDIR_NONE;
	char helper[PATH_MAX], marks[PATH_MAX + 16] = "";
	bool found = mg_pyheap_helper_dir(helper, sizeof helper) == 0;
	/* the phase marks' Python side (memgate_mark, the pytest plugin), for
	 * every fixture: two importable modules, nothing runs by itself */
	if (found)
		snprintf(marks, sizeof marks, "%s/marks", helper);
	const char *base = base_pythonpath(f);
	if (f->heap.tool != MG_HEAP_TRACEMALLOC) {
		if (marks[0] && asprintf(&p->env[0], "PYTHONPATH=%s%s%s", marks, base && *base ? ":" : "",
					 base ? base : "") < 0) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		return 0;
	}
	if (!found) {
		snprintf(err, len, "python.heap: memgate's tracemalloc helper (sitecustomize.py) is not installed "
			 "next to memgate; set MEMGATE_PYTHON_DIR to its directory");
		return -1;
	}
	/* 0700, and under sudo owned by the invoking user (memgate's file
	 * system identity), who runs the fixture that writes here; the
	 * watchdog removes it should memgate be killed */
	char why[PATH_MAX + 128];
	if (mg_tmpdir_make(&p->dir, "memgate-pyheap", why, sizeof why) < 0) {
		snprintf(err, len, "heap: %s", why);
		return -1;
	}
	snprintf(p->out, sizeof p->out, "%s/heap.json", p->dir.path);
	if (asprintf(&p->env[0], "PYTHONPATH=%s:%s%s%s", helper, marks, base && *base ? ":" : "", base ? base : "") < 0 ||
	    asprintf(&p->env[1], "MEMGATE_PYHEAP_OUT=%s", p->out) < 0 ||
	    asprintf(&p->env[2], "MEMGATE_PYHEAP_TOP=%d", f->heap.top) < 0) {
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
	if (f->heap.tool != MG_HEAP_TRACEMALLOC || !p->dir.path[0] || !r->started)
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
	mg_tmpdir_remove(&p->dir);
	memset(p, 0, sizeof *p);
	p->dir = (struct mg_tmpdir)MG_TMPDIR_NONE;
}
