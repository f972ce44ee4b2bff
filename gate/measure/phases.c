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
#include "measure/run.h"

/* ---- resets and reads -------------------------------------------------------- */

/* VmHWM back to the current RSS: 0, or -1 (not allowed, or no such file). */
static int clear_hwm(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1; /* gone: nothing to reset */
	ssize_t w = write(fd, "5", 1);
	close(fd);
	return w == 1 || errno == ESRCH ? 0 : -1;
}

/* The processes a phase covers now: the whole tree, or pid's subtree.
 * With a cgroup its member list is cheap and complete; without one the
 * sampler's live list stands in (a scan of /proc per mark would cost a
 * busy program's marks too much). */
static void scope_pids(struct run *run, pid_t scope, struct mg_pidset *out)
{
	char err[256];
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
		if (clear_hwm(run->ph.scratch.v[i]) < 0)
			run->ph.proc_resets = false;
}

/* The largest VmHWM in the scope now; *lost when a process the sampler
 * knew has exited unread (a zombie memgate reaps is not lost: wait4
 * reports its peak). */
static int64_t read_hwm(struct run *run, pid_t scope, bool *lost)
{
	int64_t max = 0;
	char err[256];
	scope_pids(run, scope, &run->ph.scratch);
	for (size_t i = 0; i < run->ph.scratch.n; i++) {
		struct mg_proc_status st;
		int rc = mg_read_status(run->ph.scratch.v[i], &st, err, sizeof err);
		if (rc == 0 && st.has_vm) {
			if (st.hwm_bytes > max)
				max = st.hwm_bytes;
		} else if (rc != 0 || st.ppid != getpid()) {
			*lost = true;
		}
	}
	return max;
}

/* memory.max_usage_in_bytes (v1) or memory.peak (v2): since the last reset
 * where resets work, else the whole run's. -1 if unreadable. */
static int64_t read_cg_peak(struct run *run)
{
	char err[256];
	int64_t v = -1;
	if (!run->have_cg)
		return -1;
	if (run->cg.kind == MG_METHOD_CGROUP_V1) {
		if (mg_cg_read_bytes(&run->cg, "memory.max_usage_in_bytes", &v, err, sizeof err) != 0)
			return -1;
	} else {
		char buf[64];
		ssize_t n = run->ph.peak_fd < 0 ? -1 : mg_pread_all(run->ph.peak_fd, buf, sizeof buf - 1);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		char *end;
		long long x = strtoll(buf, &end, 10);
		v = end != buf && x >= 0 ? x : -1;
	}
	return v;
}

/* The cgroup's peak back to its current usage, where the kernel allows. */
static void reset_cg_peak(struct run *run)
{
	if (!run->have_cg || !run->ph.cg_resets)
		return;
	int64_t before = read_cg_peak(run);
	if (before > run->ph.cg_max_before_resets)
		run->ph.cg_max_before_resets = before;
	bool ok;
	if (run->cg.kind == MG_METHOD_CGROUP_V1) {
		mg_fs_root_begin();
		ok = mg_cg_write(&run->cg, "memory.max_usage_in_bytes", "0") == 0;
		mg_fs_root_end();
	} else {
		/* Linux 6.12+: a write to an open memory.peak resets what that
		 * descriptor reports; before, the write is refused */
		ok = run->ph.peak_writable && pwrite(run->ph.peak_fd, "reset\n", 6, 0) == 6;
	}
	if (!ok)
		run->ph.cg_resets = false;
}

/* The length of the valid UTF-8 character at s (n bytes left), or 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	unsigned lo = 0x80, hi = 0xBF; /* the second byte: no overlong forms, no surrogates */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* A name as the report can hold it: valid UTF-8 ('?' for a bad byte), no
 * control characters, cut on a character to MG_PHASE_NAME_MAX bytes. */
static void clean_name(char *dst, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_char(s + i, n - i);
		if (o + (len ? len : 1) > MG_PHASE_NAME_MAX)
			break;
		if (!len) {
			dst[o++] = '?';
			i++;
		} else if (len == 1) {
			dst[o++] = s[i] < 0x20 || s[i] == 0x7F ? ' ' : (char)s[i];
			i++;
		} else {
			memcpy(dst + o, s + i, len);
			o += len;
			i += len;
		}
	}
	dst[o] = '\0';
}

/* ---- phases ------------------------------------------------------------------ */

static struct mg_phase *phase_at(struct run *run, long idx)
{
	return idx >= 0 && (size_t)idx < run->r->nphases ? &run->r->phases[idx] : NULL;
}

/* A new phase in the result, its counters just reset. Its index, or -1. */
static long open_phase(struct run *run, const char *name, pid_t scope)
{
	struct mg_result *r = run->r;
	if (r->nphases >= MG_MAX_PHASES) {
		if (!run->ph.capped)
			mg_result_note(r, "more than %d phases: the later ones are not recorded", MG_MAX_PHASES);
		run->ph.capped = true;
		return -1;
	}
	if ((r->nphases & (r->nphases - 1)) == 0) { /* grow at powers of two */
		struct mg_phase *v = realloc(r->phases, (r->nphases ? r->nphases * 2 : 4) * sizeof *v);
		if (!v) {
			mg_run_error(r, "out of memory for the phases");
			return -1;
		}
		r->phases = v;
	}
	if (!scope) {
		reset_cg_peak(run);
		/* without resets the run's peak still says when a phase set a new
		 * record: that phase's peak is then the kernel's */
		run->ph.peak_at_open = run->ph.cg_resets ? -1 : read_cg_peak(run);
	}
	reset_hwm(run, scope);
	struct mg_phase *p = &r->phases[r->nphases];
	memset(p, 0, sizeof *p);
	clean_name(p->name, name);
	p->from_ms = mg_run_now_ms() - run->t0;
	p->to_ms = -1;
	p->scope = scope;
	p->tree_rss_bytes = scope ? MG_UNKNOWN : run->smp.sum_rss;
	p->cgroup_bytes = run->have_cg ? run->ph.usage : MG_UNKNOWN;
	p->cgroup_anon_bytes = run->have_cg ? 0 : MG_UNKNOWN;
	p->exact = true;
	return (long)r->nphases++;
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
	/* exact: the figure the phase is judged on first is the kernel's --
	 * the cgroup's peak with a cgroup; without one, every process's VmHWM
	 * (reset at the start, and no process left unread) */
	if (run->have_cg)
		p->exact = cg_exact;
	else
		p->exact = run->ph.proc_resets && !p->lost;
}

void mg_phase_switch(struct run *run, const char *name)
{
	close_phase(run, run->ph.open);
	run->ph.open = name ? open_phase(run, name, 0) : -1;
}

static void scoped_switch(struct run *run, pid_t pid, const char *name)
{
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

/* "phase NAME [pid=N]" or "end [pid=N]"; anything else is ignored (a mark
 * must never fail the program), once noted. */
static void mark(struct run *run, char *line)
{
	pid_t pid = 0;
	char *at = strstr(line, " pid=");
	if (at) {
		char *end;
		long v = strtol(at + 5, &end, 10);
		if (*end == '\0' && v > 1 && v <= 4194304) {
			pid = (pid_t)v;
			*at = '\0';
		}
	}
	const char *name = NULL;
	if (strncmp(line, "phase ", 6) == 0 && line[6])
		name = line + 6;
	else if (strcmp(line, "end") != 0) {
		if (run->ph.ignored++ == 0) {
			char shown[MG_PHASE_NAME_MAX + 1];
			clean_name(shown, line);
			mg_result_note(run->r, "a mark that is neither \"phase NAME\" nor \"end\" was ignored: \"%.60s\"",
				       shown);
		}
		return;
	}
	/* a plain command's first whole-tree mark: what ran before it is
	 * "start", no longer the whole "run" (scoped marks leave it whole) */
	struct mg_phase *first = phase_at(run, 0);
	if (!pid && !run->ph.marked && !run->f->has_service && first && run->ph.open == 0)
		snprintf(first->name, sizeof first->name, "start");
	if (!pid)
		run->ph.marked = true;
	if (pid)
		scoped_switch(run, pid, name);
	else
		mg_phase_switch(run, name);
}

/* Lines in buf, split at newlines; a line left unfinished waits for more. */
static void take_lines(struct run *run, const char *buf, size_t n)
{
	struct mg_phases_state *ph = &run->ph;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			ph->line[ph->len] = '\0';
			if (ph->len)
				mark(run, ph->line);
			ph->len = 0;
		} else if (ph->len < sizeof ph->line - 1) {
			ph->line[ph->len++] = buf[i] == '\r' ? ' ' : buf[i];
		}
	}
}

void mg_phases_drain(struct run *run)
{
	struct mg_phases_state *ph = &run->ph;
	char buf[4096];
	ssize_t n;
	while (ph->rfd >= 0 && (n = read(ph->rfd, buf, sizeof buf)) > 0)
		take_lines(run, buf, (size_t)n);
	/* the sync socket: one datagram, one mark (a partial FIFO line is not
	 * its business), answered once its boundary is done */
	struct sockaddr_un from;
	socklen_t flen;
	while (ph->sfd >= 0) {
		flen = sizeof from;
		n = recvfrom(ph->sfd, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			break;
		size_t keep = ph->len;
		char saved[sizeof ph->line];
		memcpy(saved, ph->line, keep);
		ph->len = 0;
		take_lines(run, buf, (size_t)n);
		if (n > 0 && buf[n - 1] != '\n')
			take_lines(run, "\n", 1);
		memcpy(ph->line, saved, keep);
		ph->len = keep;
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
	ph->cg_resets = ph->proc_resets = true;
	run->mark_env[0][0] = run->mark_env[1][0] = '\0';
	const char *tmp = getenv("TMPDIR");
	snprintf(ph->dir, sizeof ph->dir, "%s/memgate-mark-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	/* 0700, and under sudo the invoking user's (the fixture writes to it) */
	if (!mkdtemp(ph->dir)) {
		mg_run_error(run->r, "cannot create a temp dir for the phase marks in %s: " MG_ERRNO_FMT,
			     tmp && *tmp ? tmp : "/tmp", MG_ERRNO(errno));
		ph->dir[0] = '\0';
		return -1;
	}
	snprintf(ph->path, sizeof ph->path, "%s/mark", ph->dir);
	if (mkfifo(ph->path, 0600) < 0 || (ph->rfd = open(ph->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    (ph->wfd = open(ph->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		mg_run_error(run->r, "cannot make the phase mark FIFO %s: " MG_ERRNO_FMT, ph->path, MG_ERRNO(errno));
		return -1;
	}
	/* room for a burst of marks while memgate is busy: a full FIFO would
	 * block the program's write (1 MiB is what a user may ask for; less
	 * is still a working FIFO) */
	(void)fcntl(ph->wfd, F_SETPIPE_SZ, 1 << 20);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sync", ph->dir);
	if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
		/* a TMPDIR too long for a socket path: FIFO marks still work */
		mg_result_note(run->r, "no MEMGATE_MARK_SYNC: the path %s/sync is too long for a unix socket", ph->dir);
	} else if ((ph->sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
		   bind(ph->sfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		mg_run_error(run->r, "cannot make the phase mark socket %s: " MG_ERRNO_FMT, sa.sun_path,
			     MG_ERRNO(errno));
		return -1;
	} else {
		snprintf(ph->spath, sizeof ph->spath, "%s", sa.sun_path);
		snprintf(run->mark_env[1], sizeof run->mark_env[1], "MEMGATE_MARK_SYNC=%s", ph->spath);
	}
	if (run->have_cg && run->cg.kind == MG_METHOD_CGROUP_V2) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/memory.peak", run->cg.path);
		mg_fs_root_begin();
		ph->peak_fd = open(path, O_RDWR | O_CLOEXEC);
		ph->peak_writable = ph->peak_fd >= 0;
		if (ph->peak_fd < 0) /* before 6.12 it is read-only; before 5.19 absent */
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

/* The whole-tree phase, and the scoped ones this process belongs to
 * (the scope itself or a direct child: a test's subprocess). */
static void each_open(struct run *run, pid_t pid, pid_t ppid, void (*fn)(struct mg_phase *, int64_t), int64_t v)
{
	struct mg_phase *p = phase_at(run, run->ph.open);
	if (p)
		fn(p, v);
	for (int i = 0; i < run->ph.nscoped; i++)
		if (pid == run->ph.scoped[i].pid || (ppid > 0 && ppid == run->ph.scoped[i].pid))
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

void mg_phases_left(struct run *run, pid_t pid)
{
	/* a zombie memgate reaps itself: its ru_maxrss arrives then */
	struct mg_proc_status st;
	char err[256];
	if (mg_read_status(pid, &st, err, sizeof err) == 0 && st.ppid == getpid())
		return;
	struct mg_phase *p = phase_at(run, run->ph.open);
	if (p)
		p->lost = true;
	for (int i = 0; i < run->ph.nscoped; i++)
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
	ph->rfd = ph->wfd = ph->sfd = ph->peak_fd = -1;
	if (ph->dir[0]) {
		unlink(ph->path);
		if (ph->spath[0])
			unlink(ph->spath);
		rmdir(ph->dir);
		ph->dir[0] = '\0';
	}
}
