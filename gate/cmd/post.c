/* post: `memgate post REPORT.json`: the command line; the publishing is
 * ci/publish.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "ci/http.h"
#include "ci/publish.h"

#include "report/render.h"
#include "report/report_load.h"

/* Parse argv into flags and the report path. 0, -1 for --help, or EXIT_USAGE. */
static int parse(int argc, char **argv, struct mg_post_flags *f, const char **report)
{
	static const struct option opts[] = {
		MG_POST_LONG_OPTIONS,
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	mg_getopt_reset();
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		char why[256];
		int rc = mg_post_flag(f, c, optarg, why, sizeof why);
		if (rc == 1)
			continue;
		if (rc < 0)
			return mg_usage_error("%s", why);
		if (c == 'c')
			f->config_path = optarg;
		else if (c == 'h')
			return -1;
		else
			return mg_usage_error("%s", "post: bad option");
	}
	if (optind != argc - 1)
		return mg_usage_error("%s", optind >= argc ? "post: no report given (memgate post [options] REPORT.json)"
							   : "post: expected one REPORT.json");
	*report = argv[optind];
	return 0;
}

/* The report, or NULL after printing why (exit 2): the loader every
 * command that reads a report shares. */
static json_t *load_report(const char *path)
{
	char err[1024];
	json_t *doc = mg_report_load(path, err, sizeof err);
	if (!doc)
		fprintf(stderr, "memgate: %s\n", err);
	return doc;
}

int mg_cmd_post(int argc, char **argv)
{
	struct mg_post_flags flags = {0};
	const char *path = NULL;
	int rc = parse(argc, argv, &flags, &path);
	if (rc == -1) {
		fputs(mg_post_usage_text, stdout);
		return 0;
	}
	if (rc != 0)
		return rc;
	json_t *report = load_report(path);
	if (!report)
		return EXIT_USAGE;
	/* the check run's output.summary: the job summary's markdown, cut to fit */
	char *summary_markdown = flags.checks ? mg_post_summary_markdown(report) : NULL;
	/* libcurl's global state: once for this process (single-threaded here) */
	char why[512];
	if (mg_http_global_init(why, sizeof why) == 0) {
		rc = mg_post_publish(report, &flags, summary_markdown, stdout, 0);
		mg_http_global_cleanup();
	} else {
		fprintf(stderr, "memgate: %s: not posted: cannot initialise libcurl: %s\n",
			flags.require_post ? "error" : "warning", why);
		rc = mg_post_exit_status(0, false, flags.require_post);
	}
	free(summary_markdown);
	json_decref(report);
	return rc;
}
