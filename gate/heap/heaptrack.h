/* heaptrack: the text that heaptrack_print (heaptrack 1.4.0) writes on
 * standard output, as data. Which allocation sites of a native program hold
 * its peak heap and which leak, with file:line and function.
 *
 * The text to parse is the stdout of (tests/data/heaptrack/NOTES.md)
 *   heaptrack_print -f FILE.zst --print-leaks 1 --print-peaks 1 \
 *       --print-allocators 0 --print-temporary 0 [-n TOP]
 * Other sections (allocators, temporary) and the unmerged form (-m 0) are
 * read too; their entries are skipped or read the same way.
 *
 * What the text holds, and so what this gives:
 *  - the summary: peak heap, peak RSS (with heaptrack's own overhead), bytes
 *    leaked (after suppressions), suppressed bytes, allocation calls,
 *    temporary allocations, run time;
 *  - "PEAK MEMORY CONSUMERS" and "MEMORY LEAKS": one entry per allocation
 *    site (the place that called malloc/new), largest first, at most -n of
 *    them: its bytes, its number of calls, its function and file:line, its
 *    module, the functions it was inlined into, and the callers on its
 *    largest backtrace.
 * Byte figures are printed rounded (1000-based: "72B", "4.10K", "32.85M"),
 * so each comes with its slack: the most the true figure can differ from
 * the parsed one (0 for a figure in B, 5 for K with two decimals, 5000 for
 * M). Counts are exact.
 *
 * heaptrack_print exits 0 and prints a zero summary when it read no data (an
 * empty, cut or foreign data file); such text has no "Debuggee command was:"
 * line, and is an error here, never an empty result.
 *
 * Pure: no I/O, no global state, no allocation. Total: any bytes up to the
 * first NUL are accepted as input, in time linear in their length; every
 * number is range-checked. On success every string in the result is
 * NUL-terminated UTF-8 without control characters (others become '?');
 * strings too long for their fields are cut (a location keeps its tail:
 * "...dir/file.c:12", a function its head: "std::vector<>::_M_...").
 */
#ifndef MG_HEAPTRACK_H
#define MG_HEAPTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_HEAPTRACK_MAX_SITES 16     /* per section; more are counted in *_omitted */
#define MG_HEAPTRACK_MAX_FRAMES 10    /* per site: the site, its inliners, its callers */
#define MG_HEAPTRACK_FUNCTION_MAX 192
#define MG_HEAPTRACK_LOCATION_MAX 192
#define MG_HEAPTRACK_MODULE_MAX 160
#define MG_HEAPTRACK_COMMAND_MAX 256
#define MG_HEAPTRACK_UNKNOWN ((int64_t)-1) /* a figure the text did not hold */

/* A byte figure as printed: "32.85M" is bytes 32850000, slack 5000. May be
 * negative (heaptrack attached to a running process sees frees of memory
 * allocated before it came). */
struct mg_heaptrack_bytes {
	int64_t bytes;
	int64_t slack; /* >= 0 */
};

struct mg_heaptrack_frame {
	char function[MG_HEAPTRACK_FUNCTION_MAX]; /* "render_entry", "std::vector<>::resize(unsigned long)",
						     or "0x55e17f1604cc" without symbols */
	char location[MG_HEAPTRACK_LOCATION_MAX]; /* "configs/lab/native_service.c:86"; "" without debug info */
};

struct mg_heaptrack_site {
	struct mg_heaptrack_bytes size; /* peak contribution (peaks) or bytes leaked (leaks) */
	int64_t calls;                  /* allocation calls made there, >= 0 */
	char module[MG_HEAPTRACK_MODULE_MAX]; /* the binary or library of frames[0]; "" when "??" */
	/* frames[0] is the site itself: the function that called the allocation
	 * function, where it did. Then the functions frames[0] was inlined into
	 * (innermost first), then the callers on the site's largest backtrace
	 * (innermost first), as far as MG_HEAPTRACK_MAX_FRAMES. */
	struct mg_heaptrack_frame frames[MG_HEAPTRACK_MAX_FRAMES];
	int nframes; /* >= 1 */
};

struct mg_heaptrack {
	char command[MG_HEAPTRACK_COMMAND_MAX]; /* "build/native_service 0" */
	int64_t allocations;                    /* "calls to allocation functions: N" */
	int64_t temporary;                      /* "temporary memory allocations: N", or UNKNOWN */
	int64_t runtime_ms;                     /* "total runtime: 0.53s.", or UNKNOWN */
	struct mg_heaptrack_bytes peak_heap;    /* "peak heap memory consumption:" */
	struct mg_heaptrack_bytes leaked;       /* "total memory leaked:" (suppressed leaks excluded) */
	struct mg_heaptrack_bytes peak_rss;     /* bytes UNKNOWN when absent; includes heaptrack's overhead */
	struct mg_heaptrack_bytes suppressed;   /* "suppressed leaks:", 0 when absent */
	bool has_peaks; /* a "PEAK MEMORY CONSUMERS" section was printed (--print-peaks 1) */
	bool has_leaks; /* a "MEMORY LEAKS" section was printed (--print-leaks 1) */
	struct mg_heaptrack_site peaks[MG_HEAPTRACK_MAX_SITES];
	int npeaks, peaks_omitted;
	struct mg_heaptrack_site leaks[MG_HEAPTRACK_MAX_SITES];
	int nleaks, leaks_omitted;
};

/* Parse heaptrack_print's stdout. 0, or -1 with one line in err naming the
 * line of text and what to do ("heaptrack_print output, line 12: ...");
 * *out is fully (re)initialised either way. An error: a line that looks
 * like one of heaptrack_print's (a label, a summary line) but does not
 * parse, a number out of range, a section or summary line given twice, no
 * "Debuggee command was:" line (no data), and a missing "calls to allocation
 * functions:", "peak heap memory consumption:" or "total memory leaked:"
 * (the text ends early). Lines it does not know outside the entries are
 * skipped (the "reading file" banner). err may be NULL when len is 0. */
int mg_heaptrack_parse(const char *text, struct mg_heaptrack *out, char *err, size_t len);

/* The innermost frame of s in the program's own sources: one with a
 * location that is not a system file (under /usr/, or relative ./ ../ as
 * Debian builds libc, or /build/). NULL when there is none (then frames[0]
 * is the best there is). For "which line": the site of a C++ allocation is
 * in <bits/new_allocator.h>; the line that asked for it is further up. */
const struct mg_heaptrack_frame *mg_heaptrack_own_frame(const struct mg_heaptrack_site *s);

/* The result in the report's shape (heap.h), tool "heaptrack": peak_bytes
 * the peak heap, leaked_bytes the bytes leaked, top the peak consumers and
 * leaks the leaking sites, at most top of each (MG_PYHEAP_MAX_TOP), each as
 * "file:line" (its own frame, mg_heaptrack_own_frame, else the site; the
 * module or "??" without debug info) and function, with its calls as count.
 * Byte figures are heaptrack_print's (rounded, see above). */
struct mg_pyheap;
void mg_heaptrack_to_heap(const struct mg_heaptrack *h, int top, struct mg_pyheap *out);

#endif
