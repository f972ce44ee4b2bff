#include "measure/tool.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "measure/spawn.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mg_run_tool(const struct mg_tool *t, char *err, size_t len)
{
	sigset_t now;
	if (!t->child_mask && sigprocmask(SIG_SETMASK, NULL, &now) < 0)
		sigemptyset(&now);
	struct mg_spawn sp = {
		.argv = t->argv,
		.env = t->env,
		.cwd = t->cwd,
		.stdin_mode = MG_STDIN_NULL,
		.run_as = t->run_as,
		.child_mask = t->child_mask ? t->child_mask : &now,
		.output_path = t->log ? t->log : "/dev/null",
		.die_with_memgate = true,
		.what = t->what ? t->what : t->argv[0],
	};
	struct mg_spawned out;
	int rc = mg_spawn(&sp, &out, err, len);
	if (out.pid <= 0)
		return -1;
	int status, sig = 0;
	int64_t deadline = now_ms() + t->timeout_ms;
	for (;;) {
		pid_t w = waitpid(out.pid, &status, WNOHANG);
		if (w == out.pid)
			return rc == 0 ? status : -1;
		if (w < 0 && errno != EINTR) {
			snprintf(err, len, "cannot wait for %s: " MG_ERRNO_FMT, sp.what, MG_ERRNO(errno));
			return -1;
		}
		/* Ctrl-C or a TERM stops the tool at once (left pending for the
		 * supervisor, which ends the run), not after its time limit */
		if (now_ms() >= deadline || (sig = mg_pending_interrupt())) {
			kill(out.pid, SIGKILL); /* our child, not reaped: its pid is still its own */
			waitpid(out.pid, &status, 0);
			if (sig)
				snprintf(err, len, "%s stopped: memgate was interrupted (SIG%s)", sp.what,
					 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
			else
				snprintf(err, len, "%s did not finish in %lld s: killed (a very large capture takes "
					 "longer: a shorter run helps)", sp.what, (long long)(t->timeout_ms / 1000));
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
