/* usage: the text of --help, shared by every command. */
#include <stdarg.h>
#include <stdio.h>

#include "cmd/cmd.h"

const char mg_usage_text[] =
	"usage: memgate measure [options] -- CMD [ARG...]\n"
	"       memgate run [-c FILE] [--only NAME]... [--json FILE] [--cgroup-root DIR]\n"
	"                   [--shard K/N] [--baseline BASE.json]\n"
	"       memgate validate [-c FILE]\n"
	"       memgate report [-f text|markdown|junit|svg|json|github] REPORT.json [-o FILE]\n"
	"       memgate post [options] REPORT.json\n"
	"       memgate tune [-c FILE] [--runs N] [--headroom PCT] [--only NAME]... [--write] [--json FILE]\n"
	"       memgate merge [-o FILE] REPORT.json...\n"
	"       memgate hook install [-c FILE] [--force] | memgate hook uninstall\n"
	"       memgate --help | --version\n"
	"\n"
	"Gate CI on the peak memory of a process tree. Each command runs inside a\n"
	"fresh cgroup (v2, else v1, else /proc sampling only) and is judged against\n"
	"its limits.\n"
	"\n"
	"measure options:\n"
	"  --json FILE            write the JSON report to FILE\n"
	"  --limit METRIC=SIZE    fail above SIZE; METRIC is tree_rss, cgroup,\n"
	"                         max_process_hwm, pss or cgroup_anon (repeatable)\n"
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
	"  --junit FILE, --markdown FILE, --svg FILE\n"
	"                         also write those renderings of the report\n"
	"  --post-status          post one commit status per fixture (see post options)\n"
	"  --shard K/N            run only shard K of N (1-based; stable hashing of fixture names)\n"
	"  --baseline FILE        fail a metric that grew over FILE's value by more than both 10%\n"
	"                         and 4MiB (or the config's \"regression\" max_increase/min_increase)\n"
	"\n"
	"tune options:\n"
	"  --runs N               runs per fixture (default 5)\n"
	"  --headroom PCT         limit = max x (1 + PCT), default 10%, rounded up to 2 significant figures\n"
	"  --write                put the proposals into the config (diff printed, atomic write)\n"
	"\n"
	"merge options:\n"
	"  -o, --output FILE      write the merged report to FILE (default stdout)\n"
	"\n"
	"report options:\n"
	"  -f, --format F         text (default), markdown, junit, svg, json, github\n"
	"  -o, --output FILE      write FILE atomically instead of stdout\n"
	"\n"
	"post options (memgate post [options] REPORT.json; also for run --post-status):\n"
	"  --forge github|gitlab  where to post (default: from GITHUB_ACTIONS / GITLAB_CI)\n"
	"  --checks               also post one GitHub check run with the markdown summary\n"
	"  --context-prefix TEXT  status name is TEXT<fixture> (default memgate/)\n"
	"  --token-file FILE      token on FILE's first line (default GITHUB_TOKEN,\n"
	"                         GITLAB_TOKEN, else CI_JOB_TOKEN)\n"
	"  --target-url URL       link of each status (default: the CI run's page)\n"
	"  --sha SHA              commit to post on (default: the CI's, or the PR's head)\n"
	"  --require-post         exit 3 when posting fails (default: warn only)\n"
	"Under GitHub Actions (GITHUB_ACTIONS=true) run also writes the job summary,\n"
	"the step outputs (verdict, report, peak_<fixture>) and ::error annotations.\n"
	"\n"
	"hook: a git pre-push hook that runs `memgate run -c FILE` and blocks a failing push\n"
	"\n"
	"Sizes: B, kB, MB, GB (10^3), KiB, MiB, GiB (2^10). Durations: ms, s, min, h.\n"
	"\n"
	"Exit status:\n"
	"  0  every fixture measured and within its limits\n"
	"  1  a fixture failed (limit exceeded, non-zero exit, signal, timeout, OOM kill)\n"
	"  2  usage or config error\n"
	"  3  could not measure (error verdict)\n"
	"  130/143/129/131  interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT (128 + the signal);\n"
	"                   the tree is killed, the report written\n";

int mg_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "memgate: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see memgate --help)\n");
	va_end(ap);
	return EXIT_USAGE;
}
