/* The `memray stats --json` parser (gate/pyheap.c) on arbitrary bytes; a
 * parsed report must turn into its JSON form. */
#include "pyheap_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	static struct mg_pyheap h;
	char err[512];

	memset(err, 'X', sizeof err);
	if (mg_pyheap_parse_memray_stats(text, "fuzz.json", &h, err, sizeof err) == 0) {
		FUZZ_CHECK(strcmp(h.tool, "memray") == 0);
		free(pyheap_check(&h));
	} else {
		fuzz_check_err(err, sizeof err);
	}
	free(text);
	return 0;
}
