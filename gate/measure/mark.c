/* mark: the mark line protocol (mark.h). */
#include "measure/mark.h"

#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 character at s (n bytes left), or 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	unsigned lo = 0x80, hi = 0xBF; /* the second byte: no overlong forms, no surrogates */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

void mg_phase_name_clean(char *dst, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_char(s + i, n - i);
		if (o + (len ? len : 1) > MG_PHASE_NAME_MAX)
			break;
		if (!len) {
			dst[o++] = '?';
			i++;
		} else if (len == 1) {
			dst[o++] = s[i] < 0x20 || s[i] == 0x7F ? ' ' : (char)s[i];
			i++;
		} else {
			memcpy(dst + o, s + i, len);
			o += len;
			i += len;
		}
	}
	dst[o] = '\0';
}

int mg_mark_parse(const char *line, struct mg_mark *out)
{
	memset(out, 0, sizeof *out);
	size_t len = strlen(line);
	/* " pid=N" at the end scopes it; anything else there is part of the name */
	const char *at = NULL;
	for (const char *p = strstr(line, " pid="); p; p = strstr(p + 1, " pid="))
		at = p;
	if (at) {
		char *end;
		long v = strtol(at + 5, &end, 10);
		if (at[5] >= '0' && at[5] <= '9' && *end == '\0' && v > 1 && v <= 4194304) {
			out->pid = (pid_t)v;
			len = (size_t)(at - line);
		}
	}
	if (len == 3 && memcmp(line, "end", 3) == 0) {
		out->end = true;
		return 0;
	}
	if (len > 6 && memcmp(line, "phase ", 6) == 0) {
		mg_phase_name_clean(out->name, line + 6, len - 6);
		return out->name[0] ? 0 : -1;
	}
	return -1;
}
