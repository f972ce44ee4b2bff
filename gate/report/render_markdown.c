/* render_markdown: a GitHub-flavoured markdown summary (job summaries, PR
 * comments). Verdict first (and, once, the backend when it was not exact),
 * an overview table, then per fixture: reasons, figures against limits
 * with a surprising one explained, its phases (the failing and the
 * highest, at most 10 rows), exit status, how it was measured (how
 * often, really), a Mermaid chart of the metric that failed over time and
 * the heap (heap_section: its tool's figures and allocation sites) when
 * present.
 * GitHub rejects a job summary above 1 MiB, so the output is measured as it
 * is built: past the budget, charts go first, then per-fixture details,
 * then overview rows, each replaced by a one-line note.
 * A pull-request comment gets a compact rendering of its own
 * (mg_render_markdown_comment): the verdict and one table of figures. */
#include "report/render.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/render_common.h"
#include "error.h"
#include "units.h"

#define CHART_POINTS 100      /* Mermaid xychart: at most this many points */
#define MAX_SITES 25          /* allocation sites shown per fixture */
#define NOTE_RESERVE 1024     /* room kept for the closing notes */

static const char *const core_metrics[] = {"tree_rss", "cgroup", "cgroup_anon", "max_process_hwm", "pss"};
#define NCORE (sizeof core_metrics / sizeof core_metrics[0])

static const char limit_note[] = "to stay under GitHub's 1 MiB job-summary limit";

/* ------------------------------------------------------------ escaping */

static bool word_char(char c)
{
	return isalnum((unsigned char)c);
}

/* Would c at the start of a line (or list item) open a block? */
static bool block_opener(const char *s)
{
	if (*s == '-' || *s == '+' || *s == '=')
		return true;
	const char *d = s;
	while (*d >= '0' && *d <= '9')
		d++;
	return d != s && (*d == '.' || *d == ')');
}

/* Inline text and table cells: backslash-escape what markdown would
 * interpret (| splits cells, ` opens code, * and _ emphasis, < HTML, ...);
 * newlines and other control characters become spaces, so one value stays
 * in one cell or line. '_' inside a word is literal in GFM and left alone,
 * so tree_rss stays readable. */
static void md_escape(FILE *out, const char *s, bool line_start)
{
	while (line_start && (*s == ' ' || *s == '\t'))
		s++; /* leading spaces could make an indented code block */
	if (line_start && block_opener(s)) {
		const char *d = s;
		while (*d >= '0' && *d <= '9')
			fputc(*d++, out);
		fputc('\\', out);
		fputc(*d, out);
		s = d + 1;
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			fputc(' ', out);
		else if (c == '_' && p > s && word_char(p[-1]) && word_char(p[1]))
			fputc('_', out);
		else if (strchr("\\`*_[]<>|~&#!$", c)) {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '@') /* a zero-width space after it: names come from the
				      * measured program, and in a PR comment "@someone" or
				      * "@org/team" would notify them (a backslash does not stop it) */
			fputs("@\xe2\x80\x8b", out);
		else
			fputc(c, out);
	}
}

/* Text that may start a line or a cell. */
static void md_text(FILE *out, const char *s)
{
	md_escape(out, s, true);
}

/* Text that follows something on its line: no block to open. */
static void md_inline(FILE *out, const char *s)
{
	md_escape(out, s, false);
}

static void mib(int64_t bytes, char *buf, size_t len)
{
	if (bytes == MG_NULL_FIG)
		snprintf(buf, len, "n/a");
	else
		mg_format_mib(bytes, buf, len);
}

/* ------------------------------------------------------------- headline */

static void headline(FILE *out, const struct mg_view *v)
{
	char sum[160];
	mg_rv_summary(v, sum, sizeof sum);
	fprintf(out, "**memgate: %s** — %s", mg_verdict_upper(v->verdict), sum);
	if (v->interrupted_by) {
		fputs(" (interrupted by ", out);
		md_text(out, v->interrupted_by);
		fputc(')', out);
	}
	fputs("\n\n", out);
}

/* Falling back from v2 to v1 loses nothing; losing the cgroup does: said
 * once, under the verdict, since it qualifies every figure. */
static void inexact(FILE *out, const struct mg_view *v)
{
	struct mg_rv_inexact in[MG_RV_MAX_INEXACT];
	size_t n = mg_rv_inexact(v, in, MG_RV_MAX_INEXACT);
	for (size_t i = 0; i < n && i < MG_RV_MAX_INEXACT; i++) {
		fputs("**/proc sampling only**", out);
		if (*in[i].who) {
			fputs(" for ", out);
			md_text(out, in[i].who);
		}
		fputs(", not the exact peak: no cgroup memgate may use (", out);
		md_text(out, in[i].brief);
		fputs("); run through sudo, or pass `--cgroup-root` a writable cgroup (`memgate doctor` says more)\n\n", out);
	}
	if (n > MG_RV_MAX_INEXACT)
		fprintf(out, "…and %zu more reasons for /proc sampling only (see the JSON report).\n\n",
			n - MG_RV_MAX_INEXACT);
}

static void overview_header(FILE *out)
{
	fputs("| fixture | verdict | tree RSS | limit | reason |\n", out);
	fputs("|---|---|---:|---:|---|\n", out);
}

static void overview_row(FILE *out, const struct mg_rv_fixture *f)
{
	char v[32] = "—", l[32] = "—";
	const struct mg_rv_metric *lim = mg_rv_limit_of(f, "tree_rss");
	if (f->ran)
		mib(f->tree_rss_bytes, v, sizeof v);
	if (lim)
		mg_format_mib(lim->limit_bytes, l, sizeof l);
	fputs("| ", out);
	md_text(out, f->name);
	fprintf(out, " | %s | %s | %s | ", mg_verdict_upper(f->verdict), v, l);
	if (f->reasons.n)
		md_text(out, f->reasons.v[0]);
	if (f->reasons.n > 1)
		fprintf(out, " (+%zu more)", f->reasons.n - 1);
	fputs(" |\n", out);
}

/* ------------------------------------------------------ fixture details */

static bool any_delta(const struct mg_rv_fixture *f)
{
	for (size_t i = 0; i < f->nlimits; i++)
		if (f->limits[i].has_delta)
			return true;
	return f->nbaseline > 0;
}

/* "+12.3 MiB, +6.8%", "+12.3 MiB, +6.8% (over baseline)" past the tolerance */
static void delta_cell(FILE *out, const struct mg_rv_fixture *f, const char *metric)
{
	char d[112];
	const struct mg_rv_metric *c = mg_rv_comparison_of(f, metric);
	if (!c) {
		fputs(" | —", out);
		return;
	}
	mg_rv_format_delta(c, d, sizeof d);
	fprintf(out, " | %s%s", d, c->baseline_ok ? "" : " (over baseline)");
}

/* One row; known is false for a figure that was not measured. */
static void metric_row(FILE *out, const struct mg_rv_fixture *f, const char *name, bool known, int64_t value,
		       const struct mg_rv_metric *l, bool deltas)
{
	char v[48] = "n/a", lim[48];
	if (known && l)
		mg_rv_format_value(l, value, v, sizeof v);
	else if (known)
		mg_format_mib(value, v, sizeof v);
	fputs("| ", out);
	md_text(out, name);
	fprintf(out, " | %s", v);
	if (!l) {
		fputs(" | — | —", out);
	} else {
		mg_rv_format_value(l, l->limit_bytes, lim, sizeof lim);
		fprintf(out, " | %s", lim);
		if (!known || value < 0 || l->limit_bytes <= 0) /* a shrinking rate has no headroom */
			fputs(" | —", out);
		else
			fprintf(out, " | %.1f%%%s", mg_rv_headroom_pct(value, l->limit_bytes),
				value > l->limit_bytes ? " (over)" : "");
	}
	if (deltas)
		delta_cell(out, f, name);
	fputs(" |\n", out);
}

static bool is_core(const char *metric)
{
	for (size_t i = 0; i < NCORE; i++)
		if (strcmp(metric, core_metrics[i]) == 0)
			return true;
	return false;
}

static void metrics_table(FILE *out, const struct mg_rv_fixture *f)
{
	bool deltas = any_delta(f);
	const int64_t core[NCORE] = {f->tree_rss_bytes, f->cgroup_bytes, f->cgroup_anon_bytes,
				     f->max_process_hwm_bytes, f->tree_pss_bytes};
	fprintf(out, "| metric | value | limit | headroom |%s\n", deltas ? " vs baseline |" : "");
	fprintf(out, "|---|---:|---:|---:|%s\n", deltas ? "---:|" : "");
	for (size_t i = 0; i < NCORE; i++) {
		const struct mg_rv_metric *l = mg_rv_limit_of(f, core_metrics[i]);
		bool optional = i == 2 || i == 4; /* cgroup_anon (newer reports), pss (when asked for) */
		if (optional && core[i] == MG_NULL_FIG && !l && !mg_rv_comparison_of(f, core_metrics[i]))
			continue;
		metric_row(out, f, core_metrics[i], core[i] != MG_NULL_FIG, core[i], l, deltas);
	}
	for (size_t i = 0; i < f->nlimits; i++) {
		const struct mg_rv_metric *l = &f->limits[i];
		if (!is_core(l->metric) && mg_rv_limit_of(f, l->metric) == l)
			metric_row(out, f, l->metric, l->has_value, l->value_bytes, l, deltas);
	}
	/* compared metrics without a limit that have no row above */
	for (size_t i = 0; i < f->nbaseline; i++) {
		const struct mg_rv_metric *b = &f->baseline[i];
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first = first && strcmp(f->baseline[j].metric, b->metric) != 0;
		if (first && !is_core(b->metric) && !mg_rv_limit_of(f, b->metric))
			metric_row(out, f, b->metric, b->has_value, b->value_bytes, NULL, deltas);
	}
	fputc('\n', out);
}

/* "**tree_rss:** shared pages counted once per process: ..." under the
 * table, one line per surprising figure. */
static void surprises(FILE *out, const struct mg_rv_fixture *f)
{
	struct mg_rv_surprise s[MG_RV_MAX_SURPRISES];
	size_t n = mg_rv_surprises(f, s);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "**%s:** ", s[i].metric);
		md_inline(out, s[i].text);
		fputs("\n\n", out);
	}
}

/* One row of the phase table. */
static void phase_row(FILE *out, const struct mg_rv_fixture *f, const struct mg_rv_phase *p, bool deltas)
{
	struct mg_rv_phase_row row;
	char t[32], v[32], l[32], d[112];
	mg_rv_phase_row(f, p, &row);
	mg_format_duration(p->to_ms - p->from_ms, t, sizeof t);
	mib(row.value, v, sizeof v);
	fputs("| ", out);
	md_text(out, p->name);
	fprintf(out, " | %s | %s | %s | %s", t, row.exact ? "exact" : "sampled", row.metric, v);
	if (!row.limit) {
		fputs(" | — | —", out);
	} else {
		mg_format_mib(row.limit->limit_bytes, l, sizeof l);
		fprintf(out, " | %s", l);
		if (row.value == MG_NULL_FIG || row.limit->limit_bytes <= 0)
			fputs(" | —", out);
		else
			fprintf(out, " | %.1f%%%s", mg_rv_headroom_pct(row.value, row.limit->limit_bytes),
				row.value > row.limit->limit_bytes ? " (over)" : "");
	}
	if (deltas && row.cmp) {
		mg_rv_format_delta(row.cmp, d, sizeof d);
		fprintf(out, " | %s%s", d, row.cmp->baseline_ok ? "" : " (over baseline)");
	} else if (deltas) {
		fputs(" | —", out);
	}
	fputs(" |\n", out);
}

/* The phases (mg_rv_phase_order): the failing first, then the highest,
 * at most MG_RV_PHASE_ROWS rows, the rest counted. */
static void phases_table(FILE *out, const struct mg_rv_fixture *f)
{
	size_t idx[MG_RV_PHASE_ROWS], nbad;
	bool deltas = false;
	if (!mg_rv_phases_shown(f))
		return;
	size_t k = mg_rv_phase_order(f, idx, MG_RV_PHASE_ROWS, &nbad);
	for (size_t i = 0; i < k && !deltas; i++) {
		struct mg_rv_phase_row row;
		mg_rv_phase_row(f, &f->phases[idx[i]], &row);
		deltas = row.cmp != NULL;
	}
	fprintf(out, "**Phases:** %zu", f->nphases);
	if (nbad)
		fprintf(out, ", %zu failing", nbad);
	if (k < f->nphases)
		fprintf(out, "; %sthe highest, %zu shown", nbad ? "failing first, then " : "", k);
	fputs(".\n\n", out);
	fprintf(out, "| phase | time | measured | metric | peak | limit | headroom |%s\n", deltas ? " vs baseline |" : "");
	fprintf(out, "|---|---:|---|---|---:|---:|---:|%s\n", deltas ? "---:|" : "");
	for (size_t i = 0; i < k; i++)
		phase_row(out, f, &f->phases[idx[i]], deltas);
	fputc('\n', out);
	if (k < f->nphases)
		fprintf(out, "…and %zu more phases in the JSON report.\n\n", f->nphases - k);
}

static void bullets(FILE *out, const char *prefix, const struct mg_rv_strings *s)
{
	for (size_t i = 0; i < s->n; i++) {
		fprintf(out, "- %s", prefix);
		md_text(out, s->v[i]);
		fputc('\n', out);
	}
	if (s->n)
		fputc('\n', out);
}

/* "**Exit:** OOM-killed (kill_above 64.0 MiB); killed by signal 9 (SIGKILL)" */
static void exit_line(FILE *out, const struct mg_rv_fixture *f)
{
	const struct mg_rv_exit *x = &f->exit;
	const char *sep = "";
	char a[32];
	/* nothing to say: a clean exit, a command that never started, or a
	 * service that memgate stopped itself (the reasons say what failed) */
	bool stopped = f->service && f->service->stopped && !x->timed_out && !x->oom_killed;
	if (mg_rv_clean_exit(f) || !mg_rv_started(f) || stopped)
		return;
	fputs("**Exit:** ", out);
	if (x->timed_out)
		fputs("timed out (the tree was killed)", out), sep = "; ";
	if (x->oom_killed) {
		fprintf(out, "%sOOM-killed", sep), sep = "; ";
		if (f->kill_above_bytes != MG_NULL_FIG) {
			mg_format_mib(f->kill_above_bytes, a, sizeof a);
			fprintf(out, " (kill_above %s)", a);
		}
	}
	if (x->has_signal) {
		fprintf(out, "%skilled by signal %lld", sep, (long long)x->signal), sep = "; ";
		if (x->signal_name) {
			fputs(" (", out);
			md_text(out, x->signal_name);
			fputc(')', out);
		}
	}
	if (x->has_code && x->code != 0)
		fprintf(out, "%sexited with code %lld", sep, (long long)x->code), sep = "; ";
	if (!*sep)
		fputs("no exit status", out);
	fputs("\n\n", out);
}

/* 10.2 -> "10", 2.04 -> "2.0": whole milliseconds from 10 up */
static void format_ms(double ms, char *buf, size_t len)
{
	snprintf(buf, len, ms < 9.95 ? "%.1f ms" : "%.0f ms", ms);
}

/* How often it was measured, really: "54 samples over 526 ms, a median
 * 10 ms apart" (" (10 ms asked)" when that is off by more than 20%), and
 * "; each process was read every 98 ms (median, cpu_budget 0.2% of a
 * core)" when a round over the processes took over twice the interval.
 * A report without the achieved cadence says "N samples every I ms over W". */
static void cadence(FILE *out, const struct mg_rv_fixture *f, const char *wall)
{
	const char *s = f->samples == 1 ? "" : "s";
	char a[32], b[32];
	if (!f->achieved.has) {
		fprintf(out, "%lld sample%s every %lld ms over %s", (long long)f->samples, s, (long long)f->interval_ms,
			wall);
		return;
	}
	double asked = (double)f->interval_ms, got = f->achieved.median_ms;
	format_ms(got, a, sizeof a);
	fprintf(out, "%lld sample%s over %s, a median %s apart", (long long)f->samples, s, wall, a);
	if (asked > 0 && (got > 1.2 * asked || got < 0.8 * asked))
		fprintf(out, " (%lld ms asked)", (long long)f->interval_ms);
	double tick = got > asked ? got : asked;
	if (f->per_process.has && f->per_process.median_ms > 2.0 * tick) {
		format_ms(f->per_process.median_ms, b, sizeof b);
		fprintf(out, "; each process was read every %s (median", b);
		if (f->has_cpu_budget)
			fprintf(out, ", within cpu_budget %g%% of a core", f->cpu_budget_pct);
		fputc(')', out);
	}
}

/* "**Measured with** cgroup-v1: 101 samples every 10 ms over 993 ms." (or
 * how often it really was, when the report says); nothing for a command
 * that did not start: there was nothing to measure. */
static void method_line(FILE *out, const struct mg_rv_fixture *f)
{
	char wall[32];
	if (!mg_rv_started(f))
		return;
	mg_format_duration(f->wall_ms, wall, sizeof wall);
	fputs("**Measured with** ", out);
	md_text(out, f->method);
	fputs(": ", out);
	cadence(out, f, wall);
	if (f->leftover_processes)
		fprintf(out, "; %lld leftover process%s killed", (long long)f->leftover_processes,
			f->leftover_processes == 1 ? "" : "es");
	fputs(".\n\n", out);
}

static void chart_values(FILE *out, const double *vals, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%.1f", i ? ", " : "", vals[i]);
	fputs("]\n", out);
}

/* The values of the growth fit at the chart's n evenly spaced times over
 * [0, span]: the line through the fit window, drawn across the chart (an
 * xychart line has a value at every x), never below 0. */
static void fit_values(const struct mg_rv_chart *c, int64_t span, size_t n, double *out)
{
	double per_ms = (c->fit_v1 - c->fit_v0) / (c->fit_t1 - c->fit_t0);
	for (size_t i = 0; i < n; i++) {
		double t = (double)span * (double)i / (double)(n - 1), v = c->fit_v0 + per_ms * (t - c->fit_t0);
		out[i] = v > 0 ? v / 1048576.0 : 0.0;
	}
}

/* The title: what is plotted, what the other lines are, how it ended:
 * "tree RSS over time (flat line: tree_rss limit 64.0 MiB)". */
static void chart_title(FILE *out, const struct mg_rv_fixture *f, const struct mg_rv_chart *c, bool fit)
{
	char a[48];
	const char *sep = " (";
	fprintf(out, "    title \"%s over time", c->label);
	if (c->has_limit) {
		mg_format_mib(c->limit_bytes, a, sizeof a);
		fprintf(out, "%sflat line: %s %s", sep, c->limit_name, a);
		sep = "; ";
	}
	if (fit) {
		const struct mg_rv_metric g = {.metric = "growth", .unit = "bytes/s"};
		mg_rv_format_value(&g, (int64_t)llround(f->growth.bytes_per_s), a, sizeof a);
		fprintf(out, "%ssloped line: growth fit %s", sep, a);
		sep = "; ";
	}
	if (c->end) {
		fprintf(out, "%sended by %s", sep, strcmp(c->end, "OOM kill") == 0 ? "an OOM kill" : "the timeout");
		sep = "; ";
	}
	fputs(*sep == ';' ? ")\"\n" : "\"\n", out);
}

/* The series of the metric that failed (mg_rv_chart_of; tree RSS unless
 * another one did) as a Mermaid xychart, its limit as a flat line and
 * the growth fit as a sloped one (xychart has no legend: the title says
 * which is which). */
static void chart(FILE *out, const struct mg_rv_fixture *f)
{
	double vals[CHART_POINTS], flat[CHART_POINTS], fit[CHART_POINTS];
	int64_t span;
	struct mg_rv_chart c;
	mg_rv_chart_of(f, &c);
	size_t n = mg_rv_downsample(c.pts, c.n, CHART_POINTS, vals, &span);
	if (n < 2 || span <= 0)
		return; /* one instant: nothing to draw */
	/* the fit is of tree RSS: drawn only over tree RSS */
	bool with_fit = c.fit && strcmp(c.metric, "tree_rss") == 0;
	if (with_fit)
		fit_values(&c, span, n, fit);
	/* the axis holds the peak figure even if no sample caught it */
	double top = c.peak > 0 ? (double)c.peak / 1048576.0 : 0.0;
	double lim = c.has_limit ? (double)c.limit_bytes / 1048576.0 : 0.0;
	for (size_t i = 0; i < n; i++) {
		top = vals[i] > top ? vals[i] : top;
		top = with_fit && fit[i] > top ? fit[i] : top;
		flat[i] = lim;
	}
	struct mg_ticks t;
	mg_nice_ticks((lim > top ? lim : top) * 1.05, 6, &t);
	fputs("```mermaid\nxychart-beta\n", out);
	chart_title(out, f, &c, with_fit);
	/* enough decimals that a short run does not end at "0.00" */
	fprintf(out, "    x-axis \"time (s)\" 0 --> %.*f\n", span >= 10000 ? 1 : span >= 100 ? 2 : 3,
		(double)span / 1000.0);
	fprintf(out, "    y-axis \"%s (MiB)\" 0 --> %.*f\n", c.label, t.decimals, t.top);
	fputs("    line ", out);
	chart_values(out, vals, n);
	if (c.has_limit) {
		fputs("    line ", out);
		chart_values(out, flat, n);
	}
	if (with_fit) {
		fputs("    line ", out);
		chart_values(out, fit, n);
	}
	fputs("```\n\n", out);
}

/* "| app.py:3 (load; native: PyNumber_Multiply) | 8.0 MiB | 12 |" and, for
 * heaptrack, what of it leaked: "| 31.3 MiB |", "| — |". */
static void site_row(FILE *out, const struct mg_rv_heap *h, const struct mg_rv_site *site, bool leak_col)
{
	char sz[32];
	mg_format_mib(site->size_bytes, sz, sizeof sz);
	fputs("| ", out);
	md_text(out, site->location);
	bool fn = site->function && *site->function, native = site->native && *site->native;
	if (fn || native) {
		fputs(" (", out);
		if (fn)
			md_inline(out, site->function);
		if (native) {
			fputs(fn ? "; native: " : "native: ", out);
			md_inline(out, site->native);
		}
		fputc(')', out);
	}
	fprintf(out, " | %s | ", sz);
	if (site->count == MG_NULL_FIG)
		fputs("—", out);
	else
		fprintf(out, "%lld", (long long)site->count);
	if (leak_col) {
		const struct mg_rv_site *l = mg_rv_heap_leak_at(h, site);
		if (l)
			mg_format_mib(l->size_bytes, sz, sizeof sz);
		fprintf(out, " | %s", l ? sz : "—");
	}
	fputs(" |\n", out);
}

/* "Per process: pid 21908 8.5 MiB, pid 21910 (forked) 5.1 MiB, … and 2 more." */
static void heap_procs(FILE *out, const struct mg_rv_heap *h)
{
	fputs("Per process:", out);
	mg_rv_heap_procs_list(out, h, "… ");
	fputs(".\n\n", out);
}

/* The leaks heaptrack found that no row above shows (largest first). */
static void heap_leaks(FILE *out, const struct mg_rv_heap *h)
{
	size_t shown = 0, more = 0;
	for (size_t i = 0; i < h->nleaks; i++) {
		if (mg_rv_heap_leak_at_peak(h, i))
			continue;
		if (shown == MAX_SITES) {
			more++;
			continue;
		}
		if (!shown++)
			fputs("| leaked, not held at the peak | size | calls |\n|---|---:|---:|\n", out);
		site_row(out, h, &h->leaks[i], false);
	}
	if (more)
		fprintf(out, "\n…and %zu more leaking sites.\n", more);
	if (shown || more)
		fputc('\n', out);
}

/* "**Python heap** (tracemalloc): peak 46.4 MiB, current 46.4 MiB", or
 * "**Native heap** (heaptrack): peak 47.0 MiB, leaked 47.0 MiB": the figures
 * the tool has; then memray's processes when it followed forks, the sites
 * (with what of each leaked, for heaptrack), the other leaks, the flame graph. */
static void heap_section(FILE *out, const struct mg_rv_heap *h)
{
	char peak[32], v[32], a[32], b[32];
	bool heaptrack = strcmp(h->tool, "heaptrack") == 0, forked = mg_rv_heap_forked(h);
	int64_t traced = mg_rv_traced_bytes(h), numpy = mg_rv_domain_bytes(h, MG_RV_NUMPY_DOMAIN);
	const char *label = mg_rv_heap_label(h);
	mib(h->peak_bytes, peak, sizeof peak);
	fprintf(out, "**%c%s** (", toupper((unsigned char)label[0]), label + 1);
	md_inline(out, h->tool);
	fprintf(out, "): peak %s", peak);
	if (h->current_bytes != MG_NULL_FIG) {
		mg_format_mib(h->current_bytes, v, sizeof v);
		fprintf(out, ", current %s", v);
	}
	if (h->leaked_bytes != MG_NULL_FIG) {
		mg_format_mib(h->leaked_bytes, v, sizeof v);
		fprintf(out, ", leaked %s", v);
	}
	if (forked && h->nprocs > 1)
		fprintf(out, ", summed over %zu processes' own peaks", h->nprocs);
	if (numpy > 0 && traced > 0) {
		mg_format_mib(numpy, a, sizeof a);
		mg_format_mib(traced, b, sizeof b);
		fprintf(out, "; NumPy buffers %s of %s traced (%.1f%%): not Python objects", a, b,
			100.0 * (double)numpy / (double)traced);
	}
	fputs("\n\n", out);
	if (forked)
		heap_procs(out, h);
	if (h->ntop) {
		fprintf(out, "| allocation site | size | %s |%s\n|---|---:|---:|%s\n", mg_rv_heap_count_word(h, "count"),
			heaptrack ? " leaked |" : "", heaptrack ? "---:|" : "");
		for (size_t i = 0; i < h->ntop && i < MAX_SITES; i++)
			site_row(out, h, &h->top[i], heaptrack);
		if (h->ntop > MAX_SITES)
			fprintf(out, "\n…and %zu more sites.\n", h->ntop - MAX_SITES);
		fputc('\n', out);
	}
	heap_leaks(out, h);
	if (h->flamegraph) {
		fputs("Flame graph: ", out);
		md_inline(out, h->flamegraph);
		fputs("\n\n", out);
	}
}

/* The longest run of backticks in s: a fence must be longer. */
static size_t longest_backticks(const char *s)
{
	size_t best = 0, run = 0;
	for (; *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best;
}

/* The last max_lines lines of captured output, folded away, in a fence
 * no line of the output can close. */
static void tail_block(FILE *out, const char *label, const char *text, int max_lines)
{
	if (!text || !*text)
		return;
	const char *start = text + strlen(text);
	if (start > text && start[-1] == '\n')
		start--;
	for (int lines = 0; start > text; start--)
		if (start[-1] == '\n' && ++lines == max_lines)
			break;
	size_t fence = longest_backticks(start) + 1;
	fence = fence < 3 ? 3 : fence;
	fprintf(out, "<details><summary>%s%s</summary>\n\n", label, start > text ? " (last lines)" : "");
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	fputs("text\n", out);
	for (const char *p = start; *p; p++)
		fputc(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ? '?' : *p, out);
	if (start[strlen(start) - 1] != '\n')
		fputc('\n', out);
	for (size_t i = 0; i < fence; i++)
		fputc('`', out);
	fputs("\n\n</details>\n\n", out);
}

static void service_tails(FILE *out, const struct mg_rv_service *s)
{
	tail_block(out, "service stderr", s->service_stderr, 12);
	tail_block(out, "service stdout", s->service_stdout, 6);
	tail_block(out, "driver stderr", s->driver_stderr, 12);
}

static void fixture_details(FILE *out, const struct mg_rv_fixture *f, bool with_chart)
{
	fprintf(out, "### %s: ", mg_verdict_upper(f->verdict));
	md_text(out, f->name);
	fputs("\n\n", out);
	bullets(out, "", &f->reasons);
	if (!f->ran) {
		fputs("Not run.\n\n", out);
		return;
	}
	if (mg_rv_started(f)) {
		metrics_table(out, f);
		surprises(out, f);
		phases_table(out, f);
	} else
		fputs("No figures: the command did not start.\n\n", out);
	exit_line(out, f);
	method_line(out, f);
	bullets(out, "note: ", &f->notes);
	if (with_chart && mg_rv_started(f))
		chart(out, f);
	if (f->heap)
		heap_section(out, f->heap);
	if (f->service && f->verdict != MG_VERDICT_PASS) /* the output explains most failures */
		service_tails(out, f->service);
}

/* ------------------------------------------------------------ budgeting */

/* A piece of the output rendered in memory, so its size is known before
 * it is kept or dropped. */
struct piece {
	char *p;
	size_t len;
	FILE *f;
};

static int piece_open(struct piece *b)
{
	b->p = NULL;
	b->len = 0;
	b->f = open_memstream(&b->p, &b->len);
	return b->f ? 0 : -1;
}

/* Close the stream (len is final after this); -1 if writing it failed. */
static int piece_close(struct piece *b)
{
	int bad = ferror(b->f);
	if (fclose(b->f) != 0)
		bad = 1;
	b->f = NULL;
	return bad ? -1 : 0;
}

static void piece_free(struct piece *b)
{
	if (b->f)
		fclose(b->f);
	free(b->p);
	b->p = NULL;
	b->f = NULL;
}

/* Copy a finished piece to dst if it fits in *room (which shrinks). */
static bool piece_keep(struct piece *b, FILE *dst, size_t *room)
{
	if (b->len > *room)
		return false;
	fwrite(b->p, 1, b->len, dst);
	*room -= b->len;
	return true;
}

/* What fit of the optional parts. */
struct shown {
	size_t rows;       /* overview rows */
	size_t details;    /* fixtures with their details */
	bool charts;
};

/* The overview table, in `order`, as many rows as fit. -1: out of memory. */
static int overview_within(const struct mg_view *v, const size_t *order, FILE *dst, size_t *room,
			   struct shown *sh)
{
	struct piece b;
	if (piece_open(&b) < 0)
		return -1;
	overview_header(b.f);
	fflush(b.f); /* b.len is the header's size now */
	size_t used = b.len + 1; /* + the blank line closing the table */
	for (sh->rows = 0; sh->rows < v->n; sh->rows++) {
		struct piece r;
		if (piece_open(&r) < 0)
			break;
		overview_row(r.f, &v->fixtures[order[sh->rows]]);
		bool fits = piece_close(&r) == 0 && used + r.len <= *room;
		if (fits) {
			fwrite(r.p, 1, r.len, b.f);
			used += r.len;
		}
		piece_free(&r);
		if (!fits)
			break;
	}
	fputc('\n', b.f);
	int rc = piece_close(&b);
	if (rc == 0 && (!sh->rows || !piece_keep(&b, dst, room)))
		sh->rows = 0; /* not even one row: leave the table out */
	piece_free(&b);
	return rc;
}

/* Details of the fixtures in `order` while they fit: the count, -1 on error. */
static long details_within(const struct mg_view *v, const size_t *order, bool charts, FILE *dst,
			   size_t room)
{
	size_t k;
	for (k = 0; k < v->n; k++) {
		struct piece s;
		if (piece_open(&s) < 0)
			return -1;
		fixture_details(s.f, &v->fixtures[order[k]], charts);
		if (piece_close(&s) < 0) {
			piece_free(&s);
			return -1;
		}
		bool fits = piece_keep(&s, dst, &room);
		piece_free(&s);
		if (!fits)
			break;
	}
	return (long)k;
}

/* Every fixture's details with charts if they fit, else without charts,
 * as many as fit. */
static int details(const struct mg_view *v, const size_t *order, FILE *out, size_t room,
		   struct shown *sh)
{
	for (int pass = 0; pass < 2; pass++) {
		struct piece d;
		if (piece_open(&d) < 0)
			return -1;
		sh->charts = pass == 0;
		long k = details_within(v, order, sh->charts, d.f, room);
		if (piece_close(&d) < 0 || k < 0) {
			piece_free(&d);
			return -1;
		}
		bool done = (size_t)k == v->n || pass == 1;
		if (done) {
			fwrite(d.p, 1, d.len, out);
			sh->details = (size_t)k;
		}
		piece_free(&d);
		if (done)
			break;
	}
	return 0;
}

static bool has_chart(const struct mg_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (mg_rv_started(&v->fixtures[i]) && v->fixtures[i].nseries >= 2)
			return true;
	return false;
}

static void closing_notes(FILE *out, const struct mg_view *v, const struct shown *sh)
{
	if (!sh->charts && sh->details && has_chart(v))
		fprintf(out, "_Charts omitted %s._\n\n", limit_note);
	if (sh->details < v->n)
		fprintf(out, "_Details of %zu fixture%s omitted %s; see the JSON report._\n\n",
			v->n - sh->details, v->n - sh->details == 1 ? "" : "s", limit_note);
	if (sh->rows < v->n)
		fprintf(out, "_%zu fixture%s not listed in the overview %s; see the JSON report._\n\n",
			v->n - sh->rows, v->n - sh->rows == 1 ? "" : "s", limit_note);
}

static int render(const struct mg_view *v, FILE *out, size_t budget, char *err, size_t errlen)
{
	size_t *order = mg_rv_severity_order(v);
	struct piece head = {0};
	struct shown sh = {0, 0, true};
	size_t room = budget > NOTE_RESERVE ? budget - NOTE_RESERVE : 0;
	int rc = -1;
	if (!order || piece_open(&head) < 0)
		goto out;
	headline(head.f, v);
	inexact(head.f, v);
	if (piece_close(&head) < 0)
		goto out;
	fwrite(head.p, 1, head.len, out); /* the verdict always goes out */
	room = room > head.len ? room - head.len : 0;
	if (v->n && overview_within(v, order, out, &room, &sh) < 0)
		goto out;
	if (sh.rows == v->n && details(v, order, out, room, &sh) < 0)
		goto out;
	closing_notes(out, v, &sh);
	rc = 0;
out:
	if (rc < 0)
		mg_cannot(err, errlen, "render", "markdown", ENOMEM);
	piece_free(&head);
	free(order);
	return rc;
}

/* ------------------------------------------------ pull-request comment */

/* One row of the comment's table: the fixture and its verdict cell only on
 * its first row (the rows of a fixture follow each other); mark follows
 * the limit (" (over)"), or is NULL. */
static void comment_row(FILE *out, const struct mg_rv_fixture *f, bool first, const char *verdict_note,
			const char *metric, const char *value, const char *limit, const char *mark)
{
	char d[128] = "—";
	const struct mg_rv_metric *c = metric ? mg_rv_comparison_of(f, metric) : NULL;
	if (c) {
		mg_rv_format_delta(c, d, sizeof d);
		if (!c->baseline_ok)
			snprintf(d + strlen(d), sizeof d - strlen(d), " (over baseline)");
	}
	if (first) {
		fputs("| ", out);
		md_text(out, f->name);
		fprintf(out, " | %s", mg_verdict_upper(f->verdict));
		if (verdict_note) {
			fputs(": ", out);
			md_inline(out, verdict_note);
			if (f->reasons.n > 1)
				fprintf(out, " (+%zu more)", f->reasons.n - 1);
		}
		fputs(" | ", out);
	} else {
		fputs("| | | ", out);
	}
	if (metric)
		md_text(out, metric);
	else
		fputs("—", out);
	fprintf(out, " | %s | %s%s | %s |\n", value, limit, mark ? mark : "", d);
}

/* Was this metric already given a row (its first limit, or its first
 * "baseline" entry when it has no limit)? */
static bool row_before(const struct mg_rv_fixture *f, const struct mg_rv_metric *m)
{
	const struct mg_rv_metric *l = mg_rv_limit_of(f, m->metric);
	if (l)
		return l != m;
	for (size_t i = 0; i < f->nbaseline && &f->baseline[i] != m; i++)
		if (strcmp(f->baseline[i].metric, m->metric) == 0)
			return true;
	return false;
}

/* A row per metric with a limit, then per metric compared with a baseline
 * only; tree RSS alone when there is neither. The first reason goes into
 * the verdict cell of a fixture that did not pass when no row shows why. */
static void comment_fixture(FILE *out, const struct mg_rv_fixture *f)
{
	bool shows_why = false;
	for (size_t i = 0; i < f->nlimits; i++)
		shows_why |= (f->limits[i].has_value && !f->limits[i].ok) ||
			     (f->limits[i].has_delta && !f->limits[i].baseline_ok);
	for (size_t i = 0; i < f->nbaseline; i++)
		shows_why |= !f->baseline[i].baseline_ok;
	const char *note = f->verdict != MG_VERDICT_PASS && !shows_why && f->reasons.n ? f->reasons.v[0] : NULL;
	if (!f->ran || !mg_rv_started(f)) {
		comment_row(out, f, true, note, NULL, f->ran ? "did not start" : "not run", "—", NULL);
		return;
	}
	bool first = true;
	char v[48], lim[48];
	for (size_t i = 0; i < f->nlimits; i++) {
		const struct mg_rv_metric *l = &f->limits[i];
		if (row_before(f, l))
			continue;
		snprintf(v, sizeof v, "n/a");
		if (l->has_value)
			mg_rv_format_value(l, l->value_bytes, v, sizeof v);
		mg_rv_format_value(l, l->limit_bytes, lim, sizeof lim);
		comment_row(out, f, first, note, l->metric, v, lim,
			    l->ok ? NULL : !l->has_value ? " (not measured)"
			    : l->value_bytes > l->limit_bytes ? " (over)" : " (not proven)");
		first = false;
	}
	for (size_t i = 0; i < f->nbaseline; i++) {
		const struct mg_rv_metric *b = &f->baseline[i];
		if (mg_rv_limit_of(f, b->metric) || row_before(f, b))
			continue;
		snprintf(v, sizeof v, "n/a");
		if (b->has_value)
			mg_rv_format_value(b, b->value_bytes, v, sizeof v);
		comment_row(out, f, first, note, b->metric, v, "—", NULL);
		first = false;
	}
	if (first) {
		mib(f->tree_rss_bytes, v, sizeof v);
		comment_row(out, f, true, note, "tree_rss", v, "—", NULL);
	}
}

/* A link to the full report when url can be one as it is (http or https,
 * nothing that would end or break a markdown link); else NULL. */
static const char *linkable(const char *url)
{
	if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) || strlen(url) > 2048)
		return NULL;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("()<>[]\\`\"'", *p))
			return NULL;
	return url;
}

/* "_2 of 40 fixtures left out ...; the full report is in [the CI run](URL)._",
 * or, when nothing was left out, only where the full report is (when url
 * is known). */
static void comment_note(FILE *out, size_t left, size_t total, const char *url)
{
	if (!left) {
		if (url)
			fprintf(out, "_The full report is in [the CI run](%s)._\n", url);
		return;
	}
	fprintf(out, "_%zu of %zu fixture%s left out to stay under the comment size limit; ", left, total,
		total == 1 ? "" : "s");
	if (url)
		fprintf(out, "the full report is in [the CI run](%s)._\n", url);
	else
		fputs("the full report is in the JSON report._\n", out);
}

static int comment(const struct mg_view *v, FILE *out, size_t budget, const char *url)
{
	size_t *order = mg_rv_severity_order(v);
	struct piece head = {0}, note = {0}, rows = {0};
	int rc = -1;
	url = linkable(url);
	if (!order || piece_open(&head) < 0 || piece_open(&note) < 0 || piece_open(&rows) < 0)
		goto out;
	headline(head.f, v);
	inexact(head.f, v);
	if (piece_close(&head) < 0)
		goto out;
	fwrite(head.p, 1, head.len, out); /* the verdict always goes out */
	if (!v->n) {
		rc = 0;
		goto out;
	}
	/* the longest the note can be: the counts at their widest */
	comment_note(note.f, v->n, v->n, url);
	if (piece_close(&note) < 0)
		goto out;
	size_t room = budget > head.len ? budget - head.len : 0;
	fputs("| fixture | verdict | metric | value | limit | vs baseline |\n"
	      "|---|---|---|---:|---:|---:|\n", rows.f);
	fflush(rows.f);
	size_t used = rows.len + 1, k; /* + the blank line after the table */
	for (k = 0; k < v->n; k++) {
		struct piece r;
		if (piece_open(&r) < 0)
			goto out;
		comment_fixture(r.f, &v->fixtures[order[k]]);
		bool fits = piece_close(&r) == 0 && used + r.len <= room;
		/* keeping this one must leave room for the note, unless it is the last */
		if (fits && k + 1 < v->n && used + r.len + note.len > room)
			fits = false;
		if (fits) {
			fwrite(r.p, 1, r.len, rows.f);
			used += r.len;
		}
		piece_free(&r);
		if (!fits)
			break;
	}
	fputc('\n', rows.f);
	if (piece_close(&rows) < 0)
		goto out;
	if (k)
		fwrite(rows.p, 1, rows.len, out);
	comment_note(out, v->n - k, v->n, url);
	rc = 0;
out:
	piece_free(&head);
	piece_free(&note);
	piece_free(&rows);
	free(order);
	return rc;
}

int mg_render_markdown_comment(json_t *report, FILE *out, size_t budget, const char *full_report_url, char *err,
			       size_t errlen)
{
	struct mg_view v;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	int rc = comment(&v, out, budget, full_report_url);
	if (rc < 0)
		mg_cannot(err, errlen, "render", "markdown", ENOMEM);
	mg_view_free(&v);
	return rc;
}

int mg_markdown_view(const struct mg_view *v, FILE *out, size_t budget, char *err, size_t errlen)
{
	return render(v, out, budget, err, errlen);
}

int mg_render_markdown_budget(json_t *report, FILE *out, size_t budget, char *err, size_t errlen)
{
	struct mg_view v;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	int rc = render(&v, out, budget, err, errlen);
	mg_view_free(&v);
	return rc;
}

int mg_render_markdown(json_t *report, FILE *out, char *err, size_t errlen)
{
	return mg_render_markdown_budget(report, out, MG_MARKDOWN_BUDGET, err, errlen);
}
