#include "verdict.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define STR_(x) #x
#define MG_STR(x) STR_(x)

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
	case MG_METRIC_CGROUP_ANON:
		return r->cgroup_anon_bytes;
	case MG_METRIC_GROWTH: /* bytes per second, rounded; a line through a handful of
				* points is noise (3 gave R² 0.13 and failed a plain command) */
		return r->growth.valid && r->growth.points >= MG_GROWTH_MIN_GATE_POINTS
			       ? (int64_t)(r->growth.bytes_per_s + (r->growth.bytes_per_s < 0 ? -0.5 : 0.5))
			       : MG_UNKNOWN;
	case MG_METRIC_GROWTH_PER_REQUEST:
		return r->growth_per_request_bytes;
	case MG_METRIC_PYTHON_HEAP: /* its first name: the same figure, whatever the tool */
	case MG_METRIC_HEAP:
		return r->python_heap_bytes;
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

/* "10s", "1.5s", "250ms": the way a config writes durations */
static void short_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
}

/* "code 3" / "signal 11 (SIGSEGV)" */
static void status_words(bool exited, int code, int sig, char *buf, size_t len)
{
	if (sig)
		snprintf(buf, len, "signal %d (SIG%s)", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	else if (exited)
		snprintf(buf, len, "code %d", code);
	else
		snprintf(buf, len, "an unknown status");
}

/* How a service-mode run went; true when the service's own exit was judged. */
static bool judge_service(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	const struct mg_service_result *s = &r->service;
	char a[48];
	status_words(r->exited, r->exit_code, r->signal, a, sizeof a);
	switch (s->outcome) {
	case MG_SVC_DIED_BEFORE_READY:
		reason(j, MG_VERDICT_FAIL, "service exited before it was ready, with %s", a);
		return true;
	case MG_SVC_NOT_READY:
		short_duration(f->service.ready_timeout_ms, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "not ready after %s", a);
		return true;
	case MG_SVC_DIED_EARLY:
		reason(j, MG_VERDICT_FAIL, "service exited while the driver ran, with %s", a);
		return true;
	case MG_SVC_DRIVER_TIMEOUT:
		short_duration(f->driver.timeout_ms, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "driver timed out after %s", a);
		break;
	case MG_SVC_DRIVER_FAILED:
		if (!s->driver.started) {
			reason(j, MG_VERDICT_FAIL, "driver did not start: %s", s->driver.error);
		} else {
			status_words(s->driver.exited, s->driver.exit_code, s->driver.signal, a, sizeof a);
			reason(j, MG_VERDICT_FAIL, "driver failed with %s", a);
		}
		break;
	case MG_SVC_OK:
		break;
	}
	/* Stopped by us: exiting 0, by the stop signal, or as 128+signal (a
	 * shell wrapper) is the expected end. */
	int stop = f->service.stop_signal;
	bool clean = r->signal == stop || (r->exited && (r->exit_code == 0 || r->exit_code == 128 + stop));
	if (s->stopped && !clean && !s->killed_after_grace && !r->timed_out && !r->oom_killed) {
		status_words(r->exited, r->exit_code, r->signal, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "service exited with %s after SIG%s", a, sigabbrev_np(stop));
	}
	return s->stopped;
}

static void judge_exit(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	char a[32];
	bool service_judged = r->service.used && judge_service(f, r, j);
	if (r->timed_out) {
		mg_format_duration(f->timeout_ms, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "timed out after %s: the tree was killed", a);
	} else if (r->oom_killed) {
		mg_format_mib(f->kill_above, a, sizeof a);
		reason(j, MG_VERDICT_FAIL, "OOM-killed: the tree reached kill_above %s", a);
	} else if (service_judged) {
		return;
	} else if (r->signal) {
		reason(j, MG_VERDICT_FAIL, "killed by signal %d (SIG%s)", r->signal, sigabbrev_np(r->signal));
	} else if (r->exited && r->exit_code != 0) {
		reason(j, MG_VERDICT_FAIL, "exited with code %d", r->exit_code);
	}
}

/* Growth limits are rates; everything else is bytes. */
static void format_metric(enum mg_metric m, int64_t v, char *buf, size_t len)
{
	char mib[32];
	mg_format_mib(v, mib, sizeof mib);
	if (m == MG_METRIC_GROWTH)
		snprintf(buf, len, "%s/s", mib);
	else if (m == MG_METRIC_GROWTH_PER_REQUEST && v < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB/request", (double)v / 1024.0);
	else if (m == MG_METRIC_GROWTH_PER_REQUEST)
		snprintf(buf, len, "%s/request", mib);
	else
		snprintf(buf, len, "%s", mib);
}

static const char *why_unknown(const struct mg_fixture *f, enum mg_metric m, const struct mg_result *r)
{
	switch (m) {
	case MG_METRIC_GROWTH:
		return "too few steady samples to fit a slope (at least " MG_STR(MG_GROWTH_MIN_GATE_POINTS)
		       " after the warm-up; a longer run or a shorter interval helps)";
	case MG_METRIC_GROWTH_PER_REQUEST:
		return r->service.used ? "the driver's last line was not \"requests=N\""
				       : "growth_per_request needs a service and a driver";
	case MG_METRIC_PYTHON_HEAP:
	case MG_METRIC_HEAP:
		if (f->heap.tool != MG_HEAP_NONE) /* an optional tool missing, a program killed: a note says */
			return "the heap tool gave no figure (the notes say why)";
		return m == MG_METRIC_HEAP ? "no heap attribution (set \"heap\": {\"tool\": \"tracemalloc\"}, or "
					     "\"memray\" or \"heaptrack\")"
					   : "no Python heap report (set \"python\": {\"heap\": \"tracemalloc\"})";
	default:
		return NULL;
	}
}

/* pss and cgroup_anon have no high-water mark: a sampled maximum bounds the
 * peak from below, so a fail stands on one read and a pass does not. It is
 * proven under a ceiling (PSS never exceeds the RSS it divides, anon never
 * the cgroup's usage, exact at its peak); over it, the figure must have been
 * read while its ceiling was over the limit too. A run that held 30 MiB
 * between two ticks, read before and after, passed a 20 MiB limit. */
static bool unproven_pass(const struct mg_check *c, const struct mg_result *r)
{
	if (c->metric == MG_METRIC_PSS)
		return r->tree_rss_bytes > c->limit_bytes && r->pss_read_at <= c->limit_bytes;
	if (c->metric == MG_METRIC_CGROUP_ANON)
		return r->cgroup_bytes != MG_UNKNOWN && r->cgroup_bytes > c->limit_bytes &&
		       r->cgroup_anon_read_at <= c->limit_bytes;
	return false;
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
		char v[48], l[48];
		format_metric(c->metric, c->limit_bytes, l, sizeof l);
		const char *why = why_unknown(f, c->metric, r);
		if (c->value_bytes == MG_UNKNOWN && j->verdict == MG_VERDICT_FAIL)
			continue; /* the failure already explains the missing figure */
		if (c->value_bytes == MG_UNKNOWN && why) {
			reason(j, MG_VERDICT_ERROR, "%s limit %s cannot be checked: %s", mg_metric_name(c->metric), l, why);
		} else if (c->value_bytes == MG_UNKNOWN) {
			reason(j, MG_VERDICT_ERROR, "%s limit %s cannot be checked: not measured with %s%s%s",
			       mg_metric_name(c->metric), l, mg_method_name(r->method),
			       r->fallback_reason[0] ? " — " : "", r->fallback_reason);
		} else if (c->ok && unproven_pass(c, r)) {
			c->ok = false;
			bool pss = c->metric == MG_METRIC_PSS;
			char ceil[48];
			format_metric(MG_METRIC_TREE_RSS, pss ? r->tree_rss_bytes : r->cgroup_bytes, ceil, sizeof ceil);
			reason(j, MG_VERDICT_ERROR,
			       "%s limit %s cannot be checked: %s, its ceiling, went over it (%s) only between reads of %s "
			       "(a longer run, or a shorter interval, helps)",
			       mg_metric_name(c->metric), l, pss ? "tree_rss" : "the cgroup", ceil,
			       pss ? "PSS" : "memory.stat");
		} else if (!c->ok && c->metric == MG_METRIC_GROWTH) {
			format_metric(c->metric, c->value_bytes, v, sizeof v);
			reason(j, MG_VERDICT_FAIL, "growth %s > limit %s (R² %.2f over %zu samples)", v, l, r->growth.r2,
			       r->growth.points);
		} else if (!c->ok) {
			format_metric(c->metric, c->value_bytes, v, sizeof v);
			reason(j, MG_VERDICT_FAIL, "%s %s > limit %s", mg_metric_name(c->metric), v, l);
		}
	}
}

int64_t mg_phase_value(const struct mg_phase *p, enum mg_metric m)
{
	switch (m) {
	case MG_METRIC_TREE_RSS:
		return p->tree_rss_bytes;
	case MG_METRIC_CGROUP:
		return p->cgroup_bytes;
	case MG_METRIC_CGROUP_ANON:
		return p->cgroup_anon_bytes;
	case MG_METRIC_MAX_PROCESS_HWM:
		return p->max_process_hwm_bytes;
	default:
		return MG_UNKNOWN; /* not measured per phase */
	}
}

bool mg_phase_sampled(const struct mg_phase *p, enum mg_metric m)
{
	if (m == MG_METRIC_CGROUP)
		return !p->cgroup_exact;
	if (m == MG_METRIC_MAX_PROCESS_HWM)
		return !p->hwm_exact;
	return false; /* tree_rss and cgroup_anon are sampled for the fixture too: nothing to add */
}

/* Does phase name match a phase_limits entry (its name, or a glob)? A
 * name is compared whole first: test ids hold '[' and ']'. */
int mg_phase_match(const char *match, const char *name)
{
	if (strcmp(match, name) == 0)
		return 2;
	return fnmatch(match, name, 0) == 0 ? 1 : 0;
}

enum mg_verdict mg_judge_phase(const struct mg_fixture *f, const struct mg_phase *p, struct mg_check *checks,
			       int *nchecks)
{
	/* per metric: the entry naming the phase exactly, else the tightest
	 * glob that matches, so the order of the entries never matters */
	int64_t limit[MG_METRIC_COUNT];
	int how[MG_METRIC_COUNT] = {0};
	for (int m = 0; m < MG_METRIC_COUNT; m++)
		limit[m] = MG_NO_LIMIT;
	for (size_t k = 0; k < f->nphase_limits; k++) {
		const struct mg_phase_limits *pl = &f->phase_limits[k];
		int hit = mg_phase_match(pl->match, p->name);
		for (int m = 0; hit && m < MG_METRIC_COUNT; m++) {
			int64_t l = pl->limits[m];
			if (l == MG_NO_LIMIT || hit < how[m] || (hit == how[m] && l >= limit[m]))
				continue;
			limit[m] = l;
			how[m] = hit;
		}
	}
	enum mg_verdict v = MG_VERDICT_PASS;
	*nchecks = 0;
	for (int m = 0; m < MG_METRIC_COUNT; m++) {
		if (limit[m] == MG_NO_LIMIT)
			continue;
		struct mg_check *c = &checks[(*nchecks)++];
		c->metric = (enum mg_metric)m;
		c->limit_bytes = limit[m];
		c->value_bytes = mg_phase_value(p, c->metric);
		c->ok = c->value_bytes != MG_UNKNOWN && c->value_bytes <= c->limit_bytes;
		v = mg_verdict_worst(v, c->ok ? MG_VERDICT_PASS
					     : c->value_bytes == MG_UNKNOWN ? MG_VERDICT_ERROR : MG_VERDICT_FAIL);
	}
	return v;
}

struct phase_miss {
	const struct mg_phase *p;
	struct mg_check c;
	double over; /* value / limit; +inf when it could not be checked */
};

static int cmp_miss(const void *a, const void *b)
{
	const struct phase_miss *x = a, *y = b;
	return (y->over > x->over) - (y->over < x->over);
}

#define PHASE_REASONS 10 /* the worst ones are named; the rest counted */

/* Every phase with a limit: a phase over one fails the fixture, named, the
 * worst offender first. */
static void judge_phases(const struct mg_fixture *f, const struct mg_result *r, struct mg_judgement *j)
{
	if (!f->nphase_limits || r->error[0])
		return;
	struct phase_miss worst[PHASE_REASONS + 1];
	size_t nworst = 0, nmiss = 0;
	for (size_t i = 0; i < r->nphases; i++) {
		struct mg_check checks[MG_METRIC_COUNT];
		int n;
		mg_judge_phase(f, &r->phases[i], checks, &n);
		for (int c = 0; c < n; c++) {
			if (checks[c].ok)
				continue;
			nmiss++;
			struct phase_miss m = {&r->phases[i], checks[c],
					       checks[c].value_bytes == MG_UNKNOWN
						       ? 1e300
						       : (double)checks[c].value_bytes / (double)(checks[c].limit_bytes + 1)};
			/* keep the PHASE_REASONS worst: insert, sort, drop the last */
			worst[nworst++] = m;
			qsort(worst, nworst, sizeof worst[0], cmp_miss);
			if (nworst > PHASE_REASONS)
				nworst = PHASE_REASONS;
			j->verdict = mg_verdict_worst(j->verdict, checks[c].value_bytes == MG_UNKNOWN ? MG_VERDICT_ERROR
												: MG_VERDICT_FAIL);
		}
	}
	for (size_t k = 0; k < nworst; k++) {
		const struct phase_miss *m = &worst[k];
		char v[48], l[48];
		format_metric(m->c.metric, m->c.limit_bytes, l, sizeof l);
		if (m->c.value_bytes == MG_UNKNOWN) {
			reason(j, MG_VERDICT_ERROR,
			       "phase %.80s: %s limit %s cannot be checked: not measured for this phase (phases that "
			       "overlap, as pytest-xdist's tests do, have cgroup and max_process_hwm only)",
			       m->p->name, mg_metric_name(m->c.metric), l);
		} else {
			format_metric(m->c.metric, m->c.value_bytes, v, sizeof v);
			reason(j, MG_VERDICT_FAIL, "phase %.80s: %s %s > limit %s%s", m->p->name,
			       mg_metric_name(m->c.metric), v, l, mg_phase_sampled(m->p, m->c.metric) ? " (sampled)" : "");
		}
	}
	if (nmiss > nworst)
		reason(j, MG_VERDICT_FAIL, "... and %zu more phase limits exceeded (the report's \"phases\" lists all)",
		       nmiss - nworst);
}

/* A phase_limits entry that matched no phase of a run that otherwise
 * passes: its limits were never checked (a misspelt name, a mark that
 * never came, a glob for pytest's tests without -p memgate_pytest), and a
 * pass would say they were met. */
static void judge_unmatched_phase_limits(const struct mg_fixture *f, const struct mg_result *r,
					 struct mg_judgement *j)
{
	if (j->verdict != MG_VERDICT_PASS || r->error[0] || !r->started)
		return;
	for (size_t k = 0; k < f->nphase_limits; k++) {
		const char *match = f->phase_limits[k].match;
		size_t i = 0;
		while (i < r->nphases && !mg_phase_match(match, r->phases[i].name))
			i++;
		if (i < r->nphases)
			continue;
		char names[160] = "";
		size_t len = 0;
		for (i = 0; i < r->nphases && len < sizeof names - 1; i++) {
			int n = snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", r->phases[i].name);
			len += n > 0 ? (size_t)n : 0;
		}
		if (len >= sizeof names - 1)
			snprintf(names + sizeof names - 5, 5, "...");
		reason(j, MG_VERDICT_ERROR,
		       "phase_limits \"%.80s\": no phase of this run matched it, so its limits were not checked "
		       "(the run's phases: %s)", match, r->nphases ? names : "none");
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
	judge_phases(f, r, j);
	judge_unmatched_phase_limits(f, r, j);
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
