/* status: what one commit status says about one fixture of a report: its
 * context "<prefix><fixture>" (prefix "memgate/"), its state from the
 * fixture's verdict, and its description of at most 140 characters (cut on
 * a UTF-8 boundary, never mid-character).
 *
 *   verdict  GitHub status  GitLab status
 *   pass     success        success
 *   fail     failure        failed
 *   error    error          failed */
#ifndef MG_STATUS_H
#define MG_STATUS_H

#include <jansson.h>

#include "ci/env.h"
#include "verdict.h"

#define MG_POST_DESCRIPTION_MAX 140   /* characters (code points), GitHub's limit */

/* The fixture's "verdict"; error when it is missing or unknown. */
enum mg_verdict mg_post_fixture_verdict(json_t *fixture);

const char *mg_post_state(enum mg_forge forge, enum mg_verdict v);

/* "<prefix><name>", the status's name; NULL on OOM. */
char *mg_post_context(const char *prefix, const char *name);

/* The fixture's reasons joined by sep; when it has none, "failed" or
 * "could not measure" by its verdict (or "" for a pass). NULL on OOM. */
char *mg_post_reasons(json_t *fixture, const char *sep);

/* The whole description: "peak 65.3 MiB, within limits" for a pass (or
 * "within limits" without a peak), else the reasons joined by "; ". */
char *mg_post_full_description(json_t *fixture);

/* The description of one fixture, already cut to 140 characters. */
char *mg_post_description(json_t *fixture);

#endif
