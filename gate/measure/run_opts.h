/* run_opts: how one supervised run differs from a fixture's measured run
 * (mg_supervise_with, supervise.h). Types only. */
#ifndef MG_RUN_OPTS_H
#define MG_RUN_OPTS_H

struct mg_tmpdir;

/* How a second, attribution run (measure.c) differs from the measured one. */
struct mg_supervise_opts {
	/* command mode: the command's stdout and stderr into this new file
	 * (the program's output was shown by the measured run; a profiler's
	 * own messages are read from here). Service mode captures them anyway. */
	const char *output_path;
	/* service mode: the stop signal goes to the main process's children
	 * whose environment holds this variable, never to the main process:
	 * heaptrack's script runs the program as its child and loses its data
	 * when it is signalled itself (mg_signal_children_with_env, kill.h). */
	const char *stop_child_env;
	/* the pass's scratch directory (the tool's capture): the run's
	 * watchdog removes it too should memgate be killed meanwhile */
	const struct mg_tmpdir *scratch;
};

#endif
