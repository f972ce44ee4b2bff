/* text: outside text (a profiler's output) copied into the fixed-size
 * fields of a heap result, so that every field is NUL-terminated UTF-8
 * without control characters, as JSON needs. Pure. */
#ifndef MG_HEAP_TEXT_H
#define MG_HEAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copy src[0..n) into dst (cap >= 8): valid UTF-8 stays, anything else
 * (a control character, a byte that is not UTF-8) becomes '?'. Too long:
 * the head and "..." (keep_tail false), or "..." and the tail (keep_tail
 * true, for paths: "...dir/file.py:12"), cut between characters. */
void mg_heap_copy_text(char *dst, size_t cap, const char *src, size_t n, bool keep_tail);

#endif
