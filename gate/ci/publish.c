/* publish: a report's verdicts as commit statuses (and a check run), from
 * a command's flags and the CI's environment (see publish.h). */
#include "ci/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci/checks.h"
#include "ci/comment.h"
#include "exit.h"
#include "report/render.h"

const char mg_post_usage_text[] =
	"post options (memgate post [options] REPORT.json; also for run --post-status\n"
	"and run --comment):\n"
	"  --forge github|gitlab  where to post (default: GITHUB_ACTIONS / GITLAB_CI)\n"
	"  --checks               also post one GitHub check run with a summary\n"
	"  -c, --config FILE      config the report came from, for check-run\n"
	"                         annotations and the comment's marker: one comment\n"
	"                         per config (default memgate.json)\n"
	"  --context-prefix TEXT  status name is TEXT<fixture> (default memgate/)\n"
	"  --token-file FILE      token on FILE's first line (default GITHUB_TOKEN,\n"
	"                         GITLAB_TOKEN, else CI_JOB_TOKEN)\n"
	"  --target-url URL       link of each status (default: the CI run's page)\n"
	"  --sha SHA              commit to post on (default: the CI's, or the pull\n"
	"                         request's head)\n"
	"  --comment              also post the report as one pull-request comment,\n"
	"                         edited in place on every later push (per config)\n"
	"  --pr N                 the pull (GitLab: merge) request to comment on\n"
	"                         (default: the CI's pull request event)\n"
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

int mg_post_flag(struct mg_post_flags *f, int code, const char *arg, char *err, size_t len)
{
	switch (code) {
	case MG_POST_OPT_FORGE:
		if (strcmp(arg, "github") && strcmp(arg, "gitlab")) {
			snprintf(err, len, "--forge %s: expected github or gitlab", arg);
			return -1;
		}
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
	case MG_POST_OPT_COMMENT:
		f->comment = true;
		return 1;
	case MG_POST_OPT_PR: {
		long long pr;
		if (mg_post_parse_pr(arg, &pr) < 0) {
			snprintf(err, len, "--pr %s: expected a pull request number", arg);
			return -1;
		}
		f->pr = arg;
		return 1;
	}
	default:
		return 0;
	}
}

/* The comment, as a part of publishing: false when it was due and failed. */
static bool publish_comment(json_t *report, const struct mg_post_opts *o, FILE *out)
{
	char err[1024];
	const char *level = o->require_post ? "error" : "warning";
	int rc = mg_post_comment(report, o, out, err, sizeof err);
	if (rc == 1)
		fprintf(stderr, "memgate: %s: no %s comment posted: %s (pass --pr N to comment on one)\n",
			o->require_post ? "error" : "note", o->forge == MG_FORGE_GITLAB ? "merge request" : "pull request",
			o->no_pr ? o->no_pr : "no pull request");
	else if (rc < 0)
		fprintf(stderr, "memgate: %s: comment not posted: %s\n", level, err);
	return rc == 0 || (rc == 1 && !o->require_post);
}

int mg_post_check_early(const struct mg_post_flags *flags)
{
	char err[1024];
	struct mg_post_opts o;
	int rc = mg_post_opts_from_env(&o, flags, environ, err, sizeof err);
	mg_post_opts_free(&o);
	if (rc == 0)
		return 0;
	fprintf(stderr, "memgate: %s: nothing will be posted: %s%s\n", flags->require_post ? "error" : "warning", err,
		flags->require_post ? "" : " (the run goes on)");
	return flags->require_post ? -1 : 0;
}

int mg_post_publish(json_t *report, const struct mg_post_flags *flags, const char *summary_markdown,
		    FILE *out, int status)
{
	char err[1024];
	struct mg_post_opts o;
	const char *level = flags->require_post ? "error" : "warning";
	bool ok = mg_post_opts_from_env(&o, flags, environ, err, sizeof err) == 0;
	if (!ok) {
		fprintf(stderr, "memgate: %s: not posted: %s\n", level, err);
	} else {
		if (!flags->no_statuses && mg_post_report(report, &o, summary_markdown, out, err, sizeof err) < 0) {
			fprintf(stderr, "memgate: %s: not posted: %s\n", level, err);
			ok = false;
		}
		/* a token may write comments and not statuses, or the reverse: try both */
		if (flags->comment && !publish_comment(report, &o, out))
			ok = false;
	}
	mg_post_opts_free(&o);
	return mg_post_exit_status(status, ok, flags->require_post);
}
