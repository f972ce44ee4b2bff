/* report: the renderers. They read results and judgements; they never
 * measure. report_json.c writes the public JSON report (schema 1); every
 * other format renders that JSON (render.h). */
#ifndef MG_REPORT_H
#define MG_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "result.h"
#include "verdict.h"

struct mg_report_entry {
	const struct mg_fixture *fixture;
	const struct mg_result *result;     /* NULL: not run (memgate was interrupted) */
	const struct mg_judgement *judgement;
};

struct mg_report {
	struct mg_report_entry *entries;
	size_t n;
	enum mg_verdict verdict;            /* worst of the entries */
	int interrupted_by;                 /* signal, or 0 */
};

json_t *mg_report_json(const struct mg_report *rep);

#endif
