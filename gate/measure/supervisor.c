/* supervisor: memgate's process-wide setup for measuring (supervisor.h). */
#include "error.h"
#include "measure/supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

int mg_supervisor_init(struct mg_supervisor *sv, char *err, size_t len)
{
	memset(sv, 0, sizeof *sv);
	sv->sigfd = -1;
	sigemptyset(&sv->waited);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&sv->waited, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &sv->waited, &sv->child_mask) < 0) {
		snprintf(err, len, "sigprocmask: %s (%s)", MG_ERRNO(errno));
		return -1;
	}
	/* Signals arrive as reads on an fd, so one poll() waits for them, the
	 * next sample, and the service's and driver's output at once. */
	sv->sigfd = signalfd(-1, &sv->waited, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sv->sigfd < 0) {
		snprintf(err, len, "signalfd: %s (%s)", MG_ERRNO(errno));
		return -1;
	}
	if (mg_identity_from_env(&sv->run_as, err, len) < 0)
		return -1;
	/* Orphans of the fixture (double-forked daemons) are re-parented to us,
	 * so they stay measurable, killable and reapable (ru_maxrss). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		snprintf(err, len, "prctl(PR_SET_CHILD_SUBREAPER): %s (%s)", MG_ERRNO(errno));
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
