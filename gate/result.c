#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mg_result_init(struct mg_result *r)
{
	memset(r, 0, sizeof *r);
	r->method = MG_METHOD_PROC;
	r->cgroup_bytes = MG_UNKNOWN;
	r->oom_kills = 0;
}

void mg_result_free(struct mg_result *r)
{
	mg_series_free(&r->series);
}

void mg_result_note(struct mg_result *r, const char *fmt, ...)
{
	if (r->nnotes >= MG_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof r->notes[0], fmt, ap);
	va_end(ap);
}
