/* The tracemalloc helper's report parser (gate/pyheap.c) on arbitrary
 * bytes, and the round trip pyheap.h promises: parsing the JSON form of a
 * parsed report gives the same report back. */
#include "pyheap_check.h"

static void same(const struct mg_pyheap *a, const struct mg_pyheap *b)
{
	FUZZ_CHECK(strcmp(a->tool, b->tool) == 0);
	FUZZ_CHECK(a->peak_bytes == b->peak_bytes && a->current_bytes == b->current_bytes);
	FUZZ_CHECK(a->ntop == b->ntop && a->ndomains == b->ndomains);
	for (int i = 0; i < a->ntop; i++) {
		FUZZ_CHECK(strcmp(a->top[i].location, b->top[i].location) == 0);
		FUZZ_CHECK(strcmp(a->top[i].function, b->top[i].function) == 0);
		FUZZ_CHECK(a->top[i].size_bytes == b->top[i].size_bytes);
		FUZZ_CHECK(a->top[i].has_count == b->top[i].has_count && a->top[i].count == b->top[i].count);
	}
	for (int i = 0; i < a->ndomains; i++)
		FUZZ_CHECK(a->domains[i].domain == b->domains[i].domain &&
			   a->domains[i].size_bytes == b->domains[i].size_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	static struct mg_pyheap h, back; /* ~25 KiB each */
	char err[512];

	memset(err, 'X', sizeof err);
	if (mg_pyheap_parse_tracemalloc(text, "fuzz.json", &h, err, sizeof err) == 0) {
		char *json = pyheap_check(&h);
		FUZZ_CHECK(mg_pyheap_parse_tracemalloc(json, "round-trip", &back, err, sizeof err) == 0);
		same(&h, &back);
		free(json);
	} else {
		fuzz_check_err(err, sizeof err);
	}
	free(text);
	return 0;
}
