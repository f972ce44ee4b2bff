#include "error.h"

#include <stdio.h>

const char *mg_errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "unknown error";
}

const char *mg_errno_text(int e, char *buf, size_t len)
{
	const char *name = strerrorname_np(e);
	if (name)
		snprintf(buf, len, "%s (%s)", name, strerror(e));
	else
		snprintf(buf, len, "errno %d (%s)", e, strerror(e));
	return buf;
}

int mg_cannot(char *err, size_t len, const char *verb, const char *what, int e)
{
	char why[160];
	if (err && len)
		snprintf(err, len, "cannot %s %s: %s", verb, what, mg_errno_text(e, why, sizeof why));
	return -1;
}
