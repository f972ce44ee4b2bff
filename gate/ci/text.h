/* text: strings for a forge's API and for messages, cut to a size on UTF-8
 * boundaries (never in the middle of a character), or formatted into a new
 * string; and the one wording of an errno. */
#ifndef MG_TEXT_H
#define MG_TEXT_H

#include <stddef.h>

/* Copy at most max_chars UTF-8 characters of s into a new string; when s is
 * longer, the last of them is "…". Never splits a character. NULL on OOM. */
char *mg_post_cut_chars(const char *s, size_t max_chars);
/* Same, by bytes (at most max_bytes, NUL excluded), ending with note when cut. */
char *mg_post_cut_bytes(const char *s, size_t max_bytes, const char *note);

/* printf into a new string; NULL on OOM. */
char *mg_ci_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A failed system call on a file is worded by mg_cannot (error.h). */

#endif
