/* service_run: service mode's phases (service_run.h). */
#include "measure/service_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "measure/capture.h"
#include "measure/kill.h"
#include "measure/phases.h"
#include "measure/sampler.h"
#include "regex_guard.h"
#include "units.h"


/* The driver runs outside the measured cgroup: its memory is not the service's. */
static int spawn_driver(struct run *run)
{
	struct mg_spawn sp = mg_run_spawn_spec(run, run->drv_argv, "driver", true, false);
	sp.cg = run->have_aux ? &run->aux : NULL; /* contained, not measured */
	struct mg_spawned out;
	struct mg_service_result *s = &run->r->service;
	int rc = mg_spawn(&sp, &out, s->driver.error, sizeof s->driver.error);
	run->driver_pid = out.pid;
	run->out[DRV_OUT].fd = out.out_fd;
	run->out[DRV_ERR].fd = out.err_fd;
	s->driver.start_ms = mg_run_now_ms() - run->t0;
	if (rc < 0)
		return -1;
	s->driver.started = true;
	return 0;
}

void mg_driver_exited(struct run *run, int status)
{
	struct mg_service_result *s = &run->r->service;
	run->driver_done = true;
	s->driver.end_ms = mg_run_now_ms() - run->t0;
	if (WIFEXITED(status)) {
		s->driver.exited = true;
		s->driver.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		s->driver.signal = WTERMSIG(status);
	}
}

/* ---- service phases ----------------------------------------------------- */

static void to_stopping(struct run *run)
{
	mg_phase_switch(run, "shutdown");
	run->phase = PH_STOPPING;
	run->phase_deadline = mg_deadline_ms(mg_run_now_ms(), run->f->service.stop_grace_ms);
	if (!run->main_done) {
		run->r->service.stopped = true;
		if (run->opts->stop_child_env) {
			/* a wrapper's program (heaptrack's script's child), verified */
			char err[256];
			int n = mg_signal_children_with_env(&run->tree, run->main_pid, run->opts->stop_child_env,
							    run->f->service.stop_signal, err, sizeof err);
			if (n < 0)
				mg_result_note(run->r, "stopping the service: %s", err);
			else if (n == 0)
				mg_result_note(run->r, "stopping the service: no child of process %d has %s in its "
						       "environment: nothing signalled", (int)run->main_pid,
					       run->opts->stop_child_env);
		} else {
			/* our own child, not reaped yet: its pid cannot have been reused */
			kill(run->main_pid, run->f->service.stop_signal);
		}
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
		mg_run_error(run->r, "service.ready: %s", why);
	return rc;
}

/* Advance the service's phases; returns the time it next needs to act. */
int64_t mg_step_service(struct run *run, int64_t now)
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
				if (mg_sample(run, true) < 0) /* the baseline growth per request is measured from */
					return now;
				s->rss_at_ready_bytes = mg_sample_tree_rss(run);
				mg_phase_switch(run, "load"); /* the driver runs from here */
				if (spawn_driver(run) < 0) {
					s->outcome = MG_SVC_DRIVER_FAILED;
					to_stopping(run);
					return now;
				}
				run->phase = PH_DRIVING;
				run->phase_deadline = mg_deadline_ms(now, run->f->driver.timeout_ms);
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
			if (mg_sample(run, true) < 0) /* every request served is in RSS now */
				return now;
			s->rss_after_driver_bytes = mg_sample_tree_rss(run);
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

void mg_free_argv(char **v)
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
			mg_free_argv(out);
			return NULL;
		}
	return out;
}

/* Service mode: pick the port, substitute it, prepare the readiness check
 * and the output tails. */
int mg_prepare_service(struct run *run)
{
	const struct mg_fixture *f = run->f;
	struct mg_service_result *s = &run->r->service;
	char err[256];
	s->used = true;
	if (mg_free_port(&s->port, err, sizeof err) < 0) {
		mg_run_error(run->r, "%s", err);
		return -1;
	}
	run->svc_argv = subst_argv(f->argv, s->port);
	run->drv_argv = subst_argv(f->driver.argv, s->port);
	run->ready_target = f->service.ready_target ? mg_subst_port(f->service.ready_target, s->port) : NULL;
	for (int i = 0; i < 4; i++)
		run->out[i].tail = calloc(1, sizeof *run->out[i].tail);
	if (!run->svc_argv || !run->drv_argv || (f->service.ready_target && !run->ready_target) ||
	    !run->out[0].tail || !run->out[1].tail || !run->out[2].tail || !run->out[3].tail) {
		mg_run_error(run->r, "out of memory");
		return -1;
	}
	if (f->service.ready == MG_READY_STDOUT) {
		/* the loader checked it too; a fixture built elsewhere must not reach regcomp unbounded */
		char why[400];
		if (mg_regex_check(run->ready_target, why, sizeof why) < 0) {
			mg_run_error(run->r, "service.ready.stdout: %s", why);
			return -1;
		}
		int rc = regcomp(&run->ready_re, run->ready_target, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &run->ready_re, err, sizeof err);
			mg_run_error(run->r, "service.ready.stdout: bad regular expression: %s", err);
			return -1;
		}
		run->have_re = true;
	}
	run->phase = PH_STARTING;
	return 0;
}
