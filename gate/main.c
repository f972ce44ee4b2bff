/* memgate: the command line's entry point: help, version, and dispatch to
 * one cmd_*.c per command. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cmd_post.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return mg_usage_error("%s", "no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(mg_usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("memgate %s\n", MG_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "measure"))
		return mg_cmd_measure(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return mg_cmd_run(argc - 1, argv + 1, false);
	if (!strcmp(cmd, "validate"))
		return mg_cmd_run(argc - 1, argv + 1, true);
	if (!strcmp(cmd, "report"))
		return mg_cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "post"))
		return mg_cmd_post(argc - 1, argv + 1);
	if (!strcmp(cmd, "tune"))
		return mg_cmd_tune(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return mg_cmd_merge(argc - 1, argv + 1);
	if (!strcmp(cmd, "hook"))
		return mg_cmd_hook(argc - 1, argv + 1);
	return mg_usage_error("unknown command \"%s\" (measure, run, validate, report, post, tune, merge, hook)", cmd);
}
