/* heap: what heap attribution found, as results and reports hold it: the
 * peak, the current (or leaked) bytes, the top allocation sites and, for
 * tracemalloc, bytes per domain. Filled by the parsers in gate/heap/,
 * judged by verdict.c, written by report/report_json.c. Types only. */
#ifndef MG_HEAP_H
#define MG_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#define MG_PYHEAP_MAX_TOP 64
#define MG_PYHEAP_MAX_DOMAINS 16
#define MG_PYHEAP_LOCATION_MAX 256 /* longer locations keep their tail: "...path/file.py:12" */
#define MG_PYHEAP_FUNCTION_MAX 128
#define MG_PYHEAP_UNKNOWN ((int64_t)-1) /* a byte figure that is not available: null in JSON */
#define MG_PYHEAP_NUMPY_DOMAIN 389047u  /* NumPy's tracemalloc domain for data buffers */

struct mg_pyheap_site {
	char location[MG_PYHEAP_LOCATION_MAX]; /* "file:line" (or memray's "<stack trace unavailable>") */
	char function[MG_PYHEAP_FUNCTION_MAX]; /* memray only; "" otherwise */
	int64_t size_bytes;                    /* >= 0 */
	int64_t count;                         /* valid when has_count */
	bool has_count;
};

struct mg_pyheap_domain {
	uint32_t domain;
	int64_t size_bytes;
};

struct mg_pyheap {
	char tool[16];            /* "tracemalloc" or "memray" */
	int64_t peak_bytes;       /* >= 0 */
	int64_t current_bytes;    /* >= 0, or MG_PYHEAP_UNKNOWN (memray) */
	struct mg_pyheap_site top[MG_PYHEAP_MAX_TOP];
	int ntop;
	int top_omitted;          /* entries beyond MG_PYHEAP_MAX_TOP */
	struct mg_pyheap_domain domains[MG_PYHEAP_MAX_DOMAINS];
	int ndomains;
	int domains_omitted;
};

#endif
