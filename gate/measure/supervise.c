#include "error.h"
#include "measure/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure/capture.h"
#include "measure/kill.h"
#include "measure/phases.h"
#include "measure/run.h"
#include "measure/sampler.h"
#include "measure/service_run.h"
#include "units.h"

#define TEARDOWN_MS 5000   /* how long a tree may take to die after SIGKILL */


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
		mg_run_error(r, "measurement \"%s\" is required by the config but unavailable: %s",
			  mg_method_name(want), r->fallback_reason);
		r->method = want;
		return;
	}
	r->method = MG_METHOD_PROC;
}

/* The measured process: the command, or the service. */
static int spawn_main(struct run *run)
{
	bool service = run->f->has_service;
	struct mg_spawn sp = mg_run_spawn_spec(run, service ? run->svc_argv : run->f->argv, service ? "service" : "command",
					service, true);
	if (service)
		sp.stdin_mode = run->f->stdin_mode;
	else if (run->opts->output_path)
		sp.output_path = run->opts->output_path;
	/* memgate's additions: the Python helpers' path and the mark channels */
	char *extra[8];
	size_t n = 0;
	for (size_t i = 0; i < 3 && run->pyheap.env[i]; i++)
		extra[n++] = run->pyheap.env[i];
	for (size_t i = 0; i < 2; i++)
		if (run->mark_env[i][0])
			extra[n++] = run->mark_env[i];
	extra[n] = NULL;
	sp.extra_env = n ? extra : NULL;
	struct mg_spawned out;
	char err[512];
	int rc = mg_spawn(&sp, &out, err, sizeof err);
	run->main_pid = out.pid;
	run->r->main_pid = out.pid;
	run->out[SVC_OUT].fd = out.out_fd;
	run->out[SVC_ERR].fd = out.err_fd;
	if (rc < 0) {
		mg_run_error(run->r, "%s", err);
		return -1;
	}
	run->r->started = true;
	run->t0 = mg_run_now_ms(); /* the series starts at exec */
	mg_phases_begin(run);
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
		if (mg_watchdog_is(&run->wd, pid)) { /* killed by someone: the run goes on unguarded */
			run->wd.pid = -1;
			mg_result_note(run->r, "memgate's watchdog (pid %d) died; a SIGKILL to memgate now could "
					       "orphan the fixture", (int)pid);
			continue;
		}
		if (pid == run->driver_pid) {
			mg_driver_exited(run, status);
			continue;
		}
		bool own = mg_sampler_reaped(run, pid, (int64_t)ru.ru_maxrss * 1024);
		mg_phases_reaped(run, pid, (int64_t)ru.ru_maxrss * 1024, own);
		if (pid != run->main_pid)
			continue;
		run->main_done = true;
		run->r->wall_ms = run->r->started ? mg_run_now_ms() - run->t0 : 0;
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
	int64_t until = mg_run_now_ms() + TEARDOWN_MS;
	for (;;) {
		reap(run);
		size_t left;
		pid_t first;
		if (count_left(run, &left, &first, err, sizeof err) < 0) {
			mg_run_error(run->r, "teardown: %s", err);
			break;
		}
		bool driver_alive = run->driver_pid > 0 && !run->driver_done;
		if (left == 0 && (run->main_pid <= 0 || run->main_done) && !driver_alive)
			break;
		if (mg_run_now_ms() > until) {
			mg_run_error(run->r, "teardown: %zu process(es) still alive %d ms after SIGKILL (first: pid %d)",
				  left, TEARDOWN_MS, left ? (int)first : (int)run->main_pid);
			break;
		}
		if (kill_tree_once(run, err, sizeof err) < 0) {
			mg_run_error(run->r, "teardown: %s", err);
			break;
		}
		mg_run_sleep_ms(1);
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
		mg_run_error(run->r, "signalfd read: %s (%s)", MG_ERRNO(errno));
	return false;
}

/* The ticks come from a timerfd armed on absolute times: the cadence holds
 * whatever each tick costs, and a late tick is one sample, not a burst. */
static int arm_ticks(struct run *run)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0) {
		mg_run_error(run->r, "cannot create a timerfd: " MG_ERRNO_FMT, MG_ERRNO(errno));
		return -1;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t iv_ns = run->f->interval_ms * 1000000, first = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + iv_ns;
	struct itimerspec its = {
		.it_interval = {iv_ns / 1000000000, iv_ns % 1000000000},
		.it_value = {first / 1000000000, first % 1000000000},
	};
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		mg_run_error(run->r, "cannot arm the timerfd: " MG_ERRNO_FMT, MG_ERRNO(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void watch(struct run *run)
{
	const struct mg_fixture *f = run->f;
	struct mg_result *r = run->r;
	int64_t deadline = mg_deadline_ms(run->t0, f->timeout_ms);
	bool soft_cap = !run->have_cg && f->kill_above != MG_NO_LIMIT;
	int tick = arm_ticks(run);
	if (tick < 0 || mg_sample(run, false) < 0) /* the first sample, right after exec */
		goto out;
	for (;;) {
		int64_t now = mg_run_now_ms();
		if (soft_cap && r->tree_rss_bytes > f->kill_above) {
			r->oom_killed = true;
			mg_result_note(r, "kill_above enforced by sampling (no cgroup): tree killed at %" PRId64 " bytes",
				       r->tree_rss_bytes);
			break;
		}
		if (now >= deadline) {
			r->timed_out = true;
			break;
		}
		int64_t wake = deadline;
		if (run->phase == PH_RUNNING && run->main_done)
			break;
		if (run->phase != PH_RUNNING) {
			int64_t act = mg_step_service(run, now);
			if (run->phase == PH_DONE || r->error[0])
				break;
			if (act < wake)
				wake = act;
		}
		struct pollfd p[8] = {{run->sv->sigfd, POLLIN, 0},
				      {tick, POLLIN, 0},
				      {mg_phases_fd(run, 0), POLLIN, 0},
				      {mg_phases_fd(run, 1), POLLIN, 0}};
		nfds_t np = 4;
		for (int i = 0; i < 4; i++)
			if (run->out[i].fd >= 0)
				p[np++] = (struct pollfd){run->out[i].fd, POLLIN, 0};
		int64_t wait = wake - mg_run_now_ms();
		if (poll(p, np, wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait) < 0 && errno != EINTR) {
			mg_run_error(r, "poll: " MG_ERRNO_FMT, MG_ERRNO(errno));
			break;
		}
		/* marks first: a program that marks "end" and exits is still
		 * there to be read at the boundary it marked */
		mg_phases_drain(run);
		uint64_t expired;
		if (p[1].revents & POLLIN && read(tick, &expired, sizeof expired) == (ssize_t)sizeof expired &&
		    mg_sample(run, false) < 0)
			break;
		mg_drain_all(run);
		if (take_signals(run) || r->error[0])
			break;
	}
out:
	if (tick >= 0)
		close(tick);
}

static void read_cgroup_figures(struct run *run)
{
	char err[512];
	struct mg_result *r = run->r;
	int rc = mg_cgroup_peak(&run->cg, &r->cgroup_bytes, err, sizeof err);
	if (rc < 0)
		mg_run_error(r, "%s", err);
	else if (rc == 1)
		mg_result_note(r, "the kernel has no memory.peak (Linux < 5.19): cgroup peak unavailable");
	rc = mg_cgroup_oom_kills(&run->cg, &r->oom_kills, err, sizeof err);
	if (rc < 0)
		mg_run_error(r, "%s", err);
	else if (rc == 1)
		mg_result_note(r, "the kernel does not count OOM kills in this cgroup");
	if (r->oom_kills > 0)
		r->oom_killed = true;
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

static void release(struct run *run)
{
	mg_free_argv(run->svc_argv);
	mg_free_argv(run->drv_argv);
	free(run->ready_target);
	if (run->have_re)
		regfree(&run->ready_re);
	for (int i = 0; i < 4; i++)
		free(run->out[i].tail);
	mg_pidset_free(&run->pids);
	mg_pidset_free(&run->skip);
	mg_pidset_free(&run->check);
	mg_pidset_free(&run->members);
	mg_pidset_free(&run->spare);
	mg_pidset_free(&run->watched);
	mg_tree_reader_free(&run->tree);
	mg_sampler_free(&run->smp);
	mg_pyheap_release(&run->pyheap);
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
	if (!s->used || s->driver.requests <= 0)
		return;
	/* Per request, over the steady part only: what the service does when it
	 * starts (a pre-fork server's workers come up after the first one
	 * answers) is not billed to requests. With the driver's own progress
	 * lines: the RSS gained from a count after the warm-up to the driver's
	 * end, over the requests made in between. The RSS at a count is read
	 * when memgate sees its line, and the driver goes on meanwhile: a late
	 * read holds more requests than the count says and can only lower the
	 * figure (a loaded CI runner: -5%). So every count in the first half
	 * of what is left is tried and the highest figure, the one read
	 * soonest, is kept. Otherwise: the growth rate after the warm-up, over
	 * the driver's run. */
	const struct mg_progress *first = NULL;
	int64_t cut = from + (to - from) * run->f->warmup_pct / 100;
	int64_t end_rss = s->rss_after_driver_bytes, best = MG_UNKNOWN;
	for (int i = 0; i < s->driver.nprogress && end_rss > 0; i++) {
		const struct mg_progress *p = &s->driver.progress[i];
		if (p->ms < cut || p->n >= s->driver.requests)
			continue;
		if (!first)
			first = p;
		if (p->n - first->n > (s->driver.requests - first->n) / 2)
			break;
		if (p->rss == MG_UNKNOWN)
			continue;
		int64_t per = (end_rss - p->rss) / (s->driver.requests - p->n);
		if (best == MG_UNKNOWN || per > best)
			best = per;
	}
	/* no count read fresh (a driver printing faster than once a
	 * millisecond): the last tick before the first one */
	int64_t at_first = best == MG_UNKNOWN && first ? mg_series_at(&r->series, first->ms) : MG_UNKNOWN;
	if (at_first != MG_UNKNOWN)
		best = (end_rss - at_first) / (s->driver.requests - first->n);
	if (best != MG_UNKNOWN) {
		r->growth_per_request_bytes = best;
		r->growth_per_request_from_progress = true;
	} else if (r->growth.valid) {
		double secs = (double)(s->driver.end_ms - s->driver.start_ms) / 1000.0;
		r->growth_per_request_bytes = (int64_t)(r->growth.bytes_per_s * secs / (double)s->driver.requests);
	} else if (s->rss_after_driver_bytes > 0) { /* too short to fit: ready to the end, start-up included */
		r->growth_per_request_bytes = (s->rss_after_driver_bytes - s->rss_at_ready_bytes) / s->driver.requests;
		mg_result_note(r, "growth_per_request from ready to the driver's end (the run was too short to "
				  "leave the start-up out)");
	}
}

void mg_supervise(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r)
{
	mg_supervise_with(sv, f, NULL, r);
}

void mg_supervise_with(struct mg_supervisor *sv, const struct mg_fixture *f, const struct mg_supervise_opts *o,
		       struct mg_result *r)
{
	static const struct mg_supervise_opts none = {0};
	int64_t cpu0 = self_cpu_ms();
	struct run run = {.sv = sv, .f = f, .opts = o ? o : &none, .r = r, .main_pid = -1, .wd = {.pid = -1, .fd = -1},
			  .smp = {.usage_fd = -1, .stat_fd = -1},
			  .ph = {.rfd = -1, .wfd = -1, .sfd = -1, .peak_fd = -1, .open = -1, .dir = MG_TMPDIR_NONE}};
	run.cg.dirfd = -1;
	run.aux.dirfd = -1;
	mg_tree_reader_init(&run.tree);
	for (int i = 0; i < 4; i++)
		run.out[i].fd = -1;
	r->interval_ms = f->interval_ms;
	if (mg_series_init(&r->series, MG_SERIES_DEFAULT_CAP) < 0) {
		mg_run_error(r, "out of memory");
		release(&run);
		return;
	}
	char err[512];
	/* Processes without Vm lines are normal (zombies, exiting), so a /proc
	 * that lost them altogether must be caught here, on ourselves. */
	struct mg_proc_status self;
	if (mg_read_status(getpid(), &self, err, sizeof err) < 0)
		mg_run_error(r, "cannot read memgate's own /proc status: %s", err);
	else if (!self.has_vm)
		mg_run_error(r, "/proc/self/status has no VmRSS/VmHWM lines: cannot measure RSS here");
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
		mg_run_error(r, "kill_above: %s", err);
	if (!r->error[0] && f->has_service && mg_prepare_service(&run) == 0)
		run.phase_deadline = 0; /* set once the service has started */
	if (!r->error[0] && mg_pyheap_prepare(f, &run.pyheap, err, sizeof err) < 0)
		mg_run_error(r, "%s", err);
	if (!r->error[0] && f->has_service && run.have_cg) {
		if (mg_cgroup_create_sibling(&run.cg, &run.aux, err, sizeof err) < 0)
			mg_run_error(r, "the driver's cgroup: %s", err);
		else
			run.have_aux = true;
	}
	if (!r->error[0])
		mg_phases_prepare(&run);
	/* Nothing starts unguarded: should memgate die, the watchdog kills it
	 * and removes memgate's temp dirs. */
	const struct mg_cgroup *guarded[] = {run.have_cg ? &run.cg : NULL, run.have_aux ? &run.aux : NULL};
	const struct mg_tmpdir *dirs[] = {&run.ph.dir, &run.pyheap.dir, run.opts->scratch};
	if (!r->error[0] && mg_watchdog_start(&run.wd, guarded, 2, dirs, 3, err, sizeof err) < 0)
		mg_run_error(r, "%s", err);
	if (run.wd.pid > 0 && mg_pidset_add(&run.spare, run.wd.pid) < 0)
		mg_run_error(r, "out of memory");
	if (!r->error[0])
		mg_sampler_start(&run);

	bool spawned = !r->error[0] && spawn_main(&run) == 0;
	if (!spawned && run.main_pid > 0)
		take_signals(&run); /* an interrupt that stopped a blocked start is the run's */
	if (spawned) {
		if (run.phase == PH_STARTING) {
			run.phase_deadline = mg_deadline_ms(run.t0, f->service.ready_timeout_ms);
			run.next_probe = run.t0;
		}
		watch(&run); /* its first sample is taken right after exec */
		if (run.main_done && !r->error[0] && mg_sample(&run, true) == 0)
			r->leftover_processes = mg_sample_live(&run); /* outlived the main process */
		mg_phases_drain(&run);
		mg_phase_switch(&run, NULL); /* the last phase ends while its processes live */
		if (!run.main_done && r->started)
			r->wall_ms = mg_run_now_ms() - run.t0;
	}
	if (run.main_pid > 0 || run.have_cg)
		teardown(&run);
	mg_finish_streams(&run);
	mg_pyheap_collect(f, &run.pyheap, r);
	/* The watchdog sits in memgate's leaf when there is one, which must be
	 * empty to go: then it stops first; else once the cgroups are gone. */
	if (run.cg.self_leaf[0])
		mg_watchdog_stop(&run.wd);
	if (run.have_aux && mg_cgroup_destroy(&run.aux, err, sizeof err) < 0)
		mg_run_error(r, "%s", err);
	if (run.have_cg && run.r->started)
		read_cgroup_figures(&run);
	mg_phases_finish(&run);
	if (run.have_cg) {
		if (mg_cgroup_destroy(&run.cg, err, sizeof err) < 0)
			mg_run_error(r, "%s", err);
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
		mg_run_error(r, "interrupted by SIG%s: the tree was killed", sigabbrev_np(r->interrupted_by));
	mg_series_finish(&r->series);
	mg_series_finish(&r->series_cgroup);
	mg_series_finish(&r->series_anon);
	if (r->started)
		fit_growth(&run);
	mg_sampler_finish(&run);
	release(&run);
	r->self_cpu_ms = self_cpu_ms() - cpu0;
	r->self_maxrss_bytes = self_maxrss();
}
