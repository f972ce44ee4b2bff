/* run: the state of one fixture's run, shared by the parts of the
 * supervisor (measure/ only; nothing outside measure/ includes this):
 *   supervise.c    the loop: backend, spawn, signals, reaping, teardown
 *   sampler.c      one sample of the tree: which processes, their memory
 *   service_run.c  service mode's phases: ready, drive, stop
 *   capture.c      the service's and driver's output, kept in bounded tails
 * and run.c, the helpers they share. */
#ifndef MG_RUN_H
#define MG_RUN_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "heap/tracemalloc.h"
#include "measure/cgroup.h"
#include "measure/procfs.h"
#include "measure/run_opts.h"
#include "measure/service.h"
#include "measure/spawn.h"
#include "measure/supervisor.h"
#include "measure/watchdog.h"
#include "result.h"
#include "tmpdir.h"

#define TRACKED_MAX 1024   /* processes remembered for per-process figures */
#define KEPT_FDS 256       /* statm files kept open, at most */
#define PROBE_EVERY_MS 20  /* readiness probes while a service starts */

/* The sampler's state (sampler.h says what it reads and when). */
/* One live process of the tree. */
struct mg_proc_slot {
	pid_t pid;
	pid_t ppid;                /* from its status, 0 until read */
	int statm_fd;              /* kept open, or -1: read by path */
	int64_t rss;               /* the last RSS read */
	int64_t status_ms;         /* when status was last read */
	bool seen;                 /* in the last listing */
	struct mg_proc_figure *fig;
};

struct mg_sampler {
	struct mg_proc_slot *slots;     /* the live processes */
	size_t n, cap;
	pid_t *keys;                    /* pid -> slot index: open addressing */
	uint32_t *vals;
	size_t nkeys;                   /* a power of two, >= 2 * cap */
	size_t cursor;                  /* the next slot this rotation reads */
	int64_t sum_rss;                /* sum of slots[].rss */
	int64_t max_usage;              /* the cgroup's largest sampled usage */
	int64_t rotation_start_ms;
	int rotations;
	/* figures of every process seen, largest high-water mark kept */
	struct mg_proc_figure *figs;
	size_t nfigs;
	/* the budget: CPU ns it may spend, and what one process costs */
	double budget;                  /* share of one core, e.g. 0.01 */
	int64_t tokens_ns;
	int64_t last_tick_ns;
	double ns_per_read;
	/* cgroup counters kept open; memory.stat's last figures and the usage
	 * they were read at (cgroup_tick reads it only when due) */
	int usage_fd, stat_fd;
	int64_t stat_usage, stat_anon, stat_file;
	int stat_age;
	/* how often each kind of read happened: deltas in microseconds */
	struct mg_intervals {
		uint32_t *us;
		size_t n, cap;
		unsigned stride, skip;  /* decimation once full */
		uint64_t max_us;
		int64_t last_ns;
	} ticks, rounds, pss_sweeps;
	int64_t next_pss_ms;
	int64_t next_escape_ms;         /* when to look for a process that left the cgroup */
	long page_size;
};

/* A process's status and clear_refs, kept open for the phases' boundaries. */
struct mg_proc_fds {
	pid_t pid;
	int status, clear;
};

/* The phases' state (phases.h). */
struct mg_phases_state {
	int rfd, wfd;                   /* the mark FIFO: memgate's read end, and a write end it
					 * keeps so reads never see EOF; -1 */
	int sfd;                        /* the sync socket (datagrams, each answered once done); -1 */
	struct mg_tmpdir dir;           /* holds "mark" (the FIFO) and "sync" (the socket) */
	char path[PATH_MAX + 16], spath[PATH_MAX + 16];
	char line[512];                 /* a mark line being received */
	size_t len;
	long open;                      /* index in r->phases of the running whole-tree phase, or -1 */
	struct {
		pid_t pid;
		long idx;
	} scoped[64];                   /* running phases scoped to a process */
	int nscoped;
	int peak_fd;                    /* v1 max_usage_in_bytes or v2 memory.peak, kept open; -1 */
	bool cg_resets;                 /* the cgroup's peak can be reset here */
	bool proc_resets;               /* VmHWM resets (clear_refs) work */
	int64_t cg_max_before_resets;   /* v1: the peak as read before each reset */
	int64_t usage, anon;            /* the cgroup's usage and anon + shmem at the last tick */
	bool capped;                    /* MG_MAX_PHASES reached: further phases are not recorded */
	bool peak_writable;             /* peak_fd opened for writing (v1, v2 6.12+: resets) */
	int64_t peak_at_open;           /* without resets: the run's peak when the phase began, or -1 */
	bool marked;                    /* the program has marked a phase */
	long ignored;                   /* lines that were not marks */
	long missed;                    /* phases marked while memgate was behind: no figures */
	size_t cap;                     /* room in r->phases */
	bool listed;                    /* scratch holds this boundary's processes of listed_scope */
	pid_t listed_scope;
	int64_t peak_now;               /* the cgroup's peak as read at this boundary, or -1 */
	struct mg_proc_fds fds[32];     /* the first processes' files, kept open */
	int nfds;
	struct mg_pidset scratch;       /* the processes of a scope, at a boundary */
};

/* Service mode runs through these phases; a plain command is RUNNING only. */
enum phase { PH_RUNNING, PH_STARTING, PH_DRIVING, PH_STOPPING, PH_DONE };

/* A captured output stream of the service or the driver. */
struct stream {
	int fd;                 /* -1 once closed */
	struct mg_tail *tail;
};

/* Everything one fixture run needs, in one place. */
struct run {
	struct mg_supervisor *sv;
	const struct mg_fixture *f;
	const struct mg_supervise_opts *opts; /* never NULL */
	struct mg_result *r;
	struct mg_cgroup cg;
	bool have_cg;
	struct mg_cgroup aux;           /* the driver's own cgroup, not measured */
	bool have_aux;
	struct mg_watchdog wd;          /* kills the fixture if memgate dies */
	struct mg_pidset spare;         /* the watchdog: never measured, never killed */
	struct mg_pidset watched;       /* memgate's children the watchdog was told */
	pid_t main_pid;
	bool main_done;
	int64_t t0;
	struct mg_pidset pids;          /* scratch for each sample */
	struct mg_pidset skip;          /* scratch: the driver's tree (proc mode) */
	struct mg_pidset check;         /* scratch: the tree again, after reading PSS */
	struct mg_pidset members;       /* scratch: the cgroup's processes, for the escape check */
	struct mg_sampler smp;          /* what each tick reads (sampler.h) */
	struct mg_phases_state ph;      /* exact peaks per phase (phases.h) */
	char mark_env[2][PATH_MAX + 48]; /* "MEMGATE_MARK=PATH", "MEMGATE_MARK_SYNC=PATH" */
	struct mg_tree_reader tree;     /* pid lists of any length, validated */
	/* service mode */
	enum phase phase;
	char **svc_argv, **drv_argv;    /* {port} substituted */
	char *ready_target;
	regex_t ready_re;
	bool have_re;
	int64_t phase_deadline;         /* ready, driver or stop grace deadline */
	int64_t next_probe;
	pid_t driver_pid;
	bool driver_done;
	struct mg_pyheap_prep pyheap;   /* tracemalloc injection */
	struct stream out[4];           /* service stdout, stderr, driver stdout, stderr */
};
enum { SVC_OUT, SVC_ERR, DRV_OUT, DRV_ERR };

/* Milliseconds on the monotonic clock. */
int64_t mg_run_now_ms(void);
void mg_run_sleep_ms(long ms);
/* The first error is the cause: later ones are dropped. */
void mg_run_error(struct mg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* How a process of this run is started (spawn.h), before the caller's changes. */
struct mg_spawn mg_run_spawn_spec(struct run *run, char *const *argv, const char *what, bool capture,
				  bool in_cgroup);

/* A live process's parent as the sampler last read it, 0 when unknown
 * (sampler.c; here so that phases.c need not include the sampler). */
pid_t mg_sampler_parent(const struct run *run, pid_t pid);

#endif
