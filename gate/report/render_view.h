/* render_view: the typed view of a JSON report that every renderer reads.
 * mg_view_load walks a report once: mg_report_validate (report_load.h)
 * checks what every reader of a report relies on, then the view builder
 * checks the rest of what the renderers draw, and fills the view;
 * renderers read only the view, so none of them can trip over a wrong type.
 * Strings in the view point into the json_t, which must outlive the view.
 * Unknown keys are ignored (newer reports may add some). */
#ifndef MG_RENDER_VIEW_H
#define MG_RENDER_VIEW_H

#include "metric.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_NULL_FIG ((int64_t)-1) /* a figure that is null ("not measured") */


struct mg_rv_point {
	int64_t ms;
	int64_t bytes;
};

struct mg_rv_strings {
	const char **v;
	size_t n;
};

/* One metric of a fixture: an entry of "limits" (a limit, and maybe a
 * comparison with a baseline), or of the optional "baseline" array (a
 * metric without a limit compared with a baseline, baseline.c). The two
 * arrays share their keys but a limit's own ("limit_bytes", "ok", "unit"),
 * so one type holds either. */
struct mg_rv_metric {
	const char *metric;
	const char *unit;        /* "bytes", "bytes/s", "bytes/request"; NULL if absent */
	int64_t limit_bytes;     /* a limit's only: 0 in a "baseline" entry */
	bool ok;                 /* within the limit; a limit's only */
	bool has_value;          /* false: null, not measured */
	int64_t value_bytes;     /* may be negative: a growth rate */
	/* The comparison with a baseline: always in a "baseline" entry, in a
	 * limit when it has "delta_bytes" (--baseline). */
	bool has_delta;
	int64_t baseline_bytes;  /* MG_NULL_FIG when absent */
	int64_t delta_bytes;
	bool has_delta_pct;      /* false: null (a baseline of 0) or absent */
	double delta_pct;
	bool has_allowed_pct;    /* the tolerance, when the report says it */
	double allowed_pct;
	int64_t allowed_bytes;   /* MG_NULL_FIG when absent */
	bool baseline_ok;        /* within the tolerance; true when absent */
};

struct mg_rv_site {
	const char *location;
	const char *function;    /* memray and heaptrack; NULL otherwise */
	const char *native;      /* memray --native: the named native frame under the
				  * Python line; NULL otherwise */
	int64_t size_bytes;
	int64_t count;           /* MG_NULL_FIG when null */
};

struct mg_rv_domain {
	int64_t domain;
	int64_t size_bytes;
};

#define MG_RV_NUMPY_DOMAIN 389047 /* NumPy's tracemalloc domain (pyheap.h) */

/* One process memray captured (heap.processes): the program, or a child
 * it forked ("follow_fork"). */
struct mg_rv_heap_proc {
	int64_t pid;              /* MG_NULL_FIG when null */
	bool forked;
	int64_t peak_bytes;
};

/* The optional "heap" object: "python_heap", its first name, in reports
 * written before "heap" (a report with "heap" is read from it alone). What
 * only some tools give is optional: absent, it is NULL or none. */
struct mg_rv_heap {
	const char *key;          /* "heap" or "python_heap": where it was read */
	const char *tool;         /* "tracemalloc", "memray", "heaptrack", or anything */
	int64_t peak_bytes;       /* MG_NULL_FIG when null */
	int64_t current_bytes;    /* MG_NULL_FIG when null (memray, heaptrack) */
	int64_t leaked_bytes;     /* heaptrack; MG_NULL_FIG when null or absent */
	struct mg_rv_site *top;
	size_t ntop;
	struct mg_rv_site *leaks; /* heaptrack: the sites that leak, largest first */
	size_t nleaks;
	struct mg_rv_domain *domains; /* optional key: ndomains 0 when absent */
	size_t ndomains;
	struct mg_rv_heap_proc *procs; /* memray: every process captured */
	size_t nprocs;
	const char *flamegraph;   /* --artifacts: memray's flame graph; NULL when absent */
};

struct mg_rv_service {        /* the optional "service" object (service mode) */
	const char *outcome;      /* "ok", "driver_failed", ... */
	bool stopped;             /* memgate sent the stop signal: its end was expected */
	const char *service_stdout, *service_stderr, *driver_stderr; /* tails, or NULL */
};

/* How often one kind of read happened (measurement.*_interval_ms). */
struct mg_rv_cadence {
	bool has;                 /* false: null, or absent (an older report) */
	double median_ms, max_ms;
	int64_t count;
};

/* The optional "growth" object: the least-squares line through tree RSS
 * over [from_ms, to_ms] (growth.c). */
struct mg_rv_growth {
	bool has;                 /* false: null or absent */
	double bytes_per_s;
	double r2;
	int64_t from_ms, to_ms;
};

/* One entry of the optional "phases" array: service mode's startup /
 * load / shutdown, a program's own marks, one pytest test. */
struct mg_rv_phase {
	const char *name;
	int64_t from_ms, to_ms;  /* since exec; to_ms >= from_ms */
	bool exact;              /* the kernel's own peak for the phase, not sampled */
	bool has_exact_figures;  /* "exact_figures" present (reports since it was written) */
	bool cgroup_exact, hwm_exact; /* from it: cgroup_bytes, max_process_hwm_bytes the kernel's */
	int64_t pid;             /* scoped to this process and its descendants; 0: the whole tree */
	enum mg_verdict verdict;
	/* MG_NULL_FIG when null (not measured for this phase) or absent */
	int64_t cgroup_bytes, tree_rss_bytes, max_process_hwm_bytes, tree_pss_bytes, cgroup_anon_bytes;
	struct mg_rv_metric *limits;   /* the phase's limits (phase_limits), maybe compared */
	size_t nlimits;
	struct mg_rv_metric *baseline; /* metrics without a limit compared with a baseline */
	size_t nbaseline;
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
	const char *name;
	enum mg_verdict verdict;
	struct mg_rv_strings reasons;
	struct mg_rv_strings command;
	struct mg_rv_metric *limits;
	size_t nlimits;
	struct mg_rv_metric *baseline;   /* the optional "baseline" array (has_delta) */
	size_t nbaseline;
	bool ran;                /* "exit" is not null; everything below only then */
	struct mg_rv_exit exit;
	int64_t wall_ms;
	const char *method;
	int64_t interval_ms;
	int64_t samples;
	const char *fallback_reason; /* NULL when null */
	struct mg_rv_strings notes;
	struct mg_rv_cadence achieved;    /* the ticks */
	struct mg_rv_cadence per_process; /* a round over the tree's processes */
	struct mg_rv_cadence pss_sweeps;
	bool has_cpu_budget;
	double cpu_budget_pct;            /* of one core, for the per-process reads */
	int64_t cgroup_bytes, tree_rss_bytes, max_process_hwm_bytes, tree_pss_bytes;
	/* MG_NULL_FIG when null or absent (reports before cgroup_anon) */
	int64_t cgroup_anon_bytes, cgroup_file_bytes;
	bool anon_known;         /* peak has cgroup_anon_bytes, even null: a newer report */
	int64_t kill_above_bytes;
	int64_t leftover_processes;
	size_t nprocesses;       /* entries of "processes" (at most 64 are kept) */
	struct mg_rv_point *series;
	size_t nseries;
	/* "series_cgroup" split in two: [ms, usage] at every point, and
	 * [ms, anon] where anon is not null (both empty without a cgroup) */
	struct mg_rv_point *series_cgroup, *series_anon;
	size_t nseries_cgroup, nseries_anon;
	struct mg_rv_growth growth;
	struct mg_rv_heap *heap; /* NULL when absent */
	struct mg_rv_service *service; /* NULL when absent or null */
	struct mg_rv_phase *phases;    /* "phases" in report order; none when absent */
	size_t nphases;
};

struct mg_view {
	enum mg_verdict verdict;
	const char *interrupted_by; /* "SIGINT", or NULL */
	struct mg_rv_fixture *fixtures;
	size_t n;
	size_t nfail, nerror;
};

/* 0, or -1 with err naming the JSON path that is wrong. */
int mg_view_load(json_t *report, struct mg_view *v, char *err, size_t errlen);
void mg_view_free(struct mg_view *v);

#endif
