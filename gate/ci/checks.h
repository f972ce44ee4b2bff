/* checks: one GitHub check run for a report, with one annotation per
 * fixture at its `"name"` line in the config. Its conclusion is success
 * when every fixture passed, else failure: an error is a failure too
 * (memgate never passes what it did not measure; "neutral" would satisfy
 * a required check). */
#ifndef MG_CHECKS_H
#define MG_CHECKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "ci/env.h"

struct mg_name_ref; /* names.h */

#define MG_POST_SUMMARY_MAX 65535     /* check run output.summary; we count bytes */
#define MG_POST_ANNOTATIONS_MAX 50    /* per check-run request */

/* Post the check run of a report's fixtures (a JSON array, already
 * validated): title "N passed, N failed, N not measured", summary
 * summary_markdown (NULL: a plain list of verdicts), the annotations.
 * Writes "posted check run memgate: ..." to out (may be NULL). 0, or -1
 * with err. */
int mg_post_checks(json_t *fixtures, const struct mg_post_opts *o, const char *summary_markdown, FILE *out,
		   char *err, size_t errlen);

/* One check run with annotations (an array, sent 50 per request: the rest go
 * in PATCH requests). Returns the check run id, or -1 with err. */
long long mg_post_check_run(const struct mg_post_opts *o, const char *conclusion,
			    const char *title, const char *summary, json_t *annotations,
			    char *err, size_t errlen);

/* Where each fixture's `"name": "<fixture>"` is in the config, so that its
 * annotation points there: every string between two quotes on a line that
 * holds "name", in a sorted index, read once for all fixtures. */
struct mg_post_config_lines {
	char *text;
	struct mg_name_ref *v;
	size_t n;
};

/* Index the config at path (at most 16 MiB). A config that cannot be read
 * (or memory that runs out) leaves the index empty: every annotation then
 * points at line 1. */
void mg_post_config_lines_load(const char *path, struct mg_post_config_lines *cl);
void mg_post_config_lines_free(struct mg_post_config_lines *cl);
/* The line of the first `"name"` line that quotes name; 1 when none does. */
int mg_post_config_line(const struct mg_post_config_lines *cl, const char *name);

#endif
