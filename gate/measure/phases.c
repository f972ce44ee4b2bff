/* phases: exact peaks per phase of a run (phases.h). */
#include "measure/phases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "identity.h"
#include "tmpdir.h"
#include "measure/mark.h"
#include "measure/run.h"

/* ---- resets and reads -------------------------------------------------------- */

/* Each process's status and clear_refs, kept open across boundaries (a
 * mark then costs a pread and a pwrite per process, not two opens). An fd
 * stays bound to its process, never to a later one with the same pid. */
static struct mg_proc_fds *proc_fds(struct run *run, pid_t pid)
{
	struct mg_phases_state *ph = &run->ph;
	for (int i = 0; i < ph->nfds; i++)
		if (ph->fds[i].pid == pid)
			return &ph->fds[i];
	if (ph->nfds == (int)(sizeof ph->fds / sizeof ph->fds[0]))
		return NULL; /* a large tree: the rest by path */
	char path[64];
	struct mg_proc_fds *f = &ph->fds[ph->nfds];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f->status = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	f->clear = open(path, O_WRONLY | O_CLOEXEC);
	if (f->status < 0 || f->clear < 0) {
		if (f->status >= 0)
			close(f->status);
		if (f->clear >= 0)
			close(f->clear);
		return NULL;
	}
	f->pid = pid;
	ph->nfds++;
	return f;
}

/* Close the kept fds of processes no longer listed at this boundary. */
static void proc_fds_prune(struct run *run, const struct mg_pidset *live, pid_t scope)
{
	struct mg_phases_state *ph = &run->ph;
	if (scope) /* a scope's listing is not the whole tree */
		return;
	for (int i = ph->nfds; i-- > 0;)
		if (!mg_pidset_has(live, ph->fds[i].pid)) {
			close(ph->fds[i].status);
			close(ph->fds[i].clear);
			ph->fds[i] = ph->fds[--ph->nfds];
		}
}

/* VmHWM back to the current RSS: 0, or -1 (not allowed). */
static int clear_hwm(struct run *run, pid_t pid)
{
	struct mg_proc_fds *f = proc_fds(run, pid);
	if (f) {
		ssize_t w = pwrite(f->clear, "5", 1, 0);
		return w == 1 || errno == ESRCH ? 0 : -1;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1; /* gone: nothing to reset */
	ssize_t w = write(fd, "5", 1);
	close(fd);
	return w == 1 || errno == ESRCH ? 0 : -1;
}

/* A process's status: 0 read, else gone (or unreadable). */
static int status_of(struct run *run, pid_t pid, struct mg_proc_status *st)
{
	char err[256];
	struct mg_proc_fds *f = proc_fds(run, pid);
	if (!f)
		return mg_read_status(pid, st, err, sizeof err);
	char buf[8192];
	ssize_t n = mg_pread_all(f->status, buf, sizeof buf);
	if (n <= 0)
		return 1;
	return mg_parse_status(buf, st, err, sizeof err) == 0 ? 0 : -1;
}

/* The processes a phase covers now: the whole tree, or pid's subtree.
 * With a cgroup its member list is cheap and complete; without one the
 * sampler's live list stands in (a scan of /proc per mark would cost a
 * busy program's marks too much). */
static void scope_pids(struct run *run, pid_t scope, struct mg_pidset *out)
{
	char err[256];
	/* one listing per boundary: the phase that ends and the one that
	 * starts cover the same processes at the same moment */
	if (out == &run->ph.scratch && run->ph.listed && run->ph.listed_scope == scope)
		return;
	run->ph.listed = out == &run->ph.scratch;
	run->ph.listed_scope = scope;
	mg_pidset_clear(out);
	if (!scope) {
		if (run->have_cg && mg_cgroup_procs(&run->cg, &run->tree, out, err, sizeof err) == 0)
			return;
		mg_pidset_clear(out);
		for (size_t i = 0; i < run->smp.n; i++)
			mg_pidset_add(out, run->smp.slots[i].pid);
		return;
	}
	if (mg_list_descendants(&run->tree, scope, out, err, sizeof err) == 0)
		mg_pidset_add(out, scope);
}

static void reset_hwm(struct run *run, pid_t scope)
{
	scope_pids(run, scope, &run->ph.scratch);
	for (size_t i = 0; i < run->ph.scratch.n; i++)
		if (clear_hwm(run, run->ph.scratch.v[i]) < 0)
			run->ph.proc_resets = false;
}

/* The largest VmHWM in the scope now; *lost when a process the sampler
 * knew has exited unread (a zombie memgate reaps is not lost: wait4
 * reports its peak). */
static int64_t read_hwm(struct run *run, pid_t scope, bool *lost)
{
	int64_t max = 0;
	scope_pids(run, scope, &run->ph.scratch);
	proc_fds_prune(run, &run->ph.scratch, scope);
	for (size_t i = 0; i < run->ph.scratch.n; i++) {
		struct mg_proc_status st;
		int rc = status_of(run, run->ph.scratch.v[i], &st);
		if (rc == 0 && st.has_vm) {
			if (st.hwm_bytes > max)
				max = st.hwm_bytes;
		} else if (rc != 0 || st.ppid != getpid()) {
			*lost = true;
		}
	}
	return max;
}

/* memory.max_usage_in_bytes (v1) or memory.peak (v2), through the fd kept
 * open: since the last reset where resets work, else the whole run's. -1
 * if unreadable. Read once per boundary. */
static int64_t read_cg_peak(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	if (ph->peak_now >= 0)
		return ph->peak_now;
	char buf[64];
	ssize_t n = ph->peak_fd < 0 ? -1 : mg_pread_all(ph->peak_fd, buf, sizeof buf - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long long x = strtoll(buf, &end, 10);
	ph->peak_now = end != buf && (*end == '\n' || !*end) && x >= 0 ? x : -1;
	return ph->peak_now;
}

/* The cgroup's peak back to its current usage, where the kernel allows. */
static void reset_cg_peak(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	if (!run->have_cg || !ph->cg_resets)
		return;
	int64_t before = read_cg_peak(run);
	if (before > ph->cg_max_before_resets)
		ph->cg_max_before_resets = before; /* time outside every phase keeps its peak */
	/* v1: writing 0 to max_usage_in_bytes; v2 (Linux 6.12+): any write to
	 * an open memory.peak resets what that descriptor reports */
	const char *w = run->cg.kind == MG_METHOD_CGROUP_V1 ? "0" : "reset\n";
	if (!ph->peak_writable || pwrite(ph->peak_fd, w, strlen(w), 0) != (ssize_t)strlen(w))
		ph->cg_resets = false;
	ph->peak_now = -1;
}

/* A boundary starts: nothing read for it yet. */
static void boundary(struct run *run)
{
	run->ph.listed = false;
	run->ph.peak_now = -1;
}

/* ---- phases ------------------------------------------------------------------ */

static struct mg_phase *phase_at(struct run *run, long idx)
{
	return idx >= 0 && (size_t)idx < run->r->nphases ? &run->r->phases[idx] : NULL;
}

/* A new, zeroed phase at the end of the result's list, or NULL (the cap
 * reached, noted once; or out of memory). */
static struct mg_phase *new_phase(struct run *run, const char *name, pid_t scope)
{
	struct mg_result *r = run->r;
	if (r->nphases >= MG_MAX_PHASES) {
		if (!run->ph.capped)
			mg_result_note(r, "more than %d phases: the later ones are not recorded", MG_MAX_PHASES);
		run->ph.capped = true;
		return NULL;
	}
	if (r->nphases == run->ph.cap) {
		size_t cap = run->ph.cap ? run->ph.cap * 2 : 8;
		struct mg_phase *v = realloc(r->phases, cap * sizeof *v);
		if (!v) {
			mg_run_error(r, "out of memory for the phases");
			return NULL;
		}
		r->phases = v;
		run->ph.cap = cap;
	}
	struct mg_phase *p = &r->phases[r->nphases++];
	memset(p, 0, sizeof *p);
	mg_phase_name_clean(p->name, name, strlen(name));
	p->from_ms = mg_run_now_ms() - run->t0;
	p->to_ms = -1;
	p->scope = scope;
	return p;
}

/* A new phase in the result, its counters just reset. Its index, or -1. */
static long open_phase(struct run *run, const char *name, pid_t scope)
{
	struct mg_result *r = run->r;
	if (r->nphases >= MG_MAX_PHASES || r->error[0]) {
		(void)new_phase(run, name, scope); /* notes the cap */
		return -1;
	}
	if (!scope) {
		reset_cg_peak(run);
		/* without resets the run's peak still says when a phase set a new
		 * record: that phase's peak is then the kernel's */
		run->ph.peak_at_open = run->ph.cg_resets ? -1 : read_cg_peak(run);
	}
	reset_hwm(run, scope);
	struct mg_phase *p = new_phase(run, name, scope);
	if (!p)
		return -1;
	p->tree_rss_bytes = scope ? MG_UNKNOWN : run->smp.sum_rss;
	p->cgroup_bytes = run->have_cg ? run->ph.usage : MG_UNKNOWN;
	p->cgroup_anon_bytes = run->have_cg ? (run->ph.anon > 0 ? run->ph.anon : 0) : MG_UNKNOWN; /* as of the last tick */
	p->exact = true;
	return (long)(r->nphases - 1);
}

static void close_phase(struct run *run, long idx)
{
	struct mg_phase *p = phase_at(run, idx);
	if (!p || p->to_ms >= 0)
		return;
	p->to_ms = mg_run_now_ms() - run->t0;
	int64_t hwm = read_hwm(run, p->scope, &p->lost);
	if (hwm > p->max_process_hwm_bytes)
		p->max_process_hwm_bytes = hwm;
	bool cg_exact = false;
	if (run->have_cg && !p->scope) {
		int64_t peak = read_cg_peak(run);
		if (run->ph.cg_resets && peak >= 0) {
			p->cgroup_bytes = peak; /* the kernel's, since this phase's reset */
			cg_exact = true;
		} else if (peak >= 0 && run->ph.peak_at_open >= 0 && peak > run->ph.peak_at_open) {
			p->cgroup_bytes = peak; /* a new record for the run, set in this phase */
			cg_exact = true;
		}
	}
	/* per figure: the cgroup's peak is the kernel's when reset (or a new
	 * record); max_process_hwm when every VmHWM was reset at the start and
	 * read at the end (no process left unread). exact: the figure the
	 * phase is judged on first -- the cgroup's with a cgroup -- is. */
	p->cgroup_exact = cg_exact;
	p->hwm_exact = run->ph.proc_resets && !p->lost;
	p->exact = run->have_cg && !p->scope ? cg_exact : p->hwm_exact;
}

/* Before a phase starts after a gap (no phase of its scope running), the
 * gap's per-process peaks go to the run's figure: the reset is about to
 * lower them. */
static void fold_gap(struct run *run, pid_t scope)
{
	bool lost = false;
	int64_t hwm = read_hwm(run, scope, &lost);
	if (run->r->max_process_hwm_bytes != MG_UNKNOWN && hwm > run->r->max_process_hwm_bytes)
		run->r->max_process_hwm_bytes = hwm;
}

void mg_phase_switch(struct run *run, const char *name)
{
	boundary(run);
	if (run->ph.open < 0 && name && run->ph.marked) /* after "end": what ran between keeps its peak */
		fold_gap(run, 0);
	close_phase(run, run->ph.open);
	run->ph.open = name ? open_phase(run, name, 0) : -1;
}

static void scoped_switch(struct run *run, pid_t pid, const char *name)
{
	boundary(run);
	bool running = false;
	for (int i = 0; i < run->ph.nscoped; i++)
		running = running || run->ph.scoped[i].pid == pid;
	if (!running && name)
		fold_gap(run, pid);
	for (int i = 0; i < run->ph.nscoped; i++)
		if (run->ph.scoped[i].pid == pid) {
			close_phase(run, run->ph.scoped[i].idx);
			run->ph.scoped[i] = run->ph.scoped[--run->ph.nscoped];
			break;
		}
	if (!name)
		return;
	if (run->ph.nscoped == (int)(sizeof run->ph.scoped / sizeof run->ph.scoped[0])) {
		mg_result_note(run->r, "more than 64 processes mark phases at once: phase \"%.80s\" not recorded", name);
		return;
	}
	long idx = open_phase(run, name, pid);
	if (idx >= 0) {
		run->ph.scoped[run->ph.nscoped].pid = pid;
		run->ph.scoped[run->ph.nscoped++].idx = idx;
	}
}

/* A phase that started and ended while memgate was not reading: it is
 * recorded, but nothing of it could be measured. */
static void record_missed(struct run *run, const struct mg_mark *m)
{
	struct mg_phase *p = new_phase(run, m->name, m->pid);
	if (!p)
		return;
	p->to_ms = p->from_ms;
	p->cgroup_bytes = p->tree_rss_bytes = p->max_process_hwm_bytes = p->cgroup_anon_bytes = MG_UNKNOWN;
	run->ph.missed++;
}

/* One boundary for a scope (0: the whole tree): the running phase ends, m
 * (if a phase) starts. late: more marks of this scope came in the same
 * read, so the one running ended before memgate saw it. */
static void apply(struct run *run, const struct mg_mark *m, bool late)
{
	/* a plain command's first whole-tree mark: what ran before it is
	 * "start", no longer the whole "run" (scoped marks leave it whole) */
	struct mg_phase *first = phase_at(run, 0);
	if (!m->pid && !run->ph.marked && !run->f->has_service && first && run->ph.open == 0)
		snprintf(first->name, sizeof first->name, "start");
	if (!m->pid)
		run->ph.marked = true;
	long running = m->pid ? -1 : run->ph.open;
	for (int i = 0; m->pid && i < run->ph.nscoped; i++)
		if (run->ph.scoped[i].pid == m->pid)
			running = run->ph.scoped[i].idx;
	struct mg_phase *p = phase_at(run, running);
	if (late && p)
		p->lost = true; /* its end is past: what is read now holds later phases too */
	if (m->pid)
		scoped_switch(run, m->pid, m->end ? NULL : m->name);
	else
		mg_phase_switch(run, m->end ? NULL : m->name);
	if (late && (p = phase_at(run, running))) /* the switch may have moved the list */
		p->exact = p->cgroup_exact = p->hwm_exact = false;
}

static void ignored(struct run *run, const char *line)
{
	if (run->ph.ignored++ == 0) {
		char shown[MG_PHASE_NAME_MAX + 1];
		mg_phase_name_clean(shown, line, strlen(line));
		mg_result_note(run->r, "a mark that is neither \"phase NAME\" nor \"end\" was ignored: \"%.60s\"", shown);
	}
}

/* A scoped mark names its process: one of the fixture's, or memgate would
 * read and reset (clear_refs) the counters of any process the sender may
 * name, as root any on the machine. The tree as it is now, not the
 * sampler's table: a slot outlives its process until the next listing,
 * and its pid may be another's by then. */
static bool of_fixture(struct run *run, pid_t pid)
{
	char err[256];
	mg_pidset_clear(&run->check);
	int rc = run->have_cg ? mg_cgroup_procs(&run->cg, &run->tree, &run->check, err, sizeof err)
			      : mg_list_descendants(&run->tree, getpid(), &run->check, err, sizeof err);
	return rc == 0 && mg_pidset_has(&run->check, pid) && !mg_pidset_has(&run->spare, pid);
}

/* Marks read together, in order. A scope with several marks in one read
 * is one memgate fell behind on: only its last mark is a real boundary
 * (counters read and reset now); the phases between are recorded as
 * missed, with no figures. */
static void take_marks(struct run *run, const struct mg_mark *marks, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (marks[i].pid && !of_fixture(run, marks[i].pid)) {
			mg_result_note(run->r, "a mark for pid %d was ignored: not a process of the fixture",
				       (int)marks[i].pid);
			continue;
		}
		bool later = false, earlier = false;
		for (size_t j = i + 1; j < k && !later; j++)
			later = marks[j].pid == marks[i].pid;
		for (size_t j = 0; j < i && !earlier; j++)
			earlier = marks[j].pid == marks[i].pid;
		if (!later) {
			apply(run, &marks[i], earlier);
		} else if (!earlier) {
			/* the first of several: the running phase ended unseen */
			struct mg_mark end = {.end = true, .pid = marks[i].pid};
			apply(run, &end, true);
			if (!marks[i].end)
				record_missed(run, &marks[i]);
		} else if (!marks[i].end) {
			record_missed(run, &marks[i]);
		}
	}
}

/* The complete lines of one read: marks, in order, BATCH_MAX at a time. */
#define BATCH_MAX 64
static void take_batch(struct run *run, char *text, size_t n)
{
	struct mg_mark marks[BATCH_MAX]; /* a longer batch is taken in parts: boundaries as they come */
	size_t k = 0;
	char *line = text;
	for (char *nl; (size_t)(line - text) < n && (nl = memchr(line, '\n', n - (size_t)(line - text))); line = nl + 1) {
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!*line)
			continue;
		if (mg_mark_parse(line, &marks[k]) < 0) {
			ignored(run, line);
			continue;
		}
		if (++k == BATCH_MAX) {
			take_marks(run, marks, k);
			k = 0;
		}
	}
	take_marks(run, marks, k);
}

void mg_phases_drain(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	/* the FIFO: what is there now, at most 64 KiB, so that a program
	 * marking without pause cannot keep memgate from sampling */
	char buf[sizeof ph->line + 65536];
	size_t have = ph->len;
	memcpy(buf, ph->line, have);
	ssize_t n;
	while (ph->rfd >= 0 && have < sizeof buf - 1 &&
	       (n = read(ph->rfd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)n;
	char *last = memrchr(buf, '\n', have);
	size_t whole = last ? (size_t)(last - buf) + 1 : 0;
	/* an unfinished line waits for its end; one longer than a mark can be is dropped */
	ph->len = have - whole <= sizeof ph->line - 1 ? have - whole : 0;
	memcpy(ph->line, buf + whole, ph->len);
	if (whole)
		take_batch(run, buf, whole);

	/* the sync socket: one datagram, one boundary, answered once done (the
	 * writer waits for it, so these are never behind) */
	struct sockaddr_un from;
	socklen_t flen;
	for (int i = 0; ph->sfd >= 0 && i < 64; i++) {
		flen = sizeof from;
		n = recvfrom(ph->sfd, buf, sizeof ph->line, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			break;
		buf[n] = '\n';
		take_batch(run, buf, (size_t)n + 1);
		/* the sender may have given up waiting: nothing to do then */
		if (flen > sizeof(sa_family_t))
			(void)sendto(ph->sfd, "ok\n", 3, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&from, flen);
	}
}

int mg_phases_fd(const struct run *run, int which)
{
	return which ? run->ph.sfd : run->ph.rfd;
}

int mg_phases_prepare(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	ph->rfd = ph->wfd = ph->sfd = ph->peak_fd = -1;
	ph->open = -1;
	ph->peak_now = -1;
	ph->cg_resets = ph->proc_resets = true;
	run->mark_env[0][0] = run->mark_env[1][0] = '\0';
	char err[PATH_MAX + 128];
	/* 0700, and under sudo the invoking user's (the fixture writes to it);
	 * the watchdog removes it should memgate be killed */
	if (mg_tmpdir_make(&ph->dir, "memgate-mark", err, sizeof err) < 0) {
		mg_run_error(run->r, "phase marks: %s", err);
		return -1;
	}
	snprintf(ph->path, sizeof ph->path, "%s/mark", ph->dir.path);
	if (mkfifoat(ph->dir.fd, "mark", 0600) < 0 ||
	    (ph->rfd = openat(ph->dir.fd, "mark", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    (ph->wfd = openat(ph->dir.fd, "mark", O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		mg_run_error(run->r, "cannot make the phase mark FIFO %s: " MG_ERRNO_FMT, ph->path, MG_ERRNO(errno));
		return -1;
	}
	/* room for a burst of marks while memgate is busy: a full FIFO would
	 * block the program's write (1 MiB is what a user may ask for; less
	 * is still a working FIFO) */
	(void)fcntl(ph->wfd, F_SETPIPE_SZ, 1 << 20);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sync", ph->dir.path);
	if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
		/* a TMPDIR too long for a socket path: FIFO marks still work */
		mg_result_note(run->r, "no MEMGATE_MARK_SYNC: the path %s/sync is too long for a unix socket", ph->dir.path);
	} else if ((ph->sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
		   bind(ph->sfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		mg_run_error(run->r, "cannot make the phase mark socket %s: " MG_ERRNO_FMT, sa.sun_path,
			     MG_ERRNO(errno));
		return -1;
	} else {
		snprintf(ph->spath, sizeof ph->spath, "%s", sa.sun_path);
		snprintf(run->mark_env[1], sizeof run->mark_env[1], "MEMGATE_MARK_SYNC=%s", ph->spath);
	}
	if (run->have_cg) {
		/* the cgroup's peak, kept open: read and reset at every boundary */
		char path[PATH_MAX + 32];
		bool v1 = run->cg.kind == MG_METHOD_CGROUP_V1;
		snprintf(path, sizeof path, "%s/%s", run->cg.path, v1 ? "memory.max_usage_in_bytes" : "memory.peak");
		mg_fs_root_begin();
		ph->peak_fd = open(path, O_RDWR | O_CLOEXEC);
		ph->peak_writable = ph->peak_fd >= 0;
		if (ph->peak_fd < 0) /* v2 before 6.12: read-only; before 5.19: absent */
			ph->peak_fd = open(path, O_RDONLY | O_CLOEXEC);
		mg_fs_root_end();
		if (!ph->peak_writable)
			ph->cg_resets = false;
	}
	snprintf(run->mark_env[0], sizeof run->mark_env[0], "MEMGATE_MARK=%s", ph->path);
	return 0;
}

void mg_phases_begin(struct run *run)
{
	mg_phase_switch(run, run->f->has_service ? "startup" : "run");
}

void mg_phases_tick(struct run *run, int64_t tree_rss, int64_t usage, int64_t anon)
{
	run->ph.usage = usage;
	run->ph.anon = anon;
	struct mg_phase *open[65];
	int n = 0;
	if (run->ph.open >= 0)
		open[n++] = phase_at(run, run->ph.open);
	for (int i = 0; i < run->ph.nscoped; i++)
		open[n++] = phase_at(run, run->ph.scoped[i].idx);
	for (int i = 0; i < n; i++) {
		struct mg_phase *p = open[i];
		if (!p)
			continue;
		if (!p->scope && tree_rss > p->tree_rss_bytes)
			p->tree_rss_bytes = tree_rss;
		if (anon >= 0 && anon > p->cgroup_anon_bytes)
			p->cgroup_anon_bytes = anon;
		/* the sampled cgroup figure, until (and unless) the kernel's is read */
		if (usage >= 0 && usage > p->cgroup_bytes)
			p->cgroup_bytes = usage;
	}
}

/* Is pid (parent ppid, 0 if not known) the scope or below it, by the
 * parents the sampler read? unknown: the answer when the chain cannot be
 * followed. */
static bool in_scope(const struct run *run, pid_t pid, pid_t ppid, pid_t scope, bool unknown)
{
	if (pid == scope)
		return true;
	if (!ppid)
		ppid = mg_sampler_parent(run, pid);
	for (int depth = 0; depth < 32; depth++) {
		if (ppid == scope)
			return true;
		if (ppid == 0)
			return unknown;
		if (ppid == 1 || ppid == getpid())
			return false; /* the top, and no scope on the way */
		ppid = mg_sampler_parent(run, ppid);
	}
	return unknown;
}

/* The whole-tree phase, and the scoped ones this process belongs to
 * (the scope itself or below it: a test's subprocesses). */
static void each_open(struct run *run, pid_t pid, pid_t ppid, void (*fn)(struct mg_phase *, int64_t), int64_t v)
{
	struct mg_phase *p = phase_at(run, run->ph.open);
	if (p)
		fn(p, v);
	for (int i = 0; i < run->ph.nscoped; i++)
		if (in_scope(run, pid, ppid, run->ph.scoped[i].pid, false))
			if ((p = phase_at(run, run->ph.scoped[i].idx)))
				fn(p, v);
}

static void raise_phase_hwm(struct mg_phase *p, int64_t hwm)
{
	if (hwm > p->max_process_hwm_bytes)
		p->max_process_hwm_bytes = hwm;
}

static void set_lost(struct mg_phase *p, int64_t unused)
{
	(void)unused;
	p->lost = true;
}

void mg_phases_hwm(struct run *run, pid_t pid, pid_t ppid, int64_t hwm)
{
	each_open(run, pid, ppid, raise_phase_hwm, hwm);
}

void mg_phases_left(struct run *run, pid_t pid, pid_t ppid)
{
	/* a zombie memgate reaps itself: its ru_maxrss arrives then */
	struct mg_proc_status st;
	char err[256];
	if (mg_read_status(pid, &st, err, sizeof err) == 0 && st.ppid == getpid())
		return;
	struct mg_phase *p = phase_at(run, run->ph.open);
	if (p)
		p->lost = true;
	/* a scoped phase lost it only if it was in the scope */
	for (int i = 0; i < run->ph.nscoped; i++)
		if (in_scope(run, pid, ppid, run->ph.scoped[i].pid, true))
			if ((p = phase_at(run, run->ph.scoped[i].idx)))
				set_lost(p, 0);
}

void mg_phases_reaped(struct run *run, pid_t pid, int64_t maxrss, bool own)
{
	/* its hiwater was reset with the phase: what wait4 says is since then,
	 * but a parent's also holds its children's, from any phase */
	if (own)
		each_open(run, pid, 0, raise_phase_hwm, maxrss);
	else
		each_open(run, pid, 0, set_lost, 0);
}

void mg_phases_finish(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	mg_phases_drain(run);
	while (ph->nscoped)
		scoped_switch(run, ph->scoped[0].pid, NULL);
	mg_phase_switch(run, NULL);
	if (ph->missed)
		mg_result_note(run->r,
			       "%ld phases were marked faster than memgate read the FIFO: they are listed without "
			       "figures; marks through MEMGATE_MARK_SYNC (memgate_mark, memgate mark) are never missed",
			       ph->missed);
	if (ph->ignored > 1)
		mg_result_note(run->r, "%ld marks in all were ignored (neither \"phase NAME\" nor \"end\")", ph->ignored);
	/* v1's resets moved the whole run's peak into the phases' reads */
	if (run->have_cg && run->cg.kind == MG_METHOD_CGROUP_V1 && run->r->cgroup_bytes != MG_UNKNOWN &&
	    ph->cg_max_before_resets > run->r->cgroup_bytes)
		run->r->cgroup_bytes = ph->cg_max_before_resets;
	/* and every reset lowered what wait4 reports later: the run's
	 * figures are the largest of its phases' too */
	for (size_t i = 0; i < run->r->nphases; i++) {
		const struct mg_phase *p = &run->r->phases[i];
		if (p->cgroup_bytes > run->r->cgroup_bytes && run->r->cgroup_bytes != MG_UNKNOWN &&
		    run->cg.kind == MG_METHOD_CGROUP_V1)
			run->r->cgroup_bytes = p->cgroup_bytes;
		if (p->max_process_hwm_bytes > run->r->max_process_hwm_bytes &&
		    run->r->max_process_hwm_bytes != MG_UNKNOWN)
			run->r->max_process_hwm_bytes = p->max_process_hwm_bytes;
	}
	mg_pidset_free(&ph->scratch);
	if (ph->rfd >= 0)
		close(ph->rfd);
	if (ph->wfd >= 0)
		close(ph->wfd);
	if (ph->peak_fd >= 0)
		close(ph->peak_fd);
	if (ph->sfd >= 0)
		close(ph->sfd);
	for (int i = 0; i < ph->nfds; i++) {
		close(ph->fds[i].status);
		close(ph->fds[i].clear);
	}
	ph->nfds = 0;
	ph->rfd = ph->wfd = ph->sfd = ph->peak_fd = -1;
	mg_tmpdir_remove(&ph->dir);
}
