/* sampler: one sample of the fixture's tree (sampler.h). */
#include "error.h"
#include "measure/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- measuring --------------------------------------------------------- */

static struct mg_proc_figure *find_tracked(struct run *run, pid_t pid)
{
	for (size_t i = 0; i < run->ntracked; i++)
		if (run->tracked[i].pid == pid)
			return &run->tracked[i];
	return NULL;
}

struct mg_proc_figure *mg_track(struct run *run, pid_t pid)
{
	struct mg_proc_figure *found = find_tracked(run, pid);
	if (found)
		return found;
	size_t slot = run->ntracked;
	if (slot == TRACKED_MAX) { /* full: reuse the smallest entry */
		slot = 0;
		for (size_t i = 1; i < run->ntracked; i++)
			if (run->tracked[i].hwm_bytes < run->tracked[slot].hwm_bytes)
				slot = i;
	} else {
		run->ntracked++;
	}
	struct mg_proc_figure *p = &run->tracked[slot];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	if (run->statm_fd[slot] >= 0)
		close(run->statm_fd[slot]);
	run->statm_fd[slot] = -1;
	return p;
}

void mg_raise_hwm(struct run *run, int64_t hwm)
{
	if (hwm > run->r->max_process_hwm_bytes)
		run->r->max_process_hwm_bytes = hwm;
}

/* Without a cgroup the tree is memgate's descendants, less the driver's
 * own tree (the driver is not what is measured) and the watchdog. */
int mg_list_tree(struct run *run, struct mg_pidset *out, char *err, size_t len)
{
	if (run->have_cg)
		return mg_cgroup_procs(&run->cg, &run->tree, out, err, len);
	if (mg_list_descendants(&run->tree, getpid(), out, err, len) < 0)
		return -1;
	/* orphans handed to memgate (the subreaper): the watchdog must know
	 * them, or they would outlive a SIGKILLed memgate */
	for (size_t i = 0; i < run->tree.nroot_children; i++) {
		pid_t pid = out->v[i];
		if (!mg_pidset_has(&run->watched, pid) && !mg_pidset_has(&run->spare, pid) &&
		    mg_watchdog_watch(&run->wd, pid) == 0 && mg_pidset_add(&run->watched, pid) < 0)
			return -1;
	}
	mg_pidset_clear(&run->skip);
	if (run->driver_pid > 0 && !run->driver_done &&
	    (mg_list_descendants(&run->tree, run->driver_pid, &run->skip, err, len) < 0 ||
	     mg_pidset_add(&run->skip, run->driver_pid) < 0))
		return -1;
	size_t kept = 0;
	for (size_t i = 0; i < out->n; i++)
		if (!mg_pidset_has(&run->skip, out->v[i]) && !mg_pidset_has(&run->spare, out->v[i]))
			out->v[kept++] = out->v[i];
	mg_pidset_truncate(out, kept);
	return 0;
}

/* Read one process. A full read (status: RSS, HWM, name) happens for new
 * processes and every FULL_EVERY samples; between them statm gives RSS at a
 * third of the cost. A spike between full reads is not lost: VmHWM keeps it
 * while the process lives, ru_maxrss once it is reaped.
 * Returns 0 counted, 1 gone or without memory (zombie), -1 error. */
static int sample_one(struct run *run, pid_t pid, bool full, int64_t *rss)
{
	char err[512];
	struct mg_proc_figure *p = find_tracked(run, pid);
	if (full || !p) {
		struct mg_proc_status st;
		int rc = mg_read_status(pid, &st, err, sizeof err);
		if (rc != 0) {
			if (rc < 0)
				mg_run_error(run->r, "%s", err);
			return rc;
		}
		if (!st.has_vm)
			return 1; /* zombie, or inside exit() */
		p = mg_track(run, pid);
		snprintf(p->name, sizeof p->name, "%s", st.name);
		if (st.hwm_bytes > p->hwm_bytes)
			p->hwm_bytes = st.hwm_bytes;
		mg_raise_hwm(run, st.hwm_bytes);
		*rss = st.rss_bytes;
	} else {
		/* statm through an fd kept open: it stays bound to this process
		 * (never to a later one reusing the pid) and saves open/close.
		 * Only for the first KEPT_FDS: a tree of thousands must not use up
		 * memgate's descriptors (a soft limit of 1024 is common). */
		size_t slot = (size_t)(p - run->tracked);
		int *fd = &run->statm_fd[slot];
		if (*fd < 0 && slot < KEPT_FDS) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
			*fd = open(path, O_RDONLY | O_CLOEXEC);
			if (*fd < 0 && (errno == ENOENT || errno == ESRCH))
				return 1;
			if (*fd < 0 && errno != EMFILE && errno != ENFILE) {
				mg_run_error(run->r, "cannot open %s: %s (%s)", path, mg_errname(errno), strerror(errno));
				return -1;
			}
		}
		if (*fd < 0) { /* read by path instead of holding an fd */
			int rc = mg_read_statm_rss(pid, run->page_size, rss, err, sizeof err);
			if (rc < 0)
				mg_run_error(run->r, "%s", err);
			if (rc == 0 && *rss > p->rss_peak_bytes)
				p->rss_peak_bytes = *rss;
			return rc == 0 && *rss == 0 ? 1 : rc;
		}
		if (mg_pread_statm_rss(*fd, run->page_size, rss) != 0) {
			close(*fd);
			*fd = -1;
			return 1; /* gone */
		}
		if (*rss == 0)
			return 1; /* zombie or exiting */
	}
	if (*rss > p->rss_peak_bytes)
		p->rss_peak_bytes = *rss;
	return 0;
}

/* PSS divides shared pages by their sharers at the moment it is read: a
 * fork between two reads counts the parent's pages whole and again in the
 * child. A PSS sum only stands if the tree did not change while we read. */
static bool tree_unchanged(struct run *run)
{
	char err[512];
	if (mg_list_tree(run, &run->check, err, sizeof err) < 0 || run->check.n != run->pids.n)
		return false;
	for (size_t i = 0; i < run->check.n; i++) /* the same set, in any order */
		if (!mg_pidset_has(&run->pids, run->check.v[i]))
			return false;
	return true;
}

/* One sample: every live process of the tree, summed. */
int mg_sample(struct run *run, bool full)
{
	struct mg_result *r = run->r;
	char err[512];
	if (mg_list_tree(run, &run->pids, err, sizeof err) < 0) {
		mg_run_error(r, "%s", err);
		return -1;
	}
	full = full || r->samples % FULL_EVERY == 0;
	int64_t rss = 0, pss = 0;
	int live = 0;
	for (size_t i = 0; i < run->pids.n; i++) {
		pid_t pid = run->pids.v[i];
		int64_t one = 0;
		int rc = sample_one(run, pid, full, &one);
		if (rc < 0)
			return -1;
		if (rc == 1)
			continue;
		live++;
		rss += one;
		if (run->f->pss) {
			rc = mg_read_pss(pid, &one, err, sizeof err);
			if (rc < 0) {
				mg_run_error(r, "%s", err);
				return -1;
			}
			pss += rc == 0 ? one : 0;
		}
	}
	run->live = live;
	run->last_rss = rss;
	if (rss > r->tree_rss_bytes)
		r->tree_rss_bytes = rss;
	if (run->f->pss && pss > r->tree_pss_bytes && tree_unchanged(run))
		r->tree_pss_bytes = pss;
	r->samples++;
	if (mg_series_push(&r->series, mg_run_now_ms() - run->t0, rss) < 0) {
		mg_run_error(r, "out of memory for the time series");
		return -1;
	}
	return 0;
}

static int cmp_hwm_desc(const void *a, const void *b)
{
	const struct mg_proc_figure *x = a, *y = b;
	return (y->hwm_bytes > x->hwm_bytes) - (y->hwm_bytes < x->hwm_bytes);
}

void mg_keep_top_procs(struct run *run)
{
	qsort(run->tracked, run->ntracked, sizeof *run->tracked, cmp_hwm_desc);
	size_t n = run->ntracked < MG_MAX_PROCS ? run->ntracked : MG_MAX_PROCS;
	memcpy(run->r->procs, run->tracked, n * sizeof *run->tracked);
	run->r->nprocs = (int)n;
}
