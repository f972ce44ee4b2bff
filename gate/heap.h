/* heap: what heap attribution found, as results and reports hold it: the
 * peak, the current (or leaked) bytes, the top allocation sites and, for
 * tracemalloc, bytes per domain; for memray, each captured process's peak;
 * for heaptrack, the leaking sites. Filled by the parsers in gate/heap/,
 * judged by verdict.c, written by report/report_json.c. Types only.
 *
 * What a site's size means depends on the tool: tracemalloc's is what the
 * line gained between the helper's start and end snapshots; memray's and
 * heaptrack's is what the line held at the peak (the high-water mark). */
#ifndef MG_HEAP_H
#define MG_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#define MG_PYHEAP_MAX_TOP 64
#define MG_PYHEAP_MAX_DOMAINS 16
#define MG_PYHEAP_LOCATION_MAX 256 /* longer locations keep their tail: "...path/file.py:12" */
#define MG_PYHEAP_FUNCTION_MAX 128
#define MG_PYHEAP_MAX_PROCS 32   /* memray --follow-fork: processes listed; more are counted */
#define MG_PYHEAP_UNKNOWN ((int64_t)-1) /* a byte figure that is not available: null in JSON */
#define MG_PYHEAP_NUMPY_DOMAIN 389047u  /* NumPy's tracemalloc domain for data buffers */

struct mg_pyheap_site {
	char location[MG_PYHEAP_LOCATION_MAX]; /* "file:line" (or memray's "<stack trace unavailable>") */
	char function[MG_PYHEAP_FUNCTION_MAX]; /* memray and heaptrack; "" otherwise */
	char native[MG_PYHEAP_FUNCTION_MAX];   /* memray --native: the innermost named native frame
						* under the Python line ("PyNumber_Multiply"); "" otherwise */
	int64_t size_bytes;                    /* >= 0 */
	int64_t count;                         /* valid when has_count */
	bool has_count;
};

struct mg_pyheap_domain {
	uint32_t domain;
	int64_t size_bytes;
};

/* One process memray captured (the program, or a child it forked). */
struct mg_pyheap_proc {
	int pid;                  /* 0 when unknown */
	bool forked;              /* a child's capture (CAPTURE.<pid>) */
	int64_t peak_bytes;       /* its own heap peak */
};

struct mg_pyheap {
	char tool[16];            /* "tracemalloc", "memray" or "heaptrack" */
	int64_t peak_bytes;       /* >= 0 */
	int64_t current_bytes;    /* >= 0, or MG_PYHEAP_UNKNOWN (memray, heaptrack) */
	int64_t leaked_bytes;     /* heaptrack: never freed; MG_PYHEAP_UNKNOWN otherwise */
	struct mg_pyheap_site top[MG_PYHEAP_MAX_TOP];
	int ntop;
	int top_omitted;          /* entries beyond MG_PYHEAP_MAX_TOP */
	struct mg_pyheap_site leaks[MG_PYHEAP_MAX_TOP]; /* heaptrack: the sites that leak, largest first */
	int nleaks;
	int leaks_omitted;
	struct mg_pyheap_domain domains[MG_PYHEAP_MAX_DOMAINS];
	int ndomains;
	int domains_omitted;
	struct mg_pyheap_proc procs[MG_PYHEAP_MAX_PROCS]; /* memray: every capture; empty otherwise */
	int nprocs;
	int procs_omitted;
	char flamegraph[4096];    /* --artifacts: the flame graph written, as the user named it; "" none */
};

#endif
