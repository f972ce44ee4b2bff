/* comment: the pull-request comment. One per pull (merge) request and
 * config, written on the first run and edited in place on every later
 * push, so the thread keeps one memgate comment with the latest figures:
 *
 *   GitHub  GET   {api}/repos/{owner/name}/issues/{pr}/comments?per_page=100&page=N
 *           PATCH {api}/repos/{owner/name}/issues/comments/{id}     when found
 *           POST  {api}/repos/{owner/name}/issues/{pr}/comments     when not
 *   GitLab  GET   {api}/projects/{id}/merge_requests/{iid}/notes?sort=asc&order_by=created_at&per_page=100&page=N
 *           PUT   {api}/projects/{id}/merge_requests/{iid}/notes/{id}
 *           POST  {api}/projects/{id}/merge_requests/{iid}/notes
 *
 * memgate's comment is the first whose body begins with the marker line
 * `<!-- memgate:comment config=CONFIG -->` (an HTML comment: it does not
 * show). A comment that only quotes or mentions the marker further down is
 * never edited, nor is any comment without it. Pages are read until a
 * short one, at most MG_COMMENT_MAX_PAGES.
 *
 * The body is the marker, the report's comment table
 * (mg_render_markdown_comment: this layer formats no figure) within the
 * forge's limit, and the commit it is for. Where to post, the token and the
 * HTTP policy are ci/env.h's; every error is scrubbed of the token. */
#ifndef MG_COMMENT_H
#define MG_COMMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ci/env.h"

#define MG_COMMENT_MAX_GITHUB 65536    /* GitHub: characters; we count bytes, never more */
#define MG_COMMENT_MAX_GITLAB 1000000  /* GitLab: a note's body */
#define MG_COMMENT_PER_PAGE 100
#define MG_COMMENT_MAX_PAGES 30        /* 3000 comments */
#define MG_COMMENT_PAGE_BYTES ((size_t)64 << 20) /* one page of answers, at most */

/* "<!-- memgate:comment config=memgate.json -->" for config (NULL:
 * memgate.json; a leading "./" dropped). Bytes outside [A-Za-z0-9._/~+=:@,-]
 * are written %XX, so the marker is one line and "-->" cannot end it early.
 * NULL on OOM. */
char *mg_comment_marker(const char *config);

/* Is body memgate's comment with this marker: does its first line hold the
 * marker alone (trailing spaces and a CR allowed)? */
bool mg_comment_is_ours(const char *body, const char *marker);

/* The body for o's forge: the marker line, the comment table within the
 * forge's limit, "<sub>memgate VERSION, commit abc1234</sub>" when the
 * commit is known. At most max bytes (0: the forge's limit). NULL with err
 * (an invalid report, OOM). */
char *mg_comment_body(json_t *report, const struct mg_post_opts *o, size_t max, char *err, size_t errlen);

/* Post or update the comment on o->pr. 0 when posted ("commented on pull
 * request #7: updated comment 1234" to out, which may be NULL); 1 when o->pr
 * is 0 (nothing sent: o->no_pr says why); -1 with err: one line naming the
 * request, the API's status and answer, and what to fix ("GET
 * /repos/o/r/issues/7/comments?per_page=100&page=1: 403 Forbidden: Resource
 * not accessible by integration (1 attempt); the token needs ..."). */
int mg_post_comment(json_t *report, const struct mg_post_opts *o, FILE *out, char *err, size_t errlen);

/* What to fix for a status of o's forge, or "" (the hint of errors). */
const char *mg_comment_hint(enum mg_forge forge, long status);

#endif
