#include "error.h"

const char *mg_errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "unknown error";
}
