/* render_common: what the renderers share. mg_view_load walks a JSON report
 * once, checks every type the renderers rely on, and fills a typed view;
 * renderers read only the view, so none of them can trip over a wrong type.
 * Strings in the view point into the json_t, which must outlive the view.
 * Unknown keys are ignored (newer reports may add some). */
#ifndef MG_RENDER_COMMON_H
#define MG_RENDER_COMMON_H

#include "metric.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MG_NULL_FIG ((int64_t)-1) /* a figure that is null ("not measured") */


struct mg_rv_point {
	int64_t ms;
	int64_t bytes;
};

struct mg_rv_strings {
	const char **v;
	size_t n;
};

struct mg_rv_limit {
	const char *metric;
	const char *unit;        /* "bytes", "bytes/s", "bytes/request"; NULL if absent */
	int64_t limit_bytes;
	bool has_value;          /* false: null, not measured */
	int64_t value_bytes;     /* may be negative: a growth rate */
	bool ok;
	/* A comparison with a baseline (optional keys): shown when has_delta. */
	bool has_delta;
	int64_t baseline_bytes;  /* MG_NULL_FIG when absent */
	int64_t delta_bytes;
	bool has_delta_pct;
	double delta_pct;
	bool has_allowed_pct;    /* the tolerance, when the report says it */
	double allowed_pct;
	int64_t allowed_bytes;   /* MG_NULL_FIG when absent */
	bool baseline_ok;        /* "baseline_ok"; true when absent */
};

/* A fixture-level "baseline" entry: a measured metric without a limit,
 * compared with the baseline report (baseline.c). */
struct mg_rv_baseline {
	const char *metric;
	bool has_value;          /* false: value_bytes null */
	int64_t value_bytes;
	int64_t baseline_bytes;
	int64_t delta_bytes;
	bool has_delta_pct;      /* false: null (a baseline of 0) or absent */
	double delta_pct;
	bool has_allowed_pct;
	double allowed_pct;
	int64_t allowed_bytes;   /* MG_NULL_FIG when absent */
	bool baseline_ok;        /* true when absent */
};

/* One metric compared with the baseline, from either a limit entry
 * (limit != NULL) or a "baseline" entry: what the renderers show. */
struct mg_rv_cmp {
	const char *metric;
	const char *unit;        /* the limit's, or NULL */
	const struct mg_rv_limit *limit; /* NULL for a metric without a limit */
	bool has_value;
	int64_t value_bytes;
	int64_t baseline_bytes;  /* MG_NULL_FIG when absent */
	int64_t delta_bytes;
	bool has_delta_pct;
	double delta_pct;
	bool has_allowed_pct;
	double allowed_pct;
	int64_t allowed_bytes;   /* MG_NULL_FIG when absent */
	bool ok;                 /* within the baseline's tolerance */
};

struct mg_rv_site {
	const char *location;
	const char *function;    /* memray only; NULL otherwise */
	int64_t size_bytes;
	int64_t count;           /* MG_NULL_FIG when null */
};

struct mg_rv_domain {
	int64_t domain;
	int64_t size_bytes;
};

#define MG_RV_NUMPY_DOMAIN 389047 /* NumPy's tracemalloc domain (pyheap.h) */

struct mg_rv_heap {           /* the optional "python_heap" object */
	const char *tool;
	int64_t peak_bytes;       /* MG_NULL_FIG when null */
	int64_t current_bytes;
	struct mg_rv_site *top;
	size_t ntop;
	struct mg_rv_domain *domains; /* optional key: ndomains 0 when absent */
	size_t ndomains;
};

struct mg_rv_service {        /* the optional "service" object (service mode) */
	const char *outcome;      /* "ok", "driver_failed", ... */
	bool stopped;             /* memgate sent the stop signal: its end was expected */
	const char *service_stdout, *service_stderr, *driver_stderr; /* tails, or NULL */
};

struct mg_rv_exit {
	bool has_code;
	int64_t code;
	bool has_signal;
	int64_t signal;
	const char *signal_name; /* NULL when null */
	bool timed_out;
	bool oom_killed;
};

struct mg_rv_fixture {
	size_t index;            /* position in the report */
	const char *name;
	enum mg_verdict verdict;
	struct mg_rv_strings reasons;
	struct mg_rv_strings command;
	struct mg_rv_limit *limits;
	size_t nlimits;
	struct mg_rv_baseline *baseline; /* the optional "baseline" array */
	size_t nbaseline;
	bool ran;                /* "exit" is not null; everything below only then */
	struct mg_rv_exit exit;
	int64_t wall_ms;
	const char *method;
	int64_t interval_ms;
	int64_t samples;
	const char *fallback_reason; /* NULL when null */
	struct mg_rv_strings notes;
	int64_t cgroup_bytes, tree_rss_bytes, max_process_hwm_bytes, tree_pss_bytes;
	int64_t kill_above_bytes;
	int64_t leftover_processes;
	struct mg_rv_point *series;
	size_t nseries;
	struct mg_rv_heap *heap; /* NULL when absent */
	struct mg_rv_service *service; /* NULL when absent or null */
};

struct mg_view {
	enum mg_verdict verdict;
	const char *interrupted_by; /* "SIGINT", or NULL */
	struct mg_rv_fixture *fixtures;
	size_t n;
	size_t npass, nfail, nerror;
};

/* 0, or -1 with err naming the JSON path that is wrong. */
int mg_view_load(json_t *report, struct mg_view *v, char *err, size_t errlen);
void mg_view_free(struct mg_view *v);

/* The markdown of a loaded view within budget bytes (render_markdown.c);
 * shared with the GitHub renderer, which has already loaded the view. */
int mg_markdown_view(const struct mg_view *v, FILE *out, size_t budget, char *err, size_t errlen);

/* ------------------------------------------------------------ helpers */

/* The command started: it has figures (they are all null when exec failed). */
bool mg_rv_started(const struct mg_rv_fixture *f);
/* The main process ended by itself with code 0. */
bool mg_rv_clean_exit(const struct mg_rv_fixture *f);
/* The limit entry for metric, or NULL. */
const struct mg_rv_limit *mg_rv_limit_of(const struct mg_rv_fixture *f, const char *metric);
/* Every baseline comparison of a fixture, limits first, then the
 * "baseline" array: how many (at most max are stored in out). */
size_t mg_rv_comparisons(const struct mg_rv_fixture *f, struct mg_rv_cmp *out, size_t max);
/* The comparison of metric: true and *out filled, or false. */
bool mg_rv_comparison_of(const struct mg_rv_fixture *f, const char *metric, struct mg_rv_cmp *out);
/* The delta alone: "+12.3 MiB, +6.8%", "-1.0 MiB, -2.0%", "+64.5 MiB" (no
 * percentage: a baseline of 0). A delta that rounds to zero is "+0.0 MiB"
 * (or "0.0 MiB" when slightly negative) and its percentage "+0.0%". */
void mg_rv_format_delta(const struct mg_rv_cmp *c, char *buf, size_t len);
/* Its parts: "+12.3 MiB" and "+6.8%" ("" when there is no percentage). */
void mg_rv_format_delta_bytes(const struct mg_rv_cmp *c, char *buf, size_t len);
void mg_rv_format_delta_pct(const struct mg_rv_cmp *c, char *buf, size_t len);
/* "tree_rss 65.4 MiB is +12.1 MiB, +22.7% over the baseline 53.3 MiB
 * (allowed +10%, +4.0 MiB)" (the tolerance part only when known). */
void mg_rv_baseline_text(const struct mg_rv_cmp *c, char *buf, size_t len);
/* "exited with code 3", "killed by signal 11 (SIGSEGV)", "timed out",
 * "OOM-killed"; "" for a clean exit or a fixture that did not run. */
void mg_rv_exit_text(const struct mg_rv_fixture *f, char *buf, size_t len);
/* How far over its limits a fixture went: max of (value - limit) / limit. */
double mg_rv_overage(const struct mg_rv_fixture *f);
/* Fixture indices, most severe first: error, then fail by overage, then
 * pass; ties keep report order. Caller frees. NULL when out of memory. */
size_t *mg_rv_severity_order(const struct mg_view *v);
/* 100 * (limit - value) / limit */
double mg_rv_headroom_pct(int64_t value, int64_t limit);
/* A figure of a limit's metric as verdict.c writes it: "97.3 MiB" for sizes,
 * "1.2 MiB/s" for growth, "256.6 KiB/request" (MiB from 1 MiB up) per
 * request. The unit comes from the limit's "unit" key, else its metric. */
void mg_rv_format_value(const struct mg_rv_limit *l, int64_t v, char *buf, size_t len);
/* a + b for figures >= 0 (the view's byte counts and durations),
 * saturating at INT64_MAX: a report may hold any int64, and a sum of
 * them must not overflow. */
int64_t mg_rv_add(int64_t a, int64_t b);
/* The bytes traced in all of a heap's tracemalloc domains (saturating). */
int64_t mg_rv_traced_bytes(const struct mg_rv_heap *h);
/* The traced bytes of a heap in one tracemalloc domain (0 when absent). */
int64_t mg_rv_domain_bytes(const struct mg_rv_heap *h, int64_t domain);
/* A reason that is about a limit of this fixture ("tree_rss 97.3 MiB >
 * limit ...", "cgroup limit ... cannot be checked"), not about the run. */
bool mg_rv_limit_reason(const struct mg_rv_fixture *f, const char *reason);
/* "1 of 3 fixtures failed, 1 could not be measured" / "3 fixtures within limits" */
void mg_rv_summary(const struct mg_view *v, char *buf, size_t len);

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

/* Decode one UTF-8 character: its length (1-4) and code point, or 0 for an
 * invalid sequence. */
size_t mg_utf8_next(const char *s, uint32_t *cp);
/* XML text/attribute content: escapes & < > " ', writes tab/newline/CR
 * as character references (so attributes keep them), and replaces what
 * XML 1.0 forbids (other control characters, U+FFFE/U+FFFF, invalid
 * UTF-8) with U+FFFD. */
void mg_xml_escape(FILE *out, const char *s);
/* The same, at most max_chars characters, "…" appended when cut. */
void mg_xml_escape_n(FILE *out, const char *s, size_t max_chars);

#endif
