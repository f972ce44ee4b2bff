/* merge: join the reports of `memgate run --shard K/N` jobs into one report
 * that `memgate report` renders and `memgate post` posts as one set.
 *
 * The merged report is schema 1 like its parts: verdict = the worst of the
 * parts' verdicts (error > fail > pass), interrupted_by = the first non-null
 * one, memgate_version and any other top-level key from the first part,
 * fixtures = every part's fixtures in argument order. Refused (NULL and a
 * reason naming the file): a part that is not a valid report
 * (mg_report_validate; files are read with mg_report_load), a fixture
 * name in two parts (the shards overlap), and, when the parts carry
 * "shard": {"index": K, "count": N} (mg_shard_annotate), parts of different
 * N, the same K twice, or a missing K. */
#ifndef MG_MERGE_H
#define MG_MERGE_H

#include <jansson.h>
#include <stddef.h>

#include "verdict.h"

/* names[i] is where reports[i] came from (for messages). n >= 1. */
json_t *mg_merge_reports(json_t *const *reports, const char *const *names, size_t n, char *err,
			 size_t errlen);

#endif
