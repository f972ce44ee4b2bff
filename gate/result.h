/* result: what one supervised fixture run measured. Filled by the
 * supervisor only; read by the verdict and the renderers. */
#ifndef MG_RESULT_H
#define MG_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "growth.h"
#include "heap.h"
#include "series.h"

#define MG_UNKNOWN ((int64_t)-1) /* a figure that is not available: null in JSON */
#define MG_MAX_PROCS 64          /* per-process figures kept in the report */
#define MG_MAX_NOTES 8

struct mg_proc_figure {
	pid_t pid;
	char name[64];
	int64_t rss_peak_bytes;  /* max sampled VmRSS */
	int64_t hwm_bytes;       /* its own VmHWM, or ru_maxrss when it had no children */
	bool had_children;       /* seen as a parent (then ru_maxrss is not its own); not reported */
	bool own_hwm;            /* hwm_bytes came from its own VmHWM; not reported */
};

/* How a service-mode fixture went; the verdict words it. */
enum mg_service_outcome {
	MG_SVC_OK,                /* ready, driven, stopped */
	MG_SVC_DIED_BEFORE_READY,
	MG_SVC_NOT_READY,         /* ready_timeout passed */
	MG_SVC_DIED_EARLY,        /* exited while the driver ran */
	MG_SVC_DRIVER_FAILED,     /* the driver could not start or exited non-zero / by a signal */
	MG_SVC_DRIVER_TIMEOUT,
};

struct mg_service_result {
	bool used;
	int port;                 /* the {port} memgate picked */
	enum mg_service_outcome outcome;
	int64_t ready_ms;         /* since exec; -1 never ready */
	int64_t rss_at_ready_bytes;     /* tree RSS sampled when it became ready */
	int64_t rss_after_driver_bytes; /* ... and when the driver exited (0: it did not) */
	bool stopped;             /* memgate sent stop_signal before the service exited */
	bool killed_after_grace;  /* it ignored stop_signal for stop_grace */
	struct {
		bool started;
		bool exited;
		int exit_code;
		int signal;
		int64_t start_ms, end_ms; /* since the service's exec */
		int64_t requests;      /* from its last line "requests=N", or -1 */
		/* its "requests=N" lines as they came: (ms since exec, N), bounded */
		struct mg_progress {
			int64_t ms, n;
			int64_t rss;   /* the tree's RSS read when the line came, or MG_UNKNOWN */
		} progress[64];
		int nprogress;
		char error[256];       /* could not start */
	} driver;
	/* bounded tails, malloc'd (NULL when empty) */
	char *service_stdout, *service_stderr, *driver_stdout, *driver_stderr;
};

/* How often one kind of read happened (ms; -1 when it never did twice). */
struct mg_cadence {
	double median_ms;
	double max_ms;
	int64_t count;
};

/* One phase of a run: service mode's startup / load / shutdown, the
 * program's own marks, one pytest test. */
#define MG_PHASE_NAME_MAX 200
#define MG_MAX_PHASES 20000
struct mg_phase {
	char name[MG_PHASE_NAME_MAX + 1];
	int64_t from_ms, to_ms;  /* since exec */
	pid_t scope;             /* 0: the whole tree; else that process and its descendants */
	bool exact;              /* its main figure (cgroup's with a cgroup, else max_process_hwm) is the kernel's */
	bool cgroup_exact;       /* cgroup_bytes: the kernel's peak since its start */
	bool hwm_exact;          /* max_process_hwm_bytes: every VmHWM reset at its start, read at its end */
	bool lost;               /* a process left it before its VmHWM was read */
	int64_t cgroup_bytes, tree_rss_bytes, max_process_hwm_bytes, cgroup_anon_bytes; /* MG_UNKNOWN: n/a */
};

struct mg_result {
	/* How it ended */
	bool started;            /* exec succeeded */
	pid_t main_pid;          /* the command's (or the service's) pid; 0 before it started */
	bool exited;             /* main child exited normally: exit_code valid */
	int exit_code;
	int signal;              /* main child killed by this signal, or 0 */
	bool timed_out;
	bool oom_killed;
	int interrupted_by;      /* SIGINT/SIGTERM received by memgate, or 0 */
	int64_t wall_ms;
	char error[512];         /* non-empty: could not measure (verdict error) */

	/* How it was measured */
	enum mg_method method;   /* backend used (never AUTO) */
	char fallback_reason[512];
	int64_t interval_ms;
	int64_t samples;
	struct mg_cadence achieved;       /* the ticks */
	struct mg_cadence per_process;    /* a full round over the tree's processes */
	struct mg_cadence pss_sweeps;     /* PSS sweeps (pss only) */
	int64_t cpu_budget_x100;          /* the per-process reads' budget, hundredths of % of a core */
	int64_t self_cpu_ms;     /* memgate's own CPU time while supervising */
	int64_t self_maxrss_bytes; /* memgate's own peak RSS so far */
	char notes[MG_MAX_NOTES][256];
	int nnotes;

	/* Figures, bytes, MG_UNKNOWN when not available */
	int64_t cgroup_bytes;
	int64_t cgroup_anon_bytes;   /* max of the cgroup's anon + shmem, sampled */
	/* the largest usage (tree RSS) at which anon (PSS) was read: a sampled
	 * figure's pass is only as good as the reads made near its ceiling */
	int64_t cgroup_anon_read_at;
	int64_t pss_read_at;
	int64_t cgroup_file_bytes;   /* page cache of files at the largest sampled usage */
	int64_t tree_rss_bytes;
	int64_t max_process_hwm_bytes;
	int64_t tree_pss_bytes;
	int64_t oom_kills;
	int leftover_processes;

	struct mg_series series; /* (ms, tree RSS) */
	struct mg_series series_cgroup; /* (ms, cgroup usage), with a cgroup */
	struct mg_series series_anon;   /* (ms, cgroup anon + shmem), with a cgroup */
	struct mg_growth growth; /* slope of the steady part of series */
	int64_t growth_per_request_bytes; /* MG_UNKNOWN without a request count */
	bool growth_per_request_from_progress; /* over the driver's own progress lines (else its rate) */
	struct mg_service_result service;
	struct mg_pyheap *python_heap;   /* malloc'd; NULL without attribution */
	int64_t python_heap_bytes;       /* its peak, whatever the tool, or MG_UNKNOWN: the
					  * figure of the heap and python_heap metrics */
	struct mg_proc_figure procs[MG_MAX_PROCS]; /* largest hwm first after the run */
	struct mg_phase *phases;         /* malloc'd, in the order they started */
	size_t nphases;
	int nprocs;
};

void mg_result_init(struct mg_result *r);
void mg_result_free(struct mg_result *r);
/* Add a note (printf-style); silently dropped beyond MG_MAX_NOTES. */
void mg_result_note(struct mg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
