/* text: copying outside text into fixed fields (text.h). */
#include "heap/text.h"

#include <string.h>

/* Length of the valid UTF-8 character at s (n bytes left), or 0 when it is
 * not one or is a control character. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return c >= 0x20 && c != 0x7f ? 1 : 0;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* Copy src[0..n) into dst (cap >= 8): valid UTF-8 stays, anything else
 * becomes '?'. Too long: the head and "..." (keep_tail false), or "..." and
 * the tail (keep_tail true), cut between characters. */
void mg_heap_copy_text(char *dst, size_t cap, const char *src, size_t n, bool keep_tail)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t total = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_char(s + i, n - i);
		total += k ? k : 1;
		i += k ? k : 1;
	}
	size_t room = cap - 1, o = 0, i = 0;
	bool cut = total > room;
	if (cut && keep_tail) {
		memcpy(dst, "...", 3);
		o = 3;
		size_t left = total; /* sanitized bytes from i on */
		while (i < n && left > room - 3) {
			size_t k = utf8_char(s + i, n - i);
			i += k ? k : 1;
			left -= k ? k : 1;
		}
	}
	size_t limit = cut && !keep_tail ? room - 3 : room;
	while (i < n) {
		size_t k = utf8_char(s + i, n - i);
		size_t w = k ? k : 1;
		if (o + w > limit)
			break;
		if (k)
			memcpy(dst + o, s + i, k);
		else
			dst[o] = '?';
		o += w;
		i += w;
	}
	if (cut && !keep_tail) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

