/* forge: the REST client of GitHub's and GitLab's APIs. One JSON request
 * with the token in its header (retries and the URL policy are ci/http.h's),
 * the API's error text, and the commit status POST:
 *   GitHub  POST {api}/repos/{owner/name}/statuses/{sha}
 *   GitLab  POST {api}/projects/{id or %-encoded path}/statuses/{sha}
 * Every error text is scrubbed of the token. */
#ifndef MG_FORGE_H
#define MG_FORGE_H

#include <jansson.h>
#include <stddef.h>

#include "ci/env.h"

/* {api}/repos/{owner/name} (GitHub) or {api}/projects/{%-encoded id or
 * path} (GitLab): where o's project's endpoints are. NULL on OOM. */
char *mg_forge_project_url(const struct mg_post_opts *o);

/* URL of the status endpoint for o's forge; NULL on OOM. */
char *mg_post_status_url(const struct mg_post_opts *o);

/* Post one status as given: description is sent as it is (the caller cuts
 * it), state is sent verbatim. 0, or -1 with err quoting the API. */
int mg_post_status(const struct mg_post_opts *o, const char *context, const char *state,
		   const char *description, char *err, size_t errlen);

/* Send body (a JSON object) with method to url, with o's token, headers and
 * HTTP options. On a 2xx, 0 and *reply (may be NULL) gets the parsed
 * response (NULL when it is empty or not JSON); else -1 with err: the API's
 * error text and the number of attempts, or why no answer came. */
int mg_post_send_json(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		      json_t **reply, char *err, size_t errlen);

/* The same request for a caller that must tell answers apart: body may be
 * NULL (a GET, sent without one); the answer is kept up to max_body bytes
 * (0: o's cap), and a 2xx answer over it is an error ("200 OK, but the
 * answer is over N bytes: not read"); *status (may be NULL) gets the final
 * HTTP status, 0 when none came. */
int mg_forge_request(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		     size_t max_body, long *status, json_t **reply, char *err, size_t errlen);

/* "422 Unprocessable Entity: Validation Failed: description is too long ..."
 * from a status and the API's JSON body (GitHub message/errors[].message,
 * GitLab message/error); the text never holds token (may be NULL). */
void mg_post_api_error(long status, const char *body, const char *token, char *err, size_t errlen);

#endif
