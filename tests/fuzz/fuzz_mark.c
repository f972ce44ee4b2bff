/* The phase mark protocol (gate/measure/mark.c) on arbitrary bytes, as a
 * program may write anything to $MEMGATE_MARK: a mark's name must come out
 * as valid UTF-8 without control characters (it goes into the JSON report
 * as is), within MG_PHASE_NAME_MAX bytes; a scope pid is in range. */
#include "fuzz.h"

#include <jansson.h>

#include "measure/mark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size);
	struct mg_mark m;
	if (mg_mark_parse(line, &m) == 0) {
		size_t len = strlen(m.name);
		FUZZ_CHECK(len <= MG_PHASE_NAME_MAX);
		FUZZ_CHECK(m.end ? len == 0 : len > 0);
		FUZZ_CHECK(m.pid == 0 || (m.pid > 1 && m.pid <= 4194304));
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)m.name[i] >= 0x20 && m.name[i] != 0x7F);
		json_t *s = json_string(m.name); /* NULL for invalid UTF-8 */
		FUZZ_CHECK(s != NULL);
		json_decref(s);
	}
	/* the cleaner alone, on the raw bytes (NULs included) */
	char out[MG_PHASE_NAME_MAX + 1];
	mg_phase_name_clean(out, (const char *)data, size);
	json_t *s = json_string(out);
	FUZZ_CHECK(s != NULL);
	json_decref(s);
	free(line);
	return 0;
}
