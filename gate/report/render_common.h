/* render_common: what the renderers share: the helpers that read a report
 * view (render_view.h), and generic ones (render_util.c). */
#ifndef MG_RENDER_COMMON_H
#define MG_RENDER_COMMON_H

#include "report/render_view.h"

#include <stdio.h>

/* The markdown of a loaded view within budget bytes (render_markdown.c);
 * shared with the GitHub renderer, which has already loaded the view. */
int mg_markdown_view(const struct mg_view *v, FILE *out, size_t budget, char *err, size_t errlen);

/* ------------------------------------------------------------ helpers */

/* The command started: it has figures (they are all null when exec failed). */
bool mg_rv_started(const struct mg_rv_fixture *f);
/* The main process ended by itself with code 0. */
bool mg_rv_clean_exit(const struct mg_rv_fixture *f);
/* The (first) limit entry for metric, or NULL. */
const struct mg_rv_metric *mg_rv_limit_of(const struct mg_rv_fixture *f, const char *metric);
/* Every metric of a fixture compared with a baseline, limits first, then
 * the "baseline" array: how many (at most max are stored in out). */
size_t mg_rv_comparisons(const struct mg_rv_fixture *f, const struct mg_rv_metric **out, size_t max);
/* The comparison of metric: its limit entry if it has one (NULL when that
 * limit was not compared), else its "baseline" entry, else NULL. */
const struct mg_rv_metric *mg_rv_comparison_of(const struct mg_rv_fixture *f, const char *metric);
/* The delta alone: "+12.3 MiB, +6.8%", "-1.0 MiB, -2.0%", "+64.5 MiB" (no
 * percentage: a baseline of 0). A delta that rounds to zero is "+0.0 MiB"
 * (or "0.0 MiB" when slightly negative) and its percentage "+0.0%". */
void mg_rv_format_delta(const struct mg_rv_metric *c, char *buf, size_t len);
/* Its parts: "+12.3 MiB" and "+6.8%" ("" when there is no percentage). */
void mg_rv_format_delta_bytes(const struct mg_rv_metric *c, char *buf, size_t len);
void mg_rv_format_delta_pct(const struct mg_rv_metric *c, char *buf, size_t len);
/* "tree_rss 65.4 MiB is +12.1 MiB, +22.7% over the baseline 53.3 MiB
 * (allowed +10%, +4.0 MiB)" (the tolerance part only when known). */
void mg_rv_baseline_text(const struct mg_rv_metric *c, char *buf, size_t len);
/* From the exit data: "exited with code 3", "killed by signal 11
 * (SIGSEGV)", "timed out (the tree was killed)", "OOM-killed (kill_above
 * 64.0 MiB)"; "" for a clean exit or a fixture that did not run. */
void mg_rv_exit_text(const struct mg_rv_fixture *f, char *buf, size_t len);
/* Fixture indices, most severe first: error, then fail by overage, then
 * pass; ties keep report order. Caller frees. NULL when out of memory. */
size_t *mg_rv_severity_order(const struct mg_view *v);
/* 100 * (limit - value) / limit */
double mg_rv_headroom_pct(int64_t value, int64_t limit);
/* A figure of a metric as verdict.c writes it: "97.3 MiB" for sizes,
 * "1.2 MiB/s" for growth, "256.6 KiB/request" (MiB from 1 MiB up) per
 * request. The unit comes from the entry's "unit" key, else its metric. */
void mg_rv_format_value(const struct mg_rv_metric *m, int64_t v, char *buf, size_t len);
/* a + b for figures >= 0 (the view's byte counts and durations),
 * saturating at INT64_MAX: a report may hold any int64, and a sum of
 * them must not overflow. */
int64_t mg_rv_add(int64_t a, int64_t b);
/* The bytes traced in all of a heap's tracemalloc domains (saturating). */
int64_t mg_rv_traced_bytes(const struct mg_rv_heap *h);
/* The traced bytes of a heap in one tracemalloc domain (0 when absent). */
int64_t mg_rv_domain_bytes(const struct mg_rv_heap *h, int64_t domain);
/* ---------------------------------------------------------------- heap */

/* The heap block's name by its tool: "native heap" (heaptrack), else
 * "python heap" (tracemalloc, memray, and what older reports hold). */
const char *mg_rv_heap_label(const struct mg_rv_heap *h);
/* What a site's count counts: "allocations" (memray: live at the peak),
 * "calls" (heaptrack: calls to an allocation function), else dflt
 * (tracemalloc's are memory blocks). */
const char *mg_rv_heap_count_word(const struct mg_rv_heap *h, const char *dflt);
/* memray followed forks and a child was captured: its processes are worth a line. */
bool mg_rv_heap_forked(const struct mg_rv_heap *h);
/* The processes to name, the largest peaks first (ties in report order):
 * at most max indices into h->procs; how many were written. */
size_t mg_rv_heap_procs_order(const struct mg_rv_heap *h, size_t *out, size_t max);
/* " pid 100 12.0 MiB, pid 101 (forked) 6.0 MiB, MORE" "and N more": the
 * per-process peaks, largest first, as every renderer lists them */
void mg_rv_heap_procs_list(FILE *out, const struct mg_rv_heap *h, const char *more);
/* heaptrack: the leak at the same place (location and function) as a site
 * held at the peak, or NULL; and whether leaks[i] is one of those. Only the
 * first MG_RV_HEAP_MATCH of each list are compared (memgate writes at most
 * 64 of each), so a report from elsewhere with long lists costs linear time. */
#define MG_RV_HEAP_MATCH 64
const struct mg_rv_site *mg_rv_heap_leak_at(const struct mg_rv_heap *h, const struct mg_rv_site *s);
bool mg_rv_heap_leak_at_peak(const struct mg_rv_heap *h, size_t leak); /* h->leaks[leak] */
/* Processes and leaking sites named in the text (and JUnit): the rest counted. */
#define MG_RV_HEAP_PROCS 3
#define MG_RV_HEAP_LEAKS 3
/* The heap as the text summary says it, each line after indent, control
 * characters as '?' (text and JUnit share it):
 *   python heap (tracemalloc): peak 46.4 MiB
 *   native heap (heaptrack): peak 47.0 MiB, leaked 47.0 MiB
 *   python heap (memray): peak 20.1 MiB, summed over 3 processes' own peaks
 *     per process: pid 100 12.0 MiB, pid 101 (forked) 6.0 MiB, ... and 2 more
 *   NumPy buffers 12.0 MiB of 16.0 MiB traced (75.0%): not Python objects
 * then, with sites, each top site ("      40.5 MiB  leak.py:5  (40001
 * blocks)", its function and native frame when it has them, "leaked"
 * when heaptrack found it leaking too) and at most MG_RV_HEAP_LEAKS of the
 * other leaking sites under "  leaked, not held at the peak:"; last the
 * flame graph's path. */
void mg_rv_heap_text(FILE *out, const struct mg_rv_heap *h, bool sites, const char *indent);
/* One clause for a one-line message (an annotation): "native heap
 * (heaptrack): peak 47.0 MiB, leaked 47.0 MiB, largest leak
 * native_service.c:86 (31.3 MiB)"; "python heap (memray): peak 189.2 MiB,
 * largest site service.py:72 (62.6 MiB)". Control characters kept. */
#define MG_RV_HEAP_BRIEF 512 /* room for a location of 256 bytes, as memgate writes them */
void mg_rv_heap_brief(const struct mg_rv_heap *h, char *buf, size_t len);

/* "1 of 3 fixtures failed, 1 could not be measured" / "3 fixtures within limits" */
void mg_rv_summary(const struct mg_view *v, char *buf, size_t len);

/* A figure that would surprise a reader, explained in one line: tree_rss
 * far above the figures that count a shared page once (a forked pool),
 * or cgroup far above the tree because it holds the page cache (a
 * file-heavy job). */
#define MG_RV_MAX_SURPRISES 2
struct mg_rv_surprise {
	const char *metric;     /* the figure explained: "tree_rss" or "cgroup" */
	char text[192];         /* "shared pages counted once per process: ..." */
};
/* The surprises worth a line for f (see render_common.c for the rule),
 * at most MG_RV_MAX_SURPRISES, in the order tree_rss, cgroup: how many.
 * Only from the report's figures: text, markdown and JUnit all use it. */
size_t mg_rv_surprises(const struct mg_rv_fixture *f, struct mg_rv_surprise *out);
/* The surprise about metric among n, or NULL. */
const struct mg_rv_surprise *mg_rv_surprise_of(const struct mg_rv_surprise *s, size_t n, const char *metric);

/* The backend, said once per run and only when it was not exact: each
 * distinct fallback reason among the fixtures that ran with proc after a
 * fallback (a fixture that asked for proc is not told: nothing went other
 * than asked), in report order, with who: "" when it is every fixture
 * that ran, else their names ("a, b", "a, b, c, +2 more"). Fills at most
 * max; returns how many distinct reasons there are. */
#define MG_RV_MAX_INEXACT 3
struct mg_rv_inexact {
	const char *reason;     /* as the report has it */
	char brief[256];        /* the same for a summary: no parentheses, no "for mkdir PATH" tails */
	char who[200];
};
size_t mg_rv_inexact(const struct mg_view *v, struct mg_rv_inexact *out, size_t max);

/* What a fixture's chart plots: the series of the metric that failed it
 * (tree RSS unless a cgroup or cgroup_anon limit failed and the report has
 * that series, or an OOM kill under kill_above), its limit, and the growth
 * fit when a growth limit failed. */
struct mg_rv_chart {
	const char *metric;           /* "tree_rss", "cgroup", "cgroup_anon" */
	const char *label;            /* "tree RSS", "cgroup usage", "cgroup anon + shmem" */
	const struct mg_rv_point *pts;
	size_t n;
	int64_t peak;                 /* the metric's peak figure (the axis holds it), or MG_NULL_FIG */
	bool has_limit;
	int64_t limit_bytes;
	const char *limit_name;       /* "tree_rss limit", "cgroup limit", "kill_above" */
	bool fit;                     /* draw the growth fit: from (t0, v0) to (t1, v1), ms and bytes */
	double fit_t0, fit_v0, fit_t1, fit_v1;
	const char *end;              /* "OOM kill", "timeout" or NULL: how the run ended */
};
void mg_rv_chart_of(const struct mg_rv_fixture *f, struct mg_rv_chart *c);

/* -------------------------------------------------------------- phases */

/* A fixture's phases are shown (a table in text and markdown, bands in
 * the SVG) when it has more than one, or a limit on any: a plain command's
 * one phase "run" is the whole run, already shown. */
bool mg_rv_phases_shown(const struct mg_rv_fixture *f);
/* A phase's figure for metric ("tree_rss", "cgroup", "cgroup_anon",
 * "max_process_hwm", "pss"), MG_NULL_FIG when not measured. */
int64_t mg_rv_phase_value(const struct mg_rv_phase *p, const char *metric);
/* The figure a fixture's phases are shown by when a phase has no limit of
 * its own: the metric of the first phase limit in the report; else the
 * fixture's first limit on a figure measured per phase; else, with scoped
 * phases (pytest-xdist's tests), max_process_hwm, which is the process's
 * own where cgroup is the whole tree's; else the first of cgroup,
 * tree_rss, max_process_hwm that a phase has. */
const char *mg_rv_phase_metric(const struct mg_rv_fixture *f);

/* What one row of a phase table (or one band) says about a phase: the
 * limit that stands worst (not measured, then the farthest over, then the
 * least headroom), else the fixture's phase metric; and that figure's
 * comparison with a baseline, if any. */
struct mg_rv_phase_row {
	const struct mg_rv_phase *p;
	const char *metric;
	int64_t value;                    /* MG_NULL_FIG: not measured */
	bool exact;                       /* that figure is the kernel's own for the phase */
	const struct mg_rv_metric *limit; /* NULL: no limit on it */
	const struct mg_rv_metric *cmp;   /* NULL: not compared */
};
void mg_rv_phase_row(const struct mg_rv_fixture *f, const struct mg_rv_phase *p, struct mg_rv_phase_row *row);

/* Why a phase is not passing, from its structured data: its worst limit
 * ("cgroup 301.0 MiB > limit 256.0 MiB", "cgroup limit 64.0 MiB cannot
 * be checked: not measured for this phase"), else its first comparison
 * over the baseline (mg_rv_baseline_text); "" for a phase that passes. */
void mg_rv_phase_failure(const struct mg_rv_phase *p, char *buf, size_t len);
/* Its first comparison over the baseline's tolerance, or NULL. */
const struct mg_rv_metric *mg_rv_phase_regression(const struct mg_rv_phase *p);

/* Rows shown in a phase table: the rest are counted. */
#define MG_RV_PHASE_ROWS 10
/* The phases to show, at most max of them, as indices into f->phases: the
 * phases that are not passing first (errors, then failures by how far
 * over their limit), then the others by their row's figure, highest first;
 * but in report order (when they started) when all of them fit and none
 * fails, so a service reads startup, load, shutdown. Returns how many
 * indices were written (NULL, 0: only counts); *nbad: how many phases are
 * not passing. Allocates nothing; out holds max. */
size_t mg_rv_phase_order(const struct mg_rv_fixture *f, size_t *out, size_t max, size_t *nbad);

/* ------------------------------------------------- render_util.c */

/* Downsample a series onto `max` evenly spaced time buckets over
 * [0, last ms], each keeping its maximum (as series.c does); an empty bucket
 * holds the previous value. Returns the number of values written to out
 * (MiB as doubles), 0 for an empty series. */
size_t mg_rv_downsample(const struct mg_rv_point *pts, size_t n, size_t max, double *out,
			int64_t *span_ms);

/* "Nice" axis ticks (1, 2 or 5 x 10^k) from 0 to at least max, with at
 * most `target` intervals. */
struct mg_ticks {
	double step;
	double top;             /* last tick, >= max */
	int count;              /* ticks including 0 and top */
	int decimals;           /* for printing tick labels */
};
void mg_nice_ticks(double max, int target, struct mg_ticks *t);

/* XML text/attribute content: escapes & < > " ', writes tab/newline/CR
 * as character references (so attributes keep them), and replaces what
 * XML 1.0 forbids (other control characters, U+FFFE/U+FFFF, invalid
 * UTF-8) with U+FFFD. */
void mg_xml_escape(FILE *out, const char *s);
/* The same, at most max_chars characters, "…" appended when cut. */
void mg_xml_escape_n(FILE *out, const char *s, size_t max_chars);

#endif
