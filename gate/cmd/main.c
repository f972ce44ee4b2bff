/* memgate: the command line's entry point: help, version, and the command
 * table; each command is cmd/NAME.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cmd/cmd.h"
#include "error.h"
#include "identity.h"

static int run(int argc, char **argv)
{
	return mg_cmd_run(argc, argv, false);
}

static int validate(int argc, char **argv)
{
	return mg_cmd_run(argc, argv, true);
}

/* Every command: name, the function in cmd/NAME.c, what it does. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"measure", mg_cmd_measure, "measure one command"},
	{"run", run, "run a config's fixtures and judge them"},
	{"validate", validate, "check a config, run nothing"},
	{"report", mg_cmd_report, "render a saved JSON report"},
	{"post", mg_cmd_post, "post a report as commit statuses"},
	{"tune", mg_cmd_tune, "propose limits from several runs"},
	{"merge", mg_cmd_merge, "join shard reports"},
	{"hook", mg_cmd_hook, "install or remove the pre-push hook"},
	{"doctor", mg_cmd_doctor, "what memgate will measure here, and how to get the exact peak"},
	{"mark", mg_cmd_mark, "start or end a phase, from a program memgate measures"},
};

int main(int argc, char **argv)
{
	/* Whatever the binary is called: a later run tells a live memgate's
	 * cgroups from a dead one's by this name (cgroup.c, the sweep). */
	prctl(PR_SET_NAME, "memgate");
	/* memgate's environment holds the CI tokens it posts with, and what it
	 * measures runs as the same user when memgate is not root: a fixture
	 * could read /proc/$PPID/environ (or the watchdog's, a fork) or ptrace
	 * memgate. Not dumpable, its /proc files are root's and it cannot be
	 * attached to; the fixture's exec makes the fixture dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		fprintf(stderr, "memgate: cannot make memgate's own memory private (prctl PR_SET_DUMPABLE): " MG_ERRNO_FMT "\n",
			MG_ERRNO(errno));
		return EXIT_ERROR;
	}
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
		return mg_usage_error("%s", "no command given (memgate --help lists them)");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(mg_usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("memgate %s\n", MG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "memgate: unknown command \"%s\"; the commands are:\n", cmd);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(stderr, "  %-9s %s\n", commands[i].name, commands[i].help);
	return mg_usage_error("%s", "unknown command");
}
