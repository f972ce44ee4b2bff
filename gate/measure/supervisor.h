/* supervisor: memgate's process-wide setup for measuring, made once per
 * command and passed down to every fixture's run. */
#ifndef MG_SUPERVISOR_H
#define MG_SUPERVISOR_H

#include <signal.h>
#include <stddef.h>

#include "identity.h"

/* The supervisor's process-wide setup, made once in main and passed down:
 * memgate handles SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGCHLD synchronously
 * (blocked, taken with sigtimedwait), and the child gets the old mask back. */
struct mg_supervisor {
	sigset_t waited;        /* blocked in memgate, taken by sigtimedwait */
	sigset_t child_mask;    /* the mask memgate started with */
	const char *cgroup_root;/* --cgroup-root / config; NULL: memgate's own cgroup */
	int interrupted_by;     /* set once SIGINT/SIGTERM arrived: later fixtures are skipped */
	struct mg_identity run_as; /* under sudo: the invoking user */
	/* --artifacts DIR: where heap attribution leaves files for people (the
	 * flame graph); NULL: none. dir is absolute (tools run in the fixture's
	 * cwd); shown is DIR as given, for the report. */
	const char *artifacts_dir, *artifacts_shown;
	int sigfd;              /* signalfd for `waited` */
};

int mg_supervisor_init(struct mg_supervisor *sv, char *err, size_t len);
/* Restore the signal mask (for after the runs). */
void mg_supervisor_done(struct mg_supervisor *sv);

#endif
