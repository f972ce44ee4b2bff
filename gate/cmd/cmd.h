/* cmd: one function per memgate command, each in its own cmd_*.c file.
 * Each returns the process exit status (see EXIT STATUS in mg_usage_text). */
#ifndef MG_CMD_H
#define MG_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "exit.h"

extern const char mg_usage_text[];

/* "memgate: <fmt with arg>" and a pointer to --help on stderr; returns EXIT_USAGE */
int mg_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one way a command starts parsing its options: glibc's full reset
 * (optind 0), so a command parses afresh even when called twice in one
 * process (the unit tests do). */
static inline void mg_getopt_reset(void)
{
	optind = 0;
}

int mg_cmd_measure(int argc, char **argv);

/* Shared by measure and run (cmd/run.c). */
struct mg_run_extras;
struct mg_fixture;
/* Measure, judge and report fixtures[0..n); x NULL for measure. artifacts:
 * --artifacts DIR (made when missing), or NULL. Returns the exit status. */
int mg_execute(struct mg_fixture *fixtures, size_t n, const char *cgroup_root, const char *artifacts,
	       const char *json_path, const struct mg_run_extras *x);
/* Check output paths (opt[i] names path[i] in messages; NULL paths are
 * skipped) before anything runs: 0, or EXIT_USAGE (printed). */
int mg_check_outputs(const char *const *opt, const char *const *path, size_t n);
/* None of the n outputs is in_path, a file read (what: "the config (-c)"),
 * which writing it would replace (mg_outfile_same): 0, or EXIT_USAGE
 * (printed). */
int mg_check_not_input(const char *const *opt, const char *const *path, size_t n, const char *what,
		       const char *in_path);
/* run, or validate when validate_only */
int mg_cmd_run(int argc, char **argv, bool validate_only);
/* report [--format text|markdown|junit|svg|json|github] REPORT.json [-o FILE]
 * (cmd_report.c): 0, or 2 when the report does not load or cannot be written.
 * The report's own verdict does not change the status. */
int mg_cmd_report(int argc, char **argv);
/* post [options] REPORT.json (cmd/post.c; publishing itself is ci/publish.c) */
int mg_cmd_post(int argc, char **argv);
/* tune -c FILE [--runs N] [--headroom PCT] [--only NAME]... [--write] (cmd_tune.c) */
int mg_cmd_tune(int argc, char **argv);
/* merge [-o FILE] REPORT.json... (cmd_merge.c) */
int mg_cmd_merge(int argc, char **argv);
/* hook install [-c FILE] [--force] | hook uninstall (argv[0] = "hook") */
int mg_cmd_hook(int argc, char **argv);
/* doctor [--json FILE]: 0 exact measurement available, 1 only /proc */
int mg_cmd_doctor(int argc, char **argv);
/* cmd/mark.c: a phase boundary from a shell script */
int mg_cmd_mark(int argc, char **argv);

#endif
