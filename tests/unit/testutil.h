/* Shared bits for the cmocka unit tests. */
#ifndef MG_TESTUTIL_H
#define MG_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Read a whole file under tests/data/ (the suite runs from the repo root). */
static inline char *tu_read_data(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "tests/data/%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* assert that haystack contains needle, printing both when it does not */
#define assert_contains(haystack, needle)                                              \
	do {                                                                           \
		const char *h_ = (haystack), *n_ = (needle);                           \
		if (!h_ || !strstr(h_, n_))                                            \
			fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)"); \
	} while (0)
/* Skip this test and say why: tests/run-suite counts skips and prints
 * their reasons; a skip is never counted as a pass. */
#define skip_because(...)                                      \
	do {                                                   \
		printf("  skipped: " __VA_ARGS__);             \
		printf("\n");                                  \
		fflush(stdout);                                \
		skip();                                        \
	} while (0)

#endif
