#include "ci/text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool utf8_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

char *mg_post_cut_chars(const char *s, size_t max_chars)
{
	static const char ellipsis[] = "…";
	size_t chars = 0, keep_end = 0, len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if (utf8_cont((unsigned char)s[i]))
			continue;
		if (chars == (max_chars ? max_chars - 1 : 0))
			keep_end = i; /* where the "…" goes if s is too long */
		chars++;
	}
	if (chars <= max_chars)
		return strdup(s);
	if (!max_chars)
		return strdup("");
	char *out = malloc(keep_end + sizeof ellipsis);
	if (out) {
		memcpy(out, s, keep_end);
		memcpy(out + keep_end, ellipsis, sizeof ellipsis);
	}
	return out;
}

char *mg_post_cut_bytes(const char *s, size_t max_bytes, const char *note)
{
	size_t len = strlen(s), nlen = strlen(note);
	if (len <= max_bytes)
		return strdup(s);
	if (nlen > max_bytes)
		nlen = 0, note = "";
	size_t cut = max_bytes - nlen;
	while (cut > 0 && utf8_cont((unsigned char)s[cut]))
		cut--; /* s[cut] starts a character: everything before it is whole */
	char *out = malloc(cut + nlen + 1);
	if (out) {
		memcpy(out, s, cut);
		memcpy(out + cut, note, nlen + 1);
	}
	return out;
}

char *mg_ci_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	return rc < 0 ? NULL : s;
}

