/* What fuzz_tracemalloc and fuzz_memray check on every parsed heap report. */
#ifndef MG_FUZZ_PYHEAP_CHECK_H
#define MG_FUZZ_PYHEAP_CHECK_H

#include "fuzz.h"

#include "heap/pyheap.h"

/* Invariants of a parsed report (pyheap.h), and mg_pyheap_json gives a
 * report (NULL only when out of memory). Returns the JSON text. */
static inline char *pyheap_check(const struct mg_pyheap *h)
{
	FUZZ_CHECK(h->peak_bytes >= 0);
	FUZZ_CHECK(h->ntop >= 0 && h->ntop <= MG_PYHEAP_MAX_TOP && h->top_omitted >= 0);
	FUZZ_CHECK(h->ndomains >= 0 && h->ndomains <= MG_PYHEAP_MAX_DOMAINS && h->domains_omitted >= 0);
	for (int i = 0; i < h->ntop; i++) {
		const struct mg_pyheap_site *s = &h->top[i];
		FUZZ_CHECK(memchr(s->location, '\0', sizeof s->location) != NULL);
		FUZZ_CHECK(memchr(s->function, '\0', sizeof s->function) != NULL);
		FUZZ_CHECK(s->size_bytes >= 0 && (!s->has_count || s->count >= 0));
	}
	json_t *j = mg_pyheap_json(h);
	FUZZ_CHECK(j != NULL);
	char *text = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	json_decref(j);
	return text;
}

#endif
