/* sampler: one sample of the fixture's tree: which processes it has now
 * (its cgroup's cgroup.procs, or memgate's descendants less the driver's
 * tree and the watchdog), and their memory: RSS from statm, the kernel's
 * high-water mark from status (VmHWM), PSS when asked. The tree's RSS is
 * summed into the series; each process's own figures are kept. */
#ifndef MG_SAMPLER_H
#define MG_SAMPLER_H

#include <stdbool.h>

#include "measure/run.h"

/* The tree now (see above). 0, or -1 with err. */
int mg_list_tree(struct run *run, struct mg_pidset *out, char *err, size_t len);
/* One sample; full reads status for every process. 0, or -1 (run's error set). */
int mg_sample(struct run *run, bool full);
/* The figures of pid, created when new (reaping uses it). */
struct mg_proc_figure *mg_track(struct run *run, pid_t pid);
/* Raise the tree-wide maximum of the processes' high-water marks. */
void mg_raise_hwm(struct run *run, int64_t hwm);
/* Keep the largest processes in the result, largest first. */
void mg_keep_top_procs(struct run *run);

#endif
