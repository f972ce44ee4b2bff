/* sys_error: how the report layer (and the commands that render) word a
 * failed system call or file: "cannot VERB PATH: ENAME (text)", e.g.
 * "cannot write /x/r.md: ENOSPC (No space left on device)": errno's name
 * (strerrorname_np), which a script can match, and its text (strerror),
 * which a person reads. */
#ifndef MG_SYS_ERROR_H
#define MG_SYS_ERROR_H

#include <stddef.h>

/* "ENOSPC (No space left on device)" into buf (an errno without a name:
 * "errno 4242 (Unknown error 4242)"); returns buf. */
const char *mg_errno_text(int e, char *buf, size_t len);

/* "cannot VERB WHAT: ENAME (text)" into err (a NULL or empty err is left
 * alone); returns -1, for `return mg_cannot(...)`. */
int mg_cannot(char *err, size_t len, const char *verb, const char *what, int e);

#endif
