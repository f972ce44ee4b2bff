/* post: publish a JSON report's verdicts as commit statuses (see post.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_post.h"

#include "render.h"
#include "report_load.h"

const char mg_post_usage_text[] =
	"post options (memgate post [options] REPORT.json; also for run --post-status):\n"
	"  --forge github|gitlab  where to post (default: GITHUB_ACTIONS / GITLAB_CI)\n"
	"  --checks               also post one GitHub check run with a summary\n"
	"  -c, --config FILE      config the report came from, for check-run\n"
	"                         annotations (default memgate.json)\n"
	"  --context-prefix TEXT  status name is TEXT<fixture> (default memgate/)\n"
	"  --token-file FILE      token on FILE's first line (default GITHUB_TOKEN,\n"
	"                         GITLAB_TOKEN, else CI_JOB_TOKEN)\n"
	"  --target-url URL       link of each status (default: the CI run's page)\n"
	"  --sha SHA              commit to post on (default: the CI's, or the pull\n"
	"                         request's head)\n"
	"  --require-post         exit 3 when posting fails (default: warn only)\n";

char *mg_post_summary_markdown(json_t *report)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int rc = mg_render_markdown_budget(report, f, MG_POST_SUMMARY_MAX, err, sizeof err);
	if (fclose(f) != 0 || rc < 0) {
		if (rc < 0)
			fprintf(stderr, "memgate: warning: check-run summary: %s\n", err);
		free(buf);
		return NULL; /* the poster falls back to a plain list */
	}
	return buf;
}

int mg_post_flag(struct mg_post_flags *f, int code, const char *arg)
{
	switch (code) {
	case MG_POST_OPT_FORGE:
		if (strcmp(arg, "github") && strcmp(arg, "gitlab"))
			return mg_usage_error("--forge %s: expected github or gitlab", arg);
		f->forge = arg;
		return 1;
	case MG_POST_OPT_CHECKS:
		f->checks = true;
		return 1;
	case MG_POST_OPT_PREFIX:
		f->context_prefix = arg;
		return 1;
	case MG_POST_OPT_TOKEN_FILE:
		f->token_file = arg;
		return 1;
	case MG_POST_OPT_TARGET_URL:
		f->target_url = arg;
		return 1;
	case MG_POST_OPT_REQUIRE:
		f->require_post = true;
		return 1;
	case MG_POST_OPT_SHA:
		f->sha = arg;
		return 1;
	default:
		return 0;
	}
}

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
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		int rc = mg_post_flag(f, c, optarg);
		if (rc == 1)
			continue;
		if (rc != 0)
			return rc;
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

int mg_post_publish(json_t *report, const struct mg_post_flags *flags, const char *summary_markdown,
		    FILE *out, int status)
{
	char err[1024];
	struct mg_post_opts o;
	bool ok = mg_post_opts_from_env(&o, flags, environ, err, sizeof err) == 0 &&
		  mg_post_report(report, &o, summary_markdown, out, err, sizeof err) == 0;
	if (!ok)
		fprintf(stderr, "memgate: %s: not posted: %s\n", flags->require_post ? "error" : "warning", err);
	mg_post_opts_free(&o);
	return mg_post_exit_status(status, ok, flags->require_post);
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
	CURLcode cg = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cg == CURLE_OK) {
		rc = mg_post_publish(report, &flags, summary_markdown, stdout, 0);
		curl_global_cleanup();
	} else {
		fprintf(stderr, "memgate: %s: not posted: cannot initialise libcurl: %s\n",
			flags.require_post ? "error" : "warning", curl_easy_strerror(cg));
		rc = mg_post_exit_status(0, false, flags.require_post);
	}
	free(summary_markdown);
	json_decref(report);
	return rc;
}
