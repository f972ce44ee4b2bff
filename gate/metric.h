/* metric: the names memgate's config, reports and command line share, in one
 * table each: the metrics a limit may name, the measurement methods, and
 * the verdicts. Everything that writes or reads one of these words uses
 * these functions. */
#ifndef MG_METRIC_H
#define MG_METRIC_H

enum mg_metric {
	MG_METRIC_TREE_RSS,
	MG_METRIC_CGROUP,
	MG_METRIC_MAX_PROCESS_HWM,
	MG_METRIC_PSS,
	MG_METRIC_CGROUP_ANON,        /* the cgroup's anon + shmem: page cache left out */
	MG_METRIC_PYTHON_HEAP,        /* the heap tool's peak: its first name, from when
				       * only Python's heap was traced; the same figure as heap */
	MG_METRIC_GROWTH,             /* bytes per second, not bytes: "1MiB/s" */
	MG_METRIC_GROWTH_PER_REQUEST, /* bytes per driver request */
	MG_METRIC_HEAP,               /* the heap tool's peak (tracemalloc, memray or heaptrack) */
	MG_METRIC_COUNT
};
/* "tree_rss", "cgroup", "max_process_hwm", "pss", "cgroup_anon",
 * "python_heap", "growth", "growth_per_request", "heap" */
const char *mg_metric_name(enum mg_metric m);
/* 0 on success, -1 for an unknown name */
int mg_metric_from_name(const char *name, enum mg_metric *m);

enum mg_method {
	MG_METHOD_AUTO,
	MG_METHOD_CGROUP_V2,
	MG_METHOD_CGROUP_V1,
	MG_METHOD_PROC,
	MG_METHOD_COUNT
};
/* The tables behind the functions, for "did you mean" suggestions. */
extern const char *const mg_metric_names[MG_METRIC_COUNT];
extern const char *const mg_method_names[MG_METHOD_COUNT];
/* "auto", "cgroup-v2", "cgroup-v1", "proc" */
const char *mg_method_name(enum mg_method m);
int mg_method_from_name(const char *name, enum mg_method *m);

/* pass  = measured, exited 0, every limit met;
 * fail  = a limit exceeded, non-zero exit, signal, timeout or OOM kill;
 * error = could not measure (or a limit's figure is unavailable): never a
 *         pass. Ordered: a worse verdict is a larger value. */
enum mg_verdict { MG_VERDICT_PASS, MG_VERDICT_FAIL, MG_VERDICT_ERROR };
/* "pass" "fail" "error" */
const char *mg_verdict_name(enum mg_verdict v);
/* "PASS" "FAIL" "ERROR" */
const char *mg_verdict_upper(enum mg_verdict v);
/* 0, or -1 for anything else (name may be NULL) */
int mg_verdict_from_name(const char *name, enum mg_verdict *v);
enum mg_verdict mg_verdict_worst(enum mg_verdict a, enum mg_verdict b);

#endif
