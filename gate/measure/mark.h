/* mark: the mark line protocol of phases (phases.h), parsed on its own so
 * that it can be fuzzed: "phase NAME", "end", each optionally followed by
 * " pid=N" (the phase is scoped to process N and its descendants). */
#ifndef MG_MARK_H
#define MG_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "result.h" /* MG_PHASE_NAME_MAX */

struct mg_mark {
	bool end;                          /* "end": no phase follows */
	pid_t pid;                         /* 0: the whole tree */
	char name[MG_PHASE_NAME_MAX + 1];  /* cleaned (mg_phase_name_clean); "" for end */
};

/* line: one line without its newline. 0, or -1 when it is not a mark. */
int mg_mark_parse(const char *line, struct mg_mark *out);

/* A name as a report can hold it: valid UTF-8 ('?' for each bad byte), no
 * control characters, cut on a character boundary to MG_PHASE_NAME_MAX
 * bytes. dst holds MG_PHASE_NAME_MAX + 1. */
void mg_phase_name_clean(char *dst, const char *src, size_t len);

#endif
