#include "measure/tool.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "measure/spawn.h"

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
	int status;
	for (int64_t waited = 0;; waited += 10) {
		pid_t w = waitpid(out.pid, &status, WNOHANG);
		if (w == out.pid)
			return rc == 0 ? status : -1;
		if (w < 0 && errno != EINTR) {
			snprintf(err, len, "cannot wait for %s: " MG_ERRNO_FMT, sp.what, MG_ERRNO(errno));
			return -1;
		}
		if (waited >= t->timeout_ms) {
			kill(out.pid, SIGKILL); /* our child, not reaped: its pid is still its own */
			waitpid(out.pid, &status, 0);
			snprintf(err, len, "%s did not finish in %lld ms: killed", sp.what, (long long)t->timeout_ms);
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
