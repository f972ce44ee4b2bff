/* render_util: the renderers' generic helpers: downsampling a series,
 * nice axis ticks, UTF-8 decoding and XML escaping. Pure functions. */
#include "report/render_common.h"

#include <math.h>
#include <string.h>

size_t mg_rv_downsample(const struct mg_rv_point *pts, size_t n, size_t max, double *out,
			int64_t *span_ms)
{
	int64_t span = 0;
	for (size_t i = 0; i < n; i++)
		if (pts[i].ms > span)
			span = pts[i].ms;
	*span_ms = span;
	if (n == 0 || max == 0)
		return 0;
	size_t nb = n < max ? n : max;
	for (size_t k = 0; k < nb; k++)
		out[k] = -1.0; /* empty so far */
	for (size_t i = 0; i < n; i++) {
		/* bucket of this time; span + 1 keeps the last point inside */
		size_t k = (size_t)((double)pts[i].ms * (double)nb / ((double)span + 1.0));
		double mib = (double)pts[i].bytes / 1048576.0;
		if (k >= nb)
			k = nb - 1;
		if (mib > out[k])
			out[k] = mib;
	}
	double prev = 0.0;
	for (size_t k = 0; k < nb; k++) {
		if (out[k] < 0)
			out[k] = prev; /* no sample there: RSS held its last value */
		prev = out[k];
	}
	return nb;
}

/* Decimals that print every multiple of step exactly (step is 1, 2, 2.5
 * or 5 times a power of ten). */
static int step_decimals(double step)
{
	for (int d = 0; d < 6; d++) {
		double scaled = step * pow(10.0, d);
		if (fabs(scaled - round(scaled)) < 1e-6 * scaled)
			return d;
	}
	return 6;
}

void mg_nice_ticks(double max, int target, struct mg_ticks *t)
{
	/* no 2.5: its labels need one more decimal and crowd the axis */
	static const double mult[] = {1.0, 2.0, 5.0, 10.0};
	if (!(max > 0) || !isfinite(max))
		max = 1.0;
	if (target < 1)
		target = 1;
	/* the smallest nice step that needs at most `target` intervals */
	double mag = pow(10.0, floor(log10(max / target)));
	t->step = mag * 10.0;
	for (size_t i = 0; i < sizeof mult / sizeof mult[0]; i++)
		if (ceil(max / (mag * mult[i]) - 1e-9) <= target) {
			t->step = mag * mult[i];
			break;
		}
	t->count = (int)ceil(max / t->step - 1e-9) + 1;
	t->top = t->step * (t->count - 1);
	t->decimals = step_decimals(t->step);
}

/* Decode one UTF-8 character: its length (1-4) and code point, or 0 for an
 * invalid sequence. */
static size_t utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c, min;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0)
		len = 2, c = u[0] & 0x1F, min = 0x80;
	else if ((u[0] & 0xF0) == 0xE0)
		len = 3, c = u[0] & 0x0F, min = 0x800;
	else if ((u[0] & 0xF8) == 0xF0)
		len = 4, c = u[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0; /* overlong, out of range, or a surrogate */
	*cp = c;
	return len;
}

/* XML 1.0 Char production (with tab, LF and CR handled by the caller). */
static bool xml_char_ok(uint32_t c)
{
	return c >= 0x20 && c != 0xFFFE && c != 0xFFFF;
}

static void xml_put(FILE *out, uint32_t c, const char *raw, size_t len)
{
	switch (c) {
	case '&': fputs("&amp;", out); break;
	case '<': fputs("&lt;", out); break;
	case '>': fputs("&gt;", out); break;
	case '"': fputs("&quot;", out); break;
	case '\'': fputs("&apos;", out); break;
	case '\t': fputs("&#9;", out); break;
	case '\n': fputs("&#10;", out); break;
	case '\r': fputs("&#13;", out); break;
	default:
		if (xml_char_ok(c))
			fwrite(raw, 1, len, out);
		else
			fputs("\xEF\xBF\xBD", out); /* U+FFFD */
	}
}

void mg_xml_escape_n(FILE *out, const char *s, size_t max_chars)
{
	size_t shown = 0;
	while (*s) {
		uint32_t c;
		size_t len = utf8_next(s, &c);
		if (shown == max_chars) {
			fputs("\xE2\x80\xA6", out); /* … */
			return;
		}
		if (len == 0) {
			fputs("\xEF\xBF\xBD", out);
			s++;
		} else {
			xml_put(out, c, s, len);
			s += len;
		}
		shown++;
	}
}

void mg_xml_escape(FILE *out, const char *s)
{
	mg_xml_escape_n(out, s, (size_t)-1);
}
