/* supervise: run one fixture's command as a measured process tree.
 * Starts it inside a fresh cgroup (or, without one, as memgate's descendant:
 * memgate is a child subreaper, so even daemons stay in its tree), samples
 * /proc at an interval, reaps with wait4 (ru_maxrss), enforces the timeout,
 * and tears the whole tree down. It never formats anything. */
#ifndef MG_SUPERVISE_H
#define MG_SUPERVISE_H

#include <signal.h>

#include "config.h"
#include "identity.h"
#include "result.h"

/* The supervisor's process-wide setup, made once in main and passed down:
 * memgate handles SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGCHLD synchronously
 * (blocked, taken with sigtimedwait), and the child gets the old mask back. */
struct mg_supervisor {
	sigset_t waited;        /* blocked in memgate, taken by sigtimedwait */
	sigset_t child_mask;    /* the mask memgate started with */
	const char *cgroup_root;/* --cgroup-root / config; NULL: memgate's own cgroup */
	int interrupted_by;     /* set once SIGINT/SIGTERM arrived: later fixtures are skipped */
	struct mg_identity run_as; /* under sudo: the invoking user */
	int sigfd;              /* signalfd for `waited` */
};

int mg_supervisor_init(struct mg_supervisor *sv, char *err, size_t len);
/* Restore the signal mask (for after the runs). */
void mg_supervisor_done(struct mg_supervisor *sv);

/* Run f; fill r (mg_result_init first). Never fails: problems end up in r->error. */
void mg_supervise(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r);

#endif
