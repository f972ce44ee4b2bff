/* memray_csv: what held a Python program's heap at its peak, from
 * `memray transform csv` (memray 1.20.0) of one or more captures.
 *
 * Why this and not `memray stats --json`: stats' sizes are totals over the
 * whole run, freed or not (tests/data/memray-real/NOTES.md, item 4), so the
 * import machinery can outrank the lines that hold the memory. `transform
 * csv` without --leaks writes the allocations live at the high-water mark,
 * one row per distinct stack:
 *
 *   allocator,num_allocations,size,tid,thread_name,stack_trace
 *   MALLOC,10000,5537808,1,0x1,fill_cache;workload.py;19|main;workload.py;40
 *
 * stack_trace is "function;file;line" frames joined by "|", innermost first
 * (empty: no Python frame). The sizes of one capture add up to memray's own
 * peak_memory (checked on the real tool). With --native the stack has the
 * native frames too ("PyNumber_Multiply;<unknown>;0"); the site is then the
 * innermost Python frame (a file ending .py/.pyw, or "<frozen ...>",
 * "<string>", "<stdin>"), and the innermost named native frame under it is
 * kept beside it.
 *
 * Sites are summed per (function, file:line) over every capture added (the
 * program and the children it forked, each at its own peak). Pure: no I/O,
 * no global state. */
#ifndef MG_MEMRAY_CSV_H
#define MG_MEMRAY_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"

struct mg_memray_acc_site;

/* Sites summed over captures. Zero-initialise; mg_memray_acc_free after. */
struct mg_memray_acc {
	struct mg_memray_acc_site *v;
	size_t n, cap;
	uint32_t *slots;        /* open addressing: index + 1, 0 empty */
	size_t nslots;          /* a power of two >= 2 * cap, or 0 */
};

/* Add one capture's CSV (text of len bytes, NUL bytes refused). native: the
 * capture was made with --native. *peak: the capture's peak (its sizes
 * summed). 0, or -1 with "ORIGIN:LINE: what is wrong" in err (the
 * accumulator keeps what was added before the bad row). */
int mg_memray_csv_add(struct mg_memray_acc *a, const char *text, size_t len, const char *origin, bool native,
		      int64_t *peak, char *err, size_t errlen);

/* The largest top sites, largest first (ties: by location), into
 * out->top / ntop / top_omitted; the rest of out is left alone. */
void mg_memray_acc_top(const struct mg_memray_acc *a, int top, struct mg_pyheap *out);

void mg_memray_acc_free(struct mg_memray_acc *a);

#endif
