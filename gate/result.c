#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mg_result_init(struct mg_result *r)
{
	memset(r, 0, sizeof *r);
	r->method = MG_METHOD_PROC;
	r->cgroup_bytes = MG_UNKNOWN;
	r->cgroup_anon_bytes = MG_UNKNOWN;
	r->cgroup_file_bytes = MG_UNKNOWN;
	r->achieved = r->per_process = r->pss_sweeps = (struct mg_cadence){-1, -1, 0};
	r->oom_kills = 0;
	r->growth_per_request_bytes = MG_UNKNOWN;
	r->python_heap_bytes = MG_UNKNOWN;
	r->service.ready_ms = -1;
	r->service.driver.requests = -1;
}

void mg_result_free(struct mg_result *r)
{
	mg_series_free(&r->series);
	mg_series_free(&r->series_cgroup);
	mg_series_free(&r->series_anon);
	free(r->service.service_stdout);
	free(r->service.service_stderr);
	free(r->service.driver_stdout);
	free(r->service.driver_stderr);
	memset(&r->service, 0, sizeof r->service);
	free(r->python_heap);
	r->python_heap = NULL;
	free(r->phases);
	r->phases = NULL;
	r->nphases = 0;
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
