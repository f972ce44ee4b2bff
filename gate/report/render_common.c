/* render_common: the helpers that read a report view (render_view.c builds
 * it): verdict words, exit status, severity order, units, baseline deltas.
 * Generic helpers (ticks, downsampling, escaping) are in render_util.c. */
#include "report/render_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "units.h"

/* ------------------------------------------------------------ helpers */

bool mg_rv_started(const struct mg_rv_fixture *f)
{
	return f->ran && (f->tree_rss_bytes != MG_NULL_FIG || f->max_process_hwm_bytes != MG_NULL_FIG);
}

bool mg_rv_clean_exit(const struct mg_rv_fixture *f)
{
	const struct mg_rv_exit *x = &f->exit;
	return f->ran && x->has_code && x->code == 0 && !x->has_signal && !x->timed_out && !x->oom_killed;
}

const struct mg_rv_metric *mg_rv_limit_of(const struct mg_rv_fixture *f, const char *metric)
{
	for (size_t i = 0; i < f->nlimits; i++)
		if (strcmp(f->limits[i].metric, metric) == 0)
			return &f->limits[i];
	return NULL;
}

size_t mg_rv_comparisons(const struct mg_rv_fixture *f, const struct mg_rv_metric **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nlimits; i++) {
		if (!f->limits[i].has_delta)
			continue;
		if (n < max)
			out[n] = &f->limits[i];
		n++;
	}
	for (size_t i = 0; i < f->nbaseline; i++) {
		if (n < max)
			out[n] = &f->baseline[i];
		n++;
	}
	return n;
}

const struct mg_rv_metric *mg_rv_comparison_of(const struct mg_rv_fixture *f, const char *metric)
{
	const struct mg_rv_metric *l = mg_rv_limit_of(f, metric);
	if (l)
		return l->has_delta ? l : NULL;
	for (size_t i = 0; i < f->nbaseline; i++)
		if (strcmp(f->baseline[i].metric, metric) == 0)
			return &f->baseline[i];
	return NULL;
}

void mg_rv_format_delta_bytes(const struct mg_rv_metric *c, char *buf, size_t len)
{
	char v[48];
	mg_rv_format_value(c, c->delta_bytes, v, sizeof v);
	/* a delta that rounds to 0 and is negative prints as "0.0 MiB" */
	snprintf(buf, len, "%s%s", c->delta_bytes >= 0 ? "+" : "", v);
}

void mg_rv_format_delta_pct(const struct mg_rv_metric *c, char *buf, size_t len)
{
	if (!c->has_delta_pct || !isfinite(c->delta_pct)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	double p = c->delta_pct;
	if (fabs(p) < 0.05)
		p = 0.0; /* no "-0.0%" */
	snprintf(buf, len, "%+.1f%%", p);
}

void mg_rv_format_delta(const struct mg_rv_metric *c, char *buf, size_t len)
{
	char d[56], p[40];
	mg_rv_format_delta_bytes(c, d, sizeof d);
	mg_rv_format_delta_pct(c, p, sizeof p);
	snprintf(buf, len, "%s%s%s", d, *p ? ", " : "", p);
}

void mg_rv_baseline_text(const struct mg_rv_metric *c, char *buf, size_t len)
{
	char v[48] = "n/a", b[48] = "n/a", d[112], tol[96] = "", pct[32], floor[48];
	if (c->has_value)
		mg_rv_format_value(c, c->value_bytes, v, sizeof v);
	if (c->baseline_bytes != MG_NULL_FIG)
		mg_rv_format_value(c, c->baseline_bytes, b, sizeof b);
	mg_rv_format_delta(c, d, sizeof d);
	if (c->has_allowed_pct && c->allowed_bytes != MG_NULL_FIG && isfinite(c->allowed_pct) &&
	    c->allowed_pct >= 0 && c->allowed_pct <= 1e6) {
		mg_format_percent(llround(c->allowed_pct * 100.0), pct, sizeof pct);
		mg_format_mib(c->allowed_bytes, floor, sizeof floor);
		snprintf(tol, sizeof tol, " (allowed +%s, +%s)", pct, floor);
	}
	snprintf(buf, len, "%s %s is %s %s the baseline %s%s", c->metric, v, d,
		 c->delta_bytes >= 0 ? "over" : "under", b, tol);
}

void mg_rv_exit_text(const struct mg_rv_fixture *f, char *buf, size_t len)
{
	const struct mg_rv_exit *x = &f->exit;
	char a[32];
	buf[0] = '\0';
	if (!f->ran || mg_rv_clean_exit(f))
		return;
	if (x->timed_out) {
		snprintf(buf, len, "timed out (the tree was killed)");
	} else if (x->oom_killed && f->kill_above_bytes != MG_NULL_FIG) {
		mg_format_mib(f->kill_above_bytes, a, sizeof a);
		snprintf(buf, len, "OOM-killed (kill_above %s)", a);
	} else if (x->oom_killed) {
		snprintf(buf, len, "OOM-killed");
	} else if (x->has_signal) {
		snprintf(buf, len, "killed by signal %lld%s%s%s", (long long)x->signal,
			 x->signal_name ? " (" : "", x->signal_name ? x->signal_name : "", x->signal_name ? ")" : "");
	} else if (x->has_code) {
		snprintf(buf, len, "exited with code %lld", (long long)x->code);
	} else {
		snprintf(buf, len, "no exit status");
	}
}

/* How far over its limits a fixture went: max of (value - limit) / limit. */
static double overage(const struct mg_rv_fixture *f)
{
	double worst = 0.0;
	for (size_t i = 0; i < f->nlimits; i++) {
		const struct mg_rv_metric *l = &f->limits[i];
		if (!l->has_value || l->value_bytes <= l->limit_bytes)
			continue;
		/* a limit of 0 is exceeded by any amount: rank it as far over */
		double over = l->limit_bytes ? (double)(l->value_bytes - l->limit_bytes) / (double)l->limit_bytes
					     : HUGE_VAL;
		if (over > worst)
			worst = over;
	}
	return worst;
}

struct ranked {
	size_t index;
	int rank;          /* 0 error, 1 fail, 2 pass */
	double overage;
};

static int by_severity(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->overage != y->overage)
		return x->overage > y->overage ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t *mg_rv_severity_order(const struct mg_view *v)
{
	struct ranked *r = calloc(v->n ? v->n : 1, sizeof *r);
	size_t *order = calloc(v->n ? v->n : 1, sizeof *order);
	if (!r || !order) {
		free(r);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct mg_rv_fixture *f = &v->fixtures[i];
		r[i].index = i;
		r[i].rank = f->verdict == MG_VERDICT_ERROR ? 0 : f->verdict == MG_VERDICT_FAIL ? 1 : 2;
		r[i].overage = overage(f);
	}
	qsort(r, v->n, sizeof *r, by_severity);
	for (size_t i = 0; i < v->n; i++)
		order[i] = r[i].index;
	free(r);
	return order;
}

double mg_rv_headroom_pct(int64_t value, int64_t limit)
{
	return 100.0 * ((double)limit - (double)value) / (double)limit;
}

/* "", "/s" or "/request" */
static const char *unit_suffix(const struct mg_rv_metric *l)
{
	if (l->unit && strncmp(l->unit, "bytes/", 6) == 0)
		return l->unit + 5;
	if (l->unit)
		return "";
	if (strcmp(l->metric, "growth") == 0)
		return "/s";
	if (strcmp(l->metric, "growth_per_request") == 0)
		return "/request";
	return "";
}

void mg_rv_format_value(const struct mg_rv_metric *m, int64_t v, char *buf, size_t len)
{
	char mib[32];
	const char *unit = unit_suffix(m);
	if (strcmp(unit, "/request") == 0 && v < 1024 * 1024) {
		snprintf(buf, len, "%.1f KiB/request", (double)v / 1024.0);
		return;
	}
	mg_format_mib(v, mib, sizeof mib);
	snprintf(buf, len, "%s%s", mib, unit);
}

int64_t mg_rv_add(int64_t a, int64_t b)
{
	int64_t sum;
	if (a < 0 || b < 0)
		return a < b ? a : b; /* not figures: keep what says "unknown" */
	return __builtin_add_overflow(a, b, &sum) ? INT64_MAX : sum;
}

int64_t mg_rv_traced_bytes(const struct mg_rv_heap *h)
{
	int64_t traced = 0;
	for (size_t i = 0; i < h->ndomains; i++)
		traced = mg_rv_add(traced, h->domains[i].size_bytes);
	return traced;
}

int64_t mg_rv_domain_bytes(const struct mg_rv_heap *h, int64_t domain)
{
	for (size_t i = 0; i < h->ndomains; i++)
		if (h->domains[i].domain == domain)
			return h->domains[i].size_bytes;
	return 0;
}

void mg_rv_summary(const struct mg_view *v, char *buf, size_t len)
{
	size_t bad = v->nfail + v->nerror;
	const char *s = v->n == 1 ? "" : "s";
	if (!bad) {
		snprintf(buf, len, "%zu fixture%s within limits", v->n, s);
		return;
	}
	if (v->nfail && v->nerror)
		snprintf(buf, len, "%zu of %zu fixture%s failed, %zu could not be measured", v->nfail, v->n, s,
			 v->nerror);
	else if (v->nfail)
		snprintf(buf, len, "%zu of %zu fixture%s failed", v->nfail, v->n, s);
	else
		snprintf(buf, len, "%zu of %zu fixture%s could not be measured", v->nerror, v->n, s);
}
