/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). */
#ifndef MG_FUZZ_H
#define MG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string: a NUL-terminated heap copy (an embedded NUL ends
 * the string early, as it would in a file read by mg_read_small_file). An
 * exact-size allocation, so ASan sees any read past the terminator. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A property the code documents did not hold: report it as a crash. */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* err must hold one NUL-terminated line of at most errlen - 1 bytes. */
static inline void fuzz_check_err(const char *err, size_t errlen)
{
	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
}

#endif
