/* env: where to post and with what, from the command line's flags and the
 * CI's environment (command-line flags win over the environment):
 *
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
 *   PR       for --comment: --pr N, else on GitHub pull_request.number from
 *            $GITHUB_EVENT_PATH on pull_request / pull_request_target events,
 *            else N from GITHUB_REF=refs/pull/N/merge (or /head); on GitLab
 *            CI_MERGE_REQUEST_IID (merge request pipelines). None: no comment.
 *            A command that posts no status (run --comment alone) needs no commit.
 *   --token-file FILE (first line, trimmed) replaces GITHUB_TOKEN / GITLAB_TOKEN
 *            and is sent as Authorization: Bearer / PRIVATE-TOKEN.
 *   HTTP     MEMGATE_HTTP_TIMEOUT_MS (total per request, 30000),
 *            MEMGATE_HTTP_CONNECT_TIMEOUT_MS (10000), MEMGATE_HTTP_RETRIES (3),
 *            MEMGATE_HTTP_BACKOFF_MS (1000, doubled per retry: 1 s, 2 s, 4 s),
 *            MEMGATE_HTTP_RETRY_AFTER_CAP_MS (60000: longest Retry-After obeyed),
 *            MEMGATE_HTTP_TRACE=1 (libcurl trace on stderr, token headers redacted)
 *
 * The token is never printed: errors are scrubbed of it (ci/secret.h) and
 * mg_post_opts_free wipes it. */
#ifndef MG_ENV_H
#define MG_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "ci/http.h"

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
	bool comment;                /* --comment: the pull-request comment too */
	const char *pr;              /* --pr N: the pull (merge) request to comment on */
	bool no_statuses;            /* no statuses are posted (run --comment alone):
				      * no commit is needed */
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
	bool comment;            /* post the pull-request comment (ci/comment.h) */
	long long pr;            /* its pull (merge) request number; 0: not one */
	char *no_pr;             /* when pr is 0: why ("GITHUB_EVENT_NAME=push is not a pull request event") */
	struct mg_http_opts http;
};

/* Fill o from flags and the environment envp (NULL-terminated "NAME=value",
 * usually `environ`). 0, or -1 with err naming what is missing or wrong
 * (never the token). o must be freed either way. */
int mg_post_opts_from_env(struct mg_post_opts *o, const struct mg_post_flags *flags,
			  char *const *envp, char *err, size_t errlen);
void mg_post_opts_free(struct mg_post_opts *o);

/* On pull_request / pull_request_target events, the head sha from the event
 * file: 1 and sha set; 0 for other events; -1 with err when the file is
 * unreadable or lacks pull_request.head.sha. */
int mg_post_event_sha(const char *event_name, const char *event_path, char *sha, size_t shalen,
		      char *err, size_t errlen);

/* On pull_request / pull_request_target events, the pull request's number
 * from the event file: 1 and *pr set; 0 for other events; -1 with err when
 * the file is unreadable or lacks pull_request.number. */
int mg_post_event_pr(const char *event_name, const char *event_path, long long *pr, char *err, size_t errlen);

/* A pull request number: 1 to 2^53 in decimal digits only. 0, or -1. */
int mg_post_parse_pr(const char *s, long long *pr);

#endif
