/* sampler: what one tick of the interval reads (sampler.h). */
#include "measure/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "measure/phases.h"
#include "measure/run.h"

#define STATUS_EVERY_MS 1000   /* status (VmHWM, name) of each live process, at least */
#define PSS_DUTY 20            /* a PSS sweep every 20 times its own duration: 5% */
#define INTERVALS_MAX 8192     /* deltas kept per kind; decimated beyond */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- how often: deltas between events, bounded ---------------------------- */

static void interval_mark(struct mg_intervals *iv, int64_t now_ns)
{
	if (iv->last_ns) {
		uint64_t us = (uint64_t)(now_ns - iv->last_ns) / 1000;
		if (us > iv->max_us)
			iv->max_us = us;
		if (!iv->stride)
			iv->stride = 1;
		if (++iv->skip >= iv->stride) {
			iv->skip = 0;
			if (iv->n == iv->cap && iv->cap < INTERVALS_MAX) {
				size_t cap = iv->cap ? iv->cap * 2 : 256;
				uint32_t *v = realloc(iv->us, cap * sizeof *v);
				if (v) {
					iv->us = v;
					iv->cap = cap;
				}
			}
			if (iv->n == iv->cap && iv->cap) { /* full: keep every other one, sample half as often */
				for (size_t i = 0; i < iv->n / 2; i++)
					iv->us[i] = iv->us[2 * i];
				iv->n /= 2;
				iv->stride *= 2;
			}
			if (iv->n < iv->cap)
				iv->us[iv->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		}
	}
	iv->last_ns = now_ns;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static struct mg_cadence cadence(struct mg_intervals *iv, int64_t count)
{
	struct mg_cadence c = {-1, -1, count};
	if (!iv->n)
		return c;
	qsort(iv->us, iv->n, sizeof *iv->us, cmp_u32);
	c.median_ms = iv->us[iv->n / 2] / 1000.0;
	c.max_ms = iv->max_us / 1000.0;
	return c;
}

/* ---- pid -> slot index ------------------------------------------------------- */

static size_t hash_pid(const struct mg_sampler *s, pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (s->nkeys - 1);
}

static long find(const struct mg_sampler *s, pid_t pid)
{
	if (!s->nkeys)
		return -1;
	for (size_t i = hash_pid(s, pid); s->keys[i]; i = (i + 1) & (s->nkeys - 1))
		if (s->keys[i] == pid)
			return (long)s->vals[i];
	return -1;
}

static void map_put(struct mg_sampler *s, pid_t pid, uint32_t idx)
{
	size_t i = hash_pid(s, pid);
	while (s->keys[i] && s->keys[i] != pid)
		i = (i + 1) & (s->nkeys - 1);
	s->keys[i] = pid;
	s->vals[i] = idx;
}

/* Linear probing's deletion without tombstones: shift back what follows. */
static void map_del(struct mg_sampler *s, pid_t pid)
{
	size_t mask = s->nkeys - 1, i = hash_pid(s, pid);
	while (s->keys[i] && s->keys[i] != pid)
		i = (i + 1) & mask;
	if (!s->keys[i])
		return;
	s->keys[i] = 0;
	for (size_t j = (i + 1) & mask; s->keys[j]; j = (j + 1) & mask) {
		size_t home = hash_pid(s, s->keys[j]);
		/* move j back into the hole at i unless its home lies in (i, j] */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			s->keys[i] = s->keys[j];
			s->vals[i] = s->vals[j];
			s->keys[j] = 0;
			i = j;
		}
	}
}

static int grow(struct mg_sampler *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64, nkeys = cap * 2;
	struct mg_proc_slot *v = realloc(s->slots, cap * sizeof *v);
	if (!v)
		return -1;
	s->slots = v;
	pid_t *keys = calloc(nkeys, sizeof *keys);
	uint32_t *vals = calloc(nkeys, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	free(s->keys);
	free(s->vals);
	s->keys = keys;
	s->vals = vals;
	s->nkeys = nkeys;
	s->cap = cap;
	for (size_t i = 0; i < s->n; i++)
		map_put(s, s->slots[i].pid, (uint32_t)i);
	return 0;
}

/* ---- per-process figures ------------------------------------------------------- */

/* The figure of pid (a process seen now), kept after it is gone; when the
 * table is full, the smallest high-water mark gives its place. */
static struct mg_proc_figure *figure(struct mg_sampler *s, pid_t pid)
{
	for (size_t i = s->nfigs; i-- > 0;) /* recent ones last: looked up from the end */
		if (s->figs[i].pid == pid)
			return &s->figs[i];
	size_t at = s->nfigs;
	if (at == TRACKED_MAX) {
		at = 0;
		for (size_t i = 1; i < s->nfigs; i++)
			if (s->figs[i].hwm_bytes < s->figs[at].hwm_bytes)
				at = i;
		/* a live slot may point at it: it then gets a fresh one */
		for (size_t i = 0; i < s->n; i++)
			if (s->slots[i].fig == &s->figs[at])
				s->slots[i].fig = NULL;
	} else {
		s->nfigs++;
	}
	memset(&s->figs[at], 0, sizeof s->figs[at]);
	s->figs[at].pid = pid;
	return &s->figs[at];
}

static struct mg_proc_figure *fig_of(struct mg_sampler *s, struct mg_proc_slot *p)
{
	if (!p->fig)
		p->fig = figure(s, p->pid);
	return p->fig;
}

static void raise_hwm(struct run *run, int64_t hwm)
{
	if (hwm > run->r->max_process_hwm_bytes)
		run->r->max_process_hwm_bytes = hwm;
}

/* ---- reading one process ---------------------------------------------------------- */

/* status: name, VmHWM, RSS, parent. 0 read, 1 gone or without memory, -1 error. */
static int read_status(struct run *run, struct mg_proc_slot *p)
{
	struct mg_proc_status st;
	char err[512];
	int rc = mg_read_status(p->pid, &st, err, sizeof err);
	if (rc < 0)
		mg_run_error(run->r, "%s", err);
	if (rc != 0)
		return rc;
	if (!st.has_vm)
		return 1; /* a zombie, or inside exit() */
	struct mg_proc_figure *f = fig_of(&run->smp, p);
	snprintf(f->name, sizeof f->name, "%s", st.name);
	if (st.hwm_bytes > f->hwm_bytes)
		f->hwm_bytes = st.hwm_bytes; /* the kernel's own high-water mark of this process */
	f->own_hwm = true;
	raise_hwm(run, st.hwm_bytes);
	mg_phases_hwm(run, p->pid, st.ppid, st.hwm_bytes);
	p->rss = st.rss_bytes;
	p->ppid = st.ppid;
	p->status_ms = mg_run_now_ms();
	long parent = st.ppid > 0 ? find(&run->smp, st.ppid) : -1;
	if (parent >= 0)
		fig_of(&run->smp, &run->smp.slots[parent])->had_children = true;
	return 0;
}

/* statm through an fd kept open: it stays bound to this process (never to
 * a later one reusing the pid) and saves open/close; only for the first
 * KEPT_FDS, so a tree of thousands cannot use up memgate's descriptors. */
static int read_statm(struct run *run, struct mg_proc_slot *p, size_t idx)
{
	if (p->statm_fd < 0 && idx < KEPT_FDS) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/statm", (int)p->pid);
		p->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->statm_fd < 0 && (errno == ENOENT || errno == ESRCH))
			return 1;
		if (p->statm_fd < 0 && errno != EMFILE && errno != ENFILE) {
			mg_run_error(run->r, "cannot open %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
			return -1;
		}
	}
	int64_t rss;
	if (p->statm_fd < 0) {
		char err[512];
		int rc = mg_read_statm_rss(p->pid, run->smp.page_size, &rss, err, sizeof err);
		if (rc < 0)
			mg_run_error(run->r, "%s", err);
		if (rc != 0)
			return rc;
	} else if (mg_pread_statm_rss(p->statm_fd, run->smp.page_size, &rss) != 0) {
		return 1; /* gone */
	}
	if (rss == 0)
		return 1; /* a zombie, or exiting */
	p->rss = rss;
	return 0;
}

/* One process: status when due, else statm. 0 read, 1 gone, -1 error. */
static int read_one(struct run *run, size_t idx, int64_t now_ms)
{
	struct mg_proc_slot *p = &run->smp.slots[idx];
	int64_t before = p->rss;
	int rc = now_ms - p->status_ms >= STATUS_EVERY_MS ? read_status(run, p) : read_statm(run, p, idx);
	if (rc == 0) {
		run->smp.sum_rss += p->rss - before;
		struct mg_proc_figure *f = fig_of(&run->smp, p);
		if (p->rss > f->rss_peak_bytes)
			f->rss_peak_bytes = p->rss;
		if (p->rss > f->hwm_bytes)
			f->hwm_bytes = p->rss; /* VmHWM is never below the RSS read */
		mg_phases_hwm(run, p->pid, 0, p->rss);
	}
	return rc;
}

/* The slot leaves (its process is gone); the last one takes its place. */
static void drop(struct run *run, size_t idx, bool reaped)
{
	struct mg_sampler *s = &run->smp;
	struct mg_proc_slot *p = &s->slots[idx];
	if (!reaped)
		mg_phases_left(run, p->pid, p->ppid); /* its last high-water mark went with it */
	s->sum_rss -= p->rss;
	if (p->statm_fd >= 0)
		close(p->statm_fd);
	map_del(s, p->pid);
	size_t last = --s->n;
	if (idx != last) {
		s->slots[idx] = s->slots[last];
		map_put(s, s->slots[idx].pid, (uint32_t)idx);
	}
	if (s->cursor > s->n)
		s->cursor = s->n;
}

/* ---- the tree ------------------------------------------------------------------ */

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

#define ESCAPE_EVERY_MS 1000 /* how often memgate's descendants are checked against the cgroup */

/* With a cgroup the tree is its members; a process that wrote its pid into
 * another cgroup's cgroup.procs (root, or a delegated subtree) is gone from
 * the cgroup's figures while it holds memory, and a cgroup limit would pass
 * over it. One of memgate's descendants (not the driver's tree, not the
 * watchdog) that is alive and not in the cgroup after the cgroup was read
 * (a child forked before that read was in it by inheritance) left it: an
 * error, the run stops. 0, or -1. */
static int check_escapes(struct run *run)
{
	char err[512];
	if (mg_list_descendants(&run->tree, getpid(), &run->check, err, sizeof err) < 0)
		return 0; /* a race with exits; the next check sees it */
	/* the cgroup after the descendants: whatever was forked before is in it */
	if (mg_cgroup_procs(&run->cg, &run->tree, &run->members, err, sizeof err) < 0) {
		mg_run_error(run->r, "%s", err);
		return -1;
	}
	/* the driver's cgroup holds its tree, and what it left behind */
	mg_pidset_clear(&run->skip);
	if (run->have_aux && mg_cgroup_procs(&run->aux, &run->tree, &run->skip, err, sizeof err) < 0)
		return 0;
	if (run->driver_pid > 0 && !run->driver_done && mg_pidset_add(&run->skip, run->driver_pid) < 0)
		return 0;
	for (size_t i = 0; i < run->check.n; i++) {
		pid_t pid = run->check.v[i];
		if (mg_pidset_has(&run->members, pid) || mg_pidset_has(&run->skip, pid) ||
		    mg_pidset_has(&run->spare, pid))
			continue;
		struct mg_proc_status st;
		if (mg_read_status(pid, &st, err, sizeof err) != 0 || !st.has_vm)
			continue; /* exited since it was listed: not an escape */
		mg_run_error(run->r, "process %d (%s) of the fixture left its cgroup (it moved itself to another): "
				     "the cgroup's figures miss its memory, so nothing exact was measured",
			     (int)pid, st.name);
		return -1;
	}
	return 0;
}

/* A new rotation starts with the tree as it is now: new processes get a
 * slot (and their status read), vanished ones leave. 0, or -1. */
static int relist(struct run *run)
{
	struct mg_sampler *s = &run->smp;
	char err[512];
	if (mg_list_tree(run, &run->pids, err, sizeof err) < 0) {
		mg_run_error(run->r, "%s", err);
		return -1;
	}
	int64_t now_ms = mono_ns() / 1000000;
	if (run->have_cg && now_ms >= s->next_escape_ms) {
		s->next_escape_ms = now_ms + ESCAPE_EVERY_MS;
		if (check_escapes(run) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		s->slots[i].seen = false;
	for (size_t i = 0; i < run->pids.n; i++) {
		pid_t pid = run->pids.v[i];
		long at = find(s, pid);
		if (at >= 0) {
			s->slots[at].seen = true;
			continue;
		}
		if (s->n == s->cap && grow(s) < 0) {
			mg_run_error(run->r, "out of memory for %zu processes", s->n + 1);
			return -1;
		}
		s->slots[s->n] = (struct mg_proc_slot){.pid = pid, .statm_fd = -1, .seen = true};
		map_put(s, pid, (uint32_t)s->n);
		s->n++;
		int rc = read_status(run, &s->slots[s->n - 1]);
		if (rc < 0)
			return -1;
		s->sum_rss += s->slots[s->n - 1].rss;
	}
	for (size_t i = s->n; i-- > 0;)
		if (!s->slots[i].seen)
			drop(run, i, false);
	s->cursor = 0;
	return 0;
}

/* ---- PSS -------------------------------------------------------------------------- */

/* PSS divides shared pages by their sharers at the moment it is read: a
 * fork between two reads counts the parent's pages whole and again in the
 * child. A sum only stands if the tree did not change while we read. */
static void pss_sweep(struct run *run, int64_t now_ms)
{
	struct mg_sampler *s = &run->smp;
	char err[512];
	int64_t t0 = mono_ns(), pss = 0;
	for (size_t i = 0; i < s->n; i++) {
		int64_t one;
		int rc = mg_read_pss(s->slots[i].pid, &one, err, sizeof err);
		if (rc < 0) {
			mg_run_error(run->r, "%s", err);
			return;
		}
		pss += rc == 0 ? one : 0;
	}
	if (mg_list_tree(run, &run->check, err, sizeof err) == 0 && run->check.n == s->n) {
		bool same = true;
		for (size_t i = 0; i < run->check.n && same; i++)
			same = find(s, run->check.v[i]) >= 0;
		if (same && pss > run->r->tree_pss_bytes)
			run->r->tree_pss_bytes = pss;
		if (same && s->sum_rss > run->r->pss_read_at)
			run->r->pss_read_at = s->sum_rss;
	}
	int64_t took_ms = (mono_ns() - t0) / 1000000;
	s->next_pss_ms = now_ms + (PSS_DUTY - 1) * (took_ms > 0 ? took_ms : 0);
	interval_mark(&s->pss_sweeps, t0);
}

/* ---- the cgroup's own counters, O(1) --------------------------------------------- */

static int open_counter(const struct mg_cgroup *cg, const char *file)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", cg->path, file);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* memory.stat: v2 anon + shmem (file counts shmem too), v1 the hierarchical
 * total_* keys (this cgroup's own without children otherwise). */
static void stat_figures(const char *text, bool v2, int64_t *anon, int64_t *file)
{
	int64_t a = 0, sh = 0, f = 0;
	if (v2) {
		mg_cg_keyed(text, "anon", &a);
		mg_cg_keyed(text, "shmem", &sh);
		mg_cg_keyed(text, "file", &f);
	} else {
		if (mg_cg_keyed(text, "total_rss", &a) < 0)
			mg_cg_keyed(text, "rss", &a);
		if (mg_cg_keyed(text, "total_shmem", &sh) < 0)
			mg_cg_keyed(text, "shmem", &sh);
		if (mg_cg_keyed(text, "total_cache", &f) < 0)
			mg_cg_keyed(text, "cache", &f);
	}
	*anon = a + sh;
	*file = f > sh ? f - sh : 0; /* the page cache of files: shmem is counted in anon */
}

/* The usage every tick (one number, ~1.5 us). memory.stat costs 10-20 us,
 * the largest part of an idle tick after the wake-up: it is read again when
 * the usage moved, at every boundary, and at least every STAT_EVERY ticks
 * (a cgroup held at its limit keeps its usage while anon grows at the page
 * cache's expense). Otherwise its last figures stand: anon and file move
 * with the usage but for the kernel's charge batching and its lazy flush
 * of these counters, which the 8th tick catches up with. */
enum { STAT_EVERY = 8 };

static void cgroup_tick(struct run *run, bool full, int64_t ms, int64_t *usage_out, int64_t *anon_out)
{
	struct mg_sampler *s = &run->smp;
	struct mg_result *r = run->r;
	char buf[4096];
	int64_t usage = -1, anon = -1, file = 0;
	if (s->usage_fd >= 0 && mg_pread_all(s->usage_fd, buf, sizeof buf) > 0) {
		char *end;
		long long v = strtoll(buf, &end, 10);
		if (end != buf && v >= 0)
			usage = v;
	}
	bool stat_due = full || usage < 0 || usage != s->stat_usage || s->stat_age >= STAT_EVERY - 1;
	if (!stat_due) {
		s->stat_age++;
		anon = s->stat_anon;
		file = s->stat_file;
	} else if (s->stat_fd >= 0 && mg_pread_all(s->stat_fd, buf, sizeof buf) > 0) {
		stat_figures(buf, run->cg.kind == MG_METHOD_CGROUP_V2, &anon, &file);
		s->stat_age = 0;
		s->stat_usage = usage;
		s->stat_anon = anon;
		s->stat_file = file;
	}
	if (usage >= 0) {
		if (mg_series_push(&r->series_cgroup, ms, usage) < 0)
			mg_run_error(r, "out of memory for the time series");
		if (usage >= s->max_usage) {
			s->max_usage = usage;
			r->cgroup_file_bytes = file;
		}
	}
	if (anon >= 0) {
		if (anon > r->cgroup_anon_bytes)
			r->cgroup_anon_bytes = anon;
		/* memory.stat is flushed lazily (its counters can trail the usage
		 * by a second): a read counts as made at this usage only when it
		 * accounts for most of it */
		if (usage > r->cgroup_anon_read_at && anon + file >= usage - usage / 4)
			r->cgroup_anon_read_at = usage;
		if (mg_series_push(&r->series_anon, ms, anon) < 0)
			mg_run_error(r, "out of memory for the time series");
	}
	*usage_out = usage;
	*anon_out = anon;
}

/* ---- one tick ------------------------------------------------------------------- */

int mg_sampler_start(struct run *run)
{
	struct mg_sampler *s = &run->smp;
	s->usage_fd = s->stat_fd = -1;
	s->stat_usage = s->stat_anon = -1;
	s->page_size = sysconf(_SC_PAGESIZE);
	s->budget = run->f->cpu_budget_x100 / 10000.0;
	s->ns_per_read = 10000; /* a first guess: 10 us */
	s->figs = calloc(TRACKED_MAX, sizeof *s->figs);
	if (!s->figs) {
		mg_run_error(run->r, "out of memory");
		return -1;
	}
	run->r->cpu_budget_x100 = run->f->cpu_budget_x100;
	if (!run->have_cg)
		return 0;
	bool v2 = run->cg.kind == MG_METHOD_CGROUP_V2;
	s->usage_fd = open_counter(&run->cg, v2 ? "memory.current" : "memory.usage_in_bytes");
	s->stat_fd = open_counter(&run->cg, "memory.stat");
	if (mg_series_init(&run->r->series_cgroup, MG_SERIES_DEFAULT_CAP) < 0 ||
	    mg_series_init(&run->r->series_anon, MG_SERIES_DEFAULT_CAP) < 0) {
		mg_run_error(run->r, "out of memory");
		return -1;
	}
	run->r->cgroup_anon_bytes = 0;
	run->r->cgroup_file_bytes = 0;
	return 0;
}

int mg_sample(struct run *run, bool full)
{
	struct mg_sampler *s = &run->smp;
	struct mg_result *r = run->r;
	int64_t now_ns = mono_ns(), ms = mg_run_now_ms(), rel = ms - run->t0;
	int64_t usage = -1, anon = -1;
	if (!full)
		interval_mark(&s->ticks, now_ns);
	if (run->have_cg)
		cgroup_tick(run, full, rel, &usage, &anon);

	/* the budget: tokens accrue with wall time, at most a second's worth */
	if (s->last_tick_ns) {
		s->tokens_ns += (int64_t)((now_ns - s->last_tick_ns) * s->budget);
		int64_t cap = (int64_t)(1e9 * s->budget);
		if (s->tokens_ns > cap)
			s->tokens_ns = cap;
	}
	s->last_tick_ns = now_ns;
	int64_t c0 = cpu_ns();
	size_t reads = 0;
	if (s->cursor == 0 || full) {
		if (relist(run) < 0)
			return -1;
		s->rotation_start_ms = ms;
		reads += s->n; /* a listing costs about a read per process */
	}
	size_t allowed = full ? SIZE_MAX : (size_t)(s->tokens_ns > 0 ? s->tokens_ns / s->ns_per_read : 0);
	if (allowed < 1)
		allowed = 1; /* progress every tick, whatever the debt */
	for (size_t done = 0; s->cursor < s->n && done < allowed; done++) {
		int rc = read_one(run, s->cursor, ms);
		if (rc < 0)
			return -1;
		reads++;
		if (rc == 1)
			drop(run, s->cursor, false); /* the last slot moved into cursor: read it next */
		else
			s->cursor++;
	}
	if (s->cursor >= s->n) { /* a round over the whole tree: the next tick lists again */
		s->cursor = 0;
		s->rotations++;
		interval_mark(&s->rounds, now_ns);
	}
	int64_t used = cpu_ns() - c0;
	s->tokens_ns -= used;
	if (reads)
		s->ns_per_read = 0.8 * s->ns_per_read + 0.2 * ((double)used / (double)reads);
	/* not for every full sample: the boundaries and the driver's progress
	 * lines need none, and a sweep reads every process's smaps_rollup */
	if (run->f->pss && ms >= s->next_pss_ms)
		pss_sweep(run, ms);
	if (r->error[0])
		return -1;
	if (s->sum_rss > r->tree_rss_bytes)
		r->tree_rss_bytes = s->sum_rss;
	mg_phases_tick(run, s->sum_rss, usage, anon);
	r->samples++;
	if (mg_series_push(&r->series, rel, s->sum_rss) < 0) {
		mg_run_error(r, "out of memory for the time series");
		return -1;
	}
	return 0;
}

pid_t mg_sampler_parent(const struct run *run, pid_t pid)
{
	long at = find(&run->smp, pid);
	return at >= 0 ? run->smp.slots[at].ppid : 0;
}

int64_t mg_sample_tree_rss(const struct run *run)
{
	return run->smp.sum_rss;
}

int mg_sample_live(const struct run *run)
{
	return (int)run->smp.n;
}

/* wait4's ru_maxrss covers the process and every child it waited for: it is
 * the process's own peak only if it had no children. The tree's maximum
 * stays exact either way: the largest ru_maxrss is some process's own. */
bool mg_sampler_reaped(struct run *run, pid_t pid, int64_t maxrss)
{
	struct mg_sampler *s = &run->smp;
	raise_hwm(run, maxrss);
	long at = find(s, pid);
	struct mg_proc_figure *f = at >= 0 ? fig_of(s, &s->slots[at]) : figure(s, pid);
	/* own when it never was a parent; else only until its VmHWM is known */
	if ((!f->had_children || !f->own_hwm) && maxrss > f->hwm_bytes)
		f->hwm_bytes = maxrss;
	if (at >= 0)
		drop(run, (size_t)at, true);
	return f && !f->had_children;
}

static int cmp_hwm_desc(const void *a, const void *b)
{
	const struct mg_proc_figure *x = a, *y = b;
	return (y->hwm_bytes > x->hwm_bytes) - (y->hwm_bytes < x->hwm_bytes);
}

void mg_sampler_finish(struct run *run)
{
	struct mg_sampler *s = &run->smp;
	struct mg_result *r = run->r;
	if (s->nfigs) /* none when nothing started: figs is NULL, which qsort and memcpy must not get */
		qsort(s->figs, s->nfigs, sizeof *s->figs, cmp_hwm_desc);
	for (size_t i = 0; i < s->n; i++)
		s->slots[i].fig = NULL; /* the table was sorted under them */
	size_t n = s->nfigs < MG_MAX_PROCS ? s->nfigs : MG_MAX_PROCS;
	if (n)
		memcpy(r->procs, s->figs, n * sizeof *s->figs);
	r->nprocs = (int)n;
	r->achieved = cadence(&s->ticks, r->samples);
	r->per_process = cadence(&s->rounds, s->rotations);
	r->pss_sweeps = run->f->pss ? cadence(&s->pss_sweeps, (int64_t)s->pss_sweeps.n) : (struct mg_cadence){-1, -1, 0};
}

void mg_sampler_free(struct mg_sampler *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].statm_fd >= 0)
			close(s->slots[i].statm_fd);
	if (s->usage_fd >= 0)
		close(s->usage_fd);
	if (s->stat_fd >= 0)
		close(s->stat_fd);
	free(s->slots);
	free(s->keys);
	free(s->vals);
	free(s->figs);
	free(s->ticks.us);
	free(s->rounds.us);
	free(s->pss_sweeps.us);
	memset(s, 0, sizeof *s);
	s->usage_fd = s->stat_fd = -1;
}
