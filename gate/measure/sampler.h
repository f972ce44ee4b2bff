/* sampler: what one tick of the interval reads, at the cost the issue
 * "The sampler at the physical limit" asks for.
 *
 * Every tick (O(1) in the number of processes):
 *   - with a cgroup, its usage (memory.usage_in_bytes / memory.current) and
 *     memory.stat (anon + shmem, and the page cache of files), each one
 *     pread() of a file kept open: the cgroup series.
 * Under a CPU budget (default 1% of a core, mg_fixture.cpu_budget_x100),
 * rotating over the tree so that no process goes unread for long:
 *   - the list of the tree's processes (cgroup.procs, or memgate's
 *     descendants less the driver's tree and the watchdog), once per
 *     rotation;
 *   - each process's RSS (statm, kept open), and its status (name,
 *     VmHWM, parent) when it is new and about once a second;
 *   - PSS (smaps_rollup) at a 5% duty cycle: after a sweep that took d,
 *     the next starts 19 d later.
 * The tree's RSS is the sum of the last values read, one series point per
 * tick. The exact figures do not depend on how often a process is read:
 * the cgroup's peak and each process's VmHWM are the kernel's high-water
 * marks, and ru_maxrss from wait4 carries a waited-for process's own. */
#ifndef MG_SAMPLER_H
#define MG_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "measure/procfs.h"

struct run;
struct mg_sampler;

/* Before the first sample, once the cgroup (if any) exists. 0, or -1 (run's error set). */
int mg_sampler_start(struct run *run);
void mg_sampler_free(struct mg_sampler *s);

/* One tick; full: every process now, ignoring the budget (service mode's
 * moments: ready, the driver's end, and after the main process exited).
 * 0, or -1 (run's error set). */
int mg_sample(struct run *run, bool full);
/* The tree's RSS as of the last tick, and how many processes were live. */
int64_t mg_sample_tree_rss(const struct run *run);
int mg_sample_live(const struct run *run);

/* A process memgate reaped with this ru_maxrss (bytes). True when that is
 * the process's own peak (it never had children). */
bool mg_sampler_reaped(struct run *run, pid_t pid, int64_t maxrss);
/* The tree now (see above). 0, or -1 with err. */
int mg_list_tree(struct run *run, struct mg_pidset *out, char *err, size_t len);
/* At the end: the largest processes, and how often things were read, into the result. */
void mg_sampler_finish(struct run *run);

#endif
