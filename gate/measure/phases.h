/* phases: exact peaks per phase of a run.
 *
 * A phase is service mode's startup (start to ready), load (the driver's
 * run) and shutdown (stop signal to exit), a plain command's whole run
 * ("run"), or a phase the program marks itself: memgate gives every process
 * of the fixture MEMGATE_MARK, the path of a FIFO; a line "phase NAME"
 * written to it starts phase NAME (ending the one before), "end" ends it.
 * "phase NAME pid=N" / "end pid=N" scope a phase to process N and its
 * descendants (a pytest-xdist worker's test): such phases may overlap.
 *
 * A FIFO mark is asynchronous: the boundary falls when memgate reads it,
 * tens of microseconds later on an idle machine, more on a loaded one. A
 * program that needs the boundary exactly where it marks sends the same
 * line as one datagram to the unix socket MEMGATE_MARK_SYNC and waits for
 * memgate's answer ("ok\n", sent once the boundary is done): the Python
 * helper, the pytest plugin and `memgate mark` do.
 *
 * At every boundary memgate reads the peak of the phase that ended and
 * resets the counters, so each phase gets its own exact figures:
 *   - cgroup v1: memory.max_usage_in_bytes, reset by writing 0;
 *   - cgroup v2 >= 6.12: memory.peak kept open, reset by a write to that
 *     descriptor (fd-local: other readers see the whole run's peak);
 *   - every process: VmHWM, reset by writing 5 to /proc/PID/clear_refs.
 * Where a reset does not work (v2 before 6.12) a phase's cgroup figure is
 * the kernel's only when the phase set a new record for the run, else the
 * sampled maximum, and the phase says "exact": false; overlapping (scoped)
 * phases' cgroup figures are never exact. Without a cgroup a phase is exact
 * when every process's VmHWM was reset at its start and read at its end
 * (or reported by wait4 to memgate): a process that exited unread makes it
 * inexact. */
#ifndef MG_PHASES_H
#define MG_PHASES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct run;

/* Before the main process starts: the FIFO, the sync socket and their
 * variables (run->mark_env, for the fixture's environment). 0, or -1
 * (run's error set). */
int mg_phases_prepare(struct run *run);
/* Start the first phase (at exec): "startup" in service mode, else "run". */
void mg_phases_begin(struct run *run);
/* End the running whole-tree phase and start name (NULL: none). */
void mg_phase_switch(struct run *run, const char *name);
/* Read the marks the program wrote (the FIFO is in the loop's poll set). */
void mg_phases_drain(struct run *run);
/* For poll: the FIFO (which 0) or the sync socket (1), or -1. */
int mg_phases_fd(const struct run *run, int which);
/* Each tick: the running phases' sampled maxima. */
void mg_phases_tick(struct run *run, int64_t tree_rss, int64_t usage, int64_t anon);
/* The sampler read a process's VmHWM (its parent: ppid). */
void mg_phases_hwm(struct run *run, pid_t pid, pid_t ppid, int64_t hwm);
/* A process left the tree before its last VmHWM could be read (ppid: its
 * parent as last read, 0 if never). */
void mg_phases_left(struct run *run, pid_t pid, pid_t ppid);
/* memgate reaped a process of the tree with this ru_maxrss; own: it never
 * had children (else the figure may hold theirs, from any phase). */
void mg_phases_reaped(struct run *run, pid_t pid, int64_t maxrss, bool own);
/* At the end: close what is open, fold the phases into the whole run's
 * figures, remove the FIFO. */
void mg_phases_finish(struct run *run);

#endif
