/* run: the helpers the parts of the supervisor share (run.h). */
#include "measure/run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int64_t mg_run_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mg_run_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void mg_run_error(struct mg_result *r, const char *fmt, ...)
{
	if (r->error[0])
		return; /* the first error is the cause; later ones follow from it */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
}

/* ---- spawning ---------------------------------------------------------- */

struct mg_spawn mg_run_spawn_spec(struct run *run, char *const *argv, const char *what, bool capture,
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
		.start_timeout_ms = f->timeout_ms, /* the run's bound holds before exec too */
	};
}
