/* spawn: start one process the way memgate needs: inside a cgroup from its
 * first instruction (clone3 CLONE_INTO_CGROUP, or held on a pipe until it
 * is moved in), as the right user, with stdin/cwd/env set, optionally with
 * stdout/stderr captured, and knowing for sure whether exec worked. */
#ifndef MG_SPAWN_H
#define MG_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "measure/cgroup.h"
#include "config.h"
#include "identity.h"
#include "measure/watchdog.h"

/* Credentials memgate itself may use (commit statuses, the Actions
 * runtime): removed from every child's environment, so the measured code
 * never sees them, unless the fixture's own "env" sets one explicitly. */
#define MG_STRIPPED_ENV                                                          \
	{ "GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "ACTIONS_RUNTIME_TOKEN",   \
	  "ACTIONS_ID_TOKEN_REQUEST_TOKEN", NULL }

struct mg_spawn {
	char *const *argv;              /* NULL-terminated */
	char *const *env;               /* "K=V" on top of memgate's environment, or NULL */
	char *const *extra_env;         /* memgate's own additions, applied last, or NULL */
	const char *cwd;                /* NULL: memgate's */
	enum mg_stdin_mode stdin_mode;
	const char *stdin_path;
	struct mg_cgroup *cg;           /* NULL: stays in memgate's cgroup */
	const struct mg_identity *run_as;
	const sigset_t *child_mask;     /* the signal mask the child gets back */
	bool capture;                   /* stdout/stderr into pipes (non-blocking, close-on-exec) */
	const char *output_path;        /* or stdout+stderr into this file, created by the child as
					 * the user (never following a symlink); NULL: inherited */
	struct mg_watchdog *watchdog;   /* told the pid before it may exec, or NULL */
	bool die_with_memgate;          /* PR_SET_PDEATHSIG: a helper tool, not a fixture (the
					 * watchdog takes care of those) */
	const char *what;               /* "command", "service", "driver": for messages */
	int64_t start_timeout_ms;       /* > 0: the child must exec within this long (opening a
					 * FIFO as stdin, a hung cwd can block it before exec), else
					 * it is killed and mg_spawn fails; 0: no bound */
};

struct mg_spawned {
	pid_t pid;                      /* > 0 once forked, even when exec then failed */
	int out_fd, err_fd;             /* read ends when capture, else -1 */
};

/* 0 when exec succeeded. -1 with err otherwise; if out->pid > 0 the child
 * exists (it exits 127 without exec) and must still be reaped. */
int mg_spawn(const struct mg_spawn *sp, struct mg_spawned *out, char *err, size_t len);
/* err (from mg_spawn, or mg_run_tool) says the program is not on PATH. */
bool mg_spawn_not_found(const char *err);

/* A signal that interrupts memgate (blocked, read from its signalfd by the
 * supervisor), pending now: its number, left pending; else 0. */
int mg_pending_interrupt(void);

#endif
