/* render_common: the helpers that read a report view (render_view.c builds
 * it): verdict words, exit status, severity order, units, baseline deltas.
 * Generic helpers (ticks, downsampling, escaping) are in render_util.c. */
#include "report/render_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "result.h"
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

/* ---------------------------------------------------------------- heap */

static bool is_tool(const struct mg_rv_heap *h, const char *tool)
{
	return strcmp(h->tool, tool) == 0;
}

const char *mg_rv_heap_label(const struct mg_rv_heap *h)
{
	return is_tool(h, "heaptrack") ? "native heap" : "python heap";
}

const char *mg_rv_heap_count_word(const struct mg_rv_heap *h, const char *dflt)
{
	return is_tool(h, "memray") ? "allocations" : is_tool(h, "heaptrack") ? "calls" : dflt;
}

bool mg_rv_heap_forked(const struct mg_rv_heap *h)
{
	for (size_t i = 0; i < h->nprocs; i++)
		if (h->procs[i].forked)
			return true;
	return false;
}

size_t mg_rv_heap_procs_order(const struct mg_rv_heap *h, size_t *out, size_t max)
{
	size_t n = 0;
	/* a selection, max small: the largest not yet taken, the first of equals */
	while (n < max && n < h->nprocs) {
		size_t best = h->nprocs;
		for (size_t i = 0; i < h->nprocs; i++) {
			bool taken = false;
			for (size_t k = 0; k < n && !taken; k++)
				taken = out[k] == i;
			if (!taken && (best == h->nprocs || h->procs[i].peak_bytes > h->procs[best].peak_bytes))
				best = i;
		}
		out[n++] = best;
	}
	return n;
}

static void put_clean(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, out);
}

static void mib_or_na(int64_t v, char *buf, size_t len)
{
	if (v == MG_NULL_FIG)
		snprintf(buf, len, "n/a");
	else
		mg_format_mib(v, buf, len);
}

const struct mg_rv_site *mg_rv_heap_leak_at(const struct mg_rv_heap *h, const struct mg_rv_site *s)
{
	for (size_t i = 0; i < h->nleaks && i < MG_RV_HEAP_MATCH; i++) {
		const struct mg_rv_site *l = &h->leaks[i];
		if (strcmp(l->location, s->location) == 0 &&
		    strcmp(l->function ? l->function : "", s->function ? s->function : "") == 0)
			return l;
	}
	return NULL;
}

bool mg_rv_heap_leak_at_peak(const struct mg_rv_heap *h, size_t leak)
{
	if (leak >= h->nleaks || leak >= MG_RV_HEAP_MATCH)
		return false; /* never matched: no time spent however long the lists */
	for (size_t i = 0; i < h->ntop && i < MG_RV_HEAP_MATCH; i++)
		if (mg_rv_heap_leak_at(h, &h->top[i]) == &h->leaks[leak])
			return true;
	return false;
}

/* "    40.5 MiB  leak.py:5  render_entry  native: PyNumber_Multiply  (40001
 * blocks)"; a heaptrack site that also leaks says so: "(1000 calls,
 * leaked)", or how much of it leaked when not all: "(1000 calls, 20.0 MiB
 * leaked)". */
static void site_line(FILE *out, const struct mg_rv_heap *h, const struct mg_rv_site *s, const struct mg_rv_site *leak,
		      const char *indent)
{
	char v[32];
	const char *word = mg_rv_heap_count_word(h, "blocks");
	mg_format_mib(s->size_bytes, v, sizeof v);
	fprintf(out, "%s  %12s  ", indent, v);
	put_clean(out, s->location);
	if (s->function && *s->function) {
		fputs("  ", out);
		put_clean(out, s->function);
	}
	if (s->native && *s->native) {
		fputs("  native: ", out);
		put_clean(out, s->native);
	}
	if (s->count != MG_NULL_FIG || leak) {
		fputs("  (", out);
		if (s->count != MG_NULL_FIG) /* "1 call", "2 calls" */
			fprintf(out, "%lld %.*s", (long long)s->count, (int)strlen(word) - (s->count == 1), word);
		if (leak && leak->size_bytes == s->size_bytes) {
			fputs(s->count != MG_NULL_FIG ? ", leaked" : "leaked", out);
		} else if (leak) {
			mg_format_mib(leak->size_bytes, v, sizeof v);
			fprintf(out, "%s%s leaked", s->count != MG_NULL_FIG ? ", " : "", v);
		}
		fputc(')', out);
	}
	fputc('\n', out);
}

void mg_rv_heap_procs_list(FILE *out, const struct mg_rv_heap *h, const char *more)
{
	size_t idx[MG_RV_HEAP_PROCS];
	size_t n = mg_rv_heap_procs_order(h, idx, MG_RV_HEAP_PROCS);
	for (size_t k = 0; k < n; k++) {
		const struct mg_rv_heap_proc *p = &h->procs[idx[k]];
		char v[32];
		mg_format_mib(p->peak_bytes, v, sizeof v);
		if (p->pid == MG_NULL_FIG)
			fprintf(out, "%s pid ?", k ? "," : "");
		else
			fprintf(out, "%s pid %lld", k ? "," : "", (long long)p->pid);
		fprintf(out, "%s %s", p->forked ? " (forked)" : "", v);
	}
	if (h->nprocs > n)
		fprintf(out, ", %sand %zu more", more, h->nprocs - n);
}

/* "  per process: pid 100 12.0 MiB, pid 101 (forked) 6.0 MiB, ... and 2 more" */
static void procs_line(FILE *out, const struct mg_rv_heap *h, const char *indent)
{
	fprintf(out, "%s  per process:", indent);
	mg_rv_heap_procs_list(out, h, "");
	fputc('\n', out);
}

void mg_rv_heap_text(FILE *out, const struct mg_rv_heap *h, bool sites, const char *indent)
{
	char peak[32], v[32];
	bool forked = mg_rv_heap_forked(h);
	int64_t traced = mg_rv_traced_bytes(h), numpy = mg_rv_domain_bytes(h, MG_RV_NUMPY_DOMAIN);
	mib_or_na(h->peak_bytes, peak, sizeof peak);
	fprintf(out, "%s%s (", indent, mg_rv_heap_label(h));
	put_clean(out, h->tool);
	fprintf(out, "): peak %s", peak);
	if (h->leaked_bytes != MG_NULL_FIG) {
		mg_format_mib(h->leaked_bytes, v, sizeof v);
		fprintf(out, ", leaked %s", v);
	}
	if (forked && h->nprocs > 1)
		fprintf(out, ", summed over %zu processes' own peaks", h->nprocs);
	fputc('\n', out);
	if (forked)
		procs_line(out, h, indent);
	if (numpy > 0 && traced > 0) {
		mg_format_mib(numpy, v, sizeof v);
		mg_format_mib(traced, peak, sizeof peak);
		fprintf(out, "%sNumPy buffers %s of %s traced (%.1f%%): not Python objects\n", indent, v, peak,
			100.0 * (double)numpy / (double)traced);
	}
	for (size_t i = 0; sites && i < h->ntop; i++)
		site_line(out, h, &h->top[i], mg_rv_heap_leak_at(h, &h->top[i]), indent);
	/* the leaks not already marked on a site above, the largest few */
	size_t more = 0, shown = 0;
	for (size_t i = 0; sites && i < h->nleaks; i++) {
		if (mg_rv_heap_leak_at_peak(h, i))
			continue;
		if (shown == MG_RV_HEAP_LEAKS) {
			more++;
			continue;
		}
		if (!shown++)
			fprintf(out, "%s  leaked, not held at the peak:\n", indent);
		site_line(out, h, &h->leaks[i], NULL, indent);
	}
	if (more)
		fprintf(out, "%s  ... and %zu more leaking sites in the JSON report\n", indent, more);
	if (h->flamegraph) {
		fprintf(out, "%sflame graph: ", indent);
		put_clean(out, h->flamegraph);
		fputc('\n', out);
	}
}

void mg_rv_heap_brief(const struct mg_rv_heap *h, char *buf, size_t len)
{
	char peak[32], v[32];
	mib_or_na(h->peak_bytes, peak, sizeof peak);
	int n = snprintf(buf, len, "%s (%s): peak %s", mg_rv_heap_label(h), h->tool, peak);
	if (n < 0 || (size_t)n >= len)
		return;
	if (h->leaked_bytes != MG_NULL_FIG) {
		mg_format_mib(h->leaked_bytes, v, sizeof v);
		int k = snprintf(buf + n, len - (size_t)n, ", leaked %s", v);
		if (k < 0 || (size_t)(n + k) >= len)
			return;
		n += k;
	}
	bool leak = h->nleaks > 0;
	const struct mg_rv_site *s = leak ? &h->leaks[0] : h->ntop ? &h->top[0] : NULL;
	if (s) {
		mg_format_mib(s->size_bytes, v, sizeof v);
		snprintf(buf + n, len - (size_t)n, ", largest %s %s (%s)", leak ? "leak" : "site", s->location, v);
	}
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

/* ------------------------------------------------ surprising figures */

#define SURPRISE_RATIO 1.5
#define SURPRISE_FLOOR ((int64_t)4 << 20) /* a smaller gap is not worth a line */

/* A figure is worth explaining where it is gated (a limit or a baseline
 * comparison), or where nothing is gated and the figures are all a
 * reader has. */
static bool matters(const struct mg_rv_fixture *f, const char *metric)
{
	return mg_rv_limit_of(f, metric) || mg_rv_comparison_of(f, metric) || (f->nlimits == 0 && f->nbaseline == 0);
}

/* The smallest known figure among those that count a shared page once. */
static int64_t counted_once(const struct mg_rv_fixture *f)
{
	const int64_t v[] = {f->cgroup_bytes, f->tree_pss_bytes, f->cgroup_anon_bytes};
	int64_t best = MG_NULL_FIG;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (v[i] != MG_NULL_FIG && (best == MG_NULL_FIG || v[i] < best))
			best = v[i];
	return best;
}

/* tree_rss adds each process's RSS: pages a forked pool shares count once
 * per process. Surprising when it is over 1.5x the best figure that counts
 * them once, with more than one process. */
static bool shared_pages(const struct mg_rv_fixture *f, struct mg_rv_surprise *s)
{
	int64_t tree = f->tree_rss_bytes, best = counted_once(f);
	char x[32];
	if (tree == MG_NULL_FIG || best == MG_NULL_FIG || f->nprocesses < 2 || !matters(f, "tree_rss") ||
	    (double)tree <= SURPRISE_RATIO * (double)best || tree - best < SURPRISE_FLOOR)
		return false;
	mg_format_mib(tree - best, x, sizeof x);
	s->metric = "tree_rss";
	/* the list keeps MG_MAX_PROCS processes: a full one may stand for more */
	snprintf(s->text, sizeof s->text,
		 "shared pages counted once per process: %zu%s processes share about %s; gate on %s", f->nprocesses,
		 f->nprocesses >= MG_MAX_PROCS ? "+" : "", x,
		 f->cgroup_bytes != MG_NULL_FIG ? "pss or cgroup_anon" : "pss");
	return true;
}

/* cgroup charges the page cache of every file the tree read or wrote.
 * Surprising when cgroup is over 1.5x the tree and the page cache is at
 * least half the difference, or when the page cache is most of it. */
static bool page_cache(const struct mg_rv_fixture *f, struct mg_rv_surprise *s)
{
	int64_t cg = f->cgroup_bytes, tree = f->tree_rss_bytes, file = f->cgroup_file_bytes;
	char x[32];
	if (cg == MG_NULL_FIG || tree == MG_NULL_FIG || file == MG_NULL_FIG || file < SURPRISE_FLOOR ||
	    !matters(f, "cgroup"))
		return false;
	bool over_tree = (double)cg > SURPRISE_RATIO * (double)tree && 2.0 * (double)file >= (double)(cg - tree);
	if (!over_tree && 2.0 * (double)file <= (double)cg)
		return false;
	mg_format_mib(file, x, sizeof x);
	s->metric = "cgroup";
	snprintf(s->text, sizeof s->text,
		 "%s of it is page cache from files read or written; gate on cgroup_anon to exclude it", x);
	return true;
}

/* A report written before cgroup_anon renders as it always did: no
 * explanations (their advice names a figure it does not have). */
size_t mg_rv_surprises(const struct mg_rv_fixture *f, struct mg_rv_surprise *out)
{
	size_t n = 0;
	if (!mg_rv_started(f) || !f->anon_known)
		return 0;
	n += shared_pages(f, &out[n]);
	n += page_cache(f, &out[n]);
	return n;
}

const struct mg_rv_surprise *mg_rv_surprise_of(const struct mg_rv_surprise *s, size_t n, const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].metric, metric) == 0)
			return &s[i];
	return NULL;
}

/* ----------------------------------------------------- inexact backend */

/* Measured with proc after a fallback: the figures are sampled, not the
 * kernel's peak. */
static const char *inexact_reason(const struct mg_rv_fixture *f)
{
	if (!f->ran || strcmp(f->method, "proc") != 0 || !f->fallback_reason || !*f->fallback_reason)
		return NULL;
	return f->fallback_reason;
}

/* Fixture indices ordered by reason, then index: each reason's fixtures
 * together, in report order. */
static const struct mg_view *sort_view;

static int by_reason(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(inexact_reason(&sort_view->fixtures[x]), inexact_reason(&sort_view->fixtures[y]));
	return c ? c : (x > y) - (x < y);
}

struct group {
	size_t start, len; /* in the sorted indices */
	size_t first;      /* its first fixture in the report */
};

static int by_first(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* "a, b, c, +2 more": the fixtures of one reason */
static void inexact_who(const struct mg_view *v, const size_t *idx, size_t len, char *buf, size_t cap)
{
	size_t used = 0, shown = 0;
	buf[0] = '\0';
	for (; shown < len && shown < 3; shown++) {
		int k = snprintf(buf + used, cap - used, "%s%.40s", shown ? ", " : "", v->fixtures[idx[shown]].name);
		if (k < 0 || (size_t)k >= cap - used)
			return;
		used += (size_t)k;
	}
	if (shown < len)
		snprintf(buf + used, cap - used, ", +%zu more", len - shown);
}

/* Sorting, not comparing every pair: a merged report may hold many
 * fixtures, each with a reason of its own. */
/* A fallback reason for a summary line: each "; " clause without its
 * parenthesised parts and what follows " for " (the syscall and the
 * internal path it failed on: the report keeps them), at most 90 bytes. */
static void brief_reason(const char *reason, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (const char *c = reason; *c && o + 1 < len;) {
		const char *end = strstr(c, "; ");
		size_t n = end ? (size_t)(end - c) : strlen(c);
		const char *cut = strstr(c, " for ");
		if (cut && cut < c + n)
			n = (size_t)(cut - c);
		size_t start = o, depth = 0;
		if (o && o + 2 < len) {
			out[o++] = ';';
			out[o++] = ' ';
			start = o;
		}
		for (size_t i = 0; i < n && o + 1 < len; i++) {
			if (c[i] == '(')
				depth++;
			else if (c[i] == ')' && depth)
				depth--;
			else if (!depth && !(c[i] == ' ' && (i + 1 < n && c[i + 1] == '(')) && o - start < 90)
				out[o++] = c[i];
		}
		while (o > start && out[o - 1] == ' ')
			o--;
		out[o] = '\0';
		c = end ? end + 2 : c + n;
		if (!end)
			break;
	}
}

size_t mg_rv_inexact(const struct mg_view *v, struct mg_rv_inexact *out, size_t max)
{
	size_t m = 0, ran = 0, ngroups = 0;
	size_t *idx = calloc(v->n ? v->n : 1, sizeof *idx);
	struct group *g = calloc(v->n ? v->n : 1, sizeof *g);
	if (!idx || !g) {
		free(idx);
		free(g);
		return 0; /* out of memory: said nowhere, the figures still are */
	}
	for (size_t i = 0; i < v->n; i++) {
		ran += v->fixtures[i].ran;
		if (inexact_reason(&v->fixtures[i]))
			idx[m++] = i;
	}
	sort_view = v;
	qsort(idx, m, sizeof *idx, by_reason);
	for (size_t i = 0; i < m; i++) {
		if (i == 0 || strcmp(inexact_reason(&v->fixtures[idx[i]]), inexact_reason(&v->fixtures[idx[i - 1]])) != 0)
			g[ngroups++] = (struct group){i, 0, idx[i]};
		g[ngroups - 1].len++;
	}
	qsort(g, ngroups, sizeof *g, by_first);
	for (size_t k = 0; k < ngroups && k < max; k++) {
		out[k].reason = inexact_reason(&v->fixtures[g[k].first]);
		brief_reason(out[k].reason, out[k].brief, sizeof out[k].brief);
		if (g[k].len == ran)
			out[k].who[0] = '\0';
		else
			inexact_who(v, idx + g[k].start, g[k].len, out[k].who, sizeof out[k].who);
	}
	free(idx);
	free(g);
	return ngroups;
}

/* --------------------------------------------------------------- chart */

/* A failed limit on a size whose series the report holds: what to plot. */
static bool plot_metric(const struct mg_rv_fixture *f, const struct mg_rv_metric *l, struct mg_rv_chart *c)
{
	if (l->ok || !l->has_value)
		return false;
	if (strcmp(l->metric, "tree_rss") == 0) {
		return true; /* the default already */
	} else if (strcmp(l->metric, "cgroup") == 0 && f->nseries_cgroup) {
		c->metric = "cgroup", c->label = "cgroup usage", c->limit_name = "cgroup limit";
		c->pts = f->series_cgroup, c->n = f->nseries_cgroup, c->peak = f->cgroup_bytes;
	} else if (strcmp(l->metric, "cgroup_anon") == 0 && f->nseries_anon) {
		c->metric = "cgroup_anon", c->label = "cgroup anon + shmem", c->limit_name = "cgroup_anon limit";
		c->pts = f->series_anon, c->n = f->nseries_anon, c->peak = f->cgroup_anon_bytes;
	} else {
		return false;
	}
	c->has_limit = true;
	c->limit_bytes = l->limit_bytes;
	return true;
}

/* The least-squares line through tree RSS over the growth window: the
 * report has its slope; its intercept is the window's mean point. */
static void growth_fit(const struct mg_rv_fixture *f, struct mg_rv_chart *c)
{
	const struct mg_rv_metric *l = mg_rv_limit_of(f, "growth");
	const struct mg_rv_growth *g = &f->growth;
	double st = 0, sv = 0, k = 0;
	if (!l || l->ok || !g->has || g->to_ms <= g->from_ms || !isfinite(g->bytes_per_s))
		return;
	for (size_t i = 0; i < f->nseries; i++)
		if (f->series[i].ms >= g->from_ms && f->series[i].ms <= g->to_ms) {
			st += (double)f->series[i].ms;
			sv += (double)f->series[i].bytes;
			k++;
		}
	if (k == 0)
		return;
	double per_ms = g->bytes_per_s / 1000.0, mt = st / k, mv = sv / k;
	c->fit = true;
	c->fit_t0 = (double)g->from_ms;
	c->fit_t1 = (double)g->to_ms;
	c->fit_v0 = mv + per_ms * (c->fit_t0 - mt);
	c->fit_v1 = mv + per_ms * (c->fit_t1 - mt);
}

void mg_rv_chart_of(const struct mg_rv_fixture *f, struct mg_rv_chart *c)
{
	const struct mg_rv_metric *tree = mg_rv_limit_of(f, "tree_rss");
	memset(c, 0, sizeof *c);
	c->metric = "tree_rss";
	c->label = "tree RSS";
	c->limit_name = "tree_rss limit";
	c->pts = f->series;
	c->n = f->nseries;
	c->peak = f->tree_rss_bytes;
	if (tree) {
		c->has_limit = true;
		c->limit_bytes = tree->limit_bytes;
	}
	/* the first size limit that failed, in the report's order */
	bool chosen = false;
	for (size_t i = 0; i < f->nlimits && !chosen; i++)
		chosen = plot_metric(f, &f->limits[i], c);
	/* an OOM kill under kill_above: the cgroup's usage reached it */
	if (!chosen && f->exit.oom_killed && f->kill_above_bytes != MG_NULL_FIG && f->nseries_cgroup) {
		c->metric = "cgroup", c->label = "cgroup usage", c->limit_name = "kill_above";
		c->pts = f->series_cgroup, c->n = f->nseries_cgroup, c->peak = f->cgroup_bytes;
		c->has_limit = true;
		c->limit_bytes = f->kill_above_bytes;
	}
	growth_fit(f, c);
	c->end = f->exit.oom_killed ? "OOM kill" : f->exit.timed_out ? "timeout" : NULL;
}

/* -------------------------------------------------------------- phases */

bool mg_rv_phases_shown(const struct mg_rv_fixture *f)
{
	if (f->nphases > 1)
		return true;
	return f->nphases == 1 && f->phases[0].nlimits > 0;
}

int64_t mg_rv_phase_value(const struct mg_rv_phase *p, const char *metric)
{
	if (strcmp(metric, "tree_rss") == 0)
		return p->tree_rss_bytes;
	if (strcmp(metric, "cgroup") == 0)
		return p->cgroup_bytes;
	if (strcmp(metric, "cgroup_anon") == 0)
		return p->cgroup_anon_bytes;
	if (strcmp(metric, "max_process_hwm") == 0)
		return p->max_process_hwm_bytes;
	if (strcmp(metric, "pss") == 0)
		return p->tree_pss_bytes;
	return MG_NULL_FIG;
}

static bool per_phase(const char *metric)
{
	static const char *const m[] = {"tree_rss", "cgroup", "cgroup_anon", "max_process_hwm"};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strcmp(metric, m[i]) == 0)
			return true;
	return false;
}

static bool any_phase_has(const struct mg_rv_fixture *f, const char *metric)
{
	for (size_t i = 0; i < f->nphases; i++)
		if (mg_rv_phase_value(&f->phases[i], metric) != MG_NULL_FIG)
			return true;
	return false;
}

const char *mg_rv_phase_metric(const struct mg_rv_fixture *f)
{
	static const char *const fallback[] = {"cgroup", "tree_rss", "max_process_hwm"};
	bool scoped = false;
	for (size_t i = 0; i < f->nphases; i++) {
		if (f->phases[i].nlimits)
			return f->phases[i].limits[0].metric;
		scoped |= f->phases[i].pid != 0;
	}
	for (size_t i = 0; i < f->nlimits; i++)
		if (per_phase(f->limits[i].metric))
			return f->limits[i].metric;
	if (scoped && any_phase_has(f, "max_process_hwm"))
		return "max_process_hwm";
	for (size_t i = 0; i < sizeof fallback / sizeof fallback[0]; i++)
		if (any_phase_has(f, fallback[i]))
			return fallback[i];
	return "tree_rss";
}

/* How a limit stands, worse first: 3 not measured, 2 over (by how far),
 * 1 within (by how little headroom is left). */
static int standing(const struct mg_rv_metric *l, double *how)
{
	if (!l->has_value) {
		*how = 0;
		return 3;
	}
	double lim = l->limit_bytes > 0 ? (double)l->limit_bytes : 1.0;
	*how = ((double)l->value_bytes - (double)l->limit_bytes) / lim;
	return l->ok ? 1 : 2;
}

static const struct mg_rv_metric *worst_limit(const struct mg_rv_phase *p)
{
	const struct mg_rv_metric *w = NULL;
	int ws = 0;
	double wh = 0;
	for (size_t i = 0; i < p->nlimits; i++) {
		double h;
		int s = standing(&p->limits[i], &h);
		if (!w || s > ws || (s == ws && h > wh))
			w = &p->limits[i], ws = s, wh = h;
	}
	return w;
}

/* The row, given the fixture's phase metric (found once: it looks at
 * every phase). */
static void phase_row(const char *fixture_metric, const struct mg_rv_phase *p, struct mg_rv_phase_row *row)
{
	memset(row, 0, sizeof *row);
	row->p = p;
	row->limit = worst_limit(p);
	row->metric = row->limit ? row->limit->metric : fixture_metric;
	row->value = row->limit ? (row->limit->has_value ? row->limit->value_bytes : MG_NULL_FIG)
				: mg_rv_phase_value(p, row->metric);
	if (row->limit && row->limit->has_delta)
		row->cmp = row->limit;
	for (size_t i = 0; !row->cmp && i < p->nbaseline; i++)
		if (strcmp(p->baseline[i].metric, row->metric) == 0)
			row->cmp = &p->baseline[i];
	/* per figure where the report says (tree_rss and cgroup_anon are
	 * sampled for a phase as for the run); else the phase's own flag */
	if (!p->has_exact_figures)
		row->exact = p->exact;
	else if (!strcmp(row->metric, "cgroup"))
		row->exact = p->cgroup_exact;
	else if (!strcmp(row->metric, "max_process_hwm"))
		row->exact = p->hwm_exact;
	else
		row->exact = false;
}

void mg_rv_phase_row(const struct mg_rv_fixture *f, const struct mg_rv_phase *p, struct mg_rv_phase_row *row)
{
	phase_row(mg_rv_phase_metric(f), p, row);
}

const struct mg_rv_metric *mg_rv_phase_regression(const struct mg_rv_phase *p)
{
	for (size_t i = 0; i < p->nlimits; i++)
		if (p->limits[i].has_delta && !p->limits[i].baseline_ok)
			return &p->limits[i];
	for (size_t i = 0; i < p->nbaseline; i++)
		if (!p->baseline[i].baseline_ok)
			return &p->baseline[i];
	return NULL;
}

void mg_rv_phase_failure(const struct mg_rv_phase *p, char *buf, size_t len)
{
	const struct mg_rv_metric *l = worst_limit(p), *c = mg_rv_phase_regression(p);
	char v[48], lim[48];
	buf[0] = '\0';
	if (l && !l->ok) {
		mg_format_mib(l->limit_bytes, lim, sizeof lim);
		if (!l->has_value) {
			snprintf(buf, len, "%s limit %s cannot be checked: not measured for this phase", l->metric, lim);
			return;
		}
		mg_format_mib(l->value_bytes, v, sizeof v);
		snprintf(buf, len, "%s %s > limit %s", l->metric, v, lim);
	} else if (c) {
		mg_rv_baseline_text(c, buf, len);
	}
}

struct phase_rank {
	size_t index;
	int rank;       /* 0 error, 1 fail, 2 pass */
	double over;    /* how far over its worst limit */
	int64_t value;  /* its row's figure (MG_NULL_FIG sorts last) */
};

static int by_phase_severity(const void *a, const void *b)
{
	const struct phase_rank *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->rank < 2 && x->over != y->over)
		return x->over > y->over ? -1 : 1;
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t mg_rv_phase_order(const struct mg_rv_fixture *f, size_t *out, size_t max, size_t *nbad)
{
	size_t bad = 0, n = f->nphases;
	for (size_t i = 0; i < n; i++)
		bad += f->phases[i].verdict != MG_VERDICT_PASS;
	if (nbad)
		*nbad = bad;
	if (!out || !max)
		return 0;
	if (n <= max && !bad) {
		for (size_t i = 0; i < n; i++)
			out[i] = i;
		return n;
	}
	struct phase_rank *r = calloc(n ? n : 1, sizeof *r);
	if (!r) { /* out of memory: the first ones, in report order */
		size_t k = n < max ? n : max;
		for (size_t i = 0; i < k; i++)
			out[i] = i;
		return k;
	}
	const char *metric = mg_rv_phase_metric(f);
	for (size_t i = 0; i < n; i++) {
		const struct mg_rv_phase *p = &f->phases[i];
		struct mg_rv_phase_row row;
		double h;
		phase_row(metric, p, &row);
		r[i].index = i;
		r[i].rank = p->verdict == MG_VERDICT_ERROR ? 0 : p->verdict == MG_VERDICT_FAIL ? 1 : 2;
		r[i].over = row.limit && standing(row.limit, &h) >= 2 ? (row.limit->has_value ? h : HUGE_VAL) : 0;
		r[i].value = row.value;
	}
	qsort(r, n, sizeof *r, by_phase_severity);
	size_t k = n < max ? n : max;
	for (size_t i = 0; i < k; i++)
		out[i] = r[i].index;
	free(r);
	return k;
}
