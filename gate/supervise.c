#include "supervise.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "procfs.h"
#include "units.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define TEARDOWN_MS 5000   /* how long a tree may take to die after SIGKILL */
#define TRACKED_MAX 1024   /* processes remembered for per-process figures */
#define FULL_EVERY 8       /* every 8th sample reads status (HWM) for every process */

/* What the child reports through a close-on-exec pipe when it cannot exec. */
enum child_stage { STAGE_HOLD = 1, STAGE_IDENTITY, STAGE_STDIN, STAGE_CWD, STAGE_ENV, STAGE_EXEC };
struct child_failure {
	int stage;
	int err;
};

/* Everything one fixture run needs, in one place. */
struct run {
	struct mg_supervisor *sv;
	const struct mg_fixture *f;
	struct mg_result *r;
	struct mg_cgroup cg;
	bool have_cg;
	pid_t main_pid;
	bool main_done;
	int64_t t0;
	struct mg_pidset pids;          /* scratch for each sample */
	struct mg_proc_figure *tracked; /* per-process figures */
	size_t ntracked;
	int live;                       /* live processes in the last sample */
	long page_size;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void set_error(struct mg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct mg_result *r, const char *fmt, ...)
{
	if (r->error[0])
		return; /* the first error is the cause; later ones follow from it */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
}

int mg_supervisor_init(struct mg_supervisor *sv, char *err, size_t len)
{
	memset(sv, 0, sizeof *sv);
	sigemptyset(&sv->waited);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&sv->waited, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &sv->waited, &sv->child_mask) < 0) {
		snprintf(err, len, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	if (mg_identity_from_env(&sv->run_as, err, len) < 0)
		return -1;
	/* Orphans of the fixture (double-forked daemons) are re-parented to us,
	 * so they stay measurable, killable and reapable (ru_maxrss). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		snprintf(err, len, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
		return -1;
	}
	return 0;
}

void mg_supervisor_done(struct mg_supervisor *sv)
{
	sigprocmask(SIG_SETMASK, &sv->child_mask, NULL);
}

/* ---- backend choice ---------------------------------------------------- */

static void append_reason(char *dst, size_t len, const char *why)
{
	size_t used = strlen(dst);
	snprintf(dst + used, len - used, "%s%s", used ? "; " : "", why);
}

/* Pick the backend: forced by config, or v2 -> v1 -> proc. A forced cgroup
 * that cannot be had is an error, never a silent downgrade. */
static void choose_backend(struct run *run)
{
	struct mg_result *r = run->r;
	enum mg_method want = run->f->measurement;
	char why[512];
	if (want == MG_METHOD_PROC) {
		r->method = MG_METHOD_PROC;
		return;
	}
	enum mg_method order[2] = {MG_METHOD_CGROUP_V2, MG_METHOD_CGROUP_V1};
	const char *root = run->sv->cgroup_root;
	int root_kind = root ? mg_cgroup_kind_of(root) : -1;
	for (int i = 0; i < 2; i++) {
		enum mg_method k = order[i];
		if (want != MG_METHOD_AUTO && want != k)
			continue;
		/* A named root belongs to one hierarchy; don't try it as the other. */
		if (root && want == MG_METHOD_AUTO && root_kind >= 0 && root_kind != (int)k)
			continue;
		if (mg_cgroup_create(k, root, &run->cg, why, sizeof why) == 0) {
			run->have_cg = true;
			r->method = k;
			return;
		}
		append_reason(r->fallback_reason, sizeof r->fallback_reason, why);
	}
	if (want != MG_METHOD_AUTO) {
		set_error(r, "measurement \"%s\" is required by the config but unavailable: %s",
			  mg_method_name(want), r->fallback_reason);
		r->method = want;
		return;
	}
	r->method = MG_METHOD_PROC;
}

/* ---- spawning ---------------------------------------------------------- */

struct mg_clone_args { /* struct clone_args of <linux/sched.h>, CLONE_ARGS_SIZE_VER2 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Start the child already inside the cgroup: no early allocation escapes. */
static pid_t clone_into_cgroup(int cgfd)
{
#ifdef SYS_clone3
	struct mg_clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_INTO_CGROUP;
	a.exit_signal = SIGCHLD;
	a.cgroup = (uint64_t)cgfd;
	return (pid_t)syscall(SYS_clone3, &a, sizeof a);
#else
	(void)cgfd;
	errno = ENOSYS;
	return -1;
#endif
}

static void child_fail(int fd, int stage, int err)
{
	struct child_failure cf = {stage, err};
	ssize_t w = write(fd, &cf, sizeof cf);
	(void)w; /* nothing more a failing child can do */
	_exit(127);
}

/* In the child, between fork and exec: wait until the parent has placed us
 * in the cgroup, then set up stdin, cwd and env, and exec. */
static void child_main(struct run *run, int hold_fd, int status_fd)
{
	const struct mg_fixture *f = run->f;
	sigprocmask(SIG_SETMASK, &run->sv->child_mask, NULL);
	char go;
	ssize_t n;
	do
		n = read(hold_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		child_fail(status_fd, STAGE_HOLD, n < 0 ? errno : EPIPE);
	close(hold_fd);
	/* Drop root first: stdin and cwd are then opened as the user would. */
	if (mg_identity_apply(&run->sv->run_as) < 0)
		child_fail(status_fd, STAGE_IDENTITY, errno);
	if (f->stdin_mode != MG_STDIN_INHERIT) {
		const char *in = f->stdin_mode == MG_STDIN_FILE ? f->stdin_path : "/dev/null";
		int fd = open(in, O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			child_fail(status_fd, STAGE_STDIN, errno);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if (f->cwd && chdir(f->cwd) < 0)
		child_fail(status_fd, STAGE_CWD, errno);
	for (size_t i = 0; i < f->envc; i++)
		if (putenv(f->env[i]) != 0) /* the fixture outlives the child's exec */
			child_fail(status_fd, STAGE_ENV, errno);
	execvp(f->argv[0], f->argv);
	child_fail(status_fd, STAGE_EXEC, errno);
}

static void describe_child_failure(struct run *run, struct child_failure cf)
{
	const struct mg_fixture *f = run->f;
	switch (cf.stage) {
	case STAGE_EXEC:
		if (cf.err == ENOENT)
			set_error(run->r, "cannot execute \"%s\": command not found (check the command and PATH)",
				  f->argv[0]);
		else if (cf.err == EACCES)
			set_error(run->r, "cannot execute \"%s\": permission denied (is it executable?)", f->argv[0]);
		else
			set_error(run->r, "cannot execute \"%s\": %s", f->argv[0], strerror(cf.err));
		break;
	case STAGE_IDENTITY:
		set_error(run->r, "cannot switch to uid %d (from SUDO_UID): %s", (int)run->sv->run_as.uid,
			  strerror(cf.err));
		break;
	case STAGE_CWD:
		set_error(run->r, "cannot change to cwd \"%s\": %s", f->cwd, strerror(cf.err));
		break;
	case STAGE_STDIN:
		set_error(run->r, "cannot open stdin \"%s\": %s",
			  f->stdin_mode == MG_STDIN_FILE ? f->stdin_path : "/dev/null", strerror(cf.err));
		break;
	default:
		set_error(run->r, "child setup failed (stage %d): %s", cf.stage, strerror(cf.err));
	}
}

/* Fork (or clone3 into the cgroup), place the child, let it exec, and learn
 * whether exec worked. Returns 0 when the command is running. */
static int spawn(struct run *run)
{
	int hold[2], status[2];
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
		set_error(run->r, "pipe: %s", strerror(errno));
		return -1;
	}
	bool in_cgroup = false;
	pid_t pid = -1;
	if (run->have_cg && run->cg.kind == MG_METHOD_CGROUP_V2) {
		pid = clone_into_cgroup(run->cg.dirfd);
		in_cgroup = pid >= 0;
	}
	if (pid < 0)
		pid = fork();
	if (pid == 0) {
		close(hold[1]);
		close(status[0]);
		child_main(run, hold[0], status[1]);
	}
	int fork_errno = errno;
	close(hold[0]);
	close(status[1]);
	if (pid < 0) {
		close(hold[1]);
		close(status[0]);
		set_error(run->r, "fork: %s", strerror(fork_errno));
		return -1;
	}
	run->main_pid = pid;
	char why[512];
	if (run->have_cg && !in_cgroup && mg_cgroup_attach(&run->cg, pid, why, sizeof why) < 0) {
		set_error(run->r, "%s", why);
		close(hold[1]); /* the child sees EOF and exits without exec */
		close(status[0]);
		return -1;
	}
	ssize_t n;
	do
		n = write(hold[1], "g", 1);
	while (n < 0 && errno == EINTR);
	close(hold[1]);
	struct child_failure cf;
	do
		n = read(status[0], &cf, sizeof cf);
	while (n < 0 && errno == EINTR);
	close(status[0]);
	if (n == (ssize_t)sizeof cf) {
		describe_child_failure(run, cf);
		return -1;
	}
	if (n != 0) {
		set_error(run->r, "cannot learn whether the command started: %s", n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	run->r->started = true;
	run->t0 = now_ms(); /* the series starts at exec */
	return 0;
}

/* ---- measuring --------------------------------------------------------- */

static struct mg_proc_figure *find_tracked(struct run *run, pid_t pid)
{
	for (size_t i = 0; i < run->ntracked; i++)
		if (run->tracked[i].pid == pid)
			return &run->tracked[i];
	return NULL;
}

static struct mg_proc_figure *track(struct run *run, pid_t pid)
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
	return p;
}

static void raise_hwm(struct run *run, int64_t hwm)
{
	if (hwm > run->r->max_process_hwm_bytes)
		run->r->max_process_hwm_bytes = hwm;
}

static int list_tree(struct run *run, struct mg_pidset *out, char *err, size_t len)
{
	if (run->have_cg)
		return mg_cgroup_procs(&run->cg, out, err, len);
	return mg_list_descendants(getpid(), out, err, len);
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
				set_error(run->r, "%s", err);
			return rc;
		}
		if (!st.has_vm)
			return 1; /* zombie, or inside exit() */
		p = track(run, pid);
		snprintf(p->name, sizeof p->name, "%s", st.name);
		if (st.hwm_bytes > p->hwm_bytes)
			p->hwm_bytes = st.hwm_bytes;
		raise_hwm(run, st.hwm_bytes);
		*rss = st.rss_bytes;
	} else {
		int rc = mg_read_statm_rss(pid, run->page_size, rss, err, sizeof err);
		if (rc != 0) {
			if (rc < 0)
				set_error(run->r, "%s", err);
			return rc;
		}
		if (*rss == 0)
			return 1; /* zombie or exiting */
	}
	if (*rss > p->rss_peak_bytes)
		p->rss_peak_bytes = *rss;
	return 0;
}

/* One sample: every live process of the tree, summed. */
static int sample(struct run *run, bool full)
{
	struct mg_result *r = run->r;
	char err[512];
	if (list_tree(run, &run->pids, err, sizeof err) < 0) {
		set_error(r, "%s", err);
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
				set_error(r, "%s", err);
				return -1;
			}
			pss += rc == 0 ? one : 0;
		}
	}
	run->live = live;
	if (rss > r->tree_rss_bytes)
		r->tree_rss_bytes = rss;
	if (run->f->pss && pss > r->tree_pss_bytes)
		r->tree_pss_bytes = pss;
	r->samples++;
	if (mg_series_push(&r->series, now_ms() - run->t0, rss) < 0) {
		set_error(r, "out of memory for the time series");
		return -1;
	}
	return 0;
}

/* Reap every child that has exited; ru_maxrss is each one's high-water mark
 * (including the descendants it waited for) even if no sample saw it. */
static void reap(struct run *run)
{
	int status;
	struct rusage ru;
	pid_t pid;
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		int64_t hwm = (int64_t)ru.ru_maxrss * 1024;
		raise_hwm(run, hwm);
		struct mg_proc_figure *p = track(run, pid);
		if (hwm > p->hwm_bytes)
			p->hwm_bytes = hwm;
		if (pid != run->main_pid)
			continue;
		run->main_done = true;
		run->r->wall_ms = run->r->started ? now_ms() - run->t0 : 0;
		if (WIFEXITED(status)) {
			run->r->exited = true;
			run->r->exit_code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			run->r->signal = WTERMSIG(status);
		}
	}
}

static int kill_tree_once(struct run *run, char *err, size_t len)
{
	if (run->have_cg)
		return mg_cgroup_kill(&run->cg, err, len);
	if (mg_list_descendants(getpid(), &run->pids, err, len) < 0)
		return -1;
	for (size_t i = 0; i < run->pids.n; i++)
		kill(run->pids.v[i], SIGKILL); /* ESRCH: already gone, fine */
	return 0;
}

/* Kill until nothing of the fixture is left, reaping as we go. */
static void teardown(struct run *run)
{
	char err[512];
	int64_t until = now_ms() + TEARDOWN_MS;
	for (;;) {
		reap(run);
		if (list_tree(run, &run->pids, err, sizeof err) < 0) {
			set_error(run->r, "teardown: %s", err);
			break;
		}
		if (run->pids.n == 0 && (run->main_pid <= 0 || run->main_done))
			break;
		if (now_ms() > until) {
			set_error(run->r, "teardown: %zu process(es) still alive %d ms after SIGKILL (first: pid %d)",
				  run->pids.n, TEARDOWN_MS, run->pids.n ? (int)run->pids.v[0] : (int)run->main_pid);
			break;
		}
		if (kill_tree_once(run, err, sizeof err) < 0) {
			set_error(run->r, "teardown: %s", err);
			break;
		}
		sleep_ms(1);
	}
}

static void read_cgroup_figures(struct run *run)
{
	char err[512];
	struct mg_result *r = run->r;
	int rc = mg_cgroup_peak(&run->cg, &r->cgroup_bytes, err, sizeof err);
	if (rc < 0)
		set_error(r, "%s", err);
	else if (rc == 1)
		mg_result_note(r, "the kernel has no memory.peak (Linux < 5.19): cgroup peak unavailable");
	rc = mg_cgroup_oom_kills(&run->cg, &r->oom_kills, err, sizeof err);
	if (rc < 0)
		set_error(r, "%s", err);
	else if (rc == 1)
		mg_result_note(r, "the kernel does not count OOM kills in this cgroup");
	if (r->oom_kills > 0)
		r->oom_killed = true;
}

static int cmp_hwm_desc(const void *a, const void *b)
{
	const struct mg_proc_figure *x = a, *y = b;
	return (y->hwm_bytes > x->hwm_bytes) - (y->hwm_bytes < x->hwm_bytes);
}

static void keep_top_procs(struct run *run)
{
	qsort(run->tracked, run->ntracked, sizeof *run->tracked, cmp_hwm_desc);
	size_t n = run->ntracked < MG_MAX_PROCS ? run->ntracked : MG_MAX_PROCS;
	memcpy(run->r->procs, run->tracked, n * sizeof *run->tracked);
	run->r->nprocs = (int)n;
}

/* ---- the loop ---------------------------------------------------------- */

static void watch(struct run *run)
{
	const struct mg_fixture *f = run->f;
	struct mg_result *r = run->r;
	int64_t deadline = run->t0 + f->timeout_ms, next = run->t0;
	bool soft_cap = !run->have_cg && f->kill_above != MG_NO_LIMIT;
	for (;;) {
		int64_t now = now_ms();
		if (now >= next) {
			if (sample(run, false) < 0)
				return;
			next += f->interval_ms;
			if (next <= now)
				next = now + f->interval_ms; /* fell behind: don't burst */
		}
		if (soft_cap && r->tree_rss_bytes > f->kill_above) {
			r->oom_killed = true;
			mg_result_note(r, "kill_above enforced by sampling (no cgroup): tree killed at %" PRId64 " bytes",
				       r->tree_rss_bytes);
			return;
		}
		if (now >= deadline) {
			r->timed_out = true;
			return;
		}
		int64_t wake = next < deadline ? next : deadline;
		int64_t wait = wake - now;
		struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
		siginfo_t si;
		int sig = sigtimedwait(&run->sv->waited, &si, &ts);
		if (sig == SIGCHLD) {
			reap(run);
			if (run->main_done)
				return;
		} else if (sig > 0) {
			run->sv->interrupted_by = sig;
			r->interrupted_by = sig;
			return;
		} else if (errno != EAGAIN && errno != EINTR) {
			set_error(r, "sigtimedwait: %s", strerror(errno));
			return;
		}
	}
}

static int64_t self_cpu_ms(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the image that
 * exec'd us (a Python runner's 15 MiB would show up as ours). */
static int64_t self_maxrss(void)
{
	struct mg_proc_status st;
	char err[256];
	return mg_read_status(getpid(), &st, err, sizeof err) == 0 && st.has_vm ? st.hwm_bytes : MG_UNKNOWN;
}

void mg_supervise(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	int64_t cpu0 = self_cpu_ms();
	struct run run = {.sv = sv, .f = f, .r = r, .main_pid = -1, .page_size = sysconf(_SC_PAGESIZE)};
	run.cg.dirfd = -1;
	r->interval_ms = f->interval_ms;
	run.tracked = calloc(TRACKED_MAX, sizeof *run.tracked);
	if (!run.tracked || mg_series_init(&r->series, MG_SERIES_DEFAULT_CAP) < 0) {
		set_error(r, "out of memory");
		free(run.tracked);
		return;
	}
	char err[512];
	/* Processes without Vm lines are normal (zombies, exiting), so a /proc
	 * that lost them altogether must be caught here, on ourselves. */
	struct mg_proc_status self;
	if (mg_read_status(getpid(), &self, err, sizeof err) < 0)
		set_error(r, "cannot read memgate's own /proc status: %s", err);
	else if (!self.has_vm)
		set_error(r, "/proc/self/status has no VmRSS/VmHWM lines: cannot measure RSS here");
	if (!r->error[0])
		choose_backend(&run);
	if (sv->run_as.drop)
		mg_result_note(r, "run as %s (uid %d) from SUDO_UID; memgate kept root for the cgroup",
			       sv->run_as.user[0] ? sv->run_as.user : "?", (int)sv->run_as.uid);
	if (!r->error[0] && run.have_cg && f->kill_above != MG_NO_LIMIT &&
	    mg_cgroup_set_limit(&run.cg, f->kill_above, err, sizeof err) < 0)
		set_error(r, "kill_above: %s", err);

	if (!r->error[0] && spawn(&run) == 0) {
		watch(&run); /* its first sample is taken right after exec */
		if (run.main_done && !r->error[0] && sample(&run, true) == 0)
			r->leftover_processes = run.live; /* outlived the main process */
		if (!run.main_done && r->started)
			r->wall_ms = now_ms() - run.t0;
	}
	if (run.main_pid > 0 || run.have_cg)
		teardown(&run);
	if (run.have_cg) {
		if (run.r->started)
			read_cgroup_figures(&run);
		if (mg_cgroup_destroy(&run.cg, err, sizeof err) < 0)
			set_error(r, "%s", err);
	}
	/* Summed RSS is sampled; one process's kernel high-water mark is exact.
	 * The tree can never have held less than its largest process. */
	if (r->started && r->tree_rss_bytes < r->max_process_hwm_bytes)
		r->tree_rss_bytes = r->max_process_hwm_bytes;
	if (!r->started) {
		r->tree_rss_bytes = MG_UNKNOWN;
		r->max_process_hwm_bytes = MG_UNKNOWN;
	}
	if (!f->pss || !r->started)
		r->tree_pss_bytes = MG_UNKNOWN;
	if (r->interrupted_by)
		set_error(r, "interrupted by SIG%s: the tree was killed", sigabbrev_np(r->interrupted_by));
	mg_series_finish(&r->series);
	keep_top_procs(&run);
	r->self_cpu_ms = self_cpu_ms() - cpu0;
	r->self_maxrss_bytes = self_maxrss();
	mg_pidset_free(&run.pids);
	free(run.tracked);
}
