/* post: publish a report's verdicts as commit statuses (GitHub or GitLab):
 * one per fixture (what it says: ci/status.h; how it is sent: ci/forge.h),
 * then, on GitHub and with --checks, one check run (ci/checks.h). Where to
 * post and with which token: ci/env.h. */
#ifndef MG_POST_H
#define MG_POST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ci/env.h"

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

#endif
