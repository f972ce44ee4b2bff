/* error: the one way memgate words a failed system call: "cannot VERB
 * PATH: ENAME (text)", e.g. "cannot read /x/token: EACCES (Permission
 * denied)": the name for a search, the text for a person. Write
 * MG_ERRNO_FMT in the format and MG_ERRNO(e) in the arguments. */
#ifndef MG_ERROR_H
#define MG_ERROR_H

#include <stddef.h>
#include <string.h>

#define MG_ERRNO_FMT "%s (%s)"
#define MG_ERRNO(e) mg_errname(e), strerror(e)

/* "EACCES"; "unknown error" for a number without a name. */
const char *mg_errname(int e);

/* "ENOSPC (No space left on device)" into buf (an errno without a name:
 * "errno 4242 (Unknown error 4242)"); returns buf. */
const char *mg_errno_text(int e, char *buf, size_t len);

/* "cannot VERB WHAT: ENAME (text)" into err (a NULL or empty err is left
 * alone); returns -1, for `return mg_cannot(...)`. */
int mg_cannot(char *err, size_t len, const char *verb, const char *what, int e);

#endif
