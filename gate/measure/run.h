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
#include "measure/service.h"
#include "measure/spawn.h"
#include "measure/supervisor.h"
#include "measure/watchdog.h"
#include "result.h"

#define TRACKED_MAX 1024   /* processes remembered for per-process figures */
#define KEPT_FDS 256       /* statm files kept open, at most */
#define FULL_EVERY 8       /* every 8th sample reads status (HWM) for every process */
#define PROBE_EVERY_MS 20  /* readiness probes while a service starts */

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
	struct mg_proc_figure *tracked; /* per-process figures */
	int *statm_fd;                  /* per tracked process: its statm, kept open, or -1 */
	size_t ntracked;
	int live;                       /* live processes in the last sample */
	int64_t last_rss;               /* tree RSS of the last sample */
	struct mg_tree_reader tree;     /* pid lists of any length, validated */
	long page_size;
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

#endif
