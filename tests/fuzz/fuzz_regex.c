/* The readiness regex guard (gate/regex_guard.c) on arbitrary bytes: what
 * it refuses leaves one terminated line; what it accepts must compile and
 * match a long service line quickly (libFuzzer's -timeout and -rss_limit_mb
 * turn a slow or huge regcomp/regexec into a finding). */
#include "fuzz.h"

#include <regex.h>

#include "regex_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pattern = fuzz_cstr(data, size);
	char err[256];
	memset(err, 'X', sizeof err);
	if (mg_regex_check(pattern, err, sizeof err) == 0) {
		FUZZ_CHECK(strlen(pattern) <= MG_REGEX_MAX_LEN);
		regex_t re;
		if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
			/* the longest line a service's output tail keeps, of mixed text */
			static char line[1024];
			for (size_t i = 0; i < sizeof line - 1; i++)
				line[i] = "listening on 127.0.0.1:8080 ready xyz\t"[i % 38];
			regexec(&re, line, 0, NULL, 0);
			regfree(&re);
		}
	} else {
		fuzz_check_err(err, sizeof err);
	}
	free(pattern);
	return 0;
}
