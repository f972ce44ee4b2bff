/* publish: posting a report from a command: the flags `memgate post` and
 * `memgate run --post-status` share, and the one call that posts. */
#ifndef MG_PUBLISH_H
#define MG_PUBLISH_H

#include <getopt.h>

#include "ci/post.h"

/* Post report (options from flags and environ): the statuses (unless
 * flags->no_statuses) and, with --comment, the pull-request comment
 * (ci/comment.h), each tried even when the other failed; "posted ..." and
 * "commented on ..." lines to out. On failure a warning (an error with
 * --require-post) on stderr, one per thing not posted; no pull request to
 * comment on is a note (an error with --require-post). Returns the exit
 * status: status, or 3 when posting failed under --require-post and status
 * was 0. The caller owns curl_global_init/cleanup. */
int mg_post_publish(json_t *report, const struct mg_post_flags *flags, const char *summary_markdown,
		    FILE *out, int status);

/* Before a run: can flags and environ post at all (a token, the repository,
 * the commit)? Said now, not after a long run: with --require-post an error
 * (returns -1), else a warning and the run goes on (returns 0). */
int mg_post_check_early(const struct mg_post_flags *flags);

/* The check run's summary: the report as markdown within GitHub's 65535
 * limit. malloc'd; NULL when it cannot be rendered (a plain list is posted). */
char *mg_post_summary_markdown(json_t *report);

/* The options text of `post`, for --help (mg_usage_text). */
extern const char mg_post_usage_text[];

/* getopt_long codes of the shared flags; far above any option letter. */
enum {
	MG_POST_OPT_FORGE = 0x1000,
	MG_POST_OPT_CHECKS,
	MG_POST_OPT_PREFIX,
	MG_POST_OPT_TOKEN_FILE,
	MG_POST_OPT_TARGET_URL,
	MG_POST_OPT_REQUIRE,
	MG_POST_OPT_SHA,
	MG_POST_OPT_COMMENT,
	MG_POST_OPT_PR,
};

/* Entries of a struct option table: put them in any command's table. */
#define MG_POST_LONG_OPTIONS                                                  \
	{"forge", required_argument, NULL, MG_POST_OPT_FORGE},                \
	{"checks", no_argument, NULL, MG_POST_OPT_CHECKS},                    \
	{"context-prefix", required_argument, NULL, MG_POST_OPT_PREFIX},      \
	{"token-file", required_argument, NULL, MG_POST_OPT_TOKEN_FILE},      \
	{"target-url", required_argument, NULL, MG_POST_OPT_TARGET_URL},      \
	{"require-post", no_argument, NULL, MG_POST_OPT_REQUIRE},             \
	{"sha", required_argument, NULL, MG_POST_OPT_SHA},                    \
	{"comment", no_argument, NULL, MG_POST_OPT_COMMENT},                  \
	{"pr", required_argument, NULL, MG_POST_OPT_PR}

/* Store one of the shared flags (code from getopt_long, arg its optarg).
 * Returns 1 when code was one of them, 0 when not, or -1 with err when its
 * argument is wrong (a usage error for the caller to print). */
int mg_post_flag(struct mg_post_flags *f, int code, const char *arg, char *err, size_t len);

#endif
