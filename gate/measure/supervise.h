/* supervise: run one fixture's command as a measured process tree.
 * Starts it inside a fresh cgroup (or, without one, as memgate's descendant:
 * memgate is a child subreaper, so even daemons stay in its tree), samples
 * /proc at an interval, reaps with wait4 (ru_maxrss), enforces the timeout,
 * and tears the whole tree down. It never formats anything. */
#ifndef MG_SUPERVISE_H
#define MG_SUPERVISE_H

#include "config.h"
#include "measure/run_opts.h"
#include "measure/supervisor.h"
#include "result.h"

/* Run f; fill r (mg_result_init first). Never fails: problems end up in r->error. */
void mg_supervise(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r);
/* The same with o (NULL: as mg_supervise). */
void mg_supervise_with(struct mg_supervisor *sv, const struct mg_fixture *f, const struct mg_supervise_opts *o,
		       struct mg_result *r);

#endif
