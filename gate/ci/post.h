/* post: publish a report's verdicts as commit statuses (GitHub or GitLab)
 * and, on GitHub, optionally as one check run.
 *
 * One status per fixture: context "<prefix><fixture>" (prefix "memgate/"),
 * state from the verdict, a description of at most 140 characters (cut on a
 * UTF-8 boundary, never mid-character), target_url the CI run's page.
 *
 *   verdict  GitHub status  GitLab status  check run conclusion
 *   pass     success        success        success
 *   fail     failure        failed         failure
 *   error    error          failed         failure  (memgate never passes what it
 *                                                    did not measure; "neutral" would
 *                                                    satisfy a required check)
 *
 * Where the options come from (command-line flags win over the environment):
 *   forge    --forge github|gitlab, else GITHUB_ACTIONS=true, else GITLAB_CI=true
 *   GitHub   GITHUB_API_URL (default https://api.github.com), GITHUB_REPOSITORY,
 *            GITHUB_SHA, or pull_request.head.sha from $GITHUB_EVENT_PATH when
 *            GITHUB_EVENT_NAME is pull_request or pull_request_target (GITHUB_SHA
 *            is then a merge commit nobody looks at); token GITHUB_TOKEN, sent as
 *            "Authorization: Bearer"; target_url
 *            $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID
 *   GitLab   CI_API_V4_URL, CI_PROJECT_ID, CI_COMMIT_SHA; token GITLAB_TOKEN sent
 *            as "PRIVATE-TOKEN" (a personal/project access token with api scope),
 *            else CI_JOB_TOKEN sent as "JOB-TOKEN" (only where the instance lets a
 *            job token create statuses); target_url CI_JOB_URL, else CI_PIPELINE_URL
 *   --token-file FILE (first line, trimmed) replaces GITHUB_TOKEN / GITLAB_TOKEN
 *            and is sent as Authorization: Bearer / PRIVATE-TOKEN.
 *   HTTP     MEMGATE_HTTP_TIMEOUT_MS (total per request, 30000),
 *            MEMGATE_HTTP_CONNECT_TIMEOUT_MS (10000), MEMGATE_HTTP_RETRIES (3),
 *            MEMGATE_HTTP_BACKOFF_MS (1000, doubled per retry: 1 s, 2 s, 4 s),
 *            MEMGATE_HTTP_RETRY_AFTER_CAP_MS (60000: longest Retry-After obeyed),
 *            MEMGATE_HTTP_TRACE=1 (libcurl trace on stderr, token headers redacted)
 *
 * The token is never printed: error texts are scrubbed of it, traces redact
 * the headers carrying it, and mg_post_opts_free wipes it. */
#ifndef MG_POST_H
#define MG_POST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ci/http.h"
#include "verdict.h"

#define MG_POST_DESCRIPTION_MAX 140   /* characters (code points), GitHub's limit */
#define MG_POST_SUMMARY_MAX 65535     /* check run output.summary; we count bytes */
#define MG_POST_ANNOTATIONS_MAX 50    /* per check-run request */

enum mg_forge { MG_FORGE_NONE, MG_FORGE_GITHUB, MG_FORGE_GITLAB };
enum mg_token_kind { MG_TOKEN_BEARER, MG_TOKEN_PRIVATE, MG_TOKEN_JOB };

/* What the command line said; NULL / false = not given. */
struct mg_post_flags {
	const char *forge;           /* "github" or "gitlab" */
	const char *token_file;
	const char *context_prefix;
	const char *target_url;
	const char *sha;
	const char *config_path;     /* where check-run annotations point; default memgate.json */
	bool checks;
	bool require_post;
};

struct mg_post_opts {
	enum mg_forge forge;
	char *api_url;           /* no trailing slash */
	char *repo;              /* GitHub "owner/name", or GitLab project id or path */
	char *sha;
	char *token;             /* secret */
	enum mg_token_kind token_kind;
	char *context_prefix;    /* "memgate/" */
	char *target_url;        /* NULL: none */
	char *config_path;       /* annotations' path */
	bool checks;             /* also one check run (GitHub only) */
	bool require_post;
	struct mg_http_opts http;
};

/* Fill o from flags and the environment envp (NULL-terminated "NAME=value",
 * usually `environ`). 0, or -1 with err naming what is missing or wrong
 * (never the token). o must be freed either way. */
int mg_post_opts_from_env(struct mg_post_opts *o, const struct mg_post_flags *flags,
			  char *const *envp, char *err, size_t errlen);
void mg_post_opts_free(struct mg_post_opts *o);

/* Post one status per fixture of report (validated first with
 * mg_report_validate, report_load.h) and, with o->checks, one check run
 * whose output.summary is summary_markdown (NULL: a plain list of verdicts).
 * Writes "posted memgate/api: failure (tree_rss 312.4 MiB > limit 200.0 MiB)"
 * per status to out (may be NULL). Stops at the first failure: 0 when
 * everything was posted, else -1 with err. */
int mg_post_report(json_t *report, const struct mg_post_opts *o, const char *summary_markdown,
		   FILE *out, char *err, size_t errlen);

/* The exit status after posting: status itself, unless posting failed and
 * require_post was given; then EXIT_ERROR (3) when status was 0. */
int mg_post_exit_status(int status, bool posted, bool require_post);

/* ---- the parts, exposed for tests ---------------------------------------- */

/* Copy at most max_chars UTF-8 characters of s into a new string; when s is
 * longer, the last of them is "…". Never splits a character. NULL on OOM. */
char *mg_post_cut_chars(const char *s, size_t max_chars);
/* Same, by bytes (at most max_bytes, NUL excluded), ending with note when cut. */
char *mg_post_cut_bytes(const char *s, size_t max_bytes, const char *note);

/* The description of one fixture of a report, already cut to 140 characters. */
char *mg_post_description(json_t *fixture);

/* On pull_request / pull_request_target events, the head sha from the event
 * file: 1 and sha set; 0 for other events; -1 with err when the file is
 * unreadable or lacks pull_request.head.sha. */
int mg_post_event_sha(const char *event_name, const char *event_path, char *sha, size_t shalen,
		      char *err, size_t errlen);

const char *mg_post_state(enum mg_forge forge, enum mg_verdict v);

/* URL of the status endpoint for o's forge; NULL on OOM. */
char *mg_post_status_url(const struct mg_post_opts *o);

/* Post one status as given: description is sent as it is (the caller cuts
 * it), state is sent verbatim. 0, or -1 with err quoting the API. */
int mg_post_status(const struct mg_post_opts *o, const char *context, const char *state,
		   const char *description, char *err, size_t errlen);

/* One check run with annotations (an array, sent 50 per request: the rest go
 * in PATCH requests). Returns the check run id, or -1 with err. */
long long mg_post_check_run(const struct mg_post_opts *o, const char *conclusion,
			    const char *title, const char *summary, json_t *annotations,
			    char *err, size_t errlen);

/* "422 Unprocessable Entity: Validation Failed: description is too long ..."
 * from a status and the API's JSON body (GitHub message/errors[].message,
 * GitLab message/error); the text never holds token (may be NULL). */
void mg_post_api_error(long status, const char *body, const char *token, char *err, size_t errlen);

#endif
