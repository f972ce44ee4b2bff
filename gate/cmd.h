/* cmd: one function per memgate command, each in its own cmd_*.c file.
 * Each returns the process exit status (see EXIT STATUS in mg_usage_text). */
#ifndef MG_CMD_H
#define MG_CMD_H

#include <stdbool.h>

#define EXIT_USAGE 2
#define EXIT_ERROR 3

extern const char mg_usage_text[];

/* "memgate: <fmt with arg>" and a pointer to --help on stderr; returns EXIT_USAGE */
int mg_usage_error(const char *fmt, const char *arg);

int mg_cmd_measure(int argc, char **argv);
/* run, or validate when validate_only */
int mg_cmd_run(int argc, char **argv, bool validate_only);
/* report [--format text|markdown|junit|svg|json|github] REPORT.json [-o FILE]
 * (cmd_report.c): 0, or 2 when the report does not load or cannot be written.
 * The report's own verdict does not change the status. */
int mg_cmd_report(int argc, char **argv);
/* tune -c FILE [--runs N] [--headroom PCT] [--only NAME]... [--write] (cmd_tune.c) */
int mg_cmd_tune(int argc, char **argv);
/* merge [-o FILE] REPORT.json... (cmd_merge.c) */
int mg_cmd_merge(int argc, char **argv);
/* hook install [-c FILE] [--force] | hook uninstall (argv[0] = "hook") */
int mg_cmd_hook(int argc, char **argv);

#endif
