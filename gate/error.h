/* error: the one way memgate words a failed system call: "cannot VERB
 * PATH: ENAME (text)", e.g. "cannot read /x/token: EACCES (Permission
 * denied)": the name for a search, the text for a person. Write
 * MG_ERRNO_FMT in the format and MG_ERRNO(e) in the arguments. */
#ifndef MG_ERROR_H
#define MG_ERROR_H

#include <string.h>

#define MG_ERRNO_FMT "%s (%s)"
#define MG_ERRNO(e) mg_errname(e), strerror(e)

/* "EACCES"; "unknown error" for a number without a name. */
const char *mg_errname(int e);

#endif
