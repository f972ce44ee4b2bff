/* The report renderers (gate/render_*.c) on a parsed JSON report, as
 * `memgate report` loads one: mg_render_check, then text, markdown (at the
 * default budget and a small one), JUnit, SVG and the GitHub outputs.
 * Checked on every output: an invalid report renders nothing; a valid one
 * renders valid UTF-8 (the report's strings are: jansson refuses anything
 * else), markdown within GitHub's budget, JUnit and SVG without characters
 * XML 1.0 forbids, and annotations one workflow command per line. */
#include "fuzz.h"

#include <stdbool.h>
#include <sys/types.h>

#include "report/render.h"

static char *sink_buf;
static size_t sink_len, sink_cap;

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	if (sink_len + len > sink_cap) {
		size_t cap = (sink_len + len) * 2;
		char *nb = realloc(sink_buf, cap);
		if (!nb)
			abort();
		sink_buf = nb;
		sink_cap = cap;
	}
	memcpy(sink_buf + sink_len, buf, len);
	sink_len += len;
	return (ssize_t)len;
}

/* The one output stream, emptied. */
static FILE *sink(void)
{
	static FILE *f;
	if (!f) {
		cookie_io_functions_t io = {.write = sink_write};
		f = fopencookie(NULL, "w", io);
		if (!f)
			abort();
	}
	fflush(f);
	sink_len = 0;
	return f;
}

/* What was written since sink(). */
static size_t drain(FILE *f)
{
	fflush(f);
	return sink_len;
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF);
 * with xml, also only XML 1.0 characters (tab, LF, CR, >= U+0020 but not
 * U+FFFE/U+FFFF). */
static bool text_ok(const char *s, size_t n, bool xml)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n == 0)
		return true; /* and s may be NULL */
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len;
		if (u[i] < 0x80)
			c = u[i], len = 1;
		else if ((u[i] & 0xE0) == 0xC0)
			c = u[i] & 0x1F, len = 2;
		else if ((u[i] & 0xF0) == 0xE0)
			c = u[i] & 0x0F, len = 3;
		else if ((u[i] & 0xF8) == 0xF0)
			c = u[i] & 0x07, len = 4;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (u[i + k] & 0x3F);
		}
		static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		if (xml && ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF))
			return false;
		i += len;
	}
	return true;
}

/* text_ok on what was written since sink() */
static bool output_ok(FILE *out, bool xml)
{
	size_t n = drain(out);
	return text_ok(sink_buf, n, xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *report = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!report)
		return 0;
	char err[512];
	bool valid = mg_render_check(report, err, sizeof err) == 0;
	if (!valid)
		fuzz_check_err(err, sizeof err);

	/* Every renderer validates first: an invalid report gives -1 and no
	 * output at all. */
	FILE *out = sink();
	FUZZ_CHECK((mg_render_text(report, out, err, sizeof err) == 0) == valid);
	FUZZ_CHECK(valid || drain(out) == 0);
	FUZZ_CHECK(output_ok(out, false));

	out = sink();
	FUZZ_CHECK((mg_render_markdown(report, out, err, sizeof err) == 0) == valid);
	FUZZ_CHECK(valid || drain(out) == 0);
	FUZZ_CHECK(drain(out) <= MG_MARKDOWN_BUDGET); /* GitHub's summary limit */
	FUZZ_CHECK(output_ok(out, false));

	if (!valid) {
		json_decref(report);
		return 0;
	}

	out = sink();
	/* a budget that drops charts, details and rows */
	FUZZ_CHECK(mg_render_markdown_budget(report, out, 1024 + size / 4, err, sizeof err) == 0);
	FUZZ_CHECK(output_ok(out, false));

	out = sink();
	FUZZ_CHECK(mg_render_junit(report, out, err, sizeof err) == 0);
	FUZZ_CHECK(output_ok(out, true));

	out = sink();
	FUZZ_CHECK(mg_render_svg(report, out, err, sizeof err) == 0);
	FUZZ_CHECK(output_ok(out, true));

	out = sink();
	struct mg_github_env env = {"/dev/null", "/dev/null", out};
	FUZZ_CHECK(mg_render_github(report, "build/report.json", &env, err, sizeof err) == 0);
	size_t n = drain(out);
	FUZZ_CHECK(text_ok(sink_buf, n, false));
	for (size_t i = 0; i < n; i = (size_t)((char *)memchr(sink_buf + i, '\n', n - i) - sink_buf) + 1) {
		FUZZ_CHECK(n - i >= 2 && memcmp(sink_buf + i, "::", 2) == 0); /* one command a line */
		FUZZ_CHECK(memchr(sink_buf + i, '\n', n - i) != NULL);        /* ending with a newline */
	}
	json_decref(report);
	return 0;
}
