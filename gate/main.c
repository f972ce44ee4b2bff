/* memgate: the command line's entry point: help, version, and dispatch to
 * one cmd_*.c per command. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cmd.h"
#include "cmd_post.h"
#include "identity.h"

int main(int argc, char **argv)
{
	/* Whatever the binary is called: a later run tells a live memgate's
	 * cgroups from a dead one's by this name (cgroup.c, the sweep). */
	prctl(PR_SET_NAME, "memgate");
	/* Under sudo, every file memgate opens is opened as the invoking user
	 * from here on; root is kept only for cgroups and signals (identity.h). */
	struct mg_identity id;
	char err[512];
	if (mg_identity_from_env(&id, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_ERROR; /* cannot know whose rights to use: nothing is measured */
	}
	if (mg_fs_as_user(&id, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_ERROR;
	}
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
