#include "measure/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure/cgroup.h"
#include "measure/kill.h"
#include "measure/procfs.h"
#include "heap/tracemalloc.h"
#include "regex_guard.h"
#include "measure/service.h"
#include "measure/spawn.h"
#include "units.h"
#include "measure/watchdog.h"

#define TEARDOWN_MS 5000   /* how long a tree may take to die after SIGKILL */
#define TRACKED_MAX 1024   /* processes remembered for per-process figures */
#define KEPT_FDS 256       /* statm files kept open, at most */
#define FULL_EVERY 8       /* every 8th sample reads status (HWM) for every process */
#define PROBE_EVERY_MS 20  /* readiness probes while a service starts */

/* Service mode runs through these phases; a plain command is RUNNING only. */
enum phase { PH_RUNNING, PH_STARTING, PH_DRIVING, PH_STOPPING, PH_DONE };

/* A captured output stream of the service or the driver. */
struct stream {
	int fd;                 /* -1 once closed */
	struct mg_tail *tail;
};

/* Everything one fixture run needs, in one place. */
struct run {
	struct mg_supervisor *sv;
	const struct mg_fixture *f;
	struct mg_result *r;
	struct mg_cgroup cg;
	bool have_cg;
	struct mg_cgroup aux;           /* the driver's own cgroup, not measured */
	bool have_aux;
	struct mg_watchdog wd;          /* kills the fixture if memgate dies */
	struct mg_pidset spare;         /* the watchdog: never measured, never killed */
	struct mg_pidset watched;       /* memgate's children the watchdog was told */
	pid_t main_pid;
	bool main_done;
	int64_t t0;
	struct mg_pidset pids;          /* scratch for each sample */
	struct mg_pidset skip;          /* scratch: the driver's tree (proc mode) */
	struct mg_pidset check;         /* scratch: the tree again, after reading PSS */
	struct mg_proc_figure *tracked; /* per-process figures */
	int *statm_fd;                  /* per tracked process: its statm, kept open, or -1 */
	size_t ntracked;
	int live;                       /* live processes in the last sample */
	int64_t last_rss;               /* tree RSS of the last sample */
	struct mg_tree_reader tree;     /* pid lists of any length, validated */
	long page_size;
	/* service mode */
	enum phase phase;
	char **svc_argv, **drv_argv;    /* {port} substituted */
	char *ready_target;
	regex_t ready_re;
	bool have_re;
	int64_t phase_deadline;         /* ready, driver or stop grace deadline */
	int64_t next_probe;
	pid_t driver_pid;
	bool driver_done;
	struct mg_pyheap_prep pyheap;   /* tracemalloc injection */
	struct stream out[4];           /* service stdout, stderr, driver stdout, stderr */
};
enum { SVC_OUT, SVC_ERR, DRV_OUT, DRV_ERR };

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
	sv->sigfd = -1;
	sigemptyset(&sv->waited);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&sv->waited, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &sv->waited, &sv->child_mask) < 0) {
		snprintf(err, len, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	/* Signals arrive as reads on an fd, so one poll() waits for them, the
	 * next sample, and the service's and driver's output at once. */
	sv->sigfd = signalfd(-1, &sv->waited, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sv->sigfd < 0) {
		snprintf(err, len, "signalfd: %s", strerror(errno));
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
	if (sv->sigfd >= 0)
		close(sv->sigfd);
	sv->sigfd = -1;
	sigprocmask(SIG_SETMASK, &sv->child_mask, NULL);
}

/* ---- backend choice ---------------------------------------------------- */

static void append_reason(char *dst, size_t len, const char *why)
{
	size_t used = strlen(dst);
	snprintf(dst + used, len - used, "%s%s", used ? "; " : "", why);
}

/* What a memgate that was SIGKILLed left beside our cgroup: its fixture is
 * killed and its cgroups removed, and the report says so. */
static void sweep_stale(struct run *run)
{
	char root[PATH_MAX], report[1024], err[512];
	snprintf(root, sizeof root, "%s", run->cg.path);
	char *slash = strrchr(root, '/');
	if (!slash)
		return;
	*slash = '\0';
	if (mg_cgroup_sweep(run->cg.kind, root, &run->tree, report, sizeof report, err, sizeof err) < 0)
		mg_result_note(run->r, "could not sweep a stale cgroup: %s", err);
	for (char *line = report, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		mg_result_note(run->r, "%s", line);
	}
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
			sweep_stale(run);
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

static struct mg_spawn spawn_spec(struct run *run, char *const *argv, const char *what, bool capture,
				  bool in_cgroup)
{
	const struct mg_fixture *f = run->f;
	return (struct mg_spawn){
		.argv = argv,
		.env = f->env,
		.extra_env = NULL,
		.cwd = f->cwd,
		.stdin_mode = capture ? MG_STDIN_NULL : f->stdin_mode,
		.stdin_path = f->stdin_path,
		.cg = in_cgroup && run->have_cg ? &run->cg : NULL,
		.watchdog = &run->wd,
		.run_as = &run->sv->run_as,
		.child_mask = &run->sv->child_mask,
		.capture = capture,
		.what = what,
	};
}

/* The measured process: the command, or the service. */
static int spawn_main(struct run *run)
{
	bool service = run->f->has_service;
	struct mg_spawn sp = spawn_spec(run, service ? run->svc_argv : run->f->argv, service ? "service" : "command",
					service, true);
	if (service)
		sp.stdin_mode = run->f->stdin_mode;
	sp.extra_env = run->pyheap.env[0] ? run->pyheap.env : NULL;
	struct mg_spawned out;
	char err[512];
	int rc = mg_spawn(&sp, &out, err, sizeof err);
	run->main_pid = out.pid;
	run->out[SVC_OUT].fd = out.out_fd;
	run->out[SVC_ERR].fd = out.err_fd;
	if (rc < 0) {
		set_error(run->r, "%s", err);
		return -1;
	}
	run->r->started = true;
	run->t0 = now_ms(); /* the series starts at exec */
	return 0;
}

/* The driver runs outside the measured cgroup: its memory is not the service's. */
static int spawn_driver(struct run *run)
{
	struct mg_spawn sp = spawn_spec(run, run->drv_argv, "driver", true, false);
	sp.cg = run->have_aux ? &run->aux : NULL; /* contained, not measured */
	struct mg_spawned out;
	struct mg_service_result *s = &run->r->service;
	int rc = mg_spawn(&sp, &out, s->driver.error, sizeof s->driver.error);
	run->driver_pid = out.pid;
	run->out[DRV_OUT].fd = out.out_fd;
	run->out[DRV_ERR].fd = out.err_fd;
	s->driver.start_ms = now_ms() - run->t0;
	if (rc < 0)
		return -1;
	s->driver.started = true;
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
	if (run->statm_fd[slot] >= 0)
		close(run->statm_fd[slot]);
	run->statm_fd[slot] = -1;
	return p;
}

static void raise_hwm(struct run *run, int64_t hwm)
{
	if (hwm > run->r->max_process_hwm_bytes)
		run->r->max_process_hwm_bytes = hwm;
}

/* Without a cgroup the tree is memgate's descendants, less the driver's
 * own tree (the driver is not what is measured) and the watchdog. */
static int list_tree(struct run *run, struct mg_pidset *out, char *err, size_t len)
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
				set_error(run->r, "cannot open %s: %s", path, strerror(errno));
				return -1;
			}
		}
		if (*fd < 0) { /* read by path instead of holding an fd */
			int rc = mg_read_statm_rss(pid, run->page_size, rss, err, sizeof err);
			if (rc < 0)
				set_error(run->r, "%s", err);
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
	if (list_tree(run, &run->check, err, sizeof err) < 0 || run->check.n != run->pids.n)
		return false;
	for (size_t i = 0; i < run->check.n; i++) /* the same set, in any order */
		if (!mg_pidset_has(&run->pids, run->check.v[i]))
			return false;
	return true;
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
	run->last_rss = rss;
	if (rss > r->tree_rss_bytes)
		r->tree_rss_bytes = rss;
	if (run->f->pss && pss > r->tree_pss_bytes && tree_unchanged(run))
		r->tree_pss_bytes = pss;
	r->samples++;
	if (mg_series_push(&r->series, now_ms() - run->t0, rss) < 0) {
		set_error(r, "out of memory for the time series");
		return -1;
	}
	return 0;
}

static void driver_exited(struct run *run, int status)
{
	struct mg_service_result *s = &run->r->service;
	run->driver_done = true;
	s->driver.end_ms = now_ms() - run->t0;
	if (WIFEXITED(status)) {
		s->driver.exited = true;
		s->driver.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		s->driver.signal = WTERMSIG(status);
	}
}

/* Reap every child that has exited; ru_maxrss is each one's high-water mark
 * (including the descendants it waited for) even if no sample saw it. */
static void reap(struct run *run)
{
	int status;
	struct rusage ru;
	pid_t pid;
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		if (mg_watchdog_is(&run->wd, pid)) { /* killed by someone: the run goes on unguarded */
			run->wd.pid = -1;
			mg_result_note(run->r, "memgate's watchdog (pid %d) died; a SIGKILL to memgate now could "
					       "orphan the fixture", (int)pid);
			continue;
		}
		if (pid == run->driver_pid) {
			driver_exited(run, status);
			continue;
		}
		int64_t hwm = (int64_t)ru.ru_maxrss * 1024;
		raise_hwm(run, hwm);
		struct mg_proc_figure *p = track(run, pid);
		if (hwm > p->hwm_bytes)
			p->hwm_bytes = hwm;
		int *fd = &run->statm_fd[p - run->tracked];
		if (*fd >= 0) { /* reaped: its statm can only fail from now on */
			close(*fd);
			*fd = -1;
		}
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

/* One round of SIGKILL to everything of the fixture: its cgroup, the
 * driver's, and every other descendant of memgate (the driver's tree in
 * proc mode, anything that left a cgroup), each verified (kill.h). */
static int kill_tree_once(struct run *run, char *err, size_t len)
{
	size_t killed;
	if (run->have_cg && mg_cgroup_kill(&run->cg, &run->tree, err, len) < 0)
		return -1;
	if (run->have_aux && mg_cgroup_kill(&run->aux, &run->tree, err, len) < 0)
		return -1;
	return mg_kill_descendants(&run->tree, &run->spare, &killed, err, len);
}

/* How many processes of the run are left: memgate's descendants but the
 * watchdog, and whatever its cgroups still hold. */
static int count_left(struct run *run, size_t *n, pid_t *first, char *err, size_t len)
{
	*n = 0;
	*first = 0;
	if (mg_list_descendants(&run->tree, getpid(), &run->pids, err, len) < 0)
		return -1;
	for (size_t i = 0; i < run->pids.n; i++)
		if (!mg_pidset_has(&run->spare, run->pids.v[i]) && (*n)++ == 0)
			*first = run->pids.v[i];
	struct mg_cgroup *cgs[2] = {run->have_cg ? &run->cg : NULL, run->have_aux ? &run->aux : NULL};
	for (int i = 0; i < 2; i++) {
		if (!cgs[i])
			continue;
		if (mg_cgroup_procs(cgs[i], &run->tree, &run->check, err, len) < 0)
			return -1;
		if (run->check.n && !*first)
			*first = run->check.v[0];
		*n += run->check.n;
	}
	return 0;
}

/* Kill until nothing of the fixture is left (the driver included), reaping
 * as we go. */
static void teardown(struct run *run)
{
	char err[512];
	int64_t until = now_ms() + TEARDOWN_MS;
	for (;;) {
		reap(run);
		size_t left;
		pid_t first;
		if (count_left(run, &left, &first, err, sizeof err) < 0) {
			set_error(run->r, "teardown: %s", err);
			break;
		}
		bool driver_alive = run->driver_pid > 0 && !run->driver_done;
		if (left == 0 && (run->main_pid <= 0 || run->main_done) && !driver_alive)
			break;
		if (now_ms() > until) {
			set_error(run->r, "teardown: %zu process(es) still alive %d ms after SIGKILL (first: pid %d)",
				  left, TEARDOWN_MS, left ? (int)first : (int)run->main_pid);
			break;
		}
		if (kill_tree_once(run, err, sizeof err) < 0) {
			set_error(run->r, "teardown: %s", err);
			break;
		}
		sleep_ms(1);
	}
}

/* ---- captured output ---------------------------------------------------- */

static void drain(struct run *run, struct stream *st, const regex_t *ready)
{
	char buf[4096];
	while (st->fd >= 0) {
		ssize_t n = read(st->fd, buf, sizeof buf);
		if (n > 0) {
			mg_tail_append(st->tail, buf, (size_t)n, ready);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(st->fd); /* EOF, or an error we cannot recover from */
		st->fd = -1;
	}
	(void)run;
}

static void drain_all(struct run *run)
{
	for (int i = 0; i < 4; i++)
		drain(run, &run->out[i], i == SVC_OUT && run->have_re ? &run->ready_re : NULL);
}

static char *tail_copy(struct mg_tail *t)
{
	return t && t->len ? strdup(mg_tail_text(t)) : NULL;
}

/* ---- service phases ----------------------------------------------------- */

static void to_stopping(struct run *run)
{
	run->phase = PH_STOPPING;
	run->phase_deadline = now_ms() + run->f->service.stop_grace_ms;
	if (!run->main_done) {
		run->r->service.stopped = true;
		/* our own child, not reaped yet: its pid cannot have been reused */
		kill(run->main_pid, run->f->service.stop_signal);
	}
}

static void finish_service(struct run *run, enum mg_service_outcome outcome)
{
	run->r->service.outcome = outcome;
	run->phase = PH_DONE;
}

/* Is the service ready? 1 yes, 0 not yet, -1 the probe spec is wrong. */
static int probe(struct run *run)
{
	char why[256];
	int rc = 0;
	switch (run->f->service.ready) {
	case MG_READY_TCP:
		rc = mg_probe_tcp(run->ready_target, why, sizeof why);
		break;
	case MG_READY_HTTP:
		rc = mg_probe_http(run->ready_target, 200, why, sizeof why);
		break;
	case MG_READY_STDOUT:
		return run->out[SVC_OUT].tail->matched;
	default:
		return 1; /* no probe: ready once started */
	}
	if (rc < 0)
		set_error(run->r, "service.ready: %s", why);
	return rc;
}

/* Advance the service's phases; returns the time it next needs to act. */
static int64_t step_service(struct run *run, int64_t now)
{
	struct mg_service_result *s = &run->r->service;
	switch (run->phase) {
	case PH_STARTING:
		if (run->main_done) {
			finish_service(run, MG_SVC_DIED_BEFORE_READY);
			return now;
		}
		if (now >= run->next_probe) {
			int rc = probe(run);
			if (rc < 0) {
				run->phase = PH_DONE;
				return now;
			}
			if (rc == 1) {
				s->ready_ms = now - run->t0;
				if (sample(run, true) < 0) /* the baseline growth per request is measured from */
					return now;
				s->rss_at_ready_bytes = run->last_rss;
				if (spawn_driver(run) < 0) {
					s->outcome = MG_SVC_DRIVER_FAILED;
					to_stopping(run);
					return now;
				}
				run->phase = PH_DRIVING;
				run->phase_deadline = now + run->f->driver.timeout_ms;
				return now;
			}
			run->next_probe = now + PROBE_EVERY_MS;
		}
		if (now >= run->phase_deadline) {
			finish_service(run, MG_SVC_NOT_READY);
			return now;
		}
		return run->next_probe < run->phase_deadline ? run->next_probe : run->phase_deadline;
	case PH_DRIVING:
		if (run->main_done) {
			finish_service(run, MG_SVC_DIED_EARLY);
			return now;
		}
		if (run->driver_done) {
			bool ok = s->driver.exited && s->driver.exit_code == 0;
			if (sample(run, true) < 0) /* every request served is in RSS now */
				return now;
			s->rss_after_driver_bytes = run->last_rss;
			s->outcome = ok ? MG_SVC_OK : MG_SVC_DRIVER_FAILED;
			to_stopping(run);
			return now;
		}
		if (now >= run->phase_deadline) {
			kill(run->driver_pid, SIGKILL); /* our child, not reaped (driver_done is false) */
			s->outcome = MG_SVC_DRIVER_TIMEOUT;
			s->driver.end_ms = now - run->t0;
			to_stopping(run);
			return now;
		}
		return run->phase_deadline;
	case PH_STOPPING:
		if (run->main_done) {
			run->phase = PH_DONE;
			return now;
		}
		if (now >= run->phase_deadline) {
			char g[32];
			mg_format_duration(run->f->service.stop_grace_ms, g, sizeof g);
			s->killed_after_grace = true;
			mg_result_note(run->r, "the service ignored SIG%s for %s: killed",
				       sigabbrev_np(run->f->service.stop_signal), g);
			run->phase = PH_DONE; /* teardown kills it */
			return now;
		}
		return run->phase_deadline;
	default:
		return now;
	}
}

/* ---- the loop ---------------------------------------------------------- */

/* Take pending signals: SIGCHLD reaps; anything else interrupts the run. */
static bool take_signals(struct run *run)
{
	struct signalfd_siginfo si;
	ssize_t n;
	while ((n = read(run->sv->sigfd, &si, sizeof si)) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			reap(run);
			continue;
		}
		run->sv->interrupted_by = (int)si.ssi_signo;
		run->r->interrupted_by = (int)si.ssi_signo;
		return true;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		set_error(run->r, "signalfd read: %s", strerror(errno));
	return false;
}

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
		if (run->phase == PH_RUNNING && run->main_done)
			return;
		if (run->phase != PH_RUNNING) {
			int64_t act = step_service(run, now);
			if (run->phase == PH_DONE || r->error[0])
				return;
			if (act < wake)
				wake = act;
		}
		struct pollfd p[5] = {{run->sv->sigfd, POLLIN, 0}};
		nfds_t np = 1;
		for (int i = 0; i < 4; i++)
			if (run->out[i].fd >= 0)
				p[np++] = (struct pollfd){run->out[i].fd, POLLIN, 0};
		int64_t wait = wake - now_ms();
		if (poll(p, np, wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR) {
			set_error(r, "poll: %s", strerror(errno));
			return;
		}
		drain_all(run);
		if (take_signals(run) || r->error[0])
			return;
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

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **subst_argv(char *const *argv, int port)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = mg_subst_port(argv[i], port))) {
			free_argv(out);
			return NULL;
		}
	return out;
}

/* Service mode: pick the port, substitute it, prepare the readiness check
 * and the output tails. */
static int prepare_service(struct run *run)
{
	const struct mg_fixture *f = run->f;
	struct mg_service_result *s = &run->r->service;
	char err[256];
	s->used = true;
	if (mg_free_port(&s->port, err, sizeof err) < 0) {
		set_error(run->r, "%s", err);
		return -1;
	}
	run->svc_argv = subst_argv(f->argv, s->port);
	run->drv_argv = subst_argv(f->driver.argv, s->port);
	run->ready_target = f->service.ready_target ? mg_subst_port(f->service.ready_target, s->port) : NULL;
	for (int i = 0; i < 4; i++)
		run->out[i].tail = calloc(1, sizeof *run->out[i].tail);
	if (!run->svc_argv || !run->drv_argv || (f->service.ready_target && !run->ready_target) ||
	    !run->out[0].tail || !run->out[1].tail || !run->out[2].tail || !run->out[3].tail) {
		set_error(run->r, "out of memory");
		return -1;
	}
	if (f->service.ready == MG_READY_STDOUT) {
		/* the loader checked it too; a fixture built elsewhere must not reach regcomp unbounded */
		char why[400];
		if (mg_regex_check(run->ready_target, why, sizeof why) < 0) {
			set_error(run->r, "service.ready.stdout: %s", why);
			return -1;
		}
		int rc = regcomp(&run->ready_re, run->ready_target, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &run->ready_re, err, sizeof err);
			set_error(run->r, "service.ready.stdout: bad regular expression: %s", err);
			return -1;
		}
		run->have_re = true;
	}
	run->phase = PH_STARTING;
	return 0;
}

static void finish_streams(struct run *run)
{
	struct mg_service_result *s = &run->r->service;
	drain_all(run);
	for (int i = 0; i < 4; i++)
		if (run->out[i].fd >= 0)
			close(run->out[i].fd);
	if (!s->used)
		return;
	if (run->out[DRV_OUT].tail && run->out[DRV_OUT].tail->last_line[0])
		s->driver.requests = mg_parse_requests_line(run->out[DRV_OUT].tail->last_line);
	s->service_stdout = tail_copy(run->out[SVC_OUT].tail);
	s->service_stderr = tail_copy(run->out[SVC_ERR].tail);
	s->driver_stdout = tail_copy(run->out[DRV_OUT].tail);
	s->driver_stderr = tail_copy(run->out[DRV_ERR].tail);
}

static void release(struct run *run)
{
	free_argv(run->svc_argv);
	free_argv(run->drv_argv);
	free(run->ready_target);
	if (run->have_re)
		regfree(&run->ready_re);
	for (int i = 0; i < 4; i++)
		free(run->out[i].tail);
	mg_pidset_free(&run->pids);
	mg_pidset_free(&run->skip);
	mg_pidset_free(&run->check);
	mg_pidset_free(&run->spare);
	mg_pidset_free(&run->watched);
	mg_tree_reader_free(&run->tree);
	for (size_t i = 0; run->statm_fd && i < TRACKED_MAX; i++)
		if (run->statm_fd[i] >= 0)
			close(run->statm_fd[i]);
	free(run->statm_fd);
	mg_pyheap_release(&run->pyheap);
	free(run->tracked);
}

/* Growth over the steady part: while the driver ran in service mode, the
 * whole run otherwise. */
static void fit_growth(struct run *run)
{
	struct mg_result *r = run->r;
	const struct mg_service_result *s = &r->service;
	int64_t from = 0, to = INT64_MAX;
	if (s->used) {
		if (!s->driver.started)
			return;
		from = s->driver.start_ms;
		to = s->driver.end_ms;
	}
	mg_growth_fit(r->series.pts, r->series.n, from, to, run->f->warmup_pct, &r->growth);
	/* Per request: what the tree gained between ready and the driver's end,
	 * both sampled at that moment, over the requests it says it made. A
	 * rate-based estimate would count the driver's own start-up as idle time. */
	if (s->used && s->driver.requests > 0 && s->rss_after_driver_bytes > 0) {
		int64_t gained = s->rss_after_driver_bytes - s->rss_at_ready_bytes;
		r->growth_per_request_bytes = gained / s->driver.requests;
	}
}

void mg_supervise(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	int64_t cpu0 = self_cpu_ms();
	struct run run = {.sv = sv, .f = f, .r = r, .main_pid = -1, .page_size = sysconf(_SC_PAGESIZE),
			  .wd = {.pid = -1, .fd = -1}};
	run.cg.dirfd = -1;
	run.aux.dirfd = -1;
	mg_tree_reader_init(&run.tree);
	for (int i = 0; i < 4; i++)
		run.out[i].fd = -1;
	r->interval_ms = f->interval_ms;
	run.tracked = calloc(TRACKED_MAX, sizeof *run.tracked);
	run.statm_fd = malloc(TRACKED_MAX * sizeof *run.statm_fd);
	for (size_t i = 0; run.statm_fd && i < TRACKED_MAX; i++)
		run.statm_fd[i] = -1;
	if (!run.tracked || !run.statm_fd || mg_series_init(&r->series, MG_SERIES_DEFAULT_CAP) < 0) {
		set_error(r, "out of memory");
		release(&run);
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
	if (run.have_cg && run.cg.self_leaf[0])
		mg_result_note(r, "memgate moved itself into %s to enable the memory controller in its own cgroup "
				  "(cgroup v2 allows no processes beside child cgroups); it moves back at the end",
			       run.cg.self_leaf);
	if (sv->run_as.drop)
		mg_result_note(r, "run as %s (uid %d) from SUDO_UID; memgate kept root for the cgroup",
			       sv->run_as.user[0] ? sv->run_as.user : "?", (int)sv->run_as.uid);
	if (!r->error[0] && run.have_cg && f->kill_above != MG_NO_LIMIT &&
	    mg_cgroup_set_limit(&run.cg, f->kill_above, err, sizeof err) < 0)
		set_error(r, "kill_above: %s", err);
	if (!r->error[0] && f->has_service && prepare_service(&run) == 0)
		run.phase_deadline = 0; /* set once the service has started */
	if (!r->error[0] && mg_pyheap_prepare(f, &run.pyheap, err, sizeof err) < 0)
		set_error(r, "%s", err);
	if (!r->error[0] && f->has_service && run.have_cg) {
		if (mg_cgroup_create_sibling(&run.cg, &run.aux, err, sizeof err) < 0)
			set_error(r, "the driver's cgroup: %s", err);
		else
			run.have_aux = true;
	}
	/* Nothing starts unguarded: should memgate die, the watchdog kills it. */
	const struct mg_cgroup *guarded[] = {run.have_cg ? &run.cg : NULL, run.have_aux ? &run.aux : NULL};
	if (!r->error[0] && mg_watchdog_start(&run.wd, guarded, 2, err, sizeof err) < 0)
		set_error(r, "%s", err);
	if (run.wd.pid > 0 && mg_pidset_add(&run.spare, run.wd.pid) < 0)
		set_error(r, "out of memory");

	if (!r->error[0] && spawn_main(&run) == 0) {
		if (run.phase == PH_STARTING) {
			run.phase_deadline = run.t0 + f->service.ready_timeout_ms;
			run.next_probe = run.t0;
		}
		watch(&run); /* its first sample is taken right after exec */
		if (run.main_done && !r->error[0] && sample(&run, true) == 0)
			r->leftover_processes = run.live; /* outlived the main process */
		if (!run.main_done && r->started)
			r->wall_ms = now_ms() - run.t0;
	}
	if (run.main_pid > 0 || run.have_cg)
		teardown(&run);
	finish_streams(&run);
	mg_pyheap_collect(f, &run.pyheap, r);
	/* The watchdog sits in memgate's leaf when there is one, which must be
	 * empty to go: then it stops first; else once the cgroups are gone. */
	if (run.cg.self_leaf[0])
		mg_watchdog_stop(&run.wd);
	if (run.have_aux && mg_cgroup_destroy(&run.aux, err, sizeof err) < 0)
		set_error(r, "%s", err);
	if (run.have_cg) {
		if (run.r->started)
			read_cgroup_figures(&run);
		if (mg_cgroup_destroy(&run.cg, err, sizeof err) < 0)
			set_error(r, "%s", err);
	}
	mg_watchdog_stop(&run.wd);
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
	if (r->started)
		fit_growth(&run);
	keep_top_procs(&run);
	release(&run);
	r->self_cpu_ms = self_cpu_ms() - cpu0;
	r->self_maxrss_bytes = self_maxrss();
}
