/* tool: run a helper program to completion (memray, an import probe, a
 * doctor's check) through the one spawner, as the user fixtures run as,
 * within a time limit, its output in a file. */
#ifndef MG_TOOL_H
#define MG_TOOL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"

struct mg_tool {
	char *const *argv;              /* NULL-terminated, found on PATH */
	char *const *env;               /* "K=V" on top of memgate's, or NULL */
	const char *cwd;                /* NULL: memgate's */
	const struct mg_identity *run_as; /* NULL: memgate's own user */
	const sigset_t *child_mask;     /* the mask it gets; NULL: memgate's now */
	const char *log;                /* stdout and stderr into this new file; NULL: /dev/null */
	int64_t timeout_ms;             /* then SIGKILL */
	const char *what;               /* for messages */
};

/* Its wait status, or -1 with err (could not start, or timed out). */
int mg_run_tool(const struct mg_tool *t, char *err, size_t len);

#endif
