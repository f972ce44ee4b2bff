/* Sizes, durations and percentages (gate/units.c, mg_parse_percent in
 * gate/config.c) on arbitrary text, and the formatters on what they parse.
 * Rates ("1MiB/s"), the growth limit's. */
#include "fuzz.h"

#include <stdbool.h>

#include "config.h"
#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char err[256], buf[64];
	int64_t v;

	if (mg_parse_size(s, &v, err, sizeof err) == 0) {
		FUZZ_CHECK(v >= 0);
		mg_format_mib(v, buf, sizeof buf);
	} else {
		fuzz_check_err(err, sizeof err);
	}
	(void)mg_parse_size(s, NULL, NULL, 0); /* config_write.c calls it so */

	if (mg_parse_duration(s, &v, err, sizeof err) == 0) {
		FUZZ_CHECK(v >= 0);
		mg_format_duration(v, buf, sizeof buf);
	} else {
		fuzz_check_err(err, sizeof err);
	}

	if (mg_parse_rate(s, &v, err, sizeof err) == 0)
		FUZZ_CHECK(v >= 0);
	else
		fuzz_check_err(err, sizeof err);

	for (int optional = 0; optional < 2; optional++) {
		if (mg_parse_percent(s, optional, &v, err, sizeof err) == 0) {
			/* documented range, and mg_format_percent is its reverse */
			FUZZ_CHECK(v >= 0 && v <= 100000000);
			int64_t back = -1;
			mg_format_percent(v, buf, sizeof buf);
			FUZZ_CHECK(mg_parse_percent(buf, false, &back, NULL, 0) == 0 && back == v);
		} else {
			fuzz_check_err(err, sizeof err);
		}
	}
	free(s);
	return 0;
}
