/* verdict: compare one fixture's result with its limits. Pure: no I/O.
 * pass  = measured, exited 0, every limit met;
 * fail  = a limit exceeded, non-zero exit, signal, timeout or OOM kill;
 * error = could not measure (or a limit's figure is unavailable): never a pass. */
#ifndef MG_VERDICT_H
#define MG_VERDICT_H

#include "config.h"
#include "metric.h"
#include "result.h"


#define MG_MAX_REASONS 16

struct mg_check {
	enum mg_metric metric;
	int64_t limit_bytes;
	int64_t value_bytes;     /* MG_UNKNOWN when not measured */
	bool ok;
};

struct mg_judgement {
	enum mg_verdict verdict;
	char reasons[MG_MAX_REASONS][320];
	int nreasons;
	struct mg_check checks[MG_METRIC_COUNT];
	int nchecks;
};

int64_t mg_metric_value(const struct mg_result *r, enum mg_metric m);
void mg_judge(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j);
/* 0 pass, 1 fail, 3 error; 128+signal when memgate was interrupted. */
int mg_exit_status(enum mg_verdict overall, int interrupted_by);

/* Was a phase's figure for m (cgroup, max_process_hwm) sampled where the
 * kernel's own could have been read? */
bool mg_phase_sampled(const struct mg_phase *p, enum mg_metric m);
/* A phase's figure for metric m, MG_UNKNOWN when it is not measured per phase. */
int64_t mg_phase_value(const struct mg_phase *p, enum mg_metric m);
/* Does a phase named name match a phase_limits key: 2 it is that name, 1
 * a glob (fnmatch) that matches it, 0 not at all. */
int mg_phase_match(const char *match, const char *name);
/* The checks of phase p against the fixture's phase_limits that match its
 * name (checks holds MG_METRIC_COUNT); the phase's verdict. */
enum mg_verdict mg_judge_phase(const struct mg_fixture *f, const struct mg_phase *p, struct mg_check *checks,
			       int *nchecks);

#endif
