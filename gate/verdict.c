#include "verdict.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

const char *mg_verdict_name(enum mg_verdict v)
{
	switch (v) {
	case MG_VERDICT_PASS:
		return "pass";
	case MG_VERDICT_FAIL:
		return "fail";
	default:
		return "error";
	}
}

enum mg_verdict mg_verdict_worst(enum mg_verdict a, enum mg_verdict b)
{
	return a > b ? a : b;
}

int64_t mg_metric_value(const struct mg_result *r, enum mg_metric m)
{
	switch (m) {
	case MG_METRIC_TREE_RSS:
		return r->tree_rss_bytes;
	case MG_METRIC_CGROUP:
		return r->cgroup_bytes;
	case MG_METRIC_MAX_PROCESS_HWM:
		return r->max_process_hwm_bytes;
	case MG_METRIC_PSS:
		return r->tree_pss_bytes;
	default:
		return MG_UNKNOWN;
	}
}

static void reason(struct mg_judgement *j, enum mg_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reason(struct mg_judgement *j, enum mg_verdict v, const char *fmt, ...)
{
	j->verdict = mg_verdict_worst(j->verdict, v);
	if (j->nreasons >= MG_MAX_REASONS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->reasons[j->nreasons++], sizeof j->reasons[0], fmt, ap);
	va_end(ap);
}

static void judge_exit(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	char a[32];
	if (r->timed_out) {
		mg_format_duration(f->timeout_ms, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "timed out after %s: the tree was killed", a);
	} else if (r->oom_killed) {
		mg_format_mib(f->kill_above, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "OOM-killed: the tree reached kill_above %s", a);
	} else if (r->signal) {
		reason(j, MG_VERDICT_FAIL, "killed by signal %d (SIG%s)", r->signal, sigabbrev_np(r->signal));
	} else if (r->exited && r->exit_code != 0) {
		reason(j, MG_VERDICT_FAIL, "exited with code %d", r->exit_code);
	}
}

static void judge_limits(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	for (int m = 0; m < MG_METRIC_COUNT; m++) {
		if (f->limits[m] == MG_NO_LIMIT)
			continue;
		struct mg_check *c = &j->checks[j->nchecks++];
		c->metric = (enum mg_metric)m;
		c->limit_bytes = f->limits[m];
		c->value_bytes = mg_metric_value(r, c->metric);
		c->ok = c->value_bytes != MG_UNKNOWN && c->value_bytes <= c->limit_bytes;
		if (r->error[0])
			continue; /* the error already says why nothing can be judged */
		char v[32], l[32];
		mg_format_mib(c->limit_bytes, l, sizeof l);
		if (c->value_bytes == MG_UNKNOWN) {
			reason(j, MG_VERDICT_ERROR, "%s limit %s cannot be checked: not measured with %s%s%s",
			       mg_metric_name(c->metric), l, mg_method_name(r->method),
			       r->fallback_reason[0] ? " — " : "", r->fallback_reason);
		} else if (!c->ok) {
			mg_format_mib(c->value_bytes, v, sizeof v);
			reason(j, MG_VERDICT_FAIL, "%s %s > limit %s", mg_metric_name(c->metric), v, l);
		}
	}
}

void mg_judge(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	memset(j, 0, sizeof *j);
	j->verdict = MG_VERDICT_PASS;
	if (r->error[0])
		reason(j, MG_VERDICT_ERROR, "%s", r->error);
	if (r->started)
		judge_exit(f, r, j);
	judge_limits(f, r, j);
}

int mg_exit_status(enum mg_verdict overall, int interrupted_by)
{
	if (interrupted_by)
		return 128 + interrupted_by;
	switch (overall) {
	case MG_VERDICT_PASS:
		return 0;
	case MG_VERDICT_FAIL:
		return 1;
	default:
		return 3;
	}
}
