/* memgate: the command line's entry point: help, version, and dispatch to
 * one cmd_*.c per command. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

const char mg_usage_text[] =
	"usage: memgate measure [options] -- CMD [ARG...]\n"
	"       memgate run [-c FILE] [--only NAME]... [--json FILE] [--cgroup-root DIR]\n"
	"       memgate validate [-c FILE]\n"
	"       memgate --help | --version\n"
	"\n"
	"Gate CI on the peak memory of a process tree. Each command runs inside a\n"
	"fresh cgroup (v2, else v1, else /proc sampling only) and is judged against\n"
	"its limits.\n"
	"\n"
	"measure options:\n"
	"  --json FILE            write the JSON report to FILE\n"
	"  --limit METRIC=SIZE    fail above SIZE; METRIC is tree_rss, cgroup,\n"
	"                         max_process_hwm or pss (repeatable)\n"
	"  --timeout DUR          kill the tree after DUR (default 10min)\n"
	"  --interval DUR         /proc sampling interval (default 10ms)\n"
	"  --measurement M        auto, cgroup-v2, cgroup-v1 or proc (default auto)\n"
	"  --kill-above SIZE      hard cap: the kernel OOM-kills the tree above SIZE\n"
	"  --pss                  also sum PSS from smaps_rollup (shared pages counted once)\n"
	"  --name NAME            fixture name in the report (default: the command's name)\n"
	"  --cgroup-root DIR      create the cgroup under DIR (default: memgate's own)\n"
	"\n"
	"run options:\n"
	"  -c, --config FILE      config file (default memgate.json)\n"
	"  --only NAME            run only this fixture (repeatable)\n"
	"  --json FILE            write the JSON report to FILE\n"
	"  --cgroup-root DIR      as above; overrides the config's cgroup_root\n"
	"\n"
	"Sizes: B, kB, MB, GB (10^3), KiB, MiB, GiB (2^10). Durations: ms, s, min, h.\n"
	"\n"
	"Exit status:\n"
	"  0  every fixture measured and within its limits\n"
	"  1  a fixture failed (limit exceeded, non-zero exit, signal, timeout, OOM kill)\n"
	"  2  usage or config error\n"
	"  3  could not measure (error verdict)\n"
	"  130/143  interrupted by SIGINT/SIGTERM (the tree is killed, the report written)\n";

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
	return mg_usage_error("unknown command \"%s\" (measure, run, validate)", cmd);
}
