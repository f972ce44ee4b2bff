/* watchdog: makes it impossible to orphan a fixture. For each fixture,
 * memgate forks a tiny process, outside the measured cgroup, that waits on a
 * pipe. memgate tells it every pid that becomes its direct child (the
 * command, the service, the driver, orphans handed to it as subreaper). At a
 * normal end memgate says "done" and reaps it. If the pipe closes without
 * that (memgate was SIGKILLed, or crashed), the watchdog kills the fixture:
 * the cgroups it was given (cgroup.kill, or each verified member), which it
 * then removes, and the process trees below the pids it was told, frozen
 * with SIGSTOP until no new process appears, then SIGKILLed, each verified
 * (kill.h). It removes memgate's temp dirs, and says so on stderr.
 * Nothing else is ever signalled. */
#ifndef MG_WATCHDOG_H
#define MG_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "measure/cgroup.h"
#include "tmpdir.h"

#define MG_WATCHDOG_MAX_CGROUPS 2
#define MG_WATCHDOG_MAX_DIRS 3

struct mg_watchdog {
	pid_t pid;              /* -1 when not running */
	int fd;                 /* memgate's end of the pipe, -1 when closed */
};

/* Fork the watchdog, guarding the given cgroups (NULL entries skipped),
 * and memgate's temp dirs (NULL or path "" skipped: removed after the kill,
 * by descriptor, tmpdir.h). 0, or -1 with err (the fixture must then not
 * start). */
int mg_watchdog_start(struct mg_watchdog *w, const struct mg_cgroup *const *cgs, size_t ncg,
		      const struct mg_tmpdir *const *dirs, size_t ndirs, char *err, size_t len);
/* pid is memgate's direct child, not yet reaped: watch its tree. 0, or -1
 * when the watchdog is gone (it can no longer protect this run). */
int mg_watchdog_watch(struct mg_watchdog *w, pid_t pid);
/* Is pid the watchdog? (reaping: it is never a fixture process) */
bool mg_watchdog_is(const struct mg_watchdog *w, pid_t pid);
/* A normal end: "done", then reap it. Safe to call twice. */
void mg_watchdog_stop(struct mg_watchdog *w);

#endif
