/* report_load: the one reader and validator of memgate's JSON reports,
 * used by every command that reads one: report, post, merge and
 * run --baseline (and, on documents already in memory, by the renderers,
 * the poster, the merger and the baseline comparison).
 *
 * A report is read when it is
 *   - a regular file or a pipe of at most MG_REPORT_MAX_BYTES (64 MiB; the
 *     largest real report is a few MiB: 2000 series points per fixture);
 *   - JSON without duplicate keys (errors as "FILE:LINE:COLUMN: ...");
 *   - valid (mg_report_validate): an object with "schema" the integer 1
 *     exactly, "verdict" "pass", "fail" or "error", "interrupted_by" a
 *     string or null (or absent), and "fixtures" an array of objects, each
 *     with a "name" (a non-empty string of at most MG_REPORT_NAME_MAX bytes,
 *     unique in the report) and a "verdict" as above; "reasons", "limits"
 *     (objects with a "metric" string) and "peak" (byte figures: integers
 *     >= 0 or null) are optional but typed when present; so is "phases",
 *     an array of objects each with a "name" (as a fixture's, but names
 *     may repeat) and a "verdict", and "limits" and "peak" typed as a
 *     fixture's.
 * The renderers check the rest of the shape they draw (render_view.c), and
 * only the rest: no check is made in both places.
 *
 * Every check is linear or n log n in the size of the report. */
#ifndef MG_REPORT_LOAD_H
#define MG_REPORT_LOAD_H

#include <jansson.h>
#include <stddef.h>

#define MG_REPORT_MAX_BYTES ((size_t)64 << 20)
/* Config fixture names are at most 100 bytes (config.c); `measure --name`
 * takes up to this, and the default name, a file name, always fits. */
#define MG_REPORT_NAME_MAX 256

/* Read and validate the report at path. NULL with one line in err:
 * "cannot read PATH: ENOENT (No such file or directory)" (error.h),
 * "cannot read PATH: a directory, not a report file", "cannot read PATH:
 * larger than 64 MiB ...", "PATH:LINE:COL: <JSON error>" or
 * "PATH: JSONPATH: <problem>", e.g.
 * "r.json: fixtures[2].verdict: expected \"pass\", \"fail\" or \"error\", got \"ok\"". */
json_t *mg_report_load(const char *path, char *err, size_t len);

/* Validate a parsed report (see above): 0, or -1 with "JSONPATH: problem"
 * in err, e.g. "schema: expected 1, got 2 (this memgate reads report schema 1)". */
int mg_report_validate(const json_t *doc, char *err, size_t len);

/* What j is, as the messages above say it: "an object", "a string", "an
 * integer", "a number with a fraction", "a boolean", "null". */
const char *mg_report_json_type(const json_t *j);

#endif
