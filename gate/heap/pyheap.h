/* pyheap: Python heap attribution reports.
 *
 * Two sources, one struct:
 *  - the JSON report of memgate's tracemalloc helper (gate/heap/python/sitecustomize.py,
 *    injected with PYTHONPATH, writes MEMGATE_PYHEAP_OUT):
 *      {"tool": "tracemalloc", "peak_bytes": P, "current_bytes": C,
 *       "top": [{"location": "file:line", "size_bytes": N, "count": N}, ...],
 *       "domains": [{"domain": 0, "size_bytes": N}, {"domain": 389047, ...}]}
 *    top = growth per site between the helper's start and end snapshots,
 *    largest first; count = live blocks the site gained (>= 0);
 *    domains = traced bytes per tracemalloc domain at the end (389047 is NumPy).
 *  - `memray stats --json` (memray 1.20.0): metadata.peak_memory and
 *    top_allocations_by_size ("function:file:line" -> location "file:line" +
 *    function); counts from top_allocations_by_count for the same location.
 *    memray's size is the total allocated at that location over the whole
 *    run (freed or not), not a growth; it has no current figure and no domains.
 *    measure/ no longer runs `memray stats` (totals name lines that allocate
 *    and free, NOTES.md item 4): the sites it reports are memray_csv.h's,
 *    those held at the peak; this parser reads stats files people keep.
 *
 * Parsers are strict about what they read: wrong types, negative sizes and
 * missing keys are errors naming the JSON path ("ORIGIN: top[2].size_bytes:
 * expected an integer, got a string"); JSON syntax errors are
 * "ORIGIN:LINE:COL: message". Unknown keys are errors in the helper's report
 * (it ships with this parser) and ignored in memray's (a third-party format
 * that grows keys between versions). Entries beyond the fixed capacities are
 * dropped and counted in *_omitted.
 *
 * memray's command lines and exit statuses are heap/memray.h. No global state.
 */
#ifndef MG_PYHEAP_H
#define MG_PYHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "heap.h"

/* *out emptied for tool: no figures (peak, current and leaked unknown), no sites. */
void mg_pyheap_init(struct mg_pyheap *out, const char *tool);

/* Every parser returns 0, or -1 with one line in err; *out is fully
 * (re)initialised either way. origin names the text in messages (a path). */
int mg_pyheap_parse_tracemalloc(const char *text, const char *origin, struct mg_pyheap *out,
				char *err, size_t errlen);
int mg_pyheap_load_tracemalloc(const char *path, struct mg_pyheap *out, char *err, size_t errlen);
int mg_pyheap_parse_memray_stats(const char *text, const char *origin, struct mg_pyheap *out,
				 char *err, size_t errlen);
int mg_pyheap_load_memray_stats(const char *path, struct mg_pyheap *out, char *err, size_t errlen);

/* The report shape: {"tool", "peak_bytes", "current_bytes" (null when unknown),
 * "top": [SITE], "domains": [{"domain", "size_bytes"}]}, where SITE is
 * {"location", "size_bytes", "count" (null when unknown) [, "function"]
 * [, "native"] (each when non-empty)}; heaptrack adds "leaked_bytes" and
 * "leaks": [SITE]; memray adds "processes": [{"pid" (null when unknown),
 * "forked", "peak_bytes"}]; a flame graph adds "flamegraph": PATH.
 * A new reference (NULL only when out of memory). For a tracemalloc report,
 * mg_pyheap_parse_tracemalloc(json_dumps(mg_pyheap_json(h))) gives h back. */
json_t *mg_pyheap_json(const struct mg_pyheap *h);

/* Bytes traced in a domain, 0 when the domain is not listed. */
int64_t mg_pyheap_domain_bytes(const struct mg_pyheap *h, uint32_t domain);

#endif
