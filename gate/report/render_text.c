/* render_text: the human summary, from the JSON report: the verdict, how
 * the run was measured when that was not exact (once), then per fixture
 * its reasons and figures, a surprising figure explained under it, and
 * its phases in a few lines (the failing and the highest). */
#include "report/render.h"

#include <string.h>

#include "report/render_common.h"
#include "units.h"

/* A string from the report, with control characters shown as '?': a
 * report from elsewhere must not move the cursor or inject escapes. */
static void put_clean(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, out);
}

static int64_t limit_bytes_of(const struct mg_rv_fixture *f, const char *metric)
{
	const struct mg_rv_metric *l = mg_rv_limit_of(f, metric);
	return l ? l->limit_bytes : MG_NULL_FIG;
}

/* "   vs baseline 199.7 MiB: +12.3 MiB, +6.8%  OVER BASELINE" */
static void delta_text(FILE *out, const struct mg_rv_metric *c)
{
	char b[48], d[112];
	mg_rv_format_delta(c, d, sizeof d);
	if (c->baseline_bytes != MG_NULL_FIG) {
		mg_format_mib(c->baseline_bytes, b, sizeof b);
		fprintf(out, "   vs baseline %s: %s", b, d);
	} else {
		fprintf(out, "   vs baseline: %s", d);
	}
	if (!c->baseline_ok)
		fputs("  OVER BASELINE", out);
}

/* "        tree_rss             64.9 MiB   limit     80.0 MiB   headroom  18.9%"
 * and, when the metric was compared with a baseline, its delta. */
static void metric_line(FILE *out, const struct mg_rv_fixture *f, const char *name, int64_t value,
			int64_t limit)
{
	const struct mg_rv_metric *c = mg_rv_comparison_of(f, name);
	char v[32], l[32];
	if (value == MG_NULL_FIG)
		snprintf(v, sizeof v, "n/a");
	else
		mg_format_mib(value, v, sizeof v);
	fprintf(out, "        %-16s %12s", name, v);
	if (limit != MG_NULL_FIG) {
		mg_format_mib(limit, l, sizeof l);
		fprintf(out, "   limit %12s", l);
		/* a limit of 0 has no meaningful headroom */
		if (value != MG_NULL_FIG && limit > 0)
			fprintf(out, "   headroom %5.1f%%%s", mg_rv_headroom_pct(value, limit),
				value > limit ? "  OVER" : "");
	}
	if (c)
		delta_text(out, c);
	fputc('\n', out);
}

static bool core_metric(const char *metric)
{
	static const char *const core[] = {"tree_rss", "cgroup", "cgroup_anon", "max_process_hwm", "pss"};
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp(metric, core[i]) == 0)
			return true;
	return false;
}

static void other_delta(FILE *out, const struct mg_rv_fixture *f, const char *metric)
{
	const struct mg_rv_metric *c = mg_rv_comparison_of(f, metric);
	char v[48] = "n/a";
	if (core_metric(metric) || !c)
		return;
	if (c->has_value)
		mg_rv_format_value(c, c->value_bytes, v, sizeof v);
	size_t w = strlen(metric);
	fputs("        ", out);
	put_clean(out, metric);
	fprintf(out, "%*s %12s", (int)(w < 16 ? 16 - w : 0), "", v);
	delta_text(out, c);
	fputc('\n', out);
}

/* Compared metrics that have no line of their own above (baseline.c
 * compares only the four sizes; a report from elsewhere may have more). */
static void other_deltas(FILE *out, const struct mg_rv_fixture *f)
{
	for (size_t i = 0; i < f->nlimits; i++)
		if (f->limits[i].has_delta && mg_rv_limit_of(f, f->limits[i].metric) == &f->limits[i])
			other_delta(out, f, f->limits[i].metric);
	for (size_t i = 0; i < f->nbaseline; i++)
		if (!mg_rv_limit_of(f, f->baseline[i].metric))
			other_delta(out, f, f->baseline[i].metric);
}

/* A figure that would surprise, explained right under its line. */
static void surprise_line(FILE *out, const struct mg_rv_surprise *s, size_t n, const char *metric)
{
	const struct mg_rv_surprise *e = mg_rv_surprise_of(s, n, metric);
	if (e)
		fprintf(out, "          ^ %s\n", e->text);
}

/* A figure shown only when measured, limited or compared (pss only with
 * "pss": true, cgroup_anon only in reports that have it). */
static bool shown(const struct mg_rv_fixture *f, const char *metric, int64_t value)
{
	return value != MG_NULL_FIG || mg_rv_limit_of(f, metric) || mg_rv_comparison_of(f, metric);
}

/* The size figures (other limits, such as growth, show in the reasons
 * when they fail), each surprising one explained in a line under it. */
static void metric_lines(FILE *out, const struct mg_rv_fixture *f)
{
	struct mg_rv_surprise s[MG_RV_MAX_SURPRISES];
	size_t n = mg_rv_surprises(f, s);
	metric_line(out, f, "tree_rss", f->tree_rss_bytes, limit_bytes_of(f, "tree_rss"));
	surprise_line(out, s, n, "tree_rss");
	metric_line(out, f, "cgroup", f->cgroup_bytes, limit_bytes_of(f, "cgroup"));
	surprise_line(out, s, n, "cgroup");
	if (shown(f, "cgroup_anon", f->cgroup_anon_bytes))
		metric_line(out, f, "cgroup_anon", f->cgroup_anon_bytes, limit_bytes_of(f, "cgroup_anon"));
	metric_line(out, f, "max_process_hwm", f->max_process_hwm_bytes, limit_bytes_of(f, "max_process_hwm"));
	if (shown(f, "pss", f->tree_pss_bytes))
		metric_line(out, f, "pss", f->tree_pss_bytes, limit_bytes_of(f, "pss"));
	other_deltas(out, f);
}

/* ------------------------------------------------------------- phases */

#define PHASE_NAME_COLS 40 /* longer phase names are cut, "..." added */

/* s cut to at most max bytes, on a UTF-8 character boundary, "..." added */
static void cut_name(const char *s, size_t max, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n <= max) {
		snprintf(buf, len, "%s", s);
		return;
	}
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* not inside a character */
	snprintf(buf, len, "%.*s...", (int)n, s);
}

/* "phases: 21, 6 failing; failing first, then the highest, 10 shown" */
static void phase_heading(FILE *out, size_t n, size_t nbad, size_t shown)
{
	fprintf(out, "        phases: %zu", n);
	if (nbad)
		fprintf(out, ", %zu failing", nbad);
	if (shown < n)
		fprintf(out, "; %sthe highest, %zu shown", nbad ? "failing first, then " : "", shown);
	fputc('\n', out);
}

/* "          startup     160 ms  exact    cgroup     301.0 MiB   limit ..." */
static void phase_line(FILE *out, const struct mg_rv_fixture *f, const struct mg_rv_phase *p, int w)
{
	struct mg_rv_phase_row row;
	char name[PHASE_NAME_COLS + 8], t[32], v[32] = "n/a", l[32];
	mg_rv_phase_row(f, p, &row);
	cut_name(p->name, PHASE_NAME_COLS, name, sizeof name);
	mg_format_duration(p->to_ms - p->from_ms, t, sizeof t);
	if (row.value != MG_NULL_FIG)
		mg_format_mib(row.value, v, sizeof v);
	fputs("          ", out);
	put_clean(out, name);
	size_t used = strlen(name);
	fprintf(out, "%*s  %9s  %-7s  %-15s %11s", (int)(used < (size_t)w ? (size_t)w - used : 0), "", t,
		row.exact ? "exact" : "sampled", row.metric, v);
	if (row.limit) {
		mg_format_mib(row.limit->limit_bytes, l, sizeof l);
		fprintf(out, "   limit %11s", l);
		if (row.value == MG_NULL_FIG)
			fputs("   not measured", out);
		else if (row.limit->limit_bytes > 0)
			fprintf(out, "   headroom %6.1f%%%s", mg_rv_headroom_pct(row.value, row.limit->limit_bytes),
				row.value > row.limit->limit_bytes ? "  OVER" : "");
	}
	if (row.cmp)
		delta_text(out, row.cmp);
	fputc('\n', out);
}

/* A few lines however many phases there are: the failing ones first,
 * then the highest (mg_rv_phase_order), the rest counted. */
static void phase_lines(FILE *out, const struct mg_rv_fixture *f)
{
	size_t idx[MG_RV_PHASE_ROWS], nbad;
	if (!mg_rv_phases_shown(f))
		return;
	size_t k = mg_rv_phase_order(f, idx, MG_RV_PHASE_ROWS, &nbad);
	int w = 5;
	for (size_t i = 0; i < k; i++) {
		size_t len = strlen(f->phases[idx[i]].name);
		len = len > PHASE_NAME_COLS ? PHASE_NAME_COLS : len;
		w = (int)len > w ? (int)len : w;
	}
	phase_heading(out, f->nphases, nbad, k);
	for (size_t i = 0; i < k; i++)
		phase_line(out, f, &f->phases[idx[i]], w);
	if (k < f->nphases)
		fprintf(out, "          ... and %zu more in the JSON report\n", f->nphases - k);
}

/* The last max_lines lines of a captured stream, indented. Tabs are kept;
 * other control characters (colour codes) are shown as '?'. */
static void tail_lines(FILE *out, const char *label, const char *text, int max_lines)
{
	if (!text || !*text)
		return;
	const char *start = text + strlen(text);
	if (start > text && start[-1] == '\n')
		start--; /* the final newline ends the last line, it starts none */
	for (int lines = 0; start > text; start--)
		if (start[-1] == '\n' && ++lines == max_lines)
			break;
	fprintf(out, "        %s%s:\n", label, start > text ? " (last lines)" : "");
	for (const char *p = start; *p;) {
		size_t l = strcspn(p, "\n");
		fputs("          | ", out);
		for (size_t k = 0; k < l; k++)
			fputc(((unsigned char)p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f ? '?' : p[k], out);
		fputc('\n', out);
		p += l + (p[l] == '\n');
	}
}

/* "(cgroup-v1, 507 ms, 51 samples, 1 leftover process killed)"; "(did
 * not start)" when nothing was measured: no time, no samples to speak of. */
static void run_line(FILE *out, const struct mg_rv_fixture *f)
{
	char wall[32];
	mg_format_duration(f->wall_ms, wall, sizeof wall);
	fprintf(out, "  %-5s ", mg_verdict_upper(f->verdict));
	put_clean(out, f->name);
	if (!mg_rv_started(f)) {
		fputs("  (did not start)\n", out);
		return;
	}
	fputs("  (", out);
	put_clean(out, f->method);
	fprintf(out, ", %s, %lld samples", wall, (long long)f->samples);
	if (f->leftover_processes)
		fprintf(out, ", %lld leftover process%s killed", (long long)f->leftover_processes,
			f->leftover_processes == 1 ? "" : "es");
	fputs(")\n", out);
}

static void lines(FILE *out, const char *prefix, const struct mg_rv_strings *s)
{
	for (size_t i = 0; i < s->n; i++) {
		fputs(prefix, out);
		put_clean(out, s->v[i]);
		fputc('\n', out);
	}
}

static void fixture_text(FILE *out, const struct mg_rv_fixture *f)
{
	if (!f->ran) {
		fprintf(out, "  %-5s ", mg_verdict_upper(f->verdict));
		put_clean(out, f->name);
		fputs("  (not run)\n", out);
		return;
	}
	run_line(out, f);
	lines(out, "        ! ", &f->reasons);
	if (mg_rv_started(f)) {
		metric_lines(out, f);
		phase_lines(out, f);
	}
	lines(out, "        note: ", &f->notes);
	if (f->heap) /* the sites only where something is to be fixed */
		mg_rv_heap_text(out, f->heap, f->verdict != MG_VERDICT_PASS, "        ");
	if (f->service && f->verdict != MG_VERDICT_PASS) { /* the output explains most failures */
		tail_lines(out, "service stderr", f->service->service_stderr, 12);
		tail_lines(out, "service stdout", f->service->service_stdout, 6);
		tail_lines(out, "driver stderr", f->service->driver_stderr, 12);
	}
}

static void headline(FILE *out, const struct mg_view *v)
{
	size_t bad = v->nfail + v->nerror;
	fprintf(out, "memgate: %s", mg_verdict_upper(v->verdict));
	if (v->interrupted_by) {
		fputs(" (interrupted by ", out);
		put_clean(out, v->interrupted_by);
		fputc(')', out);
	} else if (bad) {
		fprintf(out, " (%zu of %zu fixture%s not passing)", bad, v->n, v->n == 1 ? "" : "s");
	} else {
		fprintf(out, " (%zu fixture%s within limits)", v->n, v->n == 1 ? "" : "s");
	}
	fputc('\n', out);
}

/* Falling back from v2 to v1 loses nothing; losing the cgroup does: said
 * once per run, under the verdict, since it qualifies every figure. */
static void inexact_lines(FILE *out, const struct mg_view *v)
{
	struct mg_rv_inexact in[MG_RV_MAX_INEXACT];
	size_t n = mg_rv_inexact(v, in, MG_RV_MAX_INEXACT);
	for (size_t i = 0; i < n && i < MG_RV_MAX_INEXACT; i++) {
		fputs("  /proc sampling only", out);
		if (*in[i].who) {
			fputs(" for ", out);
			put_clean(out, in[i].who);
		}
		fputs(", not the exact peak: no cgroup memgate may use (", out);
		put_clean(out, in[i].brief);
		fputs("); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n", out);
	}
	if (n > MG_RV_MAX_INEXACT)
		fprintf(out, "  ... and %zu more reasons for /proc sampling only (see the JSON report)\n",
			n - MG_RV_MAX_INEXACT);
}

int mg_render_text(json_t *report, FILE *out, char *err, size_t errlen)
{
	struct mg_view v;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	headline(out, &v);
	inexact_lines(out, &v);
	for (size_t i = 0; i < v.n; i++)
		fixture_text(out, &v.fixtures[i]);
	mg_view_free(&v);
	return 0;
}
